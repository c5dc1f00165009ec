# Each locker, smallest first, takes the smallest parcel still waiting if it fits.
n, m = map(int, input().split())
sizes = sorted(map(int, input().split()))
caps = sorted(map(int, input().split()))
i = 0
for cap in caps:
    if i < n and sizes[i] <= cap:
        i += 1
print(i)
