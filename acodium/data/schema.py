"""The deepmind/code_contests schema: its columns, enums and test sets, and the extra
fields a cleaned dataset carries.

Every source is cast to `features()`, so a table read from the hub, a folder,
parquet or JSONL looks the same to the stages. A dataset cleaned the way
AlphaCodium does (`acodium.evaluation.check_references`, `acodium.mutate`) keeps
a few more fields, listed in `EXTRA_FIELDS`; `features(extras)` is the schema
with those of them a source has, so such a dataset loads through the same
loader and keeps them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Sequence

from ..errors import UserError
from ..languages import LANGUAGE_ENUM_NAMES

if TYPE_CHECKING:  # `datasets` takes a second to import: only when loading.
    import datasets

# The dataset's enums (contest_problem.proto), in id order.
SOURCE_NAMES = ["UNKNOWN_SOURCE", "CODECHEF", "CODEFORCES", "HACKEREARTH", "CODEJAM", "ATCODER", "AIZU"]
DIFFICULTY_NAMES = [
    "UNKNOWN_DIFFICULTY", "EASY", "MEDIUM", "HARD", "HARDER", "HARDEST", "EXTERNAL",
    "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q",
    "R", "S", "T", "U", "V",
]

# The test sets, one vocabulary for every stage. The dataset's own three; `mutated`,
# inputs acodium derives from the public ones (with outputs where the references
# agree); `ai`, inputs a model wrote. Correctness is decided on the hidden sets only;
# clustering may use only what a contestant could see or make. Set `s` lives in the
# column `s_tests`.
TEST_KINDS = ("public", "private", "generated")
TEST_SETS = ("public", "private", "generated", "mutated", "ai")
HIDDEN_TEST_SETS = ("private", "generated")
CLUSTERING_TEST_SETS = ("mutated", "ai")
DERIVED_TEST_SETS = tuple(s for s in TEST_SETS if s not in TEST_KINDS)


def test_set_name(text: str, among: Sequence[str] = TEST_SETS) -> str:
    """The test set a spelling names: 'public', 'Public', ' public_tests ' are all 'public'.

    The one normaliser of test-set spellings: the readers, the loader's
    filters and the command line all call it. `among` narrows the accepted
    sets (the dataset's own three, `TEST_KINDS`, for a filter on them).
    """
    key = str(text).strip().lower().removesuffix("_tests")
    if key in among:
        return key
    raise UserError(f"Unknown test set {text!r}; choose among {', '.join(among)}.")


test_set_name.__test__ = False  # a library function, not a pytest test

# Columns, in the hub's order. Only these two must be present in a source;
# the others default to "empty / unknown" when a source lacks them.
COLUMNS = [
    "name", "description", "public_tests", "private_tests", "generated_tests", "source",
    "difficulty", "solutions", "incorrect_solutions", "cf_contest_id", "cf_index",
    "cf_points", "cf_rating", "cf_tags", "is_description_translated",
    "untranslated_description", "time_limit", "memory_limit_bytes", "input_file", "output_file",
]
REQUIRED_COLUMNS = ("name", "description")

# Fields beyond the hub's, kept where a source has them (absent otherwise):
# - `S_tests.is_valid_test`: AlphaCodium's cleaning, False for a test the references refute;
# - `mutated_tests`, `ai_tests`: derived test sets, whose `output_confirmed` is False
#   where no reference confirmed the output (the input still serves clustering);
# - `is_valid_problem` and `reference_check`: the reference check's verdict on the problem;
# - `checker` and `interactor` (issue 16): how outputs are judged. Each is stored as one
#   struct {name, language, code} (`PROGRAM_FIELDS`), null where the problem has none (the
#   default: token compare; not interactive); a built-in checker ("tokens",
#   "float_rel:1e-6") fills `name` only, a program {"language": "cpp" | "python3", "code"}
#   fills `language` and `code` only. One Arrow type for both forms, so the column
#   round-trips through save_to_disk, parquet and JSONL; `checkers.checker_spec` reads
#   it back as a name, a {language, code} program, or None.
CHECK_COLUMNS = ("checker", "interactor")
PROGRAM_FIELDS = ("name", "language", "code")
EXTRA_COLUMNS = tuple(f"{s}_tests" for s in DERIVED_TEST_SETS) + ("is_valid_problem", "reference_check") + CHECK_COLUMNS
EXTRA_FIELDS = (
    *(f"{s}_tests.is_valid_test" for s in TEST_KINDS),
    *(f"{s}_tests{field}" for s in DERIVED_TEST_SETS for field in ("", ".output_confirmed", ".is_valid_test")),
    "is_valid_problem",
    "reference_check",
    *CHECK_COLUMNS,
)


def flags_of_test_set(column: str) -> tuple[str, ...]:
    """The optional per-test lists of a test set column, besides `input` and `output`."""
    derived = column.removesuffix("_tests") in DERIVED_TEST_SETS
    return ("output_confirmed", "is_valid_test") if derived else ("is_valid_test",)


def is_test_column(column: str) -> bool:
    return column.endswith("_tests") and column.removesuffix("_tests") in TEST_SETS


def features(extras: Iterable[str] = ()) -> "datasets.Features":
    """The deepmind/code_contests schema, as the hub declares it, with these `EXTRA_FIELDS`."""
    import datasets as hf

    extras = set(extras)
    unknown = sorted(extras - set(EXTRA_FIELDS))
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not one of the schema's extra fields")

    def tests(column: str):
        fields = {"input": hf.Value("string"), "output": hf.Value("string")}
        for flag in flags_of_test_set(column):
            if f"{column}.{flag}" in extras:
                fields[flag] = hf.Value("bool")
        return hf.Sequence(fields)

    solutions = hf.Sequence(
        {"language": hf.ClassLabel(names=LANGUAGE_ENUM_NAMES), "solution": hf.Value("string")}
    )
    schema: dict[str, Any] = {
        "name": hf.Value("string"),
        "description": hf.Value("string"),
        "public_tests": tests("public_tests"),
        "private_tests": tests("private_tests"),
        "generated_tests": tests("generated_tests"),
        "source": hf.ClassLabel(names=SOURCE_NAMES),
        "difficulty": hf.ClassLabel(names=DIFFICULTY_NAMES),
        "solutions": solutions,
        "incorrect_solutions": solutions,
        "cf_contest_id": hf.Value("int64"),
        "cf_index": hf.Value("string"),
        "cf_points": hf.Value("float32"),
        "cf_rating": hf.Value("int32"),
        "cf_tags": hf.Sequence(hf.Value("string")),
        "is_description_translated": hf.Value("bool"),
        "untranslated_description": hf.Value("string"),
        "time_limit": {"seconds": hf.Value("int64"), "nanos": hf.Value("int64")},
        "memory_limit_bytes": hf.Value("int64"),
        "input_file": hf.Value("string"),
        "output_file": hf.Value("string"),
    }
    for column in EXTRA_COLUMNS:
        if column in extras:
            if is_test_column(column):
                schema[column] = tests(column)
            elif column in CHECK_COLUMNS:
                schema[column] = {field: hf.Value("string") for field in PROGRAM_FIELDS}
            else:
                schema[column] = hf.Value("bool") if column == "is_valid_problem" else hf.Value("string")
    return hf.Features(schema)


def column_names(extras: Iterable[str] = ()) -> list[str]:
    """The columns of `features(extras)`, in order."""
    extras = set(extras)
    return COLUMNS + [c for c in EXTRA_COLUMNS if c in extras]
