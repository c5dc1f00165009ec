"""The starter problems: well-formed, and their solutions verified by running them.

Every correct solution must pass every test; every incorrect one must pass the
examples (the public tests) and fail at least one private test (wrong answer,
crash, or over the time limit), judged as the pipeline judges: `acodium.execute`
with `limits_for_problem` (the problem's time limit, times 2 for Python).
"""

from __future__ import annotations

import re

import pytest

from acodium import data
from acodium.execute import Job, Program, Status, limits_for_problem, run_batch

ROWS = data.starter_rows()
PROBLEMS = [data.Problem.from_row(row) for row in ROWS]


def test_there_are_at_least_eight_distinct_problems():
    assert len(PROBLEMS) >= 8
    assert len({p.name for p in PROBLEMS}) == len(PROBLEMS)
    assert len({p.description for p in PROBLEMS}) == len(PROBLEMS)


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.name)
def test_problem_is_well_formed(problem):
    statement = problem.description
    for section in ("\nInput\n", "\nOutput\n", "\nExamples\n"):
        assert section in statement, section
    # The public tests are exactly the statement's examples.
    examples = re.findall(
        r"Input\n\n(.*?)\n\n\nOutput\n\n(.*?)(?:\n\n|\n?$)", statement.split("\nExamples\n", 1)[1], re.S
    )
    assert [(i.strip(), o.strip()) for i, o in examples] == [(i.strip(), o.strip()) for i, o in problem.tests("public")]
    assert 1 <= len(problem.tests("public")) <= 3
    assert 5 <= len(problem.tests("private")) <= 10
    for inp, out in problem.tests("public") + problem.tests("private"):
        assert inp.endswith("\n") and out.strip() and len(inp) < 200_000
    assert len(problem.solutions("python3")) >= 2 and len(problem.incorrect_solutions("python3")) >= 2
    assert problem.time_limit_s and 0.5 <= problem.time_limit_s <= 5
    assert problem.memory_limit_bytes == 256 * 2**20
    assert problem.tags and 800 <= problem.rating <= 3500 and problem.difficulty in "ABCDEFG"
    assert problem.name.startswith(f"acodium_{problem.difficulty}. ")


def judge(problem, solutions, kinds, *, stop_on_first_failure=False):
    """Results of running each solution on the problem's tests of these kinds, as the pipeline judges."""
    tests = [t for kind in kinds for t in problem.tests(kind)]
    jobs = [
        Job(Program(language, code), [i for i, _ in tests], [o for _, o in tests],
            limits_for_problem(problem, language), stop_on_first_failure=stop_on_first_failure)
        for language, code in solutions
    ]
    return run_batch(jobs, progress=False)


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.name)
def test_correct_solutions_pass_every_test(problem):
    results = judge(problem, problem.solutions(), ("public", "private"))
    tests = problem.tests("public") + problem.tests("private")
    largest = max(range(len(tests)), key=lambda i: len(tests[i][0]))
    for (language, code), runs in zip(problem.solutions(), results):
        assert [(r.status, r.passed) for r in runs] == [(Status.OK, True)] * len(tests), code.splitlines()[0]
        # Comfortably within the problem's own limit on the largest test, in CPU time (the machine may be busy).
        assert runs[largest].cpu_s < problem.time_limit_s / 2, (language, runs[largest].cpu_s)


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.name)
def test_incorrect_solutions_pass_the_examples_but_fail_a_private_test(problem):
    bad = problem.incorrect_solutions()
    # Like a contestant's wrong submissions they get the examples right (so filtering on the
    # public tests cannot catch them) ...
    for (_, code), runs in zip(bad, judge(problem, bad, ("public",))):
        assert all(r.passed for r in runs), code.splitlines()[0]
    # ... and the judge rejects them on a private test: wrong answer, crash, or over the time limit.
    for (_, code), runs in zip(bad, judge(problem, bad, ("private",), stop_on_first_failure=True)):
        assert runs and not runs[-1].passed, code.splitlines()[0]
