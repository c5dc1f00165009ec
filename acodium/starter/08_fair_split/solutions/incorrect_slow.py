# Re-adds the first friend's boxes for every cut: n * n / 2 additions.
n = int(input())
a = list(map(int, input().split()))
total = sum(a)
best = None
for cut in range(1, n):
    left = 0
    for i in range(cut):
        left += a[i]
    diff = abs(total - 2 * left)
    if best is None or diff < best:
        best = diff
print(best)
