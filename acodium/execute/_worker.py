"""The execution worker: runs inside the sandbox, forks once per test.

Started by `acodium.execute.local` as `python3.11 -I -B -c <this file> MODE SCRATCH`,
inside bubblewrap (MODE "sandbox") or, only on explicit request, directly on the
host (MODE "host"). It talks to its parent over fds 0 (requests) and 1 (replies)
and never runs candidate code itself: each test is a fork of this pristine
process, so interpreter start-up and the import of common modules are paid
once per worker, not once per test (the main cost on real workloads).

Frames, both ways: 4-byte big-endian header length, a JSON header, then one
8-byte length + raw bytes per entry of header["blobs"]. Requests:
  {"op": "load", "language", "hash"} + [source]  -> {"ok"} or {"compile_error", "stderr"}
  {"op": "run", "time_s", "wall_s", "hard_wall_s", "memory_bytes", "output_bytes"} + [stdin]
      -> {"status", "exit_code", "signal", "time_s", "cpu_s", "memory_bytes",
          "stdout_bytes", "stderr_bytes", "restart"} + [stdout, stderr tail]
A reply with "restart" true is the worker's last: something of the test (a process, a
file, an IPC object) resisted cleaning, and a fresh sandbox must take over.
This file must stay importable by a bare /usr/bin/python3.11 (stdlib only).
"""

import ctypes
import fcntl
import json
import os
import resource
import select
import shutil
import signal
import struct
import sys
import time

# Modules a competitive program typically imports: loaded once here, inherited
# by every forked test, so `import math` in a candidate costs nothing.
import array  # noqa: F401
import bisect  # noqa: F401
import collections  # noqa: F401
import decimal  # noqa: F401
import fractions  # noqa: F401
import functools  # noqa: F401
import heapq  # noqa: F401
import io
import itertools  # noqa: F401
import math  # noqa: F401
import operator  # noqa: F401
import random
import re  # noqa: F401
import string  # noqa: F401
import threading
import types
import atexit
import gc

MODE = sys.argv[1] if len(sys.argv) > 1 else "host"
SCRATCH = sys.argv[2] if len(sys.argv) > 2 else "/tmp"
SANDBOXED = MODE == "sandbox"

PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")
STDERR_TAIL = 8192
# Address space a Python program may reserve beyond its memory limit: thread
# stacks (threading.stack_size) and malloc arenas reserve far more than they
# touch. Memory actually used (resident) is held to the limit by polling.
PY_VIRTUAL_HEADROOM = 1 << 30
# Default stack of threads a program starts without threading.stack_size();
# glibc would otherwise use the (large) main-thread stack limit.
THREAD_STACK = 64 << 20
# Main-thread stack of Python programs: deep recursion after sys.setrecursionlimit
# (through C frames too: lru_cache, __init__, sort keys) works as on Codeforces.
MAIN_STACK = 1 << 30
MAX_PROCS = 64  # processes + threads per test (RLIMIT_NPROC, counted per sandbox)
COMPILE_TIME_S = 60
COMPILE_MEMORY = 2 << 30
POLL_S = 0.005

libc = ctypes.CDLL(None, use_errno=True)
# fork() called with the GIL held, as os.fork() does (PyDLL keeps it).
_libc_fork = ctypes.PyDLL(None, use_errno=True).fork
_libc_fork.restype = ctypes.c_int
_libc_fork.argtypes = []
PR_SET_DUMPABLE = 4
MFD_EXEC = 0x10

threading.stack_size(THREAD_STACK)


def set_dumpable(flag):
    libc.prctl(PR_SET_DUMPABLE, int(flag), 0, 0, 0)


def fork_test():
    """fork() for a test, without os.fork()'s Python-level after-fork work.

    os.fork() runs, in the child, every os.register_at_fork hook: threading's
    _after_fork (rebuilds the thread table and its locks) and random's reseed. In
    this single-threaded worker the first has nothing to repair, yet it touches
    enough of the inherited heap to cost ~120 copy-on-write page faults and about
    0.4 ms per test, a third of an echo test's cost. So tests are forked with
    libc's fork() (glibc's own at-fork handling included) and random is reseeded
    by the worker before each fork instead (`reseed`): each test still starts
    from fresh random state. With another thread alive, os.fork() it is.
    """
    if threading.active_count() != 1:
        return os.fork()
    pid = _libc_fork()
    if pid < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return pid


def reseed():
    """In the worker, before a fork: the state the next test's `random` starts from."""
    random.seed()


# --- framing -------------------------------------------------------------------------

def read_exact(fd, n):
    chunks = []
    while n:
        b = os.read(fd, min(n, 1 << 20))
        if not b:
            raise EOFError
        chunks.append(b)
        n -= len(b)
    return b"".join(chunks)


def recv(fd):
    (hlen,) = struct.unpack(">I", read_exact(fd, 4))
    header = json.loads(read_exact(fd, hlen))
    blobs = []
    for _ in range(header.get("blobs", 0)):
        (blen,) = struct.unpack(">Q", read_exact(fd, 8))
        blobs.append(read_exact(fd, blen))
    return header, blobs


def send(fd, header, blobs=()):
    header = dict(header, blobs=len(blobs))
    h = json.dumps(header).encode()
    parts = [struct.pack(">I", len(h)), h]
    for b in blobs:
        parts.append(struct.pack(">Q", len(b)))
        parts.append(b)
    data = b"".join(parts)
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


# --- files ---------------------------------------------------------------------------

def memfd(name, data=b""):
    fd = os.memfd_create(name, os.MFD_CLOEXEC)
    if data:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.lseek(fd, 0, os.SEEK_SET)
    return fd


def sealed_executable(data):
    """A read-only, sealed in-memory copy of a binary: no test can overwrite it."""
    flags = os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING
    try:
        fd = os.memfd_create("solution", flags | MFD_EXEC)
    except OSError:
        fd = os.memfd_create("solution", flags)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE | fcntl.F_SEAL_GROW
                | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_SEAL)
    # exec refuses a file open for writing (ETXTBSY): keep a read-only fd only.
    ro = os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_CLOEXEC)
    os.close(fd)
    return ro


def read_fd(fd, limit):
    size = os.fstat(fd).st_size
    os.lseek(fd, 0, os.SEEK_SET)
    want = min(size, limit)
    chunks = []
    while want > 0:
        b = os.read(fd, min(want, 1 << 20))
        if not b:
            break
        chunks.append(b)
        want -= len(b)
    return b"".join(chunks), size


def read_tail(fd, limit):
    size = os.fstat(fd).st_size
    os.lseek(fd, max(0, size - limit), os.SEEK_SET)
    return os.read(fd, limit), size


def force_remove(path):
    """Remove a file or a tree, restoring the permissions a test may have taken away."""
    if os.path.isdir(path) and not os.path.islink(path):
        try:
            os.chmod(path, 0o700)
        except OSError:
            pass
        for name in os.listdir(path):
            force_remove(os.path.join(path, name))
        os.rmdir(path)
    else:
        os.unlink(path)


def wipe_scratch():
    """Remove whatever the last test left in the writable places; False if something resists."""
    dirs = [SCRATCH] + (["/dev/shm", "/dev/mqueue"] if SANDBOXED else [])
    try:
        clean = True
        for top in dirs:
            entries = os.listdir(top)
            for name in entries:
                force_remove(os.path.join(top, name))
            clean = clean and not (entries and os.listdir(top))
        return clean and (not SANDBOXED or not ipc_in_use() or clean_ipc())
    except Exception:  # noqa: BLE001 - e.g. too deep a tree: a fresh sandbox will do
        return False


IPC_RMID = 0
SHM_INFO, SEM_INFO, MSG_INFO = 14, 19, 12
IPC_INFO_BUFFER = ctypes.create_string_buffer(64)  # fits struct shm_info, seminfo, msginfo


def ipc_in_use():
    """Whether a System V IPC object exists in our IPC namespace (the usual answer: no).

    The kernel's own counts, from shmctl/semctl/msgctl with SHM_INFO/SEM_INFO/MSG_INFO
    (shm_info.used_ids, seminfo.semusz, msginfo.msgpool): three system calls instead of
    reading /proc/sysvipc. Any failure counts as "in use" (clean_ipc then looks).
    """
    buf = IPC_INFO_BUFFER
    if libc.shmctl(0, SHM_INFO, buf) < 0 or struct.unpack_from("i", buf, 0)[0]:
        return True
    if libc.semctl(0, 0, SEM_INFO, buf) < 0 or struct.unpack_from("i", buf, 28)[0]:
        return True
    if libc.msgctl(0, MSG_INFO, buf) < 0 or struct.unpack_from("i", buf, 0)[0]:
        return True
    return False


def clean_ipc():
    """Remove System V shared memory, semaphores and queues a test left in our IPC namespace
    (they outlive processes and would hold memory beyond any test's limits)."""
    removers = {
        "shm": lambda i: libc.shmctl(i, IPC_RMID, None),
        "sem": lambda i: libc.semctl(i, 0, IPC_RMID),
        "msg": lambda i: libc.msgctl(i, IPC_RMID, None),
    }
    clean = True
    for kind, remove in removers.items():
        with open(f"/proc/sysvipc/{kind}") as fh:
            lines = fh.read().splitlines()[1:]
        for line in lines:
            remove(int(line.split()[1]))
        if lines:
            with open(f"/proc/sysvipc/{kind}") as fh:
                clean = clean and len(fh.read().splitlines()) <= 1
    return clean


def other_pids():
    me = os.getpid()
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, me)]


def others_alive():
    """In the sandbox: does any process other than us and bwrap's init exist (zombies too)?

    kill(-1, 0) signals nothing but counts: in a PID namespace it addresses every
    process of the namespace except its init and the caller (all run as our user, so
    none is out of reach), and fails with ESRCH when there is none. One system call
    instead of a listing of /proc.
    """
    try:
        os.kill(-1, 0)
    except ProcessLookupError:
        return False
    except OSError:
        pass
    return True


def sweep(pgid):
    """Kill everything the test started, grandchildren that left its group included.

    False if processes survive (the worker then asks to be replaced).
    """
    # Inside our own PID namespace (we are pid 2, bwrap's init is pid 1) kill(-1)
    # reaches exactly the processes of this sandbox. Never on the host.
    own_namespace = SANDBOXED and os.getpid() <= 3
    if own_namespace and not others_alive():
        return True  # the usual case: the test's one process, reaped, was all there was
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
    if own_namespace:
        deadline = time.monotonic() + 2.0
        while other_pids():
            try:
                os.kill(-1, signal.SIGKILL)
            except OSError:
                pass
            if time.monotonic() > deadline:
                return False
            time.sleep(0.001)
    return True


# --- programs ------------------------------------------------------------------------

class Loaded:
    def __init__(self, language, code=None, binary_fd=None):
        self.language = language
        self.code = code
        self.binary_fd = binary_fd


LOADED = {}  # program hash -> Loaded (most recent last)
MAX_LOADED = 32


def remember(h, loaded):
    LOADED[h] = loaded
    while len(LOADED) > MAX_LOADED:
        old = LOADED.pop(next(iter(LOADED)))
        if old.binary_fd is not None:
            os.close(old.binary_fd)


def load(header, blobs):
    h = header["hash"]
    if h in LOADED:
        LOADED[h] = LOADED.pop(h)
        return {"ok": True}
    source = blobs[0]
    language = header["language"]
    if language == "python3":
        try:
            code = compile(source, "solution.py", "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as e:  # ValueError: null bytes in source
            import traceback
            return {"compile_error": True, "stderr": "".join(
                traceback.format_exception_only(type(e), e))[-STDERR_TAIL:]}
        remember(h, Loaded(language, code=code))
        return {"ok": True}
    if language == "cpp":
        return compile_cpp(h, source)
    return {"compile_error": True, "stderr": f"unsupported language {language!r}"}


def compile_cpp(h, source):
    build = os.path.join(SCRATCH, ".build-" + h[:16])
    os.makedirs(build, exist_ok=True)
    src = os.path.join(build, "solution.cpp")
    exe = os.path.join(build, "solution")
    with open(src, "wb") as fh:
        fh.write(source)
    err_fd = memfd("compile-stderr")
    cmd = ["/usr/bin/g++", "-O2", "-std=c++17", "-o", exe, src]
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            os.dup2(err_fd, 1)
            os.dup2(err_fd, 2)
            os.closerange(3, 1 << 16)
            resource.setrlimit(resource.RLIMIT_AS, (COMPILE_MEMORY, COMPILE_MEMORY))
            resource.setrlimit(resource.RLIMIT_CPU, (COMPILE_TIME_S, COMPILE_TIME_S + 1))
            if SANDBOXED:
                resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCS, MAX_PROCS))
            for sig in (signal.SIGPIPE, signal.SIGXFSZ):
                signal.signal(sig, signal.SIG_DFL)
            env = dict(os.environ, TMPDIR=build)
            os.execve(cmd[0], cmd, env)
        finally:
            os._exit(127)
    status, _, _, _ = wait_child(pid, COMPILE_TIME_S * 1.5, None, None)
    sweep(pid)
    stderr, _ = read_tail(err_fd, STDERR_TAIL)
    os.close(err_fd)
    ok = status == 0 and os.path.exists(exe)
    if ok:
        with open(exe, "rb") as fh:
            binary = fh.read()
    shutil.rmtree(build, ignore_errors=True)
    if not ok:
        return {"compile_error": True, "stderr": stderr.decode("utf-8", "replace")}
    remember(h, Loaded("cpp", binary_fd=sealed_executable(binary)))
    return {"ok": True}


def proc_usage(pid):
    """(cpu seconds, resident bytes) of a running process, from /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / TICKS
        rss = int(fields[21]) * PAGE
        return cpu, rss
    except (OSError, IndexError, ValueError):
        return 0.0, 0


def wait_child(pid, wall_limit, cpu_limit, memory_limit, hard_wall_limit=None):
    """Wait for `pid`, killing it at a limit. Returns (wait status, rusage, wall, reason).

    Past `wall_limit` a program is killed only if it is idle (under 5% of a CPU over
    the last half second): one that is computing but starved by a loaded machine runs
    on to its CPU limit, up to `hard_wall_limit`.
    """
    start = time.monotonic()
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    reason = None
    hard = hard_wall_limit if hard_wall_limit is not None else wall_limit
    window = (start, 0.0)  # (time, cpu) at the start of the current activity window
    try:
        while True:
            if poller.poll(POLL_S * 1000):
                break
            now = time.monotonic()
            wall = now - start
            cpu, rss = proc_usage(pid)
            if now - window[0] >= 0.5:
                active = (cpu - window[1]) >= 0.05 * (now - window[0])
                window = (now, cpu)
            else:
                active = True
            if (cpu_limit is not None and cpu > cpu_limit) or wall > hard or (
                    wall > wall_limit and not active):
                reason = "time"
            elif memory_limit is not None and rss > memory_limit:
                reason = "memory"
            if reason:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    os.kill(pid, signal.SIGKILL)
                break
        _, status, usage = os.wait4(pid, 0)
    finally:
        os.close(pidfd)
    return status, usage, time.monotonic() - start, reason


def worker_limits():
    """The limits every test shares, set once on the worker and inherited: no core
    files and, in the sandbox, at most MAX_PROCS processes and threads."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if SANDBOXED:
        resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCS, MAX_PROCS))


def test_limits(limits, language):
    """[(resource, (soft, hard))] a test's process sets on itself (computed in the worker)."""
    memory = limits["memory_bytes"]
    output = limits["output_bytes"]
    cpu = max(1, int(limits["time_s"] + 0.999)) + 1
    plan = [(resource.RLIMIT_FSIZE, (output + 1, output + 1)), (resource.RLIMIT_CPU, (cpu, cpu + 1))]
    if language == "python3":
        virtual = memory + PY_VIRTUAL_HEADROOM
    else:
        # A C++ program's stack may grow to its memory limit, as on Codeforces.
        _, hard = resource.getrlimit(resource.RLIMIT_STACK)
        stack = memory if hard == resource.RLIM_INFINITY else min(memory, hard)
        plan.append((resource.RLIMIT_STACK, (max(stack, 8 << 20), hard)))
        virtual = memory + (64 << 20)
    plan.append((resource.RLIMIT_AS, (virtual, virtual)))
    return plan


TEST_STREAMS = None  # sys.stdin, sys.stdout, sys.stderr of every Python test
# The interpreter's own std streams, kept alive so that no test pays for their release.
WORKER_STREAMS = (sys.__stdin__, sys.__stdout__, sys.__stderr__)


def make_test_streams():
    """The text streams a Python test gets as sys.stdin/stdout/stderr, built once.

    They wrap fds 0, 1 and 2 by number, so in a forked test they are its stdin and
    stdout/stderr files. The worker never uses them: every test starts from a pristine
    copy, and building three TextIOWrappers (codec lookup, buffers: ~100 copy-on-write
    page faults) is paid once per worker, not per test. Built while fds 0-2 are all
    /dev/null, at offset 0, like a test's fresh files (same block size, not a tty).
    """
    def stream(fd, mode, like):
        # io.open, like the interpreter: a TextIOWrapper with .mode, .name, a buffer.
        return io.open(fd, mode, encoding=like.encoding, errors=like.errors,
                       closefd=False, buffering=1 if fd == 2 else -1)

    saved = [os.dup(fd) for fd in (0, 1, 2)]
    null = os.open(os.devnull, os.O_RDWR)
    try:
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        return (stream(0, "r", sys.__stdin__), stream(1, "w", sys.__stdout__),
                stream(2, "w", sys.__stderr__))
    finally:
        for fd, old in zip((0, 1, 2), saved):
            os.dup2(old, fd)
            os.close(old)
        os.close(null)


def enter_python_test():
    """In the worker, just before a Python test's fork: the interpreter state the test
    starts in (its std streams, argv, a fresh __main__, fresh random state).

    Set here rather than in the child, where every object touched costs a copy-on-write
    page fault. Returns what `leave_python_test` restores once the test is reaped, and a
    box [module, gc collections so far] that the child empties (so that nothing else
    keeps the program's module alive when it ends).
    """
    main = types.ModuleType("__main__")
    main.__file__ = "solution.py"
    main.__builtins__ = __builtins__
    saved = (sys.stdin, sys.stdout, sys.stderr, sys.__stdin__, sys.__stdout__, sys.__stderr__,
             sys.argv, sys.modules.get("__main__"))
    sys.stdin, sys.stdout, sys.stderr = TEST_STREAMS
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = TEST_STREAMS
    sys.argv = ["solution.py"]
    sys.modules["__main__"] = main
    reseed()
    return saved, [main, gc_collections()]


def leave_python_test(saved):
    """In the worker, after the test: back to the worker's own interpreter state."""
    (sys.stdin, sys.stdout, sys.stderr, sys.__stdin__, sys.__stdout__, sys.__stderr__,
     sys.argv, sys.modules["__main__"]) = saved


def run_python(code, box):
    """In the forked child: run `code` as the script `solution.py` would run. Never returns."""
    main, gc_before = box
    box.clear()
    exit_code = 0
    try:
        exec(code, main.__dict__)
    except SystemExit as e:
        exit_code = exit_status(e)
    except BaseException as e:  # noqa: BLE001 - report like the interpreter does
        tb = e.__traceback__.tb_next if e.__traceback__ else None
        try:
            sys.excepthook(type(e), e.with_traceback(tb), tb)
        except BaseException:  # noqa: BLE001
            pass
        exit_code = 1
    try:
        if threading.active_count() > 1:
            threading._shutdown()  # wait for non-daemon threads, as interpreter exit does
    except BaseException:  # noqa: BLE001
        pass
    try:
        atexit._run_exitfuncs()
    except BaseException:  # noqa: BLE001
        pass
    if not flush_streams((sys.stdout, sys.stderr)):
        exit_code = exit_code or 120  # CPython's exit code when stdout cannot be flushed
    # Interpreter teardown: restore the std streams and let the program's objects go,
    # so their finalizers run as at exit. Fast-IO templates rely on it: a wrapper
    # around fd 1 that is never flushed explicitly writes its buffer in IOBase.__del__.
    sys.stdout, sys.stderr, sys.stdin = sys.__stdout__, sys.__stderr__, sys.__stdin__
    if sys.modules.get("__main__") is main:
        del sys.modules["__main__"]
    del main
    try:
        # A full collection also empties CPython's free lists (~20 page faults, 0.1 ms
        # per test): while the program's objects are all young (no collection of an
        # older generation since the fork), collecting the young ones is the same.
        gc.collect(1 if gc_collections() == gc_before else 2)
    except BaseException:  # noqa: BLE001
        pass
    flush_streams((sys.__stdout__, sys.__stderr__))
    os._exit(exit_code)


def gc_collections():
    """How many collections of generations 1 and 2 there have been (a young object
    can only reach generation 2 through one of them)."""
    stats = gc.get_stats()
    return stats[1]["collections"] + stats[2]["collections"]


def flush_streams(streams):
    ok = True
    for i, s in enumerate(streams):
        try:
            if s is not None and not s.closed:  # a program may close sys.stdout itself
                s.flush()
        except BaseException:  # noqa: BLE001
            ok = ok and i != 0  # only stdout matters to the exit code
    return ok


def exit_status(e):
    code = e.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        print(code, file=sys.stderr)
    except BaseException:  # noqa: BLE001
        pass
    return 1


def run_test(h, header, blobs):
    loaded = LOADED[h]
    limits = header
    in_fd = memfd("stdin", blobs[0])
    out_fd = memfd("stdout")
    err_fd = memfd("stderr")
    plan = test_limits(limits, loaded.language)
    python = loaded.language == "python3"
    saved, box = enter_python_test() if python else (None, None)
    try:
        pid = fork_test()
    except BaseException:
        if python:
            leave_python_test(saved)
        raise
    if pid == 0:
        try:
            os.setsid()
            set_dumpable(True)
            os.dup2(in_fd, 0)
            os.dup2(out_fd, 1)
            os.dup2(err_fd, 2)
            keep = loaded.binary_fd
            if keep is None:
                os.closerange(3, 1 << 16)
            else:
                os.closerange(3, keep)
                os.closerange(keep + 1, 1 << 16)
            for what, value in plan:
                resource.setrlimit(what, value)
            if python:
                run_python(loaded.code, box)
            for sig in (signal.SIGPIPE, signal.SIGXFSZ):
                signal.signal(sig, signal.SIG_DFL)
            os.execve(loaded.binary_fd, ["solution"], dict(os.environ))
        except BaseException:  # noqa: BLE001
            try:
                import traceback
                os.write(2, traceback.format_exc().encode()[-2000:])
            except BaseException:  # noqa: BLE001
                pass
        os._exit(127)
    try:
        os.close(in_fd)
        time_s = limits["time_s"]
        wall_limit = limits["wall_s"]
        status, usage, wall, reason = wait_child(pid, wall_limit, time_s, limits["memory_bytes"],
                                                 limits.get("hard_wall_s"))
    finally:
        # (Not before: written while the test runs, these pages would be copied.)
        if python:
            leave_python_test(saved)
    clean = sweep(pid)
    stdout, stdout_size = read_fd(out_fd, limits["output_bytes"])
    stderr, stderr_size = read_tail(err_fd, STDERR_TAIL)
    os.close(out_fd)
    os.close(err_fd)
    clean = wipe_scratch() and clean
    cpu = usage.ru_utime + usage.ru_stime
    memory = usage.ru_maxrss * 1024
    exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    out_limit = limits["output_bytes"]
    last_err_line = stderr.decode("utf-8", "replace").strip().rsplit("\n", 1)[-1]
    if reason == "time" or cpu > time_s or sig == signal.SIGXCPU:
        verdict = "TIMEOUT"
    elif reason == "memory" or memory > limits["memory_bytes"]:
        verdict = "MEMORY_LIMIT"
    elif stdout_size > out_limit or stderr_size > out_limit or sig == signal.SIGXFSZ:
        verdict = "OUTPUT_LIMIT"
    elif exit_code == 0:
        verdict = "OK"
    elif last_err_line.startswith("MemoryError") or "std::bad_alloc" in last_err_line:
        verdict = "MEMORY_LIMIT"
    else:
        verdict = "RUNTIME_ERROR"
    if verdict == "OUTPUT_LIMIT":
        stdout = stdout[:1 << 20]  # only shown, never judged
    return {
        "status": verdict, "exit_code": exit_code, "signal": sig, "time_s": wall,
        "cpu_s": cpu, "memory_bytes": memory, "stdout_bytes": stdout_size,
        "stderr_bytes": stderr_size, "restart": not clean,
    }, [stdout, stderr]


def settle():
    """Before tests are forked: the worker's objects into the permanent generation (the
    tests' collections then leave them, and their pages, alone) and the heap's free
    memory back to the system (fewer pages for each fork to copy, each test to unmap)."""
    gc.freeze()
    libc.malloc_trim(0)


def ensure_big_stack():
    """The main stack can only grow as far as the limit in force at exec: re-exec once with it raised."""
    soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
    want = MAIN_STACK if hard == resource.RLIM_INFINITY else min(MAIN_STACK, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_STACK, (want, hard))
        os.execv(sys.executable, [sys.executable] + sys.orig_argv[1:])


def main():
    ensure_big_stack()
    # The control channel moves off 0/1 so no test can inherit it by accident.
    req = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 10)
    rep = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 10)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    # Tests run as the same user: without this they could read our fds and memory.
    set_dumpable(False)
    worker_limits()
    os.chdir(SCRATCH)
    global TEST_STREAMS
    TEST_STREAMS = make_test_streams()
    settle()
    send(rep, {"ok": True, "python": sys.version.split()[0], "pid": os.getpid()})
    current = None
    while True:
        try:
            header, blobs = recv(req)
        except EOFError:
            return
        op = header.get("op")
        if op == "load":
            reply = load(header, blobs)
            current = header["hash"] if reply.get("ok") else None
            settle()
            send(rep, reply)
        elif op == "run":
            if current is None:
                send(rep, {"error": "no program loaded"})
                continue
            reply, out = run_test(current, header, blobs)
            send(rep, reply, out)
            if reply["restart"]:
                return  # something of the test survived: a fresh sandbox replaces us
        elif op == "ping":
            send(rep, {"ok": True})
        else:
            send(rep, {"error": f"unknown op {op!r}"})


if __name__ == "__main__":
    main()
