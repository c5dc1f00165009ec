"""The checker programs of tests/checkers/ on the real sample: accepted solutions that the token
compare fails pass under them, and wrong outputs still fail (real judges, not "accept everything").

tests/checkers/checkers.json names, for seven problems of the shared sample whose one accepted
Python solution fails under `tokens` (six allow several answers, `possibly_multi_answer`; 598_F
asks for a float within 1e-6), a checker program written for it by testlib's protocol (five in
Python, two in C++). They are test and bench fixtures (bench/fidelity.py's "problem" setting):
the repository holds no data of the sample. Each problem's solution runs on all its public and
private tests through `run_executions`, once with the problem's own checker and once with
`--checker tokens`; then programs printing the accepted output changed (wrong) or rearranged
(right in another way) are judged by the same checker on the same input.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acodium.data import problem_tests
from acodium.evaluation import possibly_multi_answer, run_executions
from acodium.execute import Execution, Job, Limits, Program, Status, checker_for_problem, parse_checker
from acodium.execute.judges import SUFFIX_LANGUAGES, ProgramChecker
from acodium.generate import reference_candidates

CHECKERS = Path(__file__).parent / "checkers"
MANIFEST = json.loads((CHECKERS / "checkers.json").read_text())
SETS = ["public", "private"]
RUN = Execution(time_s=10.0)


def _with_checker(row: dict) -> dict:
    path = CHECKERS / MANIFEST[row["name"]]
    return {**row, "checker": {"language": SUFFIX_LANGUAGES[path.suffix], "code": path.read_text()}}


@pytest.fixture(scope="module")
def problems(train_rows):
    rows = [_with_checker(r) for r in train_rows if r["name"] in MANIFEST]
    assert sorted(r["name"] for r in rows) == sorted(MANIFEST)
    return rows


@pytest.fixture(scope="module")
def verdicts(problems):
    """(problem, test_set, index) -> (status, passed) of the accepted solution, under each judge."""
    candidates = reference_candidates(problems)
    candidates = candidates[candidates["language"] == "python3"].groupby("problem").head(1)
    out = {}
    for judge, execution in (("checker", RUN), ("tokens", RUN.replace(checker="tokens"))):
        table, _ = run_executions(problems, candidates, test_sets=SETS, execution=execution, progress=False)
        out[judge] = {(r.problem, r.test_set, int(r.test_index)): (r.status, bool(r.passed), r.checker_message)
                      for r in table.itertuples()}
    return out


def test_the_fixtures_are_multi_answer_or_float_problems_with_program_checkers(problems):
    for row in problems:
        assert isinstance(checker_for_problem(row), ProgramChecker)
        assert possibly_multi_answer(row) or row["name"].startswith("598_F")
    assert {Path(f).suffix for f in MANIFEST.values()} == {".py", ".cpp"}


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_accepted_solutions_failing_under_tokens_pass_under_their_checker(verdicts, name):
    tokens = {k: v for k, v in verdicts["tokens"].items() if k[0] == name}
    checker = {k: v for k, v in verdicts["checker"].items() if k[0] == name}
    assert tokens.keys() == checker.keys() and len(tokens) >= 10
    wrong_by_tokens = [k for k, (status, passed, _) in tokens.items() if status == "OK" and not passed]
    assert wrong_by_tokens, "the token compare accepts this solution: the fixture proves nothing"
    assert all(status == "OK" and passed for status, passed, _ in checker.values()), \
        {k: v for k, v in checker.items() if not v[1]}


# --------------------------------------------------------------------------- wrong outputs


def _swap_first_column(out: list[str], data: list[str]) -> list[str]:
    """1385_G: in the first case that swaps, its first column replaced by the first column it does not swap."""
    numbers, at, read = [int(t) for t in data], 1, 0
    for _ in range(numbers[0]):
        n = numbers[at]
        at += 1 + 2 * n
        k = int(out[read])
        if k > 0:
            chosen = {int(c) for c in out[read + 1:read + 1 + k]}
            spare = next(c for c in range(1, n + 1) if c not in chosen)
            return out[:read + 1] + [str(spare)] + out[read + 2:]
        read += 1 + max(k, 0)
    raise AssertionError("no case swaps a column")


def _wide_triangle(out: list[str], data: list[str]) -> list[str]:
    """618_C: the stars of least x, greatest x and greatest y: a triangle with other stars inside."""
    stars = [(int(data[1 + 2 * i]), int(data[2 + 2 * i]), i + 1) for i in range(int(data[0]))]
    corners = [min(stars)[2], max(stars)[2], max(stars, key=lambda s: (s[1], s[0]))[2]]
    return [str(i) for i in corners]


def _scaled(out: list[str], factor: float) -> list[str]:
    return [repr(float(t) * factor) for t in out]


# name -> (mutation, expected verdict): False a wrong answer, True a right one printed otherwise.
MUTATIONS = {
    "1217_D": [
        (lambda out, data: [str(int(out[0]) + 1)] + out[1:], False),  # k is not the minimum
        (lambda out, data: [out[0]] + ["1"] * (len(out) - 1), False),  # one color: it holds a cycle
    ],
    "1385_G": [
        (lambda out, data: [str(int(out[0]) + 1)] + out[1:], False),
        (_swap_first_column, False),  # another column swapped: a row is no permutation
    ],
    "22_C": [
        (lambda out, data: out[:-2] + out[:2], False),  # the last connection replaced by the first
        (lambda out, data: [out[0], out[0]] + out[2:], False),  # a server connected to itself
        (lambda out, data: [x for i in range(0, len(out), 2) for x in (out[i + 1], out[i])], True),
    ],
    "576_A": [
        (lambda out, data: out[:-1] + ["1"], False),  # "divisible by 1?" tells nothing
        (lambda out, data: [out[0]] + out[:0:-1], True),  # the same questions in another order
    ],
    "598_F": [
        (lambda out, data: _scaled(out, 1 + 1e-5), False),  # 1e-5 relative error
        (lambda out, data: _scaled(out, 1 + 1e-7), True),  # 1e-7: within the rule
    ],
    "618_C": [
        (lambda out, data: [out[0], out[1], out[0]], False),  # a star twice
        (_wide_triangle, False),
        (lambda out, data: out[::-1], True),  # the same triangle
    ],
    "963_B": [
        (lambda out, data: ["NO"], False),
        (lambda out, data: [out[0]] + out[:0:-1], False),  # the order reversed: a leaf goes first
    ],
}


def _printing(text: str) -> Program:
    return Program("python3", f"import sys\nsys.stdout.write({text!r})\n")


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_wrong_outputs_still_fail_under_the_checker(problems, verdicts, name):
    """On the largest test where tokens fails the accepted solution: its own output passes, each
    mutation gets the verdict it should (wrong answers refused by the checker, not a judge error)."""
    row = next(r for r in problems if r["name"] == name)
    failed = [(s, i, text, expected) for s in SETS for i, text, expected in problem_tests(row, s)
              if verdicts["tokens"][(name, s, i)][:2] == ("OK", False)]
    _, _, text, expected = max(failed, key=lambda t: len(t[2]))
    solution = Program("python3", row["solutions"]["solution"][0])
    checker = checker_for_problem(row)
    accepted = RUN.run_batch([Job(solution, [text], [expected], limits=Limits(10.0), checker=checker)],
                             progress=False)[0][0]
    assert accepted.status == Status.OK and accepted.passed
    assert not parse_checker("tokens").check(accepted.stdout, expected)
    out, data = accepted.stdout.split(), text.split()
    cases = MUTATIONS[name.split(".")[0]]
    outputs = [" ".join(mutate(out, data)) + "\n" for mutate, _ in cases]
    jobs = [Job(_printing(o), [text], [expected], limits=Limits(10.0), checker=checker) for o in outputs]
    results = [r[0] for r in RUN.run_batch(jobs, progress=False)]
    for (_, right), output, result in zip(cases, outputs, results):
        assert result.status == Status.OK, (output[:200], result.checker_message)
        assert result.passed is right, (output[:200], result.checker_message)
        if not right:
            assert result.checker_message.startswith(("wrong answer (checker)", "presentation error (checker)"))
