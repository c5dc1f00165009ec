"""acodium.evaluation.references and reference_categories: the starter problems' own solutions on their tests.

The starter problems each carry two correct and two or three incorrect Python
solutions, so the rules that need two references (agreement, disagreement)
run on real programs here; tests/test_cleaning.py pins them on hand-made ones.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from acodium.data import load_problems, problem_tests
from acodium.evaluation import (
    INVALID,
    NO_REFERENCE,
    NOT_CHECKED,
    PROBLEM_OK,
    SEVERAL_ANSWERS,
    TEST_CATEGORIES,
    UNCONFIRMED,
    VALID,
    check_references,
    possibly_multi_answer,
)
from acodium.evaluation.reference_categories import agreeing_groups, output_rule
from acodium.execute import Execution, parse_checker
from acodium.generate import reference_candidates
from acodium.tables import CANDIDATES

QUICK = Execution(time_s=3.0)


@pytest.fixture(scope="module")
def starter():
    return [dict(row) for row in load_problems("starter")]


@pytest.fixture(scope="module")
def checked(starter, tmp_path_factory):
    run = tmp_path_factory.mktemp("references")
    return run, check_references(starter[:4], max_tests=3, execution=QUICK, run_dir=run, progress=False)


def test_reference_candidates_take_both_kinds_in_the_dataset_order(starter):
    table = reference_candidates(starter[:2], max_solutions=1)
    assert list(table.columns) == CANDIDATES
    assert table["candidate_id"].tolist() == ["correct-0", "incorrect-0"] * 2
    assert [json.loads(m) for m in table["meta"][:2]] == [{"expected": "correct", "solution_index": 0},
                                                          {"expected": "incorrect", "solution_index": 0}]
    everything = reference_candidates(starter[:2])
    sizes = [len(r["solutions"]["solution"]) + len(r["incorrect_solutions"]["solution"]) for r in starter[:2]]
    assert len(everything) == sum(sizes) and set(everything["language"]) == {"python3"}
    assert reference_candidates(starter[:2], languages=("cpp",)).empty  # the starter solutions are Python


def test_the_starter_references_agree_with_their_tests_and_catch_the_wrong_solutions(checked, starter):
    _, report = checked
    s = report.summary
    assert s["problems"] == 4 and s["solutions_run"]["correct"] == 8
    assert set(report.tests["category"]) == {VALID}
    assert s["problem_categories"][PROBLEM_OK] == 4 and s["invalid_problems"] == s["invalid_tests"] == 0
    assert s["correct_passing_all_tests_share"] == 1.0 and s["incorrect_rejected_share"] > 0.5
    assert s["time_limit_s"] == 3.0 and s["backend"] == "local"
    # per test: both references ran it, finished and matched
    assert (report.tests["correct_run"] == 2).all() and (report.tests["agreement"] == 1.0).all()
    solutions = report.solutions.set_index(["problem", "candidate_id"])
    assert solutions.loc[(starter[0]["name"], "correct-0"), "passed_all"]
    assert report.problems["references"].tolist() == [2, 2, 2, 2]
    text = report.report()
    assert text.startswith("4 problems, ") and f"  {VALID:<42} {len(report.tests)}  (in 4 problems)" in text


def test_a_reference_check_resumes_from_its_run_folder(checked, starter):
    run, first = checked
    again = check_references(starter[:4], max_tests=3, execution=QUICK, run_dir=run, progress=False)
    assert again.summary["jobs_run"] == 0 and again.summary["jobs_resumed"] == first.summary["jobs_run"]
    pd.testing.assert_frame_equal(again.tests, first.tests)


def test_two_real_references_agreeing_against_a_stored_output_make_it_invalid(starter):
    row = dict(starter[1])
    private = dict(row["private_tests"])
    private["output"] = ["12345678\n"] + list(private["output"][1:])  # a stored output both references contradict
    row["private_tests"] = private
    report = check_references([row], max_tests=3, test_sets=("private",), execution=QUICK, progress=False)
    t = report.tests.set_index("test_index")
    assert t.loc[0, "category"] == INVALID and t.loc[0, "largest_agreeing_wrong"] == 2
    assert (t.loc[1:, "category"] == VALID).all()
    cleaned = report.dataset[0]
    assert cleaned["private_tests"]["is_valid_test"][:3] == [False, True, True]
    assert cleaned["is_valid_problem"] and cleaned["reference_check"] == PROBLEM_OK  # one bad test of three
    # the cleaned row skips the test from now on (max_tests counts the tests that stay)
    assert [i for i, _, _ in problem_tests(cleaned, "private", 3)] == [1, 2, 3]


def test_earlier_marks_stay_and_unconfirmed_mutated_inputs_are_no_tests(starter):
    row = dict(starter[2])
    public = dict(row["public_tests"], is_valid_test=[False] + [True] * (len(row["public_tests"]["input"]) - 1))
    row["public_tests"] = public
    row["mutated_tests"] = {"input": list(row["public_tests"]["input"]), "output": ["", row["public_tests"]["output"][1]],
                            "output_confirmed": [False, True]}
    report = check_references([row], test_sets=("public", "mutated"), execution=QUICK, progress=False)
    checked = set(map(tuple, report.tests[["test_set", "test_index"]].values))
    assert ("public", 0) not in checked  # marked invalid before: not run
    assert ("mutated", 0) not in checked and ("mutated", 1) in checked  # only the confirmed mutated input is a test
    cleaned = report.dataset[0]
    assert cleaned["public_tests"]["is_valid_test"][0] is False  # the earlier mark is kept
    assert cleaned["mutated_tests"]["is_valid_test"] == [True, True]


def test_a_problem_without_correct_solutions_has_no_reference_and_stays_valid(starter):
    row = dict(starter[3], solutions={"language": [], "solution": []})
    report = check_references([row], max_tests=2, execution=QUICK, progress=False)
    assert set(report.tests["category"]) == {NOT_CHECKED}  # only incorrect solutions ran them
    problem = report.problems.iloc[0]
    assert problem["category"] == NO_REFERENCE and problem["is_valid_problem"] and problem["references"] == 0
    assert report.summary["problems_with_correct_solutions"] == 0
    assert report.summary["correct_passing_all_tests_share"] is None
    assert set(report.problems.columns) >= {f"tests_{c}" for c in ("valid", "not_checked", "several_answers")}


def test_references_that_disagree_on_a_real_problem_need_a_checker(starter):
    # a second reference that answers the first public input otherwise and runs the real solution elsewhere
    row = dict(starter[0])  # Calm Stretch: its solution reads input() only
    real = row["solutions"]["solution"][0]
    assert "buffer" not in real
    other = (f"import io, sys\n_data = sys.stdin.read()\nif _data == {row['public_tests']['input'][0]!r}:\n"
             f"    print('another answer')\n    sys.exit(0)\nsys.stdin = io.StringIO(_data)\n{real}")
    row["solutions"] = {"language": [3, 3], "solution": [real, other]}
    row["incorrect_solutions"] = {"language": [], "solution": []}
    report = check_references([row], max_tests=2, test_sets=("public", "private"), execution=QUICK, progress=False)
    t = report.tests.set_index(["test_set", "test_index"])
    assert t.loc[("public", 0), "category"] == SEVERAL_ANSWERS  # one matches the stored output, one does not
    assert (t.drop(("public", 0))["category"] == VALID).all()
    assert report.problems.iloc[0]["category"] == SEVERAL_ANSWERS
    assert report.dataset[0]["public_tests"]["is_valid_test"][0]  # the test stays: a checker would accept both


def test_multi_answer_statements_on_the_real_sample(train_rows):
    flagged = [r["name"] for r in train_rows if possibly_multi_answer(r)]
    assert 30 <= len(flagged) <= 50  # 40 of 230: each one's sentence allows several answers
    assert possibly_multi_answer({"description": "Output any of them."})
    assert not possibly_multi_answer({"description": "Print anything you like? No: print the sum."})
    assert not possibly_multi_answer({"description": "There is no more than one answer. Print it."})
    assert not possibly_multi_answer({"description": "If there are several answers, print any.",
                                      "possibly_multi_answer": False})  # the row's own flag wins


def test_outputs_agree_by_the_testers_rule_not_by_bytes():
    groups = agreeing_groups({"a": "1 2\n", "b": "1  2", "c": "3", "d": "1\n2\n", "e": "3 "})
    assert groups == [["a", "b", "d"], ["c", "e"]]
    assert agreeing_groups({}) == []


def test_outputs_agree_by_the_problems_built_in_checker():
    """Two references 1.5e-4 apart on a number near 3e5 disagree by tokens (1e-5 absolute) and agree
    by the problem's float_rel:1e-6 (5e-10 relative); a set printed in another order agrees by
    unordered_tokens only. A checker program cannot compare two outputs: tokens there."""
    floats = {"a": "282842.7052553788", "b": "282842.705403551", "c": "282843"}
    assert agreeing_groups(floats) == [["a"], ["b"], ["c"]]
    assert agreeing_groups(floats, parse_checker("float_rel:1e-6")) == [["a", "b"], ["c"]]
    sets = {"a": "1 2 3", "b": "3 1 2", "c": "1 2 4"}
    assert agreeing_groups(sets, parse_checker("unordered_tokens")) == [["a", "b"], ["c"]]
    row = {"name": "P", "checker": "float_rel:1e-6"}
    assert output_rule(row, Execution()).spec == "float_rel:1e-06"
    assert output_rule(row, Execution(checker="tokens")).spec == "tokens"  # the run's --checker first
    program = {"name": "P", "checker": {"language": "python3", "code": "import sys; sys.exit(0)"}}
    assert output_rule(program, Execution()).spec == "tokens"


def test_every_category_is_counted_in_the_summary(checked):
    _, report = checked
    assert list(report.summary["test_categories"]) == list(TEST_CATEGORIES)
    assert sum(report.summary["test_categories"].values()) == report.summary["tests_run"]
    assert UNCONFIRMED in report.summary["test_category_problems"]
