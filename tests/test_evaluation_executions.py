"""acodium.evaluation.executions: run_executions on real problems, interrupted, resumed, retried, refused."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pandas as pd
import pytest

from acodium.errors import UserError
from acodium.evaluation import RunStats, run_executions, verdicts
from acodium.evaluation.executions import dedupe
from acodium.execute import Execution
from acodium.execute.types import ExecutionResult, Status
from acodium.generate import reference_candidates
from acodium.tables import EXECUTIONS, EXECUTIONS_LOG

KEY = ["problem", "candidate_id", "test_set", "test_index"]
SEEN = KEY + ["status", "passed", "output_hash"]
QUICK = Execution(time_s=3.0)
TAKE_LOCK = "import sys\nfrom acodium.tables import run_folder_lock\nwith run_folder_lock(sys.argv[1]):\n    print('free')"


class Interrupted(Exception):
    """The process went away mid-run (as a kill or a crash would)."""


@dataclasses.dataclass(frozen=True)
class InterruptedAfter(Execution):
    """An Execution whose batch dies after `jobs` jobs have finished (and been logged)."""

    jobs: int = 3

    def run_batch(self, jobs, *, progress=True, on_result=None):
        finished = []

        def then_die(i, results):
            on_result(i, results)
            finished.append(i)
            if len(finished) == self.jobs:
                raise Interrupted()

        return super().run_batch(jobs, progress=progress, on_result=then_die)


@dataclasses.dataclass(frozen=True)
class FlakyMachine(Execution):
    """An Execution on a machine that fails: the first `failures["left"]` jobs of candidate `flaky`
    come back SANDBOX_ERROR on their first test (a dead worker), as the local backend reports it."""

    failures: dict = dataclasses.field(default_factory=lambda: {"left": 1}, compare=False, hash=False)

    def run_batch(self, jobs, *, progress=True, on_result=None):
        def maybe_fail(i, results):
            if "# flaky" in jobs[i].program.code and self.failures["left"] > 0:
                self.failures["left"] -= 1
                results = [ExecutionResult(status=Status.SANDBOX_ERROR, passed=None, stderr="worker lost")]
            on_result(i, results)

        return super().run_batch(jobs, progress=progress, on_result=maybe_fail)


@pytest.fixture(scope="module")
def three(train_rows):
    return train_rows[:3]


@pytest.fixture(scope="module")
def pool(three):
    """Each problem's human solution (right) and a program printing 0 (wrong)."""
    refs = reference_candidates(three)
    return pd.concat([refs, refs.assign(candidate_id="zero", code="print(0)")], ignore_index=True)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a[SEEN].reset_index(drop=True), b[SEEN].reset_index(drop=True))


def _log(run) -> list[dict]:
    return [json.loads(line) for line in (run / EXECUTIONS_LOG).read_text().splitlines()]


def test_an_interrupted_run_keeps_what_finished_and_resumes_with_only_the_rest(three, pool, tmp_path):
    fresh, _ = run_executions(three, pool, execution=QUICK, max_tests=3, progress=False)
    with pytest.raises(Interrupted):
        run_executions(three, pool, run_dir=tmp_path, execution=InterruptedAfter(time_s=3.0, workers=1, jobs=4),
                       max_tests=3, progress=False)
    logged = _log(tmp_path)
    assert len({(r["problem"], r["candidate_id"], r["test_set"]) for r in logged}) == 4
    assert not (tmp_path / "executions.parquet").exists()  # no finished table from an unfinished run
    other = subprocess.run([sys.executable, "-c", TAKE_LOCK, str(tmp_path)], capture_output=True, text=True)
    assert other.stdout == "free\n", other.stderr  # the lock went with the call: another process may take it
    table, stats = run_executions(three, pool, run_dir=tmp_path, execution=QUICK, max_tests=3, progress=False)
    assert stats.jobs_skipped == 4 and stats.jobs_run == stats.jobs_total - 4 == 2 * len(pool) - 4
    _same(table, fresh)
    assert list(table.columns) == EXECUTIONS
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "executions.parquet")[SEEN], table[SEEN])


def test_a_machine_failure_is_retried_and_logged_as_no_verdict(three, pool, tmp_path):
    flaky = pool.copy()
    flaky.loc[0, "code"] += "\n# flaky\n"
    good, _ = run_executions(three, flaky, execution=QUICK, max_tests=3, progress=False)
    machine = FlakyMachine(time_s=3.0, failures={"left": 2})
    table, stats = run_executions(three, flaky, run_dir=tmp_path, execution=machine, max_tests=3, progress=False)
    _same(table, good)
    assert stats.retried == 2 and machine.failures == {"left": 0}
    failed = [r for r in _log(tmp_path) if r["status"] == "SANDBOX_ERROR"]
    assert len(failed) == 2 and {r["passed"] for r in failed} == {None}
    again, stats = run_executions(three, flaky, run_dir=tmp_path, execution=QUICK, max_tests=3, progress=False)
    assert stats.jobs_run == 0 and stats.retried == 0  # the retried rows are the record now
    _same(again, good)
    # a machine that fails every time: one sentence naming the candidate, no table
    with pytest.raises(UserError, match=r"ended in SANDBOX_ERROR \(the machine failed, not the program\) 3 times, "
                                        rf"for instance candidate 'correct-0' of {three[0]['name']!r}") as caught:
        run_executions(three, flaky, execution=FlakyMachine(time_s=3.0, failures={"left": 99}), max_tests=3,
                       progress=False)
    assert "\n" not in str(caught.value) and "a re-run tries them again" in str(caught.value)


def test_stopping_at_the_first_failure_runs_later_hidden_sets_only_for_candidates_still_passing(three, pool):
    # the real private tests, split: the second half becomes the generated set
    rows = []
    for row in three:
        private = row["private_tests"]
        half = len(private["input"]) // 2
        rows.append(dict(row, private_tests={"input": private["input"][:half], "output": private["output"][:half]},
                         generated_tests={"input": private["input"][half:], "output": private["output"][half:]}))
    sets = ("public", "private", "generated")
    full, _ = run_executions(rows, pool, test_sets=sets, execution=QUICK, max_tests=3, progress=False)
    short, stats = run_executions(rows, pool, test_sets=sets, execution=QUICK, max_tests=3,
                                  stop_on_first_failure=True, progress=False)
    hidden = ["private", "generated"]
    pd.testing.assert_series_equal(verdicts(full, hidden), verdicts(short, hidden))
    failed_private = {c for c, ok in verdicts(short, ["private"]).items() if not ok}
    assert failed_private  # the zeros fail
    reached = set(map(tuple, short.loc[short.test_set == "generated", ["problem", "candidate_id"]].values))
    assert not reached & failed_private
    assert (short.test_set == "public").sum() == (full.test_set == "public").sum()  # the filter's tests in full
    assert stats.jobs_total < 3 * len(pool)
    # no stopping set: every set runs in full even when asked to stop
    unstopped, _ = run_executions(rows, pool, test_sets=sets, execution=QUICK, max_tests=3,
                                  stop_on_first_failure=True, stop_sets=(), progress=False)
    _same(unstopped, full)


def test_a_folder_reused_with_other_settings_says_so_and_drops_the_old_tables(three, pool, tmp_path):
    run_executions(three, pool, run_dir=tmp_path, execution=QUICK, max_tests=2, progress=False)
    for name in ("judgements.parquet", "metrics.parquet", "summary.json"):
        (tmp_path / name).write_text("made under the old settings")
    # another time limit: no row made before is this run's (max_jobs=0: none is made now)
    table, stats = run_executions(three, pool, run_dir=tmp_path, execution=Execution(time_s=2.0), max_tests=2,
                                  max_jobs=0, progress=False)
    assert stats.stopped_early and stats.jobs_run == stats.jobs_skipped == 0 and table.empty
    assert stats.changed_settings == ["time_limit_s", "limits"]
    assert stats.notes(tmp_path) == [f"{tmp_path} held results made with other time_limit_s, limits: "
                                     "only rows made with these settings were used."]
    assert not [p.name for p in tmp_path.iterdir() if p.suffix == ".parquet" or p.name == "summary.json"]
    settings = json.loads((tmp_path / "settings.json").read_text())
    assert settings["time_limit_s"] == 2.0 and settings["backend"] == "local" and settings["backend_version"]
    # fewer tests than before: the rows already made are the first tests', under the same keys
    table, stats = run_executions(three, pool, run_dir=tmp_path, execution=QUICK, max_tests=1, progress=False)
    assert stats.jobs_run == 0 and stats.jobs_skipped == stats.jobs_total > 0
    assert stats.changed_settings == ["max_tests", "time_limit_s", "limits", "tests_fingerprint"]
    assert table.groupby(["problem", "candidate_id", "test_set"]).size().max() == 1


def test_the_execution_cache_serves_a_second_run_without_a_run_folder(three, pool, tmp_path):
    cached = Execution(time_s=3.0, cache_dir=tmp_path / "cache", workers=1)
    first, _ = run_executions(three, pool, execution=cached, max_tests=2, progress=False)
    assert (tmp_path / "cache" / "executions.sqlite").exists()
    second, stats = run_executions(three, pool, execution=cached, max_tests=2, progress=False)
    assert stats.jobs_run == stats.jobs_total
    _same(first, second)


def test_a_candidate_without_code_is_never_run_nor_cached(three, pool, tmp_path):
    # a reply extraction found no program in: the empty program would "run" and fail every test
    empty = pd.concat([pool.iloc[:1].assign(candidate_id="none", code=""),
                       pool.iloc[:1].assign(candidate_id="blank", code="  \n")], ignore_index=True)
    execution = Execution(time_s=3.0, cache_dir=tmp_path / "cache")
    table, stats = run_executions(three, empty, run_dir=tmp_path / "run", execution=execution, max_tests=2,
                                  progress=False)
    assert table.empty and list(table.columns) == EXECUTIONS
    assert (stats.no_code, stats.jobs_total, stats.jobs_run, stats.tests_run) == (2, 0, 0, 0)
    assert not (tmp_path / "cache" / "executions.sqlite").exists()  # nothing reached the executor
    log = tmp_path / "run" / EXECUTIONS_LOG
    assert not log.exists() or log.read_text() == ""
    # beside candidates with code: those run as they would alone, the empty ones have no rows
    both, stats = run_executions(three, pd.concat([pool, empty]), execution=QUICK, max_tests=2, progress=False)
    alone, _ = run_executions(three, pool, execution=QUICK, max_tests=2, progress=False)
    _same(both, alone)
    assert stats.no_code == 2 and not set(both["candidate_id"]) & {"none", "blank"}


@pytest.mark.parametrize("change, message", [
    (dict(execution="local"), r"^execution must be an acodium.execute.Execution, not str\.$"),
    (dict(test_sets=("public", "secret")), r"^Unknown test set 'secret'; choose among public, private, "),
    (dict(stop_sets=("hidden",)), r"^Unknown test set 'hidden'; choose among public, private, "),
])
def test_bad_settings_are_refused_in_one_sentence_before_anything_runs(three, pool, tmp_path, change, message):
    with pytest.raises(UserError, match=message):
        run_executions(three, pool, run_dir=tmp_path / "run", progress=False, **change)
    assert not (tmp_path / "run" / EXECUTIONS_LOG).exists()


def test_test_sets_in_any_spelling_are_the_same_runs(three, pool):
    canonical, _ = run_executions(three, pool, test_sets=("public",), execution=QUICK, max_tests=1, progress=False)
    spelled, _ = run_executions(three, pool, test_sets=("Public_tests",), execution=QUICK, max_tests=1,
                                progress=False)
    assert set(spelled["test_set"]) == {"public"}
    _same(canonical, spelled)


def test_candidates_of_problems_outside_the_set_are_refused(three, pool):
    with pytest.raises(UserError, match=r"1 problem\(s\) of the candidates table are not in the dataset"):
        run_executions(three[:2], pool, execution=QUICK, progress=False)


# --------------------------------------------------------------------------- the table's pure helpers


def _executions(rows):
    return pd.DataFrame([dict(zip(KEY + ["passed"], r), program_hash="h", status="OK", output_hash="o", time_s=0.1,
                         checker="tokens", checker_message="") for r in rows])[EXECUTIONS]


def test_verdicts_tell_no_tests_from_passed():
    ex = _executions([("p", "a", "public", 0, True), ("p", "a", "private", 0, True), ("p", "a", "private", 1, False),
                      ("p", "b", "public", 0, True)])
    assert verdicts(ex, ["private"]).to_dict() == {("p", "a"): False}  # b ran no private test: no entry
    assert verdicts(ex, ["public"]).to_dict() == {("p", "a"): True, ("p", "b"): True}
    assert verdicts(ex, ["generated"]).empty and verdicts(ex.iloc[:0], ["public"]).empty


def test_dedupe_keeps_the_last_run_of_each_test_in_order():
    ex = _executions([("p", "b", "public", 1, True), ("p", "a", "public", 0, False), ("p", "b", "public", 1, False),
                      ("p", "a", "private", 0, True)])
    out = dedupe(ex)
    assert out[KEY + ["passed"]].values.tolist() == [["p", "a", "private", 0, True], ["p", "a", "public", 0, False],
                                                     ["p", "b", "public", 1, False]]
    assert list(dedupe(ex.iloc[:0]).columns) == EXECUTIONS


def test_run_stats_notes_say_how_the_folder_was_used(tmp_path):
    assert RunStats().notes(tmp_path) == []
    assert RunStats(jobs_total=6, jobs_skipped=4).notes(tmp_path) == [
        f"resumed {tmp_path}: 4 of 6 jobs (a candidate on a test set) were kept from {tmp_path / EXECUTIONS_LOG}, "
        "made under the same settings, and not run again."]
    assert RunStats(jobs_total=6, jobs_skipped=4).notes(None) == []
    stats = RunStats(damaged_lines=[3, 8, 9, 10, 11, 12], changed_settings=["time_limit_s"])
    changed, damaged = stats.notes(tmp_path)
    assert "other time_limit_s" in changed
    assert damaged == (f"6 damaged line(s) of {tmp_path / EXECUTIONS_LOG} were skipped and their tests run again "
                       "(line 3, 8, 9, 10, 11).")
