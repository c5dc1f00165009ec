"""The local backend's sandboxed workers: started, lent to one job at a time, replaced.

`LocalBackend` (local.py) decides what a job runs and what its replies mean; this
module owns the worker processes behind it. It is kept apart because their life
cycle is its own job with its own hazards: bwrap dies with the *thread* that started
it, so every worker is started from one long-lived thread; as root, the sandbox is
built as the user `nobody` would build it; whether tests can join their cgroup is
decided by a first worker before any job runs (it is part of the backend's version,
the cache key); a lost or altered worker is killed and replaced, never reused.

`WorkerPool` is a base class of `LocalBackend`, whose `__init__` sets what the pool
reads (`sandbox`, `python`, `bwrap`, `tmp_bytes`, `max_workers`, `_source` (the
worker's code), `_cgroups` (from `_cgroup_support`)) and then calls `_start_pool`.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import subprocess
import tempfile
import threading
import warnings
import weakref
from concurrent.futures import ThreadPoolExecutor

from ..errors import UserError
from . import cgroups
from .cgroups import NoCgroupsWarning
from .local_channel import Worker, WorkerLost
from .local_sandbox import SANDBOX_UID, bwrap_command, staged_binds, staged_command
from .runtimes import reachable_by_others

START_TIMEOUT_S = 60.0
# The worker's code is compiled by a one-line `-c` program, not given to `-c` itself: the interpreter
# then frees what compiling 2,000 lines took, and the worker's heap is 7.5 MB instead of 11.7 (less
# for each test's fork to copy and unmap). The source comes last on the command line, after the worker's
# own arguments, which keep their places.
BOOTSTRAP = "import sys; exec(compile(sys.argv.pop(), '_worker.py', 'exec'))"
_WARNED_NO_CGROUPS = []  # said once per process
_WORKER_NAMES = itertools.count()  # cgroup names, unique in the process (next() is atomic)


def _warn_no_cgroups(reason: str) -> None:
    """Say once per process that tests are limited per process, and why."""
    if not _WARNED_NO_CGROUPS:
        _WARNED_NO_CGROUPS.append(True)
        warnings.warn(
            f"No cgroups for the sandbox ({reason.rstrip('.')}): tests are limited per process "
            "instead (CPU summed over a test's processes, at most 64 open files, and memory "
            "that no process maps refused: memfd_create, System V shared memory and message "
            "queues fail).", NoCgroupsWarning, stacklevel=5)


def _remove_empty(folder: str) -> None:
    try:
        os.rmdir(folder)
    except OSError:  # gone already
        pass


class WorkerPool:
    """Workers for `LocalBackend`: `_acquire`, `_release`, `_replace`, `close` (see the module docstring)."""

    def _start_pool(self) -> None:
        self._idle: queue.LifoQueue[Worker] = queue.LifoQueue()
        self._count = 0
        self._lock = threading.Lock()
        self._all: list[Worker] = []
        self._closed = False
        self._stage: str | None = None  # mount point of the runtimes' folders (_unreachable_binds)
        # bwrap dies with the *thread* that started it (PR_SET_PDEATHSIG): start every
        # worker from one thread that lives as long as the backend.
        self._spawner = ThreadPoolExecutor(1, thread_name_prefix="acodium-spawn")

    def _first_worker(self, wanted: bool | None):
        """Start one worker now: whether its tests can join their cgroup decides the mode
        (and so the backend's version, the cache key) before any job runs."""
        worker = self._spawner.submit(self._spawn).result()
        if worker.hello.get("cgroup"):
            with self._lock:
                self._count += 1
                self._all.append(worker)
            self._idle.put(worker)
            return
        worker.kill()
        reason = worker.hello.get("cgroup_error") or "the worker did not take its cgroup"
        if wanted:
            self.close()
            raise UserError(f"Cgroups were asked for but cannot be used: {reason}.")
        self._cgroups = None
        _warn_no_cgroups(reason)

    @staticmethod
    def _cgroup_support(wanted: bool | None):
        """How tests' resources are counted: a cgroup per worker, or (None) strict rlimits."""
        if wanted is False:
            return None
        support = cgroups.probe()
        reason = cgroups.unavailable_reason()
        if support is not None:
            try:  # mounted and ours to write is not yet usable: make one, as a worker will
                support.worker_group(f"w{next(_WORKER_NAMES)}").close()
            except cgroups.CgroupUnavailable as e:
                support, reason = None, str(e)
        if support is None:
            if wanted:
                raise UserError(f"Cgroups were asked for but cannot be used: {reason}")
            _warn_no_cgroups(reason)
        return support

    def _command(self, scratch: str, request_fd: int, reply_fd: int, cgroup_spec: str) -> list[str]:
        py = [self.python, "-I", "-B", "-c", BOOTSTRAP]
        fds = [str(request_fd), str(reply_fd), cgroup_spec, self._source]  # (the source last: see BOOTSTRAP)
        if self.sandbox:
            binds = getattr(self, "_binds", ())
            unreachable = self._unreachable_binds()
            if unreachable:
                binds = staged_binds(binds, self._stage, unreachable)
            else:
                binds = [(b, b) for b in binds]
            command = bwrap_command(self.bwrap, self.tmp_bytes, binds) + py + ["sandbox", "/tmp"] + fds
            return staged_command(self._stage, unreachable, command) if unreachable else command
        return py + ["host", scratch] + fds

    def _unreachable_binds(self) -> list[str]:
        """The runtimes' folders that bwrap, started as `nobody` when we are root, cannot reach:
        bound through a private mount namespace first (local_sandbox.STAGER)."""
        if not self.sandbox or os.geteuid() != 0:
            return []
        unreachable = [b for b in getattr(self, "_binds", ()) if not reachable_by_others(b)]
        if unreachable and self._stage is None:
            self._stage = tempfile.mkdtemp(prefix="acodium-binds-")  # an empty mount point, removed at close
            weakref.finalize(self, _remove_empty, self._stage)  # or when the backend goes, or at exit
        return unreachable

    def _spawn(self) -> Worker:
        scratch = None if self.sandbox else tempfile.mkdtemp(prefix="acodium-unsandboxed-")
        # The channel: two pipes, passed as fds only the worker inherits (bwrap's and the
        # worker's stdio are /dev/null and a log file).
        request_r, request_w = os.pipe2(os.O_CLOEXEC)
        reply_r, reply_w = os.pipe2(os.O_CLOEXEC)
        cgroup = None
        stderr_file = tempfile.TemporaryFile()
        popen = None
        try:
            if self._cgroups is not None:
                try:
                    cgroup = self._cgroups.worker_group(f"w{next(_WORKER_NAMES)}")
                except cgroups.CgroupUnavailable as e:
                    raise UserError(f"The sandbox's cgroup could not be made: {e}") from e
            spec = json.dumps(cgroup.spec()) if cgroup is not None else ""
            cmd = self._command(scratch or "/tmp", request_r, reply_w, spec)
            popen_args = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr_file,
                              env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONINTMAXSTRDIGITS": "0"},
                              cwd=scratch or "/", start_new_session=True,
                              pass_fds=(request_r, reply_w, *(cgroup.pass_fds() if cgroup else ())))
            if self.sandbox and os.geteuid() == 0 and self._unreachable_binds():
                popen = subprocess.Popen(cmd, **popen_args)  # STAGER drops to `nobody` itself
            elif self.sandbox and os.geteuid() == 0:
                # As root, build the sandbox as an ordinary user would: root in a user namespace
                # could otherwise be trusted by the kernel (RLIMIT_NPROC does not apply to root).
                try:
                    popen = subprocess.Popen(cmd, user=SANDBOX_UID, group=SANDBOX_UID, extra_groups=[],
                                             **popen_args)
                except PermissionError:  # "root" without the right to change user (a container)
                    popen = None
            if popen is None:
                popen = subprocess.Popen(cmd, **popen_args)
        except BaseException:
            for fd in (request_r, request_w, reply_r, reply_w):
                os.close(fd)
            if cgroup is not None:
                cgroup.close()
            raise
        finally:
            if popen is not None:
                os.close(request_r)
                os.close(reply_w)
        worker = Worker(popen, request_w, reply_r, stderr_file, scratch, cgroup)
        try:
            hello = worker.read_reply(START_TIMEOUT_S)
        except WorkerLost as e:
            hello = e
        if isinstance(hello, Exception) or not hello[0].get("ok"):
            try:
                popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            message = worker.stderr_text().strip()
            if not isinstance(hello, Exception) and hello[0].get("error"):
                message = f"{message}\n{hello[0]['error']}".strip()
            worker.kill()
            raise self._start_error(message)
        worker.hello = hello[0]
        return worker

    def _start_error(self, message: str) -> Exception:
        first = message.strip().splitlines()[-1] if message.strip() else "no message"
        first = first.removeprefix("bwrap: ")
        if not self.sandbox:
            return UserError(f"The execution worker could not be started ({first}).")
        if any(w in message.lower() for w in ("namespace", "not permitted", "permission denied", "uid map")):
            hint = ("allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, or "
                    "kernel.apparmor_restrict_unprivileged_userns=0 under AppArmor)")
        else:
            hint = "check that bubblewrap works here (`bwrap --ro-bind / / true`)"
        return UserError(
            f"The sandbox could not be started (bwrap: {first}): {hint}, or run candidate programs "
            "unsandboxed at your own risk with get_backend('local', sandbox=False) / --no_sandbox.")

    def _acquire(self) -> Worker:
        if self._closed:
            raise UserError("This execution backend has been closed.")
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            grow = self._count < self.max_workers
            if grow:
                self._count += 1
        if not grow:
            return self._idle.get()
        try:
            worker = self._spawner.submit(self._spawn).result()
        except BaseException:
            with self._lock:
                self._count -= 1
            raise
        with self._lock:
            self._all.append(worker)
        return worker

    def _release(self, worker: Worker):
        self._idle.put(worker)

    def _replace(self, worker: Worker) -> Worker:
        worker.kill()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
        new = self._spawner.submit(self._spawn).result()
        with self._lock:
            self._all.append(new)
        return new

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers, self._all = self._all, []
        for w in workers:
            w.kill()
        self._spawner.shutdown(wait=False)
        if self._stage is not None:
            _remove_empty(self._stage)
