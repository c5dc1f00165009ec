"""Cleaning that needs evidence (issue 14, point 3), mutated tests confirmed by two references (point 4).

Small hand-made problems pin the evidence rules of `check_references`: two
references agreeing against the stored output, one reference alone, a slow
or crashing reference, a problem that accepts several answers. The same
rules then run on the real sample.
"""

from __future__ import annotations

import random

import pandas as pd
import pytest

from acodium.evaluation import (
    INVALID,
    SEVERAL_ANSWERS,
    SLOW_OR_BROKEN,
    UNCONFIRMED,
    VALID,
    check_references,
    load_candidate_set,
    possibly_multi_answer,
    test_suite_strength,
    unconfirmed_mutated,
)
from acodium.execute import Execution
from acodium.mutate import add_mutated_tests, mutate_inputs, structure_break

SUM = "a, b = map(int, input().split())\nprint(a + b)\n"
SUM_SPACED = "a, b = map(int, input().split())\nprint(a + b, end=' \\n')\n"  # same tokens, other bytes
SUM_SLOW_ON_7 = "a, b = map(int, input().split())\nwhile a == 7:\n    pass\nprint(a + b)\n"
SUM_CRASH_ON_7 = "a, b = map(int, input().split())\nassert a != 7\nprint(a + b)\n"
FIRST = "input()\nprint(input().split()[0])\n"
LAST = "input()\nprint(input().split()[-1])\n"


def _problem(name, tests, solutions, description="Print the sum of a and b."):
    inputs, outputs = zip(*tests)
    return {
        "name": name, "description": description,
        "public_tests": {"input": list(inputs[:1]), "output": list(outputs[:1])},
        "private_tests": {"input": list(inputs[1:]), "output": list(outputs[1:])},
        "generated_tests": {"input": [], "output": []},
        "solutions": {"language": [3] * len(solutions), "solution": list(solutions)},
        "incorrect_solutions": {"language": [], "solution": []},
        "time_limit": None, "memory_limit_bytes": 0,
    }


SUMS = [("1 2", "3"), ("2 2", "4"), ("7 1", "8"), ("5 5", "10")]


def _with(tests, index, output):
    tests = list(tests)
    tests[index] = (tests[index][0], output)
    return tests


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory):
    problems = [
        _problem("two_agree", _with(SUMS, 1, "5"), [SUM, SUM_SPACED]),
        _problem("one_alone", _with(SUMS, 1, "5"), [SUM]),
        _problem("slow", SUMS, [SUM_SLOW_ON_7]),
        _problem("crash", SUMS, [SUM_CRASH_ON_7]),
        _problem("multi_flagged", _with(SUMS, 1, "5"), [SUM],
                 description="Print any number that works. If there are multiple answers, print any of them."),
        _problem("several", [("1\n5", "5"), ("2\n3 4", "3"), ("3\n1 2 1", "1")], [FIRST, LAST]),
    ]
    cache = tmp_path_factory.mktemp("cache")
    return check_references(problems, execution=Execution(time_s=1.0, cache_dir=cache), progress=False)


def _category(report, problem, test_set, index):
    t = report.tests
    row = t[(t.problem == problem) & (t.test_set == test_set) & (t.test_index == index)]
    assert len(row) == 1
    return row.iloc[0]["category"]


def _problem_row(report, name):
    return report.problems.set_index("problem").loc[name]


def test_two_references_agreeing_against_the_stored_output_make_a_test_invalid(hand_made):
    # the two references print "4 " and "4": other bytes, same tokens, so they agree
    assert _category(hand_made, "two_agree", "private", 0) == INVALID
    assert _category(hand_made, "two_agree", "private", 1) == VALID
    row = next(r for r in hand_made.dataset if r["name"] == "two_agree")
    assert row["private_tests"]["is_valid_test"] == [False, True, True]
    assert row["is_valid_problem"] is True


def test_a_single_reference_that_disagrees_only_raises_a_question(hand_made):
    assert _category(hand_made, "one_alone", "private", 0) == UNCONFIRMED
    row = next(r for r in hand_made.dataset if r["name"] == "one_alone")
    assert all(row["private_tests"]["is_valid_test"])  # the test stays
    assert row["is_valid_problem"] is True
    assert _problem_row(hand_made, "one_alone")["category"] == UNCONFIRMED


@pytest.mark.parametrize("name", ["slow", "crash"])
def test_a_slow_or_crashing_reference_says_nothing_about_the_tests(hand_made, name):
    assert _category(hand_made, name, "private", 1) == SLOW_OR_BROKEN  # input "7 1"
    problem = _problem_row(hand_made, name)
    assert problem["category"] == SLOW_OR_BROKEN and problem["reference_slow_or_broken"]
    row = next(r for r in hand_made.dataset if r["name"] == name)
    assert row["is_valid_problem"] is True and all(row["private_tests"]["is_valid_test"])


def test_the_only_reference_on_a_multi_answer_problem_is_evidence(hand_made):
    assert possibly_multi_answer({"description": "If there are multiple answers, print any of them."})
    assert not possibly_multi_answer({"description": "Print the sum of a and b."})
    assert possibly_multi_answer({"description": "Print the sum.", "possibly_multi_answer": True})
    # passes every other test, disagrees on one, the statement allows several answers
    assert _category(hand_made, "multi_flagged", "private", 0) == INVALID


def test_references_that_disagree_with_each_other_need_a_checker(hand_made):
    assert _category(hand_made, "several", "public", 0) == VALID  # one element: both print it
    assert _category(hand_made, "several", "private", 0) == SEVERAL_ANSWERS
    problem = _problem_row(hand_made, "several")
    assert problem["category"] == SEVERAL_ANSWERS
    row = next(r for r in hand_made.dataset if r["name"] == "several")
    assert all(row["private_tests"]["is_valid_test"])  # not the references' fault, nor the test's
    assert "several valid answers (needs a checker)" in hand_made.report()


def test_valid_only_keeps_problems_whose_reference_is_slow(hand_made, tmp_path):
    hand_made.dataset.save_to_disk(str(tmp_path / "dataset"))
    problems, _, _ = load_candidate_set(tmp_path / "dataset", valid_only=True)
    assert {"slow", "crash", "one_alone"} <= {p["name"] for p in problems}


# --------------------------------------------------------------------------- mutated tests


def test_mutated_inputs_without_two_agreeing_references_serve_clustering_only(tmp_path):
    two = _problem("two", SUMS, [SUM, SUM_SPACED])
    one = _problem("one", SUMS, [SUM])
    rows = add_mutated_tests([two, one], 4, seed=3, from_sets=("public", "private"),
                             execution=Execution(cache_dir=tmp_path),
                             progress=False)
    by_name = {r["name"]: r["mutated_tests"] for r in rows}
    for name, tests in by_name.items():
        assert len(tests["input"]) == len(tests["output"]) == len(tests["output_confirmed"]) > 0
    assert all(by_name["two"]["output_confirmed"])
    assert not any(by_name["one"]["output_confirmed"]) and set(by_name["one"]["output"]) == {""}
    assert unconfirmed_mutated(rows) == {("one", "mutated", i) for i in range(len(by_name["one"]["input"]))}
    # the old behaviour, as an explicit option: inputs the references fail on are dropped
    kept = add_mutated_tests([one], 4, seed=3, from_sets=("public", "private"),
                             execution=Execution(cache_dir=tmp_path),
                             progress=False, filter_with_references=True)
    assert kept[0]["mutated_tests"]["input"] == by_name["one"]["input"]  # the sum never fails


def test_suite_strength_only_over_problems_with_confirmed_extra_tests():
    def run(problem, cid, test_set, index, passed):
        return {"problem": problem, "candidate_id": cid, "program_hash": "h", "test_set": test_set,
                "test_index": index, "status": "OK", "passed": passed, "output_hash": "o", "time_s": 0.1}

    rows = []
    for p in ("confirmed", "unconfirmed"):
        # a mutant passes public and private; the mutated test "rejects" it
        rows += [run(p, "m", "public", 0, True), run(p, "m", "private", 0, True), run(p, "m", "mutated", 0, False)]
    ex = pd.DataFrame(rows)
    problems = [
        {"name": "confirmed", "mutated_tests": {"input": ["1"], "output": ["2"], "output_confirmed": [True]}},
        {"name": "unconfirmed", "mutated_tests": {"input": ["1"], "output": [""], "output_confirmed": [False]}},
    ]
    strength = test_suite_strength(ex, problems)
    extra = strength["private_vs_all_hidden"]
    assert extra["problems"] == 1 and extra["false_positive_share"] == 1.0
    assert extra["problems_left_out"] == 1
    unchecked = test_suite_strength(ex)  # without the problems nothing says which outputs were confirmed
    assert unchecked["private_vs_all_hidden"]["problems"] == 2


# --------------------------------------------------------------------------- the real sample


def test_mutation_keeps_counts_and_types_on_the_real_public_tests(train_rows):
    total = broken = 0
    for row in train_rows:
        inputs = row["public_tests"]["input"]
        for base in inputs:
            for mutated in mutate_inputs([base], 3, seed=1, context=inputs):
                total += 1
                broken += structure_break(base, mutated) is not None
    assert total > 800
    assert broken / total < 0.02


def test_counts_on_a_line_start_are_kept_or_the_input_is_broken():
    # `4 3 9 2 7`: 4 counts the rest of its line (issue 14's example)
    assert structure_break("1\n4 3 9 2 7\n", "1\n9 2 9 2 7\n") == "count edited"
    assert structure_break("1\n4 3 9 2 7\n", "1\n4 3 9 2 3\n") is None
    rng = random.Random(0)
    from acodium.mutate import mutate_input

    for _ in range(200):
        out = mutate_input("1\n4 3 9 2 7\n", rng)
        assert out.split("\n")[1].split()[0] == "4"
        assert all(2 <= int(v) <= 9 for v in out.split("\n")[1].split()[1:])


def test_check_references_on_the_real_sample_never_calls_a_lone_disagreement_invalid(train_rows, tmp_path):
    few = train_rows[:8]
    report = check_references(few, max_tests=4, execution=Execution(time_s=3.0, cache_dir=tmp_path),
                              progress=False)
    t = report.tests
    # one reference per problem here: nothing is invalid unless the statement allows several answers
    multi = {r["name"] for r in few if possibly_multi_answer(r)}
    assert set(t[t.category == INVALID]["problem"]) <= multi
    lone = t[(t.correct_ok == 1) & (t.correct_passed == 0)]
    assert set(lone["category"]) <= {UNCONFIRMED, INVALID}
    assert (t[t.correct_ok == 0]["category"] == SLOW_OR_BROKEN).all()
    assert sum(report.summary["problem_categories"].values()) == len(few)


def test_one_reference_confirms_no_mutated_output_on_the_real_sample(train_rows, tmp_path):
    rows = add_mutated_tests(train_rows[:4], 5, seed=2, execution=Execution(time_s=3.0, cache_dir=tmp_path),
                             progress=False)
    for before, after in zip(train_rows[:4], rows):
        tests = after["mutated_tests"]
        assert len(tests["input"]) == len(tests["output"]) == len(tests["output_confirmed"]) > 0
        assert not any(tests["output_confirmed"]) and set(tests["output"]) == {""}
        inputs = before["public_tests"]["input"]
        # every mutated input parses as its originals do (it was made from one of them)
        assert all(any(structure_break(o, m) is None for o in inputs) for m in tests["input"])


def test_a_reference_that_crashes_on_real_tests_leaves_its_problem_valid(train_rows, tmp_path):
    # 1133_F1's stored solution reads another input format: it crashes on every test
    row = next(r for r in train_rows if r["name"].startswith("1133_F1."))
    report = check_references([row], max_tests=3, execution=Execution(time_s=3.0, cache_dir=tmp_path),
                              progress=False)
    problem = report.problems.iloc[0]
    assert problem["reference_slow_or_broken"] and problem["is_valid_problem"]
    assert problem["category"] == SLOW_OR_BROKEN
    assert set(report.tests["category"]) == {SLOW_OR_BROKEN}
    assert report.summary["invalid_problems"] == 0
