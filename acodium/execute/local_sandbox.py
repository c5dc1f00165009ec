"""The bubblewrap command line that builds a local worker's sandbox.

Kept apart because it is the sandbox's whole shape in one place, read on its own when
checking what a candidate can reach: every namespace unshared, an empty environment,
the user `nobody`, read-only /usr and /, size-bounded private /tmp and /dev/shm, and
the worker as the sandbox's pid 1 (docs/backends.md, "What a test can reach").
`LocalBackend` (local.py) starts its workers with it; tests/test_cgroups.py builds
sandboxes with it too.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

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
