"""The one reader of problem rows: rows by name, a test set's valid tests, and the `Problem` view.

Every stage reads problems through here, so they agree on what a problem's
tests are: a test a reference check marked invalid (`is_valid_test` False,
AlphaCodium's cleaning) is skipped everywhere, and a test keeps its position
in the dataset as its index. `Problem` is the view notebooks use: the
statement, limits in seconds and bytes (None where the dataset does not know
them: `time_limit` null or zero, `memory_limit_bytes` 0; the execution stage
applies its defaults then), tests as (input, output) pairs, solutions by
language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from ..errors import UserError
from ..languages import LANGUAGE_IDS, LANGUAGE_NAMES, language_id, language_name
from ..wording import plural
from .checkers import checker_spec
from .schema import DIFFICULTY_NAMES, REQUIRED_COLUMNS, SOURCE_NAMES, TEST_KINDS, test_set_name

if TYPE_CHECKING:
    import datasets


def problem_rows(problems: Any, columns: Sequence[str] | None = None) -> dict[str, dict]:
    """Problems by name, from a datasets.Dataset, a DataFrame, `Problem`s, one row, or rows.

    The one reader every stage uses: a row without a name, or a name given twice,
    is refused (the stages key everything by problem name). With `columns`, a
    Dataset is read for those columns only (reading every test of every problem
    to look at names costs seconds on the full dataset).
    """
    column_names = getattr(problems, "column_names", None)
    if columns is not None and isinstance(column_names, list) and hasattr(problems, "select_columns"):
        problems = problems.select_columns([c for c in column_names if c in set(columns) | {"name"}])
    if hasattr(problems, "to_dict") and hasattr(problems, "columns"):  # a DataFrame
        problems = problems.to_dict("records")
    elif isinstance(problems, (Mapping, Problem)):
        problems = [problems]
    rows: dict[str, dict] = {}
    for row in problems:
        row = dict(row.row) if isinstance(row, Problem) else dict(row)
        if "name" not in row:
            raise UserError("Problem rows need a 'name' field (the deepmind/code_contests schema).")
        if row["name"] in rows:
            raise UserError(f"The problem {row['name']!r} appears twice in the problem set.")
        rows[row["name"]] = row
    return rows


def problem_tests(row: Mapping[str, Any], test_set: str, max_tests: int | None = None) -> list[tuple[int, str, str]]:
    """The valid tests of one set of a problem: (index in the dataset, input, expected output).

    `test_set` in any spelling `test_set_name` reads ('public', 'public_tests').
    Tests marked invalid (`is_valid_test` False) are skipped; `max_tests` keeps
    the first that many valid ones.
    """
    tests = row.get(f"{test_set_name(test_set)}_tests") or {}
    inputs = list(tests.get("input") or [])
    outputs = list(tests.get("output") or [])
    valid = tests.get("is_valid_test")
    out = []
    for i, (inp, exp) in enumerate(zip(inputs, outputs)):
        if valid is not None and i < len(valid) and valid[i] is False:
            continue
        out.append((i, inp, exp))
        if max_tests is not None and len(out) >= max_tests:
            break
    return out


def test_kind(kind: str) -> str:
    """'public', 'private' or 'generated' for any of their spellings (public_tests, ...)."""
    return test_set_name(kind, among=TEST_KINDS)


test_kind.__test__ = False  # a library function, not a pytest test


def time_limit_seconds(row: Mapping[str, Any]) -> float | None:
    """A row's time limit in seconds, None where the dataset does not know it.

    The one reader of `time_limit`: {seconds, nanos} on the hub, a number of
    seconds in a hand-written row (the loader turns it into the struct), and
    null or zero for "unknown" (the execution stage applies its default then).
    """
    limit = row.get("time_limit")
    if limit is None:
        return None
    if isinstance(limit, Mapping):
        seconds = (limit.get("seconds") or 0) + (limit.get("nanos") or 0) / 1e9
    elif isinstance(limit, (int, float)) and not isinstance(limit, bool):
        seconds = float(limit)
    else:
        raise UserError(f"The time_limit of problem {row.get('name')!r} should be null, a number of seconds "
                        f"or {{seconds, nanos}}, not {limit!r}.")
    return float(seconds) if seconds > 0 else None


def checker_column(row: Mapping[str, Any]) -> str | Mapping[str, Any] | None:
    """A row's `checker`: a built-in's name (str), a program ({language, code}), or None for the default.

    The one reader of the column (`acodium.data.checkers.checker_spec`): missing,
    null, an empty string or the stored struct with nothing in it all mean "no
    checker" (the token compare); a malformed value is one sentence.
    `acodium.execute.checkers` decides what the value means.
    """
    value = row.get("checker")
    if isinstance(value, float) and value != value:  # a DataFrame's gap
        return None
    return checker_spec(row, "checker")


def difficulty_id(difficulty: str | int) -> int:
    """The dataset's difficulty id for a name ('A', 'EASY') or an id."""
    if isinstance(difficulty, int) and not isinstance(difficulty, bool):
        if 0 <= difficulty < len(DIFFICULTY_NAMES):
            return difficulty
    else:
        key = str(difficulty).strip().upper()
        if key.isdigit():
            return difficulty_id(int(key))
        if key in DIFFICULTY_NAMES:
            return DIFFICULTY_NAMES.index(key)
    raise UserError(
        f"Unknown difficulty {difficulty!r}: use a letter A-V, EASY..HARDEST, or an id 0-28."
    )


@dataclass(frozen=True)
class Problem:
    """One problem row, seen the way a notebook wants it.

    `row` is the schema row, untouched. Limits are None where the dataset does
    not know them (time_limit null or zero, memory_limit_bytes 0): the
    execution stage applies its defaults then.
    """

    row: Mapping[str, Any]

    def __hash__(self) -> int:
        return hash(self.name)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "Problem":
        for column in REQUIRED_COLUMNS + ("public_tests", "private_tests"):
            if column not in row:
                raise UserError(f"A problem row needs the field {column!r}.")
        return cls(row)

    @property
    def name(self) -> str:
        return self.row["name"]

    @property
    def description(self) -> str:
        return self.row["description"]

    @property
    def checker(self) -> str | dict | None:
        """The problem's checker: a built-in name, a program {language, code}, or None (token compare)."""
        return checker_spec(self.row, "checker")

    @property
    def interactor(self) -> dict | None:
        """The problem's interactor program {language, code}, or None (not interactive)."""
        return checker_spec(self.row, "interactor")

    @property
    def time_limit_s(self) -> float | None:
        return time_limit_seconds(self.row)

    @property
    def memory_limit_bytes(self) -> int | None:
        return self.row.get("memory_limit_bytes") or None

    @property
    def tags(self) -> list[str]:
        return list(self.row.get("cf_tags") or [])

    @property
    def rating(self) -> int | None:
        """Codeforces rating, None when unknown (the dataset stores 0)."""
        return self.row.get("cf_rating") or None

    @property
    def difficulty(self) -> str:
        return DIFFICULTY_NAMES[self.row.get("difficulty") or 0]

    @property
    def source(self) -> str:
        return SOURCE_NAMES[self.row.get("source") or 0]

    def tests(self, kind: str = "public") -> list[tuple[str, str]]:
        """The valid tests of one set (public, private, generated, mutated, ai; any spelling) as
        (input, output) pairs."""
        return [(inp, out) for _, inp, out in problem_tests(self.row, kind)]

    def solutions(self, language: str | int | None = None) -> list[tuple[str, str]]:
        """Accepted solutions as (language name, code), of one language or all."""
        return _solutions(self.row.get("solutions"), language)

    def incorrect_solutions(self, language: str | int | None = None) -> list[tuple[str, str]]:
        """Rejected solutions as (language name, code), of one language or all."""
        return _solutions(self.row.get("incorrect_solutions"), language)

    def __repr__(self) -> str:
        counts = ", ".join(f"{k} {len(self.tests(k))}" for k in TEST_KINDS)
        return f"Problem({self.name!r}: tests {counts}; solutions {len(self.solutions())})"


def _solutions(column: Mapping[str, list] | None, language) -> list[tuple[str, str]]:
    """(language name, code) pairs of a solutions field; languages as dataset ids or as names."""
    if not column:
        return []
    wanted = None if language is None else LANGUAGE_IDS[language_id(language)]
    pairs = [(language_name(lang), code) for lang, code in zip(column.get("language") or [], column.get("solution") or [])]
    return [(lang if lang in LANGUAGE_NAMES else "unknown", code) for lang, code in pairs
            if wanted is None or lang == wanted]


def dataset_solutions(row: Mapping[str, Any], field_name: str,
                      languages: Sequence[str]) -> list[tuple[int, str, str]]:
    """(index in the dataset, language name, code) of a row's `solutions` or
    `incorrect_solutions` in the given languages; the index counts every language.

    The one reader of a row's solutions for the stages that run them (human
    candidates, mutants, the references that confirm mutated tests).
    """
    problem = Problem(row)
    pairs = problem.solutions() if field_name == "solutions" else problem.incorrect_solutions()
    return [(j, language, code) for j, (language, code) in enumerate(pairs) if language in languages]


def problems(ds: Iterable[Mapping[str, Any]]) -> list[Problem]:
    """Every row of a problems table as a Problem."""
    return [Problem.from_row(row) for row in ds]


def get_problem(ds: "datasets.Dataset", name: str) -> Problem:
    """The problem of that name in a loaded table."""
    names = ds["name"]
    if name not in names:
        raise UserError(f"There is no problem named {name!r} in this dataset ({plural(len(names), 'problem')}).")
    return Problem.from_row(ds[names.index(name)])
