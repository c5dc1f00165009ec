"""Does a program's output match the expected one? DeepMind code_contests semantics.

A faithful port of `OutputsMatch` in code_contests/execution/tester_sandboxer.cc, so
verdicts agree with the published tester:

1. Split both outputs on runs of ' ', '\\n', '\\t', '\\r', '\\v' (not '\\f', not other
   Unicode spaces) and lowercase every token (ASCII letters only). Equal token lists match.
2. Otherwise the lists must have the same length and every pair of tokens must match:
   if either token is not a number they must be equal strings; two integers must be
   equal; two numbers of which one is a float must differ by less than 1e-5 (absolute).
   "3" matches "3.000001"; "nan" and "inf" match nothing once any other token differs
   (nan, inf - inf are never < 1e-5).

One deliberate difference from the compiled tester, which DESIGN.md's rule settles:
the tester's integer branch is never reached (every integer also parses as a double,
and its `a_is_double || b_is_double` test comes first), so it compares two integers as
doubles and accepts "1000000000000000000" for "1000000000000000001". acodium compares
integers exactly, as the tester's own comment intends; the two agree on every pair of
integers below 2**53 in magnitude (docs/backends.md).
"""

from __future__ import annotations

import math
import re

TOLERANCE = 1e-5
_SPLIT = re.compile(r"[ \n\t\r\v]+")
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# absl::from_chars, general format: decimal with optional exponent, or inf/infinity/nan.
_FLOAT = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?")
_INT = re.compile(r"[+-]?[0-9]+")
_SPECIAL = re.compile(r"-?(?:inf|infinity|nan(?:\([0-9a-z_]*\))?)")


def tokens(text: str) -> list[str]:
    """Whitespace-split, ASCII-lowercased tokens, as the tester sees an output."""
    return [t for t in _SPLIT.split(text.translate(_LOWER)) if t]


def _as_double(token: str) -> float | None:
    if token.startswith("+"):  # SimpleAtod skips one '+', but not "+-"
        token = token[1:]
        if token.startswith("-"):
            return None
    if _FLOAT.fullmatch(token):
        return float(token)  # overflow gives +-inf, as SimpleAtod does
    if _SPECIAL.fullmatch(token):
        negative = token.startswith("-")
        body = token.lstrip("-")
        value = math.nan if body.startswith("nan") else math.inf
        return -value if negative else value
    return None


def values_match(a: str, b: str) -> bool:
    """One pair of (lowercased) tokens: the tester's ValuesMatch, integers compared exactly."""
    ad, bd = _as_double(a), _as_double(b)
    if ad is None or bd is None:
        return a == b
    if _INT.fullmatch(a) and _INT.fullmatch(b) and "+-" not in (a[:2], b[:2]):
        return int(a) == int(b)  # exact, at any size (see the module doc)
    return abs(ad - bd) < TOLERANCE


def check_output(actual: str, expected: str) -> bool:
    """True when `actual` passes against `expected` under code_contests rules (module doc)."""
    out, exp = tokens(actual), tokens(expected)
    if out == exp:
        return True
    if len(out) != len(exp):
        return False
    return all(values_match(a, b) for a, b in zip(out, exp))
