"""The "samples" reading (`acodium.metrics.samples_reading`): precision on these very problems."""

from __future__ import annotations

import numpy as np
import pytest

from acodium.errors import UserError
from acodium.metrics import metrics_table, pass_at_k, samples_ci
from acodium.metrics.samples_reading import _filtered_variances, _pass_variances, _policy_variances
from acodium.policies import clustered_policy
from metrics_pools import POOLS, judgements_of


def test_the_variance_of_pass_at_k_by_hand():
    # m_j = C(n-c, j) / C(n, j); Var = m_k^2 - m_2k. n=4, c=2: m_1 = 1/2, m_2 = 1/6, m_4 = 0.
    got = _pass_variances(np.array([4, 4, 0]), np.array([2, 0, 0]), np.array([1, 2, 3]))
    np.testing.assert_allclose(got[0, :2], [1 / 4 - 1 / 6, 1 / 36])
    np.testing.assert_array_equal(got[1, :2], 0.0)  # nothing correct: the estimate cannot move
    assert np.isnan(got[0, 2]) and np.isnan(got[2]).all()  # n < 2k, or an empty pool: unknown


def test_the_variance_of_the_filtered_n_at_k_comes_from_resampled_counts():
    rng = np.random.default_rng(0)
    K, P, C = np.array([6, 6, 6, 0]), np.array([6, 6, 3, 0]), np.array([0, 6, 1, 0])
    got = _filtered_variances(K, P, C, np.array([1]), np.array([1, 3]), 200, rng)[:, 0]
    np.testing.assert_array_equal(got[:2], 0.0)  # all wrong, all right: every resample agrees
    assert (got[2] > 0).all() and np.isnan(got[3]).all()
    # The resampled counts' spread is about the estimate's own: 1@1 = C/K, Var = p (1 - p) / K.
    assert got[2, 0] == pytest.approx((1 / 6) * (5 / 6) / 6, rel=0.3)


def test_the_variance_of_a_policy_resamples_its_pools():
    judged = judgements_of({"none": [(True, False, 0)] * 4, "mixed": POOLS["a"]})
    pools = [(name, group) for name, group in judged.groupby("problem", sort=False)]
    pools.append(("empty", judged.iloc[:0]))
    got = _policy_variances(pools, clustered_policy, np.array([1]), np.array([2, 4]), trials=200, resamples=30, seed=0)
    assert got.shape == (3, 1, 2)
    np.testing.assert_array_equal(got[0], 0.0)  # no correct candidate: 0 in every resample
    assert (got[1] > 0).all() and np.isnan(got[2]).all()


def test_samples_ci_by_hand_shapes_and_levels():
    value, low, high, method = samples_ci([4, 4], [2, 0], 1)
    assert value == pytest.approx(0.25) and 0 < low < 0.25 < high < 1 and method == "score (samples)"
    many = samples_ci([40, 40, 0], [10, 20, 0], [1, 10, 20])
    np.testing.assert_allclose(many.value, pass_at_k([40, 40, 0], [10, 20, 0], [1, 10, 20]).mean(axis=0))
    assert many.ci_low.shape == (3,) and list(many.method) == ["score (samples)"] * 3
    assert np.all(many.ci_low <= many.value) and np.all(many.value <= many.ci_high)
    tight, loose = samples_ci([40, 40], [10, 20], 1, level=0.5), samples_ci([40, 40], [10, 20], 1, level=0.99)
    assert loose.ci_low < tight.ci_low and tight.ci_high < loose.ci_high


def test_samples_ci_with_no_candidate_anywhere_is_zero():
    assert tuple(samples_ci([0, 0], [0, 0], 3)[:3]) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("call, message", [
    (lambda: samples_ci([4], [5], 1), "c=5 correct exceeds the n=4 samples of problem #0."),
    (lambda: samples_ci([4], [1], 1, level=95), "The confidence level must be between 0 and 1, not 95."),
    (lambda: samples_ci([4], [1], 0), "k must be at least 1."),
    (lambda: metrics_table(judgements_of(POOLS), ks=[1], ci="bootstrap"),
     'ci must be "problems" (another draw of problems) or "samples" (these problems), not \'bootstrap\'.'),
])
def test_bad_input_is_one_sentence(call, message):
    with pytest.raises(UserError) as caught:
        call()
    assert str(caught.value) == message


def test_empty_pools_are_zero_by_definition_in_the_table():
    table = metrics_table(judgements_of(POOLS), ks=[1], ns=[1], problems=["a", "b", "c", "gone"], ci="samples",
                          trials=100, resamples=50)
    gone = table[table["problem"] == "gone"]
    assert (gone["value"] == 0).all() and (gone["ci_low"] == 0).all() and (gone["ci_high"] == 0).all()
    assert set(gone["ci_method"]) == {"empty pool"}
    assert set(table[table["problem"] == "a"]["ci_method"]) == {"score (samples)"}


def test_the_samples_reading_is_about_these_problems():
    judgements = judgements_of(POOLS)
    by_problems = metrics_table(judgements, ks=[1, 4], ns=[1], trials=200, resamples=200)
    by_samples = metrics_table(judgements, ks=[1, 4], ns=[1], trials=200, resamples=200, ci="samples")
    np.testing.assert_allclose(by_samples["value"], by_problems["value"])  # same estimates, other interval
    assert set(by_samples["interval"]) == {"samples"}
    assert by_samples["ci_low"].notna().all()
    assert (by_samples["ci_low"] <= by_samples["value"]).all() and (by_samples["value"] <= by_samples["ci_high"]).all()
    # Problem c has no correct candidate: its rate is uncertain, not known to be 0.
    c = by_samples[(by_samples["problem"] == "c") & (by_samples["metric"] == "pass@k")]
    assert (c["ci_low"] == 0).all() and (c["ci_high"] > 0).all()
    # Three problems fixed: far narrower than an interval about other problems.
    everyone = lambda t: t[(t["problem"] == "ALL") & (t["metric"] == "pass@k")]  # noqa: E731
    width = lambda t: (everyone(t)["ci_high"] - everyone(t)["ci_low"]).to_numpy()  # noqa: E731
    assert np.all(width(by_samples) < width(by_problems))
    with pytest.raises(UserError, match="ci must be"):
        metrics_table(judgements, ks=[1], ci="bootstrap")


def test_samples_ci_never_collapses_and_counts_empty_pools():
    value, low, high, method = samples_ci(np.full(30, 20), np.zeros(30, dtype=int), 1)
    assert value == low == 0.0 and 0.0 < high < 0.05  # 600 samples, none correct
    assert method == "score (samples)"
    # An empty pool halves the mean and its interval, no uncertainty of its own.
    full = samples_ci([20, 20], [5, 10], [1, 10])
    half = samples_ci([20, 20, 0, 0], [5, 10, 0, 0], [1, 10])
    np.testing.assert_allclose(half.value, full.value / 2)
    np.testing.assert_allclose(half.ci_high, full.ci_high / 2)
    # More samples a problem, a narrower interval on the same problems.
    wide = samples_ci(np.full(10, 20), np.full(10, 4), 1)
    narrow = samples_ci(np.full(10, 2000), np.full(10, 400), 1)
    assert narrow.ci_high - narrow.ci_low < (wide.ci_high - wide.ci_low) / 5
