# Wrong greedy: largest parcel into largest locker, and gives up as soon as one does not fit.
n, m = map(int, input().split())
sizes = sorted(map(int, input().split()), reverse=True)
caps = sorted(map(int, input().split()), reverse=True)
stored = 0
for size, cap in zip(sizes, caps):
    if size > cap:
        break
    stored += 1
print(stored)
