"""One side process of the code_contests backend: `_cc_worker.py` under the tester's Python 3.9.

The main process and a side process speak JSON lines over its stdin and stdout. Kept
apart from the backend (code_contests.py) because starting, reading and killing these
processes has its own hazards: the tester copies its caller's environment into every
sandboxed program (so the side process gets next to nothing), logs stack dumps to
stderr (a temporary file, emptied after each job), and never deletes its per-call
folders in /tmp (removed here when a side process is killed).
"""

from __future__ import annotations

import glob
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from ..errors import UserError

WORKER_FILE = Path(__file__).with_name("_cc_worker.py")
START_TIMEOUT_S = 60.0
SANDBOX_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/"}


class WorkerLost(Exception):
    """The side process died or had to be killed."""


class SideProcess:
    """One side process running `_cc_worker.py`: JSON lines over its stdin/stdout."""

    def __init__(self, venv_python: Path, python: str, libs: list[str]):
        self.log = tempfile.TemporaryFile()  # the tester's glog chatter (stack dumps on violations)
        # The tester copies its caller's environment into every sandboxed program: give it
        # next to nothing (HOME spares Python a passwd lookup, a socket the sandbox forbids).
        self.proc = subprocess.Popen(
            [str(venv_python), "-I", "-B", str(WORKER_FILE)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
            env=SANDBOX_ENV, cwd="/", start_new_session=True)
        self.fd = self.proc.stdout.fileno()
        self.buffer = bytearray()
        self.send({"op": "init", "python": python, "libs": libs})
        hello = self.read(START_TIMEOUT_S)
        if not isinstance(hello, dict) or hello.get("event") != "ready":
            message = self.log_tail().strip()
            self.kill()
            first = message.splitlines()[-1] if message else "no message"
            raise UserError(f"DeepMind's code_contests tester could not be started ({first}): "
                            "check the environment with `make cc-env`.")
        self.tester_version = hello.get("tester", "unknown")
        self.compare_error = hello.get("compare_error")  # why OutputsMatch is unreachable, if it is

    def send(self, message: dict) -> None:
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise WorkerLost(f"the side process is gone ({e})") from None

    def read(self, timeout: float | None):
        """The next message; None at EOF; "timeout" when nothing came in `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        start = 0
        while True:
            end = self.buffer.find(b"\n", start)
            if end >= 0:
                line = bytes(self.buffer[:end])
                del self.buffer[:end + 1]
                return json.loads(line)
            start = len(self.buffer)
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self.fd], [], [], wait)
            if not ready:
                return "timeout"
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                return None
            self.buffer += chunk

    def log_tail(self, n: int = 4000) -> str:
        try:
            self.log.seek(0, os.SEEK_END)
            size = self.log.tell()
            self.log.seek(max(0, size - n))
            return self.log.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def clear_log(self) -> None:
        try:
            self.log.seek(0)
            self.log.truncate()
        except (OSError, ValueError):
            pass

    def kill(self) -> None:
        pid = self.proc.pid
        try:
            os.killpg(pid, signal.SIGKILL)  # the worker and its sandbox2 fork server
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.log.close()
        # The tester's per-call folders (/tmp/<ms>-<pid>-<rand>) are never deleted by it.
        for path in glob.glob(f"/tmp/*-{pid}-*"):
            shutil.rmtree(path, ignore_errors=True)

    def close(self) -> None:
        try:
            self.send({"op": "exit"})
            self.proc.wait(timeout=5)
        except (WorkerLost, subprocess.TimeoutExpired):
            pass
        self.kill()
