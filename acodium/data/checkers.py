"""A problem's checker and interactor: the one check of their values, their stored form, their reader.

Issue 16: a problem may carry `checker` and `interactor`, each missing/None (the
default: DeepMind's token compare, or not interactive), the name of a built-in
check ("tokens", "float_rel:1e-6", ...) or a program {"language": "cpp" |
"python3", "code": "..."}. A table has one type per column, so both are stored
as one struct {name, language, code} (see `schema.PROGRAM_FIELDS`): a built-in
fills `name` only, a program `language` and `code` only, a missing one is a null.
That struct round-trips through save_to_disk, parquet and JSONL alike.
`checker_spec` turns a stored value (or any accepted spelling) back into the
public form the execution stage reads.

The built-in names are checked here for their syntax (`BUILTIN_CHECKERS`, the
list of issue 16); the execution room runs them.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from ..errors import UserError

CHECK_FIELDS = ("checker", "interactor")
PROGRAM_LANGUAGES = ("cpp", "python3")
# The built-in rules, one list for the data and the execution rooms (`acodium.execute.checkers` runs them).
BUILTIN_CHECKERS = ("tokens", "exact", "float_abs", "float_rel", "unordered_tokens", "unordered_lines", "yes_no")
BUILTIN_WITH_EPS = ("float_abs", "float_rel")  # spelled NAME:EPS, 0 < EPS < 1


def tolerance(text: str) -> float | None:
    """The EPS of float_abs:EPS / float_rel:EPS written as `text`, or None when it is no valid
    tolerance (a finite number with 0 < EPS < 1): the one rule for both rooms."""
    try:
        eps = float(text)
    except ValueError:
        return None
    return eps if math.isfinite(eps) and 0 < eps < 1 else None


def is_builtin_name(name: str) -> bool:
    """A built-in checker name: one of `BUILTIN_CHECKERS`, the float ones as float_abs:EPS / float_rel:EPS (0 < EPS < 1)."""
    base, colon, parameter = name.partition(":")
    if base not in BUILTIN_CHECKERS:
        return False
    if base not in BUILTIN_WITH_EPS:
        return not colon
    return bool(colon) and tolerance(parameter) is not None


def stored_check(value: Any, where: str, field: str = "checker") -> dict | None:
    """A checker or interactor value as stored: None, or {name, language, code}; else one sentence.

    Accepts None, "" or blanks (the default), a built-in name, a program {"language", "code"}
    and the stored struct itself (a row read back from a table). An interactor is
    a program only: a built-in cannot converse with a candidate.
    """
    if value is None or isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, str):
        name = value.strip()
        if field == "interactor":
            raise UserError(f"{where} should be a program {{'language', 'code'}}, not the name {value!r}.")
        if not is_builtin_name(name):
            raise UserError(
                f"{where} names no built-in checker ({value!r}); choose among "
                f"{', '.join(n + ':EPS' if n in BUILTIN_WITH_EPS else n for n in BUILTIN_CHECKERS)}, "
                "or give a program."
            )
        return {"name": name, "language": None, "code": None}
    if not isinstance(value, Mapping):
        raise UserError(f"{where} should be a built-in name or a program {{'language', 'code'}}, "
                        f"not {type(value).__name__}.")
    keys = {k for k, v in value.items() if v is not None}
    if not keys:
        return None
    if keys == {"name"}:
        return stored_check(value["name"], where, field)
    extra = keys - {"language", "code"}
    if extra:
        raise UserError(f"{where} has a field {sorted(extra)[0]!r}: a program has only 'language' and 'code'.")
    if keys != {"language", "code"}:
        missing = ({"language", "code"} - keys).pop()
        raise UserError(f"{where} is a program without its {missing!r}.")
    language, code = value["language"], value["code"]
    if language not in PROGRAM_LANGUAGES:
        raise UserError(f"{where} is in {language!r}; a checker program is in {' or '.join(PROGRAM_LANGUAGES)}.")
    if not isinstance(code, str) or not code.strip():
        raise UserError(f"{where} has no code.")
    return {"name": None, "language": language, "code": code}


def checker_spec(row: Mapping[str, Any], field: str = "checker") -> str | dict | None:
    """The checker (or interactor) of a problem row in its public form: None, a name, or {language, code}.

    None means the default (token compare for a checker; not interactive for an
    interactor). The row may come from a table (the stored struct) or be a
    hand-written dict in any accepted spelling.
    """
    if field not in CHECK_FIELDS:
        raise ValueError(f"{field!r} is not one of {CHECK_FIELDS}")
    stored = stored_check(row.get(field), f"The field {field!r} of {row.get('name', 'a problem')!r}", field)
    if stored is None:
        return None
    if stored["name"] is not None:
        return stored["name"]
    return {"language": stored["language"], "code": stored["code"]}
