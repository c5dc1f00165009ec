"""acodium.data.fingerprint: one content hash of a problems table, for a sweep's manifest."""

from __future__ import annotations

import hashlib
import json

import datasets
import pytest

from acodium import data
from acodium.data import dataset_fingerprint
from acodium.data.fingerprint import FINGERPRINT_COLUMNS


@pytest.fixture
def problems(train_rows):
    return datasets.Dataset.from_list(train_rows[:6])


def _with(rows, i, column, tests):
    rows = [dict(r) for r in rows]
    rows[i] = dict(rows[i], **{column: tests})
    return rows


def test_the_same_problems_give_the_same_fingerprint(problems, train_rows):
    again = datasets.Dataset.from_list(train_rows[:6])
    assert dataset_fingerprint(problems) == dataset_fingerprint(again)
    assert len(dataset_fingerprint(problems)) == 64


def test_rows_and_their_dataset_have_one_fingerprint(problems, train_rows):
    """A notebook may hold a Dataset or the rows of one: the same problems are the same data."""
    assert dataset_fingerprint([dict(r) for r in problems]) == dataset_fingerprint(problems)


def test_other_problems_or_another_order_give_another_fingerprint(problems, train_rows):
    fingerprint = dataset_fingerprint(problems)
    assert dataset_fingerprint(datasets.Dataset.from_list(train_rows[1:7])) != fingerprint
    assert dataset_fingerprint(problems.select(list(range(5, -1, -1)))) != fingerprint
    assert dataset_fingerprint(problems.select(range(5))) != fingerprint


def test_a_changed_test_changes_the_fingerprint(problems, train_rows):
    private = dict(train_rows[2]["private_tests"])
    private["output"] = list(private["output"])
    private["output"][0] = private["output"][0] + " 0"
    rows = _with(train_rows[:6], 2, "private_tests", private)
    assert dataset_fingerprint(datasets.Dataset.from_list(rows)) != dataset_fingerprint(problems)


def test_every_test_set_of_the_vocabulary_is_hashed(train_rows):
    """mutated and ai inputs decide clusters: a change to them is a change of data (not only the dataset's three)."""
    assert FINGERPRINT_COLUMNS == ("name", *(f"{s}_tests" for s in data.TEST_SETS))
    rows = [dict(r) for r in train_rows[:3]]
    before = dataset_fingerprint(rows)
    for test_set in ("mutated", "ai"):
        column = f"{test_set}_tests"
        made = _with(rows, 1, column, {"input": ["1 2\n"], "output": ["3\n"]})
        assert dataset_fingerprint(made) != before  # a set added
        changed = _with(made, 1, column, {"input": ["1 2\n"], "output": ["4\n"]})
        assert dataset_fingerprint(changed) != dataset_fingerprint(made)  # one output changed
        assert dataset_fingerprint(_with(made, 1, column, {"input": ["1 2\n"], "output": ["3\n"]})) \
            == dataset_fingerprint(made)
    refuted = dict(rows[0]["public_tests"], is_valid_test=[False] * len(rows[0]["public_tests"]["input"]))
    assert dataset_fingerprint(_with(rows, 0, "public_tests", refuted)) != before  # validity marks count


def test_what_is_not_a_name_or_a_test_leaves_the_fingerprint_alone(problems, train_rows):
    rows = [{**r, "description": "rewritten", "cf_rating": 0} for r in train_rows[:6]]
    assert dataset_fingerprint(datasets.Dataset.from_list(rows)) == dataset_fingerprint(problems)
    # a table without some test columns still has a fingerprint, of what it holds
    names_only = problems.select_columns(["name"])
    assert dataset_fingerprint(names_only) != dataset_fingerprint(problems)


def test_a_dataset_without_derived_sets_keeps_the_fingerprint_it_had(problems):
    """Only tables holding mutated or ai tests get a new fingerprint: the dataset's own three hash as before."""
    h = hashlib.sha256()
    for row in problems.select_columns(["name", "public_tests", "private_tests", "generated_tests"]):
        h.update(json.dumps(row, sort_keys=True, default=str).encode("utf-8"))
    assert dataset_fingerprint(problems) == h.hexdigest()
