# Wrong at equal times: a meeting that starts as another ends gets a new room.
n = int(input())
events = []
for _ in range(n):
    s, e = map(int, input().split())
    events.append((s, 0))  # start first
    events.append((e, 1))
events.sort()
rooms = best = 0
for _, kind in events:
    rooms += 1 if kind == 0 else -1
    best = max(best, rooms)
print(best)
