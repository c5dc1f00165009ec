# Off by one: never tries giving the second friend only the last box.
n = int(input())
a = list(map(int, input().split()))
total = sum(a)
left = a[0]
best = abs(total - 2 * left)
for i in range(1, n - 2):
    left += a[i]
    best = min(best, abs(total - 2 * left))
print(best)
