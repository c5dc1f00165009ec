"""acodium.evaluation.reference_categories: the evidence rules, on real statements and on the runs
they judge.

The rules are driven here directly on executions tables written by hand (the shape
`check_references` hands them), so each rule is seen deciding alone; the same rules on real
programs are in test_evaluation_references.py and test_cleaning.py.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from acodium.evaluation.reference_categories import (
    INVALID,
    NO_REFERENCE,
    NOT_CHECKED,
    PROBLEM_OK,
    SEVERAL_ANSWERS,
    SLOW_OR_BROKEN,
    UNCONFIRMED,
    VALID,
    judge_problems,
    judge_tests,
    possibly_multi_answer,
)

# --------------------------------------------------------------------------- statements


@pytest.fixture(scope="module")
def statements(train_rows):
    return {r["name"]: r for r in train_rows}


@pytest.mark.parametrize("name", [
    "1016_D. Vasya And The Matrix",  # "If there are several suitable matrices, it is allowed to print any of them"
    "1133_F1. Spanning Tree with Maximum Degree",  # "If there are multiple possible answers, print any of them"
])
def test_statements_that_allow_several_answers(statements, name):
    assert possibly_multi_answer(statements[name])


@pytest.mark.parametrize("name", [
    "1054_D. Changing Array",  # "several (possibly 0) operations" and "any operations", one integer out
    "1111_D. Destroy the Colony",  # "several holes", "any two holes": one count out
    "1012_B. Chemical table",  # "There are several possible solutions" (of the example), one integer out
])
def test_several_and_any_in_other_sentences_are_not_several_answers(statements, name):
    text = statements[name]["description"]
    assert ("several" in text or "multiple" in text) and " any " in text
    assert not possibly_multi_answer(statements[name])


def test_the_rows_own_flag_wins_over_its_statement(statements):
    multi = statements["1016_D. Vasya And The Matrix"]
    single = statements["1054_D. Changing Array"]
    assert not possibly_multi_answer(dict(multi, possibly_multi_answer=False))
    assert possibly_multi_answer(dict(single, possibly_multi_answer=True))
    assert possibly_multi_answer(dict(multi, possibly_multi_answer=None))  # null: not set, the statement decides
    assert not possibly_multi_answer({"name": "no statement"})


# --------------------------------------------------------------------------- the rules


def run(problem, test, ref, *, passed, ok=True, output_hash="h-right"):
    """One execution row as check_references hands it to the rules."""
    return {"problem": problem, "test_set": "private", "test_index": test, "candidate_id": ref,
            "kind": ref.split("-")[0], "ok": ok, "passed": passed, "status": "OK" if ok else "TIME_LIMIT_EXCEEDED",
            "output_hash": output_hash}


def judged(rows, multi=None, min_test_agreement=0.5) -> dict:
    ex = pd.DataFrame(rows)
    multi = multi or {p: False for p in ex["problem"]}
    tests = judge_tests(ex, {p: {"name": p} for p in multi}, pd.DataFrame(), multi, min_test_agreement, None)
    return {(r.problem, r.test_index): r.category for r in tests.itertuples()}


def test_each_rule_of_a_test():
    refs = ("correct-0", "correct-1", "correct-2")
    rows = []
    rows += [run("P", 0, r, passed=True) for r in refs]  # everyone agrees with the stored output
    # Two references agree on another output against one: the stored output is refuted.
    rows += [run("P", 1, r, passed=False, output_hash="h-other") for r in refs[:2]]
    rows += [run("P", 1, refs[2], passed=True)]
    # One reference answers otherwise while the others pass: the answers differ, a checker is needed.
    rows += [run("P", 2, refs[0], passed=False, output_hash="h-other")]
    rows += [run("P", 2, r, passed=True) for r in refs[1:]]
    rows += [run("P", 3, r, passed=False, ok=False) for r in refs]  # no reference finished
    rows += [run("P", 4, "incorrect-0", passed=False, output_hash="h-other")]  # only an incorrect one ran
    categories = judged(rows)
    assert categories == {("P", 0): VALID, ("P", 1): INVALID, ("P", 2): SEVERAL_ANSWERS,
                          ("P", 3): SLOW_OR_BROKEN, ("P", 4): NOT_CHECKED}


def test_a_lone_reference_is_evidence_only_where_several_answers_are_allowed():
    rows = [run("Q", t, "correct-0", passed=True) for t in range(3)]
    rows += [run("Q", 3, "correct-0", passed=False, output_hash="h-other")]
    assert judged(rows, {"Q": False})[("Q", 3)] == UNCONFIRMED  # a lone disagreement is a question
    assert judged(rows, {"Q": True})[("Q", 3)] == INVALID  # it passes everything else: its answer is one more
    # A reference that fails elsewhere too proves nothing, several answers or not.
    broken = rows + [run("Q", 4, "correct-0", passed=False, output_hash="h-x")]
    assert judged(broken, {"Q": True})[("Q", 3)] == UNCONFIRMED


def test_agreeing_references_refute_only_below_the_agreement_threshold():
    refs = [f"correct-{i}" for i in range(5)]
    rows = [run("R", 0, r, passed=False, output_hash="h-other") for r in refs[:2]]
    rows += [run("R", 0, r, passed=True) for r in refs[2:]]  # 3 of 5 pass: agreement 0.6
    rows += [run("R", 1, r, passed=True) for r in refs]
    assert judged(rows)[("R", 0)] == SEVERAL_ANSWERS
    assert judged(rows, min_test_agreement=0.7)[("R", 0)] == INVALID


def solutions(problem, kinds_ok_passed):
    """The per-solution rows judge_problems reads: (kind, every run OK, passed every confirmed test)."""
    return [{"problem": problem, "candidate_id": f"{kind}-{i}", "kind": kind, "all_ok": ok,
             "passed_all_confirmed": passed, "statuses": json.dumps({"OK": 3} if ok else {"OK": 2, "TIMEOUT": 1})}
            for i, (kind, ok, passed) in enumerate(kinds_ok_passed)]


def test_each_rule_of_a_problem():
    tests = pd.DataFrame(
        [{"problem": "ok", "category": VALID}] * 4
        + [{"problem": "refuted", "category": INVALID}] * 3 + [{"problem": "refuted", "category": VALID}]
        + [{"problem": "checker", "category": SEVERAL_ANSWERS}] + [{"problem": "checker", "category": VALID}] * 3
        + [{"problem": "slow", "category": VALID}] * 2 + [{"problem": "slow", "category": SLOW_OR_BROKEN}]
        + [{"problem": "alone", "category": NOT_CHECKED}]
    )
    sol = pd.DataFrame(
        solutions("ok", [("correct", True, True), ("correct", True, True), ("incorrect", True, False)])
        + solutions("refuted", [("correct", True, True), ("correct", True, True)])
        + solutions("checker", [("correct", True, True), ("correct", True, False)])
        + solutions("slow", [("correct", False, True), ("correct", True, True)])
        + solutions("alone", [("incorrect", True, False)])
    )
    names = ["ok", "refuted", "checker", "slow", "alone"]
    table = judge_problems({n: {"name": n} for n in names}, tests, sol, {n: False for n in names},
                           min_correct_share=0.2, max_invalid_test_share=0.5).set_index("problem")
    assert table["category"].to_dict() == {"ok": PROBLEM_OK, "refuted": INVALID, "checker": SEVERAL_ANSWERS,
                                           "slow": SLOW_OR_BROKEN, "alone": NO_REFERENCE}
    assert table["is_valid_problem"].to_dict() == {"ok": True, "refuted": False, "checker": True, "slow": True,
                                                   "alone": True}
    assert (table.loc["refuted", "tests_invalid"], table.loc["refuted", "tests_valid"]) == (3, 1)
    assert table.loc["slow", "reference_slow_or_broken"] and table.loc["slow", "references_complete"] == 1
    # Too few complete references pass every confirmed test: the problem is invalid.
    few = pd.DataFrame(solutions("ok", [("correct", True, False), ("correct", True, False), ("correct", True, True)]))
    strict = judge_problems({"ok": {}}, tests, few, {"ok": False}, min_correct_share=0.5, max_invalid_test_share=0.5)
    assert strict.loc[0, "category"] == INVALID and not strict.loc[0, "is_valid_problem"]
