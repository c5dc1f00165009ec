"""acodium.data.row_checks on real sample rows: a good row passes unchanged, a corrupted one is one
sentence naming where and the field, and a cleaned row keeps its extra fields."""

from __future__ import annotations

import copy

import pytest

from acodium.data import COLUMNS
from acodium.data.row_checks import align_extras, default_value, normalise_row, row_extras
from acodium.errors import UserError


@pytest.fixture
def row(train_rows):
    """A real problem with 40 private tests, to corrupt."""
    row = copy.deepcopy(train_rows[3])
    row["private_tests"] = copy.deepcopy(train_rows[0]["private_tests"])
    return row


def test_every_real_row_passes_unchanged(train_rows):
    for raw in train_rows:
        assert normalise_row(copy.deepcopy(raw), "here") == raw


def test_missing_optional_fields_become_empty_or_unknown(row):
    slim = {"name": row["name"], "description": row["description"]}
    got = normalise_row(slim, "here")
    assert list(got) == COLUMNS
    assert got["public_tests"] == {"input": [], "output": []}
    assert got["solutions"] == {"language": [], "solution": []}
    assert got["time_limit"] is None and got["memory_limit_bytes"] == 0 and got["cf_points"] == 0.0
    assert got["is_description_translated"] is False and got["cf_tags"] == []
    assert default_value("cf_rating") == 0 and default_value("generated_tests") == {"input": [], "output": []}


def test_names_of_enums_and_languages_become_ids(row):
    row.update(source="codeforces", difficulty="b")
    row["solutions"] = {"language": ["python3", "CPP", 4], "solution": ["a", "b", "c"]}
    got = normalise_row(row, "here")
    assert (got["source"], got["difficulty"]) == (2, 8)
    assert got["solutions"]["language"] == [3, 2, 4]


@pytest.mark.parametrize("limit, expected", [
    (2, {"seconds": 2, "nanos": 0}),
    (1.5, {"seconds": 1, "nanos": 500_000_000}),
    ({"seconds": 3}, {"seconds": 3, "nanos": 0}),
    ({"seconds": 1.0, "nanos": 250}, {"seconds": 1, "nanos": 250}),
    (None, None),
])
def test_time_limit_spellings(row, limit, expected):
    row["time_limit"] = limit
    assert normalise_row(row, "here")["time_limit"] == expected


@pytest.mark.parametrize("change, message", [
    (lambda r: r.pop("description"), "Line 4 lacks the field 'description'"),
    (lambda r: r.update(name=7), "Line 4: field 'name' should be a string, not int"),
    (lambda r: r.update(public_tests=None), "field 'public_tests' should be an object with lists 'input' and 'output'"),
    (lambda r: r["public_tests"].update(input="1 2"), r"field 'public_tests'.input should be a list of strings, not str"),
    (lambda r: r["private_tests"].update(extra=[]), "field 'private_tests' should be an object"),
    (lambda r: r["private_tests"]["input"].append("1\n"), "field 'private_tests' has 41 inputs but 40 outputs"),
    (lambda r: r.update(source="TOPCODER"), "field 'source' should be an id 0-6 or a name like CODECHEF, not 'TOPCODER'"),
    (lambda r: r.update(difficulty=True), "field 'difficulty' should be an id 0-28"),
    (lambda r: r.update(cf_rating=-5), "field 'cf_rating' should be at least 0, not -5"),
    (lambda r: r.update(cf_rating=1.5), "field 'cf_rating' should be an integer, not float"),
    (lambda r: r.update(cf_points="100"), "field 'cf_points' should be a number, not str"),
    (lambda r: r.update(is_description_translated="no"), "should be true or false, not str"),
    (lambda r: r.update(cf_tags=["dp", 3]), "field 'cf_tags' should be a list of strings, not list"),
    (lambda r: r.update(time_limit=-1), "field 'time_limit' should not be negative"),
    (lambda r: r.update(time_limit={"secs": 1}), r"should be null, a number of seconds or \{seconds, nanos\}"),
    (lambda r: r.update(time_limit={"seconds": 1, "nanos": -3}), r"field 'time_limit'.nanos should be at least 0"),
    (lambda r: r.update(solutions={"language": "python3", "solution": []}), r"'solutions'.language should be a list"),
    (lambda r: r.update(solutions={"language": ["cobol"], "solution": ["x"]}), "holds 'cobol', which is not a language"),
    (lambda r: r.update(solutions={"language": [3, 3], "solution": ["x"]}), "has 2 languages but 1 solutions"),
    (lambda r: r.update(incorrect_solutions=[]), "'incorrect_solutions' should be an object with lists 'language'"),
    (lambda r: r.update(is_valid_problem="yes"), "field 'is_valid_problem' should be true or false, not str"),
    (lambda r: r.update(reference_check=1), "field 'reference_check' should be a string, not int"),
    (lambda r: r.update(hidden_tests={}), "has a field 'hidden_tests' that is not in the code_contests schema"),
])
def test_a_corrupted_row_is_one_sentence_naming_the_field(row, change, message):
    change(row)
    with pytest.raises(UserError, match=message) as info:
        normalise_row(row, "Line 4")
    assert "\n" not in str(info.value) and str(info.value).endswith(".")


def test_not_an_object():
    with pytest.raises(UserError, match="Line 2 is not a JSON object"):
        normalise_row(["name"], "Line 2")


# --------------------------------------------------------------------------- a cleaned row


def test_a_cleaned_row_keeps_its_flags(row):
    n = len(row["private_tests"]["input"])
    row["private_tests"]["is_valid_test"] = [i != 3 for i in range(n)]
    row["public_tests"]["is_valid_test"] = None  # not marked
    row["mutated_tests"] = {"input": ["5\n", "6\n"], "output": ["1", ""], "output_confirmed": [True, False]}
    row["is_valid_problem"], row["reference_check"] = True, "ok"
    got = normalise_row(copy.deepcopy(row), "here")
    assert got["private_tests"]["is_valid_test"] == row["private_tests"]["is_valid_test"]
    assert got["public_tests"]["is_valid_test"] is None
    assert got["mutated_tests"] == row["mutated_tests"]
    assert (got["is_valid_problem"], got["reference_check"]) == (True, "ok")
    assert list(got)[-3:] == ["mutated_tests", "is_valid_problem", "reference_check"]
    assert row_extras(got) == {"private_tests.is_valid_test", "public_tests.is_valid_test", "mutated_tests",
                               "mutated_tests.output_confirmed", "is_valid_problem", "reference_check"}


def test_extra_fields_may_be_null(row):
    row.update(mutated_tests=None, is_valid_problem=None, ai_tests=None)
    got = normalise_row(row, "here")
    assert got["mutated_tests"] is None and got["ai_tests"] is None and got["is_valid_problem"] is None


@pytest.mark.parametrize("change, message", [
    (lambda r: r["private_tests"].update(is_valid_test=[True] * 39),
     r"field 'private_tests'.is_valid_test has 39 entries for 40 tests"),
    (lambda r: r["private_tests"].update(is_valid_test=[1] * 40),
     r"'private_tests'.is_valid_test should be a list of true/false, not list"),
    (lambda r: r["public_tests"].update(output_confirmed=[True]),
     "field 'public_tests' should be an object with lists 'input' and 'output' \\(and optionally 'is_valid_test'\\)"),
    (lambda r: r.update(mutated_tests={"input": ["1"], "output": []}), "'mutated_tests' has 1 inputs but 0 outputs"),
    (lambda r: r.update(mutated_tests={"input": ["1"], "output": ["2"], "output_confirmed": [True, True]}),
     r"'mutated_tests'.output_confirmed has 2 entries for 1 tests"),
    (lambda r: r.update(ai_tests={"input": ["1"]}), "field 'ai_tests' should be an object with lists"),
])
def test_a_corrupted_cleaned_row_is_one_sentence(row, change, message):
    change(row)
    with pytest.raises(UserError, match=message):
        normalise_row(row, "Line 9")


def test_align_extras_gives_every_row_what_any_row_has(train_rows):
    rows = [normalise_row(copy.deepcopy(r), "here") for r in train_rows[:3]]
    rows[1]["private_tests"]["is_valid_test"] = [True] * len(rows[1]["private_tests"]["input"])
    rows[2]["is_valid_problem"] = False
    assert align_extras(rows) == {"private_tests.is_valid_test", "is_valid_problem"}
    assert [r["is_valid_problem"] for r in rows] == [None, None, False]
    assert rows[0]["private_tests"]["is_valid_test"] is None and rows[2]["private_tests"]["is_valid_test"] is None
    assert all(rows[1]["private_tests"]["is_valid_test"])
    assert "is_valid_test" not in rows[0]["public_tests"]  # no row marked public tests
    assert align_extras([]) == set()
    plain = [normalise_row(copy.deepcopy(r), "here") for r in train_rows[:2]]
    assert align_extras(plain) == set() and plain == train_rows[:2]
