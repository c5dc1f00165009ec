"""Resource accounting for sandboxed tests with Linux cgroups (host side).

Per-process rlimits miss memory held in never-mapped memfds or tmpfs files, CPU burnt
by child processes, and count processes per user rather than per test. A cgroup per
worker counts all of them. The host (root, or a user with a delegated v2 subtree)
creates the groups and opens their control files; the sandboxed worker, which cannot
see any cgroupfs, inherits the open files and uses them: the kernel checks a
cgroup.procs write against the credentials and cgroup namespace of the opener.

Layout, in each hierarchy used: <base>/acodium-<host pid>/<worker name>. In v1 <base>
is our own cgroup (so whatever limit encloses us still applies); in v2 it is the
nearest ancestor of our cgroup that we may write and where the controllers can be
enabled (the no-internal-process rule excludes our own, non-root cgroup).

The worker, with spec() (fd numbers), moves itself in once at start (b"0" to every
procs fd; the sandbox's processes are then all inside). Before each test, its
processes gone and its files wiped: read memory_usage (the worker's own charge) and
pwrite usage + the test's byte limit to memory_max (in v1 with memsw_max: b"-1" to
it first, the limit to it last: the kernel keeps memory <= memsw); read oom
("oom_kill N") before and after: a difference is the test's OOM kill. The test's
process raises its own oom_score_adj, so the OOM killer picks it, never the worker,
even when what overflows is memory no process maps. CPU is not read here: the
group holds the worker too; the worker counts a test's CPU over its processes.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import signal
import threading
import time
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")  # tests point these at a fake tree
PROC_SELF = Path("/proc/self")
V1_CONTROLLERS = ("memory", "pids", "cpuacct")
V2_CONTROLLERS = ("memory", "pids", "cpu")
DEFAULT_PIDS_MAX = 64
PARENT_PREFIX = "acodium-"
_PARENTS_LOCK = threading.Lock()
WITHOUT = "or run without cgroups (per-process limits only)"  # how to go on without them
DELEGATE_HINT = f"run under `systemd-run --user --scope -p Delegate=yes ...` or as root, {WITHOUT}"


class CgroupUnavailable(Exception):
    """Cgroups cannot be used here; str(e) is one sentence saying why and what to do."""


class NoCgroupsWarning(UserWarning):
    """Tests are limited per process (strict rlimits), not by a cgroup."""


def _write(path: Path, data: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, data.encode())
    finally:
        os.close(fd)


def _own_paths() -> dict[str, str]:
    """Our cgroup path per hierarchy, keyed by its controller list ("" for v2)."""
    return dict(line.split(":", 2)[1:] for line in (PROC_SELF / "cgroup").read_text().splitlines())


def _mount_roots() -> dict[str, str]:
    """Which cgroup each cgroupfs mount point shows as its root (a container may mount its own)."""
    roots = {}
    for line in (PROC_SELF / "mountinfo").read_text().splitlines():
        fields = line.split()
        if fields[fields.index("-") + 1] in ("cgroup", "cgroup2"):
            roots[fields[4]] = fields[3]
    return roots


def _on_disk(mount: Path, path: str, roots: dict[str, str]) -> Path:
    root = roots.get(str(mount), "/")
    if root != "/" and (path == root or path.startswith(root + "/")):
        path = path[len(root):]
    return mount / path.lstrip("/")


def _v1_bases() -> list[Path]:
    """Our own cgroup in each v1 hierarchy holding a needed controller (one entry per hierarchy)."""
    own, roots, bases = _own_paths(), _mount_roots(), {}
    for controller in V1_CONTROLLERS:
        hierarchy = next((c for c in own if controller in c.split(",")), None)
        mount = CGROUP_ROOT / (hierarchy or controller)
        if hierarchy is None or not (mount / "cgroup.procs").exists():
            if controller == "memory":
                return []  # no v1 memory controller: look for v2
            raise CgroupUnavailable(
                f"The cgroup v1 {controller} controller is not mounted under {CGROUP_ROOT}: mount it, "
                f"or boot with cgroup v2 (systemd.unified_cgroup_hierarchy=1), {WITHOUT}.")
        bases[hierarchy] = _on_disk(mount, own[hierarchy], roots)
    if os.geteuid() != 0:
        raise CgroupUnavailable("Cgroup v1 hierarchies can be changed only by root: run as root, or boot "
                                f"with cgroup v2 (systemd.unified_cgroup_hierarchy=1), {WITHOUT}.")
    return list(bases.values())


def _v2_base() -> Path:
    """The nearest ancestor of our cgroup (itself only if it is the root) where we can put groups."""
    mount = CGROUP_ROOT
    own = _on_disk(mount, _own_paths().get("", "/"), _mount_roots())
    wanted = set(V2_CONTROLLERS)
    candidates = [own] if own == mount else []
    candidates += [p for p in own.parents if p == mount or mount in p.parents]
    busy = None
    for base in candidates:
        if not (os.access(base, os.W_OK) and os.access(base / "cgroup.procs", os.W_OK)
                and os.access(base / "cgroup.subtree_control", os.W_OK)):
            continue
        if not wanted <= set((base / "cgroup.controllers").read_text().split()):
            continue
        missing = wanted - set((base / "cgroup.subtree_control").read_text().split())
        if missing:
            try:
                _write(base / "cgroup.subtree_control", " ".join("+" + c for c in sorted(missing)))
            except OSError as e:
                if e.errno not in (errno.EBUSY, errno.EACCES, errno.EPERM, errno.ENOENT):
                    raise
                busy = busy or (base if e.errno == errno.EBUSY else None)
                continue  # processes inside it, or a controller held back above it
        return base
    if busy is not None:
        raise CgroupUnavailable(
            f"The cgroup v2 subtree we may use ({busy}) holds processes, so no controller can be enabled "
            f"below it (the no-internal-process rule): move them to a child cgroup, {DELEGATE_HINT}.")
    raise CgroupUnavailable(
        f"No cgroup v2 subtree around {own} is delegated to this user with the memory, pids and cpu "
        f"controllers: {DELEGATE_HINT}.")


def _remove_stale(base: Path) -> None:
    """Remove the (empty) groups left by acodium processes that are gone."""
    for parent in base.glob(PARENT_PREFIX + "*"):
        pid = parent.name[len(PARENT_PREFIX):]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        try:
            for child in [c for c in parent.iterdir() if c.is_dir()] + [parent]:
                _rmdir(child)
        except PermissionError:  # another user's leftovers (or no right to clean here): not ours to remove
            continue


def _make_group(parent: Path, name: str, kind: str, attempts: int = 3) -> Path:
    """parent/name, the parent made first. Another process's sweep of stale groups may remove an
    empty parent between the two mkdirs (it judges liveness by pid, which a process in another pid
    namespace cannot see): the parent is made again, a few times, before giving up."""
    for attempt in range(1, attempts + 1):
        try:
            parent.mkdir(exist_ok=True)
            if kind == "v2":
                _write(parent / "cgroup.subtree_control", " ".join("+" + c for c in V2_CONTROLLERS))
            (parent / name).mkdir()
            return parent / name
        except FileNotFoundError:
            if attempt == attempts:
                raise
    return parent / name  # not reached: the last attempt returns or raises


def _rmdir(path: Path, wait: float = 0.0) -> bool:
    """rmdir; False if still busy after `wait` s (EBUSY until killed tasks have left)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            path.rmdir()
            return True
        except FileNotFoundError:
            return True
        except OSError as e:
            if e.errno not in (errno.EBUSY, errno.ENOTEMPTY):
                raise
            if time.monotonic() >= deadline:
                return False
        time.sleep(0.01)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


@functools.cache
def _probe_once() -> tuple[CgroupSupport | None, str | None]:
    try:
        bases = _v1_bases()
        kind = "v1"
        if not bases:
            if not (CGROUP_ROOT / "cgroup.controllers").exists():
                raise CgroupUnavailable(
                    f"No cgroup v1 memory hierarchy nor cgroup v2 is mounted at {CGROUP_ROOT}: "
                    f"use a Linux system with cgroups, {WITHOUT}.")
            bases, kind = [_v2_base()], "v2"
        for base in bases:
            _remove_stale(base)
    except CgroupUnavailable as e:
        return None, str(e)
    return CgroupSupport(kind, bases), None


def probe() -> CgroupSupport | None:
    """What this machine offers, found once per process; None if cgroups are unusable."""
    return _probe_once()[0]


def unavailable_reason() -> str | None:
    """Why probe() returned None, as one sentence."""
    return _probe_once()[1]


class CgroupSupport:
    """Where and how (v1 or v2) this process creates worker cgroups."""

    def __init__(self, kind: str, bases: list[Path]):
        self.kind = kind
        self.bases = bases

    def worker_group(self, name: str, pids_max: int = DEFAULT_PIDS_MAX) -> WorkerCgroup:
        return WorkerCgroup(self, name, pids_max)


class WorkerCgroup:
    """One cgroup (per hierarchy in v1) that a sandbox worker moves each test into."""

    def __init__(self, support: CgroupSupport, name: str, pids_max: int):
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"bad cgroup name {name!r}")
        self.kind = support.kind
        self.dirs: list[Path] = []
        self._fds: dict[str, int | list[int] | None] = {}
        self._closed = False
        parent = PARENT_PREFIX + str(os.getpid())
        try:
            with _PARENTS_LOCK:  # another worker's close() may be removing the parent
                for base in support.bases:
                    self.dirs.append(_make_group(base / parent, name, self.kind))
            self._configure(pids_max)
        except OSError as e:
            self.close()
            with _PARENTS_LOCK:
                for base in support.bases:
                    _rmdir(base / parent)
            raise CgroupUnavailable(f"A cgroup for a sandbox worker could not be set up ({e}): "
                                    f"check that cgroups are writable here, {WITHOUT}.") from e

    def _file(self, name: str) -> Path:
        """The first of the group's directories that holds control file `name`."""
        return next((d / name for d in self.dirs if (d / name).exists()), self.dirs[0] / name)

    def _open(self, name: str, flags: int) -> int:
        return os.open(self._file(name), flags | os.O_CLOEXEC)

    def _configure(self, pids_max: int) -> None:
        v1 = self.kind == "v1"
        _write(self._file("pids.max"), str(pids_max))
        if v1:
            _write(self._file("memory.swappiness"), "0")  # its own reclaim never swaps
        else:
            if self._file("memory.swap.max").exists():  # absent without swap accounting
                _write(self._file("memory.swap.max"), "0")
        fds = self._fds
        fds["procs"] = [os.open(d / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC) for d in self.dirs]
        fds["memory_max"] = self._open("memory.limit_in_bytes" if v1 else "memory.max", os.O_WRONLY)
        fds["memory_usage"] = self._open("memory.usage_in_bytes" if v1 else "memory.current", os.O_RDONLY)
        memsw = self._file("memory.memsw.limit_in_bytes")
        fds["memsw_max"] = self._open(memsw.name, os.O_WRONLY) if v1 and memsw.exists() else None
        fds["cpu"] = self._open("cpuacct.usage" if v1 else "cpu.stat", os.O_RDONLY)
        fds["oom"] = self._open("memory.oom_control" if v1 else "memory.events", os.O_RDONLY)
        peak = self._file("memory.max_usage_in_bytes" if v1 else "memory.peak")
        # v2 memory.peak became writable (reset, per open file) in Linux 6.12: its mode says so.
        self.peak_resettable = peak.exists() and (v1 or bool(peak.stat().st_mode & 0o200))
        fds["memory_peak"] = (self._open(peak.name, os.O_RDWR if self.peak_resettable else os.O_RDONLY)
                              if peak.exists() else None)

    def spec(self) -> dict:
        """What the worker needs, as JSON: fd numbers of the control files it inherits."""
        return dict(self._fds, kind=self.kind, cpu_unit="ns" if self.kind == "v1" else "usec",
                    peak_resettable=self.peak_resettable)

    def pass_fds(self) -> list[int]:
        fds = []
        for value in self._fds.values():
            fds += value if isinstance(value, list) else [] if value is None else [value]
        return fds

    def pids(self) -> set[int]:
        """Host pids of the processes inside (any hierarchy)."""
        return {int(p) for d in self.dirs for p in (d / "cgroup.procs").read_text().split()}

    def kill(self, timeout: float = 5.0) -> None:
        """SIGKILL everything inside until it is empty (pidfds, so a reused pid is never hit)."""
        kill_file = self.dirs[0] / "cgroup.kill" if self.dirs else None
        deadline = time.monotonic() + timeout
        while pids := self.pids():
            if kill_file is not None and kill_file.exists():
                _write(kill_file, "1")
            pidfds = {}
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    pidfds[pid] = os.pidfd_open(pid)
            still_inside = self.pids()  # a pid that left before its pidfd was opened may be reused
            for pid, pidfd in pidfds.items():
                with contextlib.suppress(ProcessLookupError):
                    if pid in still_inside:
                        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                os.close(pidfd)
            if time.monotonic() > deadline:
                raise CgroupUnavailable(f"Processes {sorted(pids)} in cgroup {self.dirs[0]} survived SIGKILL "
                                        f"for {timeout:g} s: kill them and remove the directory by hand.")
            time.sleep(0.01)

    def close(self) -> None:
        """Kill whatever is still inside, remove the directories, close the fds; idempotent."""
        if self._closed:
            return
        self._closed = True
        for fd in self.pass_fds():
            os.close(fd)
        self._fds = {}
        self.kill()
        for d in self.dirs:
            if not _rmdir(d, wait=5.0):
                raise CgroupUnavailable(f"The cgroup {d} stayed busy after its processes were killed: "
                                        "remove it by hand once they are gone.")
            with _PARENTS_LOCK:
                _rmdir(d.parent)  # the last worker's group takes the parent with it

