# Off by one in the bounds check: never steps into the last column (except onto T).
from collections import deque

r, c = map(int, input().split())
grid = [input() for _ in range(r)]
for i in range(r):
    for j in range(c):
        if grid[i][j] == "S":
            start = (i, j)
        elif grid[i][j] == "T":
            target = (i, j)
dist = {start: 0}
queue = deque([start])
while queue:
    i, j = queue.popleft()
    for ni, nj in ((i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)):
        if 0 <= ni < r and 0 <= nj < c - 1 or (ni, nj) == target:
            if (ni, nj) not in dist and grid[ni][nj] != "#":
                dist[(ni, nj)] = dist[(i, j)] + 1
                queue.append((ni, nj))
print(dist.get(target, -1))
