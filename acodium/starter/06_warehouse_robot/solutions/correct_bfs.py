import sys
from collections import deque


def main():
    data = sys.stdin.read().split()
    r, c = int(data[0]), int(data[1])
    grid = data[2:2 + r]
    cells = "".join(grid)
    start, target = cells.index("S"), cells.index("T")
    dist = [-1] * (r * c)
    dist[start] = 0
    queue = deque([start])
    while queue:
        v = queue.popleft()
        if v == target:
            break
        row, col = divmod(v, c)
        for nr, nc in ((row - 1, col), (row + 1, col), (row, col - 1), (row, col + 1)):
            if 0 <= nr < r and 0 <= nc < c:
                w = nr * c + nc
                if dist[w] < 0 and cells[w] != "#":
                    dist[w] = dist[v] + 1
                    queue.append(w)
    print(dist[target])


main()
