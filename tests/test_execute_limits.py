"""`limits_for_problem`: the one place a test's limits are decided, on real problem rows."""

from __future__ import annotations

import pytest

from acodium.data import Problem, starter_rows
from acodium.errors import UserError
from acodium.execute import DEFAULT_TIME_MULTIPLIERS, Limits, limits_for_problem
from acodium.execute.types import (
    DEFAULT_MEMORY_BYTES,
    DEFAULT_OUTPUT_BYTES,
    DEFAULT_TIME_S,
    MAX_TIME_S,
)

MiB = 1 << 20


@pytest.fixture(scope="module")
def limited_rows() -> list[dict]:
    """Real rows that state their limits: the starter problems (1 s or 2 s, 256 MiB)."""
    rows = starter_rows()
    assert rows and all(r["time_limit"] and r["memory_limit_bytes"] for r in rows)
    return rows


def test_rows_without_limits_get_the_testers_defaults_unmultiplied(train_rows):
    """The local sample states no limits: 10 s and 256 MiB for every language (the default
    is already generous, so no multiplier applies to it)."""
    assert all(r["time_limit"] is None and r["memory_limit_bytes"] == 0 for r in train_rows)
    for row in train_rows[:20]:
        for language in ("python3", "cpp", "python2", "java"):
            assert limits_for_problem(row, language) == Limits(DEFAULT_TIME_S, DEFAULT_MEMORY_BYTES, DEFAULT_OUTPUT_BYTES)


def test_rows_with_limits_get_them_times_the_languages_multiplier(limited_rows):
    for row in limited_rows:
        seconds = row["time_limit"]["seconds"] + row["time_limit"]["nanos"] / 1e9
        for language, factor in DEFAULT_TIME_MULTIPLIERS.items():
            limits = limits_for_problem(row, language)
            assert limits.time_s == pytest.approx(seconds * factor)
            assert limits.memory_bytes == row["memory_limit_bytes"]
    slow = next(r for r in limited_rows if r["time_limit"]["seconds"] == 2)  # the 2 s problem
    assert limits_for_problem(slow, "python3").time_s == 4.0 and limits_for_problem(slow, "cpp").time_s == 2.0
    assert limits_for_problem(slow, "kotlin").time_s == 2.0  # a language without a multiplier: x1


def test_a_problem_view_gets_the_same_limits_as_its_row(train_rows, limited_rows):
    for row in train_rows[:10] + limited_rows:
        for language in ("python3", "cpp"):
            assert limits_for_problem(Problem.from_row(row), language) == limits_for_problem(row, language)


def test_time_s_overrides_every_problem_and_language_without_a_multiplier(train_rows, limited_rows):
    for row in train_rows[:5] + limited_rows:
        for language in ("python3", "cpp", "java"):
            limits = limits_for_problem(row, language, time_s=0.5)
            assert limits.time_s == 0.5
            assert limits.memory_bytes == limits_for_problem(row, language).memory_bytes  # memory untouched
    # The override wins over the multiplier and the default alike.
    assert limits_for_problem(limited_rows[0], "python3", time_s=3, time_multiplier=10).time_s == 3.0
    assert limits_for_problem(train_rows[0], "cpp", time_s=3, default_time_s=7).time_s == 3.0


def test_multipliers_a_number_or_a_mapping(limited_rows):
    row = next(r for r in limited_rows if r["time_limit"]["seconds"] == 1)
    assert limits_for_problem(row, "python3", time_multiplier=1).time_s == 1.0
    assert limits_for_problem(row, "cpp", time_multiplier=3).time_s == 3.0
    mapping = {"python3": 5, "cpp": 0.5}
    assert limits_for_problem(row, "python3", time_multiplier=mapping).time_s == 5.0
    assert limits_for_problem(row, "cpp", time_multiplier=mapping).time_s == 0.5
    assert limits_for_problem(row, "java", time_multiplier=mapping).time_s == 1.0  # not in the mapping: x1


def test_hub_shapes_of_the_time_limit(train_rows):
    row = train_rows[0]
    cases = [
        ({"seconds": 2, "nanos": 500_000_000}, 2.5),
        ({"seconds": 0, "nanos": 250_000_000}, 0.25),
        ({"seconds": 3, "nanos": None}, 3.0),
        (1.5, 1.5),  # already seconds
        ({"seconds": 0, "nanos": 0}, DEFAULT_TIME_S),  # zero means unknown
        (0, DEFAULT_TIME_S),
        (None, DEFAULT_TIME_S),
    ]
    for limit, seconds in cases:
        assert limits_for_problem(dict(row, time_limit=limit), "cpp").time_s == seconds, limit
        # The Problem view reads the same limit (a numeric one used to make it raise).
        assert limits_for_problem(Problem(dict(row, time_limit=limit)), "cpp").time_s == seconds, limit
    for shape in ("2 seconds", True, [2]):  # no shape the hub or the loader uses: refused, never guessed
        with pytest.raises(UserError, match=r"^The time_limit of problem .* should be null, a number of seconds"):
            limits_for_problem(dict(row, time_limit=shape), "cpp")


def test_defaults_and_output_size_can_be_chosen(train_rows, limited_rows):
    unknown = limits_for_problem(train_rows[0], "python3", default_time_s=3, default_memory_bytes=64 * MiB,
                                 output_bytes=MiB)
    assert unknown == Limits(3.0, 64 * MiB, MiB)
    known = limits_for_problem(limited_rows[0], "cpp", default_time_s=3, default_memory_bytes=64 * MiB)
    assert (known.time_s, known.memory_bytes) == (1.0, 256 * MiB)  # a problem's own limits win over defaults


def test_what_is_not_a_problem_is_one_sentence():
    for value in ("1234_A", 7, None, ["time_limit"]):
        with pytest.raises(UserError, match=r"^limits_for_problem needs a problem row or Problem, not \w+\.$"):
            limits_for_problem(value, "python3")


def test_a_limit_beyond_the_longest_allowed_is_refused(train_rows):
    """A huge stated limit (or override) is a UserError, never a test run without a limit."""
    with pytest.raises(UserError, match="at most 3600"):
        limits_for_problem(dict(train_rows[0], time_limit={"seconds": 2000, "nanos": 0}), "python3")
    with pytest.raises(UserError, match="at most 3600"):
        limits_for_problem(train_rows[0], "cpp", time_s=MAX_TIME_S * 2)


def test_problems_without_a_time_limit_are_said_once_with_the_default_and_how_to_change_it(train_rows, monkeypatch):
    import warnings

    from acodium import data
    from acodium.execute import limits

    monkeypatch.setattr(limits, "_SAID_DEFAULT_TIME", [])
    rows = train_rows[:5]
    assert all(limits_for_problem(r, "python3").time_s == 10.0 for r in rows)  # what the sentence says
    note = limits.unstated_time_limits(rows)
    assert note == (f"5 of 5 problems state no time limit (e.g. {rows[0]['name']!r}): their tests run with the "
                    "default of 10 s per test, the code_contests tester's, for every language; set time_limit_s in "
                    "a notebook or --time_limit at the command line to change it.")
    assert limits.unstated_time_limits(rows, time_s=2.0) is None  # an override replaces every limit
    assert limits.unstated_time_limits(data.load_problems("starter", "train")) is None  # each states its own
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        limits.say_unstated_time_limits(rows)
        limits.say_unstated_time_limits(rows)
    assert [str(w.message) for w in seen] == [note]
    assert seen[0].category is limits.DefaultTimeLimitWarning
