# Recomputes the table for every question: t * n steps.
MOD = 10**9 + 7
t = int(input())
for _ in range(t):
    n = int(input())
    a, b, c = 1, 1, 2  # f(i-2), f(i-1), f(i) for i = 2
    if n < 3:
        print([1, 1, 2][n])
        continue
    for _ in range(3, n + 1):
        a, b, c = b, c, (c + a) % MOD
    print(c)
