"""Evaluation under checkers: each problem's own checker, the run's --checker override, executions rows that
name their checker, and a run folder that never reuses rows judged by another checker."""

from __future__ import annotations

import pandas as pd
import pytest

import acodium
from acodium.errors import UserError
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


def test_a_program_checker_is_refused_before_anything_runs(cut_length, tmp_path):
    row, cands = cut_length
    program = {**row, "checker": {"language": "cpp", "code": "int main() { return 0; }"}}
    with pytest.raises(UserError, match="program checkers are not supported yet"):
        run_executions([program], cands, test_sets=["private"], run_dir=tmp_path, progress=False)
    assert not any(tmp_path.iterdir()) or not (tmp_path / "executions.jsonl").exists()


def test_given_tests_take_the_override(cut_length):
    row, cands = cut_length
    tests = {row["name"]: row["private_tests"]}
    codes = {row["name"]: list(cands["code"])}
    today = acodium.evaluate(codes, tests, k=[1], execution=Execution(time_s=5.0))
    floats = acodium.evaluate(codes, tests, k=[1], execution=Execution(time_s=5.0, checker="float_rel:1e-6"))
    assert today.per_problem["correct"].tolist() == [0] and floats.per_problem["correct"].tolist() == [1]
    assert set(floats.executions["checker"]) == {"float_rel:1e-06"}
