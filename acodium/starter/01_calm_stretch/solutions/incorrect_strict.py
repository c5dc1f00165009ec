# Off by one in the comparison: a difference of exactly d breaks the stretch.
n, d = map(int, input().split())
a = list(map(int, input().split()))
best = run = 1
for i in range(1, n):
    if abs(a[i] - a[i - 1]) < d:
        run += 1
    else:
        run = 1
    best = max(best, run)
print(best)
