# For every start time, counts the meetings in progress: n * n steps.
n = int(input())
meetings = [tuple(map(int, input().split())) for _ in range(n)]
best = 0
for s, _ in meetings:
    busy = 0
    for a, b in meetings:
        if a <= s < b:
            busy += 1
    best = max(best, busy)
print(best)
