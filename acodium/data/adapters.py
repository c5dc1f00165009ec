"""Datasets that carry checkers, read onto the problems table: CodeContests+, CodeContests-O, open-r1/codeforces.

Issue 16 §5. Each adapter maps one row of its dataset, in the schema its dataset
card declares, to a problems row (`row_checks.normalise_row` then checks it like
any JSONL line). Field names are the cards' own; where a card leaves a meaning
open, the comment says which reading was taken.

- ByteDance-Seed/Code-Contests-Plus (CodeContests+): `id`, `title`, `description`,
  `time_limit` (milliseconds), `memory_limit` (megabytes), `checker` (testlib C++),
  `test_cases` [{input, output}] (in its 1x..5x configs), `correct_submissions`
  and `incorrect_submissions` [{code, language}]. The card lists no interactor
  field: an `interactor` (testlib C++) is read where a row has one.
  Ambiguous: the card's submission `language` spelling; every spelling
  `languages.language_id` knows is read (numbers 0-4 included), others dropped.
- caijanfeng/CodeContests-O: `name` and `description` as deepmind/code_contests
  (it is built on it), `corner_cases` [{input: {stdin}, output: {stdout}}] as its
  tests, `checker` (testlib C++, written for the card's simplified testlib.h).
  No limits, no solutions.
- open-r1/codeforces: `contest_id`, `index`, `title`, `description`,
  `input_format`, `output_format`, `interaction_format` (set only on
  interactive problems), `note`, `examples` and `official_tests` [{input,
  output}], `time_limit` (seconds), `memory_limit` (megabytes), `rating`,
  `tags`, `generated_checker` (Python; null where token compare suffices).
  Ambiguous: the card says the generated checker is called as
  `checker.py input correct_output solution_output`, the answer before the
  contestant's output, whereas testlib's order is `input output answer`; the
  adapter prepends one line that swaps the two arguments, so the stored checker
  follows testlib's protocol. Its exit-code convention is not documented beyond
  that. open-r1 ships no interactor: interactive problems carry no runnable
  judge, so `interactive="drop"` (the default) leaves them out.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ..errors import UserError
from ..languages import language_id
from .row_checks import normalise_row
from .schema import SOURCE_NAMES

CODE_CONTESTS_PLUS = "ByteDance-Seed/Code-Contests-Plus"
CODE_CONTESTS_O = "caijanfeng/CodeContests-O"
OPEN_R1_CODEFORCES = "open-r1/codeforces"

# Python lines that put open-r1's (input, answer, output) argument order into testlib's (input, output, answer).
OPEN_R1_ARGV_SHIM = (
    "import sys  # acodium: testlib's order (input, output, answer) -> open-r1's (input, answer, output)\n"
    "sys.argv[2:4] = sys.argv[3:1:-1]\n"
)


def _field(row: Mapping, field: str, where: str) -> Any:
    if field not in row or row[field] is None:
        raise UserError(f"{where} lacks the field {field!r}.")
    return row[field]


def _tests(pairs: Any, where: str, *, nested: bool = False) -> dict:
    """[{input, output}] (or CodeContests-O's [{input: {stdin}, output: {stdout}}]) as {input: [...], output: [...]}."""
    inputs, outputs = [], []
    for i, pair in enumerate(pairs or []):
        if not isinstance(pair, Mapping) or "input" not in pair or "output" not in pair:
            raise UserError(f"{where}: test {i} should be an object with 'input' and 'output'.")
        inp, out = pair["input"], pair["output"]
        if nested:
            inp = inp.get("stdin") if isinstance(inp, Mapping) else None
            out = out.get("stdout") if isinstance(out, Mapping) else None
        if not isinstance(inp, str) or not isinstance(out, str):
            raise UserError(f"{where}: test {i} should hold text input and output.")
        inputs.append(inp)
        outputs.append(out)
    return {"input": inputs, "output": outputs}


def _solutions(submissions: Any) -> dict:
    languages, codes = [], []
    for sub in submissions or []:
        if not isinstance(sub, Mapping) or not isinstance(sub.get("code"), str):
            continue
        try:
            language = language_id(sub.get("language"))
        except (UserError, TypeError, ValueError):
            continue  # a language CodeContests has no id for (Kotlin, Go, ...)
        if language == 0:
            continue  # UNKNOWN_LANGUAGE: nothing could run it
        languages.append(language)
        codes.append(sub["code"])
    return {"language": languages, "solution": codes}


def _program(code: Any, language: str) -> dict | None:
    return {"language": language, "code": code} if isinstance(code, str) and code.strip() else None


def _megabytes(value: Any) -> int:
    return int(round(float(value) * 2**20)) if value else 0


def from_code_contests_plus(row: Mapping, where: str) -> dict:
    """One CodeContests+ row as a problems row."""
    ident = str(_field(row, "id", where))
    title = row.get("title") or ""
    time_ms = row.get("time_limit")
    return {
        "name": f"{ident}. {title}" if title else ident,
        "description": _field(row, "description", where),
        "private_tests": _tests(row.get("test_cases"), where),
        "source": _source(row.get("source")),
        "solutions": _solutions(row.get("correct_submissions")),
        "incorrect_solutions": _solutions(row.get("incorrect_submissions")),
        "time_limit": None if not time_ms else float(time_ms) / 1000,
        "memory_limit_bytes": _megabytes(row.get("memory_limit")),
        "checker": _program(row.get("checker"), "cpp"),
        "interactor": _program(row.get("interactor"), "cpp"),
    }


def from_code_contests_o(row: Mapping, where: str) -> dict:
    """One CodeContests-O row as a problems row (its corner cases as generated tests)."""
    return {
        "name": _field(row, "name", where),
        "description": _field(row, "description", where),
        "generated_tests": _tests(row.get("corner_cases"), where, nested=True),
        "checker": _program(row.get("checker"), "cpp"),
    }


def from_open_r1_codeforces(row: Mapping, where: str) -> dict | None:
    """One open-r1/codeforces row as a problems row (None: an interactive problem, dropped)."""
    contest, index = str(_field(row, "contest_id", where)), str(_field(row, "index", where))
    parts = [_field(row, "description", where)]
    for title, field in (("Input", "input_format"), ("Output", "output_format"),
                         ("Interaction", "interaction_format"), ("Note", "note")):
        if row.get(field):
            parts.append(f"{title}\n\n{row[field]}")
    checker = row.get("generated_checker")
    return {
        "name": f"{contest}_{index}. {row.get('title') or ''}".rstrip(". "),
        "description": "\n\n".join(parts),
        "public_tests": _tests(row.get("examples"), where),
        "private_tests": _tests(row.get("official_tests"), where),
        "source": SOURCE_NAMES.index("CODEFORCES"),
        "cf_contest_id": int(contest) if contest.isdigit() else 0,
        "cf_index": index,
        "cf_rating": int(row.get("rating") or 0),
        "cf_tags": list(row.get("tags") or []),
        "time_limit": row.get("time_limit") or None,
        "memory_limit_bytes": _megabytes(row.get("memory_limit")),
        "checker": _program(OPEN_R1_ARGV_SHIM + checker, "python3") if isinstance(checker, str) and checker.strip()
        else None,
    }


def is_interactive_open_r1(row: Mapping) -> bool:
    return bool(row.get("interaction_format"))


def _source(value: Any) -> int:
    text = str(value or "").upper()
    return SOURCE_NAMES.index(text) if text in SOURCE_NAMES else 0


ADAPTERS: dict[str, Callable[[Mapping, str], dict | None]] = {
    CODE_CONTESTS_PLUS: from_code_contests_plus,
    CODE_CONTESTS_O: from_code_contests_o,
    OPEN_R1_CODEFORCES: from_open_r1_codeforces,
}

# The columns a join needs from each dataset (`checker_rows`): reading only these from the
# hub fetches kilobytes per problem instead of the tests (CodeContests-O's train split is
# about 325 GB). The CodeContests+ card lists no interactor column, so none is asked for.
JOIN_COLUMNS = {
    CODE_CONTESTS_PLUS: ["id", "title", "checker"],
    CODE_CONTESTS_O: ["name", "checker"],
    OPEN_R1_CODEFORCES: ["contest_id", "index", "title", "generated_checker", "interaction_format"],
}


def checker_rows(rows, dataset: str, label: str) -> list[dict]:
    """Rows of `dataset` reduced to {name, checker, interactor}: what a join needs, from `JOIN_COLUMNS` only."""
    out = []
    for i, row in enumerate(rows):
        where = f"Row {i} of {label}"
        if dataset == OPEN_R1_CODEFORCES and is_interactive_open_r1(row):
            continue  # no interactor shipped: nothing to attach
        full = {"description": "", **row}
        mapped = ADAPTERS[dataset](full, where)
        out.append({"name": mapped["name"], "checker": mapped.get("checker"), "interactor": mapped.get("interactor")})
    return out


# Columns that tell a file's schema when no dataset id is given (a local copy).
_SIGNATURES = (
    (CODE_CONTESTS_O, {"corner_cases"}),
    (OPEN_R1_CODEFORCES, {"official_tests"}),
    (OPEN_R1_CODEFORCES, {"interaction_format"}),
    (CODE_CONTESTS_PLUS, {"test_cases"}),
    (CODE_CONTESTS_PLUS, {"correct_submissions"}),
)


def foreign_schema(columns) -> str | None:
    """Which of these datasets a table with these columns is in (None: not one of them)."""
    columns = set(columns)
    for dataset, signature in _SIGNATURES:
        if signature <= columns:
            return dataset
    return None


def adapt_rows(rows, dataset: str, label: str, *, interactive: str = "drop") -> list[dict]:
    """Rows of `dataset`'s schema as problems rows (checked), numbered in messages from 0."""
    if interactive not in ("drop", "keep"):
        raise UserError(f"interactive is 'drop' or 'keep', not {interactive!r}.")
    adapter = ADAPTERS[dataset]
    out = []
    for i, row in enumerate(rows):
        where = f"Row {i} of {label}"
        if not isinstance(row, Mapping):
            raise UserError(f"{where} is not an object.")
        if dataset == OPEN_R1_CODEFORCES and interactive == "drop" and is_interactive_open_r1(row):
            continue
        out.append(normalise_row(adapter(row, where), where))
    return out
