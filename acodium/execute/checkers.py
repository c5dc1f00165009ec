"""Built-in checkers: how an output is compared with the expected one, chosen per problem.

A problem's `checker` column names one of these rules (issue 16, docs/semantics.md's
"Checkers"); a missing or empty one means `tokens`, DeepMind's compare, so
published CodeContests numbers stay comparable. Each rule is one function
(actual, expected) -> (passed, message); the message is empty when the output
passes and says where it went wrong otherwise ("token 3: expected 1.5, got 1.6").

- `tokens`: `check.check_output`, unchanged (whitespace-split, ASCII-lowercased
  tokens; integers equal, floats within 1e-5 absolute, other tokens equal).
- `exact`: the texts are equal once trailing whitespace (space, tab, CR, VT, FF)
  is trimmed from every line and trailing empty lines are dropped. Case counts.
- `float_abs:EPS`: tokens as `tokens` sees them; where both tokens are numbers
  (decimal, exponent, inf, nan: integers too) they match when
  |got - expected| <= EPS, as testlib's doubleCompare does it for an absolute
  error (a 1e-15 slack; nan matches nan, inf matches an inf of the same sign only).
  Other tokens must be equal strings; the counts must agree.
- `float_rel:EPS`: as `float_abs`, but numbers match when the absolute OR the
  relative error is at most EPS (testlib's doubleCompare, the rule of Codeforces'
  "1e-6 absolute or relative" problems).
- `unordered_tokens`: the same multiset of tokens (lowercased strings): any order,
  any line breaks. Numbers are compared as strings here ("1.50" is not "1.5").
- `unordered_lines`: the same multiset of non-empty lines, each line compared by
  its tokens as strings (spacing inside a line does not count, order of lines does not).
- `yes_no`: tokens, each expected YES or NO (any case) to be answered the same
  (any case); expected tokens that are not YES/NO match as in `tokens`. It gives
  `tokens`' verdicts on YES/NO answers (the token compare already ignores case) and
  says so in its messages: a problem states its answer kind.

`parse_checker("float_rel:1e-6")` gives a `Checker`; an unknown name or a bad
EPS is one UserError sentence. A program ({language, code}, or a .cpp/.py file)
gives a `ProgramChecker` (`judges.py`): the backend runs it by testlib's protocol,
as it runs a problem's interactor.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from ..data.checkers import BUILTIN_CHECKERS, BUILTIN_WITH_EPS, checker_spec, tolerance
from ..data.problem import Problem, checker_column
from ..errors import UserError
from .check import _LOWER, _as_double, tokens, values_match
from .judges import ProgramChecker, judge_program, looks_like_file

DEFAULT = "tokens"
PARAMETRIC = BUILTIN_WITH_EPS
BUILTINS = BUILTIN_CHECKERS
_CHOICES = ", ".join(f"{n}:EPS" if n in PARAMETRIC else n for n in BUILTINS)
_TRAILING = " \t\r\v\f"
_SLACK = 1e-15  # testlib's doubleCompare adds it to every bound
_SHOWN = 40  # characters of a token or line a message shows


def _show(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


def _count_message(what: str, expected: int, got: int) -> str:
    return f"expected {expected} {what}{'s' if expected != 1 else ''}, got {got}"


def _first_difference(out: list[str], exp: list[str], match: Callable[[str, str], bool], what: str = "token") -> str:
    if len(out) != len(exp):
        return _count_message(what, len(exp), len(out))
    for i, (a, b) in enumerate(zip(out, exp), 1):
        if not match(a, b):
            return f"{what} {i}: expected {_show(b)}, got {_show(a)}"
    return ""


def _token_pairs(actual: str, expected: str, match: Callable[[str, str], bool]) -> tuple[bool, str]:
    """Equal token counts and every pair matching; the message names the first pair that fails."""
    out, exp = tokens(actual), tokens(expected)
    if out == exp:
        return True, ""
    message = _first_difference(out, exp, match)
    return not message, message


def _tokens(actual: str, expected: str) -> tuple[bool, str]:
    """`check_output`'s verdict in one pass that also finds the first token that fails (every pair goes
    through `values_match`, as there: "nan" matches nothing once another token differs)."""
    return _token_pairs(actual, expected, values_match)


def _exact_lines(text: str) -> list[str]:
    lines = [line.rstrip(_TRAILING) for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _exact(actual: str, expected: str) -> tuple[bool, str]:
    if actual == expected:
        return True, ""
    out, exp = _exact_lines(actual), _exact_lines(expected)
    if out == exp:
        return True, ""
    return False, _first_difference(out, exp, str.__eq__, "line")


def double_compare(expected: float, got: float, eps: float, relative: bool) -> bool:
    """testlib's doubleCompare (relative=True), or its absolute part alone (relative=False)."""
    if math.isnan(expected):
        return math.isnan(got)
    if math.isinf(expected):
        return got == expected
    if math.isnan(got) or math.isinf(got):
        return False
    if abs(got - expected) <= eps + _SLACK:
        return True
    if not relative:
        return False
    low, high = sorted((expected * (1.0 - eps), expected * (1.0 + eps)))
    return got + _SLACK >= low and got <= high + _SLACK


def _float_rule(eps: float, relative: bool) -> Callable[[str, str], tuple[bool, str]]:
    def match(a: str, b: str) -> bool:
        if a == b:
            return True
        ad, bd = _as_double(a), _as_double(b)
        if ad is None or bd is None:
            return False
        return double_compare(bd, ad, eps, relative)

    def rule(actual: str, expected: str) -> tuple[bool, str]:
        return _token_pairs(actual, expected, match)
    return rule


def _unordered_tokens(actual: str, expected: str) -> tuple[bool, str]:
    out, exp = tokens(actual), tokens(expected)
    if out == exp:
        return True, ""
    if len(out) != len(exp):
        return False, _count_message("token", len(exp), len(out))
    missing = Counter(exp) - Counter(out)
    if not missing:
        return True, ""
    return False, f"expected token {_show(next(iter(missing)))} is missing"


def _line_keys(text: str) -> list[tuple[str, ...]]:
    return [key for key in (tuple(tokens(line)) for line in text.split("\n")) if key]


def _plain_lines(text: str) -> list[str]:
    """Lowercased lines without the trailing separators of `tokens` (not a form feed, a token to it), empty
    ones dropped: equal lists have equal line keys, at a fraction of their cost."""
    return [line for line in (raw.rstrip(" \t\r\v") for raw in text.translate(_LOWER).split("\n")) if line]


def _unordered_lines(actual: str, expected: str) -> tuple[bool, str]:
    if actual == expected or _plain_lines(actual) == _plain_lines(expected):  # the same lines, in order
        return True, ""
    out, exp = _line_keys(actual), _line_keys(expected)
    if len(out) != len(exp):
        return False, _count_message("non-empty line", len(exp), len(out))
    missing = Counter(exp) - Counter(out)
    if not missing:
        return True, ""
    return False, f"expected line {_show(' '.join(next(iter(missing))))!r} is missing"


def _yes_no(actual: str, expected: str) -> tuple[bool, str]:
    out, exp = tokens(actual), tokens(expected)
    if out == exp:
        return True, ""
    if len(out) != len(exp):
        return False, _count_message("token", len(exp), len(out))
    for i, (a, b) in enumerate(zip(out, exp), 1):
        if b in ("yes", "no") and a != b:
            got = _show(a) if a in ("yes", "no") else f"{_show(a)}, not YES or NO"
            return False, f"token {i}: expected {b.upper()}, got {got}"
        if not values_match(a, b):
            return False, f"token {i}: expected {_show(b)}, got {_show(a)}"
    return True, ""


_RULES: dict[str, Callable[[str, str], tuple[bool, str]]] = {
    "tokens": _tokens, "exact": _exact, "unordered_tokens": _unordered_tokens,
    "unordered_lines": _unordered_lines, "yes_no": _yes_no,
}


@dataclass(frozen=True)
class Checker:
    """A built-in checker: its name and, for float_abs/float_rel, its tolerance EPS."""

    name: str = DEFAULT
    eps: float | None = None

    def __post_init__(self) -> None:
        if self.name not in BUILTINS:
            raise UserError(f"Unknown checker {self.name!r}: choose one of {_CHOICES}.")
        if self.name in PARAMETRIC:
            if isinstance(self.eps, bool) or not isinstance(self.eps, (int, float)) or not 0 < self.eps < 1:
                raise UserError(f"The checker {self.name} needs a tolerance EPS with 0 < EPS < 1 "
                                f"({self.name}:1e-6), not {self.eps!r}.")
            object.__setattr__(self, "eps", float(self.eps))
        elif self.eps is not None:
            raise UserError(f"The checker {self.name} takes no tolerance, not {self.eps!r}.")
        rule = _float_rule(self.eps, self.name == "float_rel") if self.name in PARAMETRIC else _RULES[self.name]
        object.__setattr__(self, "_rule", rule)

    @property
    def spec(self) -> str:
        """The text that names this checker (`parse_checker(spec)` gives it back): in row keys and tables."""
        return f"{self.name}:{self.eps!r}" if self.eps is not None else self.name

    def __str__(self) -> str:
        return self.spec

    def judge(self, actual: str, expected: str) -> tuple[bool, str]:
        """(passed, message): the message says where a failing output went wrong, empty when it passes."""
        return self._rule(actual, expected)  # type: ignore[attr-defined]

    def check(self, actual: str, expected: str) -> bool:
        return self._rule(actual, expected)[0]  # type: ignore[attr-defined]


TOKENS = Checker()


def parse_checker(text: Any, testlib_dir: str | os.PathLike | None = None) -> Checker | ProgramChecker:
    """A checker from its text ("tokens", "float_rel:1e-6"), a program {language, code} or a source
    file's path (a `ProgramChecker`, see `judges`); None or "" is `tokens`; a checker is itself."""
    if isinstance(text, (Checker, ProgramChecker)):
        return text
    if text is None or (isinstance(text, str) and not text.strip()):
        return TOKENS
    if isinstance(text, Mapping):
        return ProgramChecker(checker=judge_program(text, "checker", testlib_dir))
    if isinstance(text, os.PathLike) or (isinstance(text, str) and looks_like_file(text.strip())):
        return ProgramChecker(checker=judge_program(Path(str(text).strip()), "checker", testlib_dir))
    if not isinstance(text, str):
        raise UserError(f"A checker is the name of a built-in ({_CHOICES}), not {type(text).__name__} {text!r}.")
    name, colon, parameter = text.strip().partition(":")
    if name not in BUILTINS:
        raise UserError(f"Unknown checker {text.strip()!r}: choose one of {_CHOICES}, or give a .cpp or .py file.")
    if name not in PARAMETRIC:
        if colon:
            raise UserError(f"The checker {name} takes no parameter, not {text.strip()!r}.")
        return TOKENS if name == DEFAULT else Checker(name)
    eps = tolerance(parameter)
    if not colon or eps is None:
        raise UserError(f"The checker {name} needs a tolerance EPS with 0 < EPS < 1 ({name}:1e-6), "
                        f"not {text.strip()!r}.")
    return Checker(name, eps)


def checker_for_problem(problem: Any, override: Any = None,
                        testlib_dir: str | os.PathLike | None = None) -> Checker | ProgramChecker:
    """The judge of `problem` (a row or a `Problem`): `override` when given (a run's --checker),
    else the problem's own `checker` column (missing or empty: tokens); a problem with an
    `interactor` is judged by it (then by a checker program, if any: a built-in does not apply)."""
    row = problem.row if isinstance(problem, Problem) else problem
    if not isinstance(row, Mapping):
        raise UserError(f"checker_for_problem needs a problem row or Problem, not {type(problem).__name__}.")
    value = override if override is not None else checker_column(row)  # (its errors name the problem)
    interactor = checker_spec(row, "interactor") if row.get("interactor") is not None else None
    try:
        checker = parse_checker(value, testlib_dir)
        if interactor is None:
            return checker
        program = judge_program(interactor, "interactor", testlib_dir)
    except UserError as e:
        raise UserError(f"Problem {row.get('name')!r}: {e}") from None
    return ProgramChecker(checker=checker.checker if isinstance(checker, ProgramChecker) else None,
                          interactor=program)
