"""Replies on disk, keyed by everything that determines them.

Sampling thousands of programs is slow and costs money: an interrupted sweep
resumes without paying twice and a notebook re-run gives the same candidates.
The key hashes base_url, model, messages, every sampling parameter and the
sample index; errors are never stored, so a re-run asks again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Mapping

from ..errors import UserError

# What the cache keeps of a reply (the rest of a ChatResult describes this call, not the reply).
STORED_FIELDS = ("text", "finish_reason", "model", "served_model", "prompt_tokens", "completion_tokens", "cost")


def cache_key(base_url: str, model: str, messages: list[dict], params: Mapping[str, Any],
              sample_index: int, call: str = "") -> str:
    """The identity of a reply: everything that determines it, hashed.

    `call` names one call of a multi-call strategy (the AlphaCodium flow asks the
    same prompt again for a new attempt): part of the key, never sent.
    """
    identity = {
        "base_url": base_url.rstrip("/"),
        "model": model,
        "messages": messages,
        "params": dict(params),
        "sample_index": sample_index,
    }
    if call:  # absent otherwise, so keys made before `call` existed stay valid
        identity["call"] = call
    blob = json.dumps(
        identity,
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    """Replies on disk (sqlite, WAL): several processes and sweeps may share one file.

    A damaged entry (not a JSON reply) is a miss, asked again and replaced; a file
    sqlite cannot use (not a database, malformed, unwritable) is a UserError naming
    it, since every later call would fail the same way.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UserError(f"Cannot create the folder of the LLM response cache {self.path}: {e.strerror}; "
                            "set ACODIUM_CACHE elsewhere, or run without the cache (--no_cache).") from None
        self._lock = threading.Lock()
        with self._sqlite():
            self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            with self._lock, self._db:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS replies ("
                    " key TEXT PRIMARY KEY, request TEXT NOT NULL, reply TEXT NOT NULL, created REAL NOT NULL)"
                )

    @contextlib.contextmanager
    def _sqlite(self):
        """sqlite's errors as one sentence naming the file and what to do."""
        try:
            yield
        except sqlite3.OperationalError as e:  # locked, read-only, disk full: the file may be sound
            raise UserError(f"Cannot use the LLM response cache {self.path} ({e}); free the disk or fix its "
                            "permissions, or run without the cache (--no_cache).") from None
        except sqlite3.DatabaseError as e:  # not a database, malformed pages
            raise UserError(f"The LLM response cache {self.path} is damaged ({e}); delete it (its replies will "
                            "be asked again), or run without the cache (--no_cache).") from None

    def get(self, key: str) -> dict | None:
        """The stored reply, or None when there is none or it is damaged (then it is asked again)."""
        with self._sqlite(), self._lock:
            row = self._db.execute("SELECT reply FROM replies WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            reply = json.loads(row[0])
        except (TypeError, ValueError):  # torn or foreign bytes (JSONDecodeError, UnicodeDecodeError)
            return None
        return reply if _sound_reply(reply) else None

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def put(self, key: str, request: dict, reply: dict) -> None:
        with self._sqlite(), self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO replies (key, request, reply, created) VALUES (?, ?, ?, ?)",
                (key, json.dumps(request, ensure_ascii=False, default=str),
                 json.dumps(reply, ensure_ascii=False), time.time()),
            )

    def __len__(self) -> int:
        with self._sqlite(), self._lock:
            return self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _sound_reply(reply: Any) -> bool:
    """Whether a stored reply has the fields a ChatResult needs, of the right types."""
    return (isinstance(reply, dict) and isinstance(reply.get("text"), str)
            and all(isinstance(reply.get(k), int) and not isinstance(reply.get(k), bool)
                    for k in ("prompt_tokens", "completion_tokens"))
            and all(reply.get(k) is None or isinstance(reply.get(k), str)
                    for k in ("finish_reason", "model", "served_model"))
            and (reply.get("cost") is None or isinstance(reply.get("cost"), (int, float))))
