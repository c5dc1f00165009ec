"""Checker (testlib's protocol) of Codeforces 1385 G, Columns Swaps: per test case, -1 exactly
where the answer says -1, else the answer's (minimum) number of distinct columns, after whose
swaps both rows are permutations of 1..n."""
import sys


def verdict(code, message=""):
    print(message, file=sys.stderr)
    sys.exit(code)


def integers(tokens):
    try:
        return [int(t) for t in tokens]
    except ValueError:
        verdict(2, "a token is not an integer")


data = iter(int(t) for t in open(sys.argv[1]).read().split())
answer = iter(int(t) for t in open(sys.argv[3]).read().split())
out = integers(open(sys.argv[2]).read().split())
at = 0
for case in range(1, next(data) + 1):
    n = next(data)
    top = [next(data) for _ in range(n)]
    bottom = [next(data) for _ in range(n)]
    best = next(answer)
    for _ in range(max(best, 0)):
        next(answer)
    if at >= len(out):
        verdict(1, f"case {case}: no answer")
    k, at = out[at], at + 1
    if k != best:
        verdict(1, f"case {case}: expected {best} moves, found {k}")
    if k == -1:
        continue
    columns = out[at:at + k]
    at += k
    if len(columns) != k or len(set(columns)) != k or any(not 1 <= c <= n for c in columns):
        verdict(1, f"case {case}: the columns are not {k} distinct ones in 1..{n}")
    for c in columns:
        top[c - 1], bottom[c - 1] = bottom[c - 1], top[c - 1]
    if sorted(top) != list(range(1, n + 1)) or sorted(bottom) != list(range(1, n + 1)):
        verdict(1, f"case {case}: after the swaps a row is not a permutation")
if at != len(out):
    verdict(1, f"{len(out) - at} extra tokens")
verdict(0)
