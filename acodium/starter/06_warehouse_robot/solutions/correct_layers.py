# Breadth-first search one layer at a time, on a grid padded with shelves.
import sys

r, c = map(int, sys.stdin.readline().split())
rows = ["#" * (c + 2)] + ["#" + sys.stdin.readline().strip() + "#" for _ in range(r)] + ["#" * (c + 2)]
width = c + 2
free = [ch != "#" for ch in "".join(rows)]
flat = "".join(rows)
start, target = flat.index("S"), flat.index("T")
free[start] = False
layer = [start]
moves = 0
answer = -1
while layer:
    if target in layer:
        answer = moves
        break
    nxt = []
    for v in layer:
        for w in (v - width, v + width, v - 1, v + 1):
            if free[w]:
                free[w] = False
                nxt.append(w)
    layer = nxt
    moves += 1
print(answer)
