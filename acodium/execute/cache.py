"""On-disk cache of raw test runs, shared by judging and clustering.

Keyed by (program hash, input hash, limits, backend name, backend version), and
storing what the program did (status, exit code, times, memory, stdout up to the
output limit, stderr tail) but never the expected output: `passed` is recomputed
for whatever expected output a caller has, so runs without expected outputs
(behavioural clustering on generated inputs) and judging runs share entries.
SQLite in WAL mode, so several processes of a sweep can share one cache.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import zlib
from pathlib import Path

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
    created REAL
)
"""

# Statuses that say something about the machine, not the program: never cached.
UNCACHED = {Status.SANDBOX_ERROR}


def run_key(program_hash: str, input_text: str, limits: Limits, backend: str, version: str) -> str:
    return sha256("\0".join([program_hash, sha256(input_text), limits.key(), backend, version]))


class ResultCache:
    """`get(key) -> ExecutionResult | None`, `put(key, result)`; one file, many processes."""

    def __init__(self, path: str | Path):
        path = Path(path)
        if path.suffix != ".sqlite":
            path = path / "executions.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=60)
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def get_many(self, keys: list[str]) -> dict[str, ExecutionResult]:
        found: dict[str, ExecutionResult] = {}
        db = self._connect()
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            rows = db.execute(
                "SELECT key, program_hash, status, exit_code, signal, time_s, cpu_s, memory_bytes,"
                f" stdout, stderr, output_hash FROM runs WHERE key IN ({','.join('?' * len(chunk))})",
                chunk).fetchall()
            for (key, ph, status, code, sig, t, cpu, mem, out, err, oh) in rows:
                found[key] = ExecutionResult(
                    status=Status(status), passed=None,
                    stdout=zlib.decompress(out).decode("utf-8") if out else "",
                    stderr=err or "", exit_code=code, signal=sig, time_s=t or 0.0,
                    cpu_s=cpu or 0.0, memory_bytes=mem, program_hash=ph, output_hash=oh or "",
                    cached=True)
        return found

    def get(self, key: str) -> ExecutionResult | None:
        return self.get_many([key]).get(key)

    def put_many(self, items: list[tuple[str, ExecutionResult]]) -> None:
        rows = [
            (key, r.program_hash, r.status.value, r.exit_code, r.signal, r.time_s, r.cpu_s,
             r.memory_bytes, zlib.compress(r.stdout.encode("utf-8"), 6), r.stderr,
             r.output_hash, time.time())
            for key, r in items if r.status not in UNCACHED
        ]
        if not rows:
            return
        db = self._connect()
        with db:
            db.executemany("INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)

    def put(self, key: str, result: ExecutionResult) -> None:
        self.put_many([(key, result)])

    def __len__(self) -> int:
        return self._connect().execute("SELECT COUNT(*) FROM runs").fetchone()[0]

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
