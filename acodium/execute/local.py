"""The local backend: candidate programs in a bubblewrap sandbox, one forking worker per core.

Each worker is `/usr/bin/python3.11` running `_worker.py` inside bubblewrap with every
namespace unshared (no network, its own PID/IPC/UTS/user space), a read-only view of
/usr, a private size-bounded tmpfs /tmp, an empty environment and a non-root user.
When we are root, bubblewrap itself is started as `nobody`, so the sandbox is built
exactly as for an ordinary user (unprivileged user namespace) and per-sandbox process
limits apply (the kernel exempts root from RLIMIT_NPROC). The worker forks per test,
so there is no interpreter start per test; it kills everything a test started when
the test ends. A worker that dies (a program killed it) is replaced; its test is
reported as SANDBOX_ERROR.

Differences from a judge: the time limit is CPU time (as in DeepMind's tester and on
Codeforces). Programs that sleep or block are stopped at a wall-clock cap of
`wall_factor` x limit + 1 s (default 5x); one still computing at the cap (starved by a
loaded machine) runs on to its CPU limit, up to 30 x limit + 1 s (the tester's wall limit).
Memory is the peak resident set (ru_maxrss; for Python it includes the interpreter,
~12 MB, and for C++ the forking worker's own ~12 MB, as ru_maxrss survives exec); the
address space is capped at limit + 1 GiB for Python (thread stacks reserve more than
they use) and limit + 64 MiB for C++. A Python program's main thread may recurse
through a 1 GiB stack, a C++ program's through a stack as large as its memory limit.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import queue
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import UserError
from . import cgroups
from .base import Backend
from .check import check_output
from .types import ExecutionResult, Job, Program, Status, sha256

WORKER_SOURCE = Path(__file__).with_name("_worker.py")
PROTOCOL = "2"
DEFAULT_PYTHON = "/usr/bin/python3.11"
DEFAULT_TMP_BYTES = 256 << 20
SANDBOX_UID = 65534  # nobody
# Beyond the worker's own limits, how long the host waits for an answer before
# it declares the worker lost and kills its sandbox.
HOST_GRACE_S = 10.0
# A program still computing at the wall-clock cap (starved by a loaded machine, not
# sleeping) runs on to its CPU limit, but never past this many times its time limit
# (the wall limit of DeepMind's tester).
HARD_WALL_FACTOR = 30.0
START_TIMEOUT_S = 60.0


class UnsandboxedExecutionWarning(UserWarning):
    """Candidate programs run on the host, without isolation."""


class NoCgroupsWarning(UserWarning):
    """Tests are limited per process (strict rlimits), not by a cgroup."""


warnings.simplefilter("always", UnsandboxedExecutionWarning)
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


class WorkerLost(Exception):
    """The worker died or stopped answering (a hostile program, or a crash)."""


def _etc_binds() -> list[str]:
    """The least of /etc that programs and compilers need (dynamic linker, time zone)."""
    args = []
    for name in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "alternatives",
                 f"python{sys.version_info.major}.{sys.version_info.minor}", "python3.11"):
        path = Path("/etc") / name
        if path.exists():
            args += ["--ro-bind", str(path), str(path)]
    return args


def bwrap_command(bwrap: str, tmp_bytes: int) -> list[str]:
    args = [
        bwrap,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--as-pid-1",  # the worker is the sandbox's init: no other process holds its channel
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--setenv", "PATH", "/usr/bin:/bin",
        "--setenv", "LANG", "C.UTF-8",
        "--setenv", "HOME", "/tmp",
        "--setenv", "PYTHONINTMAXSTRDIGITS", "0",  # as on Codeforces: no int <-> str digit limit
        "--uid", str(SANDBOX_UID),
        "--gid", str(SANDBOX_UID),
        "--hostname", "sandbox",
        "--ro-bind", "/usr", "/usr",
    ]
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / top
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), f"/{top}"]
        elif path.is_dir():
            args += ["--ro-bind", str(path), f"/{top}"]
    args += _etc_binds()
    args += [
        "--proc", "/proc",
        "--dev", "/dev",
        "--size", str(tmp_bytes), "--tmpfs", "/tmp",
        "--size", str(16 << 20), "--tmpfs", "/dev/shm",
        "--mqueue", "/dev/mqueue",
        "--remount-ro", "/dev",  # nothing a test writes outside /tmp and /dev/shm (wiped per test)
        "--ro-bind", "/proc/sys", "/proc/sys",  # the namespaces' sysctls (IPC, PID limits) stay as they are
        "--remount-ro", "/",  # bwrap's root is a tmpfs: read-only too
        "--chdir", "/tmp",
    ]
    return args


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
    if not isinstance(count, int) or not 0 <= count <= 2:
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
        self.loaded: str | None = None  # hash of the program the worker holds
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


class LocalBackend(Backend):
    """Runs programs in sandboxed forking workers (see the module docstring).

    `sandbox=False` runs the workers directly on the host with an empty environment
    and a private scratch directory as cwd: no isolation from the file system, the
    network or your processes, no process-count limit, and a process that leaves the
    test's process group (setsid) survives it. It must be asked for explicitly and
    warns on every run.

    Options: `workers` (default: all cores), `python` (the interpreter for candidate
    programs, default /usr/bin/python3.11, never the caller's venv), `tmp_bytes` (size
    of the sandbox's /tmp, 256 MiB), `wall_factor` (wall-clock cap = factor x time + 1 s),
    `compile_time_s` (CPU seconds a compilation may take, 60; 1.5x that of wall time),
    `cgroups` (None: a cgroup per worker where the machine allows it, else strict
    per-process limits, said once; True: required; False: per-process limits).
    """

    name = "local"

    def __init__(self, sandbox: bool = True, python: str = DEFAULT_PYTHON,
                 workers: int | None = None, tmp_bytes: int = DEFAULT_TMP_BYTES,
                 bwrap: str | None = None, wall_factor: float = 5.0, compile_time_s: int = 60,
                 cgroups: bool | None = None):
        self.sandbox = sandbox
        self.compile_time_s = max(1, int(compile_time_s))
        self._cgroups = self._cgroup_support(cgroups) if sandbox else None
        self.wall_factor = float(wall_factor)
        self.python = python
        self.max_workers = workers or os.cpu_count() or 1
        self.tmp_bytes = tmp_bytes
        self.bwrap = bwrap or shutil.which("bwrap") or "/usr/bin/bwrap"
        if not Path(self.python).exists():
            raise UserError(f"The Python interpreter for candidate programs, {self.python}, does not exist: install python3.11 or pass python=PATH.")
        if sandbox and not Path(self.bwrap).exists():
            raise UserError("bubblewrap (bwrap) is needed to sandbox candidate programs: run `make sandbox` (or install the bubblewrap package), or choose the unsandboxed mode explicitly with sandbox=False / --no_sandbox.")
        self._source = WORKER_SOURCE.read_text()
        self._idle: queue.LifoQueue[Worker] = queue.LifoQueue()
        self._count = 0
        self._lock = threading.Lock()
        self._all: list[Worker] = []
        self._closed = False
        self._version: str | None = None
        # bwrap dies with the *thread* that started it (PR_SET_PDEATHSIG): start every
        # worker from one thread that lives as long as the backend.
        self._spawner = ThreadPoolExecutor(1, thread_name_prefix="acodium-spawn")
        if self._cgroups is not None:
            self._first_worker(cgroups)

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

    # -- workers -------------------------------------------------------------------

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
        py = [self.python, "-I", "-B", "-c", self._source]
        fds = [str(request_fd), str(reply_fd), cgroup_spec]
        if self.sandbox:
            return bwrap_command(self.bwrap, self.tmp_bytes) + py + ["sandbox", "/tmp"] + fds
        return py + ["host", scratch] + fds

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
            if self.sandbox and os.geteuid() == 0:
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

    # -- running -------------------------------------------------------------------

    def version(self) -> str:
        if self._version is None:
            py = subprocess.run([self.python, "-c", "import sys;print(sys.version.split()[0])"],
                                capture_output=True, text=True, env={}).stdout.strip()
            gxx = subprocess.run(["g++", "-dumpfullversion"], capture_output=True,
                                 text=True).stdout.strip() if shutil.which("g++") else "none"
            mode = "sandbox" if self.sandbox else "host"
            mode += f"-cgroup{self._cgroups.kind}" if self._cgroups is not None else "-rlimits"
            self._version = (f"{PROTOCOL}/{sha256(self._source)[:12]}/py{py}/g++{gxx}/{mode}/cc{self.compile_time_s}"
                             f"/wall{self.wall_factor:g}-{HARD_WALL_FACTOR:g}")
        return self._version

    def run(self, job: Job) -> list[ExecutionResult]:
        if not self.sandbox:
            warnings.warn("Running candidate programs WITHOUT a sandbox: they can read your "
                          "files and environment and use the network.",
                          UnsandboxedExecutionWarning, stacklevel=2)
        if job.program.language not in ("python3", "cpp"):
            raise UserError(f"Cannot run programs in {job.program.language!r}: the local backend runs python3 and cpp.")
        if job.expected is not None and len(job.expected) != len(job.inputs):
            raise UserError(f"A job has {len(job.inputs)} inputs but {len(job.expected)} expected outputs.")
        # The job may replace its worker (lost, or dirty); `held` always names the live one.
        held = [self._acquire()]
        try:
            return self._run_on(held, job)
        finally:
            self._release(held[0])

    def _load(self, worker: Worker, program: Program) -> dict:
        if worker.loaded == program.hash:
            return {"ok": True}
        worker.loaded = None
        reply, blobs = worker.request(
            {"op": "load", "language": program.language, "hash": program.hash,
             "compile_time_s": self.compile_time_s},
            [program.code.encode("utf-8", "surrogatepass")], timeout=120.0)
        if reply.get("ok"):
            worker.loaded = program.hash
        elif blobs:  # the compiler's messages
            reply = dict(reply, stderr=blobs[0].decode("utf-8", "replace"))
        return reply

    def _run_on(self, held: list[Worker], job: Job) -> list[ExecutionResult]:
        program = job.program
        limits = job.limits
        results: list[ExecutionResult] = []
        try:
            loaded = self._load(held[0], program)
        except WorkerLost:  # died while idle, or while compiling: one more try in a fresh sandbox
            held[0] = self._replace(held[0])
            try:
                loaded = self._load(held[0], program)
            except WorkerLost as e:
                held[0] = self._replace(held[0])
                loaded = {"error": f"sandbox error while loading the program: {e}"}
        if not loaded.get("ok"):
            return self._not_loaded(program, loaded, job, len(job.inputs))
        wall_s = self.wall_factor * limits.time_s + 1.0
        hard_wall_s = max(wall_s, HARD_WALL_FACTOR * limits.time_s + 1.0)
        header = {"op": "run", "time_s": float(limits.time_s), "wall_s": wall_s, "hard_wall_s": hard_wall_s,
                  "memory_bytes": int(limits.memory_bytes), "output_bytes": int(limits.output_bytes)}
        wait = hard_wall_s + HOST_GRACE_S
        most = max(int(limits.output_bytes), MAX_BLOB)  # stdout is cut at the output limit (1 MiB shown past it)
        for i, text in enumerate(job.inputs):
            try:
                stdin = [text.encode("utf-8", "surrogatepass")]
                reply, blobs = held[0].request(header, stdin, wait, most)
                if reply.get("retry"):  # the worker found itself altered before forking: the test never ran
                    loaded = self._fresh(held, program)
                    if not loaded.get("ok"):
                        return results + self._not_loaded(program, loaded, job, len(job.inputs) - i)
                    reply, blobs = held[0].request(header, stdin, wait, most)
                result = self._result(program, reply, blobs)
                if reply.get("restart"):  # the worker could not clean up after this test
                    loaded = self._fresh(held, program)
            except WorkerLost as e:
                result = ExecutionResult(status=Status.SANDBOX_ERROR, passed=None,
                                         stderr=f"sandbox error: {e}", program_hash=program.hash)
                loaded = self._fresh(held, program)
            if job.expected is not None:
                result.passed = result.status == Status.OK and check_output(result.stdout, job.expected[i])
            results.append(result)
            if job.stop_on_first_failure and not (
                    result.passed if job.expected is not None else result.status == Status.OK):
                break
            if not loaded.get("ok"):  # the program no longer loads: its remaining tests say why
                return results + self._not_loaded(program, loaded, job, len(job.inputs) - i - 1)
        return results

    def _fresh(self, held: list[Worker], program: Program) -> dict:
        """Replace a lost or dirty worker (held[0]) and give the new one the current program:
        the load's reply. A program can compile once and not the next time (its code may
        look at the clock): that is its result for the tests left, never an exception."""
        held[0] = self._replace(held[0])
        try:
            return self._load(held[0], program)
        except WorkerLost as e:
            held[0] = self._replace(held[0])
            return {"error": f"sandbox error while loading the program again: {e}"}

    @staticmethod
    def _not_loaded(program: Program, loaded: dict, job: Job, count: int) -> list[ExecutionResult]:
        """Results for `count` tests of a program that could not be loaded (one if the job
        stops at its first failure)."""
        status = Status.COMPILE_ERROR if loaded.get("compile_error") else Status.SANDBOX_ERROR
        result = dict(status=status, passed=False if job.expected is not None and status == Status.COMPILE_ERROR
                      else None, stderr=str(loaded.get("stderr", loaded.get("error", "")))[-8192:],
                      program_hash=program.hash)
        return [ExecutionResult(**result) for _ in range(min(count, 1) if job.stop_on_first_failure else count)]

    @staticmethod
    def _result(program: Program, reply: dict, blobs: list[bytes]) -> ExecutionResult:
        """The worker's reply as a result; WorkerLost for anything that is not a well-formed one."""
        if "status" not in reply or len(blobs) != 2 or reply.get("retry"):
            raise WorkerLost(str(reply.get("error", "malformed reply")))
        stdout, stderr = blobs
        try:
            status = Status(reply["status"])
            times = [float(reply.get(k, 0.0)) for k in ("time_s", "cpu_s")]
            memory = reply.get("memory_bytes")
            numbers = times + ([float(memory)] if memory is not None else [])
            if status == Status.SANDBOX_ERROR or not all(math.isfinite(x) and x >= 0 for x in numbers):
                raise ValueError
        except (TypeError, ValueError) as e:
            raise WorkerLost("a malformed reply from the worker") from e
        return ExecutionResult(
            status=status,
            passed=None,
            stdout=stdout.decode("utf-8", "replace"),
            stderr=stderr.decode("utf-8", "replace"),
            exit_code=reply.get("exit_code"),
            signal=reply.get("signal"),
            time_s=times[0],
            cpu_s=times[1],
            memory_bytes=memory,
            program_hash=program.hash,
            output_hash=sha256(stdout),
        )

    def run_many(self, jobs, workers: int = 1):
        return super().run_many(jobs, workers=min(workers, self.max_workers) or 1)

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers, self._all = self._all, []
        for w in workers:
            w.kill()
        self._spawner.shutdown(wait=False)
