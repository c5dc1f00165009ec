"""acodium.mutate.suite: mutated inputs become tests where references agree, under the problem's limits."""

from __future__ import annotations

import copy

import pytest

from acodium.errors import UserError
from acodium.execute import Execution, ExecutionResult, Program, Status
from acodium.mutate import add_mutated_tests, reference_tests
from acodium.mutate.suite import _agreed, _reference_jobs

SUM = "a, b = map(int, input().split())\nprint(a + b)\n"
SUM_SPACED = "a, b = map(int, input().split())\nprint(a + b, end='  \\n')\n"  # other bytes, same tokens
DIFFERENCE = "a, b = map(int, input().split())\nprint(a - b)\n"
CRASH_ON_SEVEN = "a, b = map(int, input().split())\nassert 7 not in (a, b)\nprint(a + b)\n"
HUNGRY_SUM = "x = bytearray(200_000_000)\n" + SUM  # 200 MB: fine under 256 MiB, not under 64 MiB
CPP_SUM = "#include <cstdio>\nint main(){int a,b;scanf(\"%d %d\",&a,&b);printf(\"%d\\n\",a+b);}\n"
INPUTS = ["1 2", "3 4", "7 9"]


def _result(stdout: str, status: Status = Status.OK) -> ExecutionResult:
    return ExecutionResult(status=status, passed=None, stdout=stdout)


def _problem(name: str, solutions: list[tuple[int, str]], *, inputs=("3 5", "10 20"), time_limit=None,
             memory_limit_bytes=0) -> dict:
    return {
        "name": name,
        "public_tests": {"input": list(inputs), "output": ["" for _ in inputs]},
        "private_tests": {"input": ["2 9"], "output": ["11"]},
        "solutions": {"language": [lang for lang, _ in solutions], "solution": [code for _, code in solutions]},
        "time_limit": time_limit, "memory_limit_bytes": memory_limit_bytes,
    }


# --------------------------------------------------------------------------- agreement


def test_agreement_needs_every_reference_to_run_ok_and_agree():
    inputs = ["a", "b", "c", "d"]
    runs = [
        [_result("3\n"), _result("1.0000001"), _result("5"), _result("9")],
        [_result("3"), _result("1.0"), _result("6"), _result("9", Status.TIMEOUT)],
    ]
    # whitespace and float noise agree (the tester's check); a different number or a timeout does not
    assert _agreed(inputs, runs, 2) == ["3\n", "1.0000001", None, None]
    assert _agreed(inputs, runs, 3) == [None] * 4  # three references asked for, two ran


def test_a_reference_short_of_results_or_no_reference_confirms_nothing():
    runs = [[_result("1"), _result("2")], [_result("1")]]  # the second stopped after one input
    assert _agreed(["x", "y"], runs, 1) == ["1", None]
    assert _agreed(["x"], [], 0) == [None]  # nobody ran it
    assert _agreed(["x"], [[_result("1")]], 1) == ["1"]  # one reference, when one is asked for


# --------------------------------------------------------------------------- limits


def test_reference_runs_take_the_problems_limits_for_their_language():
    problem = _problem("p", [], time_limit={"seconds": 2, "nanos": 500_000_000}, memory_limit_bytes=64 * 2**20)
    refs = [Program("python3", SUM), Program("cpp", CPP_SUM)]
    jobs = _reference_jobs(problem, INPUTS, refs, Execution())
    assert [j.limits.time_s for j in jobs] == [5.0, 2.5]  # python x2, C++ x1
    assert all(j.limits.memory_bytes == 64 * 2**20 and j.inputs == INPUTS for j in jobs)
    forced = _reference_jobs(problem, INPUTS, refs, Execution(time_s=1.5))
    assert [j.limits.time_s for j in forced] == [1.5, 1.5]  # the run's override, no multiplier
    assert forced[0].limits.memory_bytes == 64 * 2**20


def test_reference_tests_apply_the_problems_memory_limit(tmp_path):
    refs = [Program("python3", HUNGRY_SUM), Program("python3", SUM_SPACED)]
    execution = Execution(cache_dir=tmp_path)
    roomy = reference_tests(INPUTS, refs, problem=_problem("roomy", []), execution=execution)
    assert [(i, o.strip()) for i, o in roomy] == [("1 2", "3"), ("3 4", "7"), ("7 9", "16")]
    tight = _problem("tight", [], memory_limit_bytes=64 * 2**20)  # ignored before: every run had Limits()
    assert reference_tests(INPUTS, refs, problem=tight, execution=execution) == []


def test_reference_tests_need_two_agreeing_references_by_default(tmp_path):
    execution = Execution(cache_dir=tmp_path)
    problem = _problem("p", [])
    assert reference_tests(INPUTS, [Program("python3", SUM)], problem=problem, execution=execution) == []
    one = reference_tests(INPUTS, [Program("python3", SUM)], problem=problem, execution=execution, min_agreeing=1)
    assert [o.strip() for _, o in one] == ["3", "7", "16"]
    split = reference_tests(INPUTS, [Program("python3", SUM), Program("python3", CRASH_ON_SEVEN)],
                            problem=problem, execution=execution)
    assert [i for i, _ in split] == ["1 2", "3 4"]  # the crash on 7 confirms nothing there
    disagree = reference_tests(["2 0", "5 1"], [Program("python3", SUM), Program("python3", DIFFERENCE)],
                               problem=problem, execution=execution)
    assert disagree == [("2 0", "2\n")]  # a + b and a - b agree only where b is 0
    assert reference_tests([], [Program("python3", SUM)], problem=problem) == []
    assert reference_tests(INPUTS, [], problem=problem) == []


def test_execution_settings_must_be_an_execution():
    with pytest.raises(UserError, match="execution must be an acodium.execute.Execution, not dict"):
        reference_tests(INPUTS, [Program("python3", SUM)], problem=_problem("p", []), execution={"backend": "local"})
    with pytest.raises(UserError, match="not str"):
        add_mutated_tests([_problem("p", [(3, SUM)])], 2, execution="local")


# --------------------------------------------------------------------------- the mutated suite


def test_mutated_tests_are_deterministic_per_problem_and_leave_the_rows_alone(tmp_path):
    problems = [_problem("alpha", [(3, SUM), (3, SUM_SPACED)]), _problem("beta", [(3, SUM), (3, SUM_SPACED)])]
    before = copy.deepcopy(problems)
    execution = Execution(cache_dir=tmp_path)
    rows = add_mutated_tests(problems, 3, seed=4, execution=execution, progress=False)
    assert problems == before and all("mutated_tests" not in p for p in problems)
    beta_alone = add_mutated_tests(problems[1:], 3, seed=4, execution=execution, progress=False)
    assert beta_alone[0]["mutated_tests"] == rows[1]["mutated_tests"]  # a problem's seed is its own
    assert rows[0]["mutated_tests"]["input"] != rows[1]["mutated_tests"]["input"]
    for row in rows:
        tests = row["mutated_tests"]
        assert 0 < len(tests["input"]) <= 3 and all(tests["output_confirmed"])
        for text, out in zip(tests["input"], tests["output"]):
            a, b = map(int, text.split())
            assert out.strip() == str(a + b)
    again = add_mutated_tests(problems, 3, seed=5, execution=execution, progress=False)
    assert [r["mutated_tests"]["input"] for r in again] != [r["mutated_tests"]["input"] for r in rows]


def test_inputs_come_from_the_sets_asked_for():
    problem = _problem("p", [], inputs=("abcd",))
    problem["private_tests"] = {"input": ["5 9 7"], "output": [""]}
    public = add_mutated_tests([problem], 10, seed=1, progress=False)[0]["mutated_tests"]["input"]
    assert public and all(len(text) == 4 and text.isalpha() for text in public)  # strings like "abcd" only
    both = add_mutated_tests([problem], 10, seed=1, from_sets=("public", "private"),
                             progress=False)[0]["mutated_tests"]["input"]
    assert any(len(text.split()) == 3 for text in both) and any(text.isalpha() for text in both)


def test_inputs_come_from_valid_tests_only_in_any_spelling_of_the_set():
    problem = _problem("p", [], inputs=("abcd", "1 2 3"))
    problem["public_tests"]["is_valid_test"] = [False, True]  # a reference check refuted "abcd"
    mutated = add_mutated_tests([problem], 10, seed=1, progress=False)[0]["mutated_tests"]["input"]
    assert mutated and all(len(text.split()) == 3 for text in mutated)  # never a string like "abcd"
    assert add_mutated_tests([problem], 10, seed=1, from_sets=("Public_tests",),
                             progress=False)[0]["mutated_tests"]["input"] == mutated
    with pytest.raises(UserError, match="Unknown test set 'hidden'"):
        add_mutated_tests([problem], 10, from_sets=("hidden",), progress=False)


def test_references_are_chosen_by_language_and_capped(tmp_path):
    execution = Execution(cache_dir=tmp_path)
    mixed = _problem("mixed", [(2, CPP_SUM), (3, SUM), ("python3", SUM_SPACED), (1, "print 'py2'\n")])
    by_python = add_mutated_tests([mixed], 3, seed=2, execution=execution, progress=False)[0]["mutated_tests"]
    assert by_python["output_confirmed"] and all(by_python["output_confirmed"])  # the two Python 3 agree
    capped = add_mutated_tests([mixed], 3, seed=2, execution=execution, progress=False,
                               max_references=1)[0]["mutated_tests"]
    assert capped["input"] == by_python["input"] and not any(capped["output_confirmed"])
    assert set(capped["output"]) == {""}
    nobody = add_mutated_tests([mixed], 3, seed=2, execution=execution, progress=False,
                               languages=("java",))[0]["mutated_tests"]
    assert nobody["input"] == by_python["input"] and not any(nobody["output_confirmed"])


def test_filtering_with_references_drops_the_inputs_a_reference_fails_on(tmp_path):
    execution = Execution(cache_dir=tmp_path)
    problem = _problem("seven", [(3, CRASH_ON_SEVEN), (3, SUM)], inputs=("7 1", "2 7", "3 4", "5 7"))
    kept = add_mutated_tests([problem], 12, seed=0, execution=execution, progress=False)[0]["mutated_tests"]
    sevens = [i for i, text in enumerate(kept["input"]) if "7" in text.split()]
    assert sevens and all(not kept["output_confirmed"][i] for i in sevens)
    filtered = add_mutated_tests([problem], 12, seed=0, execution=execution, progress=False,
                                 filter_with_references=True)[0]["mutated_tests"]
    assert filtered["input"] == [t for i, t in enumerate(kept["input"]) if i not in sevens]
    assert all(filtered["output_confirmed"])


def test_problems_without_inputs_or_a_count_of_zero_get_an_empty_suite_and_run_nothing():
    bare = {"name": "bare", "solutions": {"language": [3], "solution": [SUM]}}
    rows = add_mutated_tests([bare, _problem("p", [(3, SUM)])], 0, progress=False)
    assert all(r["mutated_tests"] == {"input": [], "output": [], "output_confirmed": []} for r in rows)
    assert add_mutated_tests([], 5, progress=False) == []
    no_refs = add_mutated_tests([{"name": "q", "public_tests": {"input": ["4 6"], "output": ["10"]}}], 3,
                                progress=False)[0]["mutated_tests"]
    assert no_refs["input"] and not any(no_refs["output_confirmed"])  # kept for clustering all the same


def test_the_problems_time_limit_decides_unless_the_run_overrides_it(tmp_path):
    slow = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6:\n    pass\n" + SUM
    problem = _problem("slow", [(3, slow), (3, SUM)], inputs=("3 5",),
                       time_limit={"seconds": 0, "nanos": 100_000_000})  # 0.1 s, x2 for Python: 0.2 s
    execution = Execution(cache_dir=tmp_path)
    strict = add_mutated_tests([problem], 2, seed=0, execution=execution, progress=False)[0]["mutated_tests"]
    relaxed = add_mutated_tests([problem], 2, seed=0, execution=execution.replace(time_s=5.0),
                                progress=False)[0]["mutated_tests"]
    assert strict["input"] == relaxed["input"] and strict["input"]
    assert not any(strict["output_confirmed"]) and all(relaxed["output_confirmed"])
