"""Compiled candidates kept by the local backend for all its workers: C++ and Java compile once per machine.

A worker holds one candidate at a time (a test is a fork of it and could read any other),
so a program that comes back (its hidden tests after its public ones, a rerun at the slow
cap, the same program on another worker) used to be compiled again each time. Now the
first worker to compile a candidate's C++ or Java sends the binary or jar back with its
reply (`export_max` in the load request), the backend keeps it here, and every later
load of that program, on any worker of the backend, gives the worker the compiled
program instead of its source (`prebuilt`): the worker seals it in a memfd as if it had
compiled it. A compile error is kept too, as the reply to give again, except one that a
limit stopped (a loaded machine may finish it next time). Under the ray executor each node
has one backend, so each program is compiled once per node.

Kept in memory, least recently used first out, within `max_bytes` (256 MiB by default:
thousands of programs; a pool that outgrows it compiles its oldest programs again).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from typing import Iterator

COMPILED = ("cpp", "java")
EXPORT_MAX = 32 << 20  # a compiled program larger than this is not kept (compiled again instead)
DEFAULT_MAX_BYTES = 256 << 20
COMPILE_WAIT_S = 130.0  # the longest a load waits for another worker's compilation (its limit is 90 s wall)
# The first words of a compile error that a limit caused (`tool_failed` in the worker): not kept.
STOPPED_AT_A_LIMIT = "stopped at its"


class LoadPlan:
    """How one load goes (`CompiledPrograms.loading`): `reply` (a compile error kept: no request),
    else `header` to add to the load request and `blob` to send instead of the source (a compiled
    program), and `done(reply, blobs)` once the worker has answered."""

    def __init__(self, store: "CompiledPrograms | None", program_hash: str, header: dict | None = None,
                 blob: bytes | None = None, reply: dict | None = None):
        self.store, self.hash = store, program_hash
        self.header, self.blob, self.reply = header or {}, blob, reply
        self.max_blob = self.header.get("export_max", 0)

    def done(self, reply: dict, blobs: list[bytes]) -> None:
        if self.store is not None and "export_max" in self.header:
            self.store.compiled(self.hash, reply, blobs)


class CompiledPrograms:
    """What the backend's workers compiled, by program hash (see the module docstring).

    `compiles` counts the compilations the workers ran; `reused` the loads served from here.
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES):
        self.max_bytes = max_bytes
        self.compiles = 0
        self.reused = 0
        self._kept: OrderedDict[str, tuple[dict, bytes]] = OrderedDict()  # hash -> (reply or prebuilt, bytes)
        self._compiling: dict[str, threading.Event] = {}  # hash -> set when its compilation has ended
        self._bytes = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def loading(self, language: str, program_hash: str, role: str) -> Iterator[LoadPlan]:
        """The plan of one load (`LoadPlan`). While a worker compiles a program, another that loads it
        waits for that compilation and is given its result (a program is compiled once, not once
        per worker that happens to load it at the same moment)."""
        if role != "program" or language not in COMPILED or self.max_bytes <= 0:
            yield LoadPlan(None, program_hash)
            return
        deadline = time.monotonic() + COMPILE_WAIT_S
        while True:
            with self._lock:
                kept = self._kept.get(program_hash)
                if kept is not None:
                    self._kept.move_to_end(program_hash)
                    self.reused += 1
                    break
                running = self._compiling.get(program_hash)
                if running is None or time.monotonic() > deadline:
                    mine = self._compiling[program_hash] = threading.Event()
                    break
            running.wait(max(0.0, deadline - time.monotonic()))
        if kept is not None:
            said, data = kept
            yield LoadPlan(self, program_hash, reply=dict(said["reply"])) if "reply" in said else \
                LoadPlan(self, program_hash, {"prebuilt": said}, data)
            return
        try:
            yield LoadPlan(self, program_hash, {"export_max": EXPORT_MAX})
        finally:
            with self._lock:
                if self._compiling.get(program_hash) is mine:
                    del self._compiling[program_hash]
            mine.set()

    def compiled(self, program_hash: str, reply: dict, blobs: list[bytes]) -> None:
        """After a load that compiled: count it, keep what it made."""
        with self._lock:
            self.compiles += 1
        if reply.get("ok") and len(blobs) == 1:
            artifact = reply.get("artifact") if isinstance(reply.get("artifact"), dict) else {}
            self._keep(program_hash, {k: v for k, v in artifact.items() if k == "main_class"}, blobs[0])
        elif reply.get("compile_error") and STOPPED_AT_A_LIMIT not in str(reply.get("stderr", ""))[:200]:
            self._keep(program_hash, {"reply": {"compile_error": True, "stderr": str(reply.get("stderr", ""))}},
                       b"")

    def _keep(self, program_hash: str, said: dict, data: bytes) -> None:
        size = len(data) + len(str(said))
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._kept.pop(program_hash, None)
            if old is not None:
                self._bytes -= len(old[1]) + len(str(old[0]))
            self._kept[program_hash] = (said, data)
            self._bytes += size
            while self._bytes > self.max_bytes and self._kept:
                _, (gone_said, gone) = self._kept.popitem(last=False)
                self._bytes -= len(gone) + len(str(gone_said))
