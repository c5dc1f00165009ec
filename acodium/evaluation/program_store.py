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
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Iterable, Sequence

from ..errors import UserError
from ..tables import EXECUTIONS_LOG, AppendLog
from .run_folder import valid_row

STORE_FILE = "executions.sqlite"
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
        self.path = self.folder / STORE_FILE
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
