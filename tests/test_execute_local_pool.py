"""The local backend's workers (`local_pool`): started, reused, bounded, refused in one sentence.

Failures to start are provoked with stand-ins for bwrap and for the interpreter (small
scripts that fail the way a misconfigured machine does); the rest runs real workers.
"""

from __future__ import annotations

import glob
import os
import stat
import tempfile
import threading
import warnings
from pathlib import Path

import pytest

from acodium.errors import UserError
from acodium.execute import (
    Job,
    Limits,
    Program,
    Status,
    cgroups,
    get_backend,
    local_pool,
    run_program,
)
from acodium.execute.local import LocalBackend, UnsandboxedExecutionWarning

FAST = Limits(time_s=2.0)
ECHO = Program("python3", "print(input())")


@pytest.fixture
def scripts():
    """Executable scripts in a folder anyone may read (bwrap runs as `nobody` when we are root)."""
    folder = Path(tempfile.mkdtemp(prefix="acodium-pool-test-"))
    folder.chmod(0o755)

    def write(name: str, text: str) -> str:
        path = folder / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
        return str(path)
    yield write
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()


def start_error(backend: LocalBackend) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnsandboxedExecutionWarning)
            with pytest.raises(UserError) as caught:
                run_program(ECHO, ["x"], ["x"], FAST, backend=backend)
    finally:
        backend.close()
    message = str(caught.value)
    assert "\n" not in message, message
    return message


# --- a worker that does not start ------------------------------------------------------------------

def test_bwrap_refused_a_user_namespace_says_how_to_allow_them(scripts):
    bwrap = scripts("bwrap", "#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    message = start_error(LocalBackend(bwrap=bwrap, cgroups=False, workers=1))
    assert message.startswith("The sandbox could not be started (bwrap: setting up uid map: Permission denied): "
                              "allow unprivileged user namespaces")
    assert message.endswith("unsandboxed at your own risk with get_backend('local', sandbox=False) / --no_sandbox.")


def test_another_bwrap_failure_says_how_to_check_bwrap(scripts):
    bwrap = scripts("bwrap", "#!/bin/sh\necho 'noise'\necho 'bwrap: Can not mount proc: weird' >&2\nexit 1\n")
    message = start_error(LocalBackend(bwrap=bwrap, cgroups=False, workers=1))
    assert "(bwrap: Can not mount proc: weird): check that bubblewrap works here (`bwrap --ro-bind / / true`)" in message


def test_a_silent_failure_still_gives_a_sentence(scripts):
    message = start_error(LocalBackend(bwrap=scripts("bwrap", "#!/bin/sh\nexit 3\n"), cgroups=False, workers=1))
    assert message.startswith("The sandbox could not be started (bwrap: no message): check that bubblewrap works")


def test_a_failure_while_deciding_the_cgroup_mode_is_raised_by_the_constructor(scripts):
    if cgroups.probe() is None:
        pytest.skip(f"no cgroups here: {cgroups.unavailable_reason()}")
    bwrap = scripts("bwrap", "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    with pytest.raises(UserError, match="allow unprivileged user namespaces"):
        LocalBackend(bwrap=bwrap, workers=1)


def test_an_unsandboxed_worker_that_fails_leaves_no_scratch_folder(scripts):
    python = scripts("python", "#!/bin/sh\necho 'Fatal Python error: boom' >&2\nexit 1\n")
    before = set(glob.glob("/tmp/acodium-unsandboxed-*"))
    message = start_error(LocalBackend(sandbox=False, python=python, workers=1))
    assert message == "The execution worker could not be started (Fatal Python error: boom)."
    assert set(glob.glob("/tmp/acodium-unsandboxed-*")) <= before


def test_a_worker_that_says_it_cannot_start_is_quoted(scripts):
    """The worker's own refusal (its hello frame) is what the sentence says."""
    python = scripts("python", """#!/usr/bin/python3.11
import json, os, struct, sys
reply_fd = int(sys.argv[8])  # -I -B -c SOURCE host SCRATCH REQUEST_FD REPLY_FD CGROUP_SPEC
header = json.dumps({"ok": False, "error": "cannot lower its limits", "blobs": 0}).encode()
os.write(reply_fd, struct.pack(">I", len(header)) + header)
""")
    message = start_error(LocalBackend(sandbox=False, python=python, workers=1))
    assert message == "The execution worker could not be started (cannot lower its limits)."


# --- workers lent and reused ---------------------------------------------------------------------------

@pytest.fixture
def pair():
    backend = LocalBackend(workers=2, cgroups=False)
    yield backend
    backend.close()


def test_jobs_one_after_another_reuse_one_warm_worker(pair):
    for text in ("a", "b", "c"):
        assert pair.run(Job(ECHO, [text], [text], FAST))[0].passed
    assert len(pair._all) == 1 and pair._all[0].loaded == {"program": ECHO.hash}  # the program stays loaded


def test_jobs_at_once_get_a_worker_each_but_never_more_than_allowed(pair):
    slow = Program("python3", "import time\nx = input()\ntime.sleep(0.3)\nprint(x)")
    jobs = [Job(slow, [str(i)], [str(i)], FAST) for i in range(4)]
    peak = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            peak.append(len(pair._all))
            stop.wait(0.01)
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        done = dict(pair.run_many(jobs, workers=4))
    finally:
        stop.set()
        watcher.join()
    assert all(done[i][0].passed for i in range(4))
    assert max(peak) == 2 and len(pair._all) == 2


def test_a_closed_backend_refuses_work_and_leaves_no_worker():
    backend = LocalBackend(workers=1, cgroups=False)
    assert backend.run(Job(ECHO, ["x"], ["x"], FAST))[0].passed
    workers = list(backend._all)
    backend.close()
    assert all(w.popen.poll() is not None for w in workers)
    with pytest.raises(UserError, match=r"^This execution backend has been closed\.$"):
        backend.run(Job(ECHO, ["x"], ["x"], FAST))


# --- the cgroup mode -------------------------------------------------------------------------------------

def test_the_mode_is_in_the_version():
    strict = LocalBackend(workers=1, cgroups=False)
    try:
        assert strict.version().endswith("/sandbox-rlimits/cc60/wall5-30")
    finally:
        strict.close()
    if cgroups.probe() is None:
        pytest.skip(f"no cgroups here: {cgroups.unavailable_reason()}")
    counted = LocalBackend(workers=1, cgroups=True)
    try:
        assert f"/sandbox-cgroup{cgroups.probe().kind}/" in counted.version()
        assert run_program(ECHO, ["y"], ["y"], FAST, backend=counted)[0].status == Status.OK
    finally:
        counted.close()


def test_without_cgroups_it_is_said_once_and_points_at_the_caller(monkeypatch):
    monkeypatch.setattr(cgroups, "probe", lambda: None)
    monkeypatch.setattr(cgroups, "unavailable_reason", lambda: "no cgroup filesystem is mounted.")
    monkeypatch.setattr(local_pool, "_WARNED_NO_CGROUPS", [])
    with pytest.raises(UserError, match=r"^Cgroups were asked for but cannot be used: no cgroup filesystem"):
        LocalBackend(workers=1, cgroups=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = get_backend("local", workers=1, tmp_bytes=(64 << 20) + 1)  # options no other test uses
        second = LocalBackend(workers=1)
    try:
        said = [w for w in caught if w.category is cgroups.NoCgroupsWarning]
        assert len(said) == 1
        assert str(said[0].message).startswith("No cgroups for the sandbox (no cgroup filesystem is mounted): ")
        assert said[0].filename == __file__  # the line that asked for the backend
        assert "rlimits" in first.version() and "rlimits" in second.version()
    finally:
        first.close()
        second.close()


def test_strict_limits_are_never_chosen_silently_where_cgroups_work():
    if cgroups.probe() is None or os.geteuid() != 0:
        pytest.skip("needs usable cgroups")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        backend = LocalBackend(workers=1)
    try:
        assert not [w for w in caught if w.category is cgroups.NoCgroupsWarning]
        assert "-cgroup" in backend.version()
    finally:
        backend.close()
