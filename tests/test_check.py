"""The output check: one test per rule of DeepMind's code_contests tester (OutputsMatch)."""

from __future__ import annotations

import pytest

from acodium.execute import check_output
from acodium.execute.check import tokens


def test_identical_outputs_match():
    assert check_output("3\n1 2 3\n", "3\n1 2 3\n")


def test_case_is_ignored():
    assert check_output("YES\n", "yes")
    assert check_output("Possible", "pOSSIBLE")
    assert not check_output("YES", "NO")


def test_only_ascii_letters_are_lowercased():
    # absl::AsciiStrToLower leaves non-ASCII letters alone.
    assert not check_output("Ä", "ä")
    assert check_output("Ä", "Ä")


@pytest.mark.parametrize("actual", [
    "1 2 3", "1  2   3", "1\n2\n3", "  1 2 3  \n\n", "1\t2\r\n3", "1\v2 3",
])
def test_whitespace_between_tokens_is_ignored(actual):
    assert check_output(actual, "1 2 3\n")


def test_form_feed_is_not_a_separator():
    # The tester splits on " \n\t\r\v" only.
    assert tokens("1\f2") == ["1\f2"]
    assert not check_output("1\f2", "1 2")


def test_tokens_must_not_merge():
    assert not check_output("12 3", "1 23")
    assert not check_output("123", "1 2 3")


def test_unequal_token_counts_fail():
    assert not check_output("1 2 3", "1 2")
    assert not check_output("1 2", "1 2 3")
    assert not check_output("", "0")
    assert check_output("", "  \n")


def test_integers_must_be_equal():
    assert check_output("007", "7")
    assert check_output("+5", "5")
    assert check_output("-0", "0")
    assert not check_output("5", "6")
    assert not check_output("-5", "5")


def test_integer_against_float_within_tolerance():
    assert check_output("3", "3.000001")
    assert check_output("3.0", "3")
    assert check_output("2", "2.00000000")
    assert not check_output("3", "3.0001")


def test_float_tolerance_is_absolute_1e_5_strict():
    assert check_output("0.333333", "0.3333333333")
    assert check_output("1.000009", "1.0")
    assert not check_output("1.00002", "1.0")
    assert not check_output("1.0", "1.00002")
    # Absolute, not relative: large values need the same absolute closeness.
    assert not check_output("1000000.0001", "1000000.0")
    assert check_output("1e-7", "0")
    assert check_output("1.5E3", "1500")


def test_large_integers_compare_exactly():
    # DESIGN.md: two integers must be equal. (The compiled tester compares them as
    # doubles and would accept the first pair; see acodium/execute/check.py.)
    assert not check_output("1000000000000000000", "1000000000000000001")
    assert check_output("1000000000000000000", "+1000000000000000000")
    assert check_output("123456789012345678901234567890", "0123456789012345678901234567890")
    assert not check_output("1000000000000", "1000000000001")
    # A float on either side brings back the tolerance, at double precision.
    assert check_output("1000000000000000000.0", "1000000000000000001")


def test_non_numbers_compare_as_strings():
    assert not check_output("abc 1", "abd 1")
    assert check_output("Case #1: 5", "case #1: 5.000001")
    assert not check_output("1.2.3", "1.2.4")
    assert not check_output("0x10", "16")  # hex is not a number to the tester
    assert not check_output("1e", "1")  # "1e" is not a number: compared as a string


def test_nan_and_inf_only_match_when_all_tokens_are_equal():
    assert check_output("inf", "inf")  # equal token lists pass before any number parsing
    assert check_output("nan 1", "nan 1")
    assert not check_output("nan 1", "nan 2")
    assert not check_output("inf 1", "inf 2")
    assert check_output("1e400 5", "1e400 5")
    assert not check_output("1e400 5", "inf 6")


def test_number_against_word_compares_as_strings():
    assert not check_output("1", "one")
    assert not check_output("+-1", "-1")


def test_real_expected_outputs_match_themselves(train_rows):
    for row in train_rows[:50]:
        for out in row["public_tests"]["output"] + row["private_tests"]["output"][:5]:
            assert check_output(out, out)
            assert check_output(out.upper() + "\n\n", out)
