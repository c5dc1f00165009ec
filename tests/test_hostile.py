"""Hostile programs: each ends with the right status in bounded time, the host is left
unchanged (no file written, no process left, no connection made, no secret leaked), and
the next program runs normally."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from acodium.execute import Limits, Program, Status, run_program
from acodium.execute.local import LocalBackend

REPO = Path(__file__).resolve().parents[1]
LIMITS = Limits(time_s=0.5, memory_bytes=128 << 20, output_bytes=1 << 20)
WALL_CAP = 5 * 0.5 + 1  # the backend's wall-clock cap for LIMITS
SECRET_NAME = "ACODIUM_TEST_SECRET_KEY"
SECRET = "sk-" + secrets.token_hex(16)


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
    # Each sandbox is bwrap, its init and the worker: nothing the program started survives.
    assert _sandbox_processes(backend) == 2 * len(backend._all)
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
"""
    r, _ = hostile(backend, code)
    assert r.status == Status.OK
    assert SECRET_NAME not in r.stdout
    env_line = r.stdout.splitlines()[0]
    assert eval(env_line) == {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp", "PWD": "/tmp",
                               "PYTHONINTMAXSTRDIGITS": "0"}
    listing = [line for line in r.stdout.splitlines() if line.startswith("[")][0]
    assert "'work'" not in listing and "'root'" not in listing and "'home'" not in listing
    assert "65534" in r.stdout
    assert "/root False" in r.stdout and "/work False" in r.stdout


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
