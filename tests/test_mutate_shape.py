"""acodium.mutate.shape: how an input is read (tokens, kinds, counts) and when a mutation broke it."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acodium.mutate import mutate_input, structure_break
from acodium.mutate.shape import _counts, _ranges, _runs, _structural, _tokenize


def _kinds(text: str) -> list[tuple[str, str]]:
    return [(t.text, t.kind) for t in _tokenize(text)[1]]


def _counted(text: str) -> dict[str, set[str]]:
    """Token text at each counting position -> what it may count, kinds only."""
    pieces, _, lines = _tokenize(text)
    return {f"{pieces[i]}@{i}": {kind for kind, _ in found} for i, found in _counts(lines).items()}


def test_tokens_keep_whitespace_and_know_their_kind():
    text = "1.5 -2 +3 1e5 .5\t10 100 0101 x1\r\n\n  abc \n"
    pieces, tokens, lines = _tokenize(text)
    assert "".join(pieces) == text  # byte for byte
    assert _kinds(text) == [("1.5", "float"), ("-2", "int"), ("+3", "int"), ("1e5", "float"), (".5", "float"),
                            ("10", "int"), ("100", "int"), ("0101", "binary"), ("x1", "string"), ("abc", "string")]
    assert [len(line) for line in lines] == [9, 1]  # the blank line is no line
    assert [t.line for t in tokens][-2:] == [0, 1]


def test_powers_of_ten_are_numbers_and_single_digit_rows_are_bits():
    assert _kinds("10 1000 1100\n") == [("10", "int"), ("1000", "int"), ("1100", "binary")]
    assert _kinds("1 0 1\n") == [("1", "bit"), ("0", "bit"), ("1", "bit")]
    assert _kinds("1\n") == [("1", "int")]  # one digit alone is a number, not a bit array


@pytest.mark.parametrize("text, counted", [
    ("4 3 9 2 7\n", {"4@0": {"rest"}, "3@2": {"rest"}}),  # 3 is a coincidence, kept all the same
    ("3\n1 2 3\n", {"3@0": {"tokens"}}),
    ("5\n1 2\n2 3\n3 4\n4 5\n", {"5@0": {"lines"}}),  # a tree: n counts its n - 1 edges
    ("3 0 100\n", {"0@2": {"lines"}}),  # a 0 on the last line may count absent lines
    ("1.5 2.5\n", {}),
])
def test_what_may_count_something(text, counted):
    assert _counted(text) == counted


def test_inside_a_run_of_lines_only_a_column_that_stays_the_same_counts():
    # `k a1..ak` per line: k is the same on every line (a count of its own line), the values vary
    counted = _counted("3\n2 5 6\n2 7 8\n2 9 1\n")
    assert {k.split("@")[0] for k in counted} == {"3", "2"}
    assert all("rest" in kinds for k, kinds in counted.items() if k.startswith("2@"))


def test_every_first_line_integer_of_a_multi_line_input_is_a_size():
    _, tokens, lines = _tokenize("7 100\n1 2 3\n")
    keep = _structural(lines)
    assert {t.text for t in tokens if t.index in keep} >= {"7", "100"}
    _, tokens, lines = _tokenize("7 100\n")  # one line: 7 counts nothing here
    assert {t.text for t in tokens if t.index in _structural(lines)} == set()


def test_runs_and_ranges_by_column():
    _, _, lines = _tokenize("1\n2 3\n4 5\n6\n")
    assert _runs(lines) == [0, 1, 1, 2]
    _, _, lines = _tokenize("2\n1 5\n3 9\n")
    assert _ranges(lines) == {(2, 0): [1, 3], (2, 1): [5, 9]}  # the size on the first line is left out
    assert _ranges(lines, by_run=True) == {(1, 2, 0): [1, 3], (1, 2, 1): [5, 9]}
    _, _, lines = _tokenize("5 1 2 3 4 5\n")  # a long row is one column
    assert _ranges(lines) == {("row",): [5, 1, 2, 3, 4, 5]}


@pytest.mark.parametrize("original, mutated, reason", [
    ("1 2\n", "1 2\n", None),
    ("1 2\n", "1  2\n", None),  # whitespace is not read
    ("1 2\n", "1 3\n", None),
    ("1 2\n", "1 2\n3\n", "line count"),
    ("1 2\n3\n", "1 2 3\n", "line count"),
    ("1 2\n", "1 2 3\n", "tokens per line"),
    ("1 2\n", "1 x\n", "token type"),
    ("1 2\n", "1 2.5\n", "token type"),
    ("1.5\n", "2\n", None),  # an integer reads as a float
    ("1.5\n", "x\n", "token type"),
    ("1 0 1\n", "1 0 0\n", None),
    ("1 0 1\n", "1 2 1\n", "token type"),  # a bit array holds bits
    ("0110\n", "0111\n", None),
    ("0110\n", "011\n", "token type"),
    ("0110\n", "0120\n", "token type"),
    ("abc\n", "acb\n", None),
    ("abc\n", "abcd\n", "token type"),
    ("abc\n", "123\n", "token type"),
    ("1\n4 3 9 2 7\n", "1\n9 2 9 2 7\n", "count edited"),
    ("3\n1 2 3\n", "2\n1 2 3\n", "count edited"),
    ("3\n1 2 3\n", "3\n1 2 9\n", None),
])
def test_structure_break_names_the_first_thing_a_reader_would_trip_on(original, mutated, reason):
    assert structure_break(original, mutated) == reason


def test_mutations_of_a_real_input_keep_its_structure(train_rows):
    broken = total = 0
    for row in train_rows[:60]:
        for text in row["public_tests"]["input"]:
            rng = random.Random(row["name"])
            for _ in range(5):
                total += 1
                broken += structure_break(text, mutate_input(text, rng)) is not None
    assert total > 250 and broken / total < 0.02  # bench/mutation_validity.py's target


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["0", "1", "7", "-3", "abc", "01", "2.5", "10"]), min_size=1, max_size=5),
                min_size=1, max_size=5), st.integers(0, 10**6))
def test_a_mutation_never_changes_lines_tokens_or_kinds(rows, seed):
    text = "\n".join(" ".join(r) for r in rows) + "\n"
    assert structure_break(text, mutate_input(text, random.Random(seed))) is None
