"""Cgroup accounting, for real: groups made by the host (root), used from inside a bwrap
sandbox started as nobody (as LocalBackend does) through inherited file descriptors only.

Tests needing root, cgroups, bwrap and python3.11 skip when those are missing, except
under CI=true, where they fail."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from acodium.execute import cgroups
from acodium.execute.local import DEFAULT_PYTHON
from acodium.execute.local_sandbox import SANDBOX_UID, bwrap_command

MiB = 1 << 20

# Runs inside the sandbox as the worker would: set the limit, fork, the child moves
# itself into the test group (b"0" to every procs fd), drops the fds, then does `mode`.
SANDBOX_SCRIPT = r'''
import errno, json, os, sys, time
spec, mode = json.loads(sys.argv[1]), sys.argv[2]
def read(fd): return os.pread(fd, 4096, 0).decode()
def oom_kills(): return int(dict(l.split() for l in read(spec["oom"]).splitlines())["oom_kill"])
def cpu():
    text = read(spec["cpu"])
    if spec["cpu_unit"] == "ns":
        return int(text) / 1e9
    return int(dict(l.split() for l in text.splitlines())["usage_usec"]) / 1e6
def set_memory(limit):
    if spec.get("memsw_max") is not None:  # v1 keeps memory <= memory+swap
        os.pwrite(spec["memsw_max"], b"-1", 0)
    os.pwrite(spec["memory_max"], limit, 0)
    if spec.get("memsw_max") is not None:
        os.pwrite(spec["memsw_max"], limit, 0)
def burn(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
def say(**kw):
    print(json.dumps(kw), flush=True)
def test_child():
    for fd in spec["procs"]:
        os.write(fd, b"0")
    for fd in [*spec["procs"], spec["memory_max"], spec["cpu"], spec["oom"], spec["memory_peak"], spec.get("memsw_max")]:
        if fd is not None:
            os.close(fd)
    if mode == "oom":
        fds = []
        for i in range(40):
            fd = os.memfd_create(f"m{i}")
            os.posix_fallocate(fd, 0, 30 << 20)
            fds.append(fd)
        os._exit(3)  # not reached: killed first
    if mode == "cpu":
        kids = []
        for _ in range(3):
            pid = os.fork()
            if pid == 0:
                burn(0.5)
                os._exit(0)
            kids.append(pid)
        for pid in kids:
            os.waitpid(pid, 0)
        os._exit(0)
    if mode == "peak":
        fd = os.memfd_create("peak")
        os.posix_fallocate(fd, 0, 64 << 20)
        os._exit(0)
    if mode == "pids":
        forked = 0
        while True:
            try:
                pid = os.fork()
            except BlockingIOError:
                break
            if pid == 0:
                time.sleep(600)
                os._exit(0)
            forked += 1
        say(forked=forked)
        time.sleep(600)  # left inside for the host's close() to kill
if mode == "nosee":
    paths = {p: os.path.exists(p) for p in ("/sys/fs/cgroup", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/cgroup.procs")}
    mounts = [l for l in open("/proc/self/mounts") if "cgroup" in l]
    reopen = {}
    for key in ("oom", "cpu", "memory_max"):
        try:
            os.close(os.open(f"/proc/self/fd/{spec[key]}", os.O_RDWR))
            reopen[key] = "opened"
        except OSError as e:
            reopen[key] = errno.errorcode[e.errno]
    try:
        os.open(f"/proc/self/fd/{spec['oom']}/..", os.O_RDONLY)
        parent = "opened"
    except OSError as e:
        parent = errno.errorcode[e.errno]
    try:
        os.mkdir("/tmp/cg")
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        rc = libc.mount(b"cgroup2", b"/tmp/cg", b"cgroup2", 0, None)
        mount = "mounted" if rc == 0 else errno.errorcode[ctypes.get_errno()]
    except OSError as e:
        mount = errno.errorcode[e.errno]
    say(paths=paths, mounts=mounts, reopen=reopen, parent=parent, mount=mount,
        own=open("/proc/self/cgroup").read(), uid=os.getuid())
    sys.exit(0)
limit = b"-1" if mode != "oom" else str(256 << 20).encode()
set_memory(limit if spec["kind"] == "v1" else limit.replace(b"-1", b"max"))
if spec["memory_peak"] is not None and spec["peak_resettable"]:
    os.pwrite(spec["memory_peak"], b"0" if spec["kind"] == "v1" else b"reset", 0)
oom0, cpu0, t0 = oom_kills(), cpu(), time.monotonic()
pid = os.fork()
if pid == 0:
    test_child()
    os._exit(0)
_, status = os.waitpid(pid, 0)
peak = int(read(spec["memory_peak"])) if spec["memory_peak"] is not None else None
reset_peak = None
if peak is not None and spec["peak_resettable"]:
    os.pwrite(spec["memory_peak"], b"0" if spec["kind"] == "v1" else b"reset", 0)
    reset_peak = int(read(spec["memory_peak"]))
say(signal=os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
    exit=os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
    oom=oom_kills() - oom0, cpu=cpu() - cpu0, wall=time.monotonic() - t0, peak=peak, reset_peak=reset_peak)
'''


def _unusable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true, where cgroups must be tested: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def support() -> cgroups.CgroupSupport:
    if os.geteuid() != 0:
        _unusable("these tests create cgroups and need root")
    found = cgroups.probe()
    if found is None:
        _unusable(cgroups.unavailable_reason())
    return found


@pytest.fixture
def group(support):
    g = support.worker_group(f"test-{os.getpid()}-{time.monotonic_ns()}", pids_max=16)
    yield g
    g.close()


@pytest.fixture(scope="module")
def sandbox_ready(support):
    bwrap = shutil.which("bwrap")
    if bwrap is None or not Path(DEFAULT_PYTHON).exists():
        _unusable(f"bwrap and {DEFAULT_PYTHON} are needed to test cgroups from inside a sandbox")
    return bwrap


def sandbox(bwrap: str, group: cgroups.WorkerCgroup, mode: str) -> subprocess.Popen:
    """SANDBOX_SCRIPT in a sandbox built as WorkerPool._spawn (local_pool.py) does when root."""
    cmd = bwrap_command(bwrap, 64 * MiB) + [DEFAULT_PYTHON, "-I", "-B", "-c", SANDBOX_SCRIPT,
                                             json.dumps(group.spec()), mode]
    return subprocess.Popen(cmd, user=SANDBOX_UID, group=SANDBOX_UID, extra_groups=[],
                            pass_fds=group.pass_fds(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={"PATH": "/usr/bin:/bin"}, cwd="/",
                            start_new_session=True)


def run_sandbox(bwrap: str, group: cgroups.WorkerCgroup, mode: str) -> dict:
    proc = sandbox(bwrap, group, mode)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    return json.loads(out.decode().splitlines()[-1])


def test_spec_is_json_with_the_promised_keys(group, support):
    spec = json.loads(json.dumps(group.spec()))
    assert spec["kind"] == support.kind
    assert set(spec) >= {"kind", "procs", "memory_max", "memory_usage", "cpu", "cpu_unit", "oom", "memory_peak",
                         "peak_resettable", "memsw_max"}
    assert spec["cpu_unit"] == {"v1": "ns", "v2": "usec"}[support.kind]
    assert len(spec["procs"]) == len(group.dirs) >= 1
    assert sorted(group.pass_fds()) == sorted(
        [*spec["procs"], *(spec[k] for k in ("memory_max", "memory_usage", "cpu", "oom", "memory_peak", "memsw_max")
                           if spec[k] is not None)])
    assert all(not os.get_inheritable(fd) for fd in group.pass_fds())  # only via pass_fds


def test_memfd_memory_is_counted_and_oom_killed(group, sandbox_ready):
    result = run_sandbox(sandbox_ready, group, "oom")
    assert result["signal"] == 9, result
    assert result["oom"] >= 1, result


def test_cpu_of_child_processes_is_counted(group, sandbox_ready):
    result = run_sandbox(sandbox_ready, group, "cpu")
    assert result["exit"] == 0, result
    assert 1.3 <= result["cpu"] <= 1.5 + result["wall"], result


def test_memory_peak_reading_and_reset(group, sandbox_ready):
    result = run_sandbox(sandbox_ready, group, "peak")
    if result["peak"] is None:
        pytest.skip("this kernel reports no memory peak")
    assert result["exit"] == 0 and result["peak"] >= 64 * MiB, result
    if group.spec()["peak_resettable"]:
        assert result["reset_peak"] < 16 * MiB, result


def test_fork_loop_stops_at_pids_max_and_close_kills_what_is_left(support, sandbox_ready):
    g = support.worker_group(f"fork-{os.getpid()}", pids_max=16)
    try:
        proc = sandbox(sandbox_ready, g, "pids")
        line = proc.stdout.readline()
        assert json.loads(line) == {"forked": 15}, proc.stderr.read() if not line else line
        inside = g.pids()
        assert len(inside) == 16
        for d in g.dirs:  # moved in every hierarchy, by writes made as nobody inside the sandbox
            assert set(map(int, (d / "cgroup.procs").read_text().split())) == inside
    finally:
        g.close()
    assert not any(d.exists() for d in g.dirs)
    result = json.loads(proc.communicate(timeout=30)[0])
    assert result["signal"] == 9, result
    # Killed, then reaped by their parents in the sandbox (a loaded machine takes a moment).
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in inside) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(Path(f"/proc/{pid}").exists() for pid in inside)


def test_nothing_in_the_sandbox_reaches_cgroups_but_through_the_fds(group, sandbox_ready):
    seen = run_sandbox(sandbox_ready, group, "nosee")
    assert seen["uid"] == SANDBOX_UID
    assert not any(seen["paths"].values()) and seen["mounts"] == [], seen
    assert seen["own"].splitlines() and all(l.endswith(":/") for l in seen["own"].splitlines()), seen
    assert set(seen["reopen"].values()) == {"EACCES"}, seen
    assert seen["parent"] == "ENOTDIR", seen
    assert seen["mount"] in ("EPERM", "EACCES"), seen


def test_close_kills_what_is_inside_removes_everything_and_is_idempotent(support):
    fds_before = set(os.listdir("/proc/self/fd"))
    g = support.worker_group("closing")
    other = support.worker_group("other")
    sleeper = subprocess.Popen(["sleep", "600"])
    for fd in g.spec()["procs"]:
        os.write(fd, str(sleeper.pid).encode())
    assert g.pids() == {sleeper.pid}
    g.close()
    assert sleeper.wait(timeout=10) == -9
    assert not any(d.exists() for d in g.dirs)
    assert all(d.parent.exists() for d in other.dirs)  # the other worker's group keeps the parent
    other.close()
    other.close()
    # The last group takes the parent with it; groups of this process's other backends
    # (earlier tests' workers, still alive) keep it, and are all that is left in it.
    for d in other.dirs:
        left = [c.name for c in d.parent.iterdir() if c.is_dir()] if d.parent.exists() else []
        assert "closing" not in left and "other" not in left
        assert d.parent.exists() == bool(left)
    assert set(os.listdir("/proc/self/fd")) == fds_before


def test_probe_removes_stale_groups_of_dead_processes(support, monkeypatch):
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = [base / f"acodium-{dead.pid}" / "w0" for base in support.bases]
    live = [base / f"acodium-{os.getppid()}" for base in support.bases]  # a live pid: kept
    for d in stale + live:
        d.mkdir(parents=True, exist_ok=True)
    try:
        cgroups._probe_once.cache_clear()
        assert cgroups.probe() is not None
        assert not any(d.parent.exists() for d in stale)
        assert all(d.exists() for d in live)
    finally:
        for d in stale + live:
            for p in (d, d.parent):
                if p.exists() and p.name.startswith(("acodium-", "w0")):
                    p.rmdir()
        cgroups._probe_once.cache_clear()


def _one_sentence(reason):
    assert reason and reason[0].isupper() and reason.endswith(".") and "\n" not in reason
    assert ". " not in reason.replace("e.g. ", ""), reason


@pytest.fixture
def fresh_probe():
    cgroups._probe_once.cache_clear()
    yield
    cgroups._probe_once.cache_clear()


def fake_proc(tmp_path, cgroup_lines):
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "cgroup").write_text(cgroup_lines)
    (proc / "mountinfo").write_text("")
    return proc


def test_no_cgroup_filesystem_gives_one_sentence(tmp_path, monkeypatch, fresh_probe):
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", tmp_path / "empty")
    monkeypatch.setattr(cgroups, "PROC_SELF", fake_proc(tmp_path, "0::/\n"))
    assert cgroups.probe() is None
    _one_sentence(cgroups.unavailable_reason())
    assert cgroups.WITHOUT in cgroups.unavailable_reason()


def test_v1_as_non_root_gives_one_sentence(tmp_path, monkeypatch, fresh_probe):
    root = tmp_path / "cg"
    for c in cgroups.V1_CONTROLLERS:
        (root / c).mkdir(parents=True)
        (root / c / "cgroup.procs").write_text("")
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", root)
    monkeypatch.setattr(cgroups, "PROC_SELF", fake_proc(tmp_path, "3:memory:/\n2:pids:/\n1:cpuacct:/\n0::/\n"))
    monkeypatch.setattr(cgroups.os, "geteuid", lambda: 1000)
    assert cgroups.probe() is None
    _one_sentence(cgroups.unavailable_reason())
    assert "root" in cgroups.unavailable_reason()


def fake_v2(tmp_path, monkeypatch, controllers: dict[str, str]):
    """A cgroup2 tree of plain files: {relative dir: its cgroup.controllers}; we live in the deepest."""
    root = tmp_path / "cg2"
    for rel, available in controllers.items():
        d = root / rel
        d.mkdir(parents=True, exist_ok=True)
        for name in ("cgroup.procs", "cgroup.subtree_control"):
            (d / name).write_text("")
        (d / "cgroup.controllers").write_text(available)
    own = max(controllers, key=len)
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", root)
    monkeypatch.setattr(cgroups, "PROC_SELF", fake_proc(tmp_path, f"0::/{own}\n"))
    return root


def test_v2_groups_go_to_the_nearest_ancestor_with_the_controllers(tmp_path, monkeypatch, fresh_probe):
    root = fake_v2(tmp_path, monkeypatch, {"": "cpu memory pids io", "system.slice": "cpu memory pids",
                                           "system.slice/job.service": "memory pids"})
    found = cgroups.probe()
    assert found is not None and found.kind == "v2", cgroups.unavailable_reason()
    assert found.bases == [root / "system.slice"]
    assert (root / "system.slice" / "cgroup.subtree_control").read_text() == "+cpu +memory +pids"


def test_v2_without_the_controllers_anywhere_suggests_delegation(tmp_path, monkeypatch, fresh_probe):
    fake_v2(tmp_path, monkeypatch, {"": "memory pids", "user.slice": "memory pids", "user.slice/s.scope": ""})
    assert cgroups.probe() is None
    _one_sentence(cgroups.unavailable_reason())
    assert "Delegate=yes" in cgroups.unavailable_reason()


def test_a_group_that_cannot_be_made_raises_one_sentence_and_leaves_the_other(group, support):
    with pytest.raises(cgroups.CgroupUnavailable) as e:
        support.worker_group(group.dirs[0].name)
    _one_sentence(str(e.value))
    assert all(d.exists() for d in group.dirs)


def test_v2_subtree_holding_processes_gives_one_sentence(tmp_path, monkeypatch, fresh_probe):
    fake_v2(tmp_path, monkeypatch, {"": "cpu memory pids"})  # a container's own root, say

    def busy(path, data):
        raise OSError(errno.EBUSY, "Device or resource busy", str(path))
    monkeypatch.setattr(cgroups, "_write", busy)
    assert cgroups.probe() is None
    _one_sentence(cgroups.unavailable_reason())
    assert "no-internal-process" in cgroups.unavailable_reason()


V2_FILES = {"cgroup.procs": 0o644, "cgroup.subtree_control": 0o644, "cgroup.controllers": 0o444,
            "memory.max": 0o644, "memory.current": 0o444, "memory.swap.max": 0o644, "memory.oom.group": 0o644,
            "memory.events": 0o444, "cpu.stat": 0o444, "pids.max": 0o644}


@pytest.mark.parametrize("peak_mode", [0o644, 0o444, None])
def test_v2_group_files_and_spec_on_a_fake_tree(tmp_path, monkeypatch, fresh_probe, peak_mode):
    """The v2 path cannot run here (v1 holds the controllers): check its files and flags on plain files."""
    root = fake_v2(tmp_path, monkeypatch, {"": "cpu memory pids", "job.service": ""})
    real_mkdir = Path.mkdir

    def kernel_mkdir(path, *args, **kwargs):  # a new cgroup comes with its control files
        real_mkdir(path, *args, **kwargs)
        files = dict(V2_FILES, **({"memory.peak": peak_mode} if peak_mode else {}))
        for name, mode in files.items():
            if not (path / name).exists():
                (path / name).write_text("")
                (path / name).chmod(mode)
    monkeypatch.setattr(Path, "mkdir", kernel_mkdir)
    found = cgroups.probe()
    assert found.kind == "v2" and found.bases == [root]
    g = found.worker_group("w0", pids_max=32)
    d = root / f"acodium-{os.getpid()}" / "w0"
    assert g.dirs == [d]
    spec = g.spec()
    assert spec["cpu_unit"] == "usec" and spec["memsw_max"] is None and len(spec["procs"]) == 1
    assert spec["peak_resettable"] == (peak_mode == 0o644)
    assert (spec["memory_peak"] is None) == (peak_mode is None)
    assert (d.parent / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"
    # memory.oom.group stays off: the worker shares the group, and an OOM kill must take the test only.
    assert [(d / n).read_text() for n in ("pids.max", "memory.swap.max", "memory.oom.group")] == ["32", "0", ""]
    for key, name in (("memory_max", "memory.max"), ("memory_usage", "memory.current"), ("cpu", "cpu.stat"),
                      ("oom", "memory.events")):
        assert os.path.samefile(f"/proc/self/fd/{spec[key]}", d / name)
    os.pwrite(spec["memory_max"], b"max", 0)
    with pytest.raises(OSError):
        os.pwrite(spec["cpu"], b"0", 0)  # read-only where the worker only reads
    monkeypatch.setattr(cgroups, "_rmdir", lambda path, wait=0.0: shutil.rmtree(path) or True)
    g.close()
    assert not d.parent.exists()
