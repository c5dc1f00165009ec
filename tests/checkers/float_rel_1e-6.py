"""Checker (testlib's protocol: input output answer; exit 0 ok, 1 wrong, 2 presentation) for
answers of numbers within 1e-6 absolute or relative error (Codeforces' usual float rule, as
testlib's doubleCompare), the same count of tokens; a token that is no number must be equal."""
import math
import sys


def verdict(code, message=""):
    print(message, file=sys.stderr)
    sys.exit(code)


out, ans = (open(path).read().split() for path in sys.argv[2:4])
if len(out) != len(ans):
    verdict(1, f"expected {len(ans)} tokens, found {len(out)}")
for i, (got, want) in enumerate(zip(out, ans), 1):
    if got == want:
        continue
    try:
        g, w = float(got), float(want)
    except ValueError:
        verdict(1, f"token {i}: expected {want}, found {got}")
    if math.isnan(g) or math.isnan(w) or abs(g - w) > 1e-6 * max(1.0, abs(w)) + 1e-15:
        verdict(1, f"token {i}: expected {want}, found {got}")
verdict(0)
