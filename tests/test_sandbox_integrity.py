"""The local sandbox's own guarantees, seen from a program that plays by the rules and
from the host: the control channel accepts only the reply it asked for, the seccomp
filter leaves ordinary programs alone, every process of a test is counted, and a
compilation stopped at its limits says so. (Attacks are in test_hostile.py.)"""

from __future__ import annotations

import os
import shutil

import pytest

from acodium.execute import Limits, Program, Status, cgroups, run_program
from acodium.execute.local import LocalBackend
from acodium.execute.local_channel import WorkerLost

LIMITS = Limits(time_s=2.0, memory_bytes=256 << 20)

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")


@pytest.fixture(scope="module")
def backend():
    be = LocalBackend(workers=1)
    yield be
    be.close()


def cgroups_usable() -> bool:
    if cgroups.probe() is not None:
        return True
    if os.environ.get("CI") == "true":  # CI runs as root on a machine with cgroups: never skip there
        pytest.fail(f"cgroups are required in CI: {cgroups.unavailable_reason()}")
    return False


@pytest.fixture(scope="module", params=["cgroup", "rlimits"])
def each_accounting(request):
    """A one-worker backend per way of counting resources: a cgroup, or strict rlimits."""
    if request.param == "cgroup" and not cgroups_usable():
        pytest.skip(f"no cgroups here: {cgroups.unavailable_reason()}")
    be = LocalBackend(workers=1, cgroups=request.param == "cgroup")
    yield request.param, be
    be.close()


MEMFD_HOG = """
import os
fds = []
for i in range(40):
    fd = os.memfd_create("x")
    os.posix_fallocate(fd, 0, 30 << 20)
    fds.append(fd)
print("held", len(fds))
"""

SHM_HOG = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
held = 0
for _ in range(12):
    shm = libc.shmget(0, 32 << 20, 0o1000 | 0o600)
    if shm < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    addr = libc.shmat(shm, None, 0)
    ctypes.memset(addr, 1, 32 << 20)  # written, then detached: no process maps it any more
    libc.shmdt(ctypes.c_void_p(addr))
    held += 32
print("held", held)
"""


@pytest.mark.parametrize("hog", [MEMFD_HOG, SHM_HOG], ids=["memfd", "sysv-shm"])
def test_memory_no_process_maps_is_counted_or_refused(each_accounting, hog):
    """1.2 GiB in memfds or detached shared memory under a 256 MiB limit: a cgroup counts
    it (MEMORY_LIMIT); without one, the system calls that make it are refused."""
    mode, be = each_accounting
    r = run(be, hog)
    if mode == "cgroup":
        assert r.status == Status.MEMORY_LIMIT, (r.status, r.stdout, r.stderr[-300:])
    else:
        assert r.status == Status.RUNTIME_ERROR and "Operation not permitted" in r.stderr, r.stderr[-300:]
    assert "held" not in r.stdout
    after = run(be, "print(input())", "fine")
    assert (after.status, after.stdout) == (Status.OK, "fine\n")


def test_cpu_of_children_counts_in_either_accounting(each_accounting):
    _, be = each_accounting
    r = run(be, "import os, time\nfor _ in range(3):\n    if os.fork() == 0:\n        t = time.process_time()\n"
                "        while time.process_time() - t < 1.0:\n            pass\n        os._exit(0)\n"
                "for _ in range(3):\n    os.wait()\n")
    # (with a cgroup, the group's counter, which also holds the worker's few polls, decides
    # the kill: the test's own CPU is then a hair under the limit)
    assert r.status == Status.TIMEOUT and r.cpu_s >= 0.95 * 2.0


def test_the_accounting_is_part_of_the_cache_key(each_accounting):
    """A verdict may differ between a cgroup and rlimits (memfd counted, or refused)."""
    mode, be = each_accounting
    assert ("cgroup" in be.version()) == (mode == "cgroup")


def run(backend, code, stdin="", language="python3", limits=LIMITS):
    return run_program(Program(language, code), [stdin], None, limits, backend=backend)[0]


def test_ordinary_system_calls_still_work_under_the_filter(backend):
    """What contest programs do on themselves is allowed: limits, priority, affinity,
    threads, child processes, pipes, files in /tmp."""
    code = """
import os, resource, subprocess, sys, threading
resource.setrlimit(resource.RLIMIT_STACK, resource.getrlimit(resource.RLIMIT_STACK))
print(resource.prlimit(0, resource.RLIMIT_NOFILE)[0] <= 64)
os.setpriority(os.PRIO_PROCESS, 0, 5)
os.sched_setaffinity(0, os.sched_getaffinity(0))
out = []
t = threading.Thread(target=lambda: out.append(sum(range(1000))))
t.start(); t.join()
print(out[0])
print(subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True).stdout.strip())
r, w = os.pipe()
if os.fork() == 0:
    os.write(w, b"child"); os._exit(0)
os.wait()
print(os.read(r, 5).decode())
open("/tmp/f", "w").write("x")
print(open("/tmp/f").read())
"""
    r = run(backend, code)
    assert (r.status, r.stdout.split()) == (Status.OK, ["True", "499500", "42", "child", "x"]), r.stderr


def test_cpu_of_children_counts_towards_the_limit(backend):
    """Three children burning 1 s each while the parent blocks: 3 s of CPU under 2 s."""
    code = """
import os, time
r, w = os.pipe()
for _ in range(3):
    if os.fork() == 0:
        t = time.process_time()
        while time.process_time() - t < 1.0:
            pass
        os._exit(0)
os.close(w)
os.read(r, 1)
print("done")
"""
    r = run(backend, code)
    assert r.status == Status.TIMEOUT
    assert r.cpu_s >= 0.95 * 2.0


def test_cpu_of_children_is_reported_when_within_the_limit(backend):
    code = """
import os, time
for _ in range(2):
    if os.fork() == 0:
        t = time.process_time()
        while time.process_time() - t < 0.3:
            pass
        os._exit(0)
os.wait(); os.wait()
print("done")
"""
    r = run(backend, code)
    assert r.status == Status.OK
    assert 0.55 <= r.cpu_s < 2.0


def test_orphans_cpu_counts_too(backend):
    """A grandchild orphaned by a child that exited is the test's, and so is its CPU."""
    code = """
import os, time
r, w = os.pipe()
if os.fork() == 0:
    if os.fork() == 0:
        t = time.process_time()
        while time.process_time() - t < 0.5:
            pass
        os.write(w, b"x")  # burnt, and now an orphan of the sandbox's init
        time.sleep(0.2)
        os._exit(0)
    os._exit(0)
os.wait()
os.close(w)
os.read(r, 1)
print("done")
"""
    r = run(backend, code)
    assert r.status == Status.OK
    assert r.cpu_s >= 0.45


def test_memory_of_several_processes_is_summed(backend):
    """Four children holding 100 MiB each under a 256 MiB limit: over the limit together."""
    code = """
import os, time
for _ in range(4):
    if os.fork() == 0:
        x = bytearray(100 << 20)
        time.sleep(3)
        os._exit(0)
for _ in range(4):
    os.wait()
"""
    r = run(backend, code, limits=Limits(time_s=2.0, memory_bytes=256 << 20))
    assert r.status == Status.MEMORY_LIMIT
    assert r.memory_bytes >= 256 << 20  # (a cgroup stops it at the limit: its peak is the limit)


def test_a_compilation_stopped_at_its_time_limit_says_so():
    be = LocalBackend(workers=1, compile_time_s=1)
    try:
        # Deep template recursion: far more than 1 s of CPU for g++.
        code = ("template<int N> struct F { static const long long v = F<N-1>::v + F<N-2>::v % 7; };\n"
                "template<> struct F<0> { static const long long v = 0; };\n"
                "template<> struct F<1> { static const long long v = 1; };\n"
                "#include <bits/stdc++.h>\n#include <regex>\n"
                "int main() { std::regex r(\"a+b\"); std::map<int, std::vector<std::string>> m;"
                " std::cout << F<900>::v << std::regex_match(\"aab\", r); }\n")
        r = run(be, code, language="cpp")
    finally:
        be.close()
    assert r.status == Status.COMPILE_ERROR
    assert r.stderr.startswith("compilation stopped at its time limit"), r.stderr[:300]


def test_a_reply_that_was_not_asked_for_ends_the_worker(backend):
    """Bytes on the channel before a request are never read as the next job's answer."""
    run(backend, "print(1)")
    worker = backend._all[0]
    worker._pending += b"\x00\x00\x00\x02{}"
    with pytest.raises(WorkerLost, match="not asked for"):
        worker.request({"op": "ping"}, [], 5)
    worker._pending.clear()


def test_a_reply_to_another_request_ends_the_worker(backend):
    run(backend, "print(1)")
    worker = backend._all[0]
    worker._seq += 5  # the worker will answer with the sequence number it is sent...
    reply, _ = worker.request({"op": "ping"}, [], 5)
    assert reply["ok"] and reply["seq"] == worker._seq
    real = worker.read_reply

    def stale(*args):  # ...so a reply carrying an older one is not ours
        header, blobs = real(*args)
        return dict(header, seq=header["seq"] - 1), blobs
    worker.read_reply = stale
    try:
        with pytest.raises(WorkerLost, match="another request"):
            worker.request({"op": "ping"}, [], 5)
    finally:
        del worker.read_reply


def test_a_malformed_verdict_is_never_a_result(backend):
    """A reply with a status the judge does not know, or impossible figures, is a lost worker."""
    program = Program("python3", "print(1)")
    for reply in ({"status": "ACCEPTED"}, {"status": "OK", "cpu_s": float("nan")},
                  {"status": "OK", "time_s": -1}, {"status": "SANDBOX_ERROR"}):
        with pytest.raises(WorkerLost):
            LocalBackend._result(program, reply, [b"", b""])


def test_the_worker_is_the_sandboxs_init_and_holds_its_channel_alone(backend):
    """Pid 1 is the worker; no process a test can see has the channel's pipes open."""
    code = """
import os
print(os.getppid())
mine = sorted(int(fd) for fd in os.listdir('/proc/self/fd'))
print(mine[:3] == [0, 1, 2] and len(mine) <= 4)
try:
    os.listdir('/proc/1/fd')
    print('readable')
except PermissionError:
    print('hidden')
"""
    r = run(backend, code)
    assert r.stdout.split() == ["1", "True", "hidden"], r.stderr


@pytest.mark.skipif(os.uname().machine not in ("x86_64", "aarch64"), reason="filter written for x86_64 and aarch64")
def test_the_filter_is_installed_in_every_test(backend):
    r = run(backend, "print(open('/proc/self/status').read().split('Seccomp:')[1].split()[0])")
    assert r.stdout.strip() == "2"  # SECCOMP_MODE_FILTER


def test_a_cgroup_tests_cannot_join_means_per_process_limits_never_wrong_verdicts(monkeypatch):
    """Where a test's process cannot move itself into the cgroup (a v2 kernel that checks
    the writer, not the opener), every test would fail: the backend finds out from its
    first worker, before any job, and falls back (or refuses when cgroups were required)."""
    if not cgroups_usable():
        pytest.skip(f"no cgroups here: {cgroups.unavailable_reason()}")
    import warnings

    from acodium.errors import UserError
    from acodium.execute import local_pool

    real_spec, real_fds = cgroups.WorkerCgroup.spec, cgroups.WorkerCgroup.pass_fds

    def readonly(group):  # writing "0" to it fails, as such a kernel would refuse the move
        if not hasattr(group, "readonly"):
            group.readonly = os.open(os.devnull, os.O_RDONLY)
        return group.readonly
    monkeypatch.setattr(cgroups.WorkerCgroup, "spec", lambda self: dict(real_spec(self), procs=[readonly(self)]))
    monkeypatch.setattr(cgroups.WorkerCgroup, "pass_fds", lambda self: [*real_fds(self), readonly(self)])
    monkeypatch.setattr(local_pool, "_WARNED_NO_CGROUPS", [])
    with pytest.raises(UserError, match="could not join its cgroup"):
        LocalBackend(workers=1, cgroups=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        be = LocalBackend(workers=1)
    try:
        assert [str(w.message) for w in caught if w.category is cgroups.NoCgroupsWarning]
        assert "rlimits" in be.version()
        r = run(be, "print(input())", "still judged")
        assert (r.status, r.stdout) == (Status.OK, "still judged\n")
    finally:
        be.close()


def test_no_limit_on_int_str_conversion_as_on_codeforces(backend):
    """Python 3.11 refuses int <-> str beyond 4,300 digits; Codeforces has no such limit,
    in the program or in a Python it starts."""
    code = ("import subprocess, sys\nn = int('7' * 5000)\nprint(len(str(n * 3)))\n"
            "print(subprocess.run([sys.executable, '-c', 'print(len(str(10 ** 5000)))'],"
            " capture_output=True, text=True).stdout.strip())")
    r = run(backend, code)
    assert (r.status, r.stdout.split()) == (Status.OK, ["5001", "5001"]), r.stderr


SCAN_MEMORY = """
import ctypes, sys
masked = {masked!r}
key = {key!r}
pats = []
for m in masked:  # built byte by byte: no other copy of a marker in this process
    pat = bytearray(len(m))
    for i in range(len(m)):
        pat[i] = m[i] ^ key
    pats.append(pat)
buf = bytearray(1 << 20)
def span(b):
    start = ctypes.addressof((ctypes.c_char * len(b)).from_buffer(b))
    return start, start + len(b)
skip = [span(buf)] + [span(p) for p in pats]
found = [0] * len(pats)
with open("/proc/self/maps") as fh:
    regions = [line.split() for line in fh]
mem = open("/proc/self/mem", "rb", buffering=0)
view = memoryview(buf)
for fields in regions:
    lo, hi = (int(x, 16) for x in fields[0].split("-"))
    if "r" not in fields[1] or (len(fields) > 5 and fields[5] in ("[vvar]", "[vsyscall]")):
        continue
    addr = lo
    while addr < hi:
        n = min(len(buf), hi - addr)
        try:
            mem.seek(addr)
            got = mem.readinto(view[:n])
        except OSError:
            break
        for k, pat in enumerate(pats):
            at = buf.find(pat, 0, got)
            while at >= 0:
                where = addr + at
                if not any(a <= where < b for a, b in skip):
                    found[k] += 1
                at = buf.find(pat, at + 1, got)
        addr += max(got - 64, 1) if got == n else got or n
print(found)
"""


def test_an_earlier_candidates_input_and_output_are_not_in_a_later_tests_memory(backend):
    """A test is a fork of the worker: what the worker's heap keeps of candidate A (its
    hidden input, its output) would be readable by candidate B. Inputs and outputs pass
    between the channel and memfds by splice/sendfile, never through the heap."""
    import secrets
    key = 0x5A
    hidden_input = "in-" + secrets.token_hex(12)
    a_code = "s = input()\nprint(s[::-1])\n"
    a = run(backend, a_code, hidden_input)
    a_output = hidden_input[::-1]
    assert a.stdout.strip() == a_output
    masked = [bytes(c ^ key for c in m.encode()) for m in (hidden_input, a_output)]
    b = run(backend, SCAN_MEMORY.format(masked=masked, key=key), limits=Limits(time_s=10, memory_bytes=512 << 20))
    assert b.status == Status.OK, b.stderr[-500:]
    assert b.stdout.strip() == "[0, 0]", "candidate A's hidden input or output found in B's memory"


@pytest.mark.parametrize("language", ["python3", "cpp"])
def test_an_earlier_candidates_code_is_not_in_a_later_tests_memory(backend, language):
    """Nothing of candidate A's source (a comment, a string constant) is left for B to
    read or run: the worker holds one program at a time and compiles from zeroed buffers."""
    import secrets
    key = 0x5A
    comment, constant = "code" + secrets.token_hex(12), "str" + secrets.token_hex(12)
    code = (f"# {comment}\nx = '{constant}'\nprint(len(x))\n" if language == "python3" else
            f"// {comment}\n#include <cstdio>\n#include <cstring>\nconst char* x = \"{constant}\";\n"
            "int main() { printf(\"%zu\\n\", strlen(x)); }\n")
    a = run(backend, code, language=language)
    assert a.stdout.strip() == str(len(constant)), a.stderr
    masked = [bytes(c ^ key for c in m.encode()) for m in (comment, constant)]
    b = run(backend, SCAN_MEMORY.format(masked=masked, key=key), limits=Limits(time_s=10, memory_bytes=512 << 20))
    assert b.stdout.strip() == "[0, 0]", "candidate A's code found in B's memory"


def test_a_reply_announcing_more_than_it_may_hold_is_never_read():
    """A frame's sizes are checked before reading: a broken (or forged) part length
    ends the worker instead of making the host allocate."""
    import struct

    from acodium.execute.local_channel import _frame, _read_frame
    data = bytearray(_frame({"status": "OK"}, [b"x" * 10, b""]))
    data[-8 - 10 - 8:-8 - 10] = struct.pack(">Q", 1 << 40)
    view = memoryview(bytes(data))
    pos = [0]

    def exact(n):
        chunk = view[pos[0]:pos[0] + n]
        pos[0] += n
        return bytes(chunk)
    with pytest.raises(WorkerLost, match="announced a reply part"):
        _read_frame(exact)
    assert pos[0] < 200  # nothing of the announced terabyte was asked for


IGNORED_CHILDREN = """
import os, signal, time
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps them: no rusage ever shows their CPU
for wave in range({waves}):
    for _ in range(2):
        if os.fork() == 0:
            t = time.process_time()
            while time.process_time() - t < {each}:
                pass
            os._exit(0)
    try:  # with SIGCHLD ignored, wait() returns once every child has ended, and reaps nothing
        os.wait()
    except ChildProcessError:
        pass
print(input())
"""


def test_cpu_of_children_the_kernel_reaps_is_counted(each_accounting):
    """Children of a parent that ignores SIGCHLD are reaped by the kernel and reach no
    rusage: their CPU counts all the same, in the figure and against the limit."""
    _, be = each_accounting
    within = run(be, IGNORED_CHILDREN.format(waves=1, each=0.3), "x", limits=Limits(time_s=1.0))
    assert within.status == Status.OK and within.cpu_s >= 0.55, (within.status, within.cpu_s)
    over = run(be, IGNORED_CHILDREN.format(waves=4, each=0.4), "x", limits=Limits(time_s=1.0))
    assert over.status == Status.TIMEOUT and over.cpu_s >= 0.95, (over.status, over.cpu_s)


def test_stdin_cannot_hold_anything_and_pipes_keep_their_size(each_accounting):
    """The test's stdin is read-only (it could otherwise store memory in the input's file);
    without a cgroup, pipes cannot be enlarged to 1 MiB each either."""
    mode, be = each_accounting
    code = ("import fcntl, os\ntry:\n    os.write(0, b'x')\n    print('stdin writable')\nexcept OSError:\n"
            "    print('stdin read-only')\nr, w = os.pipe()\ntry:\n    fcntl.fcntl(w, 1031, 1 << 20)\n"
            "    print('pipe enlarged')\nexcept OSError:\n    print('pipe kept')\nprint(input())")
    r = run(be, code, "x")
    assert r.stdout.split() == ["stdin", "read-only", "pipe", "enlarged" if mode == "cgroup" else "kept", "x"], r.stderr


def test_a_tree_too_deep_to_walk_is_removed_and_the_next_test_is_clean(backend):
    code = ("import os\nos.chdir('/tmp')\nfor _ in range(1500):\n    os.mkdir('d')\n    os.chdir('d')\n"
            "print('deep')")
    r = run(backend, code)
    assert r.stdout == "deep\n", r.stderr[-300:]
    after = run(backend, "import os\nprint(os.listdir('/tmp'))")
    assert after.stdout == "[]\n"


def test_a_program_that_no_longer_compiles_gets_that_verdict_not_an_exception():
    """A worker is replaced mid-job and the program, reloaded, fails to compile (its code
    may look at the clock): the tests left get COMPILE_ERROR; nothing raises."""
    from acodium.execute import Job
    from acodium.execute.local_channel import Worker

    be = LocalBackend(workers=1, cgroups=False)
    real_load, real_request = be._load, Worker.request
    loads = []

    def load(worker, program):
        loads.append(program.hash)
        return real_load(worker, program) if len(loads) == 1 else {"compile_error": True, "stderr": "now it fails"}
    asked = []

    def request(self, header, blobs, timeout, max_blob=1 << 20):
        if header.get("op") == "run":
            asked.append(1)
            if len(asked) == 2:  # the second test: the worker says it was altered
                return {"retry": True, "seq": self._seq}, []
        return real_request(self, header, blobs, timeout, max_blob)
    be._load = load
    try:
        Worker.request = request
        results = be.run(Job(Program("python3", "print(input())"), ["a", "b", "c"], ["a", "b", "c"], LIMITS))
    finally:
        Worker.request = real_request
        be.close()
    assert [(r.status, r.passed) for r in results] == [
        (Status.OK, True), (Status.COMPILE_ERROR, False), (Status.COMPILE_ERROR, False)]
    assert "now it fails" in results[1].stderr
