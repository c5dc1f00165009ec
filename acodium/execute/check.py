"""Does a program's output match the expected one? DeepMind code_contests semantics.

A port of `OutputsMatch` in code_contests/execution/tester_sandboxer.cc (docs/semantics.md's
output check), so verdicts agree with the published tester:

1. Split both outputs on runs of ' ', '\\n', '\\t', '\\r', '\\v' (not '\\f', not other
   Unicode spaces) and lowercase every token (ASCII letters only). Equal token lists match.
2. Otherwise the lists must have the same length and every pair of tokens must match:
   if either token is not a number they must be equal strings; two integers must be
   equal; two numbers of which one is a float must differ by less than 1e-5 (absolute).
   A number is decimal, with an optional exponent, or inf/infinity/nan; ASCII
   whitespace around it inside a token (a form feed: "5\\f") is ignored, as the
   tester's SimpleAtod does. "3" matches "3.000001"; "nan" and "inf" match nothing
   once any other token differs (nan, inf - inf are never < 1e-5).

The tester's compiled compare is the reference: the code_contests backend can judge
with it (judge="tester"), and tests/test_check.py compares the two on thousands of
generated pairs. Where they differ, it is on purpose, in two ways only (DELIBERATE):

- Integers are compared exactly, at any size. The tester's integer branch is never
  reached (every integer also parses as a double, and its `a_is_double ||
  b_is_double` test comes first), so it compares integers as doubles: it accepts
  "1000000000000000000" for "1000000000000000001" (any pair beyond 2**53), and turns
  integers of 309+ digits into inf, so two equal ones fail whenever another token of
  the output differs (inf - inf is nan). acodium follows the rule the tester's own
  comment states ("Both integers - require equality") and docs/semantics.md keeps; the two
  agree on every pair of integers below 2**53 in magnitude.
- Hexadecimal is not a number. The tester's parser also reads C hex notation, so it
  accepts "0x10" (or "0x1p4", "0x10.0") for "16". No Codeforces checker does, and
  the tester's rule is about decimal floats ("tolerate up to a precision for
  floats"), so acodium compares such tokens as strings: "0x10" matches only "0x10".

Both make acodium stricter or fairer, never more lenient than a contest judge would be;
`known_difference` names which one may explain a disagreement (docs/backends.md).
"""

from __future__ import annotations

import math
import re

TOLERANCE = 1e-5
_SPLIT = re.compile(r"[ \n\t\r\v]+")
_ASCII_SPACE = " \t\n\v\f\r"  # absl::ascii_isspace
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# absl::from_chars, general format: decimal with optional exponent, or inf/infinity/nan.
_FLOAT = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?")
_INT = re.compile(r"[+-]?[0-9]+")
_SPECIAL = re.compile(r"-?(?:inf|infinity|nan(?:\([0-9a-z_]*\))?)")


def tokens(text: str) -> list[str]:
    """Whitespace-split, ASCII-lowercased tokens, as the tester sees an output."""
    return [t for t in _SPLIT.split(text.translate(_LOWER)) if t]


def _number_text(token: str) -> str:
    """A token as the tester's number parsers read it: SimpleAtod and SimpleAtoi first strip
    ASCII whitespace, so a form feed (which does not split tokens) beside a number is ignored."""
    return token.strip(_ASCII_SPACE)


def _as_double(token: str) -> float | None:
    token = _number_text(token)
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


def _as_int(token: str) -> tuple[bool, str] | None:
    """(negative, digits without leading zeros) of an integer token: exact at any length, and
    free of int()'s 4,300-digit limit on str conversion."""
    text = _number_text(token)
    if not _INT.fullmatch(text):
        return None
    digits = text.lstrip("+-").lstrip("0") or "0"
    return (text.startswith("-") and digits != "0", digits)


def values_match(a: str, b: str) -> bool:
    """One pair of (lowercased) tokens: the tester's ValuesMatch, integers compared exactly."""
    ad, bd = _as_double(a), _as_double(b)
    if ad is None or bd is None:
        return a == b
    ai, bi = _as_int(a), _as_int(b)
    if ai is not None and bi is not None:
        return ai == bi  # exact, at any size (see the module doc)
    return abs(ad - bd) < TOLERANCE


DELIBERATE = {
    "integers compared exactly": "two integer tokens that differ beyond 2**53 (the tester compares them "
                                 "as doubles), or of 309+ digits (inf in the tester)",
    "hexadecimal is not a number": "a token in C hex notation (0x...), a number for the tester",
}
_HEX = re.compile(r"[+-]?0x(?:[0-9a-f]|\.[0-9a-f])")


def known_difference(actual: str, expected: str) -> str | None:
    """Which deliberate difference (DELIBERATE) can make acodium and the tester disagree here.

    None means the two must give the same verdict on this pair.
    """
    out, exp = tokens(actual), tokens(expected)
    if out == exp or len(out) != len(exp):
        return None
    for a, b in zip(out, exp):
        if _HEX.match(_number_text(a)) or _HEX.match(_number_text(b)):
            return "hexadecimal is not a number"
        ai, bi = _as_int(a), _as_int(b)
        if ai is not None and bi is not None:
            as_doubles = abs(_as_double(a) - _as_double(b)) < TOLERANCE
            if as_doubles != (ai == bi):
                return "integers compared exactly"
    return None


def check_output(actual: str, expected: str) -> bool:
    """True when `actual` passes against `expected` under code_contests rules (module doc)."""
    out, exp = tokens(actual), tokens(expected)
    if out == exp:
        return True
    if len(out) != len(exp):
        return False
    return all(values_match(a, b) for a, b in zip(out, exp))
