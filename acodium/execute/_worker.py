"""The execution worker: runs inside the sandbox, forks once per test.

Started by `acodium.execute.local` as
`python3 -I -B -c <this file> MODE SCRATCH REQUEST_FD REPLY_FD [CGROUP_JSON]`, inside
bubblewrap (MODE "sandbox", where it is the sandbox's pid 1) or, only on explicit
request, directly on the host (MODE "host"). It talks to its parent over the two
inherited pipe fds (its stdio is /dev/null) and never runs candidate code itself:
each test is a fork of this pristine process, so interpreter start-up and the import
of common modules are paid once per worker, not once per test.

Why a test cannot forge its verdict or harm the next one: the control channel is
held by this process alone (moved to close-on-exec fds, closed in every test); this
process is not dumpable (no ptrace, /proc/1/mem, pidfd_getfd by a test of the same
user) and, as pid 1 of its PID namespace, ignores every signal a test sends it; every
test runs under a seccomp filter (`seccomp_filter`) that refuses the system calls that
reach other processes (ptrace, process_vm_*, pidfd_getfd, kcmp, prlimit/priority/
scheduling of another process, ...); its limits are checked before each fork; tests
see only the program under test (the worker holds one program at a time) and nothing
they write survives them (/tmp, /dev/shm and IPC wiped, /dev read-only). Resources are
counted over every process a test starts (CPU summed over the test's processes, or a
cgroup's counters where the host gave one).

Frames, both ways: 4-byte big-endian header length, a JSON header, then one
8-byte length + raw bytes per entry of header["blobs"]. Every request carries a
sequence number "seq" that its reply repeats. Requests:
  {"op": "load", "language", "hash", "role", "includes"} + [source, *included files]
      -> {"ok"} or {"compile_error", "stderr"}; role: "program" (the candidate, the
         default), "checker" or "interactor" (the judge's programs, held beside it)
         A candidate's C++ or Java load may ask for the compiled program back, to give
         the machine's other workers ("export_max": its largest size; the reply's part,
         with {"artifact": {"main_class"}} for Java), or give one ("prebuilt": {"main_class"}
         + [the binary or jar], compiled by another worker from the same source).
  {"op": "run", "role", "argv", "time_s", "wall_s", "hard_wall_s", "memory_bytes",
   "output_bytes"} + [stdin, *files on fds 3, 4, ...]
      -> {"status", "exit_code", "signal", "time_s", "cpu_s", "memory_bytes",
          "stdout_bytes", "stderr_bytes", "restart"} + [stdout, stderr tail]
         or {"retry": true, "error"}: the worker found itself altered before the fork (the
         test did not run; a fresh sandbox must run it)
  {"op": "interact", "program": limits, "interactor": limits, "wall_s"} + [input]
      -> the same, with "judge" (the interactor's figures) + [its output file, the
         candidate's stderr tail, the interactor's] (see `run_interactive`)
A reply with "restart" or "retry" true is the worker's last: something of the test (a
process, a file, an IPC object) resisted cleaning, and a fresh sandbox must take over.
This file must stay importable by a bare python3 (stdlib only).
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
REQUEST_FD = int(sys.argv[3]) if len(sys.argv) > 3 else 0
REPLY_FD = int(sys.argv[4]) if len(sys.argv) > 4 else 1
CGROUP = json.loads(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[5] else None
SANDBOXED = MODE == "sandbox"

PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")
STDERR_TAIL = 8192
# Address space a Python program may reserve beyond its memory limit: thread
# stacks (threading.stack_size) and malloc arenas reserve far more than they
# touch. Memory actually used (resident) is held to the limit by polling.
PY_VIRTUAL_HEADROOM = 1 << 30
# The same for an interpreter exec'd per test: PyPy reserves ~1.4 GB for deep recursion
# (sys.setrecursionlimit(10**6) is a MemoryError under 1 GiB of headroom).
EXEC_VIRTUAL_HEADROOM = 4 << 30
# Default stack of threads a program starts without threading.stack_size();
# glibc would otherwise use the (large) main-thread stack limit.
THREAD_STACK = 64 << 20
# Main-thread stack of Python programs: deep recursion after sys.setrecursionlimit
# (through C frames too: lru_cache, __init__, sort keys) works as on Codeforces.
MAIN_STACK = 1 << 30
MAX_PROCS = 64  # processes + threads per test (RLIMIT_NPROC, counted per sandbox)
MAX_FILES = 64  # open files per test process (RLIMIT_NOFILE; pipes and files hold memory)
COMPILE_TIME_S = 60
COMPILE_MEMORY = 2 << 30
POLL_S = 0.005

libc = ctypes.CDLL(None, use_errno=True)
# fork() called with the GIL held, as os.fork() does (PyDLL keeps it).
_libc_fork = ctypes.PyDLL(None, use_errno=True).fork
_libc_fork.restype = ctypes.c_int
_libc_fork.argtypes = []
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
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


# --- the tests' seccomp filter ---------------------------------------------------------

# (audit arch, syscalls refused outright, syscalls allowed only on the caller itself
# (argument 0 is a pid that must be 0), setpriority, syscalls that make memory no
# process maps (refused unless a cgroup counts it), fcntl (whose F_SETPIPE_SZ is refused
# with them: 1 MiB pipes)), per machine.
SYSCALLS = {
    "x86_64": (0xC000003E, {
        "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "pidfd_getfd": 438,
        "kcmp": 312, "process_madvise": 440, "migrate_pages": 256, "move_pages": 279,
        "perf_event_open": 298, "bpf": 321, "userfaultfd": 323, "keyctl": 250, "add_key": 248,
        "request_key": 249, "io_uring_setup": 425, "io_uring_enter": 426,
        "io_uring_register": 427, "mount": 165, "umount2": 166, "pivot_root": 155,
        "unshare": 272, "setns": 308, "open_by_handle_at": 304, "ioprio_set": 251,
        "memfd_secret": 447},
        {"prlimit64": 302, "sched_setaffinity": 203, "sched_setscheduler": 144,
         "sched_setparam": 142, "sched_setattr": 314}, 141,
        {"memfd_create": 319, "shmget": 29, "msgget": 68, "socket": 41, "socketpair": 53}, 72),
    "aarch64": (0xC00000B7, {
        "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "pidfd_getfd": 438,
        "kcmp": 272, "process_madvise": 440, "migrate_pages": 238, "move_pages": 239,
        "perf_event_open": 241, "bpf": 280, "userfaultfd": 282, "keyctl": 219, "add_key": 217,
        "request_key": 218, "io_uring_setup": 425, "io_uring_enter": 426,
        "io_uring_register": 427, "mount": 40, "umount2": 39, "pivot_root": 41,
        "unshare": 97, "setns": 268, "open_by_handle_at": 265, "ioprio_set": 30,
        "memfd_secret": 447},
        {"prlimit64": 261, "sched_setaffinity": 122, "sched_setscheduler": 119,
         "sched_setparam": 118, "sched_setattr": 274}, 140,
        {"memfd_create": 279, "shmget": 194, "msgget": 186, "socket": 198, "socketpair": 199}, 25),
}
EPERM = 1


class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


# Classic BPF: the instructions the filters use, and what a filter returns.
LD, JEQ, JGE, RET = 0x20, 0x15, 0x35, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_JMP|JGE|K, BPF_RET|K
ALLOW, ERRNO, KILL = 0x7FFF0000, 0x00050000 | EPERM, 0x80000000  # SECCOMP_RET_ALLOW, _ERRNO|EPERM, _KILL_PROCESS


def bpf_program(code, labels):
    """A filter's (SockFprog, its instructions) from `code`, [(op, jump-if-true label, jump-if-false
    label, k)], and `labels` ({label: index}), with the three ends every filter jumps to appended:
    "allow", "deny" (EPERM) and "kill"."""
    labels = dict(labels, allow=len(code), deny=len(code) + 1, kill=len(code) + 2)
    code = code + [(RET, None, None, ALLOW), (RET, None, None, ERRNO), (RET, None, None, KILL)]
    insns = (SockFilter * len(code))()
    for i, (op, jt, jf, k) in enumerate(code):
        jump = [0 if label is None else labels[label] - i - 1 for label in (jt, jf)]
        insns[i] = SockFilter(op, jump[0], jump[1], k)
    return SockFprog(len(code), insns), insns


def seccomp_filter(machine, part):
    """A classic-BPF program tests run under, or None on an unknown machine.

    Part "reach" refuses (EPERM) what would let a test reach beyond its own processes:
    tracing or reading another process (ptrace, process_vm_readv/writev, pidfd_getfd,
    kcmp, process_madvise, move_pages), changing another process's limits, priority or
    scheduling (prlimit64, setpriority, sched_set*: allowed on the caller only), and
    kernel surfaces a contest program never needs (bpf, perf, userfaultfd, keys,
    io_uring, mounts, namespaces). The worker installs it on itself at start (it needs
    none of these), so every test inherits it: attaching a filter costs ~0.35 ms (its
    JIT), a fork nothing. Part "memory", for tests only and only where no cgroup counts
    it, refuses what makes memory that no process maps (memfd_create, System V shared
    memory and message queues, sockets, whose buffers hold hundreds of MiB with a few
    fds): it escapes RLIMIT_AS and the resident set. A system call of another ABI
    (i386, x32) kills the process.
    """
    if machine not in SYSCALLS:
        return None
    arch, refused, self_only, setpriority, unmapped, fcntl_nr = SYSCALLS[machine]
    pipe_size = None
    if part == "memory":
        refused, self_only, setpriority, pipe_size = unmapped, {}, None, fcntl_nr
    refused = sorted(refused.values())
    code = []  # (op, jump-if-true label, jump-if-false label, k)
    code.append((LD, None, None, 4))                      # seccomp_data.arch
    code.append((JEQ, None, "kill", arch))
    code.append((LD, None, None, 0))                      # seccomp_data.nr
    if machine == "x86_64":
        code.append((JGE, "kill", None, 0x40000000))      # the x32 ABI
    code += [(JEQ, "deny", None, nr) for nr in refused]
    code += [(JEQ, "arg0", None, nr) for nr in sorted(self_only.values())]
    if setpriority is not None:
        code.append((JEQ, "priority", None, setpriority))
    if pipe_size is not None:
        code.append((JEQ, "fcntl", None, pipe_size))
    code.append((RET, None, None, ALLOW))
    labels = {"fcntl": len(code)}
    code.append((LD, None, None, 24))                     # args[1] (cmd), low half
    code.append((JEQ, "deny", "allow", 1031))             # F_SETPIPE_SZ
    labels["priority"] = len(code)
    code.append((LD, None, None, 24))                     # args[1] (who), low half
    code.append((JEQ, None, "deny", 0))
    labels["arg0"] = len(code)
    code.append((LD, None, None, 16))                     # args[0], low half
    code.append((JEQ, "allow", "deny", 0))
    return bpf_program(code, labels)


# System calls that send a signal or name who receives one (`signal_guard`), per machine.
SIGNAL_CALLS = {
    "x86_64": {"kill": 62, "tkill": 200, "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297,
               "pidfd_send_signal": 424, "fcntl": 72, "ioctl": 16},
    "aarch64": {"kill": 129, "tkill": 130, "tgkill": 131, "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240,
                "pidfd_send_signal": 424, "fcntl": 25, "ioctl": 29},
}
F_SETOWN, F_SETOWN_EX, FIOSETOWN, SIOCSPGRP = 8, 15, 0x8901, 0x8902


def signal_guard(machine, pid):
    """A seccomp filter for the candidate of an interactive test: no signal of its reaches its
    interactor (`pid`, the leader of its own session and group), or None on an unknown machine.

    Same user, same PID namespace: without it a candidate with no answer kills, stops or fakes a
    crash of its interactor, and a judge error replaces its wrong answer. Refused (EPERM): kill
    and rt_sigqueueinfo of the interactor, its group or everyone (-1); tgkill and
    rt_tgsigqueueinfo of its threads; tkill and pidfd_send_signal (their target cannot be read
    here; contest programs use neither); F_SETOWN naming it (SIGIO/SIGURG to an fd's owner),
    F_SETOWN_EX, FIOSETOWN and SIOCSPGRP (their owner is behind a pointer). The candidate's
    own processes it may still signal. Stacked on the filters it already has (~0.35 ms, only
    in interactive tests)."""
    if machine not in SYSCALLS:
        return None
    arch, nr = SYSCALLS[machine][0], SIGNAL_CALLS[machine]
    mine, group, everyone = pid & 0xFFFFFFFF, -pid & 0xFFFFFFFF, 0xFFFFFFFF
    code = [(LD, None, None, 4), (JEQ, None, "kill", arch), (LD, None, None, 0)]  # arch, then nr
    code += [(JEQ, "deny", None, nr[name]) for name in ("tkill", "pidfd_send_signal")]
    code += [(JEQ, "target", None, nr[name]) for name in ("kill", "rt_sigqueueinfo", "tgkill", "rt_tgsigqueueinfo")]
    code += [(JEQ, "fcntl", None, nr["fcntl"]), (JEQ, "ioctl", None, nr["ioctl"]), (RET, None, None, ALLOW)]
    labels = {"target": len(code)}
    code += [(LD, None, None, 16), (JEQ, "deny", None, mine), (JEQ, "deny", None, group),  # args[0], low half
             (JEQ, "deny", "allow", everyone)]
    labels["fcntl"] = len(code)
    code += [(LD, None, None, 24), (JEQ, "deny", None, F_SETOWN_EX), (JEQ, None, "allow", F_SETOWN),  # args[1]
             (LD, None, None, 32), (JEQ, "deny", None, mine), (JEQ, "deny", "allow", group)]  # args[2]
    labels["ioctl"] = len(code)
    code += [(LD, None, None, 24), (JEQ, "deny", None, FIOSETOWN), (JEQ, "deny", "allow", SIOCSPGRP)]
    return bpf_program(code, labels)


def leave_session_keyring():
    """Join a new, empty session keyring: the one we inherit is the host session's, and
    its keys (tokens, secrets) must not be reachable from a test. (Tests cannot call
    keyctl at all; this also keeps the worker itself out of it.)"""
    machine = os.uname().machine
    if machine in SYSCALLS:
        KEYCTL_JOIN_SESSION_KEYRING = 1
        libc.syscall(SYSCALLS[machine][1]["keyctl"], KEYCTL_JOIN_SESSION_KEYRING, None)


def enter_seccomp(program):
    """In a test's process, last before its code: no way back (no new privileges either)."""
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or \
            libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "the seccomp filter could not be installed")


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
    """A request: its header, and its blobs as memfds (fd, size).

    Blobs (programs, inputs) go from the channel into memfds by splice(), never
    through this process's heap: a later test, a fork of us, finds no trace of an
    earlier candidate's code or data in the memory it inherits.
    """
    (hlen,) = struct.unpack(">I", read_exact(fd, 4))
    header = json.loads(read_exact(fd, hlen))
    blobs = []
    try:
        for _ in range(header.get("blobs", 0)):
            (blen,) = struct.unpack(">Q", read_exact(fd, 8))
            blob = os.memfd_create("blob", os.MFD_CLOEXEC)
            blobs.append((blob, blen))
            done = 0
            while done < blen:
                n = os.splice(fd, blob, blen - done)
                if not n:
                    raise EOFError
                done += n
    except BaseException:
        for blob, _ in blobs:
            os.close(blob)
        raise
    return header, blobs


def send(fd, header, parts=()):
    """A reply: the header, then each part, (fd, offset, count) of a file sent by
    sendfile() (a test's output never enters our heap either)."""
    header = dict(header, blobs=len(parts))
    h = json.dumps(header).encode()
    write_all(fd, struct.pack(">I", len(h)) + h)
    for src, offset, count in parts:
        write_all(fd, struct.pack(">Q", count))
        while count:
            n = os.sendfile(fd, src, offset, count)
            if not n:
                raise EOFError
            offset += n
            count -= n


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def scrubbed(fd, size):
    """A blob's bytes in a bytearray, for `use` to read and `scrub` to zero after."""
    buf = bytearray(size)
    if size:
        os.preadv(fd, [buf], 0)
    return buf


def scrub(buf):
    if buf:
        ctypes.memset((ctypes.c_char * len(buf)).from_buffer(buf), 0, len(buf))


# --- files ---------------------------------------------------------------------------

def memfd(name, data=b""):
    fd = os.memfd_create(name, os.MFD_CLOEXEC)
    if data:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.lseek(fd, 0, os.SEEK_SET)
    return fd


def sealed_executable(path, readable=True, name="solution"):
    """A read-only, sealed in-memory copy of a binary (or a script, a jar): no test can overwrite
    it. Not `readable`: mode 0111, so that the kernel makes what it runs non-dumpable."""
    flags = os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING
    try:
        fd = os.memfd_create(name, flags | MFD_EXEC)
    except OSError:
        fd = os.memfd_create(name, flags)
    src = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        size = os.fstat(src).st_size
        offset = 0
        while offset < size:
            offset += os.sendfile(fd, src, offset, size - offset)
    finally:
        os.close(src)
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE | fcntl.F_SEAL_GROW
                | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_SEAL)
    # exec refuses a file open for writing (ETXTBSY): keep a read-only fd only.
    ro = os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_CLOEXEC)
    os.close(fd)
    if not readable:
        os.fchmod(ro, 0o111)
    return ro


def head_part(fd, limit):
    """(part of the file's first `limit` bytes to send, its whole size)."""
    size = os.fstat(fd).st_size
    return (fd, 0, min(size, limit)), size


def tail_part(fd, limit):
    """(part of the file's last `limit` bytes to send, its whole size)."""
    size = os.fstat(fd).st_size
    return (fd, max(0, size - limit), min(size, limit)), size


def last_line_of(fd, size, limit=512):
    """The last line of a file (its last `limit` bytes at most), the bytes then zeroed."""
    buf = bytearray(min(size, limit))
    if buf:
        os.preadv(fd, [buf], size - len(buf))
    line = buf.decode("utf-8", "replace").strip().rsplit("\n", 1)[-1]
    scrub(buf)
    return line


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


def remove_with_rm(path):
    """rm -rf, which walks by directory fds: any depth, any path length. (What it cannot
    remove either leaves the worker dirty: it is then replaced.)"""
    pid = os.posix_spawn("/usr/bin/rm", ["rm", "-rf", "--", path], {"PATH": "/usr/bin:/bin"})
    os.waitpid(pid, 0)


def wipe_scratch():
    """Remove whatever the last test left in the writable places; False if something resists."""
    dirs = [SCRATCH] + (["/dev/shm", "/dev/mqueue"] if SANDBOXED else [])
    try:
        clean = True
        for top in dirs:
            entries = os.listdir(top)
            for name in entries:
                try:
                    force_remove(os.path.join(top, name))
                except (OSError, RecursionError):  # too deep a tree for us (paths past PATH_MAX too)
                    remove_with_rm(os.path.join(top, name))
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


def others_alive():
    """In the sandbox: does any process other than us (its init) exist, zombies too?

    kill(-1, 0) signals nothing but counts: in a PID namespace it addresses every
    process of the namespace except its init (all run as our user, so none is out of
    reach), and fails with ESRCH when there is none. One system call instead of a
    listing of /proc.
    """
    try:
        os.kill(-1, 0)
    except ProcessLookupError:
        return False
    except OSError:
        pass
    return True


def reap_orphans():
    """Reap every child that has ended: (cpu seconds, peak rss bytes) of them all.

    In the sandbox we are init, so processes a test orphaned (and their own waited-for
    descendants) end up here: their usage is the test's.
    """
    cpu, rss = 0.0, 0
    while True:
        try:
            pid, _, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        cpu += usage.ru_utime + usage.ru_stime
        rss = max(rss, usage.ru_maxrss * 1024)
    return cpu, rss


def sweep(pgid):
    """Kill and reap everything the test started, grandchildren that left its group included.

    Returns (clean, cpu seconds, peak rss bytes): clean is False if processes survive
    (the worker then asks to be replaced); the usage is that of the processes reaped
    here, which the test's own figures do not include.
    """
    if SANDBOXED and not others_alive():
        return True, 0.0, 0  # the usual case: the test's one process, reaped, was all there was
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
    if not SANDBOXED:
        return True, 0.0, 0
    # We are init of our own PID namespace: kill(-1) reaches exactly the test's processes.
    cpu, rss = 0.0, 0
    deadline = time.monotonic() + 2.0
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        more_cpu, more_rss = reap_orphans()
        cpu, rss = cpu + more_cpu, max(rss, more_rss)
        if not others_alive():
            return True, cpu, rss
        if time.monotonic() > deadline:
            return False, cpu, rss
        time.sleep(0.001)


# --- programs ------------------------------------------------------------------------

class Loaded:
    """The program held: a Python 3 code object (`code`: tests are forks of us), or a sealed
    memfd (`binary_fd`) that a test execs (C++) or hands to a runtime (`command(limits, path)`:
    the argv of an interpreter on the script, or of the JVM on the jar)."""

    def __init__(self, language, code=None, binary_fd=None, command=None):
        self.language = language
        self.code = code
        self.binary_fd = binary_fd
        self.command = command


# role -> (program hash, Loaded). Roles: "program" (the candidate under test) and the judge's
# own programs, "checker" and "interactor". One candidate at most: a test is a fork of the
# worker and can read its memory, so the worker holds no other candidate's code to read or
# run. The judge programs it may also hold are a dataset's public code, and a test can
# neither alter them (forked copies, sealed binaries) nor run while they judge it
# (a checker runs once the test's processes are gone; an interactor is kept non-dumpable).
LOADED = {}
ROLES = ("program", "checker", "interactor")


def remember(role, h, loaded):
    LOADED[role] = (h, loaded)


def forget(role):
    """Drop the program a role holds, before another is loaded into it."""
    old = LOADED.pop(role, None)
    if old is not None and old[1].binary_fd is not None:
        os.close(old[1].binary_fd)


def loaded_as(role, h=None):
    """The Loaded program of `role` (of hash `h` when given), or None."""
    entry = LOADED.get(role)
    if entry is None or (h is not None and entry[0] != h):
        return None
    return entry[1]


def load(header, blobs):
    """Make a program ready to run in its role: ({"ok"} or {"compile_error"}, parts to send).

    blobs: [source] + one per name of header["includes"] (headers a C++ judge program
    includes, testlib.h: written beside its source). The compiler's messages travel as
    a part (a file), not in the JSON header."""
    h = header["hash"]
    role = header.get("role", "program")
    if role not in ROLES:
        return {"error": f"unknown role {role!r}"}, []
    if loaded_as(role, h) is not None:
        return {"ok": True}, []
    forget(role)
    source_fd, size = blobs[0]
    language = header["language"]
    compile_time_s = int(header.get("compile_time_s", COMPILE_TIME_S))
    export_max = int(header.get("export_max", 0)) if role == "program" else 0
    if header.get("prebuilt") is not None:
        return load_prebuilt(h, language, role, source_fd, header)
    if language == "java":
        return compile_java(h, source_fd, header["runtime"], compile_time_s, role, export_max)
    if header.get("runtime"):  # Python 2, PyPy, another Python 3: an interpreter exec'd per test
        return load_script(h, language, source_fd, header["runtime"], compile_time_s, role)
    if language == "python3":
        source = scrubbed(source_fd, size)
        try:
            code = compile(source, "solution.py", "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as e:  # ValueError: null bytes in source
            import traceback
            message = memfd("compile-stderr", "".join(
                traceback.format_exception_only(type(e), e))[-STDERR_TAIL:].encode())
            return {"compile_error": True}, [(message, 0, os.fstat(message).st_size)]
        finally:
            scrub(source)
        remember(role, h, Loaded(language, code=code))
        return {"ok": True}, []
    if language == "cpp":
        includes = list(zip(header.get("includes", []), blobs[1:]))
        if any(not valid_file_name(name) for name, _ in includes):
            return {"error": "an include's name must be a plain file name"}, []
        return compile_cpp(h, source_fd, int(header.get("compile_time_s", COMPILE_TIME_S)),
                           role=role, includes=includes, export_max=export_max)
    message = memfd("compile-stderr", f"unsupported language {language!r}".encode())
    return {"compile_error": True}, [(message, 0, os.fstat(message).st_size)]


def load_prebuilt(h, language, role, fd, header):
    """A candidate's C++ binary or Java jar that another worker of this machine compiled from the
    same source (the host kept what that worker exported): sealed and held as if compiled here."""
    if role != "program" or language not in ("cpp", "java"):
        return {"error": "only a candidate's C++ or Java program is given compiled"}, []
    if language == "cpp":
        remember(role, h, Loaded("cpp", binary_fd=sealed_executable(f"/proc/self/fd/{fd}")))
        return {"ok": True}, []
    main_class = header["prebuilt"].get("main_class") if isinstance(header["prebuilt"], dict) else None
    if not isinstance(main_class, str) or not main_class or not isinstance(header.get("runtime"), dict):
        return {"error": "a compiled Java program needs its main class and its runtime"}, []
    remember(role, h, Loaded("java", binary_fd=sealed_copy(fd, "classes.jar"),
                             command=java_command(header["runtime"]["java"], main_class)))
    return {"ok": True}, []


def exported(fd, most):
    """A compiled program as a reply part for the host to keep (`most` bytes at most), or none.
    The part is a duplicate: a reply's parts are closed once sent, and the worker keeps its own."""
    if not most or os.fstat(fd).st_size > most:
        return []
    copy = os.dup(fd)
    return [(copy, 0, os.fstat(copy).st_size)]


def valid_file_name(name):
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and "\0" not in name


def copy_into(path, fd):
    out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        size, offset = os.fstat(fd).st_size, 0
        while offset < size:
            offset += os.sendfile(out, fd, offset, size - offset)
    finally:
        os.close(out)


def compile_cpp(h, source_fd, time_s=COMPILE_TIME_S, role="program", includes=(), export_max=0):
    build = os.path.join(SCRATCH, ".build-" + h[:16])
    os.makedirs(build, exist_ok=True)
    src = os.path.join(build, "solution.cpp")
    exe = os.path.join(build, "solution")
    copy_into(src, source_fd)
    for name, (fd, _) in includes:
        copy_into(os.path.join(build, name), fd)
    status, err_fd, reason = run_tool(["/usr/bin/g++", "-O2", "-std=c++17", "-o", exe, src], time_s,
                                      address_space=COMPILE_MEMORY, env={"TMPDIR": build})
    ok = status == 0 and os.path.exists(exe)
    # A judge's binary is execute-only: a process exec'd from an unreadable file is not
    # dumpable, so a candidate running beside an interactor cannot reach its memory or fds.
    binary_fd = sealed_executable(exe, readable=role == "program") if ok else None
    shutil.rmtree(build, ignore_errors=True)
    if not ok:
        return tool_failed(err_fd, status, reason, time_s, "compilation", COMPILE_MEMORY)
    os.close(err_fd)
    remember(role, h, Loaded("cpp", binary_fd=binary_fd))
    return {"ok": True}, exported(binary_fd, export_max)


def scrubbed_tail(fd, size, limit=4096):
    """The last bytes of a compiler's messages as text, read for a decision (the bytes zeroed)."""
    buf = bytearray(min(size, limit))
    if buf:
        os.preadv(fd, [buf], size - len(buf))
    text = buf.decode("utf-8", "replace")
    scrub(buf)
    return text


def compile_limit_hit(status, reason, stderr):
    """Which of its limits stopped the compiler, if one did ("time limit", "memory limit")."""
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    if reason == "time" or sig == signal.SIGXCPU or "CPU time limit exceeded" in stderr:
        return "time limit"  # (the last: how g++ reports a cc1plus stopped by RLIMIT_CPU)
    if "memory exhausted" in stderr or "out of memory" in stderr or "Cannot allocate memory" in stderr:
        return "memory limit"
    return None


# --- Java, and interpreters exec'd per test -------------------------------------------

# The JVM of every Java test (the judge's own flags: Codeforces runs java -XX:NewRatio=5
# -Xms8M -Xmx<ML> -Xss64M -DONLINE_JUDGE=true); -Xmx comes from the memory limit. One
# processor as a judge gives it: the serial collector, two JIT threads, no thread pools
# sized for a big machine (the JVM starts ~14 threads of the sandbox's MAX_PROCS).
JAVA_FLAGS = ["-XX:+UseSerialGC", "-XX:ActiveProcessorCount=1", "-XX:-UsePerfData", "-Xshare:auto",
              "-Xlog:disable", "-Xlog:all=warning:stderr",  # the JVM's own warnings off stdout
              "-XX:NewRatio=5", "-Xss64m", "-DONLINE_JUDGE=true", "-Duser.language=en",
              "-Duser.region=US", "-Duser.variant=US"]
# Measured memory a Java test may hold beyond its heap (-Xmx = the memory limit): the JVM's
# own code, class metadata, JIT code cache and thread stacks (~40 MB for a small program).
JAVA_ALLOWANCE = 128 << 20
JAVAC_FLAGS = ["-J-XX:+UseSerialGC", "-J-XX:ActiveProcessorCount=1", "-J-XX:TieredStopAtLevel=1",
               "-J-XX:-UsePerfData", "-J-Xmx1g", "-J-Xss16m", "-encoding", "UTF-8", "-proc:none",
               "-nowarn"]
# Run by an exec'd interpreter on the source on stdin: COMPILE_ERROR for a script that
# does not compile, as the warm Python 3 path gives (Python 2 and 3 alike).
SYNTAX_CHECK = (
    "import sys, traceback\n"
    "src = getattr(sys.stdin, 'buffer', sys.stdin).read()\n"
    "try:\n"
    "    compile(src, 'solution.py', 'exec')\n"
    "except Exception:\n"
    "    e = sys.exc_info()[1]\n"
    "    sys.stderr.write(''.join(traceback.format_exception_only(type(e), e)))\n"
    "    sys.exit(1)\n")


def memory_budget(memory, language):
    """The memory a test may hold (resident, or charged to its cgroup): its limit, and for
    the JVM the limit as heap (-Xmx) plus JAVA_ALLOWANCE for the JVM itself."""
    return memory + JAVA_ALLOWANCE if language == "java" else memory


def java_out_of_memory(fd, size):
    """Whether a Java test's stderr ends in an OutOfMemoryError (its heap, -Xmx, ran out)."""
    return "java.lang.OutOfMemoryError" in scrubbed_tail(fd, size, 2048)


def java_command(java, main_class):
    """argv of a Java test: the JVM on the sealed jar (`path`), heap limited by the memory limit."""
    def command(limits, path):
        heap = max(limits["memory_bytes"] >> 10, 4096)  # KiB; the JVM refuses a heap under ~2 MB
        return [java, *JAVA_FLAGS, f"-Xms{min(heap, 8192)}k", f"-Xmx{heap}k", "-cp", path, main_class]
    return command


def script_command(interpreter):
    """argv of a test run by an interpreter on the sealed source (`path`), as a judge runs
    `python solution.py`; -B: nothing written beside it."""
    return lambda limits, path: [interpreter, "-B", path]


def exec_program(loaded, binary_fd, argv, limits):
    """In a test's process, last: exec the program (a C++ binary, `binary_fd`) with `argv`
    after its name, or its runtime (an interpreter, the JVM) on it."""
    env = dict(os.environ)
    if loaded.command is None:
        os.execve(binary_fd, ["solution"] + argv, env)
    os.set_inheritable(binary_fd, True)  # the runtime opens it as /proc/self/fd/N
    command = loaded.command(limits, f"/proc/self/fd/{binary_fd}") + argv
    os.execve(command[0], command, env)


def sealed_copy(fd, name):
    """A read-only, sealed memfd holding what `fd` holds (from offset 0): a script or a jar
    that no test can alter for the next."""
    return sealed_executable(f"/proc/self/fd/{fd}", name=name)


def run_tool(cmd, time_s, stdin_fd=None, cwd=None, address_space=None, env=None):
    """Run a compiler or checker of ours on a candidate's code, under the tests' filter:
    (wait status, stderr+stdout memfd, kill reason). Its limits: `time_s` of CPU (1.5x that
    of wall time), at most MAX_PROCS processes, `address_space` if given; `env`: variables
    beside the worker's."""
    err_fd = memfd("tool-output")
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            if cwd is not None:
                os.chdir(cwd)
            src = os.open(f"/proc/self/fd/{stdin_fd}", os.O_RDONLY) if stdin_fd is not None \
                else os.open(os.devnull, os.O_RDONLY)
            os.dup2(src, 0)
            os.dup2(err_fd, 1)
            os.dup2(err_fd, 2)
            os.closerange(3, 1 << 16)
            if address_space is not None:
                resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
            resource.setrlimit(resource.RLIMIT_CPU, (time_s, time_s + 1))
            if SANDBOXED:
                resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCS, MAX_PROCS))
            for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT):
                signal.signal(sig, signal.SIG_DFL)
            os.execve(cmd[0], cmd, dict(os.environ, **(env or {})))
        finally:
            os._exit(127)
    status, _, _, reason, _ = wait_child(pid, time_s * 1.5, None, None)
    sweep(pid)
    return status, err_fd, reason


def tool_failed(err_fd, status, reason, time_s, what, address_space=None):
    """The COMPILE_ERROR reply of a compiler or syntax check that failed (`run_tool`'s figures):
    its messages, with the limit that stopped it first if one did."""
    part, size = tail_part(err_fd, STDERR_TAIL)
    limit = compile_limit_hit(status, reason, scrubbed_tail(err_fd, size))
    if limit is None and size:
        return {"compile_error": True}, [part]
    memory = f", {address_space >> 20} MiB of memory" if address_space is not None else ""
    note = (f"{what} stopped at its {limit} ({time_s} s of CPU, {time_s * 1.5:g} s wall{memory})\n" if limit
            else f"{what} failed with no message (exit status {status})\n")
    message = memfd("compile-stderr", note.encode())
    os.lseek(message, 0, os.SEEK_END)
    if size:
        os.sendfile(message, err_fd, part[1], part[2])
    os.close(err_fd)
    return {"compile_error": True}, [(message, 0, os.fstat(message).st_size)]


def load_script(h, language, source_fd, interpreter, time_s=COMPILE_TIME_S, role="program"):
    """An interpreted program (Python 2, PyPy, a Python 3 other than ours): checked once by
    its interpreter (a SyntaxError is a COMPILE_ERROR), kept as a sealed memfd each test's
    interpreter runs."""
    script = sealed_copy(source_fd, "solution.py")
    status, err_fd, reason = run_tool([interpreter, "-B", "-c", SYNTAX_CHECK], time_s, stdin_fd=script,
                                      address_space=COMPILE_MEMORY)
    if status != 0:
        os.close(script)
        return tool_failed(err_fd, status, reason, time_s, "the syntax check", COMPILE_MEMORY)
    os.close(err_fd)
    remember(role, h, Loaded(language, binary_fd=script, command=script_command(interpreter)))
    return {"ok": True}, []


def java_blanked(text):
    """Java source with comments, string, text-block and char literals blanked out (spaces,
    same length), so that words inside them are not read as code."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
        elif text.startswith('"""', i):
            end = text.find('"""', i + 3)
            end = n if end < 0 else end + 3
        elif c in "\"'":
            end = i + 1
            while end < n and text[end] != c and text[end] != "\n":
                end += 2 if text[end] == "\\" else 1
            end = min(end + 1, n)
        else:
            i += 1
            continue
        for j in range(i, end):
            if out[j] != "\n":
                out[j] = " "
        i = end
    return "".join(out)


def java_public_class(text):
    """(package or "", name) of the public top-level class (or enum, record, interface) of a
    Java source, or None: the file javac compiles must be named after it."""
    code = java_blanked(text)
    package = re.search(r"^\s*package\s+([\w$.]+)\s*;", code, re.M)
    depth, last = 0, 0
    pattern = r"\bpublic\s+(?:(?:final|abstract|static|strictfp|sealed|non-sealed)\s+)*" \
              r"(?:class|enum|record|interface|@interface)\s+([A-Za-z_$][\w$]*)"
    for match in re.finditer(pattern, code):
        chunk = code[last:match.start()]
        depth += chunk.count("{") - chunk.count("}")
        last = match.start()
        if depth == 0:
            return (package.group(1) if package else ""), match.group(1)
    return None


def compile_java(h, source_fd, runtime, time_s=COMPILE_TIME_S, role="program", export_max=0):
    """javac once per program: the classes go into a jar in a sealed memfd (no test can alter
    them for the next), run by each test's JVM from /proc/self/fd."""
    import zipfile
    raw = scrubbed(source_fd, os.fstat(source_fd).st_size)
    try:
        found = java_public_class(raw.decode("utf-8", "replace"))
    finally:
        scrub(raw)
    if found is None:
        message = memfd("compile-stderr", b"A Java program needs a public class (javac names its file after "
                                          b"it, and the JVM runs it): none found.\n")
        return {"compile_error": True}, [(message, 0, os.fstat(message).st_size)]
    package, name = found
    build = os.path.join(SCRATCH, ".build-" + h[:16])
    classes = os.path.join(build, "classes")
    os.makedirs(classes, exist_ok=True)
    src = os.path.join(build, name + ".java")
    copy_into(src, source_fd)
    status, err_fd, reason = run_tool([runtime["javac"], *JAVAC_FLAGS, "-d", classes, src], time_s, cwd=build)
    jar = None
    try:
        if status == 0:
            jar = memfd("classes.jar")
            with os.fdopen(os.dup(jar), "w+b") as file, zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as archive:
                for folder, _, names in sorted(os.walk(classes)):
                    for name_ in sorted(names):
                        path = os.path.join(folder, name_)
                        archive.write(path, os.path.relpath(path, classes))
    finally:
        shutil.rmtree(build, ignore_errors=True)
    if jar is None:
        return tool_failed(err_fd, status, reason, time_s, "javac")
    os.close(err_fd)
    sealed = sealed_copy(jar, "classes.jar")
    os.close(jar)
    main_class = f"{package}.{name}" if package else name
    remember(role, h, Loaded("java", binary_fd=sealed, command=java_command(runtime["java"], main_class)))
    return {"ok": True, "artifact": {"main_class": main_class}}, exported(sealed, export_max)


def stat_usage(fields):
    """(own cpu seconds, waited-for children's cpu seconds, resident bytes) from the fields of
    /proc/PID/stat after the command's name ([0] is the state); ValueError or IndexError if they are not."""
    return ((int(fields[11]) + int(fields[12])) / TICKS, (int(fields[13]) + int(fields[14])) / TICKS,
            int(fields[21]) * PAGE)


def parse_stat(data):
    """`stat_usage` of the contents of /proc/PID/stat."""
    return stat_usage(data.rsplit(b")", 1)[1].split())


def stat_fields(pid):
    """The fields of a process's /proc/PID/stat after its command's name, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None


def read_stat(pid):
    """`stat_usage` of a process, or None if it is gone."""
    fields = stat_fields(pid)
    try:
        return stat_usage(fields) if fields is not None else None
    except (IndexError, ValueError):
        return None


def proc_usage(pid):
    """(cpu seconds, resident bytes) of a process, its waited-for descendants' CPU
    included, from /proc."""
    stat = read_stat(pid)
    return (stat[0] + stat[1], stat[2]) if stat is not None else (0.0, 0)


class TreeUsage:
    """usage_of for wait_child where no cgroup counts: (cpu, memory) of the test's tree.

    In the sandbox every process but ours is the test's (we are init of the PID
    namespace). CPU is each process's own time, kept after it exits: a child reaped by
    the kernel (its parent ignores SIGCHLD) never reaches anyone's rusage, so what a
    process was last seen to have used is added for good when it disappears (what one
    used between two polls, 5 ms apart, before it ended is missed). Memory is the first
    process's resident set, the private memory of the others, the files in /tmp and
    /dev/shm and the test's own stdout/stderr files. On the host (unsandboxed, already
    without isolation) only the test's first process is read.
    """

    def __init__(self, files=()):
        self.files = files
        self.seen = {}  # pid -> its own CPU when last seen
        self.gone = 0.0  # CPU of the processes seen that have ended

    def counts(self, name, fields):
        """Whether a process of the sandbox (`name`, its stat `fields`) is the test's: all are."""
        return True

    def processes(self, root):
        """{pid: its /proc stat fields} of the test's processes, zombies included (in the sandbox)."""
        try:
            names = [n for n in os.listdir("/proc") if n.isdigit() and n != "1"]
        except OSError:  # ENOMEM: this reading only
            names = [str(root)]
        found = {}
        for name in names:
            fields = stat_fields(name)
            if fields is not None and self.counts(name, fields):
                found[name] = fields
        return found

    def tree(self, root):
        """(cpu, memory) of the processes that count, in the sandbox: CPU kept for the ones that
        ended, the first's resident set and the others' private memory, files in /tmp and /dev/shm."""
        root, now, rss = str(root), {}, 0
        for name, fields in self.processes(root).items():
            try:
                own, _, resident = stat_usage(fields)
            except (IndexError, ValueError):
                continue
            now[name] = own
            rss += resident if name == root else private_bytes(name)
        self.gone += sum(cpu for pid, cpu in self.seen.items() if pid not in now)
        self.seen = now
        return self.gone + sum(now.values()), rss + tmpfs_bytes()

    def __call__(self, root):
        if not SANDBOXED:
            return proc_usage(root)
        cpu, rss = self.tree(root)
        for fd in self.files:
            try:
                rss += os.fstat(fd).st_size
            except OSError:
                pass
        return cpu, rss


def tmpfs_bytes():
    """What files in the sandbox's writable places hold: memory too (tmpfs), which no
    process maps. (Empty when a test starts: they are wiped after every test.)"""
    used = 0
    for top in (SCRATCH, "/dev/shm"):
        try:
            st = os.statvfs(top)
        except OSError:
            continue
        used += (st.f_blocks - st.f_bfree) * st.f_frsize
    return used


def private_bytes(pid):
    """Memory only this process maps (its pages shared copy-on-write with the test's
    first process are already in that one's resident set)."""
    total = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Private_"):
                    total += int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return total


def kill_test(pid):
    """Stop every process of a test at once (in the sandbox: all but us)."""
    try:
        if SANDBOXED:
            os.kill(-1, signal.SIGKILL)
        else:
            os.killpg(pid, signal.SIGKILL)
    except OSError:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def wait_child(pid, wall_limit, cpu_limit, memory_limit, hard_wall_limit=None, usage_of=proc_usage):
    """Wait for `pid`, killing it at a limit.

    Returns (wait status, rusage, wall, reason, peak resident bytes seen). `usage_of(pid)`
    gives (cpu, rss) while it runs: of the process alone, or of the test's whole tree.
    Past `wall_limit` a program is killed only if it is idle (under 5% of a CPU over
    the last half second): one that is computing but starved by a loaded machine runs
    on to its CPU limit, up to `hard_wall_limit`.
    """
    start = time.monotonic()
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    reason = None
    peak = 0
    hard = hard_wall_limit if hard_wall_limit is not None else wall_limit
    window = (start, 0.0)  # (time, cpu) at the start of the current activity window
    try:
        while True:
            if poller.poll(POLL_S * 1000):
                break
            now = time.monotonic()
            wall = now - start
            cpu, rss = usage_of(pid)
            peak = max(peak, rss)
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
                kill_test(pid)
                break
        _, status, usage = os.wait4(pid, 0)
    finally:
        os.close(pidfd)
    return status, usage, time.monotonic() - start, reason, peak


def worker_limits():
    """The limits every test shares, set once on the worker and inherited: no core
    files and, in the sandbox, at most MAX_PROCS processes and threads."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if SANDBOXED:
        resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCS, MAX_PROCS))


RLIMITS = [getattr(resource, name) for name in dir(resource) if name.startswith("RLIMIT_")]


def own_state():
    """What a test must not be able to change about us: our limits and priority.

    Checked before every fork (a test inherits them); the seccomp filter already
    refuses prlimit and setpriority aimed at us, this is the second lock.
    """
    return [resource.getrlimit(r) for r in RLIMITS] + [os.getpriority(os.PRIO_PROCESS, 0)]


def test_limits(limits, language, exec_runtime=False):
    """[(resource, (soft, hard))] a test's process sets on itself (computed in the worker).
    `exec_runtime`: the test execs an interpreter (Python 2, PyPy) or the JVM."""
    memory = limits["memory_bytes"]
    output = limits["output_bytes"]
    cpu = max(1, int(limits["time_s"] + 0.999)) + 1
    plan = [(resource.RLIMIT_FSIZE, (output + 1, output + 1)), (resource.RLIMIT_CPU, (cpu, cpu + 1)),
            (resource.RLIMIT_NOFILE, (MAX_FILES, MAX_FILES))]
    if language == "java":
        return plan  # the JVM reserves far more address space than it uses: its memory is measured
    if language in ("python3", "python2"):
        virtual = memory + (EXEC_VIRTUAL_HEADROOM if exec_runtime else PY_VIRTUAL_HEADROOM)
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


def enter_python_test(argv=()):
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
    sys.argv = ["solution.py"] + list(argv)
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


class SandboxCgroup:
    """The worker's side of the cgroup the host made for this sandbox.

    The host opened its files and passed the fds in (see acodium.execute.cgroups). The
    worker moves itself in at start, so every process of every test is inside: its
    memory limit covers memory that no process maps (memfd, tmpfs, System V shared
    memory, pipes). Before each test the limit is set to what the worker holds plus
    the test's limit; the test's processes volunteer as the OOM killer's victims.
    Joining once, not per test, keeps the cost per test to three small file reads
    and writes (a cgroup migration per test would cost ~0.1 ms per hierarchy).
    """

    def __init__(self, spec):
        self.unlimited = b"-1" if spec["kind"] == "v1" else b"max"
        self.procs = list(spec["procs"])
        self.memory_max = spec["memory_max"]
        self.memory_usage = spec["memory_usage"]
        self.memsw_max = spec.get("memsw_max")
        self.oom_fd = spec["oom"]
        self.cpu_fd = spec["cpu"]
        self.cpu_scale = 1e-9 if spec["cpu_unit"] == "ns" else 1e-6
        # The group's peak, where it can be reset before each test (v1; v2 from Linux 6.12).
        self.peak_fd = spec.get("memory_peak") if spec.get("peak_resettable") else None
        self.peak_reset = b"0" if spec["kind"] == "v1" else b"reset"
        self.usage_before = 0
        self.fds = self.procs + [fd for fd in (self.memory_max, self.memory_usage, self.memsw_max, self.oom_fd,
                                               spec.get("cpu"), spec.get("memory_peak")) if fd is not None]

    def join(self):
        """Move us in (once, at start); the procs fds are of no more use after."""
        for fd in self.procs:
            os.write(fd, b"0")
            os.close(fd)
        self.procs = []

    def oom_kills(self):
        for line in os.pread(self.oom_fd, 4096, 0).split(b"\n"):
            name, _, value = line.partition(b" ")
            if name == b"oom_kill":
                return int(value)
        raise OSError("no oom_kill in the cgroup's memory events")

    def prepare(self, memory_bytes):
        """Before the fork (the last test's processes gone, its files wiped): room for the
        test's limit beyond what we hold, no swap beyond it; the OOM count it starts from."""
        self.usage_before = int(os.pread(self.memory_usage, 64, 0))
        limit = b"%d" % (self.usage_before + memory_bytes)
        if self.peak_fd is not None:
            os.pwrite(self.peak_fd, self.peak_reset, 0)
        if self.memsw_max is not None:  # v1 keeps memory <= memory+swap: widen, set, narrow
            os.pwrite(self.memsw_max, b"-1", 0)
        os.pwrite(self.memory_max, limit, 0)
        if self.memsw_max is not None:
            os.pwrite(self.memsw_max, limit, 0)
        return self.oom_kills()

    def cpu_seconds(self):
        """CPU of every process in the group (the worker's few polls included)."""
        data = os.pread(self.cpu_fd, 4096, 0)
        if self.cpu_scale == 1e-9:
            return int(data) * 1e-9
        for line in data.split(b"\n"):
            if line.startswith(b"usage_usec "):
                return int(line.split()[1]) * 1e-6
        raise OSError("no usage_usec in the cgroup's cpu.stat")

    def meter(self, pid):
        """usage_of for wait_child, and what to close after: CPU from the group's counter
        (files open from before the test), the resident set from the test's /proc stat.

        The worker shares the group: a test that has filled it with kernel memory (socket
        buffers) still being freed as it dies would make an allocation of ours an OOM kill
        with no test left to take. So nothing is opened while it runs but its stat file,
        at the first poll (a test done sooner costs nothing), when the test, still alive,
        is the one the OOM killer takes; a failure there only skips that reading.
        """
        cpu0 = self.cpu_seconds() - own_cpu()
        opened = []

        def usage_of(_pid):
            rss = 0
            try:
                if not opened:
                    opened.append(os.open(f"/proc/{pid}/stat", os.O_RDONLY | os.O_CLOEXEC))
                rss = parse_stat(os.pread(opened[0], 1024, 0))[2]
            except (OSError, IndexError, ValueError):
                pass
            try:  # the group's CPU but ours (these polls): the test's
                return self.cpu_seconds() - own_cpu() - cpu0, rss
            except (OSError, ValueError):
                return 0.0, rss
        return usage_of, opened

    def test_peak(self):
        """The most the group held during the test beyond what we held before it (None: unknown)."""
        if self.peak_fd is None:
            return None
        return max(0, int(os.pread(self.peak_fd, 64, 0)) - self.usage_before)

    def relax(self):
        """Right after a test: no limit until the next one. The kernel may free a test's
        memory late (socket buffers), and with no test left to take, an OOM kill in a
        group still at its limit would take the worker."""
        if self.memsw_max is not None:  # memory <= memory+swap: widen that first
            os.pwrite(self.memsw_max, self.unlimited, 0)
        os.pwrite(self.memory_max, self.unlimited, 0)


def close_fds_except(*keep):
    """Close every fd from 3 up but those in `keep` (None entries ignored)."""
    low = 3
    for fd in sorted(fd for fd in keep if fd is not None):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 16)


def own_cpu():
    """The worker's own CPU seconds (its polls), without its reaped children's."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def volunteer_for_oom():
    """In a test's process: if the sandbox's cgroup runs out of memory, take us (and our
    children, who inherit it), not the worker."""
    fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
    try:
        os.write(fd, b"1000")
    finally:
        os.close(fd)


def reopened(fd):
    """A blob's memfd opened again read-only (a test must not be able to store anything in it)."""
    return os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_CLOEXEC)


def place_files(files, keep):
    """In a test's child, after its stdio is set: `files` on fds 3, 4, ... (inherited, so
    that `/dev/fd/3` names the first) and every other fd closed but `keep`, which are
    moved above them: returns `keep`'s new numbers (None stays None)."""
    top = 3 + len(files) + 1
    kept = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, top) if fd is not None else None for fd in keep]
    moved = [fcntl.fcntl(fd, fcntl.F_DUPFD, top) for fd in files]
    close_fds_except(*kept, *moved)
    for i, fd in enumerate(moved):
        os.dup2(fd, 3 + i)
        os.close(fd)
    return kept


def start_test_process(loaded, stdio, files, argv, plan, ready_w, box, dumpable=True, guard=None, limits=None):
    """In a test's forked child: its stdio, files, limits and filter, then the program. Never returns.

    Says "ready" on `ready_w` once its sandboxing is complete, just before the program runs.
    Not `dumpable` (an interactor): it stays as the fork left it, not dumpable, from its first
    instruction on, so no process of the same user (the candidate beside it) can open its /proc
    files, memory or fds, not even while it is set up (it holds the hidden input and its output
    file then); it does not volunteer for the OOM killer either (that needs /proc/self, so
    dumpable; `fork_with_oom_adj` gave it a middle score): with a cgroup, memory the candidate
    holds where no process maps it (memfds) takes the candidate, not the judge beside it. It
    keeps SIGPIPE ignored: a write to a program that has ended fails (EPIPE) instead of killing
    it, so the program's early end is judged by what the interactor read, never called the
    judge's crash. `guard`: one more seccomp filter (`signal_guard`: the candidate of an
    interactive test). `limits`: the test's (a runtime's argv may use them: the JVM's heap is
    the memory limit)."""
    try:
        os.setsid()
        if dumpable:
            set_dumpable(True)  # (before: /proc/self of a non-dumpable process is root's)
            if CGROUP_FILES is not None:
                volunteer_for_oom()
        for target, fd in enumerate(stdio):
            os.dup2(fd, target)
        binary_fd, ready_w = place_files(files, (loaded.binary_fd, ready_w))
        for what, value in plan:
            resource.setrlimit(what, value)
        if MEMORY_FILTER is not None:  # (the "reach" filter is the worker's own: inherited)
            enter_seccomp(MEMORY_FILTER[0])
        if guard is not None:
            enter_seccomp(guard[0])
        os.write(ready_w, b"1")
        os.close(ready_w)
        if loaded.code is not None:  # Python 3 in the warm worker: this fork runs it
            run_python(loaded.code, box)
        for sig in (signal.SIGXFSZ, signal.SIGINT) + ((signal.SIGPIPE,) if dumpable else ()):
            signal.signal(sig, signal.SIG_DFL)
        exec_program(loaded, binary_fd, argv, limits)
    except BaseException:  # noqa: BLE001
        try:
            import traceback
            os.write(2, traceback.format_exc().encode()[-2000:])
        except BaseException:  # noqa: BLE001
            pass
    os._exit(127)


def run_test(header, blobs):
    """One run of the program loaded as header["role"] ("program" by default).

    blobs: [stdin] + files the program finds open on fds 3, 4, ... (read-only; a checker
    reads the test's input, the candidate's output and the answer as /dev/fd/3-5),
    header["argv"]: its arguments after the program's name."""
    if own_state() != STATE:
        return {"retry": True, "error": "the worker's limits or priority were changed"}, []
    role = header.get("role", "program")
    loaded = loaded_as(role)
    if loaded is None:
        return {"error": f"no {role} loaded"}, []
    argv = [str(a) for a in header.get("argv", [])]
    limits = header
    budget = memory_budget(limits["memory_bytes"], loaded.language)
    if CGROUP_FILES is not None:
        try:
            oom0 = CGROUP_FILES.prepare(budget)
        except OSError as e:  # e.g. EBUSY: something of an earlier test is still charged
            return {"retry": True, "error": f"the test's cgroup could not be prepared ({e})"}, []
    # The test's stdin: the input's memfd opened again read-only (a test must not be
    # able to store anything in it).
    in_fd = reopened(blobs[0][0])
    files = [reopened(fd) for fd, _ in blobs[1:]]
    out_fd = memfd("stdout")
    err_fd = memfd("stderr")
    plan = test_limits(limits, loaded.language, loaded.command is not None)
    python = loaded.code is not None  # a fork of us runs it; otherwise a test execs its program
    # The child says "ready" here once its sandboxing is complete, just before the
    # program runs: a child that fails before is the machine's failure, not a verdict.
    ready_r, ready_w = os.pipe2(os.O_CLOEXEC)
    saved, box = enter_python_test(argv) if python else (None, None)
    try:
        pid = fork_test()
    except BaseException:
        if python:
            leave_python_test(saved)
        for fd in (ready_r, ready_w, out_fd, err_fd, in_fd, *files):
            os.close(fd)
        raise
    if pid == 0:
        start_test_process(loaded, (in_fd, out_fd, err_fd), files, argv, plan, ready_w, box,
                           limits=limits)
    os.close(ready_w)
    os.close(in_fd)
    for fd in files:
        os.close(fd)
    meter, opened = CGROUP_FILES.meter(pid) if CGROUP_FILES is not None else (TreeUsage((out_fd, err_fd)), [])
    try:
        time_s = limits["time_s"]
        status, usage, wall, reason, peak = wait_child(
            pid, limits["wall_s"], time_s, budget, limits.get("hard_wall_s"), meter)
    finally:
        for fd in opened:
            os.close(fd)
        opened.clear()
        if CGROUP_FILES is not None:  # (only in the sandbox, where kill(-1) is the test's processes)
            try:
                os.kill(-1, signal.SIGKILL)  # no process of the test outlives its limit
            except ProcessLookupError:
                pass
            CGROUP_FILES.relax()
        # (Not before: written while the test runs, these pages would be copied.)
        if python:
            leave_python_test(saved)
    clean, orphans_cpu, orphans_rss = sweep(pid)
    ran = os.read(ready_r, 1) == b"1"
    os.close(ready_r)
    if not ran:
        why = last_line_of(err_fd, os.fstat(err_fd).st_size)
        os.close(out_fd)
        os.close(err_fd)
        wipe_scratch()
        return {"retry": True, "error": f"a test could not be set up ({why or 'no message'})"}, []
    out_limit = limits["output_bytes"]
    stdout, stdout_size = head_part(out_fd, out_limit)
    stderr, stderr_size = tail_part(err_fd, STDERR_TAIL)
    clean = wipe_scratch() and clean
    # What the test's processes reaped, and we reaped, is here; children the kernel reaped
    # (their parent ignored SIGCHLD) only in what the meter saw, or the cgroup counted.
    cpu = max(usage.ru_utime + usage.ru_stime + orphans_cpu, meter(pid)[0])
    memory = max(usage.ru_maxrss * 1024, orphans_rss, peak)
    out_of_memory = False
    if CGROUP_FILES is not None:
        out_of_memory = CGROUP_FILES.oom_kills() > oom0
        charged = CGROUP_FILES.test_peak()
        if charged is not None:
            memory = max(memory, charged)
        elif out_of_memory:  # this kernel keeps no peak we can reset: it reached its limit at least
            memory = max(memory, budget)
    exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    verdict = program_status(status, reason, cpu, memory, out_of_memory, limits,
                             stdout_size, stderr_size, last_line_of(err_fd, stderr_size), budget=budget,
                             java_oom=loaded.language == "java" and java_out_of_memory(err_fd, stderr_size))
    if verdict == "OUTPUT_LIMIT":
        stdout = (out_fd, 0, min(stdout[2], 1 << 20))  # only shown, never judged
    return {
        "status": verdict, "exit_code": exit_code, "signal": sig, "time_s": wall,
        "cpu_s": cpu, "memory_bytes": memory, "stdout_bytes": stdout_size,
        "stderr_bytes": stderr_size, "restart": not clean,
    }, [stdout, stderr]


class CandidateTree(TreeUsage):
    """The candidate's side of an interactive test: every process of the sandbox but us and the
    interactor's session (the candidate's children, whatever session they made).

    `usage(judge_cpu)` counts them as a test's tree is counted. CPU: with a cgroup, the group's
    counter since `start` (`cgroup_start`, read before the forks) less ours and the interactor's
    (`judge_cpu`), so children the kernel reaped are counted in full, however short-lived; without
    one, as `TreeUsage` (CPU kept for the processes that ended; the last 5 ms of one is missed).
    Memory: the first process's resident set, the others' private memory, files in /tmp and
    /dev/shm. `kill()` ends them all while the interactor goes on. Unsandboxed (no PID
    namespace of ours), only the first process and its group."""

    def __init__(self, root, interactor, start=None):
        super().__init__()
        self.root, self.interactor, self.start = root, interactor, start

    def counts(self, name, fields):
        """Not the interactor, nor a process of its session (it, before its setsid)."""
        try:
            return name != str(self.interactor) and int(fields[3]) != self.interactor
        except (IndexError, ValueError):
            return False

    def usage(self, judge_cpu=0.0):
        if not SANDBOXED:
            return proc_usage(self.root)
        cpu, rss = self.tree(self.root)
        if self.start is not None:
            try:
                group = CGROUP_FILES.cpu_seconds() - self.start[0] - (own_cpu() - self.start[1])
                cpu = max(cpu, group - judge_cpu)
            except (OSError, ValueError):
                pass
        return cpu, rss

    def kill(self):
        """SIGKILL every process of the candidate, again until none is left (2 s at most: what
        resists is the final sweep's)."""
        if not SANDBOXED:
            try:
                os.killpg(self.root, signal.SIGKILL)
            except OSError:
                pass
            return
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            alive = [int(name) for name, fields in self.processes(self.root).items() if fields[0] not in (b"Z", b"X")]
            if not alive:
                return
            for pid in alive:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.001)


# An interactor's OOM score adjustment: the OOM killer's second choice, after its candidate (1000,
# `volunteer_for_oom`) and before the worker (0). A candidate's memory that no process maps
# (memfds) is freed only once it has fully exited, so a second OOM kill may follow the first.
INTERACTOR_OOM_ADJ = b"500"


def own_oom_adj():
    """(fd, value) of our own oom_score_adj, opened at start while /proc/self is ours (a
    non-dumpable process's is root's), for `fork_with_oom_adj`; None if it cannot be opened,
    or raised and lowered again (lowering needs no privilege down to where it was)."""
    try:
        fd = os.open("/proc/self/oom_score_adj", os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        value = os.pread(fd, 16, 0).strip()
        os.pwrite(fd, INTERACTOR_OOM_ADJ, 0)
        os.pwrite(fd, value, 0)
        return fd, value
    except OSError:
        os.close(fd)
        return None


def fork_with_oom_adj(adj):
    """fork_test() whose child starts with oom_score_adj `adj`: ours for the moment of the fork
    (a child that is never dumpable cannot set its own)."""
    if OOM_ADJ is None:
        return fork_test()
    fd, ours = OOM_ADJ
    os.pwrite(fd, adj, 0)
    try:
        pid = fork_test()
    except BaseException:
        os.pwrite(fd, ours, 0)
        raise
    if pid:
        os.pwrite(fd, ours, 0)
    return pid


def cgroup_start():
    """(the cgroup's CPU, ours) just before an interactive test's forks; None without a cgroup."""
    if CGROUP_FILES is None:
        return None
    try:
        return CGROUP_FILES.cpu_seconds(), own_cpu()
    except (OSError, ValueError):
        return None


def wait_interaction(pids, limits, wall_limit, cgroup_cpu0=None):
    """Wait for both processes of an interactive test:
    {role: (wait status, rusage, reason, peak memory, cpu seen)}.

    Each is held to its own CPU and memory limits, read from /proc: the interactor's own process
    (and its children once it has waited for them), the candidate's every process
    (`CandidateTree`, from the group's CPU `cgroup_cpu0` where there is a cgroup), which all end
    with its first one, as a test's processes end with it. At `wall_limit` whatever still runs
    is stopped (a candidate waiting forever for an answer, an interactor waiting for one)."""
    start = time.monotonic()
    tree = CandidateTree(pids["program"], pids["interactor"], cgroup_cpu0)
    fds = {os.pidfd_open(pid): role for role, pid in pids.items()}
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN)
    ended, reasons, peaks, cpus = {}, {}, dict.fromkeys(pids, 0), dict.fromkeys(pids, 0.0)

    def judge_cpu():
        if "interactor" in ended:
            usage = ended["interactor"][1]
            return usage.ru_utime + usage.ru_stime
        return proc_usage(pids["interactor"])[0]
    try:
        while len(ended) < len(pids):
            for fd, _ in poller.poll(POLL_S * 1000):
                role = fds[fd]
                poller.unregister(fd)
                if role == "program":  # (its first process, a zombie until reaped, still counts)
                    cpus[role] = max(cpus[role], tree.usage(judge_cpu())[0])
                _, status, usage = os.wait4(pids[role], 0)
                ended[role] = (status, usage)
                if role == "program":
                    tree.kill()
            over_wall = time.monotonic() - start > wall_limit
            for role, pid in pids.items():
                if role in ended or role in reasons:
                    continue
                cpu, rss = tree.usage(judge_cpu()) if role == "program" else proc_usage(pid)
                cpus[role], peaks[role] = max(cpus[role], cpu), max(peaks[role], rss)
                if cpu > limits[role]["time_s"] or over_wall:
                    reasons[role] = "time"
                elif rss > limits[role]["memory_bytes"]:
                    reasons[role] = "memory"
                if role in reasons and role == "program":
                    tree.kill()
                elif role in reasons:
                    try:
                        os.killpg(pid, signal.SIGKILL)
                    except OSError:
                        pass
    finally:
        for fd in fds:
            os.close(fd)
    return {role: (ended[role][0], ended[role][1], reasons.get(role), peaks[role], cpus[role]) for role in pids}


def run_interactive(header, blobs):
    """One interactive test (testlib's protocol): the candidate ("program") and the "interactor"
    at once, each one's stdout the other's stdin; the interactor reads the test's input from
    /dev/fd/3 and writes its output file to /dev/fd/4 (its argv), and is not dumpable.

    header: "program" and "interactor", each {time_s, memory_bytes, output_bytes}, and
    "wall_s" for the two together. blobs: [the test's input]. Reply: the candidate's figures
    (as `run_test`'s) with "judge": the interactor's {status, exit_code, signal, cpu_s,
    memory_bytes}; parts: [the interactor's output file, the candidate's stderr tail, the
    interactor's stderr tail]."""
    if own_state() != STATE:
        return {"retry": True, "error": "the worker's limits or priority were changed"}, []
    loaded = {role: loaded_as(role) for role in ("interactor", "program")}
    if None in loaded.values():
        return {"error": "an interactive test needs a program and an interactor loaded"}, []
    limits = {role: header[role] for role in loaded}
    # What each may hold, as measured (`memory_budget`: a JVM's own memory beyond its heap).
    held = {role: dict(limits[role], memory_bytes=memory_budget(limits[role]["memory_bytes"], loaded[role].language))
            for role in loaded}
    if CGROUP_FILES is not None:
        try:
            oom0 = CGROUP_FILES.prepare(sum(lim["memory_bytes"] for lim in held.values()))
        except OSError as e:
            return {"retry": True, "error": f"the test's cgroup could not be prepared ({e})"}, []
    in_fd = reopened(blobs[0][0])
    output_fd = memfd("interactor-output")
    judge_r, program_w = os.pipe2(os.O_CLOEXEC)  # the candidate's stdout, the interactor's stdin
    program_r, judge_w = os.pipe2(os.O_CLOEXEC)
    err = {role: memfd(role + "-stderr") for role in loaded}
    ready_r, ready_w = os.pipe2(os.O_CLOEXEC)
    plan = {
        "interactor": ((judge_r, judge_w, err["interactor"]), [in_fd, output_fd], ["/dev/fd/3", "/dev/fd/4"]),
        "program": ((program_r, program_w, err["program"]), [], []),
    }
    pids, saved, cgroup_cpu0 = {}, None, cgroup_start()
    try:
        for role, (stdio, files, argv) in plan.items():
            box = None
            if loaded[role].code is not None:  # Python 3 in the warm worker
                state, box = enter_python_test(argv)
                saved = saved or state
            # (the interactor is forked first: the candidate's filter names it)
            guard = signal_guard(os.uname().machine, pids["interactor"]) if role == "program" else None
            pid = fork_test() if role == "program" else fork_with_oom_adj(INTERACTOR_OOM_ADJ)
            if pid == 0:
                start_test_process(loaded[role], stdio, files, argv,
                                   test_limits(limits[role], loaded[role].language, loaded[role].command is not None),
                                   ready_w, box, dumpable=role == "program", guard=guard, limits=limits[role])
            pids[role] = pid
    finally:
        if saved is not None:
            leave_python_test(saved)
        for fd in (in_fd, judge_r, program_w, program_r, judge_w, ready_w):
            os.close(fd)
        if len(pids) < len(plan):  # a fork failed: stop the one started
            for pid in pids.values():
                kill_test(pid)
                os.waitpid(pid, 0)
    start = time.monotonic()
    try:
        ends = wait_interaction(pids, held, float(header["wall_s"]), cgroup_cpu0)
    finally:
        if CGROUP_FILES is not None:
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                pass
            CGROUP_FILES.relax()
    clean = all(sweep(pid)[0] for pid in pids.values())
    started = os.read(ready_r, 2) == b"11"
    os.close(ready_r)
    if not started:
        why = last_line_of(err["program"], os.fstat(err["program"]).st_size) or \
            last_line_of(err["interactor"], os.fstat(err["interactor"]).st_size)
        for fd in (output_fd, *err.values()):
            os.close(fd)
        wipe_scratch()
        return {"retry": True, "error": f"an interactive test could not be set up ({why or 'no message'})"}, []
    out_of_memory = CGROUP_FILES is not None and CGROUP_FILES.oom_kills() > oom0
    figures = {}
    for role, (status, usage, reason, peak, cpu_seen) in ends.items():
        size = os.fstat(err[role]).st_size
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        cpu = max(usage.ru_utime + usage.ru_stime, cpu_seen)
        memory = max(usage.ru_maxrss * 1024, peak)
        figures[role] = {
            "status": program_status(status, reason, cpu, memory, out_of_memory and killed and reason is None,
                                     limits[role], 0, size, last_line_of(err[role], size),
                                     budget=held[role]["memory_bytes"],
                                     java_oom=loaded[role].language == "java" and java_out_of_memory(err[role], size)),
            "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "cpu_s": cpu, "memory_bytes": memory, "stderr_bytes": size,
        }
    clean = wipe_scratch() and clean
    output, output_size = head_part(output_fd, limits["interactor"]["output_bytes"])
    reply = dict(figures["program"], time_s=time.monotonic() - start, stdout_bytes=output_size,
                 restart=not clean, judge=figures["interactor"])
    return reply, [output, tail_part(err["program"], STDERR_TAIL)[0], tail_part(err["interactor"], STDERR_TAIL)[0]]


def program_status(status, reason, cpu, memory, out_of_memory, limits, stdout_size, stderr_size,
                   last_err_line, budget=None, java_oom=False):
    """How a test's process ended, as a status: the limits first, then its exit. `budget`: the
    memory it may hold (`memory_budget`; default its limit); `java_oom`: its stderr ends in
    Java's OutOfMemoryError (its heap, the memory limit, ran out)."""
    exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    if reason == "time" or cpu > limits["time_s"] or sig == signal.SIGXCPU:
        return "TIMEOUT"
    if reason == "memory" or out_of_memory or memory > (budget if budget is not None else limits["memory_bytes"]):
        return "MEMORY_LIMIT"
    if stdout_size > limits["output_bytes"] or stderr_size > limits["output_bytes"] or sig == signal.SIGXFSZ:
        return "OUTPUT_LIMIT"
    if exit_code == 0:
        return "OK"
    if last_err_line.startswith("MemoryError") or "std::bad_alloc" in last_err_line or java_oom:
        return "MEMORY_LIMIT"
    return "RUNTIME_ERROR"


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


SECCOMP = None  # (program, instructions) of the "reach" filter, on the worker itself from start
MEMORY_FILTER = None  # the "memory" filter each test adds where no cgroup counts memory
CGROUP_FILES = None  # SandboxCgroup, where the host made one
STATE = None  # own_state() as it must stay
OOM_ADJ = None  # (fd of our oom_score_adj, opened while we were dumpable; our own value), or None


def main():
    global TEST_STREAMS, SECCOMP, MEMORY_FILTER, CGROUP_FILES, STATE, OOM_ADJ
    ensure_big_stack()
    # The control channel: two pipe fds only this process holds (close-on-exec, and
    # closed in every test); our stdio is /dev/null, so nothing else holds it either.
    req = fcntl.fcntl(REQUEST_FD, fcntl.F_DUPFD_CLOEXEC, 10)
    rep = fcntl.fcntl(REPLY_FD, fcntl.F_DUPFD_CLOEXEC, 10)
    for fd in {REQUEST_FD, REPLY_FD} - {0, 1, 2}:
        os.close(fd)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    OOM_ADJ = own_oom_adj()  # (while /proc/self is still ours)
    # Tests run as the same user: without this they could read our fds and memory.
    set_dumpable(False)
    leave_session_keyring()
    # As pid 1 we get only the signals we handle: handle none (Python's SIGINT handler
    # would let a test's kill(1, SIGINT) end us).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    worker_limits()
    # Codeforces has no limit on int <-> str conversion; Python 3.11 stops at 4,300 digits.
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    STATE = own_state()
    cgroup_error = None
    if CGROUP is not None:
        CGROUP_FILES = SandboxCgroup(CGROUP)
        for fd in CGROUP_FILES.fds:
            os.set_inheritable(fd, False)  # never into g++ (tests close every fd anyway)
        try:
            CGROUP_FILES.join()
        except OSError as e:  # a v2 kernel before 5.16 checks the writer, not the opener
            cgroup_error = f"the sandbox could not join its cgroup ({e})"
            CGROUP_FILES = None  # the host hears it in our hello and decides
    SECCOMP = seccomp_filter(os.uname().machine, "reach")
    if CGROUP_FILES is None:
        MEMORY_FILTER = seccomp_filter(os.uname().machine, "memory")
    if SECCOMP is None and SANDBOXED:
        send(rep, {"ok": False, "error": f"no seccomp filter for this machine ({os.uname().machine})"})
        return
    if SECCOMP is not None:
        enter_seccomp(SECCOMP[0])  # ours from now on, and every test's and compiler's after us
    os.chdir(SCRATCH)
    TEST_STREAMS = make_test_streams()
    settle()
    send(rep, {"ok": True, "python": sys.version.split()[0], "pid": os.getpid(),
               "seccomp": SECCOMP is not None, "cgroup": CGROUP_FILES is not None,
               "cgroup_error": cgroup_error})
    while True:
        try:
            header, blobs = recv(req)
        except EOFError:
            return
        op = header.get("op")
        reply, parts = {"error": f"unknown op {op!r}"}, []
        try:
            if op == "load":
                reply, parts = load(header, blobs)
                settle()
            elif op == "run":
                reply, parts = run_test(header, blobs)
            elif op == "interact":
                reply, parts = run_interactive(header, blobs)
            elif op == "ping":
                reply = {"ok": True}
            send(rep, dict(reply, seq=header.get("seq")), parts)
        finally:
            for fd in {blob for blob, _ in blobs} | {part[0] for part in parts}:
                os.close(fd)
        if reply.get("restart") or reply.get("retry"):
            return  # something of the test survived, or we were altered: a fresh sandbox replaces us


if __name__ == "__main__":
    main()
