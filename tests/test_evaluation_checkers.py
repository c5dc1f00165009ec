"""Evaluation under checkers: each problem's own checker, the run's --checker override, executions rows that
name their checker, and a run folder that never reuses rows judged by another checker."""

from __future__ import annotations

import pandas as pd
import pytest

import acodium
from acodium.evaluation import run_executions, verdicts
from acodium.execute import Execution
from acodium.generate import reference_candidates
from acodium.tables import EXECUTIONS

@pytest.fixture(scope="module")
def cut_length(train_rows):
    """598_F (answers within 1e-6, absolute or relative), its accepted Python solution, and a wrong program.

    The accepted solution's answer to private test 11 is 282842.7052553788 where the stored one is
    282842.705403551...: 1.5e-4 off (the token compare's 1e-5 refuses it), 5e-10 relative (Codeforces accepts).
    """
    row = next(r for r in train_rows if r["name"].startswith("598_F"))
    refs = reference_candidates([row])
    refs = refs[refs["language"] == "python3"].head(1)
    return row, pd.concat([refs, refs.assign(candidate_id="zero", code="print(0)")], ignore_index=True)


def _correct(table) -> dict:
    return verdicts(table, ["private"]).droplevel(0).to_dict()


def test_rows_judged_by_another_checker_are_never_reused(cut_length, tmp_path):
    row, cands = cut_length
    run = dict(test_sets=["private"], run_dir=tmp_path, progress=False)
    by_tokens, first = run_executions([row], cands, execution=Execution(time_s=5.0), **run)
    accepted = cands["candidate_id"][0]
    assert _correct(by_tokens) == {accepted: False, "zero": False}
    assert set(by_tokens["checker"]) == {"tokens"} and list(by_tokens.columns) == EXECUTIONS
    wrong = by_tokens[~by_tokens["passed"].astype(bool) & (by_tokens["candidate_id"] == accepted)]
    assert wrong["checker_message"].tolist() == ["token 1: expected 282842.705403551284689456, got 282842.7052553788"]
    assert (by_tokens[by_tokens["passed"].astype(bool)]["checker_message"] == "").all()

    by_float, second = run_executions([row], cands, execution=Execution(time_s=5.0, checker="float_rel:1e-6"), **run)
    assert second.jobs_skipped == 0 and second.jobs_run == first.jobs_run  # nothing judged by tokens is reused
    assert second.changed_settings == ["checker", "checkers"]
    assert _correct(by_float) == {accepted: True, "zero": False}
    assert set(by_float["checker"]) == {"float_rel:1e-06"}
    assert (by_float["checker_message"] == "").tolist() == by_float["passed"].astype(bool).tolist()

    # the problem's own column naming the same rule is the same checker: its rows are reused
    own, third = run_executions([{**row, "checker": "float_rel:0.000001"}], cands, execution=Execution(time_s=5.0),
                                **run)
    assert third.jobs_run == 0 and third.jobs_skipped == second.jobs_total
    assert _correct(own) == _correct(by_float)
    # --checker tokens gives today's verdicts back, from the rows of the first run
    again, fourth = run_executions([{**row, "checker": "float_rel:1e-6"}], cands,
                                   execution=Execution(time_s=5.0, checker="tokens"), **run)
    assert fourth.jobs_run == 0 and _correct(again) == _correct(by_tokens)


FLOAT_CHECKER = """import sys
out, ans = (open(path).read().split() for path in sys.argv[2:4])
if len(out) != len(ans):
    print(f"expected {len(ans)} numbers, found {len(out)}", file=sys.stderr); sys.exit(1)
for i, (a, b) in enumerate(zip(out, ans), 1):
    try:
        got, want = float(a), float(b)
    except ValueError:
        print(f"number {i} is not one: {a}", file=sys.stderr); sys.exit(2)
    if abs(got - want) > 1e-6 * max(1.0, abs(want)) + 1e-15:
        print(f"number {i}: expected {b}, found {a}", file=sys.stderr); sys.exit(1)
"""


def test_a_program_checker_judges_like_the_rule_it_implements(cut_length, tmp_path):
    """598_F judged by a Python checker program (testlib's protocol) gives float_rel:1e-6's verdicts,
    each row keyed by the program's hash; a run with the built-in is not reused for it."""
    row, cands = cut_length
    run = dict(test_sets=["private"], run_dir=tmp_path, progress=False)
    by_float, _ = run_executions([{**row, "checker": "float_rel:1e-6"}], cands, execution=Execution(time_s=5.0), **run)
    program = {**row, "checker": {"language": "python3", "code": FLOAT_CHECKER}}
    by_program, stats = run_executions([program], cands, execution=Execution(time_s=5.0), **run)
    assert stats.jobs_run > 0 and _correct(by_program) == _correct(by_float)
    assert _correct(by_program) == {cands["candidate_id"][0]: True, "zero": False}
    assert by_program["checker"].str.startswith("program(checker:python3:").all()
    wrong = by_program[~by_program["passed"].astype(bool)]
    assert wrong["checker_message"].str.startswith("wrong answer (checker): ").all()
    assert wrong["checker_message"].str.contains("expected 282842.705403551284689456, found 0").any()
    assert (by_program["status"] != "JUDGE_ERROR").all()


def test_a_failing_checker_program_is_a_judge_error_for_its_runs_only(cut_length, tmp_path):
    row, cands = cut_length
    broken = {**row, "checker": {"language": "cpp", "code": "int main() { return 3; }"}}
    table, _ = run_executions([broken], cands, test_sets=["public"], execution=Execution(time_s=5.0),
                              run_dir=tmp_path, progress=False)
    ran_ok = table[table["candidate_id"] == cands["candidate_id"][0]]
    assert set(ran_ok["status"]) == {"JUDGE_ERROR"} and not ran_ok["passed"].astype(bool).any()
    assert ran_ok["checker_message"].str.startswith("judge error: the checker failed").all()


def test_given_tests_take_the_override(cut_length):
    row, cands = cut_length
    tests = {row["name"]: row["private_tests"]}
    codes = {row["name"]: list(cands["code"])}
    today = acodium.evaluate(codes, tests, k=[1], execution=Execution(time_s=5.0))
    floats = acodium.evaluate(codes, tests, k=[1], execution=Execution(time_s=5.0, checker="float_rel:1e-6"))
    assert today.per_problem["correct"].tolist() == [0] and floats.per_problem["correct"].tolist() == [1]
    assert set(floats.executions["checker"]) == {"float_rel:1e-06"}
