"""acodium.mutate.programs: single-edit mutants of correct programs, and their candidates table."""

from __future__ import annotations

import ast
import json

import pandas as pd

from acodium.execute import Execution, Job, Limits, Program
from acodium.generate import mutant_candidates
from acodium.mutate import Mutant, program_mutants
from acodium.tables import CANDIDATES


def test_program_mutants_on_real_solutions(train_rows):
    with_mutants = 0
    for row in train_rows[:20]:
        code = row["solutions"]["solution"][0]
        mutants = program_mutants(code, 8, seed=11)
        assert mutants == program_mutants(code, 8, seed=11)
        original = ast.unparse(ast.parse(code))
        texts = [m.code for m in mutants]
        assert len(set(texts)) == len(texts) <= 8
        for m in mutants:
            assert m.code != original
            compile(m.code, "<mutant>", "exec")
            assert m.description.startswith("line ")
        with_mutants += len(mutants) == 8
    assert with_mutants >= 17


def test_program_mutant_kinds():
    code = "n = int(input())\nfor i in range(1, n):\n    if i < n and n == 3:\n        print(i + 2 * n)\n"
    descriptions = {m.description for m in program_mutants(code, 100, seed=0)}
    assert "line 2: range bound + 1" in descriptions
    assert "line 3: '<' -> '<='" in descriptions
    assert "line 3: '==' -> '!='" in descriptions
    assert "line 3: 'and' -> 'or'" in descriptions
    assert "line 4: '+' -> '-'" in descriptions
    assert "line 4: constant 2 -> 3" in descriptions
    mutant = next(m for m in program_mutants(code, 100, seed=0) if m.description == "line 2: range bound + 1")
    assert "range(1, n + 1)" in mutant.code


def test_unparsable_code_has_no_mutants():
    assert program_mutants("print 'python 2'\n", 5, seed=0) == []
    assert program_mutants("print(1)\n", 0, seed=0) == []


def test_mutant_candidates_table(train_rows):
    df = mutant_candidates(train_rows[:3], per_solution=4, seed=5, include_originals=True)
    assert list(df.columns) == CANDIDATES
    assert set(df["source"]) == {"human", "mutant"}
    assert df["candidate_id"].is_unique or df.groupby("problem")["candidate_id"].apply(lambda s: s.is_unique).all()
    mutants = df[df.source == "mutant"]
    assert len(mutants) == 12
    assert all("mutation" in json.loads(m) for m in mutants["meta"])
    again = mutant_candidates(train_rows[:3], per_solution=4, seed=5, include_originals=True)
    assert df.equals(again)


EVERY_KIND = """x = 5
x += 2
x <<= 1
y = x % 3 ** 2 / 4 - (x & 1 | 2 ^ 3)
for i in range(3):
    pass
for i in range(1, 10, 2):
    pass
if not (x > 1 or y >= 2) and x != 0:
    print(x >> 1, x // 2, x * 2)
"""


def test_every_operator_family_is_edited():
    descriptions = {m.description for m in program_mutants(EVERY_KIND, 1000, seed=0)}
    for expected in ("line 2: '+' -> '-'", "line 3: '<<' -> '>>'", "line 4: '%' -> '//'", "line 4: '**' -> '*'",
                     "line 4: '/' -> '*'", "line 4: '&' -> '|'", "line 4: '|' -> '&'", "line 4: '^' -> '|'",
                     "line 9: '>' -> '>='", "line 9: '>=' -> '>'", "line 9: '!=' -> '=='",
                     "line 9: 'or' -> 'and'", "line 10: '>>' -> '<<'", "line 10: '//' -> '*'",
                     "line 10: '*' -> '+'", "line 5: range bound + 1", "line 7: range bound - 1",
                     "line 1: constant 5 -> 6", "line 9: constant 0 -> -1"):
        assert expected in descriptions, expected


def test_each_mutant_is_one_edit_away():
    original = ast.dump(ast.parse(EVERY_KIND))
    for mutant in program_mutants(EVERY_KIND, 1000, seed=3):
        assert isinstance(mutant, Mutant)
        assert ast.dump(ast.parse(mutant.code)) != original
        # one edit: the two programs differ on one line only (the mutant is unparsed, so compare unparsed)
        before = ast.unparse(ast.parse(EVERY_KIND)).splitlines()
        after = mutant.code.splitlines()
        assert len(before) == len(after)
        assert sum(a != b for a, b in zip(before, after)) == 1


def test_asking_for_more_mutants_than_edits_gives_each_once_and_a_seed_only_reorders():
    everything = program_mutants(EVERY_KIND, 1000, seed=0)
    assert len(everything) == len({m.code for m in everything}) > 50
    assert {m.code for m in program_mutants(EVERY_KIND, 1000, seed=9)} == {m.code for m in everything}
    assert [m.code for m in program_mutants(EVERY_KIND, 5, seed=9)] != [m.code for m in everything[:5]]
    assert program_mutants("print('hi')\n", 5, seed=0) == []  # nothing to edit
    assert program_mutants("", 5, seed=0) == []


def test_mutants_of_a_correct_program_mostly_fail_its_tests():
    code = ("n = int(input())\nvalues = list(map(int, input().split()))\ntotal = 0\nfor i in range(n):\n"
            "    if values[i] > 0 and i % 2 == 0:\n        total += values[i] * 2\nprint(total)\n")
    tests = [("3\n4 -5 6\n", "20"), ("5\n1 1 0 1 -1\n", "2"), ("1\n9\n", "18"), ("4\n3 3 3 3\n", "12")]
    mutants = program_mutants(code, 12, seed=1)
    assert len(mutants) >= 8
    inputs, expected = [t for t, _ in tests], [o for _, o in tests]
    jobs = [Job(Program("python3", p), inputs, expected, Limits(time_s=3)) for p in [code] + [m.code for m in mutants]]
    runs = Execution().run_batch(jobs, progress=False)
    assert all(r.passed for r in runs[0])  # the original passes
    killed = [not all(r.passed for r in results) for results in runs[1:]]
    assert sum(killed) >= len(mutants) - 2  # the odd equivalent mutant survives


def _problem(name, solutions):
    return {"name": name, "solutions": {"language": [lang for lang, _ in solutions],
                                        "solution": [code for _, code in solutions]}}


PY = "a, b = map(int, input().split())\nprint(a + b * 2 - 1)\n"
CPP = "#include <cstdio>\nint main(){int a,b;scanf(\"%d %d\",&a,&b);printf(\"%d\\n\",a+b);}\n"


def test_mutant_candidates_take_python3_solutions_only_and_name_them_by_their_index():
    problems = [_problem("p", [(2, CPP), (1, "print 'py2'\n"), (3, PY), ("python3", PY.replace("+", "*"))])]
    df = mutant_candidates(problems, per_solution=2, seed=0, include_originals=True)
    assert list(df.columns) == CANDIDATES
    assert set(df.language) == {"python3"}
    assert sorted(df[df.source == "human"].candidate_id) == ["human-2", "human-3"]  # indices in the full list
    assert sorted(df[df.source == "mutant"].candidate_id) == ["mutant-2-0", "mutant-2-1", "mutant-3-0", "mutant-3-1"]
    meta = [json.loads(m) for m in df[df.source == "mutant"].meta]
    assert {m["solution_index"] for m in meta} == {2, 3} and all(m["mutation"].startswith("line ") for m in meta)
    only_first = mutant_candidates(problems, per_solution=2, seed=0, max_solutions=1)
    assert set(only_first.candidate_id) == {"mutant-2-0", "mutant-2-1"}


def test_mutant_candidates_of_nothing_is_an_empty_table_with_the_columns():
    for problems in ([], [_problem("none", [])], [{"name": "no_solutions_field"}]):
        df = mutant_candidates(problems, per_solution=3)
        assert df.empty and list(df.columns) == CANDIDATES


def test_the_same_solution_in_two_problems_gets_its_own_seed():
    code = EVERY_KIND
    df = mutant_candidates([_problem("a", [(3, code)]), _problem("b", [(3, code)])], per_solution=4, seed=0)
    a, b = (list(df[df.problem == p].code) for p in ("a", "b"))
    assert len(a) == len(b) == 4 and a != b
    again = mutant_candidates([_problem("b", [(3, code)])], per_solution=4, seed=0)
    assert list(again.code) == b  # a problem's mutants do not depend on the others
    assert isinstance(again, pd.DataFrame)
