"""cli.common.parse_test_sets: the command line's reading of test sets goes through data's one
normaliser, so every option that names test sets takes the same spellings and refuses alike."""

from __future__ import annotations

import pytest

from acodium.cli.common import parse_test_sets
from acodium.data import HIDDEN_TEST_SETS, TEST_SETS
from acodium.errors import UserError


@pytest.mark.parametrize("text, expected", [
    ("private_tests", ["private"]),
    ("private", ["private"]),
    ("hidden_tests", list(HIDDEN_TEST_SETS)),
    ("Hidden", list(HIDDEN_TEST_SETS)),
    ("public,private,generated", ["public", "private", "generated"]),  # the references command's default
    ("public_tests, Generated_Tests ,hidden", ["public", "generated", "private"]),  # each set once, in order
    ("mutated,ai", ["mutated", "ai"]),
    ("public,,private,", ["public", "private"]),  # empty parts are skipped
])
def test_every_spelling_of_a_test_set(text, expected):
    assert parse_test_sets(text) == expected


def test_every_test_set_of_the_vocabulary_is_accepted_both_ways():
    for name in TEST_SETS:
        assert parse_test_sets(name) == parse_test_sets(f"{name}_tests") == [name]


@pytest.mark.parametrize("text, option, shown", [
    ("secret", "--test_sets", "'secret' in --test_sets"),
    ("public,secret_tests", "--evaluation_test_type", "'secret_tests' in --evaluation_test_type"),
    ("", "--test_sets", "'' in --test_sets"),
    (" , ", "--test_sets", "'' in --test_sets"),
])
def test_an_unknown_test_set_is_one_sentence_naming_the_option(text, option, shown):
    with pytest.raises(UserError, match=rf"^Unknown test set {shown}; choose among public, private, generated, "
                                        r"mutated, ai, hidden \(each also as <name>_tests\)\.$"):
        parse_test_sets(text, option)
