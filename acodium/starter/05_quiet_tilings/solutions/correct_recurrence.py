# f(n) = f(n-1) + f(n-3): the last tile is short, or it is long and the one before is short.
import sys

MOD = 10**9 + 7
N = 100000
f = [1, 1, 2] + [0] * (N - 2)
for n in range(3, N + 1):
    f[n] = (f[n - 1] + f[n - 3]) % MOD
data = sys.stdin.read().split()
print("\n".join(str(f[int(x)]) for x in data[1:]))
