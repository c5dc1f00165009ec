"""On-disk cache of raw test runs, shared by judging and clustering.

Keyed by (program hash, input hash, limits, backend name, backend version), and
storing what the program did (status, exit code, times, memory, stdout up to the
output limit, stderr tail) but never the expected output: `passed` is recomputed
for whatever expected output a caller has, so runs without expected outputs
(behavioural clustering on generated inputs) and judging runs share entries.
The exception: a run judged by a program (a checker program, an interactor) keeps
that judge's verdict (column `verdict`), under a key that names the judge and the
expected output (`run_key`'s `judge`).
SQLite in WAL mode, so several processes of a sweep can share one cache.

A cache is only a shortcut, so damage never becomes a result: an entry that
does not decode (a bogus status, a blob that is not zlib, stdout that is not
UTF-8) is a miss, run again and overwritten; a file SQLite cannot read, or a
full disk, ends the run with one sentence naming the file (delete it, or run
with --no_cache).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
import zlib
from pathlib import Path

from ..errors import UserError
from .types import ExecutionResult, Limits, Status, sha256

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY,
    program_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    exit_code INTEGER,
    signal INTEGER,
    time_s REAL,
    cpu_s REAL,
    memory_bytes INTEGER,
    stdout BLOB,
    stderr TEXT,
    output_hash TEXT,
    created REAL,
    verdict TEXT
)
"""
# Older caches lack the last column: added on open (null for every run they hold).
COLUMNS = ("key", "program_hash", "status", "exit_code", "signal", "time_s", "cpu_s", "memory_bytes", "stdout",
           "stderr", "output_hash", "created", "verdict")

# Statuses that say something about the machine, not the program: never cached,
# never a verdict, always run again (a run folder's log does not count them as done).
MACHINE_FAILURES = frozenset({Status.SANDBOX_ERROR})
# A judge's failure may be the machine's too (a checker stopped at its limits on a loaded machine):
# run again, never served from the cache.
UNCACHED = MACHINE_FAILURES | {Status.JUDGE_ERROR}


def run_key(program_hash: str, input_text: str, limits: Limits, backend: str, version: str, judge: str = "",
            attempt: int = 1) -> str:
    """A run's cache key; `judge` names a program judge and the expected output when the result
    holds their verdict (empty otherwise: built-in checkers judge a cached run afresh); `attempt` 2 is
    the second run of a test near its limit under the same limits (`acodium.execute.slow`), kept
    beside the first rather than over it."""
    parts = [program_hash, sha256(input_text), limits.key(), backend, version] + ([judge] if judge else [])
    return sha256("\0".join(parts + ([f"attempt{attempt}"] if attempt != 1 else [])))


class ResultCache:
    """`get(key) -> ExecutionResult | None`, `put(key, result)`; one file, many processes."""

    def __init__(self, path: str | Path):
        path = Path(path)
        if path.suffix != ".sqlite":
            path = path / "executions.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.damaged = 0  # entries read as misses because they did not decode
        self._local = threading.local()
        with self._sqlite():
            db = self._connect()
            with db:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(SCHEMA)
                if "verdict" not in {row[1] for row in db.execute("PRAGMA table_info(runs)")}:
                    db.execute("ALTER TABLE runs ADD COLUMN verdict TEXT")

    @contextlib.contextmanager
    def _sqlite(self):
        """SQLite's errors as one sentence naming the cache file and what to do."""
        try:
            yield
        except sqlite3.DatabaseError as e:
            text = str(e)
            if "full" in text:
                raise UserError(f"There is no room left to write the execution cache {self.path} ({text}): "
                                "free some disk space, or run with --no_cache.") from None
            if "locked" in text or "busy" in text:
                raise UserError(f"The execution cache {self.path} stayed locked by another process "
                                f"({text}): run again when it is done, or run with --no_cache.") from None
            raise UserError(f"The execution cache {self.path} is damaged ({text}): delete it "
                            "(it is only a cache), or run with --no_cache.") from None

    def _connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=60)
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def get_many(self, keys: list[str]) -> dict[str, ExecutionResult]:
        """The entries found for `keys`; an entry that does not decode is left out (a miss)."""
        found: dict[str, ExecutionResult] = {}
        with self._sqlite():
            db = self._connect()
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                rows = db.execute(
                    "SELECT key, program_hash, status, exit_code, signal, time_s, cpu_s, memory_bytes,"
                    f" stdout, stderr, output_hash, verdict FROM runs WHERE key IN ({','.join('?' * len(chunk))})",
                    chunk).fetchall()
                for row in rows:
                    result = _decode(row)
                    if result is None:
                        self.damaged += 1
                    else:
                        found[row[0]] = result
        return found

    def get(self, key: str) -> ExecutionResult | None:
        return self.get_many([key]).get(key)

    def put_many(self, items: list[tuple[str, ExecutionResult]]) -> None:
        rows = [
            (key, r.program_hash, r.status.value, r.exit_code, r.signal, r.time_s, r.cpu_s,
             r.memory_bytes, zlib.compress(r.stdout.encode("utf-8", "surrogatepass"), 6), r.stderr,
             r.output_hash, time.time(), _verdict_text(r))
            for key, r in items if r.status not in UNCACHED
        ]
        if not rows:
            return
        with self._sqlite():
            db = self._connect()
            with db:
                db.executemany(f"INSERT OR REPLACE INTO runs ({','.join(COLUMNS)}) VALUES "
                               f"({','.join('?' * len(COLUMNS))})", rows)

    def put(self, key: str, result: ExecutionResult) -> None:
        self.put_many([(key, result)])

    def __len__(self) -> int:
        with self._sqlite():
            return self._connect().execute("SELECT COUNT(*) FROM runs").fetchone()[0]

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


def _verdict_text(result: ExecutionResult) -> str | None:
    """A program judge's verdict, stored with its run (its key names the judge and the answer);
    None for a run judged afresh by a built-in checker."""
    if result.passed is None:
        return None
    return json.dumps({"passed": bool(result.passed), "message": result.checker_message})


def _verdict_of(text: str | None) -> tuple[bool | None, str]:
    if text is None:
        return None, ""
    value = json.loads(text)
    if not (isinstance(value, dict) and isinstance(value.get("passed"), bool) and isinstance(value.get("message"), str)):
        raise ValueError("not a verdict")
    return value["passed"], value["message"]


def _decode(row: tuple) -> ExecutionResult | None:
    """One stored run as a result, or None when any field is not what `put_many` writes."""
    key, ph, status, code, sig, t, cpu, mem, out, err, oh, verdict = row
    try:
        passed, message = _verdict_of(verdict)
        status = Status(status)
        if status in UNCACHED or status == Status.SLOW:  # SLOW is a verdict, never a raw run
            return None
        if out is not None and not isinstance(out, bytes):
            return None
        stdout = zlib.decompress(out).decode("utf-8", "surrogatepass") if out else ""
        numbers_ok = all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
                         for v in (code, sig, t, cpu, mem))
        texts_ok = all(v is None or isinstance(v, str) for v in (ph, err, oh))
        if not (numbers_ok and texts_ok):
            return None
    except (ValueError, TypeError, zlib.error, UnicodeDecodeError):  # Status(...), json.loads: ValueError
        return None
    return ExecutionResult(
        status=status, passed=passed, stdout=stdout, stderr=err or "", exit_code=code, signal=sig,
        time_s=t or 0.0, cpu_s=cpu or 0.0, memory_bytes=mem, program_hash=ph or "",
        output_hash=oh or "", cached=True, checker_message=message)
