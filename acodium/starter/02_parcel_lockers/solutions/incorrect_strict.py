# Off by one: a parcel is taken to fit only into a strictly larger locker.
n, m = map(int, input().split())
sizes = sorted(map(int, input().split()))
caps = sorted(map(int, input().split()))
i = 0
for cap in caps:
    if i < n and sizes[i] < cap:
        i += 1
print(i)
