# Meetings by start time; a heap holds the end times of the rooms in use.
import heapq
import sys

n = int(sys.stdin.readline())
meetings = sorted(tuple(map(int, sys.stdin.readline().split())) for _ in range(n))
ends = []
for start, end in meetings:
    if ends and ends[0] <= start:
        heapq.heapreplace(ends, end)
    else:
        heapq.heappush(ends, end)
print(len(ends))
