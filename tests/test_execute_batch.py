"""`run_batch` and `run_program`: identical jobs once, the cache first, early stops, reporting.

The batch logic does not depend on how programs run, so most tests drive it with a
scripted backend that records every job it is given; the last ones use the real
local sandbox.
"""

from __future__ import annotations

import threading

import pytest

from acodium.errors import UserError
from acodium.execute import (
    Backend,
    ExecutionResult,
    Job,
    Limits,
    Program,
    Status,
    run_batch,
    run_program,
)
from acodium.execute.types import sha256

FAST = Limits(time_s=1.0)

# Scripted programs: each maps one input line to (status, stdout).
SCRIPTS = {
    "double": lambda x: (Status.OK, f"{2 * int(x)}\n"),
    "echo": lambda x: (Status.OK, f"{x}\n"),
    "crash_on_3": lambda x: (Status.RUNTIME_ERROR, "") if x == "3" else (Status.OK, f"{x}\n"),
}


def prog(name: str, language: str = "python3") -> Program:
    return Program(language, name)


class ScriptedBackend(Backend):
    """Runs SCRIPTS, stopping early as a real backend does; records what it was asked to run."""

    name = "scripted"

    def __init__(self, version: str = "1"):
        self.calls: list[tuple[str, list[str]]] = []
        self.events: list[tuple] = []  # shared with on_result callbacks to see the order
        self._version = version
        self._lock = threading.Lock()

    def version(self) -> str:
        return self._version

    def run(self, job: Job) -> list[ExecutionResult]:
        with self._lock:
            self.calls.append((job.program.code, list(job.inputs)))
            self.events.append(("run", job.program.code, tuple(job.inputs)))
        results = []
        for i, text in enumerate(job.inputs):
            status, stdout = SCRIPTS[job.program.code](text.strip())
            result = ExecutionResult(status=status, passed=None, stdout=stdout, program_hash=job.program.hash,
                                     output_hash=sha256(stdout))
            if job.expected is not None:
                result.passed = status == Status.OK and stdout.strip() == job.expected[i].strip()
            results.append(result)
            failed = not result.passed if job.expected is not None else status != Status.OK
            if job.stop_on_first_failure and failed:
                break
        return results

    def tests_run(self) -> int:
        return sum(len(inputs) for _, inputs in self.calls)


@pytest.fixture
def backend():
    return ScriptedBackend()


def batch(backend, jobs, **options):
    return run_batch(jobs, backend=backend, workers=options.pop("workers", 1), progress=False, **options)


# --- identical jobs ------------------------------------------------------------------------------

def test_identical_jobs_run_once_and_each_is_judged_on_its_own_expected_outputs(backend):
    jobs = [
        Job(prog("double"), ["1", "2"], ["2", "4"], FAST),
        Job(prog("double"), ["1", "2"], ["2", "5"], FAST),  # same run, other verdict
        Job(prog("double"), ["1", "2"], None, FAST),  # same run, no verdict
        Job(prog("echo"), ["1", "2"], ["1", "2"], FAST),
    ]
    results = batch(backend, jobs)
    assert sorted(backend.calls) == [("double", ["1", "2"]), ("echo", ["1", "2"])]
    assert [[r.passed for r in rs] for rs in results] == [[True, True], [True, False], [None, None], [True, True]]
    assert [r.stdout for r in results[1]] == ["2\n", "4\n"]
    assert results[0][0] is not results[1][0]  # each job has its own result objects


def test_jobs_differing_in_limits_or_inputs_are_not_merged(backend):
    jobs = [
        Job(prog("double"), ["1"], ["2"], FAST),
        Job(prog("double"), ["1"], ["2"], Limits(time_s=2.0)),
        Job(prog("double"), ["1", "2"], ["2", "4"], FAST),
        Job(prog("double", "cpp"), ["1"], ["2"], FAST),
    ]
    batch(backend, jobs)
    assert len(backend.calls) == 4


def test_early_stopping_jobs_merge_only_with_the_same_expected_outputs(backend):
    """Where a job stops depends on its expected outputs, so those are part of its identity."""
    jobs = [
        Job(prog("echo"), ["1", "2", "3"], ["1", "2", "3"], FAST, stop_on_first_failure=True),
        Job(prog("echo"), ["1", "2", "3"], ["1", "2", "3"], FAST, stop_on_first_failure=True),
        Job(prog("echo"), ["1", "2", "3"], ["1", "0", "3"], FAST, stop_on_first_failure=True),
    ]
    results = batch(backend, jobs)
    assert sorted(backend.calls) == [("echo", ["1", "2", "3"])] * 2
    assert [[r.passed for r in rs] for rs in results] == [[True] * 3, [True] * 3, [True, False]]


# --- the cache ----------------------------------------------------------------------------------

def test_cache_hits_are_served_without_running(backend, tmp_path):
    job = Job(prog("double"), ["1", "2", "3"], ["2", "4", "6"], FAST)
    first = batch(backend, [job], cache_dir=tmp_path)[0]
    assert backend.tests_run() == 3 and not any(r.cached for r in first)
    again = batch(backend, [job, Job(prog("double"), ["1", "2", "3"], ["2", "4", "7"], FAST)], cache_dir=tmp_path)
    assert backend.tests_run() == 3  # nothing ran
    assert all(r.cached for rs in again for r in rs)
    assert [[r.passed for r in rs] for rs in again] == [[True, True, True], [True, True, False]]
    assert [r.stdout for r in again[0]] == [r.stdout for r in first]


def test_only_the_missing_tests_of_a_job_run(backend, tmp_path):
    batch(backend, [Job(prog("echo"), ["a", "c"], None, FAST)], cache_dir=tmp_path)
    res = batch(backend, [Job(prog("echo"), ["a", "b", "c", "d"], None, FAST)], cache_dir=tmp_path)[0]
    assert backend.calls[-1] == ("echo", ["b", "d"])
    assert [(r.stdout, r.cached) for r in res] == [("a\n", True), ("b\n", False), ("c\n", True), ("d\n", False)]


def test_the_backends_name_and_version_are_part_of_the_key(tmp_path):
    old, new = ScriptedBackend("1"), ScriptedBackend("2")
    job = Job(prog("echo"), ["x"], None, FAST)
    batch(old, [job], cache_dir=tmp_path)
    batch(new, [job], cache_dir=tmp_path)
    assert new.tests_run() == 1  # a new version never gets the old version's verdicts
    same = ScriptedBackend("2")
    assert batch(same, [job], cache_dir=tmp_path)[0][0].cached and same.calls == []
    batch(old, [job], cache_dir=tmp_path)
    assert old.tests_run() == 1


def test_machine_failures_are_never_served_from_the_cache(tmp_path):
    class Flaky(ScriptedBackend):
        def run(self, job):
            results = super().run(job)
            if len(self.calls) == 1:
                results[0].status = Status.SANDBOX_ERROR
            return results

    flaky = Flaky()
    job = Job(prog("echo"), ["x", "y"], None, FAST)
    assert [r.status for r in batch(flaky, [job], cache_dir=tmp_path)[0]] == [Status.SANDBOX_ERROR, Status.OK]
    again = batch(flaky, [job], cache_dir=tmp_path)[0]
    assert flaky.calls[-1] == ("echo", ["x"])  # only the machine failure runs again
    assert [(r.status, r.cached) for r in again] == [(Status.OK, False), (Status.OK, True)]


# --- stop_on_first_failure with a partial cache --------------------------------------------------

def stopping(inputs, expected):
    return Job(prog("crash_on_3"), inputs, expected, FAST, stop_on_first_failure=True)


def test_an_early_stop_resumes_from_the_first_test_not_in_the_cache(backend, tmp_path):
    batch(backend, [Job(prog("crash_on_3"), ["1", "2"], None, FAST)], cache_dir=tmp_path)
    res = batch(backend, [stopping(["1", "2", "3", "4"], ["1", "2", "3", "4"])], cache_dir=tmp_path)[0]
    assert backend.calls[-1] == ("crash_on_3", ["3", "4"])
    assert [(r.status, r.passed, r.cached) for r in res] == [
        (Status.OK, True, True), (Status.OK, True, True), (Status.RUNTIME_ERROR, False, False)]


def test_a_cached_failure_stops_the_job_before_anything_runs(backend, tmp_path):
    batch(backend, [Job(prog("crash_on_3"), ["1", "3"], None, FAST)], cache_dir=tmp_path)
    before = len(backend.calls)
    res = batch(backend, [stopping(["1", "3", "5", "7"], None)], cache_dir=tmp_path)[0]
    assert len(backend.calls) == before
    assert [(r.status, r.cached) for r in res] == [(Status.OK, True), (Status.RUNTIME_ERROR, True)]
    # A wrong answer found in the cache stops the job too: judged against this job's expected output.
    res = batch(backend, [stopping(["1", "3", "5"], ["9", "3", "5"])], cache_dir=tmp_path)[0]
    assert len(backend.calls) == before and [r.passed for r in res] == [False]


def test_a_gap_in_the_cache_reruns_everything_after_it(backend, tmp_path):
    """Whether a later cached test is reached depends on the missing one: it runs from the gap on."""
    batch(backend, [Job(prog("crash_on_3"), ["1", "5"], None, FAST)], cache_dir=tmp_path)
    res = batch(backend, [stopping(["1", "2", "5"], ["1", "2", "5"])], cache_dir=tmp_path)[0]
    assert backend.calls[-1] == ("crash_on_3", ["2", "5"])
    assert [r.cached for r in res] == [True, False, False] and all(r.passed for r in res)


# --- splitting and order --------------------------------------------------------------------------

def test_one_big_python_job_is_split_over_the_workers_and_reassembled_in_order(backend):
    inputs = [str(i) for i in range(10)]
    res = batch(backend, [Job(prog("double"), inputs, [str(2 * i) for i in range(10)], FAST)], workers=4)[0]
    assert [r.stdout for r in res] == [f"{2 * i}\n" for i in range(10)] and all(r.passed for r in res)
    assert sorted(len(inputs) for _, inputs in backend.calls) == [1, 3, 3, 3]
    assert sorted(t for _, ins in backend.calls for t in ins) == sorted(inputs)  # each test once


def test_jobs_that_must_stay_whole_are_not_split(backend):
    inputs = [str(i) for i in range(6)]
    batch(backend, [Job(prog("double", "cpp"), inputs, None, FAST)], workers=4)  # compiled once per piece
    batch(backend, [Job(prog("double"), inputs, None, FAST, stop_on_first_failure=True)], workers=4)
    assert [len(ins) for _, ins in backend.calls] == [6, 6]


def test_on_result_reports_each_job_once_as_soon_as_it_is_complete(backend, tmp_path):
    batch(backend, [Job(prog("echo"), ["cached"], None, FAST)], cache_dir=tmp_path)
    backend.events.clear()
    jobs = [
        Job(prog("double"), ["1"], ["2"], FAST),
        Job(prog("echo"), ["cached"], ["cached"], FAST),  # served whole from the cache
        Job(prog("echo"), ["x"], ["x"], FAST),
        Job(prog("double"), ["1"], ["3"], FAST),  # the same run as job 0
    ]

    def on_result(index, results):
        backend.events.append(("result", index, tuple(r.passed for r in results)))
    results = batch(backend, jobs, cache_dir=tmp_path, on_result=on_result)
    assert backend.events == [
        ("result", 1, (True,)),  # before anything runs
        ("run", "double", ("1",)),
        ("result", 0, (True,)), ("result", 3, (False,)),
        ("run", "echo", ("x",)),
        ("result", 2, (True,)),
    ]
    assert [tuple(r.passed for r in rs) for rs in results] == [(True,), (True,), (True,), (False,)]


def test_a_split_job_is_reported_once_when_its_last_piece_ends(backend):
    reports = []
    batch(backend, [Job(prog("echo"), list("abcdef"), list("abcdef"), FAST)], workers=3,
          on_result=lambda i, r: reports.append((i, len(r), len(backend.calls))))
    assert reports == [(0, 6, 3)]


# --- refused jobs ---------------------------------------------------------------------------------

def test_bad_jobs_are_refused_before_anything_runs(backend):
    good = Job(prog("echo"), ["x"], None, FAST)
    cases = [
        ([good, ("echo", ["x"])], "run_batch takes Job objects, not tuple."),
        ([good, Job(prog("echo", "cobol"), ["x"], None, FAST)], "Cannot run 'cobol' programs"),
        ([good, Job(prog("echo"), ["x", "y"], ["x"], FAST)], "A job has 2 inputs but 1 expected outputs."),
    ]
    for jobs, message in cases:
        with pytest.raises(UserError, match=message.replace("(", r"\(").replace(".", r"\.")):
            batch(backend, jobs)
    assert backend.calls == []
    assert batch(backend, []) == []


def test_run_program_is_one_job_of_a_batch(backend, tmp_path):
    res = run_program(prog("crash_on_3"), ["1", "3", "4"], ["1", "3", "4"], FAST, backend=backend,
                      stop_on_first_failure=True, cache_dir=tmp_path)
    assert [(r.status, r.passed) for r in res] == [(Status.OK, True), (Status.RUNTIME_ERROR, False)]
    again = run_program(prog("crash_on_3"), ["1", "3", "4"], None, FAST, backend=backend, cache_dir=tmp_path)
    assert [r.cached for r in again] == [True, True, False]


# --- on the real sandbox -----------------------------------------------------------------------

def test_duplicates_and_the_cache_on_the_local_backend(tmp_path):
    from acodium.execute.local import LocalBackend

    asked = []

    class Counting(LocalBackend):
        def run(self, job):
            asked.extend(job.inputs)  # atomic: the two pieces of the job run at once
            return super().run(job)

    local = Counting(workers=2)
    try:
        square = Program("python3", "print(int(input()) ** 2)")
        jobs = [Job(square, ["3", "4"], ["9", "16"], FAST), Job(square, ["3", "4"], ["9", "0"], FAST)]
        first = run_batch(jobs, backend=local, cache_dir=tmp_path, workers=2, progress=False)
        assert sorted(asked) == ["3", "4"]
        assert [[r.passed for r in rs] for rs in first] == [[True, True], [True, False]]
        again = run_batch(jobs[:1], backend=local, cache_dir=tmp_path, workers=2, progress=False)[0]
        assert len(asked) == 2 and all(r.cached and r.passed for r in again)
    finally:
        local.close()
