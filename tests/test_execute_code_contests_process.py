"""One side process of the code_contests backend (`code_contests_process`).

Most tests put a small stand-in in the place of the tester's interpreter, so that
the side process can answer in pieces, fall silent, leave folders behind or fail to
start on purpose; the last one starts the real tester.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from acodium.errors import UserError
from acodium.execute.code_contests_env import default_venv
from acodium.execute.code_contests_process import SANDBOX_ENV, SideProcess, WorkerLost

STAND_IN = r"""#!/usr/bin/python3.11
import json, os, sys, time
out = sys.stdout.buffer

def send(raw):
    out.write(raw)
    out.flush()

for line in sys.stdin:
    message = json.loads(line)
    op = message["op"]
    if op == "init":
        sys.stderr.write("glog: started with %s\n" % " ".join(sys.argv[1:]))
        sys.stderr.flush()
        send(json.dumps({"event": "ready", "tester": "9.9", "pid": os.getpid(),
                         "compare_error": "no OutputsMatch here"}).encode() + b"\n")
    elif op == "halves":
        send(b'{"event": "te')
        time.sleep(0.2)
        send(b'st", "index": 0}\n')
    elif op == "two":
        send(b'{"n": 1}\n{"n": 2}\n')
    elif op == "env":
        send(json.dumps(dict(os.environ)).encode() + b"\n")
    elif op == "folder":
        os.makedirs("/tmp/%d-%d-acodiumtest" % (int(time.time() * 1000), os.getpid()))
        send(b'{"made": true}\n')
    elif op == "exit":
        sys.exit(0)
    # anything else: no answer
"""


def executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def side(tmp_path):
    process = SideProcess(executable(tmp_path / "python", STAND_IN), "/usr/bin/python3.11", ["/usr/lib/python3.11"])
    yield process
    process.kill()


def test_the_hello_gives_the_testers_version_and_what_it_cannot_do(side):
    assert side.tester_version == "9.9" and side.compare_error == "no OutputsMatch here"
    assert "_cc_worker.py" in side.log_tail()  # started on the worker file, its stderr kept


def test_the_side_process_gets_next_to_nothing_of_our_environment(side, monkeypatch):
    """The tester copies its caller's environment into every program it judges."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-for-candidates")
    side.send({"op": "env"})
    seen = side.read(10)
    assert seen == SANDBOX_ENV


def test_messages_are_lines_however_they_arrive(side):
    side.send({"op": "halves"})
    assert side.read(10) == {"event": "test", "index": 0}
    side.send({"op": "two"})
    assert side.read(10) == {"n": 1}
    assert side.read(0.1) == {"n": 2}  # already buffered: no wait


def test_silence_is_a_timeout_and_an_ended_process_is_none(side):
    side.send({"op": "say nothing"})
    assert side.read(0.2) == "timeout"
    side.send({"op": "exit"})
    assert side.read(10) is None
    side.proc.wait(timeout=10)
    with pytest.raises(WorkerLost, match="the side process is gone"):
        side.send({"op": "env"})


def test_the_log_is_emptied_between_jobs(side):
    assert "glog: started" in side.log_tail()
    side.clear_log()
    assert side.log_tail() == ""


def test_kill_removes_the_testers_folders_of_that_process(side):
    side.send({"op": "folder"})
    assert side.read(10) == {"made": True}
    pid = side.proc.pid
    mine = [p for p in os.listdir("/tmp") if p.endswith(f"-{pid}-acodiumtest")]
    assert len(mine) == 1
    side.kill()
    assert side.proc.returncode is not None
    assert not os.path.exists(f"/tmp/{mine[0]}")


def test_close_asks_the_process_to_exit(side):
    side.close()
    assert side.proc.returncode == 0


def test_a_process_that_does_not_say_hello_is_one_sentence(tmp_path):
    broken = executable(tmp_path / "python", "#!/bin/sh\nread request\necho 'noise' >&2\n"
                                                     "echo 'ImportError: libsandbox2.so' >&2\n")
    with pytest.raises(UserError) as caught:
        SideProcess(broken, "/usr/bin/python3.11", [])
    assert str(caught.value) == ("DeepMind's code_contests tester could not be started (ImportError: libsandbox2.so): "
                                 "check the environment with `make cc-env`.")


@pytest.mark.code_contests
def test_the_real_tester_starts_and_compares():
    venv = default_venv()
    if not (venv / "bin" / "python").exists():
        pytest.skip(f"no tester environment at {venv} (make cc-env)")
    side = SideProcess(venv / "bin" / "python", "/usr/bin/python3.11", ["/usr/lib/python3.11"])
    try:
        environ = Path(f"/proc/{side.proc.pid}/environ").read_bytes().rstrip(b"\0").split(b"\0")
        assert dict(item.decode().split("=", 1) for item in environ) == SANDBOX_ENV
        assert side.tester_version == "0.1.6" and side.compare_error is None
        side.send({"op": "compare", "pairs": [["1 2", "1  2\n"], ["YES", "no"]]})
        assert side.read(60) == {"event": "compare", "matches": [True, False]}
    finally:
        side.close()
    assert side.proc.returncode == 0
