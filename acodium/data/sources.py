"""Finding and reading a problems source: hub id, save_to_disk folder, parquet, JSONL, saved name, starter.

`read_source` tells what a source is from its text alone (a path, a glob, a
list of files, a name under data_dir, a hub id) and reads it as a
`datasets.Dataset`, not yet cast to the schema (see `table_checks.conform`).
From the hub only the split asked for is fetched: the full dataset is many
gigabytes. Every failure (no such file, unreadable parquet, unknown split) is
one sentence that says which source and why.
"""

from __future__ import annotations

import glob as globlib
import json
import os
import re
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from ..errors import UserError
from .adapters import ADAPTERS, adapt_rows, foreign_schema
from .row_checks import align_extras, normalise_row
from .saved import STARTER, disk_splits, saved_names
from .schema import features
from .starter import STARTER_DIR, starter_dataset

if TYPE_CHECKING:
    import datasets

HUB_ID = "deepmind/code_contests"

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
_FILE_SUFFIXES = _JSONL_SUFFIXES + (".parquet",)


def first_line(e: BaseException) -> str:
    """An exception's first line, for a one-sentence message."""
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__).rstrip(".")


def locate(source, data_dir) -> tuple[str, Any]:
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
        if disk_splits(path) is not None:
            return "disk", path
        patterns = ("*.parquet", "*/*.parquet", "*.jsonl", "*/*.jsonl")
        if any(next(path.glob(pattern), None) for pattern in patterns):
            return "hub", str(path)
        raise UserError(f"{path} is neither a saved dataset nor a folder of parquet or JSONL files.")
    if data_dir is not None and re.fullmatch(r"[\w.-]+", text):
        saved = Path(data_dir) / text
        if saved.is_dir() and disk_splits(saved) is not None:
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


def read_source(source, split, data_dir, cache_dir) -> tuple["datasets.Dataset", str]:
    """The source's table (one split) and a label naming it in messages."""
    kind, where = locate(source, data_dir)
    if kind == "starter":
        return starter_dataset(), "the starter problems"
    if kind in ("jsonl", "parquet"):
        dataset = _file_schema(kind, where)
        if dataset is not None:
            return _read_foreign_files(kind, where, dataset), f"{_label(where)} ({dataset})"
    if kind == "jsonl":
        return _read_jsonl(where), _label(where)
    if kind == "parquet":
        return _read_parquet(where, cache_dir), _label(where)
    if kind == "hub" and where in ADAPTERS:
        return _read_foreign_hub(where, split, cache_dir), f"{where} ({split})"
    if kind == "disk":
        return _read_disk(where, split), str(where)
    return _read_hub(where, split, cache_dir), f"{where} ({split})"


def dataset_splits(
    source: str | os.PathLike | Sequence[str | os.PathLike] = HUB_ID,
    *,
    data_dir: str | os.PathLike | None = None,
) -> list[str]:
    """The splits a source holds, without loading them (files and starter: ["train"])."""
    kind, where = locate(source, data_dir)
    if kind == "disk":
        return disk_splits(where) or ["train"]
    if kind == "hub":
        return list(_hub_builder(where, None).config.data_files or {})
    return ["train"]


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
        raise UserError(f"Cannot read the saved dataset {path}: {first_line(e)}.") from None
    if isinstance(loaded, hf.DatasetDict):
        return loaded[_choose_split(split, list(loaded), str(path))]
    return loaded


def _offline() -> bool:
    """Whether `datasets` runs offline: its own setting, read from the environment when it was imported."""
    import datasets as hf

    return bool(hf.config.HF_HUB_OFFLINE)


def check_hub_reachable(path: str, timeout_s: float = 3.0) -> None:
    """Fail in seconds, in one sentence, when the hub cannot be reached (instead of `datasets`' long retries).

    Offline mode (HF_HUB_OFFLINE=1) is left to `datasets`, which then reads its
    cache and fails at once when the dataset is not there.
    """
    if _offline() or Path(path).is_dir():
        return
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    host = re.sub(r"^\w+://", "", endpoint).split("/")[0]
    name, _, port = host.partition(":")
    try:
        socket.create_connection((name, int(port or 443)), timeout=timeout_s).close()
    except (OSError, ValueError):
        raise UserError(
            f"Cannot load the dataset {path!r}: the hub ({name}) is unreachable; give local files, "
            "or set HF_HUB_OFFLINE=1 to read a cached copy."
        ) from None


def _hub_builder(path: str, cache_dir):
    import datasets as hf

    check_hub_reachable(path)
    try:
        return hf.load_dataset_builder(path, cache_dir=None if cache_dir is None else str(cache_dir))
    except Exception as e:  # the hub library raises many kinds; the user needs one sentence
        raise UserError(f"Cannot load the dataset {path!r}: {first_line(e)}.") from None


def _read_hub(path: str, split: str | None, cache_dir) -> "datasets.Dataset":
    """One split of a hub dataset (or a local folder laid out like one), fetching only that split."""
    import datasets as hf

    builder = _hub_builder(path, cache_dir)
    data_files = builder.config.data_files
    if not data_files:
        raise UserError(f"Cannot find data files in the dataset {path!r}.")
    split = _choose_split(split, list(data_files), path)
    if Path(path).is_dir():  # a local copy of a dataset with checkers (its files, in its own schema)
        files = [Path(f) for f in data_files[split]]
        kinds = {"parquet" if f.suffix == ".parquet" else "jsonl" for f in files if f.suffix in _FILE_SUFFIXES}
        if len(kinds) == 1 and len(files) == len([f for f in files if f.suffix in _FILE_SUFFIXES]):
            kind = kinds.pop()
            dataset = _file_schema(kind, files, quiet=True)
            if dataset is not None:
                return _read_foreign_files(kind, files, dataset)
    try:
        return hf.load_dataset(
            path,
            data_files={split: list(data_files[split])},
            split=split,
            cache_dir=None if cache_dir is None else str(cache_dir),
        )
    except Exception as e:
        raise UserError(f"Cannot load split {split!r} of {path!r}: {first_line(e)}.") from None


def _read_parquet(paths: list[Path], cache_dir) -> "datasets.Dataset":
    import datasets as hf
    import pyarrow.parquet as pq

    for path in paths:
        try:
            pq.read_schema(path)
        except (OSError, ValueError) as e:
            raise UserError(f"Cannot read {path} as parquet: {first_line(e)}.") from None
    try:
        return hf.load_dataset(
            "parquet",
            data_files=[str(p) for p in paths],
            split="train",
            cache_dir=None if cache_dir is None else str(cache_dir),
        )
    except Exception as e:
        raise UserError(f"Cannot read {_label(paths)} as parquet: {first_line(e)}.") from None


def _read_jsonl(paths: list[Path]) -> "datasets.Dataset":
    """JSONL files, checked line by line as they are read (a bad line is named by its number)."""
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
    return hf.Dataset.from_list(rows, features=features(align_extras(rows)))


def _file_schema(kind: str, paths: list[Path], quiet: bool = False) -> str | None:
    """Which dataset with checkers (`adapters`) the files are in, from the first file's columns.

    An unreadable parquet file is reported here, or (quiet) left to the reader that follows.
    """
    import pyarrow.parquet as pq

    path = paths[0]
    if kind == "parquet":
        try:
            return foreign_schema(pq.read_schema(path).names)
        except (OSError, ValueError) as e:
            if quiet:
                return None
            raise UserError(f"Cannot read {path} as parquet: {first_line(e)}.") from None
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    obj = json.loads(line)
                    return foreign_schema(obj) if isinstance(obj, dict) else None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None  # the JSONL reader names the problem
    return None


def _foreign_dataset(rows: list[dict], label: str) -> "datasets.Dataset":
    import datasets as hf

    if not rows:
        raise UserError(f"{label} holds no problems acodium can judge.")
    return hf.Dataset.from_list(rows, features=features(align_extras(rows)))


def _read_foreign_files(kind: str, paths: list[Path], dataset: str) -> "datasets.Dataset":
    """Local files in CodeContests+, CodeContests-O or open-r1/codeforces' schema, onto the problems table."""
    import pyarrow.parquet as pq

    rows: list[dict] = []
    for path in paths:
        if kind == "parquet":
            try:
                raw = pq.read_table(path).to_pylist()
            except (OSError, ValueError) as e:
                raise UserError(f"Cannot read {path} as parquet: {first_line(e)}.") from None
        else:
            raw = []
            with open(path, encoding="utf-8") as fh:
                for number, line in enumerate(fh, 1):
                    if line.strip():
                        try:
                            raw.append(json.loads(line))
                        except json.JSONDecodeError as e:
                            raise UserError(f"Line {number} of {path} is not valid JSON ({e.msg}).") from None
        rows += adapt_rows(raw, dataset, str(path))
    return _foreign_dataset(rows, _label(paths))


def _read_foreign_hub(path: str, split: str | None, cache_dir) -> "datasets.Dataset":
    """One split of a dataset with checkers from the hub, onto the problems table."""
    import datasets as hf

    check_hub_reachable(path)
    try:
        raw = hf.load_dataset(path, split=split or "train",
                              cache_dir=None if cache_dir is None else str(cache_dir))
    except Exception as e:  # the hub library raises many kinds; the user needs one sentence
        raise UserError(f"Cannot load the dataset {path!r} ({split}): {first_line(e)}.") from None
    return _foreign_dataset(adapt_rows(raw, path, f"{path} ({split})"), path)
