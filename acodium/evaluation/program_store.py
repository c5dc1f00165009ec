"""Executions by program, on disk: what a scoring run folder keeps so that a killed run resumes.

One row per (problem, program, test): identical programs of a pool run once and
are stored once; candidates point at their program through the PROGRAMS table
(problem, candidate_id, program_hash). Rows sit in `executions.sqlite` (SQLite in
WAL mode: each batch of rows is one transaction, so a kill loses at most the
rows of the last half second and never leaves half a row), keyed like the
executions log's rows (`run_folder.row_key`: program, input, expected output,
limits, backend and checker with their versions): a resumed run reuses a row
only under the key it would make now. Nothing is held in memory but the rows
asked for, so the store's cost is flat in the pool's size.

A run folder made before (per-candidate rows in executions.jsonl) is read once
into the store when it is first opened: its rows carry the same keys.

`start_phase` opens a store with its settings.json (what decides its rows, and
the schedule: one per run folder); `candidate_executions` turns the by-program
table back into the per-candidate one.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

import pandas as pd

from ..errors import UserError
from ..execute import Execution
from ..execute.types import sha256
from ..tables import (EXECUTIONS, EXECUTIONS_FILE, EXECUTIONS_LOG, EXECUTIONS_STORE, JUDGEMENTS_FILE, METRICS_FILE,
                      PROGRAMS_FILE, SETTINGS_FILE, SUMMARY_FILE, AppendLog, write_json)
from .executions import RunStats
from .run_folder import CHECKER_VERSION, changed_settings, fingerprint, previous_settings, valid_row

if TYPE_CHECKING:
    from .pool import Survey

# The columns of a stored row (and of the by-program EXECUTIONS table, with key left out).
ROW = ("key", "problem", "program_hash", "test_set", "test_index", "status", "passed", "output_hash", "time_s",
       "checker", "checker_message")
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    key TEXT NOT NULL, problem TEXT NOT NULL, program_hash TEXT NOT NULL, test_set TEXT NOT NULL,
    test_index INTEGER NOT NULL, status TEXT NOT NULL, passed INTEGER, output_hash TEXT, time_s REAL,
    checker TEXT, checker_message TEXT,
    PRIMARY KEY (key, problem, test_set, test_index)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS imported (log TEXT PRIMARY KEY, rows INTEGER);
"""
COMMIT_EVERY_S = 0.5


class ProgramStore:
    """The rows of one run folder (or of a temporary folder), by key; `add` buffers, `flush` commits."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / EXECUTIONS_STORE
        self._pending: list[tuple] = []
        self._last_commit = time.monotonic()
        with self._sqlite():
            self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        self._import_log()

    @contextlib.contextmanager
    def _sqlite(self):
        """SQLite's errors as one sentence naming the file."""
        try:
            yield
        except sqlite3.DatabaseError as e:
            text = str(e)
            if "full" in text:
                raise UserError(f"There is no room left to write {self.path} ({text}): free some disk space "
                                "and run again; everything written before is kept.") from None
            if "locked" in text or "busy" in text:
                raise UserError(f"{self.path} stayed locked by another process ({text}).") from None
            raise UserError(f"{self.path} is damaged ({text}): delete it, and the run folder's executions are "
                            "run again.") from None

    def _import_log(self) -> None:
        """Rows of an executions.jsonl written before this store (older acodium), once: same keys."""
        log_path = self.folder / EXECUTIONS_LOG
        if not log_path.exists():
            return
        with self._sqlite():
            if self.db.execute("SELECT 1 FROM imported WHERE log = ?", (EXECUTIONS_LOG,)).fetchone():
                return
        count = 0
        batch: list[tuple] = []
        for _, r in AppendLog(log_path).numbered_rows():
            if r.get("status") == "SANDBOX_ERROR" or not valid_row(r):
                continue
            batch.append(tuple(r.get(c) for c in ROW))
            count += 1
            if len(batch) >= 5000:
                self._write(batch)
                batch = []
        self._write(batch)
        with self._sqlite():
            self.db.execute("INSERT OR REPLACE INTO imported VALUES (?, ?)", (EXECUTIONS_LOG, count))

    def _write(self, rows: Sequence[tuple]) -> None:
        if not rows:
            return
        with self._sqlite():
            self.db.execute("BEGIN")
            self.db.executemany(f"INSERT OR REPLACE INTO runs ({','.join(ROW)}) VALUES ({','.join('?' * len(ROW))})",
                                rows)
            self.db.execute("COMMIT")

    def add(self, rows: Iterable[dict]) -> None:
        """Rows with a verdict (a machine failure is never stored); committed at least every half second."""
        self._pending += [tuple(r[c] for c in ROW) for r in rows if r["passed"] is not None]
        if time.monotonic() - self._last_commit >= COMMIT_EVERY_S:
            self.flush()

    def flush(self) -> None:
        self._write(self._pending)
        self._pending = []
        self._last_commit = time.monotonic()

    def find(self, keys: Sequence[str]) -> dict[tuple[str, str, str, int], dict]:
        """The stored rows under these keys, by (key, problem, test_set, test_index)."""
        self.flush()
        found: dict[tuple[str, str, str, int], dict] = {}
        unique = list(dict.fromkeys(keys))
        with self._sqlite():
            for start in range(0, len(unique), 500):
                part = unique[start:start + 500]
                for values in self.db.execute(f"SELECT {','.join(ROW)} FROM runs WHERE key IN "
                                              f"({','.join('?' * len(part))})", part):
                    row = dict(zip(ROW, values))
                    row["passed"] = bool(row["passed"])
                    found[(row["key"], row["problem"], row["test_set"], row["test_index"])] = row
        return found

    def close(self) -> None:
        self.flush()
        with self._sqlite():
            self.db.close()


@dataclass
class Phase:
    """One execution's part of the work: where it runs, where its rows are kept, its stats."""

    execution: Execution
    store: ProgramStore
    stats: RunStats
    backend_name: str = ""
    version: str = ""

    def __post_init__(self) -> None:
        be = self.execution.get_backend()
        self.backend_name, self.version = be.name, be.version()


def start_phase(folder: Path, execution: Execution, rows_by_name: dict[str, dict], survey: "Survey",
                test_sets: Sequence[str], schedule: str, max_tests: int | None, stats: RunStats,
                run_folder: bool) -> Phase:
    """A phase's store in `folder`, and (in a run folder) its settings.json: what decides its rows.

    A run folder holds one schedule: resuming it under another is refused in one
    sentence (its tables would mix). Other changed settings are said in a note,
    and the tables made under the old ones are removed (the rows' keys decide
    what is reused)."""
    names = [name for name in rows_by_name if survey.coded.get(name)]
    tests = [(name, s, i, sha256(inp), sha256(exp)) for name in sorted(names) for s in test_sets
             for i, inp, exp in _problem_tests(rows_by_name[name], s, max_tests)]
    be = execution.get_backend()
    settings = {
        "test_sets": list(test_sets), "schedule": schedule, "max_tests": max_tests,
        "time_limit_s": execution.time_s, "backend": be.name, "backend_version": be.version(),
        "checker": execution.checker,
        "checkers": sorted({execution.checker_for(rows_by_name[name]).spec for name in names}),
        "checker_version": CHECKER_VERSION,
        "limits": sorted({execution.limits(rows_by_name[name], lang).key()
                          for name in names for lang in survey.languages.get(name, ())}),
        "slow_cap": execution.slow_cap, "tests": len(tests), "tests_fingerprint": fingerprint(tests),
        "candidates": survey.candidates, "programs": survey.programs, "programs_digest": survey.fingerprint,
        "row_key": "sha256 of program hash, input hash, expected output hash, limits and slow cap, backend, "
                   "backend version, checker and its version",
    }
    if run_folder:
        old = previous_settings(folder / SETTINGS_FILE)
        if old.get("schedule") not in (None, schedule):
            raise UserError(f"The run folder {folder} was run under the {old['schedule']} schedule: run it again "
                            f"{'with' if old['schedule'] == 'full' else 'without'} --full, or use a new folder.")
        stats.changed_settings = [k for k in changed_settings(settings, old) if k != "programs"]
        if stats.changed_settings:  # tables made under the old settings must not sit beside the new ones
            for name in (EXECUTIONS_FILE, PROGRAMS_FILE, JUDGEMENTS_FILE, METRICS_FILE, SUMMARY_FILE):
                (folder / name).unlink(missing_ok=True)
        folder.mkdir(parents=True, exist_ok=True)
        write_json(settings, folder / SETTINGS_FILE)
    stats.kept_in, stats.job = EXECUTIONS_STORE, "a program on a test set"
    return Phase(execution, ProgramStore(folder), stats)


def _problem_tests(row, test_set, max_tests):
    from ..data import problem_tests

    return problem_tests(row, test_set, max_tests)


def candidate_executions(program_executions: pd.DataFrame, programs: pd.DataFrame) -> pd.DataFrame:
    """The per-candidate EXECUTIONS table from the by-program one and the candidate -> program map (each
    program's rows once for each of its candidates). A table that already has candidate_id (a run
    folder made before executions were kept by program) is returned as it is."""
    if "candidate_id" in program_executions.columns:
        return program_executions
    if program_executions.empty or programs.empty:
        return pd.DataFrame(columns=EXECUTIONS)
    table = programs.merge(program_executions, on=["problem", "program_hash"], how="inner")
    table = table.sort_values(["problem", "candidate_id", "test_set", "test_index"], kind="stable")
    return table[EXECUTIONS].reset_index(drop=True)
