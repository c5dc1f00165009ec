# Tries every start and extends it: quadratic when the whole log is calm.
n, d = map(int, input().split())
a = list(map(int, input().split()))
best = 0
for start in range(n):
    end = start
    while end + 1 < n and abs(a[end + 1] - a[end]) <= d:
        end += 1
    best = max(best, end - start + 1)
print(best)
