"""The tables that pass between stages, and an append-only log to write them as work goes.

Column lists follow docs/semantics.md. Long work (generation, evaluation) appends rows
to a JSONL log as each unit finishes, so a crash or Ctrl-C loses nothing and a
re-run skips what is already there; `finish` turns the log into parquet.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import threading
import uuid
from pathlib import Path
from typing import Any, Iterable, Iterator

import pandas as pd

from .errors import UserError

CANDIDATES = ["problem", "candidate_id", "language", "code", "source", "meta"]
EXECUTIONS = [
    "problem", "candidate_id", "program_hash", "test_set", "test_index",
    "status", "passed", "output_hash", "time_s", "checker", "checker_message",
]
# A scoring run keeps its executions by program (identical candidates run once) and which program each
# candidate with code is; `acodium.evaluation.candidate_executions` makes EXECUTIONS of the two.
PROGRAM_EXECUTIONS = [c for c in EXECUTIONS if c != "candidate_id"]
PROGRAMS = ["problem", "candidate_id", "program_hash"]
JUDGEMENTS = ["problem", "candidate_id", "passes_public", "correct", "cluster", "submitted_rank", "slow"]
METRICS = ["problem", "n", "k", "value", "ci_low", "ci_high"]

# A run folder's files, one name each, whoever writes or reads them.
CANDIDATES_LOG = "candidates.jsonl"          # candidates as they arrive (generation resumes from it)
CANDIDATES_FILE = "candidates.parquet"       # the finished candidates table
ERRORS_LOG = "generation_errors.jsonl"       # samples that failed (LLM errors), for the report
GENERATION_CONFIG_FILE = "generation.json"   # the source's settings: a resumed run must match them
PROBLEMS_RECORD_FILE = "problems.json"       # the dataset, split and problems a run was made on
EXECUTIONS_LOG = "executions.jsonl"          # one row per test run, as they finish
EXECUTIONS_FILE = "executions.parquet"        # (a scoring run's: by program, PROGRAM_EXECUTIONS)
PROGRAMS_FILE = "programs.parquet"           # a scoring run's PROGRAMS: which program each candidate is
EXECUTIONS_STORE = "executions.sqlite"       # a scoring run's executions by program as they finish (resumes)
JUDGEMENTS_FILE = "judgements.parquet"
METRICS_FILE = "metrics.parquet"
SUMMARY_FILE = "summary.json"
SCORER_CALLS_FILE = "scorer_calls.json"      # a model scorer's calls: what each cost and gave (model_scorer)
SETTINGS_FILE = "settings.json"              # the settings that decide a verdict, checked on re-use
# A notebook's run folder (one per sweep run): its saved tables and figures, and what it loaded.
TABLES_DIR = "tables"                        # TABLES_DIR/NAME.parquet (`acodium.notebook.save_tables`)
FIGURES_DIR = "figures"                      # FIGURES_DIR/NAME.png and .svg (`acodium.plots.save_figure`)
DATASET_FILE = "dataset.json"                # source, split, size, fingerprint (`notebook.save_dataset_info`)


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


# Errors that mean "no room to write", not "this file is wrong".
_NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def no_room(path: str | os.PathLike, error: OSError) -> UserError:
    """The sentence for a write that found no room (a full disk, a quota, a file size limit)."""
    return UserError(f"There is no room left to write {path} ({error.strerror}): free some disk space "
                     "and run again; everything written before is kept.")


def _atomic_write(path: str | os.PathLike, write) -> Path:
    """`write(temp_path)`, then rename over `path`: a crash never leaves half a file.

    The temporary file has a unique name in the same folder, so two processes
    writing the same table never write into each other's file (a fixed
    `NAME.tmp` made 26 to 69 of 300 concurrent writes fail).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # not mkstemp: its 0600 mode would stay on the table; the writer creates it under the umask
    tmp = str(path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as e:
        if e.errno in _NO_ROOM:
            raise no_room(path, e) from None
        raise
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def write_table(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a table as parquet, atomically (a crash never leaves half a file)."""
    return _atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))


def write_json(obj: Any, path: str | os.PathLike) -> Path:
    """Write an object as indented JSON, atomically, like `write_table`."""
    text = json.dumps(obj, indent=2, default=str) + "\n"
    return _atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


class AppendLog:
    """Rows appended to a JSONL file, each append one unbuffered write, readable while written.

    A row counts once its closing newline is written: a last line without one
    (the process died mid-write, even inside a multi-byte character) is
    ignored on reading and cut before the next append, so a resumed run
    simply does that unit again. A damaged line elsewhere (not UTF-8, not a
    JSON object) is skipped too and its number kept in `damaged`, for the
    caller to report; callers check the fields of the rows they read.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = None
        self.damaged: list[int] = []  # line numbers (from 1) of damaged lines, set by `rows`

    def numbered_rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(line number, row) for every whole, readable line; damaged lines go to `damaged`."""
        self.damaged = []
        if not self.path.exists():
            return
        with open(self.path, "rb") as fh:
            for number, line in enumerate(fh, 1):
                if not line.endswith(b"\n"):
                    return  # a torn last line: that unit is done again
                try:
                    row = json.loads(line.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError):
                    row = None
                if isinstance(row, dict):
                    yield number, row
                elif line.strip():
                    self.damaged.append(number)

    def rows(self) -> Iterator[dict[str, Any]]:
        for _, row in self.numbered_rows():
            yield row

    def keys(self, *columns: str) -> set[tuple]:
        """The set of key tuples already written: what a resumed run skips."""
        return {tuple(r.get(c) for c in columns) for r in self.rows()}

    def append(self, rows: Iterable[dict[str, Any]]) -> None:
        """Append rows, each with one unbuffered write, so nothing waits in a buffer to be lost."""
        data = b"".join(_line(row) for row in rows)
        try:
            if self._fh is None:
                self._repair_tail()
                self._fh = open(self.path, "ab", buffering=0)
            view = memoryview(data)
            while view:
                view = view[self._fh.write(view):]
        except OSError as e:
            if e.errno in _NO_ROOM:
                raise no_room(self.path, e) from None
            raise

    def _repair_tail(self) -> None:
        """Cut a torn last line so that appended rows start on a line of their own."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with open(self.path, "rb+") as fh:
            end = fh.seek(0, os.SEEK_END)
            fh.seek(end - 1)
            if fh.read(1) == b"\n":
                return
            pos = end
            while pos > 0:  # back to the last newline, a block at a time (logs grow large)
                start = max(0, pos - (1 << 20))
                fh.seek(start)
                cut = fh.read(pos - start).rfind(b"\n")
                if cut >= 0:
                    fh.truncate(start + cut + 1)
                    return
                pos = start
            fh.truncate(0)

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


def _line(row: dict[str, Any]) -> bytes:
    text = json.dumps(row, ensure_ascii=False, default=str)
    try:
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: escaped, so the line stays valid UTF-8
        return (json.dumps(row, default=str) + "\n").encode("ascii")


# --------------------------------------------------------------------------- one process per run folder


LOCK_FILE = ".lock"
_held: dict[str, list] = {}  # resolved folder -> [open lock file, depth]
_held_guard = threading.Lock()


@contextlib.contextmanager
def run_folder_lock(folder: str | os.PathLike) -> Iterator[Path]:
    """Hold FOLDER/.lock (an flock) while a run writes the folder; refuse if another process holds it.

    Two processes resuming one run folder would run the same jobs twice and
    interleave their tables; the second is refused at once with the first's
    pid rather than left waiting, silently, for a run that may take hours.
    The lock is re-entrant within a process (an evaluation inside a
    generation run) and released by the kernel if the process dies.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = str(folder.resolve())
    with _held_guard:
        held = _held.get(key)
        if held is not None:
            held[1] += 1
        else:
            fh = open(folder / LOCK_FILE, "a+")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                pid = fh.read().strip() or "unknown"
                fh.close()
                raise UserError(f"The run folder {folder} is in use by another process (pid {pid}): "
                                "wait for it to end, or choose another folder.") from None
            try:
                fh.seek(0)
                fh.truncate()
                fh.write(f"{os.getpid()}\n")
                fh.flush()
            except OSError as e:  # the pid only informs a refused process; a full disk must not stop the run
                if e.errno not in _NO_ROOM:
                    raise
            _held[key] = [fh, 1]
    try:
        yield folder
    finally:
        with _held_guard:
            held = _held[key]
            held[1] -= 1
            if held[1] == 0:
                del _held[key]
                held[0].close()  # closing the file releases the flock
