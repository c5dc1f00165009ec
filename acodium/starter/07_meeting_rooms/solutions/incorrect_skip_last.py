# Off by one: the loop stops before the latest-starting meeting.
import heapq

n = int(input())
meetings = sorted(tuple(map(int, input().split())) for _ in range(n))
ends = [meetings[0][1]]
for start, end in meetings[1:n - 1]:
    if ends[0] <= start:
        heapq.heapreplace(ends, end)
    else:
        heapq.heappush(ends, end)
print(len(ends))
