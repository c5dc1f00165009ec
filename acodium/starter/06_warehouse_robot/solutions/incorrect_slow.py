# Keeps the visited cells in a list: every membership test scans it.
r, c = map(int, input().split())
grid = [input() for _ in range(r)]
for i in range(r):
    for j in range(c):
        if grid[i][j] == "S":
            start = (i, j)
        elif grid[i][j] == "T":
            target = (i, j)
visited = [start]
queue = [(start, 0)]
head = 0
answer = -1
while head < len(queue):
    (i, j), d = queue[head]
    head += 1
    if (i, j) == target:
        answer = d
        break
    for ni, nj in ((i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)):
        if 0 <= ni < r and 0 <= nj < c and grid[ni][nj] != "#" and (ni, nj) not in visited:
            visited.append((ni, nj))
            queue.append(((ni, nj), d + 1))
print(answer)
