"""The sandbox that `bwrap_command` builds (`local_sandbox`), seen from inside it.

A probe program runs in it as a worker would (started as `nobody` when we are root)
and reports what it can see and change; the attacks on a full worker are in
tests/test_hostile.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from acodium.execute.local import DEFAULT_PYTHON
from acodium.execute.local_sandbox import DEFAULT_TMP_BYTES, SANDBOX_UID, bwrap_command

MiB = 1 << 20

PROBE = r"""
import errno, json, os, socket

def attempt(path):
    try:
        with open(path, "w") as fh:
            fh.write("x")
        return "written"
    except OSError as e:
        return errno.errorcode[e.errno]

def size(path):
    st = os.statvfs(path)
    return st.f_blocks * st.f_frsize

print(json.dumps({
    "ids": [os.getuid(), os.geteuid(), os.getgid()], "pid": os.getpid(),
    "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
    "env": dict(os.environ), "hostname": socket.gethostname(), "cwd": os.getcwd(),
    "tmp_bytes": size("/tmp"), "shm_bytes": size("/dev/shm"),
    "writes": {p: attempt(p) for p in ["/tmp/f", "/dev/shm/f", "/usr/f", "/f", "/dev/f", "/etc/f",
                                       "/proc/sys/kernel/hostname"]},
    "interfaces": [name for _, name in socket.if_nameindex()],
    "etc": sorted(os.listdir("/etc")), "top": sorted(os.listdir("/")),
}))
"""


def inside(tmp_bytes: int = DEFAULT_TMP_BYTES, env: dict | None = None) -> dict:
    bwrap = shutil.which("bwrap")
    if bwrap is None or not os.path.exists(DEFAULT_PYTHON):
        pytest.skip(f"bwrap and {DEFAULT_PYTHON} are needed")
    cmd = bwrap_command(bwrap, tmp_bytes) + [DEFAULT_PYTHON, "-I", "-c", PROBE]
    as_nobody = dict(user=SANDBOX_UID, group=SANDBOX_UID, extra_groups=[]) if os.geteuid() == 0 else {}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd="/", timeout=60,
                          env=env or {"PATH": "/usr/bin:/bin"}, **as_nobody)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def seen() -> dict:
    return inside(env={"PATH": "/usr/bin:/bin", "OPENAI_API_KEY": "sk-secret", "HOME": "/root"})


def test_nothing_of_the_callers_environment_gets_in(seen):
    assert seen["env"] == {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp", "PWD": "/tmp",
                           "PYTHONINTMAXSTRDIGITS": "0"}


def test_the_program_is_nobody_alone_in_its_own_namespaces(seen):
    assert seen["ids"] == [SANDBOX_UID] * 3
    assert seen["pid"] == 1 and seen["processes"] == [1]  # the sandbox's init, no bwrap process beside it
    assert seen["hostname"] == "sandbox"
    assert seen["interfaces"] == ["lo"]  # no network but its own loopback


def test_only_tmp_and_dev_shm_are_writable(seen):
    assert seen["cwd"] == "/tmp"
    assert seen["writes"] == {"/tmp/f": "written", "/dev/shm/f": "written", "/usr/f": "EROFS", "/f": "EROFS",
                              "/dev/f": "EROFS", "/etc/f": "EROFS", "/proc/sys/kernel/hostname": "EROFS"}


def test_the_host_file_system_is_not_visible(seen):
    assert set(seen["top"]) <= {"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "proc", "dev", "tmp"}
    assert not {"root", "home", "work", "var", "opt"} & set(seen["top"])
    assert "passwd" not in seen["etc"] and "shadow" not in seen["etc"]
    assert {"ld.so.cache", "python3.11"} <= set(seen["etc"])  # what the linker and the interpreter need


def test_tmp_and_dev_shm_have_bounded_sizes(seen):
    assert seen["tmp_bytes"] == DEFAULT_TMP_BYTES and seen["shm_bytes"] == 16 * MiB
    assert inside(tmp_bytes=32 * MiB)["tmp_bytes"] == 32 * MiB


def test_the_command_starts_with_the_given_bwrap_and_binds_only_what_exists():
    cmd = bwrap_command("/opt/other/bwrap", 1 * MiB)
    assert cmd[0] == "/opt/other/bwrap"
    assert cmd[cmd.index("--tmpfs") - 1] == str(1 * MiB)
    binds = [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--ro-bind"]
    assert all(os.path.exists(path) for path in binds)
    assert cmd[-2:] == ["--chdir", "/tmp"]  # the caller appends the program
