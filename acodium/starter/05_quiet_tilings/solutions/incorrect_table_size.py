# Off by one in the table size: n = 100000 falls off the end.
import sys

MOD = 10**9 + 7
N = 100000
f = [1, 1, 2] + [0] * (N - 3)
for n in range(3, N):
    f[n] = (f[n - 1] + f[n - 3]) % MOD
data = sys.stdin.read().split()
print("\n".join(str(f[int(x)]) for x in data[1:]))
