"""Checker (testlib's protocol) of Codeforces 22 C, System Administrator: -1 exactly where the
answer says -1, else m distinct connections between distinct servers of 1..n that connect them
all, and whose graph falls apart when server v fails."""
import sys


def verdict(code, message=""):
    print(message, file=sys.stderr)
    sys.exit(code)


def integers(tokens):
    try:
        return [int(t) for t in tokens]
    except ValueError:
        verdict(2, "a token is not an integer")


n, m, v = (int(t) for t in open(sys.argv[1]).read().split()[:3])
impossible = open(sys.argv[3]).read().split()[:1] == ["-1"]
out = integers(open(sys.argv[2]).read().split())
if impossible or out == [-1]:
    verdict(0 if impossible and out == [-1] else 1, "" if impossible and out == [-1] else
            ("expected -1" if impossible else "said -1, but the answer exists"))
if len(out) != 2 * m:
    verdict(1, f"expected {m} connections, found {len(out) / 2:g}")
parent = list(range(n + 1))


def find(x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def components(edges, vertices):
    parent[:] = range(n + 1)
    for a, b in edges:
        parent[find(a)] = find(b)
    return len({find(x) for x in vertices})


pairs = list(zip(out[0::2], out[1::2]))
if any(not (1 <= a <= n and 1 <= b <= n) or a == b for a, b in pairs):
    verdict(1, "a connection is not between two different servers of 1..n")
if len({(min(a, b), max(a, b)) for a, b in pairs}) != m:
    verdict(1, "two connections link the same servers")
if components(pairs, range(1, n + 1)) != 1:
    verdict(1, "the servers are not all connected")
if components([p for p in pairs if v not in p], [x for x in range(1, n + 1) if x != v]) == 1:
    verdict(1, f"the system stays connected without server {v}")
verdict(0)
