"""What a run folder was run on: the dataset, its split and the problems, recorded so that the folder
alone is enough to score its candidates again (`gencode eval pass_at_k --dataset_name RUN`).

The problems are the benchmark: one the source gave nothing for still counts (as
unsolved), so the record lists every problem of the run, not those with
candidates. The content fingerprint of those problems (names and tests,
`acodium.data.dataset_fingerprint`) is recorded too: scoring the folder against a
dataset that changed since (another file under the same name, tests edited) is
refused instead of scoring old candidates on new tests.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..data import dataset_fingerprint, load_problems, problem_rows
from ..errors import UserError
from ..tables import PROBLEMS_RECORD_FILE, write_json


def dataset_reference(dataset: str | os.PathLike) -> str:
    """How a record names a dataset: a file or folder by its absolute path (a later command may run
    elsewhere), anything else (a saved name, "starter", a hub id) as given."""
    path = Path(dataset).expanduser()
    return str(path.resolve()) if path.exists() else str(dataset)


def _names(problems: Any) -> list[str]:
    if hasattr(problems, "column_names") and hasattr(problems, "select_columns"):  # a Dataset: names only
        return [str(name) for name in problems["name"]]
    return list(problem_rows(problems))


def read_problem_record(run_dir: str | os.PathLike) -> dict | None:
    """The record a run folder holds, or None (a folder from before records, or not a generation's)."""
    path = Path(run_dir) / PROBLEMS_RECORD_FILE
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise UserError(f"The record of the run folder's problems {path} cannot be read ({e}); "
                        "give the problems with --problems.") from None
    if not isinstance(record, dict) or not isinstance(record.get("problems"), list):
        raise UserError(f"{path} is not a record of problems (no list of problems); give them with --problems.")
    return record


def problem_record(run_dir: str | os.PathLike, problems: Any, *, dataset: str | os.PathLike,
                   split: str | None) -> dict:
    """The record of a run on `problems` (dataset, split, problem names, fingerprint), checked
    against the one run_dir holds: a folder of a run on another dataset or split is refused
    (its candidates would be mixed with this one's); the same dataset with other problems
    (another --limit) is a new record, as the generation's table is a new table. Nothing is
    written: `save_problem_record` does, once the run has begun."""
    record = {"dataset": dataset_reference(dataset), "split": split, "problems": _names(problems),
              "fingerprint": dataset_fingerprint(problems)}
    old = read_problem_record(run_dir)
    if old is not None and (old.get("dataset"), old.get("split")) != (record["dataset"], record["split"]):
        raise UserError(f"The run folder {run_dir} holds a run on {old.get('dataset')} (split {old.get('split')}), "
                        f"not {record['dataset']} (split {split}); use a new folder or the same dataset.")
    return record


def save_problem_record(run_dir: str | os.PathLike, record: dict) -> Path:
    """Write run_dir/problems.json."""
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    return write_json(record, Path(run_dir) / PROBLEMS_RECORD_FILE)


def recorded_problems(run_dir: str | os.PathLike, record: dict, *, problems: str | os.PathLike | None = None,
                      data_dir: str | os.PathLike | None = None) -> dict[str, dict]:
    """The recorded problems by name, in the record's order, loaded from `problems` when given, else
    from the recorded dataset, and checked against the record: every problem there, tests unchanged."""
    source = problems if problems is not None else record.get("dataset")
    split = record.get("split")
    try:
        rows = problem_rows(load_problems(source, split, data_dir=data_dir, languages="all"))
    except UserError as e:
        if problems is not None:
            raise
        raise UserError(f"The problems of {run_dir} ({source}, split {split}) cannot be loaded now "
                        f"({str(e).rstrip('.')}); give them with --problems.") from None
    names = [str(name) for name in record["problems"]]
    missing = [name for name in names if name not in rows]
    if missing:
        raise UserError(f"{len(missing)} of the {len(names)} problems {run_dir} was run on are not in {source} "
                        f"(for instance {missing[0]!r}); give the dataset it was run on with --problems.")
    chosen = {name: rows[name] for name in names}
    if record.get("fingerprint") and dataset_fingerprint(list(chosen.values())) != record["fingerprint"]:
        raise UserError(f"The tests of the problems {run_dir} was run on differ in {source} from those recorded "
                        "when it ran (the dataset changed); give the dataset it was run on with --problems.")
    return chosen
