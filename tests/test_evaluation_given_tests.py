"""acodium.evaluate (acodium.evaluation.given_tests): pass@k of programs on given tests, any shape they come in."""

from __future__ import annotations

import pytest

import acodium
from acodium.errors import UserError
from acodium.evaluation import EvaluationResult, evaluate
from acodium.execute import Execution
from acodium.tables import EXECUTIONS

QUICK = Execution(time_s=3.0)
SPIN = "while True:\n    pass\n"


@pytest.fixture(scope="module")
def two(train_rows):
    """Two real problems: each one's human solution and a wrong program, and their public tests
    (not 1003_E: its solution prints another of the valid trees)."""
    a, b = train_rows[0], train_rows[2]
    codes = {r["name"]: [r["solutions"]["solution"][0], "print(0)"] for r in (a, b)}
    tests = {r["name"]: {"input": r["public_tests"]["input"], "output": r["public_tests"]["output"]} for r in (a, b)}
    return codes, tests


@pytest.fixture(scope="module")
def scored(two):
    codes, tests = two
    return evaluate(codes, tests, k=[1, 2], execution=QUICK, progress=False)


def test_the_package_function_is_acodium_evaluate_and_a_plain_function(scored):
    assert acodium.evaluate is evaluate and callable(acodium.evaluate)
    assert isinstance(scored, EvaluationResult)
    assert scored.pass_at_k == {"pass@1": pytest.approx(0.5), "pass@2": pytest.approx(1.0)}
    assert repr(scored) == "EvaluationResult(2 problems: pass@1=0.5000, pass@2=1.0000)"
    assert list(scored.executions.columns) == EXECUTIONS
    assert set(scored.executions["test_set"]) == {"given"}
    assert scored.per_problem["correct"].tolist() == [1, 1] and scored.notes == []


def test_tests_as_pairs_and_alphacodium_shapes_give_the_same_numbers(two, scored):
    codes, tests = two
    pairs = {name: list(zip(t["input"], t["output"])) for name, t in tests.items()}
    assert evaluate(codes, pairs, k=[1, 2], execution=QUICK, progress=False).pass_at_k == scored.pass_at_k
    predictions = [{"task_name": name, "solution_candidates": c} for name, c in codes.items()]
    references = [{"tests_inputs": t["input"], "tests_outputs": t["output"]} for t in tests.values()]
    shaped = evaluate(predictions, references, k=2, execution=QUICK, progress=False)
    assert shaped.pass_at_k == {"pass@2": pytest.approx(1.0)}  # a single k is a list of one
    assert shaped.tests == scored.tests


def test_the_time_limit_of_the_execution_applies_to_every_test(two):
    codes, tests = two
    name = next(iter(codes))
    spun = evaluate({name: [SPIN]}, {name: tests[name]}, k=[1], execution=Execution(time_s=0.3), progress=False)
    assert set(spun.executions["status"]) == {"TIMEOUT"} and spun.pass_at_k == {"pass@1": 0.0}
    assert (spun.executions["time_s"] < 5).all()


def test_stopping_at_the_first_failure_runs_fewer_tests_for_the_same_numbers(two, scored):
    codes, tests = two
    stopped = evaluate(codes, tests, k=[1, 2], execution=QUICK, stop_on_first_failure=True, progress=False)
    assert stopped.pass_at_k == scored.pass_at_k
    assert len(stopped.executions) < len(scored.executions)
    for name in codes:
        runs = dict(stopped.results[name])
        assert len(runs[1]) == 1 and not runs[1][0].passed  # "print(0)" stops at its first test


def test_results_keep_the_candidates_order_with_unrun_ones_in_place(two):
    codes, tests = two
    name = next(iter(codes))
    result = evaluate({name: ["print(0)", "", codes[name][0]]}, tests, k=[1, 3], execution=QUICK, progress=False)
    assert [i for i, _ in result.results[name]] == [0, 1, 2]
    assert result.results[name][1] == (1, [])
    assert result.pass_at_k == {"pass@1": pytest.approx(1 / 3), "pass@3": pytest.approx(1.0)}
    assert result.notes == [f"1 candidate has no code (e.g. candidate 1 of {name!r}): "
                            "judged incorrect without running."]


BAD = [
    ("print(1)", None, r"^candidates must map problem names to solution_candidates"),
    (None, None, r"^candidates must map problem names to solution_candidates"),
    ([{"name": "a"}], None, r"or be alphaCodium's list of dicts with task_name\.$"),
    ({"p": "print(1)"}, None, r"^The candidates of 'p' must be a list of programs, not a str\.$"),
    ({"p": 7}, None, r"^The candidates of 'p' must be a list of programs, not a int\.$"),
    ({}, {}, r"^There are no problems to evaluate\.$"),
    ({"p": ["print(1)"]}, {"q": {"input": ["1"], "output": ["1"]}}, r"^There are no tests for the problem 'p'\.$"),
    ({"p": ["print(1)"]}, {"p": {"input": ["1", "2"], "output": ["1"]}},
     r"^The tests of 'p' need as many inputs as outputs\.$"),
    ({"p": ["print(1)"]}, {"p": [("1", "1", "extra")]}, r"^The tests of 'p' must be \(input, output\) pairs"),
    ({"p": ["print(1)"]}, {"p": 3}, r"^The tests of 'p' must be \(input, output\) pairs"),
    ({"p": ["print(1)"]}, {"p": {"input": [], "output": []}}, r"^The problem 'p' has no tests\.$"),
    ([{"task_name": "p", "solution_candidates": ["print(1)"]}], [], r"^There are candidates for 1 problem but tests for 0\."),
]


@pytest.mark.parametrize("candidates, tests, message", BAD)
def test_bad_inputs_are_one_sentence(candidates, tests, message):
    with pytest.raises(UserError, match=message) as caught:
        evaluate(candidates, tests if tests is not None else {}, k=[1], execution=QUICK, progress=False)
    assert "\n" not in str(caught.value)


def test_settings_and_languages_that_cannot_run_are_refused():
    with pytest.raises(UserError, match=r"^execution must be an acodium.execute.Execution, not float\.$"):
        evaluate({"p": ["print(1)"]}, {"p": [("", "1")]}, execution=3.0, progress=False)
    with pytest.raises(UserError, match=r"Cannot run 'cobol' programs"):
        evaluate({"p": ["class A {}"]}, {"p": [("", "1")]}, language="cobol", execution=QUICK, progress=False)
    # a problem without candidates needs no tests, and no program is run at all
    empty = evaluate({"p": []}, {}, k=[1], execution=QUICK, progress=False)
    assert empty.pass_at_k == {"pass@1": 0.0} and empty.executions.empty and empty.tests == {"p": 0}


# ---- the keywords of earlier versions ------------------------------------------------------------


def test_the_old_keywords_still_run_with_a_warning_naming_execution(two, scored, tmp_path):
    codes, tests = two
    with pytest.warns(DeprecationWarning, match=r"time_limit_s, cache_dir keyword\(s\) are deprecated: pass "
                                                r"execution=acodium\.execute\.Execution\(\.\.\.\)") as caught:
        old = acodium.evaluate(codes, tests, k=[1, 2], time_limit_s=3.0, cache_dir=tmp_path / "cache",
                               progress=False)
    assert caught[0].filename == __file__  # the warning points at the caller's line
    assert old.pass_at_k == scored.pass_at_k and old.per_problem.equals(scored.per_problem)
    assert any((tmp_path / "cache").iterdir())  # cache_dir became the execution's cache
    # the old time limit is the execution's time_s: a spinning program times out at it
    name = next(iter(codes))
    with pytest.warns(DeprecationWarning, match="time_limit_s, backend, workers keyword"):
        spun = evaluate({name: [SPIN]}, {name: tests[name]}, k=[1], time_limit_s=0.3, backend="local", workers=1,
                        progress=False)
    assert set(spun.executions["status"]) == {"TIMEOUT"} and (spun.executions["time_s"] < 5).all()


def test_the_new_spelling_warns_nothing(two, recwarn):
    codes, tests = two
    evaluate(codes, tests, k=[1], execution=QUICK, progress=False)
    assert not [w for w in recwarn if issubclass(w.category, DeprecationWarning)]


def test_old_keywords_beside_execution_are_refused_in_one_sentence(two):
    codes, tests = two
    with pytest.raises(UserError, match=r"^Give either execution= or time_limit_s, workers, not both\.$"):
        evaluate(codes, tests, execution=QUICK, time_limit_s=2.0, workers=2, progress=False)
    with pytest.raises(UserError, match=r"^Unknown execution backend 'docker'"):  # checked as Execution checks it
        evaluate(codes, tests, backend="docker", progress=False)
