"""Problems: the deepmind/code_contests table, from wherever it lives, filtered.

`load_problems` reads the table from the Hugging Face hub (only the requested
split), a `save_to_disk` folder, parquet or JSONL files, a name saved earlier by
`gencode data etl`, or the starter problems shipped with acodium, and returns a
`datasets.Dataset` in the hub's own schema (`features()`). Every source is cast to
that schema and checked row by row, so a malformed row is reported by its row
and field instead of failing later in the pipeline. A cleaned dataset keeps its
extra fields (`is_valid_test` in each test set, `is_valid_problem`,
`mutated_tests`). `Problem` is the view notebooks use: the statement, limits in
seconds and bytes, tests as (input, output) pairs, solutions by language.

Two normalisations make the sources agree: `time_limit` is a struct
{seconds, nanos} on the hub but null in many local copies (null means
unknown), and `memory_limit_bytes` 0 means unknown. `Problem` turns both into
None; the execution stage then applies its documented defaults.

The rooms: `schema` (columns, enums, test sets), `row_checks` and
`table_checks` (the schema checks), `sources` (finding and reading a source),
`saved` (named datasets under data_dir), `starter`, `problem` (the one reader of
rows), `filters` and `load` (`load_problems`), `fingerprint` (a content hash of a
problems table, for a sweep's manifest), `checkers` (a problem's `checker` and
`interactor`: their check, stored form and `checker_spec` reader), `adapters`
(CodeContests+, CodeContests-O and open-r1/codeforces onto the problems table,
from the hub or local files) and `join` (`attach_checkers`: another dataset's
checkers onto these problems by name).
"""

from .adapters import CODE_CONTESTS_O, CODE_CONTESTS_PLUS, OPEN_R1_CODEFORCES
from .checkers import BUILTIN_CHECKERS, checker_spec, is_builtin_name
from .filters import keep_languages
from .fingerprint import dataset_fingerprint
from .join import attach_checkers, checkers_of, join_report, problem_key
from .load import load_problems
from .problem import (
    Problem, dataset_solutions, difficulty_id, get_problem, problem_rows, problem_tests, problems, test_kind,
    time_limit_seconds,
)
from .row_checks import normalise_row
from .saved import STARTER, save_problems, saved_names
from .schema import (
    CLUSTERING_TEST_SETS, COLUMNS, DERIVED_TEST_SETS, DIFFICULTY_NAMES, EXTRA_COLUMNS, EXTRA_FIELDS, HIDDEN_TEST_SETS,
    REQUIRED_COLUMNS, SOURCE_NAMES, TEST_KINDS, TEST_SETS, features, test_set_name,
)
from .sources import HUB_ID, dataset_splits
from .starter import STARTER_DIR, starter_rows

__all__ = [
    "BUILTIN_CHECKERS", "CODE_CONTESTS_O", "CODE_CONTESTS_PLUS", "OPEN_R1_CODEFORCES", "attach_checkers",
    "checker_spec", "checkers_of", "is_builtin_name", "join_report", "problem_key",
    "CLUSTERING_TEST_SETS", "COLUMNS", "DERIVED_TEST_SETS", "DIFFICULTY_NAMES", "EXTRA_COLUMNS", "EXTRA_FIELDS",
    "HIDDEN_TEST_SETS", "HUB_ID", "Problem", "REQUIRED_COLUMNS", "SOURCE_NAMES", "STARTER", "STARTER_DIR",
    "TEST_KINDS", "TEST_SETS", "dataset_fingerprint", "dataset_solutions", "dataset_splits", "difficulty_id",
    "features", "get_problem", "keep_languages", "load_problems", "normalise_row", "problem_rows", "problem_tests",
    "problems", "save_problems", "saved_names", "starter_rows", "test_kind", "test_set_name", "time_limit_seconds",
]
