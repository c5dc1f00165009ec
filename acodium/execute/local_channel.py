"""The host's end of a local worker: its framed, sequence-numbered channel and its process.

The worker (`_worker.py`, inside the sandbox) and the host speak over two pipes that
only they hold. Everything that arrives on the reply pipe is treated as written by a
hostile program until proven otherwise: sizes are checked before anything is read,
a reply must repeat the sequence number of the request just sent, and bytes that
arrive unasked or a second frame end the worker (`WorkerLost`), never a verdict.
Kept apart from the pool (local_pool.py) and the backend (local.py) so that this
boundary can be read, and tested, on its own.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import struct
import subprocess
import time
import warnings

from . import cgroups
from .cgroups import NoCgroupsWarning


class WorkerLost(Exception):
    """The worker died or stopped answering (a hostile program, or a crash)."""


MAX_BLOB = 1 << 20  # the most a reply's part may hold unless a request allows more


def _read_frame(exact, max_blob: int = MAX_BLOB) -> tuple[dict, list[bytes]]:
    """One frame, read with `exact(n)`, which returns n bytes or raises WorkerLost.

    Sizes are checked before anything is read: a frame that announces more than a
    reply can hold is a broken worker, never a reason to allocate."""
    (hlen,) = struct.unpack(">I", exact(4))
    if hlen > 1 << 20:
        raise WorkerLost("malformed reply from the worker")
    try:
        header = json.loads(exact(hlen))
    except ValueError as e:
        raise WorkerLost("malformed reply from the worker") from e
    if not isinstance(header, dict):
        raise WorkerLost("malformed reply from the worker")
    count = header.get("blobs", 0)
    if not isinstance(count, int) or not 0 <= count <= 3:  # (3: an interactive test's reply)
        raise WorkerLost("malformed reply from the worker")
    blobs = []
    for _ in range(count):
        (blen,) = struct.unpack(">Q", exact(8))
        if blen > max_blob:
            raise WorkerLost(f"the worker announced a reply part of {blen} bytes (at most {max_blob})")
        blobs.append(exact(blen))
    return header, blobs


def _frame(header: dict, blobs: list[bytes] = ()) -> bytes:
    h = json.dumps(dict(header, blobs=len(blobs))).encode()
    parts = [struct.pack(">I", len(h)), h]
    for b in blobs:
        parts += [struct.pack(">Q", len(b)), b]
    return b"".join(parts)


class _NoAnswer(WorkerLost):
    """The worker sent nothing (more) within the time allowed."""


class Worker:
    """One sandboxed worker process and its control pipes (fds only we and it hold).

    Replies are read by the thread that made the request, straight from the pipe
    (poll with a deadline, then read): no reader thread, so no hand-over between
    threads (two wake-ups and two GIL transfers) on every test. A reply must answer
    the request just sent (its sequence number) and nothing may arrive unasked:
    anything else ends the worker and is never attributed to a job.
    """

    def __init__(self, popen: subprocess.Popen, request_fd: int, reply_fd: int, stderr_file,
                 scratch: str | None, cgroup=None):
        self.popen = popen
        self.stderr_file = stderr_file
        self.scratch = scratch  # host-side scratch dir (unsandboxed mode only)
        self.cgroup = cgroup  # the host side of the worker's cgroup, if any
        self.loaded: dict[str, str] = {}  # role ("program", "checker", "interactor") -> hash of what it holds
        self.hello: dict = {}  # what the worker said when it started
        self._request_fd = request_fd
        self._fd = reply_fd
        self._seq = 0
        self._pending = bytearray()  # bytes read from the pipe beyond the last frame read
        self._poller = select.poll()
        self._poller.register(self._fd, select.POLLIN)

    def _exact(self, n: int, deadline: float) -> bytes:
        buf = self._pending
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _NoAnswer("the worker stopped answering")
            if not self._poller.poll(left * 1000 + 1):
                continue
            try:
                chunk = os.read(self._fd, min(max(n - len(buf), 1 << 16), 1 << 20))
            except OSError as e:
                raise WorkerLost(str(e)) from e
            if not chunk:
                raise WorkerLost("the worker closed its channel")
            buf += chunk
        with memoryview(buf) as view:
            data = bytes(view[:n])
        del buf[:n]
        return data

    def read_reply(self, timeout: float, max_blob: int = MAX_BLOB) -> tuple[dict, list[bytes]]:
        """The next frame from the worker; WorkerLost if it dies, or sends nothing in time."""
        deadline = time.monotonic() + timeout
        try:
            frame = _read_frame(lambda n: self._exact(n, deadline), max_blob)
        except (ValueError, struct.error) as e:
            raise WorkerLost(str(e)) from e
        if self._pending:
            raise WorkerLost("the worker sent more than one reply")
        return frame

    def _unasked(self) -> bool:
        return bool(self._pending) or bool(self._poller.poll(0))

    def request(self, header: dict, blobs: list[bytes], timeout: float, max_blob: int = MAX_BLOB):
        if self._unasked():
            raise WorkerLost("the worker sent a reply that was not asked for")
        self._seq += 1
        data = memoryview(_frame(dict(header, seq=self._seq), blobs))
        try:
            while data:
                data = data[os.write(self._request_fd, data):]
        except OSError as e:
            raise WorkerLost("the worker is gone") from e
        try:
            reply = self.read_reply(timeout, max_blob)
        except _NoAnswer:
            raise
        except WorkerLost as e:
            try:
                self.popen.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
            tail = self.stderr_text().strip()[-1000:]
            raise WorkerLost(f"{e}" + (f" (worker stderr: {tail})" if tail else "")) from e
        if reply[0].get("seq") != self._seq:
            raise WorkerLost("the worker answered another request than the one sent")
        return reply

    def stderr_text(self) -> str:
        try:
            self.stderr_file.seek(0)
            return self.stderr_file.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def kill(self):
        try:
            os.killpg(self.popen.pid, 9)
        except OSError:
            pass
        try:
            self.popen.kill()
        except OSError:
            pass
        for fd in (self._request_fd, self._fd):
            try:
                os.close(fd)
            except OSError:
                pass
        self._request_fd = self._fd = -1
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        if self.cgroup is not None:
            try:
                self.cgroup.close()
            except cgroups.CgroupUnavailable as e:  # a process that outlived SIGKILL: say it, go on
                warnings.warn(str(e), NoCgroupsWarning, stacklevel=2)
        try:
            self.stderr_file.close()
        except OSError:
            pass
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)

