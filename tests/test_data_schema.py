"""acodium.data.schema: the hub's schema, and the extra fields of a cleaned dataset added only when asked."""

from __future__ import annotations

import datasets
import pytest

from acodium.data import schema


def test_the_hub_schema_has_the_hub_columns_in_order():
    feats = schema.features()
    assert list(feats) == schema.COLUMNS
    assert feats["difficulty"].names == schema.DIFFICULTY_NAMES
    assert feats["source"].names[2] == "CODEFORCES"
    assert feats["solutions"]["language"].feature.names[3] == "PYTHON3"
    for kind in schema.TEST_KINDS:
        assert set(feats[f"{kind}_tests"]) == {"input", "output"}


def test_extras_add_exactly_the_fields_asked():
    feats = schema.features({"private_tests.is_valid_test", "mutated_tests", "mutated_tests.output_confirmed",
                             "is_valid_problem"})
    assert list(feats) == schema.COLUMNS + ["mutated_tests", "is_valid_problem"]
    assert list(feats["private_tests"]) == ["input", "output", "is_valid_test"]
    assert list(feats["public_tests"]) == ["input", "output"]  # only the set that has them
    assert list(feats["mutated_tests"]) == ["input", "output", "output_confirmed"]
    assert feats["is_valid_problem"] == datasets.Value("bool")
    every = schema.features(schema.EXTRA_FIELDS)
    assert list(every) == schema.COLUMNS + list(schema.EXTRA_COLUMNS)
    assert list(every["ai_tests"]) == ["input", "output", "output_confirmed", "is_valid_test"]
    assert every["reference_check"] == datasets.Value("string")


def test_an_unknown_extra_is_a_programming_error():
    with pytest.raises(ValueError, match="'private_tests.comment' is not one of the schema's extra fields"):
        schema.features({"private_tests.comment"})
    with pytest.raises(ValueError):
        schema.features({"public_tests.output_confirmed"})  # only derived sets have unconfirmed outputs


def test_test_set_vocabulary_and_columns():
    assert schema.DERIVED_TEST_SETS == ("mutated", "ai") == schema.CLUSTERING_TEST_SETS
    assert set(schema.HIDDEN_TEST_SETS) <= set(schema.TEST_KINDS) <= set(schema.TEST_SETS)
    assert [c for c in schema.EXTRA_COLUMNS if schema.is_test_column(c)] == ["mutated_tests", "ai_tests"]
    assert schema.is_test_column("public_tests") and not schema.is_test_column("hidden_tests")
    assert not schema.is_test_column("solutions")
    assert schema.flags_of_test_set("private_tests") == ("is_valid_test",)
    assert schema.flags_of_test_set("mutated_tests") == ("output_confirmed", "is_valid_test")
    assert schema.column_names({"is_valid_problem", "mutated_tests"})[-2:] == ["mutated_tests", "is_valid_problem"]
    assert schema.column_names() == schema.COLUMNS and schema.column_names() is not schema.COLUMNS
