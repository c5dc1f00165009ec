"""The mutant source on real rows of the sample: the same mutants as `acodium.mutate`, taken from
one solution after another, deterministic in the seed."""

from __future__ import annotations

import ast
import asyncio
import json

import pytest

from acodium.generate import (
    MutantSource,
    generate_candidates,
    make_source,
    mutant_candidates,
)
from acodium.generate.mutants import DEFAULT_MUTANTS, problem_mutants


def tidy(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.strip("\n").split("\n")) + "\n"


def test_mutant_source_matches_mutate(train_rows):
    rows = train_rows[:5]
    table = generate_candidates(rows, make_source("mutants", seed=7), 4, progress=False)
    assert set(table["source"]) == {"mutant"}
    direct = mutant_candidates(rows, per_solution=4, seed=7)
    assert list(table["code"]) == list(direct["code"])
    assert list(table["candidate_id"]) == list(direct["candidate_id"])
    assert [json.loads(m) for m in table["meta"]] == [json.loads(m) for m in direct["meta"]]
    assert all(code != tidy(r["solutions"]["solution"][0]) for code, r in zip(table["code"], rows))


def test_mutants_are_runnable_python_differing_from_their_solution(train_rows):
    row = train_rows[3]
    made = problem_mutants(row, 6, seed=0)
    original = ast.unparse(ast.parse(row["solutions"]["solution"][0]))
    assert list(made) == [f"mutant-0-{m}" for m in range(6)]
    for candidate in made.values():
        assert ast.unparse(ast.parse(candidate.code)) != original
        assert candidate.language == "python3" and candidate.meta["solution_index"] == 0
        assert candidate.meta["mutation"].startswith("line ")
    assert len({c.code for c in made.values()}) == 6  # distinct
    assert problem_mutants(row, 6, seed=0) == made
    assert problem_mutants(row, 6, seed=1) != made


def test_a_short_solution_hands_over_to_the_next(train_rows):
    # a python2 solution (no mutants), a one-line program with two, then the real solution
    row = dict(train_rows[0], solutions={"language": [1, 3, 3], "solution": [
        "print 'x'", "print(1)\n", train_rows[0]["solutions"]["solution"][0]]})
    made = problem_mutants(row, 5, seed=0)
    assert list(made) == ["mutant-1-0", "mutant-1-1", "mutant-2-0", "mutant-2-1", "mutant-2-2"]
    assert {made["mutant-1-0"].code, made["mutant-1-1"].code} == {"print(2)", "print(0)"}
    assert problem_mutants(row, 0, seed=0) == {}
    # no mutants in other languages, and none of a row without solutions
    assert problem_mutants(row, 5, seed=0, languages=("cpp",)) == {}
    assert problem_mutants({"name": "none", "solutions": {"language": [], "solution": []}}, 5, seed=0) == {}


def test_the_source_plans_what_it_makes(train_rows):
    row = train_rows[2]
    source = MutantSource(seed=4)
    plan = source.plan(row, None)
    assert len(plan) == DEFAULT_MUTANTS  # all = the default number per problem
    assert source.plan(row, 3) == list(problem_mutants(row, 3, seed=4))
    made = asyncio.run(source.make(row, plan[0]))
    assert made == problem_mutants(row, DEFAULT_MUTANTS, seed=4)[plan[0]]
    assert source.config() == {"source": "mutants", "seed": 4, "languages": ["python3"]}
    with pytest.raises(KeyError):
        asyncio.run(MutantSource(seed=4).make(row, plan[0]))  # make() follows plan()


def test_a_resumed_run_gets_the_same_mutants(train_rows, tmp_path):
    rows = train_rows[5:8]
    run = tmp_path / "run"
    first = generate_candidates(rows, MutantSource(seed=2), 3, run_dir=run, progress=False)
    again = generate_candidates(rows, MutantSource(seed=2), 3, run_dir=run, progress=False)
    assert again.equals(first) and len(first) == 9


def test_a_problem_with_fewer_mutants_than_k_is_said(train_rows, capsys):
    """Few distinct mutants of a short solution: the source makes what there is and names the problem."""
    rows = train_rows[:30]
    made = {row["name"]: len(MutantSource().plan(row, 60)) for row in rows}
    short = {name: count for name, count in made.items() if count < 60}
    assert short, "some real solution of the sample gives fewer than 60 mutants"
    table = generate_candidates(rows, MutantSource(), 60, progress=False)
    assert table.groupby("problem").size().to_dict() == made and table.attrs["fewer"] == short
    err = capsys.readouterr().err
    assert f"the mutants source makes fewer than k=60 candidates for {len(short)} of 30 problems:" in err
    for name, count in list(short.items())[:20]:
        assert f"  {name}: {count} of 60, mutating 1 correct python3 solution gives only {count} mutants\n" in err
