"""Checks of one problem given as a JSON object: a malformed one is one sentence naming where and the field.

JSONL lines and the starter problems arrive as Python objects; `normalise_row`
checks them field by field and fills what they lack, before any table exists,
so a bad line is named by its line and field instead of failing later in the
pipeline. The extra fields of a cleaned dataset (`schema.EXTRA_FIELDS`) are
checked and kept.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import UserError
from ..languages import language_id
from .checkers import stored_check
from .schema import (
    COLUMNS, DIFFICULTY_NAMES, EXTRA_COLUMNS, REQUIRED_COLUMNS, SOURCE_NAMES, TEST_KINDS, flags_of_test_set,
    is_test_column,
)

_MISSING = object()


def normalise_row(obj: Any, where: str) -> dict:
    """A JSON problem as a schema row, or a UserError naming `where` and the field.

    Missing optional fields become empty or unknown; a time limit may be given
    as {seconds, nanos}, as a number of seconds, or null (unknown). The extra
    fields of a cleaned dataset are kept where present.
    """
    if not isinstance(obj, dict):
        raise UserError(f"{where} is not a JSON object.")
    unknown = [k for k in obj if k not in COLUMNS and k not in EXTRA_COLUMNS]
    if unknown:
        raise UserError(f"{where} has a field {unknown[0]!r} that is not in the code_contests schema.")
    row = {}
    for field in COLUMNS:
        value = obj.get(field, _MISSING)
        if value is _MISSING and field in REQUIRED_COLUMNS:
            raise UserError(f"{where} lacks the field {field!r}.")
        row[field] = _CHECKS[field](value, f"{where}: field {field!r}")
    for field in EXTRA_COLUMNS:
        if field in obj:
            row[field] = _EXTRA_CHECKS[field](obj[field], f"{where}: field {field!r}")
    return row


def default_value(column: str) -> Any:
    """What a source lacking a hub column holds there: empty or unknown."""
    return _CHECKS[column](_MISSING, column)


def row_extras(row: dict) -> set[str]:
    """The extra fields (`schema.EXTRA_FIELDS`) a normalised row has."""
    found = {c for c in EXTRA_COLUMNS if c in row}
    for column, value in row.items():
        if is_test_column(column) and isinstance(value, dict):
            found |= {f"{column}.{flag}" for flag in flags_of_test_set(column) if flag in value}
    return found


def align_extras(rows: list[dict]) -> set[str]:
    """Give every row the extra fields any row has (None: unknown), and return them.

    A JSONL file may carry `is_valid_test` on some problems only; a table has
    one schema, so the others get a null there, which every reader takes as
    "not marked".
    """
    extras = set().union(*(row_extras(r) for r in rows)) if rows else set()
    for row in rows:
        for extra in extras:
            column, _, flag = extra.partition(".")
            if not flag:
                row.setdefault(column, None)
            elif row.get(column) is not None:
                row[column].setdefault(flag, None)
    return extras


def _bad(where: str, wanted: str, value: Any) -> UserError:
    got = "null" if value is None else type(value).__name__
    return UserError(f"{where} should be {wanted}, not {got}.")


def _string(value, where):
    if value is _MISSING:
        return ""
    if not isinstance(value, str):
        raise _bad(where, "a string", value)
    return value


def _integer(value, where, minimum=None):
    if value is _MISSING:
        return 0
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad(where, "an integer", value)
    if minimum is not None and value < minimum:
        raise UserError(f"{where} should be at least {minimum}, not {value}.")
    return value


def _number(value, where):
    if value is _MISSING:
        return 0.0
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise _bad(where, "a number", value)
    return float(value)


def _boolean(value, where):
    if value is _MISSING:
        return False
    if not isinstance(value, bool):
        raise _bad(where, "true or false", value)
    return value


def _strings(value, where):
    if value is _MISSING:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(where, "a list of strings", value)
    return value


def _enum(names):
    def check(value, where):
        if value is _MISSING:
            return 0
        if isinstance(value, str) and value.upper() in names:
            return names.index(value.upper())
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(names):
            return value
        raise UserError(f"{where} should be an id 0-{len(names) - 1} or a name like {names[1]}, not {value!r}.")

    return check


def _tests_of(column: str):
    """The check of one test set column: lists `input` and `output`, and the set's optional flags."""
    flags = flags_of_test_set(column)
    allowed = {"input", "output", *flags}
    shape = f"an object with lists 'input' and 'output' (and optionally {' and '.join(map(repr, flags))})"

    def check(value, where):
        if value is _MISSING:
            return {"input": [], "output": []}
        if not isinstance(value, dict) or not {"input", "output"} <= set(value) <= allowed:
            raise _bad(where, shape, value)
        inputs = _strings(value["input"], f"{where}.input")
        outputs = _strings(value["output"], f"{where}.output")
        if len(inputs) != len(outputs):
            raise UserError(f"{where} has {len(inputs)} inputs but {len(outputs)} outputs.")
        tests = {"input": inputs, "output": outputs}
        for flag in flags:
            if flag in value:
                tests[flag] = _flags(value[flag], f"{where}.{flag}", len(inputs))
        return tests

    return check


def _flags(value, where, count):
    """A per-test list of true/false (null: not marked)."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, bool) for v in value):
        raise _bad(where, "a list of true/false", value)
    if len(value) != count:
        raise UserError(f"{where} has {len(value)} entries for {count} tests.")
    return value


def _solution_lists(value, where):
    if value is _MISSING:
        return {"language": [], "solution": []}
    if not isinstance(value, dict) or set(value) != {"language", "solution"}:
        raise _bad(where, "an object with lists 'language' and 'solution'", value)
    if not isinstance(value["language"], list):
        raise _bad(f"{where}.language", "a list", value["language"])
    languages = []
    for lang in value["language"]:
        try:
            languages.append(language_id(lang))
        except UserError:
            raise UserError(f"{where}.language holds {lang!r}, which is not a language id 0-4.") from None
    solutions = _strings(value["solution"], f"{where}.solution")
    if len(languages) != len(solutions):
        raise UserError(f"{where} has {len(languages)} languages but {len(solutions)} solutions.")
    return {"language": languages, "solution": solutions}


def _time_limit(value, where):
    if value is _MISSING or value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0:
            raise UserError(f"{where} should not be negative.")
        seconds = math.floor(value)
        return {"seconds": seconds, "nanos": round((value - seconds) * 1e9)}
    if isinstance(value, dict) and set(value) <= {"seconds", "nanos"}:
        return {
            "seconds": _integer(value.get("seconds", 0), f"{where}.seconds", minimum=0),
            "nanos": _integer(value.get("nanos", 0), f"{where}.nanos", minimum=0),
        }
    raise _bad(where, "null, a number of seconds or {seconds, nanos}", value)


def _nullable(check):
    """An extra field's check: null means unknown (the problem was not checked, has no such tests)."""
    return lambda value, where: None if value is None else check(value, where)


_CHECKS = {
    "name": _string,
    "description": _string,
    **{f"{kind}_tests": _tests_of(f"{kind}_tests") for kind in TEST_KINDS},
    "source": _enum(SOURCE_NAMES),
    "difficulty": _enum(DIFFICULTY_NAMES),
    "solutions": _solution_lists,
    "incorrect_solutions": _solution_lists,
    "cf_contest_id": _integer,
    "cf_index": _string,
    "cf_points": _number,
    "cf_rating": lambda v, w: _integer(v, w, minimum=0),
    "cf_tags": _strings,
    "is_description_translated": _boolean,
    "untranslated_description": _string,
    "time_limit": _time_limit,
    "memory_limit_bytes": lambda v, w: _integer(v, w, minimum=0),
    "input_file": _string,
    "output_file": _string,
}
_EXTRA_CHECKS = {
    **{c: _nullable(_tests_of(c)) for c in EXTRA_COLUMNS if is_test_column(c)},
    "is_valid_problem": _nullable(_boolean),
    "reference_check": _nullable(_string),
    "checker": lambda value, where: stored_check(value, where, "checker"),
    "interactor": lambda value, where: stored_check(value, where, "interactor"),
}
