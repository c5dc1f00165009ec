"""The bubblewrap command line that builds a local worker's sandbox.

Kept apart because it is the sandbox's whole shape in one place, read on its own when
checking what a candidate can reach: every namespace unshared, an empty environment,
the user `nobody`, read-only /usr and /, size-bounded private /tmp and /dev/shm, and
the worker as the sandbox's pid 1 (docs/backends.md, "What a test can reach").
`LocalBackend` (local.py) starts its workers with it; tests/test_cgroups.py builds
sandboxes with it too.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Sequence

DEFAULT_TMP_BYTES = 256 << 20
SANDBOX_UID = 65534  # nobody


def _etc_binds() -> list[str]:
    """The least of /etc that programs and compilers need (dynamic linker, time zone)."""
    args = []
    for name in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "alternatives",
                 f"python{sys.version_info.major}.{sys.version_info.minor}", "python3.11"):
        path = Path("/etc") / name
        if path.exists():
            args += ["--ro-bind", str(path), str(path)]
    return args


def bwrap_command(bwrap: str, tmp_bytes: int, binds: Sequence[tuple[str, str]] = ()) -> list[str]:
    """bwrap's arguments up to the command it runs. `binds`: (host source, sandbox path) pairs
    bound read-only: the runtimes' folders outside /usr (an interpreter's prefix, a JDK's
    configuration), each at its own path (`staged_command` makes unreachable ones reachable)."""
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
    for source, dest in binds:
        args += ["--ro-bind", source, dest]
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


# Run by the host's own interpreter as root, in place of bwrap started as `nobody`: a private
# mount namespace (nothing changes on the host) where a small tmpfs over STAGE holds a bind of
# each folder that `nobody` cannot reach (a root-only home: ~/.pyenv), then the same drop to
# `nobody` and no groups that Popen(user=...) makes, and bwrap, which binds STAGE/<i> where
# the runtime expects it. (bwrap resolves every source path as `nobody`, --ro-bind-fd too.)
STAGER = r"""
import ctypes, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def check(result, what):
    if result != 0:
        error = ctypes.get_errno()
        sys.exit(f"bwrap: {what}: {os.strerror(error)}")
spec = json.loads(sys.argv[1])
CLONE_NEWNS, MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 0x20000, 2, 4, 4096, 16384, 1 << 18
check(libc.unshare(CLONE_NEWNS), "cannot make a mount namespace for the runtimes' folders")
check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "cannot make the mounts private")
fds = [os.open(source, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC) for source in spec["sources"]]
check(libc.mount(b"tmpfs", spec["stage"].encode(), b"tmpfs", MS_NOSUID | MS_NODEV, b"mode=755,size=64k"),
      "cannot mount the runtimes' stage")
for i, fd in enumerate(fds):
    target = os.path.join(spec["stage"], str(i))
    os.mkdir(target, 0o755)
    check(libc.mount(f"/proc/self/fd/{fd}".encode(), target.encode(), None, MS_BIND | MS_REC, None),
          f"cannot bind {spec['sources'][i]}")
    os.close(fd)
os.setgroups([])
os.setresgid(spec["uid"], spec["uid"], spec["uid"])
os.setresuid(spec["uid"], spec["uid"], spec["uid"])
os.execv(sys.argv[2], sys.argv[2:])
"""


def staged_binds(binds: Sequence[str], stage: str, unreachable: Sequence[str]) -> list[tuple[str, str]]:
    """(source, dest) pairs for `bwrap_command`: each folder at its own path, those in
    `unreachable` taken from where STAGER binds them (`stage`/<i>)."""
    unreachable = list(unreachable)
    return [(os.path.join(stage, str(unreachable.index(b))) if b in unreachable else b, b) for b in binds]


def staged_command(stage: str, unreachable: Sequence[str], command: Sequence[str]) -> list[str]:
    """The command (bwrap's) run through STAGER by the host's interpreter, as root."""
    spec = json.dumps({"stage": stage, "sources": list(unreachable), "uid": SANDBOX_UID})
    return [sys.executable, "-I", "-S", "-c", STAGER, spec, *command]
