"""The one rule for the k reported (`acodium.metrics.reported_ks`), and that its callers agree."""

from __future__ import annotations

import numpy as np
import pytest

from acodium.errors import UserError
from acodium.metrics import log_grid, metrics_table, reported_ks
from acodium.metrics.ks import _check_k_fits, _counts, _ks
from metrics_pools import judgements_of


# --------------------------------------------------------------------------- the default grid


@pytest.mark.parametrize("upto, grid", [
    (1, [1]), (2, [1, 2]), (3, [1, 2, 3]), (8, [1, 2, 5, 8]), (10, [1, 2, 5, 10]),
    (34, [1, 2, 5, 10, 20, 34]), (100, [1, 2, 5, 10, 20, 50, 100]),
    (1234, [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 1234]),
])
def test_log_grid_steps_1_2_5_and_ends_at_the_pool(upto, grid):
    assert log_grid(upto) == grid


def test_log_grid_needs_a_sample():
    with pytest.raises(UserError, match=r"^A k grid needs at least one sample per problem\.$"):
        log_grid(0)


def test_the_default_grid_ends_at_the_smallest_non_empty_pool():
    # The demo's pools: the smallest holds 34, so pass@10 and 10@34 are on the grid.
    ks, note = reported_ks([51, 34, 0, 40], problems=["a", "b", "empty", "d"])
    assert ks == [1, 2, 5, 10, 20, 34]
    assert note == "k=50 and above left out of the grid: problem 'b' has only 34 samples."
    # One sample a problem: pass@1 only; without names the note counts the problem's place.
    assert reported_ks([1, 3]) == ([1], "k=2 and above left out of the grid: problem #0 has only 1 sample.")
    assert reported_ks(np.array([10, 10])).ks == [1, 2, 5, 10]
    # Pools all of one size (gen --k 4 made 4 for each): the grid ends at their size, with nothing to say.
    assert reported_ks([4, 0, 4], problems=["x", "empty", "y"]) == ([1, 2, 4], None)
    # The first of several smallest pools is the one named.
    assert "problem 'x'" in reported_ks([7, 7, 9], problems=["x", "y", "z"]).note


def test_empty_pools_bound_nothing():
    assert reported_ks([0, 0, 5]).ks == [1, 2, 5]
    assert reported_ks([0, 0, 5], [5]).ks == [5]
    # Every pool empty: every k asked for is reported (all 0); by default k=1 alone, said so.
    assert reported_ks([0, 0], [1, 100]) == ([1, 100], None)
    assert reported_ks([0, 0]) == ([1], "Every problem has an empty pool: only k=1 is reported (all 0).")
    assert reported_ks([], [3]) == ([3], None)


# --------------------------------------------------------------------------- k asked for


def test_asked_ks_are_sorted_and_those_beyond_a_pool_left_out():
    assert reported_ks([20, 30], [10, 1, 10, 5]) == ([1, 5, 10], None)
    assert reported_ks([20, 30], 5) == ([5], None)
    assert reported_ks([20, 30], (x for x in (2, 1))) == ([1, 2], None)
    ks, note = reported_ks([2, 0, 5], [1, 10, 100], problems=["A", "B", "C"])
    assert ks == [1]
    assert note == "k=10 and above left out: problem 'A' has only 2 samples, and pass@k is not extrapolated."
    assert reported_ks([2, 5], [1, 2, 3], problems=["A", "C"]) == (
        [1, 2], "k=3 and above left out: problem 'A' has only 2 samples, and pass@k is not extrapolated.")


def test_when_no_asked_k_fits_it_is_one_sentence():
    with pytest.raises(UserError, match=r"^k=5 is more than the 1 sample of problem 'A', and pass@k is not "
                                        r"extrapolated: choose k <= 1\.$"):
        reported_ks([1, 0, 4], [5, 10], problems=["A", "B", "C"])


@pytest.mark.parametrize("ks, message", [
    ([0, 1], "k must be at least 1."),
    ([-2], "k must not be negative."),
    ([1.5], "k must be whole numbers."),
    ([True], "k must be whole numbers, not bool."),
    (["2"], "k must be whole numbers, not <U1."),
    ([], "Give at least one k."),
    ([[1, 2]], "k must be a number or a list of numbers."),
])
def test_bad_ks_are_one_sentence(ks, message):
    with pytest.raises(UserError) as caught:
        reported_ks([10], ks)
    assert str(caught.value) == message


@pytest.mark.parametrize("samples, message", [
    ([3, -1], "samples must not be negative."),
    ([2.5], "samples must be whole numbers."),
    ([[3, 4]], "samples must be one pool size per problem."),
])
def test_bad_pool_sizes_are_one_sentence(samples, message):
    with pytest.raises(UserError) as caught:
        reported_ks(samples)
    assert str(caught.value) == message


# --------------------------------------------------------------------------- the checks every estimator makes


def test_counts_accept_whole_floats_and_refuse_the_rest():
    np.testing.assert_array_equal(_counts("n", [3.0, 4]), [3, 4])
    assert _counts("n", 7).shape == (1,)
    for bad in ([np.nan], [np.inf], [1.25]):
        with pytest.raises(UserError, match="n must be whole numbers"):
            _counts("n", bad)
    np.testing.assert_array_equal(_ks([3, 1]), [3, 1])  # order kept: the caller decides
    with pytest.raises(UserError, match="n must be at least 1"):
        _ks([0], "n")


def test_a_k_beyond_a_non_empty_pool_is_refused_by_the_estimators():
    _check_k_fits(np.array([0, 5]), np.array([1, 5]), None)  # an empty pool is 0 at every k
    with pytest.raises(UserError, match=r"^k=6 exceeds the n=5 samples of problem 'q'\.$"):
        _check_k_fits(np.array([9, 5]), np.array([1, 6]), ["p", "q"])


# --------------------------------------------------------------------------- its callers agree


def test_the_metrics_table_reports_the_k_of_the_rule():
    """The METRICS table (hence the CLI, the recipe and the notebooks) reports what `reported_ks` says;
    an empty pool (problem c) bounds nothing."""
    pools = {"a": [(True, True, 0)] * 12, "b": [(True, False, 0)] * 5}
    judged = judgements_of(pools)
    table = metrics_table(judged, policies={}, resamples=20, problems=["a", "b", "c"])
    want = reported_ks([12, 5, 0], problems=["a", "b", "c"])
    assert sorted(set(table["k"])) == want.ks == [1, 2, 5]
    assert table.attrs["notes"] == [want.note] == ["k=10 and above left out of the grid: problem 'b' has only 5 samples."]
    # k asked for: the same ones left out by both.
    asked = metrics_table(judged, ks=[1, 3, 8], policies={}, resamples=20)
    assert sorted(set(asked["k"])) == reported_ks([12, 5, 0], [8, 3, 1]).ks == [1, 3]
    assert asked.attrs["notes"] == ["k=8 and above left out: problem 'b' has only 5 samples, "
                                    "and pass@k is not extrapolated."]
    for refused in (lambda: reported_ks([12, 5, 0], [8], problems=["a", "b", "c"]),
                    lambda: metrics_table(judged, ks=[8], policies={}, resamples=20)):
        with pytest.raises(UserError, match="k=8 is more than the 5 samples of problem 'b'"):
            refused()
