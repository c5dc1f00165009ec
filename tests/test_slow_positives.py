"""Slow positives (issue 16, part 4): a real problem's accepted solution made slower than a tight limit.

1060_A (Phone Numbers) of the CodeContests sample, its accepted Python solution with a CPU burner
inserted after it reads n: about 1.5x the limit is SLOW (correct within the cap, 3x), 5x is a
TIMEOUT, a slow wrong answer is a TIMEOUT, and a run just over the limit runs once more under it.
A `Counting` backend wraps the real local one to count what runs, under which time limit.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from acodium import select
from acodium.data import problem_tests
from acodium.errors import UserError
from acodium.evaluation import run_executions, test_suite_strength
from acodium.execute import Execution, Job, Limits, Program, Status, get_backend, run_batch
from acodium.execute.base import Backend
from acodium.execute.slow import resolve
from acodium.generate.flow.run import describe_failure
from acodium.metrics import slow_positives
from cli_runner import gencode_in_process

PHONE = "1060_A. Phone Numbers"
LIMIT = 0.4  # seconds of CPU per test: tight, so that each case costs about a second


class Counting(Backend):
    """The local backend, counting the tests it runs and under which time limit (`runs`)."""

    name = "local"

    def __init__(self, inner: Backend):
        self.inner = inner
        self.runs: list[float] = []
        self.runs_program_judges = inner.runs_program_judges

    def run(self, job: Job):
        results = self.inner.run(job)
        self.runs += [job.limits.time_s] * len(results)
        return results

    def version(self) -> str:
        return self.inner.version()


@pytest.fixture(scope="module")
def local():
    return get_backend("local")


@pytest.fixture()
def counting(local):
    return Counting(local)


@pytest.fixture(scope="module")
def phone(train_rows):
    row = next(r for r in train_rows if r["name"] == PHONE)
    return row, row["solutions"]["solution"][row["solutions"]["language"].index(3)]


def burning(code: str, seconds: float, when: str = "True", wrong: bool = False) -> Program:
    """The solution, burning `seconds` of CPU after reading n when `when` holds (and printing an extra
    token if `wrong`)."""
    burn = (f"if {when}:\n    import time\n    _t = time.process_time()\n    while time.process_time() - _t < {seconds}:\n"
            "        for _ in range(1000):\n            pass\n")
    slow = code.replace("n = int(input())\n", "n = int(input())\n" + burn, 1)
    assert slow != code
    return Program("python3", slow + ("print(-1)\n" if wrong else ""))


def public(row):
    tests = problem_tests(row, "public")
    return [t[1] for t in tests], [t[2] for t in tests]


def one(program, row, backend, limits=Limits(time_s=LIMIT), expected=True):
    """The results of `program` on the problem's first public test."""
    inputs, outputs = public(row)
    job = Job(program, inputs[:1], outputs[:1] if expected else None, limits)
    return run_batch([job], backend=backend, workers=1, progress=False)[0]


def test_correct_but_one_and_a_half_times_too_slow_is_slow_never_passed(phone, counting):
    row, code = phone
    fast = one(Program("python3", code), row, counting)
    assert [(r.status, r.passed) for r in fast] == [(Status.OK, True)] and counting.runs == [LIMIT]
    counting.runs.clear()
    [slow] = one(burning(code, 1.5 * LIMIT), row, counting)
    assert slow.status == Status.SLOW and slow.passed is False
    assert slow.stdout.split() == [public(row)[1][0]] and LIMIT < slow.cpu_s < 3 * LIMIT
    assert slow.checker_message.startswith("slow positive: the checker accepts this output")
    assert counting.runs == [LIMIT, 3 * LIMIT]  # the first run, then once at the cap
    assert "the output is right, but the program ran longer than 0.4 s" in describe_failure(slow, LIMIT)


def test_five_times_too_slow_and_slow_but_wrong_are_timeouts(phone, counting):
    row, code = phone
    [hopeless] = one(burning(code, 5 * LIMIT), row, counting)
    assert hopeless.status == Status.TIMEOUT and hopeless.passed is False
    [wrong] = one(burning(code, 1.5 * LIMIT, wrong=True), row, counting)
    assert wrong.status == Status.TIMEOUT and wrong.passed is False and wrong.checker_message == ""
    assert counting.runs == [LIMIT, 3 * LIMIT] * 2


def test_without_expected_outputs_or_with_the_cap_off_a_slow_run_is_a_timeout_run_once(phone, counting):
    row, code = phone
    [unjudged] = one(burning(code, 1.5 * LIMIT), row, counting, expected=False)
    [off] = one(burning(code, 1.5 * LIMIT), row, counting, limits=Limits(time_s=LIMIT, slow_cap=0))
    assert (unjudged.status, unjudged.passed) == (Status.TIMEOUT, None)
    assert (off.status, off.passed) == (Status.TIMEOUT, False)
    assert counting.runs == [LIMIT, LIMIT]  # once each: no verdict to make a positive, or no cap


def test_a_run_just_over_the_limit_runs_once_more_under_it(phone, counting, local):
    row, code = phone
    [near] = one(burning(code, 1.05 * LIMIT), row, counting)
    # first run TIMEOUT; at the cap it ends within 10% of the limit; so once more under the limit
    assert counting.runs == [LIMIT, 3 * LIMIT, LIMIT]
    assert near.status == Status.SLOW  # over the limit both times it ran under it
    # Had the second run under the limit ended in time (a noisy machine the first time), it decides:
    inputs, outputs = public(row)
    first = local.run(Job(burning(code, 1.05 * LIMIT), inputs[:1], None, Limits(time_s=LIMIT)))[0]
    capped = local.run(Job(burning(code, 1.05 * LIMIT), inputs[:1], None, Limits(time_s=3 * LIMIT)))[0]
    in_time = local.run(Job(Program("python3", code), inputs[:1], None, Limits(time_s=LIMIT)))[0]
    assert (first.status, capped.status, in_time.status) == (Status.TIMEOUT, Status.OK, Status.OK)
    checker = Job(Program("python3", code), inputs).checker
    assert resolve(first, capped, in_time, outputs[0], checker, Limits(time_s=LIMIT)) is in_time
    assert resolve(first, capped, first, outputs[0], checker, Limits(time_s=LIMIT)).status == Status.SLOW
    assert resolve(first, capped, None, None, checker, Limits(time_s=LIMIT)) is first  # no verdict: TIMEOUT


def test_the_cache_replays_the_schedule_and_never_serves_a_slow_for_another_cap(phone, local, tmp_path):
    row, code = phone
    program = burning(code, 1.5 * LIMIT)
    inputs, outputs = public(row)

    def run(cap):
        counting = Counting(local)
        job = Job(program, inputs[:1], outputs[:1], Limits(time_s=LIMIT, slow_cap=cap))
        [result] = run_batch([job], backend=counting, cache_dir=tmp_path, workers=1, progress=False)[0]
        return result, counting.runs

    assert [(r.status, runs) for r, runs in [run(3)]] == [(Status.SLOW, [LIMIT, 3 * LIMIT])]
    again, runs = run(3)
    assert (again.status, again.cached, runs) == (Status.SLOW, True, [])  # nothing runs: both runs cached
    short, runs = run(1.2)  # another cap: its own capped run (0.48 s), too short for this program
    assert (short.status, runs) == (Status.TIMEOUT, [pytest.approx(1.2 * LIMIT)])
    off, runs = run(1)
    assert (off.status, runs) == (Status.TIMEOUT, [])


def test_a_stopping_job_stops_at_its_slow_test(phone, counting):
    row, code = phone
    inputs, outputs = public(row)  # n = 22, 11, 11, 1: only n = 11 burns
    job = Job(burning(code, 1.5 * LIMIT, when="n == 11"), inputs, outputs, Limits(time_s=LIMIT),
              stop_on_first_failure=True)
    results = run_batch([job], backend=counting, workers=1, progress=False)[0]
    assert [r.status for r in results] == [Status.OK, Status.SLOW]  # the tests after it never run
    assert counting.runs == [LIMIT, LIMIT, 3 * LIMIT]


@pytest.fixture(scope="module")
def pool(phone, tmp_path_factory):
    """Three candidates on two public tests and two private ones, under a tight limit: the accepted
    solution, one slow on the private tests only (n > 22), one wrong; executions of a run folder."""
    row, code = phone
    cands = pd.DataFrame({
        "problem": PHONE, "candidate_id": ["fast", "slow", "wrong"], "language": "python3",
        "code": [code, burning(code, 1.5 * LIMIT, when="n > 22").code, code + "print(-1)\n"]})
    run_dir = tmp_path_factory.mktemp("slow_run")
    table, stats = run_executions([row], cands, test_sets=["public", "private"], max_tests=2, run_dir=run_dir,
                                  execution=Execution(time_s=LIMIT, workers=2), progress=False)
    return row, cands, run_dir, table, stats


def test_executions_judgements_metrics_and_suite_strength_carry_slow_positives(pool):
    row, cands, _, table, _ = pool
    statuses = table.groupby(["candidate_id", "test_set"])["status"].agg(list).to_dict()
    assert statuses == {("fast", "private"): ["OK"] * 2, ("fast", "public"): ["OK"] * 2,
                        ("slow", "private"): ["SLOW"] * 2, ("slow", "public"): ["OK"] * 2,
                        ("wrong", "private"): ["OK"] * 2, ("wrong", "public"): ["OK"] * 2}
    judged = select.judgements(table, cands[["problem", "candidate_id"]])
    assert judged.set_index("candidate_id")[["passes_public", "correct", "slow"]].to_dict("index") == {
        "fast": {"passes_public": True, "correct": True, "slow": False},
        "slow": {"passes_public": True, "correct": False, "slow": True},
        "wrong": {"passes_public": False, "correct": False, "slow": False}}
    shares = slow_positives(judged, problems=[PHONE, "another problem"])
    assert shares == {"slow_candidates": 1, "candidates": 3, "slow_candidate_share": 1 / 3,
                      "problems_with_slow": 1, "problems": 2, "problem_share": 0.5, "problems_only_slow": 0}
    strength = test_suite_strength(table)["public_vs_hidden"]
    # fast and slow pass the public tests; the hidden ones reject slow, by SLOW runs alone
    assert (strength["passing_weak"], strength["rejected_by_strong"], strength["slow_by_strong"]) == (2, 1, 1)
    assert strength["false_positive_share"] == strength["slow_positive_share"] == 0.5


def test_a_slow_run_is_a_timeout_to_clustering(pool):
    _, _, _, table, _ = pool
    as_clustering = table.assign(test_set=table["test_set"].replace({"private": "mutated"}))
    slow = as_clustering[as_clustering["candidate_id"] == "slow"]
    timed_out = slow.assign(status=slow["status"].replace({"SLOW": "TIMEOUT"}), candidate_id="timeout")
    clusters = select.cluster_candidates(pd.concat([slow, timed_out]), ["mutated"])
    assert clusters.nunique() == 1  # SLOW needs the expected output, which clustering may not see


def test_a_run_folder_keys_its_rows_by_the_slow_cap(pool):
    row, cands, run_dir, _, first = pool
    settings = json.loads((run_dir / "settings.json").read_text())
    assert settings["slow_cap"] == 3.0 and first.jobs_run == 6
    same, again = run_executions([row], cands, test_sets=["public", "private"], max_tests=2, run_dir=run_dir,
                                 execution=Execution(time_s=LIMIT, workers=2), progress=False)
    assert (again.jobs_run, again.jobs_skipped, again.changed_settings) == (0, 6, [])
    off, other = run_executions([row], cands, test_sets=["public", "private"], max_tests=2, run_dir=run_dir,
                                execution=Execution(time_s=LIMIT, workers=2, slow_cap=0), progress=False)
    assert other.changed_settings == ["slow_cap"] and other.jobs_run == 6  # no row made under cap 3 is reused
    assert other.notes(run_dir) == [f"{run_dir} held results made with other slow_cap: only rows made with "
                                    "these settings were used."]
    assert set(off["status"]) == {"OK", "TIMEOUT"} and json.loads((run_dir / "settings.json").read_text())[
        "slow_cap"] == 1.0


def test_slow_cap_settings_refuse_bad_values_in_one_sentence():
    for bad in (0.5, -1, 101, float("nan"), True, "3"):
        with pytest.raises(UserError, match="The slow cap must be a number from 1 to 100"):
            Execution(slow_cap=bad)
        with pytest.raises(UserError, match="The slow cap must be"):
            Limits(slow_cap=bad)
    assert Execution(slow_cap=0).slow_cap == Limits(slow_cap=1).slow_cap == 1.0
    assert Limits(time_s=2.0).capped() == Limits(time_s=6.0, slow_cap=1)
    assert Limits(time_s=2000.0).capped().time_s == 3600.0  # never past the longest limit
    assert Limits().key() == Limits(slow_cap=1).key() and Limits().verdict_key() != Limits(slow_cap=1).verdict_key()


def test_the_cli_takes_slow_cap_and_prints_the_slow_positives(pool, tmp_path, capsys):
    row, cands, _, _, _ = pool
    problems, candidates = tmp_path / "problems.jsonl", tmp_path / "candidates.jsonl"
    problems.write_text(json.dumps(row) + "\n")
    cands.assign(source="file", meta="{}").to_json(candidates, orient="records", lines=True)
    args = ["eval", "pass_at_k", "--dataset_name", candidates, "--problems", problems, "--k_values", "1",
            "--evaluation_test_type", "private_tests", "--max_tests", "2", "--time_limit", LIMIT, "--no_cache",
            "--workers", "2", "--no_progress"]
    code, out, _ = gencode_in_process(capsys, *args)
    assert code == 0, out
    assert ("slow positives: 1 of 3 candidates (33.3%), in 1 of 1 problem (0 solved by no other), would be "
            "correct but for SLOW runs (over the time limit, correct within 3x it)") in out
    code, out, _ = gencode_in_process(capsys, *args, "--slow_cap", "1")
    assert code == 0 and "slow positives" not in out
    code, _, err = gencode_in_process(capsys, *args, "--slow_cap", "0.5")
    assert code == 2 and "--slow_cap must be 0, or a number from 1 to 100 (times the time limit), not 0.5." in err
    exec_args = ["exec", "run", tmp_path / "slow.py", "--input", public(row)[0][1], "--expected",
                 public(row)[1][1], "--time_limit", LIMIT, "--json"]
    (tmp_path / "slow.py").write_text(burning(cands["code"][0], 1.5 * LIMIT).code)
    code, out, _ = gencode_in_process(capsys, *exec_args)
    assert code == 0 and json.loads(out)["status"] == "SLOW"
    code, out, _ = gencode_in_process(capsys, *exec_args, "--slow_cap", "0")
    assert code == 0 and json.loads(out)["status"] == "TIMEOUT"


@pytest.mark.code_contests
def test_the_code_contests_backend_applies_the_rule_to_its_wall_clock_cap(phone):
    # The tester's CPU time cannot be read: its limit is the wall-clock cap, 5 x time_s + 1 s (1.1 s here;
    # the first test of a call has 2 s more, to compile: the slow test is the second).
    row, code = phone
    cc = Counting(get_backend("code_contests"))
    cc.name = "code_contests"
    cc.time_used, cc.time_allowed = cc.inner.time_used, cc.inner.time_allowed
    inputs, outputs = public(row)  # n = 22, then 11: only n = 11 burns
    job = Job(burning(code, 1.5, when="n == 11"), inputs[:2], outputs[:2], Limits(time_s=0.02, slow_cap=100))
    fast, slow = run_batch([job], backend=cc, workers=1, progress=False)[0]
    assert (fast.status, fast.passed, slow.status, slow.passed) == (Status.OK, True, Status.SLOW, False)
    assert "s of wall time" in slow.checker_message
    assert cc.runs == [0.02, 0.02, pytest.approx(2.0)]  # both tests, then the slow one at the cap


def test_a_rerun_the_backend_gives_no_result_for_is_a_machine_failure_not_an_endless_loop(phone, local):
    row, code = phone

    class Forgetful(Counting):
        def run(self, job):
            return [] if job.limits.time_s > LIMIT else super().run(job)

    forgetful = Forgetful(local)
    [lost] = one(burning(code, 1.5 * LIMIT), row, forgetful)
    assert lost.status == Status.SANDBOX_ERROR and "returned no result" in lost.stderr
    assert forgetful.runs == [LIMIT]


# A checker program (testlib's protocol) for 1060_A: the output's one number must be the answer's.
SAME_NUMBER_PY = """import sys
got, want = open(sys.argv[2]).read().split(), open(sys.argv[3]).read().split()
if got != want:
    print(f"expected {want}, got {got}", file=sys.stderr); sys.exit(1)
"""


def test_a_checker_program_judges_the_run_at_the_cap(phone, counting, tmp_path):
    from acodium.execute.checkers import parse_checker

    row, code = phone
    judge = parse_checker({"language": "python3", "code": SAME_NUMBER_PY})
    inputs, outputs = public(row)

    def run(program, cache):
        job = Job(program, inputs[:1], outputs[:1], Limits(time_s=LIMIT), checker=judge)
        return run_batch([job], backend=counting, cache_dir=cache, workers=1, progress=False)[0][0]

    slow, wrong = run(burning(code, 1.5 * LIMIT), tmp_path), run(burning(code, 1.5 * LIMIT, wrong=True), tmp_path)
    assert (slow.status, slow.passed, wrong.status, wrong.passed) == (Status.SLOW, False, Status.TIMEOUT, False)
    assert counting.runs == [LIMIT, 3 * LIMIT] * 2
    again = run(burning(code, 1.5 * LIMIT), tmp_path)  # the judge's verdict on the capped run is cached with it
    assert (again.status, again.cached, counting.runs[4:]) == (Status.SLOW, True, [])
