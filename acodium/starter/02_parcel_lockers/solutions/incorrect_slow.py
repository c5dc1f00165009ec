# For every parcel, scans all lockers for the smallest free one that fits: n * m steps.
n, m = map(int, input().split())
sizes = sorted(map(int, input().split()))
caps = sorted(map(int, input().split()))
used = [False] * m
stored = 0
for size in sizes:
    for j in range(m):
        if not used[j] and caps[j] >= size:
            used[j] = True
            stored += 1
            break
print(stored)
