"""Checker (testlib's protocol: input output answer; exit 0 ok, 1 wrong, 2 presentation) of
Codeforces 1217 D, Coloring Edges: k must be the answer's (the minimum), every color in 1..k,
and no color's edges may form a cycle."""
import sys


def verdict(code, message=""):
    print(message, file=sys.stderr)
    sys.exit(code)


def integers(tokens):
    try:
        return [int(t) for t in tokens]
    except ValueError:
        verdict(2, "a token is not an integer")


data = open(sys.argv[1]).read().split()
n, m = int(data[0]), int(data[1])
edges = [(int(data[2 + 2 * i]), int(data[3 + 2 * i])) for i in range(m)]
best = int(open(sys.argv[3]).read().split()[0])
out = integers(open(sys.argv[2]).read().split())
if len(out) != m + 1:
    verdict(1, f"expected {m + 1} integers, found {len(out)}")
k, colors = out[0], out[1:]
if k != best:
    verdict(1, f"k = {k}, the minimum is {best}")
if any(not 1 <= c <= k for c in colors):
    verdict(1, "a color is not in 1..k")
for color in set(colors):
    succ, indegree = {}, {}
    for (u, v), c in zip(edges, colors):
        if c == color:
            succ.setdefault(u, []).append(v)
            indegree[v] = indegree.get(v, 0) + 1
            indegree.setdefault(u, 0)
    ready = [x for x, d in indegree.items() if d == 0]
    seen = 0
    while ready:
        x = ready.pop()
        seen += 1
        for y in succ.get(x, ()):
            indegree[y] -= 1
            if indegree[y] == 0:
                ready.append(y)
    if seen != len(indegree):
        verdict(1, f"the edges of color {color} form a cycle")
verdict(0)
