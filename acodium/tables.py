"""The tables that pass between stages, and an append-only log to write them as work goes.

Column lists follow DESIGN.md. Long work (generation, evaluation) appends rows
to a JSONL log as each unit finishes, so a crash or Ctrl-C loses nothing and a
re-run skips what is already there; `finish` turns the log into parquet.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Iterator

import pandas as pd

from .errors import UserError

CANDIDATES = ["problem", "candidate_id", "language", "code", "source", "meta"]
EXECUTIONS = [
    "problem", "candidate_id", "program_hash", "test_set", "test_index",
    "status", "passed", "output_hash", "time_s",
]
JUDGEMENTS = ["problem", "candidate_id", "passes_public", "correct", "cluster", "submitted_rank"]
METRICS = ["problem", "n", "k", "value", "ci_low", "ci_high"]


def require_columns(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise a UserError naming the missing columns of a table."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise UserError(f"The {what} table lacks the column(s) {', '.join(missing)}.")


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a table saved as parquet or JSONL (or a run folder's log of it)."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"No table at {path}.")
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        if path.suffix in (".jsonl", ".json"):
            return pd.read_json(path, lines=True, dtype=False)
    except (ValueError, OSError) as e:
        raise UserError(f"Cannot read the table {path}: {e}.") from None
    raise UserError(f"{path} is neither a .parquet nor a .jsonl table.")


def write_table(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a table as parquet, atomically (a crash never leaves half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path


class AppendLog:
    """Rows appended to a JSONL file, flushed per write, readable while written.

    A torn last line (the process died mid-write) is ignored on reading, so a
    resumed run simply does that unit again.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = None

    def rows(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    continue  # a torn last line from an interrupted run

    def keys(self, *columns: str) -> set[tuple]:
        """The set of key tuples already written: what a resumed run skips."""
        return {tuple(r.get(c) for c in columns) for r in self.rows()}

    def append(self, rows: Iterable[dict[str, Any]]) -> None:
        if self._fh is None:
            self._repair_tail()
            self._fh = open(self.path, "a", encoding="utf-8")
        for row in rows:
            self._fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        self._fh.flush()

    def _repair_tail(self) -> None:
        """Cut a torn last line so that appended rows start on a line of their own."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with open(self.path, "rb+") as fh:
            data = fh.read()
            if data.endswith(b"\n"):
                return
            fh.truncate(data.rfind(b"\n") + 1)

    def frame(self, columns: list[str] | None = None) -> pd.DataFrame:
        df = pd.DataFrame(list(self.rows()))
        if columns is not None and df.empty:
            df = pd.DataFrame(columns=columns)
        return df

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> "AppendLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
