"""acodium.data.table_checks on real sample rows as Arrow tables: cast to the schema, extra fields of a
cleaned dataset kept, and a corrupted row named by its row, problem and field in one sentence."""

from __future__ import annotations

import copy

import datasets
import pyarrow as pa
import pytest

from acodium.data import schema
from acodium.data.table_checks import check_rows, conform, table_extras
from acodium.errors import UserError


@pytest.fixture
def rows(train_rows):
    return copy.deepcopy(train_rows[:12])


def table(rows) -> datasets.Dataset:
    """Rows as a table with the types pyarrow infers (no schema): what a foreign parquet file holds."""
    return datasets.Dataset(pa.Table.from_pylist(rows))


def test_inferred_types_are_cast_to_the_hub_schema(rows):
    raw = table(rows)
    assert raw.features != schema.features()
    ds = conform(raw, "sample")
    assert ds.features == schema.features()
    assert ds.to_list() == [dict(r, cf_points=pytest.approx(r["cf_points"])) for r in rows]


def test_missing_optional_columns_are_filled_and_order_restored(rows):
    slim = [{"description": r["description"], "name": r["name"], "cf_tags": r["cf_tags"]} for r in rows]
    ds = conform(table(slim), "slim")
    assert ds.column_names == schema.COLUMNS
    assert ds[0]["name"] == rows[0]["name"] and ds[0]["cf_tags"] == rows[0]["cf_tags"]
    assert ds[0]["private_tests"] == {"input": [], "output": []} and ds[0]["time_limit"] is None


def test_a_saved_selection_is_checked_on_its_own_rows(rows):
    ds = conform(table(rows), "sample").select([4, 2])
    assert conform(ds, "selection")["name"] == [rows[4]["name"], rows[2]["name"]]


@pytest.mark.parametrize("change, message", [
    (lambda r: r.update(name=""), r"Row 5 \(''\) of t: the field 'name' is empty"),
    (lambda r: r.update(description=None), "Row 5 .* of t: the field 'description' is null"),
    (lambda r: r.update(public_tests=None), "the field 'public_tests' is null"),
    (lambda r: r["private_tests"]["output"].pop(), "the field 'private_tests' has inputs and outputs of different counts"),
    (lambda r: r.update(solutions=None), "the field 'solutions' is null"),
    (lambda r: r["solutions"]["solution"].append("x"), "'solutions' has languages and solutions of different counts"),
    (lambda r: r["solutions"]["language"].__setitem__(0, 9), r"the field 'solutions.language' holds an id outside 0-4"),
    (lambda r: r.update(difficulty=40), "the field 'difficulty' is not an id 0-28"),
    (lambda r: r.update(source=-1), "the field 'source' is not an id 0-6"),
])
def test_a_corrupted_row_names_row_problem_and_field(rows, change, message):
    change(rows[5])
    with pytest.raises(UserError, match=message) as info:
        conform(table(rows), "t")
    text = str(info.value)
    assert "\n" not in text and f"Row 5 ({rows[5]['name']!r})" in text


def test_columns_that_do_not_fit(rows):
    for r in rows:
        r["cf_rating"] = "unrated"
    with pytest.raises(UserError, match=r"t: column 'cf_rating' has type Value\('string'\), which does not fit"):
        conform(table(rows), "t")
    with pytest.raises(UserError, match="t lacks the column 'description'"):
        conform(table([{"name": r["name"]} for r in rows]), "t")
    with pytest.raises(UserError, match="t has a column 'rating' that is not in the code_contests schema"):
        conform(table([dict(r, cf_rating=0, rating=1) for r in rows]), "t")


# --------------------------------------------------------------------------- a cleaned table


def cleaned(rows):
    """Rows as `check_references` leaves them: flags on each test, a verdict per problem, mutated tests."""
    for i, r in enumerate(rows):
        for kind in ("public", "private"):
            n = len(r[f"{kind}_tests"]["input"])
            r[f"{kind}_tests"]["is_valid_test"] = [j != i for j in range(n)]
        r["mutated_tests"] = {"input": [f"{i}\n"], "output": [""], "output_confirmed": [False]}
        r["is_valid_problem"], r["reference_check"] = i != 2, "ok" if i != 2 else "invalid"
    return rows


def test_a_cleaned_table_keeps_its_extra_fields(rows):
    raw = table(cleaned(rows))
    assert table_extras(raw, "t") == {
        "public_tests.is_valid_test", "private_tests.is_valid_test", "mutated_tests",
        "mutated_tests.output_confirmed", "is_valid_problem", "reference_check"}
    ds = conform(raw, "cleaned")
    assert ds.column_names == schema.COLUMNS + ["mutated_tests", "is_valid_problem", "reference_check"]
    assert ds["is_valid_problem"][:3] == [True, True, False]
    assert ds[1]["private_tests"]["is_valid_test"] == rows[1]["private_tests"]["is_valid_test"]
    assert ds[0]["generated_tests"] == {"input": [], "output": []}  # not marked: no flags made up
    assert conform(ds, "again").features == ds.features  # the fast path: already in the schema


def test_unmarked_rows_and_absent_derived_tests_are_null(rows):
    rows = cleaned(rows)
    rows[3]["private_tests"]["is_valid_test"] = None
    rows[4]["mutated_tests"] = None
    ds = conform(table(rows), "t")
    assert ds[3]["private_tests"]["is_valid_test"] is None and ds[4]["mutated_tests"] is None


@pytest.mark.parametrize("change, message", [
    (lambda r: r["private_tests"]["is_valid_test"].pop(),
     r"Row 5 .*: the field 'private_tests.is_valid_test' does not hold one entry per test"),
    (lambda r: r["mutated_tests"]["output_confirmed"].append(True),
     "the field 'mutated_tests.output_confirmed' does not hold one entry per test"),
    (lambda r: r["mutated_tests"]["output"].append("x"), "'mutated_tests' has inputs and outputs of different counts"),
])
def test_a_corrupted_cleaned_row_is_named(rows, change, message):
    rows = cleaned(rows)
    change(rows[5])
    with pytest.raises(UserError, match=message):
        conform(table(rows), "t")


def test_a_test_set_with_a_field_of_its_own_is_refused(rows):
    for r in rows:
        r["private_tests"]["explanation"] = [""] * len(r["private_tests"]["input"])
    with pytest.raises(UserError, match="t: column 'private_tests' has a field 'explanation' that is not in the"):
        conform(table(rows), "t")
    for r in rows:
        del r["private_tests"]["explanation"]
        r["public_tests"]["output_confirmed"] = [True] * len(r["public_tests"]["input"])
    with pytest.raises(UserError, match="column 'public_tests' has a field 'output_confirmed'"):
        conform(table(rows), "t")


def test_check_rows_passes_the_whole_sample(train_rows):
    ds = datasets.Dataset.from_list(copy.deepcopy(train_rows), features=schema.features())
    check_rows(ds, "sample")  # 230 real problems: no false alarm
