"""Checker (testlib's protocol) of Codeforces 963 B, Destruction of a Tree: YES/NO as the answer,
and after YES an order of all n vertices in which each one has an even degree when destroyed."""
import sys


def verdict(code, message=""):
    print(message, file=sys.stderr)
    sys.exit(code)


data = open(sys.argv[1]).read().split()
n, parents = int(data[0]), [int(t) for t in data[1:]]
expected = open(sys.argv[3]).read().split()[0].upper()
out = open(sys.argv[2]).read().split()
if not out or out[0].upper() not in ("YES", "NO"):
    verdict(2, "the first token is not YES or NO")
if out[0].upper() != expected:
    verdict(1, f"said {out[0]}, expected {expected}")
if expected == "NO":
    verdict(0 if len(out) == 1 else 1, "" if len(out) == 1 else "tokens after NO")
try:
    order = [int(t) for t in out[1:]]
except ValueError:
    verdict(2, "a vertex is not an integer")
if sorted(order) != list(range(1, n + 1)):
    verdict(1, f"the order is not a permutation of 1..{n}")
neighbours = [[] for _ in range(n + 1)]
for i, p in enumerate(parents, 1):
    if p:
        neighbours[i].append(p)
        neighbours[p].append(i)
degree = [len(a) for a in neighbours]
gone = [False] * (n + 1)
for step, x in enumerate(order, 1):
    if degree[x] % 2:
        verdict(1, f"step {step}: vertex {x} has odd degree {degree[x]}")
    gone[x] = True
    for y in neighbours[x]:
        if not gone[y]:
            degree[y] -= 1
verdict(0)
