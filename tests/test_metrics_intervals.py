"""Intervals about another draw of problems (`acodium.metrics.intervals`): Wilson by hand, t quantiles, guards."""

from __future__ import annotations

import math

import numpy as np
import pytest

from acodium.errors import UserError
from acodium.metrics import DISPERSION_FLOOR, FEW_PROBLEMS, bootstrap_ci, metrics_table, problems_ci, score_ci
from acodium.metrics.intervals import _t_quantile
from metrics_pools import POOLS, judgements_of


def wilson(successes: int, total: float, q: float) -> tuple[float, float]:
    """The textbook Wilson score interval for a proportion, with quantile q."""
    p = successes / total
    centre = (p + q * q / (2 * total)) / (1 + q * q / total)
    half = q / (1 + q * q / total) * math.sqrt(p * (1 - p) / total + q * q / (4 * total * total))
    return centre - half, centre + half


# --------------------------------------------------------------------------- the score interval


@pytest.mark.parametrize("df, table", [(1, 12.7062), (2, 4.3027), (3, 3.1824), (5, 2.5706), (10, 2.2281),
                                       (19, 2.0930), (30, 2.0423), (100, 1.9840)])
def test_t_quantiles_match_the_printed_tables(df, table):
    assert _t_quantile(0.95, df) == pytest.approx(table, rel=2e-3)


def test_on_solved_or_unsolved_problems_the_score_interval_is_wilsons():
    # 0/1 scores: their dispersion is at least a Bernoulli's, so phi = 1 and the interval is Wilson's, t quantile.
    for solved, problems in [(1, 5), (7, 20), (19, 20), (0, 12)]:
        scores = np.r_[np.ones(solved), np.zeros(problems - solved)]
        value, low, high, method = score_ci(scores)
        want = wilson(solved, problems, _t_quantile(0.95, problems - 1))
        assert value == pytest.approx(solved / problems)
        assert (low, high) == pytest.approx((max(0.0, want[0]), min(1.0, want[1])), abs=1e-12)
        assert method == "score"


def test_equal_scores_are_floored_not_taken_as_certain():
    # Ten problems all at 0.5: no spread seen, so phi = DISPERSION_FLOOR, Wilson over 10 / 0.3 problems.
    _, low, high, _ = score_ci(np.full(10, 0.5))
    want = wilson(0.5 * 10 / DISPERSION_FLOOR, 10 / DISPERSION_FLOOR, _t_quantile(0.95, 9))
    assert (low, high) == pytest.approx(want, abs=1e-12)
    # One problem: the normal quantile (no degrees of freedom to spare), phi = 1 at the edge.
    _, low, high, _ = score_ci([0.0])
    assert low == 0.0 and high == pytest.approx(wilson(0, 1, 1.959964)[1], abs=1e-6)


def test_a_higher_level_is_a_wider_interval():
    scores = np.random.default_rng(2).random(25)
    narrow, wide = score_ci(scores, level=0.8), score_ci(scores, level=0.99)
    assert wide.ci_low < narrow.ci_low < narrow.value < narrow.ci_high < wide.ci_high


def test_several_metrics_at_once_are_each_their_own_interval():
    rng = np.random.default_rng(4)
    scores = np.stack([rng.random(40), np.zeros(40), np.ones(40)], axis=1)
    both = problems_ci(scores)
    for j in range(3):
        one = problems_ci(scores[:, j])
        assert (both.value[j], both.ci_low[j], both.ci_high[j], both.method[j]) == tuple(one)
    assert list(both.method) == ["bootstrap+score", "score", "score"]


@pytest.mark.parametrize("call, message", [
    (lambda: problems_ci([0.2, 0.4], method="normal"),
     'The interval method must be "auto", "bootstrap" or "score", not \'normal\'.'),
    (lambda: problems_ci([]), "problems_ci needs at least one problem's value."),
    (lambda: score_ci([0.3, np.nan]), "score_ci got a missing or infinite per-problem value."),
    (lambda: score_ci([0.5], level=1.0), "The confidence level must be between 0 and 1, not 1.0."),
    (lambda: score_ci([-0.5, 0.5]), "score_ci needs per-problem scores between 0 and 1."),
    (lambda: bootstrap_ci([0.5], resamples=0), "resamples must be at least 1."),
    (lambda: bootstrap_ci([0.5], level=0), "The confidence level must be between 0 and 1, not 0."),
])
def test_bad_input_is_one_sentence(call, message):
    with pytest.raises(UserError) as caught:
        call()
    assert str(caught.value) == message


# --------------------------------------------------------------------------- the bootstrap and the guarded interval


def test_the_bootstrap_is_repeatable_by_seed():
    scores = np.random.default_rng(9).random(50)
    assert bootstrap_ci(scores, seed=3) == bootstrap_ci(scores, seed=3)
    assert bootstrap_ci(scores, seed=3) != bootstrap_ci(scores, seed=4)


def test_bootstrap_ci_contains_the_mean_and_narrows_with_more_problems():
    rng = np.random.default_rng(0)
    small = rng.random(20)
    large = rng.random(2000)
    v, lo, hi = bootstrap_ci(small, resamples=2000, seed=1)
    assert v == pytest.approx(small.mean())
    assert lo < v < hi
    _, lo2, hi2 = bootstrap_ci(large, resamples=2000, seed=1)
    assert hi2 - lo2 < (hi - lo) / 3
    # Half-width close to the normal approximation 1.96 * sd / sqrt(P).
    assert (hi2 - lo2) / 2 == pytest.approx(1.96 * large.std() / np.sqrt(large.size), rel=0.15)
    assert bootstrap_ci([0.5, 0.5, 0.5]) == (0.5, 0.5, 0.5)
    values, lows, highs = bootstrap_ci(np.stack([small, small * 0], axis=1))
    assert values.shape == lows.shape == highs.shape == (2,)
    assert lows[1] == highs[1] == 0
    with pytest.raises(UserError):
        bootstrap_ci([])
    with pytest.raises(UserError):
        bootstrap_ci([0.1, np.nan])


def test_all_zero_scores_give_a_nonzero_interval_holding_zero():
    for problems in (5, 20, 50, 500):
        value, low, high, method = problems_ci(np.zeros(problems))
        assert value == low == 0.0 and high > 0.0, problems
        assert method == "score"
    # Wilson over 20 unsolved problems: about [0, 0.18] (t quantile, 19 df).
    assert score_ci(np.zeros(20)).ci_high == pytest.approx(0.1797, abs=1e-3)
    value, low, high, _ = problems_ci(np.ones(40))
    assert value == high == 1.0 and low < 1.0
    # The old percentile bootstrap is the defect: [0, 0].
    assert bootstrap_ci(np.zeros(20)) == (0.0, 0.0, 0.0)
    # Through the table: nothing solved, a real interval.
    judgements = judgements_of({f"p{i}": [(True, False, 0)] * 4 for i in range(12)})
    table = metrics_table(judgements, ks=[1, 4], ns=[1], resamples=100, trials=50)
    everyone = table[table["problem"] == "ALL"]
    assert (everyone["ci_low"] == 0).all() and (everyone["ci_high"] > 0).all()


def test_few_problems_use_the_score_interval_many_the_guarded_bootstrap():
    rng = np.random.default_rng(3)
    few = rng.random(FEW_PROBLEMS - 1)
    many = rng.random(FEW_PROBLEMS)
    assert problems_ci(few).method == "score"
    assert problems_ci(few)[:3] == score_ci(few)[:3]
    guarded = problems_ci(many)
    assert guarded.method == "bootstrap+score"
    boot, score = bootstrap_ci(many), score_ci(many)
    assert guarded.ci_low == min(boot[1], score.ci_low) and guarded.ci_high == max(boot[2], score.ci_high)
    assert problems_ci(many, method="bootstrap")[1:3] == boot[1:]
    with pytest.raises(UserError, match="between 0 and 1"):
        score_ci([0.5, 1.5])
    judgements = judgements_of(POOLS)
    table = metrics_table(judgements, ks=[1], policies={}, resamples=100)
    row = table[table["problem"] == "ALL"].iloc[0]
    assert row["interval"] == "problems" and row["ci_method"] == "score"
    assert table[table["problem"] != "ALL"]["interval"].isna().all()


def test_the_new_interval_covers_where_the_bootstrap_did_not():
    # A hard small cell of bench/ci_coverage.py: 20 problems, 80% unsolvable, the rest Beta(0.3, 15); pass@1 of 20 samples.
    rng = np.random.default_rng(20)
    problems, datasets, n = 20, 300, 20
    p = rng.beta(0.3, 15, (problems, datasets))
    p[rng.random(p.shape) < 0.8] = 0.0
    scores = rng.binomial(n, p) / n
    truth = 0.2 * 0.3 / 15.3  # mean of p: pass@1's population mean
    _, old_low, old_high = bootstrap_ci(scores, resamples=300)
    new = problems_ci(scores, resamples=300)
    old_cover = np.mean((old_low <= truth) & (truth <= old_high))
    new_cover = np.mean((new.ci_low <= truth) & (truth <= new.ci_high))
    assert old_cover < 0.75
    assert new_cover >= 0.93
    assert np.all(new.ci_high > new.ci_low)
