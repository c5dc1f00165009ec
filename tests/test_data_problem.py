"""acodium.data.problem, the one reader of rows: rows by name from every shape, the valid tests of a set
(honouring `is_valid_test`), and the `Problem` view of real and cleaned problems."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

from acodium import data
from acodium.data.problem import (
    Problem, difficulty_id, get_problem, problem_rows, problem_tests, problems, time_limit_seconds,
)
from acodium.errors import UserError


@pytest.fixture(scope="module")
def sample(train_sample_path):
    return data.load_problems(train_sample_path, languages="all")


@pytest.fixture
def cleaned_row(train_rows):
    """A real problem after a reference check: private tests 1 and 3 refuted, public test 0 refuted."""
    row = copy.deepcopy(train_rows[0])
    n = len(row["private_tests"]["input"])
    row["private_tests"]["is_valid_test"] = [i not in (1, 3) for i in range(n)]
    row["public_tests"]["is_valid_test"] = [False] + [True] * (len(row["public_tests"]["input"]) - 1)
    row["mutated_tests"] = {"input": ["a", "b"], "output": ["1", ""], "output_confirmed": [True, False],
                            "is_valid_test": [True, False]}
    row["is_valid_problem"] = True
    return row


# --------------------------------------------------------------------------- problem_rows


def test_rows_by_name_from_every_shape(sample, train_rows):
    names = [r["name"] for r in train_rows[:5]]
    five = sample.select(range(5))
    by_dataset = problem_rows(five)
    assert list(by_dataset) == names and by_dataset[names[2]] == sample[2]
    assert list(problem_rows(pd.DataFrame(train_rows[:5]))) == names
    assert list(problem_rows(problems(five))) == names
    assert list(problem_rows(train_rows[:5])) == names
    assert list(problem_rows(train_rows[1])) == [names[1]]  # one row
    assert list(problem_rows(Problem(train_rows[1]))) == [names[1]]  # one Problem


def test_rows_with_only_some_columns(sample):
    rows = problem_rows(sample.select(range(3)), columns=["public_tests", "not_a_column"])
    assert all(set(row) == {"name", "public_tests"} for row in rows.values())


def test_rows_need_a_unique_name(train_rows):
    with pytest.raises(UserError, match="Problem rows need a 'name' field"):
        problem_rows([{"description": "x"}])
    with pytest.raises(UserError, match=f"The problem {train_rows[4]['name']!r} appears twice"):
        problem_rows([train_rows[4], train_rows[5], train_rows[4]])


# --------------------------------------------------------------------------- problem_tests


def test_tests_keep_their_dataset_index_and_skip_the_refuted(cleaned_row, train_rows):
    raw = train_rows[0]["private_tests"]
    got = problem_tests(cleaned_row, "private")
    assert [i for i, _, _ in got] == [i for i in range(len(raw["input"])) if i not in (1, 3)]
    assert all((inp, out) == (raw["input"][i], raw["output"][i]) for i, inp, out in got)
    assert [i for i, _, _ in problem_tests(cleaned_row, "private", max_tests=3)] == [0, 2, 4]
    assert problem_tests(cleaned_row, "mutated") == [(0, "a", "1")]
    assert problem_tests(cleaned_row, "generated") == [] and problem_tests(cleaned_row, "ai") == []


def test_unmarked_tests_are_all_valid(train_rows):
    row = copy.deepcopy(train_rows[0])
    n = len(row["private_tests"]["input"])
    assert len(problem_tests(row, "private")) == n
    row["private_tests"]["is_valid_test"] = None  # a cleaned table's null: not marked
    assert len(problem_tests(row, "private")) == n
    row["private_tests"]["is_valid_test"] = [False]  # shorter than the tests: the rest are unmarked
    assert [i for i, _, _ in problem_tests(row, "private")] == list(range(1, n))
    row["mutated_tests"] = None
    assert problem_tests(row, "mutated") == []


def test_an_unknown_test_set(cleaned_row):
    with pytest.raises(UserError, match="Unknown test set 'hidden'; choose among public, private, generated, mutated, ai"):
        problem_tests(cleaned_row, "hidden")


# --------------------------------------------------------------------------- Problem


def test_a_cleaned_problem_reads_only_its_valid_tests(cleaned_row, train_rows):
    problem = Problem.from_row(cleaned_row)
    raw = train_rows[0]
    assert len(problem.tests("private")) == len(raw["private_tests"]["input"]) - 2
    assert problem.tests("public_tests") == list(zip(raw["public_tests"]["input"][1:], raw["public_tests"]["output"][1:]))
    assert problem.tests(" Mutated ") == [("a", "1")]
    text = repr(problem)
    assert text.startswith(f"Problem({raw['name']!r}: tests public {len(raw['public_tests']['input']) - 1}, private")
    assert text.endswith("; solutions 1)")


def test_a_cleaned_dataset_read_through_load_problems(tmp_path, cleaned_row, train_rows):
    import json

    path = tmp_path / "cleaned.jsonl"
    path.write_text(json.dumps(cleaned_row) + "\n" + json.dumps(train_rows[1]) + "\n")
    ds = data.load_problems(path, languages="all")
    first, second = problems(ds)
    assert first.tests("private") == Problem(cleaned_row).tests("private")
    assert second.tests("private") == list(zip(train_rows[1]["private_tests"]["input"],
                                               train_rows[1]["private_tests"]["output"]))
    assert get_problem(ds, first.name).row["is_valid_problem"] is True
    assert second.row["is_valid_problem"] is None and second.tests("mutated") == []


def test_limits_and_metadata(train_rows):
    row = dict(copy.deepcopy(train_rows[0]), time_limit={"seconds": 2, "nanos": 250_000_000},
               memory_limit_bytes=2**28, cf_rating=1900, source=6, difficulty=1)
    problem = Problem.from_row(row)
    assert problem.time_limit_s == 2.25 and problem.memory_limit_bytes == 2**28
    assert (problem.rating, problem.source, problem.difficulty) == (1900, "AIZU", "EASY")
    for unknown in (None, {"seconds": 0, "nanos": 0}, {"seconds": None, "nanos": None}):
        assert Problem.from_row(dict(row, time_limit=unknown)).time_limit_s is None
    assert Problem.from_row(dict(row, memory_limit_bytes=0)).memory_limit_bytes is None
    assert Problem.from_row(dict(row, cf_rating=0, difficulty=None)).rating is None
    assert Problem.from_row(dict(row, difficulty=None)).difficulty == "UNKNOWN_DIFFICULTY"


def test_one_reader_of_the_time_limit(train_rows):
    """`time_limit_seconds` is the only parser of `time_limit`: the Problem view and the limits agree on it."""
    row = train_rows[0]
    cases = [({"seconds": 2, "nanos": 250_000_000}, 2.25), ({"seconds": 0, "nanos": 500_000_000}, 0.5),
             (3, 3.0), (1.5, 1.5), (None, None), (0, None), ({"seconds": 0, "nanos": 0}, None), ({}, None)]
    for limit, seconds in cases:
        assert time_limit_seconds(dict(row, time_limit=limit)) == seconds, limit
        assert Problem(dict(row, time_limit=limit)).time_limit_s == seconds, limit
    assert time_limit_seconds({"name": "no column"}) is None
    for shape in ("2", False, [1]):
        with pytest.raises(UserError, match=rf"^The time_limit of problem {row['name']!r} should be null"):
            time_limit_seconds(dict(row, time_limit=shape))


def test_test_sets_in_any_spelling(cleaned_row):
    spellings = ("public", "Public", "public_tests", " PUBLIC_TESTS ", "Public_Tests")
    assert {data.test_set_name(s) for s in spellings} == {"public"}
    assert [data.test_set_name(s) for s in ("mutated_tests", "AI", "generated")] == ["mutated", "ai", "generated"]
    for spelling in spellings:  # every reader accepts them
        assert problem_tests(cleaned_row, spelling) == problem_tests(cleaned_row, "public")
        assert Problem(cleaned_row).tests(spelling) == Problem(cleaned_row).tests("public")
    for bad in ("hidden", "publics", "tests", "", "public tests"):
        with pytest.raises(UserError, match=r"^Unknown test set .*; choose among public, private, generated, "
                                            r"mutated, ai\.$"):
            data.test_set_name(bad)
    with pytest.raises(UserError, match=r"^Unknown test set 'ai'; choose among public, private, generated\.$"):
        data.test_set_name("ai", among=data.TEST_KINDS)


def test_solutions_by_language(train_rows):
    row = copy.deepcopy(train_rows[0])
    row["solutions"] = {"language": [3, 2, 3, 7], "solution": ["a", "b", "c", "d"]}
    row["incorrect_solutions"] = None
    problem = Problem.from_row(row)
    assert problem.solutions() == [("python3", "a"), ("cpp", "b"), ("python3", "c"), ("unknown", "d")]
    assert problem.solutions("py3") == [("python3", "a"), ("python3", "c")]
    assert problem.solutions(2) == [("cpp", "b")] and problem.incorrect_solutions() == []
    with pytest.raises(UserError, match="Unknown language 'cobol'"):
        problem.solutions("cobol")


def test_a_problem_needs_its_core_fields(train_rows):
    for column in ("name", "description", "public_tests", "private_tests"):
        row = {k: v for k, v in train_rows[0].items() if k != column}
        with pytest.raises(UserError, match=f"A problem row needs the field {column!r}"):
            Problem.from_row(row)


def test_problems_hash_and_compare_by_row(sample):
    a, b = Problem.from_row(sample[0]), Problem.from_row(sample[0])
    assert a == b and len({a, b, Problem.from_row(sample[1])}) == 2
    with pytest.raises(UserError, match=r"There is no problem named 'Nope' in this dataset \(230 problems\)"):
        get_problem(sample, "Nope")


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize("given, expected", [("A", 7), ("b", 8), (" hardest ", 5), ("12", 12), (0, 0), (28, 28)])
def test_difficulty_ids(given, expected):
    assert difficulty_id(given) == expected


@pytest.mark.parametrize("given", ["W", 29, -1, True, "EASIEST"])
def test_unknown_difficulties(given):
    with pytest.raises(UserError, match="Unknown difficulty"):
        difficulty_id(given)


def test_test_kinds_in_any_spelling():
    assert [data.test_kind(k) for k in ("public", "Private_tests", " generated ")] == ["public", "private", "generated"]
    for other in ("mutated", "hidden_tests"):
        with pytest.raises(UserError, match=r"choose among public, private, generated\.$"):
            data.test_kind(other)
