"""acodium.evaluation.suite_strength: how many wrong programs a suite lets through, on real runs too."""

from __future__ import annotations

import pandas as pd
import pytest

from acodium.evaluation import (
    run_executions,
    suite_false_positives,
    test_suite_strength,
    unconfirmed_mutated,
    verdicts,
)
from acodium.evaluation.suite_strength import without
from acodium.execute import Execution
from acodium.generate import mutant_candidates, reference_candidates
from acodium.tables import EXECUTIONS


def _run(problem, cid, test_set, index, passed):
    return {"problem": problem, "candidate_id": cid, "program_hash": "h", "test_set": test_set, "test_index": index,
            "status": "OK", "passed": passed, "output_hash": "o", "time_s": 0.1,
            "checker": "tokens", "checker_message": ""}


def test_unconfirmed_mutated_inputs_are_named_and_unmarked_ones_taken_as_tests(train_rows):
    a, b, c = (dict(r) for r in train_rows[:3])
    a["mutated_tests"] = {"input": ["1", "2", "3"], "output": ["x", "", "z"], "output_confirmed": [True, False, True]}
    b["mutated_tests"] = {"input": ["1"], "output": ["y"]}  # written before confirmation existed
    assert unconfirmed_mutated([a, b, c]) == {(a["name"], "mutated", 1)}
    assert unconfirmed_mutated(train_rows[:3]) == set()


def test_without_drops_exactly_the_named_tests():
    ex = pd.DataFrame([_run("p", "a", "mutated", 0, True), _run("p", "a", "mutated", 1, False),
                       _run("q", "a", "mutated", 1, False), _run("p", "a", "private", 1, True)])[EXECUTIONS]
    kept = without(ex, {("p", "mutated", 1)})
    assert kept[["problem", "test_set", "test_index"]].values.tolist() == \
        [["p", "mutated", 0], ["q", "mutated", 1], ["p", "private", 1]]
    assert without(ex, set()) is ex and without(ex.iloc[:0], {("p", "mutated", 1)}).empty
    floats = ex.assign(test_index=ex["test_index"].astype(float))  # as a table read back with nulls may hold them
    assert len(without(floats, {("p", "mutated", 1)})) == 3


def test_nobody_passing_the_weak_suite_gives_no_share():
    ex = pd.DataFrame([_run("p", "a", "public", 0, False), _run("p", "a", "private", 0, False),
                       _run("q", "a", "public", 0, True)])  # q/a has no strong test: left out
    out = suite_false_positives(ex, ["public"], ["private"])
    assert out["candidates"] == 1 and out["problems"] == 1 and out["passing_weak"] == 0
    assert out["false_positive_share"] is None and out["false_positive_share_per_problem_mean"] is None
    empty = suite_false_positives(ex.iloc[:0], ["public"], ["private"])
    assert empty["candidates"] == 0 and empty["problems"] == 0


@pytest.fixture(scope="module")
def real_runs(train_rows):
    rows = train_rows[:8]
    pool = pd.concat([reference_candidates(rows), mutant_candidates(rows, 4, seed=3)], ignore_index=True)
    executions, _ = run_executions(rows, pool, test_sets=("public", "private"), execution=Execution(time_s=2.0),
                                   max_tests=10, stop_on_first_failure=True, progress=False)
    return rows, pool, executions


def test_public_tests_against_hidden_ones_on_real_mutants(real_runs):
    rows, pool, executions = real_runs
    strength = test_suite_strength(executions, rows)
    public = strength["public_vs_hidden"]
    passes_public = verdicts(executions, ["public"])
    passes_private = verdicts(executions, ["private"])
    through = [c for c, ok in passes_public.items() if ok]
    assert public["passing_weak"] == len(through) >= len(rows)  # at least every human solution
    assert public["rejected_by_strong"] == sum(not passes_private[c] for c in through) >= 1  # a mutant got through
    assert public["false_positive_share"] == pytest.approx(public["rejected_by_strong"] / len(through))
    assert public["candidates"] == len(pool)
    # no problem here carries a confirmed mutated test: the second figure is over no problem, and says why
    private = strength["private_vs_all_hidden"]
    assert private["problems"] == 0 and private["problems_left_out"] == len(rows)
    assert "two agreeing references" in private["left_out_because"]
    assert test_suite_strength(executions)["private_vs_all_hidden"]["rejected_by_strong"] == 0
