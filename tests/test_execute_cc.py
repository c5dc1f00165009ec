"""The code_contests backend: DeepMind's tester in a Python 3.9 side process (make cc-env).

These tests run for real (CI builds .cc-venv through `make test`): verdicts and
statuses on small programs, the differences from the local backend that
docs/backends.md documents, recovery from a lost side process, and real
CodeContests solutions passing their public tests under both backends.
"""

from __future__ import annotations

import glob
import os
import time

import pytest

from acodium.errors import UserError
from acodium.execute import Job, Limits, Program, Status, check_output, get_backend, run_batch, run_program
from acodium.execute.code_contests import CodeContestsBackend

pytestmark = pytest.mark.code_contests

ECHO = Program("python3", "x = input()\nprint(x)\n")
BUSY = Program("python3", "while True:\n    pass\n")
# Sleeping is a seccomp violation in the tester; select() with a timeout is allowed and blocks.
BLOCK = Program("python3", "import select\nselect.select([], [], [], 1000)\n")


@pytest.fixture(scope="module")
def cc():
    return get_backend("code_contests")


def test_get_backend_returns_the_tester(cc):
    assert isinstance(cc, CodeContestsBackend)
    assert cc.name == "code_contests"
    assert "tester0.1.6" in cc.version() and "py3.11" in cc.version()


def test_correct_and_incorrect_outputs(cc):
    results = cc.run(Job(ECHO, ["hello\n", "1 2 3\n"], ["hello", "1   2\n3"]))
    assert [(r.status, r.passed) for r in results] == [(Status.OK, True), (Status.OK, True)]
    assert results[0].stdout == "hello\n" and results[0].exit_code == 0
    assert results[0].program_hash == ECHO.hash and results[0].output_hash
    wrong = cc.run(Job(Program("python3", "print(41)"), ["\n"], ["42"]))
    assert wrong[0].status == Status.OK and wrong[0].passed is False
    # code_contests output rules: a float within 1e-5 of the expected integer passes.
    close = cc.run(Job(Program("python3", "print('2.000001')"), ["\n"], ["2"]))
    assert close[0].passed is True
    no_expected = cc.run(Job(ECHO, ["x\n"]))
    assert no_expected[0].passed is None and no_expected[0].status == Status.OK


def test_runtime_and_compile_errors(cc):
    crash = cc.run(Job(Program("python3", "raise ValueError('boom')"), ["\n"], [""]))
    assert crash[0].status == Status.RUNTIME_ERROR and crash[0].passed is False
    assert crash[0].exit_code == 1 and "ValueError: boom" in crash[0].stderr
    syntax = cc.run(Job(Program("python3", "def (:\n"), ["1\n", "2\n"], ["1", "2"]))
    assert [r.status for r in syntax] == [Status.COMPILE_ERROR] * 2
    assert "SyntaxError" in syntax[0].stderr
    memory = cc.run(Job(Program("python3", "a = bytearray(400 << 20)\nprint(len(a))"), ["\n"]))
    assert memory[0].status == Status.MEMORY_LIMIT  # the tester's fixed 256 MiB + 32 MiB address space


def test_busy_loop_is_a_timeout_in_bounded_time(cc):
    start = time.monotonic()
    results = cc.run(Job(BUSY, ["\n"], ["x"], limits=Limits(time_s=0.5)))
    assert results[0].status == Status.TIMEOUT and results[0].passed is False
    assert time.monotonic() - start < 9  # cut at 5 x 0.5 + 1 s (+ 2 s compile grace), not the tester's 10 s


def test_time_limit_is_a_wall_cap_only_unlike_local(cc):
    # The tester's CPU limit is fixed at 10 s and a test's CPU time cannot be read: a short
    # time limit only caps wall time (5 x limit + 1 s). Local measures CPU: TIMEOUT there.
    burn = Program("python3", "import time\nwhile time.process_time() < 0.2:\n    pass\nprint('done')")
    limits = Limits(time_s=0.05)
    assert cc.run(Job(burn, ["\n"], ["done"], limits=limits))[0].status == Status.OK
    local = run_program(burn, ["\n"], ["done"], limits, backend="local")
    assert local[0].status == Status.TIMEOUT


def _tester_dirs() -> set[str]:
    return set(glob.glob("/tmp/[0-9]*-[0-9]*-[0-9]*"))


def _alive(tester_dir_name: str) -> bool:
    """Is the process that made /tmp/<ms>-<pid>-<rand> still running?"""
    return os.path.exists(f"/proc/{tester_dir_name.split('-')[1]}")


def test_blocked_program_is_cut_off_and_the_job_goes_on(cc):
    tmp_before = _tester_dirs()
    mixed = Program("python3", "import select\nx = input()\nif x == 'block':\n"
                               "    select.select([], [], [], 1000)\nprint(x)\n")
    results = cc.run(Job(mixed, ["a\n", "b\n", "block\n", "c\n"], ["a", "b", "block", "c"],
                         limits=Limits(time_s=0.5)))
    assert [r.status for r in results] == [Status.OK, Status.OK, Status.TIMEOUT, Status.OK]
    assert [r.passed for r in results] == [True, True, False, True]
    # The killed side process left no sandboxed program and no tester folder behind: the
    # tester names both /tmp/<ms>-<pid of its caller>-<rand>, so orphans have a dead pid.
    programs = [c for c in os.popen("ps -eo args").read().splitlines() if c.endswith("/code.pyc")]
    assert not [c for c in programs if not _alive(c.split("/tmp/")[1])]
    assert not [d for d in _tester_dirs() - tmp_before if not _alive(os.path.basename(d))]
    assert cc.run(Job(ECHO, ["next\n"], ["next"]))[0].passed is True


def test_stop_on_first_failure(cc):
    prog = Program("python3", "x = int(input())\nprint(x if x < 3 else -1)\n")
    inputs = [f"{i}\n" for i in range(8)]
    results = cc.run(Job(prog, inputs, [str(i) for i in range(8)], stop_on_first_failure=True))
    assert [r.passed for r in results] == [True, True, True, False]
    via_api = run_program(prog, inputs, [str(i) for i in range(8)], backend="code_contests",
                          stop_on_first_failure=True)
    assert [r.passed for r in via_api] == [True, True, True, False]


def test_threads_fail_under_the_tester_clone3(cc):
    threaded = Program("python3", "import threading\nt = threading.Thread(target=lambda: print('hi'))\n"
                                  "t.start()\nt.join()\n")
    results = cc.run(Job(threaded, ["\n"], ["hi"]))
    assert results[0].status == Status.RUNTIME_ERROR
    assert "SYSCALL VIOLATION" in results[0].stderr and "435" in results[0].stderr  # clone3


def test_output_that_is_not_utf8_costs_one_test_only(cc):
    prog = Program("python3", "import sys\nx = input()\nif x == 'bad':\n"
                              "    sys.stdout.buffer.write(b'\\xff\\n')\nelse:\n    print(x)\n")
    results = cc.run(Job(prog, ["a\n", "bad\n", "c\n"], ["a", "bad", "c"]))
    assert [r.status for r in results] == [Status.OK, Status.SANDBOX_ERROR, Status.OK]
    assert [r.passed for r in results] == [True, False, True]


def test_programs_do_not_see_our_environment(monkeypatch):
    monkeypatch.setenv("ACODIUM_TEST_SECRET", "s3cr3t-value")
    backend = CodeContestsBackend(workers=1)
    try:
        out = backend.run(Job(Program("python3", "import os\nprint(sorted(os.environ.items()))"), ["\n"]))
    finally:
        backend.close()
    assert out[0].status == Status.OK
    assert "s3cr3t-value" not in out[0].stdout and "ACODIUM" not in out[0].stdout


def test_missing_environment_is_a_clear_user_error(tmp_path, monkeypatch):
    with pytest.raises(UserError, match="make cc-env"):
        CodeContestsBackend(venv=tmp_path / "nowhere")
    monkeypatch.setenv("ACODIUM_CC_VENV", str(tmp_path / "elsewhere"))
    with pytest.raises(UserError, match="elsewhere"):
        CodeContestsBackend()


def test_judge_tester_is_the_compiled_outputs_match():
    backend = CodeContestsBackend(workers=1, judge="tester")
    try:
        outputs = ["0x10", "16", "17", "1000000000000000001", "5\f"]
        expected = ["16", "16.000001", "16", "1000000000000000000", "5"]
        results = backend.run(Job(ECHO, [o + "\n" for o in outputs], expected))
        # The tester reads hex and compares integers as doubles; acodium, deliberately, does not.
        assert [r.passed for r in results] == [True, True, False, True, True]
        assert [check_output(r.stdout, e) for r, e in zip(results, expected)] == [False, True, False, False, True]
        assert backend.outputs_match([("0x10", "16"), ("1 2", "1 3"), ("YES", "yes")]) == [True, False, True]
        # stop_on_first_failure follows the tester's verdict; a crash never passes.
        stopped = backend.run(Job(ECHO, ["0x10\n", "7\n", "8\n"], ["16", "6", "8"], stop_on_first_failure=True))
        assert [r.passed for r in stopped] == [True, False]
        crash = backend.run(Job(Program("python3", "print(1)\nraise SystemExit(3)"), ["\n"], ["1"]))
        assert crash[0].status == Status.RUNTIME_ERROR and crash[0].passed is False
    finally:
        backend.close()


def test_unknown_judge_is_a_user_error():
    with pytest.raises(UserError, match="judge"):
        CodeContestsBackend(judge="nobody")


def test_cpp_is_refused_with_a_user_error(cc):
    with pytest.raises(UserError, match=r"runs Python 3 programs only \(the PyPI tester's bindings have no C\+\+, "
                                        r"Java or Python 2 tester\): run cpp programs with the local backend\.$"):
        cc.run(Job(Program("cpp", "int main(){}"), ["\n"]))
    assert cc.missing_runtime("python3") is None
    assert all(cc.missing_runtime(lang).startswith("The code_contests backend runs Python 3 programs only")
               for lang in ("cpp", "java", "python2"))


def _public_jobs(rows):
    jobs = []
    for row in rows:
        code = row["solutions"]["solution"][0]
        tests = row["public_tests"]
        jobs.append(Job(Program("python3", code), list(tests["input"]), list(tests["output"]),
                        limits=Limits(time_s=10.0)))
    return jobs


def test_real_solutions_pass_their_public_tests_with_local_verdicts(train_rows):
    # A spread of real problems; their one accepted Python 3 solution each.
    rows = train_rows[::23][:10]
    jobs = _public_jobs(rows)
    cc_results = run_batch(jobs, backend="code_contests", progress=False)
    local_results = run_batch(jobs, backend="local", progress=False)
    passing = sum(all(r.passed for r in results) for results in cc_results)
    assert passing >= 8, [[(r.status.value, r.passed) for r in rs] for rs in cc_results]
    for row, cc_rs, local_rs in zip(rows, cc_results, local_results):
        assert [(r.status, r.passed) for r in cc_rs] == [(r.status, r.passed) for r in local_rs], row["name"]
        assert [r.output_hash for r in cc_rs] == [r.output_hash for r in local_rs], row["name"]
