"""The starter problems: well-formed, and their solutions verified by running them.

Every correct solution must pass every test; every incorrect one must pass the
examples (the public tests) and fail at least one private test (wrong answer,
crash, or over the problem's time limit), as the judge would see it.
"""

from __future__ import annotations

import re
import resource
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from acodium import data

ROWS = data.starter_rows()
PROBLEMS = [data.Problem.from_row(row) for row in ROWS]


def outputs_match(actual: str, expected: str) -> bool:
    """DESIGN.md's output check: tokens, lowercased; numbers with a float compare within 1e-5."""
    a, b = actual.lower().split(), expected.lower().split()
    if a == b:
        return True
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x == y:
            continue
        try:
            if ("." in x or "." in y or "e" in x or "e" in y) and abs(float(x) - float(y)) < 1e-5:
                continue
        except ValueError:
            pass
        return False
    return True


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


def _command(language: str, code: str, workdir: Path) -> list[str]:
    if language == "python3":
        path = workdir / "main.py"
        path.write_text(code)
        return [sys.executable, "-S", str(path)]
    assert language == "cpp"
    source, binary = workdir / "main.cpp", workdir / "main"
    source.write_text(code)
    subprocess.run(["g++", "-O2", "-std=c++17", "-o", str(binary), str(source)], check=True, capture_output=True)
    return [str(binary)]


def _run(command: list[str], inp: str, timeout: float) -> tuple[str | None, float]:
    """Stdout of one run, or None if it crashed or ran past the timeout; and its wall time."""
    start = time.perf_counter()
    try:
        done = subprocess.run(command, input=inp, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - start
    return (done.stdout if done.returncode == 0 else None), time.perf_counter() - start


def _first_failure(command, tests, timeout) -> tuple[str, int, str] | None:
    """The first test the program fails, as (kind, index, why), or None if it passes them all."""
    for kind, i, (inp, expected) in tests:
        out, _ = _run(command, inp, timeout)
        if out is None:
            return kind, i, "crash or timeout"
        if not outputs_match(out, expected):
            return kind, i, f"wrong answer {out[:40]!r}"
    return None


def _all_tests(problem, kinds=("public", "private")):
    return [(kind, i, t) for kind in kinds for i, t in enumerate(problem.tests(kind))]


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.name)
def test_correct_solutions_pass_every_test(problem, tmp_path):
    if any(lang == "cpp" for lang, _ in problem.solutions()):
        assert shutil.which("g++"), "the starter problems' C++ solutions need g++"
    jobs = []
    for n, (language, code) in enumerate(problem.solutions()):
        (tmp_path / str(n)).mkdir()
        jobs.append(_command(language, code, tmp_path / str(n)))
    # Correct solutions get a generous timeout (a loaded machine must not fail them) ...
    with ThreadPoolExecutor(2) as pool:
        failures = list(pool.map(lambda c: _first_failure(c, _all_tests(problem), 20.0), jobs))
    assert failures == [None] * len(jobs)
    # ... and meet the time limit on the largest test, in CPU time (the machine may be busy).
    largest = max(problem.tests("private"), key=lambda t: len(t[0]))
    for command in jobs:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out, _ = _run(command, largest[0], 20.0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        assert outputs_match(out, largest[1]) and cpu < problem.time_limit_s / 2, cpu


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.name)
def test_incorrect_solutions_pass_the_examples_but_fail_a_private_test(problem, tmp_path):
    jobs = []
    for n, (language, code) in enumerate(problem.incorrect_solutions()):
        (tmp_path / str(n)).mkdir()
        jobs.append(_command(language, code, tmp_path / str(n)))
    # Like a contestant's wrong submissions they get the examples right (so filtering on the
    # public tests cannot catch them) ...
    with ThreadPoolExecutor(2) as pool:
        on_examples = list(pool.map(lambda c: _first_failure(c, _all_tests(problem, ("public",)), 20.0), jobs))
    assert on_examples == [None] * len(jobs)
    # ... and the judge rejects them: under the problem's time limit, on a private test.
    with ThreadPoolExecutor(2) as pool:
        failures = list(
            pool.map(lambda c: _first_failure(c, _all_tests(problem, ("private",)), problem.time_limit_s), jobs)
        )
    assert all(f is not None for f in failures), failures
