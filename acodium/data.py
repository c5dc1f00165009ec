"""Problems: the deepmind/code_contests table, from wherever it lives, filtered.

`load_problems` reads the table from the Hugging Face hub (only the requested
split), a `save_to_disk` folder, parquet or JSONL files, a name saved earlier by
`gencode data etl`, or the starter problems shipped with acodium, and returns a
`datasets.Dataset` in the hub's own schema (`FEATURES`). Every source is cast to
that schema and checked row by row, so a malformed row is reported by its row
and field instead of failing later in the pipeline. `Problem` is the view
notebooks use: the statement, limits in seconds and bytes, tests as
(input, output) pairs, solutions by language.

Two normalisations make the sources agree: `time_limit` is a struct
{seconds, nanos} on the hub but null in many local copies (null means
unknown), and `memory_limit_bytes` 0 means unknown. `Problem` turns both into
None; the execution stage then applies its documented defaults.
"""

from __future__ import annotations

import glob as globlib
import json
import math
import os
import re
import shutil
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from .errors import UserError
from .languages import LANGUAGE_ENUM_NAMES, LANGUAGE_IDS, LANGUAGE_NAMES, LANGUAGE_OF_SUFFIX, language_id

if TYPE_CHECKING:  # `datasets` takes a second to import: only when loading.
    import datasets

HUB_ID = "deepmind/code_contests"
STARTER = "starter"
STARTER_DIR = Path(__file__).resolve().parent / "starter"

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
# clustering may use only what a contestant could see or make.
TEST_KINDS = ("public", "private", "generated")
TEST_SETS = ("public", "private", "generated", "mutated", "ai")
HIDDEN_TEST_SETS = ("private", "generated")
CLUSTERING_TEST_SETS = ("mutated", "ai")

# Columns, in the hub's order. Only these two must be present in a source;
# the others default to "empty / unknown" when a source lacks them.
COLUMNS = [
    "name", "description", "public_tests", "private_tests", "generated_tests", "source",
    "difficulty", "solutions", "incorrect_solutions", "cf_contest_id", "cf_index",
    "cf_points", "cf_rating", "cf_tags", "is_description_translated",
    "untranslated_description", "time_limit", "memory_limit_bytes", "input_file", "output_file",
]
REQUIRED_COLUMNS = ("name", "description")


def features() -> "datasets.Features":
    """The deepmind/code_contests schema, as the hub declares it."""
    import datasets as hf

    tests = hf.Sequence({"input": hf.Value("string"), "output": hf.Value("string")})
    solutions = hf.Sequence(
        {"language": hf.ClassLabel(names=LANGUAGE_ENUM_NAMES), "solution": hf.Value("string")}
    )
    return hf.Features(
        {
            "name": hf.Value("string"),
            "description": hf.Value("string"),
            "public_tests": tests,
            "private_tests": tests,
            "generated_tests": tests,
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
    )


# --------------------------------------------------------------------------- names


# --------------------------------------------------------------------------- reading rows


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

    Tests marked invalid (`is_valid_test` False) are skipped; `max_tests` keeps
    the first that many valid ones.
    """
    if test_set not in TEST_SETS:
        raise UserError(f"Unknown test set {test_set!r}; choose among {', '.join(TEST_SETS)}.")
    tests = row.get(f"{test_set}_tests") or {}
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


def test_kind(kind: str) -> str:
    """'public', 'private' or 'generated' for any of their spellings (public_tests, ...)."""
    key = str(kind).strip().lower().removesuffix("_tests")
    if key in TEST_KINDS:
        return key
    raise UserError(f"Unknown test kind {kind!r}: use public, private or generated.")


# --------------------------------------------------------------------------- Problem


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
    def time_limit_s(self) -> float | None:
        limit = self.row.get("time_limit")
        if not limit:
            return None
        seconds = (limit.get("seconds") or 0) + (limit.get("nanos") or 0) / 1e9
        return seconds if seconds > 0 else None

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
        """The valid tests of one set (public, private, generated, ...) as (input, output) pairs."""
        key = str(kind).strip().lower().removesuffix("_tests")
        return [(inp, out) for _, inp, out in problem_tests(self.row, test_kind(key) if key in TEST_KINDS else key)]

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
    if not column:
        return []
    wanted = None if language is None else language_id(language)
    return [
        (LANGUAGE_IDS.get(lang, "unknown"), code)
        for lang, code in zip(column["language"], column["solution"])
        if wanted is None or lang == wanted
    ]


def problems(ds: Iterable[Mapping[str, Any]]) -> list[Problem]:
    """Every row of a problems table as a Problem."""
    return [Problem.from_row(row) for row in ds]


def get_problem(ds: "datasets.Dataset", name: str) -> Problem:
    """The problem of that name in a loaded table."""
    names = ds["name"]
    if name not in names:
        raise UserError(f"There is no problem named {name!r} in this dataset ({len(names)} problems).")
    return Problem.from_row(ds[names.index(name)])


# --------------------------------------------------------------------------- loading


def load_problems(
    source: str | os.PathLike | Sequence[str | os.PathLike] = HUB_ID,
    split: str | None = "train",
    *,
    names: Iterable[str] | None = None,
    languages: Iterable[str | int] | str | None = ("python3",),
    min_rating: int | None = None,
    max_rating: int | None = None,
    tags: Iterable[str] | str | None = None,
    difficulties: Iterable[str | int] | None = None,
    min_tests: Mapping[str, int] | None = None,
    sample_rate: float | None = None,
    limit: int | None = None,
    seed: int = 0,
    data_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> "datasets.Dataset":
    """Problems in the deepmind/code_contests schema, from any source, filtered.

    source: a hub id (default deepmind/code_contests; only `split` is fetched),
      a folder laid out as a hub dataset repository, a `save_to_disk` folder,
      parquet or JSONL files (a path, a glob or a list), a name saved by
      `save_problems` under `data_dir`, or "starter". Files and the starter
      problems have no splits: `split` only names what they hold. split=None
      takes the only split of a source that has several, or says which exist.
    names: keep only these problems (each must exist).
    languages: keep only these languages' solutions and incorrect solutions
      (default Python 3, as the original ETL); None or "all" keeps all. Problems
      are kept even when none of their solutions remain.
    min_rating, max_rating: Codeforces rating range; problems of unknown rating
      (0) are dropped as soon as a bound is given.
    tags: keep problems with at least one of these cf_tags.
    difficulties: keep these difficulties (letters A-V, EASY.., or ids).
    min_tests: minimum number of tests per kind, e.g. {"private": 5}.
    sample_rate / limit: a random sample (fraction / count) drawn with `seed`,
      after the other filters; rows keep their order.
    cache_dir: where `datasets` keeps its Arrow cache for hub and parquet sources.
    """
    names = _as_list(names)
    language_ids = _language_ids(languages)
    difficulty_ids = None if difficulties is None else {difficulty_id(d) for d in _as_list(difficulties)}
    tag_set = None if tags is None else set(_as_list(tags))
    min_counts = _min_tests(min_tests)
    if sample_rate is not None and limit is not None:
        raise UserError("Give either a sample rate or a limit, not both.")
    if sample_rate is not None and not 0 < sample_rate <= 1:
        raise UserError(f"The sample rate must be in (0, 1], not {sample_rate}.")
    if limit is not None and limit < 1:
        raise UserError(f"The limit must be a positive number of problems, not {limit}.")
    if min_rating is not None and max_rating is not None and min_rating > max_rating:
        raise UserError(f"The minimum rating {min_rating} is above the maximum {max_rating}.")

    ds, label = _read(source, split, data_dir, cache_dir)
    ds = _conform(ds, label)

    import numpy as np
    import pyarrow.compute as pc

    table = ds.data  # freshly loaded: no indices mapping
    keep = np.ones(len(ds), dtype=bool)
    applied = []
    if names is not None:
        all_names = table.column("name").to_pylist()
        missing = sorted(set(names) - set(all_names))
        if missing:
            raise UserError(f"{label} has no problem named {missing[0]!r}.")
        keep &= np.isin(np.array(all_names, dtype=object), np.array(names, dtype=object))
        applied.append("names")
    if min_rating is not None or max_rating is not None:
        rating = table.column("cf_rating").to_numpy(zero_copy_only=False)
        keep &= rating > 0
        if min_rating is not None:
            keep &= rating >= min_rating
        if max_rating is not None:
            keep &= rating <= max_rating
        applied.append("rating")
    if tag_set is not None:
        row_tags = table.column("cf_tags").to_pylist()
        keep &= np.array([bool(tag_set.intersection(t)) for t in row_tags], dtype=bool)
        applied.append("tags")
    if difficulty_ids is not None:
        difficulty = table.column("difficulty").to_numpy(zero_copy_only=False)
        keep &= np.isin(difficulty, list(difficulty_ids))
        applied.append("difficulty")
    for kind, count in min_counts.items():
        inputs = pc.struct_field(table.column(f"{kind}_tests"), "input")
        keep &= pc.list_value_length(inputs).to_numpy(zero_copy_only=False) >= count
        applied.append(f"{kind} tests")
    indices = np.flatnonzero(keep)
    if len(indices) == 0:
        what = f" ({', '.join(applied)})" if applied else ""
        raise UserError(f"The filters{what} select no problem of {label}.")
    if sample_rate is not None or limit is not None:
        size = limit if limit is not None else max(1, round(len(indices) * sample_rate))
        if size < len(indices):
            chosen = np.random.default_rng(seed).choice(len(indices), size=size, replace=False)
            indices = indices[np.sort(chosen)]
    if len(indices) < len(ds):
        ds = ds.select(indices)
    if language_ids is not None and _has_other_languages(ds, language_ids):
        ds = keep_languages(ds, language_ids)
    return ds


def _has_other_languages(ds, ids) -> bool:
    """Whether any solution is in a language outside `ids` (skips a no-op pass over the table)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for column in ("solutions", "incorrect_solutions"):
        flat = pc.list_flatten(pc.struct_field(ds.data.column(column), "language"))
        if len(flat) and not pc.all(pc.is_in(flat, value_set=pa.array(ids, type=flat.type))).as_py():
            return True
    return False


def keep_languages(ds: "datasets.Dataset", languages: Iterable[str | int]) -> "datasets.Dataset":
    """The table with only these languages' solutions and incorrect solutions."""
    ids = sorted({language_id(lang) for lang in languages})
    feats = ds.features

    def batch(table):
        import pyarrow as pa

        for column in ("solutions", "incorrect_solutions"):
            i = table.schema.get_field_index(column)
            table = table.set_column(i, column, _filter_solutions(table.column(column), ids, pa))
        return table

    return ds.with_format("arrow").map(
        batch, batched=True, batch_size=256, features=feats, desc="Keeping languages"
    ).with_format(None)


def _filter_solutions(column, ids, pa):
    """A solutions column (struct of two parallel lists) keeping only some languages."""
    import numpy as np
    import pyarrow.compute as pc

    chunks = []
    for chunk in column.chunks:
        language = pc.struct_field(chunk, "language")
        solution = pc.struct_field(chunk, "solution")
        flat_language = pc.list_flatten(language)
        flat_solution = pc.list_flatten(solution)
        mask = pc.is_in(flat_language, value_set=pa.array(ids, type=flat_language.type))
        parents = pc.list_parent_indices(language).to_numpy(zero_copy_only=False)
        mask_np = mask.to_numpy(zero_copy_only=False)
        counts = np.bincount(parents[mask_np], minlength=len(chunk))
        offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
        chunks.append(
            pa.StructArray.from_arrays(
                [
                    pa.ListArray.from_arrays(offsets, flat_language.filter(mask)),
                    pa.ListArray.from_arrays(offsets, flat_solution.filter(mask)),
                ],
                fields=list(chunk.type),
            )
        )
    return pa.chunked_array(chunks, type=column.type)


def dataset_splits(
    source: str | os.PathLike | Sequence[str | os.PathLike] = HUB_ID,
    *,
    data_dir: str | os.PathLike | None = None,
) -> list[str]:
    """The splits a source holds, without loading them (files and starter: ["train"])."""
    kind, where = _locate(source, data_dir)
    if kind == "disk":
        return _disk_splits(where) or ["train"]
    if kind == "hub":
        return list(_hub_builder(where, None).config.data_files or {})
    return ["train"]


def save_problems(
    ds: "datasets.Dataset", name: str, data_dir: str | os.PathLike, split: str = "train"
) -> Path:
    """Save a problems table under data_dir/name as one split, keeping its other splits."""
    import datasets as hf

    if not name or name == STARTER or name.startswith(".") or re.search(r"[\\/]", name):
        raise UserError(f"{name!r} cannot name a dataset: use letters, digits, '_' or '-'.")
    if not split or re.search(r"[\\/\s]", split):
        raise UserError(f"{split!r} cannot name a split.")
    data_dir = Path(data_dir)
    target = data_dir / name
    splits = {}
    if target.exists():
        if not _disk_splits(target):
            raise UserError(f"{target} exists and is not a dataset saved by acodium: choose another name.")
        old = hf.load_from_disk(str(target))
        splits = {s: old[s] for s in old}  # keeps the splits' order; `split` is replaced in place
    splits[split] = ds.flatten_indices() if ds._indices is not None else ds
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / f".{name}.{uuid.uuid4().hex}.tmp"
    hf.DatasetDict(splits).save_to_disk(str(tmp))
    if target.exists():
        trash = data_dir / f".{name}.{uuid.uuid4().hex}.old"
        os.replace(target, trash)
        os.replace(tmp, target)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, target)
    return target


def saved_names(data_dir: str | os.PathLike | None) -> list[str]:
    """Names of the datasets saved under data_dir."""
    if data_dir is None or not Path(data_dir).is_dir():
        return []
    return sorted(
        p.name for p in Path(data_dir).iterdir() if not p.name.startswith(".") and _disk_splits(p) is not None
    )


# --------------------------------------------------------------------------- sources

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")


def _locate(source, data_dir) -> tuple[str, Any]:
    """What kind of source this is: starter, jsonl, parquet, disk, hub, with where it is."""
    if isinstance(source, (list, tuple)):
        paths = [Path(p) for p in source]
        if not paths:
            raise UserError("The list of files to load is empty.")
        return _files_kind(paths), paths
    if not isinstance(source, (str, os.PathLike)):
        raise UserError(f"A source is a name, a path or a list of paths, not {type(source).__name__}.")
    text = os.fspath(source)
    if text == STARTER:
        return "starter", STARTER_DIR
    if any(c in text for c in "*?["):
        paths = [Path(p) for p in sorted(globlib.glob(text))]
        if not paths:
            raise UserError(f"No file matches {text}.")
        return _files_kind(paths), paths
    path = Path(text).expanduser()
    if path.is_file():
        return _files_kind([path]), [path]
    if path.is_dir():
        if _disk_splits(path) is not None:
            return "disk", path
        patterns = ("*.parquet", "*/*.parquet", "*.jsonl", "*/*.jsonl")
        if any(next(path.glob(pattern), None) for pattern in patterns):
            return "hub", str(path)
        raise UserError(f"{path} is neither a saved dataset nor a folder of parquet or JSONL files.")
    if data_dir is not None and re.fullmatch(r"[\w.-]+", text):
        saved = Path(data_dir) / text
        if saved.is_dir() and _disk_splits(saved) is not None:
            return "disk", saved
    if path.suffix in _JSONL_SUFFIXES + (".parquet",) or os.sep in text and not _HUB_ID.match(text):
        raise UserError(f"No such file: {text}.")
    if _HUB_ID.match(text):
        return "hub", text
    known = saved_names(data_dir)
    where = f" (saved under {data_dir}: {', '.join(known) if known else 'none'})" if data_dir else ""
    raise UserError(
        f"Unknown dataset {text!r}: not a file or folder, not a saved name{where}, "
        f"not {STARTER!r} and not a hub id like {HUB_ID}."
    )


def _files_kind(paths: list[Path]) -> str:
    kinds = set()
    for path in paths:
        if not path.is_file():
            raise UserError(f"No such file: {path}.")
        if path.suffix == ".parquet":
            kinds.add("parquet")
        elif path.suffix in _JSONL_SUFFIXES:
            kinds.add("jsonl")
        else:
            raise UserError(f"Cannot tell the format of {path}: expected a .jsonl or .parquet file.")
    if len(kinds) > 1:
        raise UserError("Give either JSONL or parquet files, not both at once.")
    return kinds.pop()


def _disk_splits(path: Path) -> list[str] | None:
    """Splits of a `save_to_disk` folder ([] for a single Dataset), None if it is not one."""
    path = Path(path)
    if (path / "dataset_dict.json").is_file():
        try:
            return list(json.loads((path / "dataset_dict.json").read_text())["splits"])
        except (OSError, ValueError, KeyError, TypeError):
            raise UserError(f"{path}/dataset_dict.json is unreadable.") from None
    if (path / "state.json").is_file() and (path / "dataset_info.json").is_file():
        return []
    return None


def _read(source, split, data_dir, cache_dir) -> tuple["datasets.Dataset", str]:
    kind, where = _locate(source, data_dir)
    if kind == "starter":
        return _starter_dataset(), "the starter problems"
    if kind == "jsonl":
        return _read_jsonl(where), _label(where)
    if kind == "parquet":
        return _read_parquet(where, cache_dir), _label(where)
    if kind == "disk":
        return _read_disk(where, split), str(where)
    return _read_hub(where, split, cache_dir), f"{where} ({split})"


def _label(paths: list[Path]) -> str:
    return str(paths[0]) if len(paths) == 1 else f"{paths[0]} and {len(paths) - 1} more files"


def _choose_split(split: str | None, available: list[str], label: str) -> str:
    if split is None:
        if len(available) == 1:
            return available[0]
        raise UserError(f"{label} has several splits ({', '.join(available)}): choose one.")
    if split not in available:
        raise UserError(f"{label} has no split {split!r} (it has {', '.join(available) or 'none'}).")
    return split


def _read_disk(path: Path, split: str | None) -> "datasets.Dataset":
    import datasets as hf

    try:
        loaded = hf.load_from_disk(str(path))
    except (OSError, ValueError) as e:
        raise UserError(f"Cannot read the saved dataset {path}: {_first_line(e)}.") from None
    if isinstance(loaded, hf.DatasetDict):
        return loaded[_choose_split(split, list(loaded), str(path))]
    return loaded


def _hub_builder(path: str, cache_dir):
    import datasets as hf

    try:
        return hf.load_dataset_builder(path, cache_dir=None if cache_dir is None else str(cache_dir))
    except Exception as e:  # the hub library raises many kinds; the user needs one sentence
        raise UserError(f"Cannot load the dataset {path!r}: {_first_line(e)}.") from None


def _read_hub(path: str, split: str | None, cache_dir) -> "datasets.Dataset":
    """One split of a hub dataset (or a local folder laid out like one), fetching only that split."""
    import datasets as hf

    builder = _hub_builder(path, cache_dir)
    data_files = builder.config.data_files
    if not data_files:
        raise UserError(f"Cannot find data files in the dataset {path!r}.")
    split = _choose_split(split, list(data_files), path)
    try:
        return hf.load_dataset(
            path,
            data_files={split: list(data_files[split])},
            split=split,
            cache_dir=None if cache_dir is None else str(cache_dir),
        )
    except Exception as e:
        raise UserError(f"Cannot load split {split!r} of {path!r}: {_first_line(e)}.") from None


def _read_parquet(paths: list[Path], cache_dir) -> "datasets.Dataset":
    import datasets as hf
    import pyarrow.parquet as pq

    for path in paths:
        try:
            pq.read_schema(path)
        except (OSError, ValueError) as e:
            raise UserError(f"Cannot read {path} as parquet: {_first_line(e)}.") from None
    try:
        return hf.load_dataset(
            "parquet",
            data_files=[str(p) for p in paths],
            split="train",
            cache_dir=None if cache_dir is None else str(cache_dir),
        )
    except Exception as e:
        raise UserError(f"Cannot read {_label(paths)} as parquet: {_first_line(e)}.") from None


def _read_jsonl(paths: list[Path]) -> "datasets.Dataset":
    import datasets as hf

    rows = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as fh:
                for number, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    where = f"Line {number} of {path}"
                    try:
                        obj = json.loads(line)
                    except json.JSONDecodeError as e:
                        raise UserError(f"{where} is not valid JSON ({e.msg}).") from None
                    rows.append(normalise_row(obj, where))
        except (OSError, UnicodeDecodeError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            raise UserError(f"Cannot read {path}: {reason}.") from None
    if not rows:
        raise UserError(f"{_label(paths)} holds no problems.")
    return hf.Dataset.from_list(rows, features=features())


# --------------------------------------------------------------------------- schema


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__).rstrip(".")


_MISSING = object()


def normalise_row(obj: Any, where: str) -> dict:
    """A JSON problem as a schema row, or a UserError naming `where` and the field.

    Missing optional fields become empty or unknown; a time limit may be given
    as {seconds, nanos}, as a number of seconds, or null (unknown).
    """
    if not isinstance(obj, dict):
        raise UserError(f"{where} is not a JSON object.")
    unknown = [k for k in obj if k not in COLUMNS]
    if unknown:
        raise UserError(f"{where} has a field {unknown[0]!r} that is not in the code_contests schema.")
    row = {}
    for field in COLUMNS:
        value = obj.get(field, _MISSING)
        if value is _MISSING and field in REQUIRED_COLUMNS:
            raise UserError(f"{where} lacks the field {field!r}.")
        row[field] = _CHECKS[field](value, f"{where}: field {field!r}")
    return row


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


def _tests(value, where):
    if value is _MISSING:
        return {"input": [], "output": []}
    if not isinstance(value, dict) or set(value) != {"input", "output"}:
        raise _bad(where, "an object with lists 'input' and 'output'", value)
    inputs = _strings(value["input"], f"{where}.input")
    outputs = _strings(value["output"], f"{where}.output")
    if len(inputs) != len(outputs):
        raise UserError(f"{where} has {len(inputs)} inputs but {len(outputs)} outputs.")
    return {"input": inputs, "output": outputs}


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


_CHECKS = {
    "name": _string,
    "description": _string,
    "public_tests": _tests,
    "private_tests": _tests,
    "generated_tests": _tests,
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


def _conform(ds: "datasets.Dataset", label: str) -> "datasets.Dataset":
    """Cast an Arrow-backed source to the schema and check its rows (JSONL is checked as read)."""
    feats = features()
    if ds._indices is not None:  # a saved selection: the checks below read the table itself
        ds = ds.flatten_indices()
    if ds.features == feats:
        _check_rows(ds, label)
        return ds
    columns = ds.column_names
    for column in columns:
        if column not in feats:
            raise UserError(f"{label} has a column {column!r} that is not in the code_contests schema.")
    for column in REQUIRED_COLUMNS:
        if column not in columns:
            raise UserError(f"{label} lacks the column {column!r}.")
    for column in COLUMNS:
        if column not in columns:
            default = _CHECKS[column](_MISSING, column)
            ds = ds.add_column(column, [default] * len(ds), feature=feats[column])
    ds = ds.select_columns(COLUMNS)
    try:
        ds = ds.cast(feats)
    except Exception:
        # Name the column that does not fit (only on this error path: costs a pass per column).
        for column in COLUMNS:
            try:
                ds.cast_column(column, feats[column])
            except Exception:
                raise UserError(
                    f"{label}: column {column!r} has type {ds.features[column]}, which does not fit "
                    f"the schema's {feats[column]}."
                ) from None
        raise UserError(f"{label} does not fit the code_contests schema.") from None
    _check_rows(ds, label)
    return ds


def _check_rows(ds: "datasets.Dataset", label: str) -> None:
    """The row-level rules an Arrow cast cannot check, vectorised (fast on the full hub split)."""
    import numpy as np
    import pyarrow.compute as pc

    table = ds.data

    def fail(mask, message):
        mask = np.asarray(mask)
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            name = table.column("name")[i].as_py()
            raise UserError(f"Row {i} ({name!r}) of {label}: {message}.")

    def values(array):
        return array.to_numpy(zero_copy_only=False)

    name = table.column("name")
    fail(values(pc.or_kleene(pc.is_null(name), pc.equal(pc.fill_null(name, ""), ""))), "the field 'name' is empty")
    fail(values(pc.is_null(table.column("description"))), "the field 'description' is null")
    for kind in TEST_KINDS:
        column = table.column(f"{kind}_tests")
        fail(values(pc.is_null(column)), f"the field '{kind}_tests' is null")
        n_in = values(pc.fill_null(pc.list_value_length(pc.struct_field(column, "input")), 0))
        n_out = values(pc.fill_null(pc.list_value_length(pc.struct_field(column, "output")), 0))
        fail(n_in != n_out, f"the field '{kind}_tests' has inputs and outputs of different counts")
    for field in ("solutions", "incorrect_solutions"):
        column = table.column(field)
        fail(values(pc.is_null(column)), f"the field {field!r} is null")
        language = pc.struct_field(column, "language")
        n_lang = values(pc.fill_null(pc.list_value_length(language), 0))
        n_code = values(pc.fill_null(pc.list_value_length(pc.struct_field(column, "solution")), 0))
        fail(n_lang != n_code, f"the field {field!r} has languages and solutions of different counts")
        flat = pc.list_flatten(language)
        if len(flat):
            bad = pc.or_kleene(pc.less(flat, 0), pc.greater(flat, len(LANGUAGE_ENUM_NAMES) - 1))
            parents = values(pc.list_parent_indices(language))
            fail(np.isin(np.arange(len(table)), parents[values(pc.fill_null(bad, True))]),
                 f"the field '{field}.language' holds an id outside 0-4")
    for field, names in (("source", SOURCE_NAMES), ("difficulty", DIFFICULTY_NAMES)):
        ids = values(pc.fill_null(table.column(field), -1))
        fail((ids < 0) | (ids >= len(names)), f"the field {field!r} is not an id 0-{len(names) - 1}")


# --------------------------------------------------------------------------- starter


def starter_rows(root: str | os.PathLike = STARTER_DIR) -> list[dict]:
    """The starter problems as schema rows, assembled from their folders.

    Each folder holds problem.toml (name and metadata), problem.md (the
    statement), tests/{public,private}/NN.in|.out, and solutions/ with
    correct_*.py|.cpp and incorrect_*.py files.
    """
    rows = []
    for folder in sorted(p for p in Path(root).iterdir() if (p / "problem.toml").is_file()):
        meta = tomllib.loads((folder / "problem.toml").read_text())
        solutions: dict[str, dict[str, list]] = {
            "correct": {"language": [], "solution": []},
            "incorrect": {"language": [], "solution": []},
        }
        for path in sorted((folder / "solutions").iterdir()):
            verdict = path.name.split("_", 1)[0]
            if verdict in solutions and path.suffix in LANGUAGE_OF_SUFFIX:
                solutions[verdict]["language"].append(LANGUAGE_NAMES[LANGUAGE_OF_SUFFIX[path.suffix]])
                solutions[verdict]["solution"].append(path.read_text())
        obj = {
            "name": meta["name"],
            "description": (folder / "problem.md").read_text(),
            **{f"{kind}_tests": _read_tests(folder / "tests" / kind) for kind in TEST_KINDS},
            "source": 0,
            "difficulty": meta["difficulty"],
            "solutions": solutions["correct"],
            "incorrect_solutions": solutions["incorrect"],
            "cf_contest_id": meta.get("cf_contest_id", 0),
            "cf_index": meta.get("cf_index", ""),
            "cf_rating": meta["cf_rating"],
            "cf_tags": meta["cf_tags"],
            "time_limit": meta["time_limit_s"],
            "memory_limit_bytes": meta["memory_limit_mb"] * 1024 * 1024,
        }
        rows.append(normalise_row(obj, f"Starter problem {folder.name}"))
    return rows


def _read_tests(folder: Path) -> dict[str, list[str]]:
    inputs = sorted(folder.glob("*.in")) if folder.is_dir() else []
    return {
        "input": [p.read_text() for p in inputs],
        "output": [p.with_suffix(".out").read_text() for p in inputs],
    }


def _starter_dataset() -> "datasets.Dataset":
    import datasets as hf

    return hf.Dataset.from_list(starter_rows(), features=features())


# --------------------------------------------------------------------------- helpers


def _as_list(value) -> list | None:
    if value is None:
        return None
    if isinstance(value, (str, int)):
        return [value]
    return list(value)


def _language_ids(languages) -> list[int] | None:
    if languages is None or languages == "all" or languages == ["all"] or languages == ("all",):
        return None
    ids = sorted({language_id(lang) for lang in _as_list(languages)})
    if not ids:
        raise UserError("Give at least one language, or 'all'.")
    return ids


def _min_tests(min_tests) -> dict[str, int]:
    counts = {}
    for kind, count in (min_tests or {}).items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise UserError(f"The minimum number of {kind} tests must be a whole number, not {count!r}.")
        counts[test_kind(kind)] = count
    return counts
