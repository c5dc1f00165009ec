"""n@k of a policy by subsampling (`acodium.metrics.sampled`): streams, draws, pools, shapes, bad input.

Agreement with the exact n@k and with brute force is in tests/test_metrics.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from acodium.errors import UserError
from acodium.metrics import n_at_k_filtered, n_at_k_sampled, sampled, solve_rate_sampled
from acodium.metrics.sampled import _bool_column, _cluster_column, _draw_indices, _mc_se, _pools
from acodium.policies import clustered_policy, filtered_policy, random_policy
from metrics_pools import POOLS, counts, judgements_of


def test_sampled_n_at_k_is_reproducible_and_refuses_to_extrapolate():
    judgements = judgements_of(POOLS)
    a = n_at_k_sampled(judgements, clustered_policy, 2, 5, trials=300, seed=7)[1]
    b = n_at_k_sampled(judgements, clustered_policy, 2, 5, trials=300, seed=7)[1]
    np.testing.assert_array_equal(a, b)
    with pytest.raises(UserError, match="k=9 exceeds the n=8 samples of problem 'a'"):
        n_at_k_sampled(judgements, clustered_policy, 2, 9)
    with pytest.raises(UserError, match="lacks the column"):
        n_at_k_sampled(judgements.drop(columns="correct"), clustered_policy, 2, 5)


def test_each_problem_and_k_has_a_stream_of_its_own():
    # Adding a problem, or a k, changes no other estimate: each (seed, problem, k) draws its own numbers.
    two = judgements_of({"a": POOLS["a"], "b": POOLS["b"]})
    names, alone = n_at_k_sampled(two, clustered_policy, [1, 2], [3], trials=200, seed=5)
    _, more = n_at_k_sampled(judgements_of(POOLS), clustered_policy, [1, 2], [3, 5], trials=200, seed=5)
    np.testing.assert_array_equal(more[:2, :, :1], alone)
    _, reseeded = n_at_k_sampled(two, clustered_policy, [1, 2], [3], trials=200, seed=6)
    assert not np.array_equal(reseeded, alone)


def test_shapes_follow_n_and_k():
    judged = judgements_of(POOLS)
    assert n_at_k_sampled(judged, random_policy, 1, 2, trials=10)[1].shape == (3,)
    assert n_at_k_sampled(judged, random_policy, [1, 2], 2, trials=10)[1].shape == (3, 2)
    assert n_at_k_sampled(judged, random_policy, 1, [2, 4, 8], trials=10)[1].shape == (3, 3)
    names, values, mc_se = n_at_k_sampled(judged, random_policy, [1, 2], [2, 4, 8], trials=10, return_mc_se=True)
    assert names == ["a", "b", "c"] and values.shape == mc_se.shape == (3, 2, 3)


def test_a_pool_without_a_correct_candidate_is_exactly_zero():
    judged = judgements_of({"none": [(True, False, 0)] * 5, "all": [(True, True, 0)] * 5})
    _, values, mc_se = n_at_k_sampled(judged, random_policy, 1, [1, 5], trials=30, return_mc_se=True)
    np.testing.assert_array_equal(values, [[0.0, 0.0], [1.0, 1.0]])
    assert (mc_se[0] == 0).all() and (mc_se[1] > 0).all()  # 30 of 30 draws is not a certainty


def test_monte_carlo_error_by_hand():
    # sqrt(q (1 - q) / trials), q pulled half a draw from 0 and 1; 0 where the value is certain.
    got = _mc_se(np.array([0.5, 0.0, 1.0, 0.0]), 100, np.array([False, False, False, True]))
    q = 0.5 / 101
    np.testing.assert_allclose(got, [0.05, np.sqrt(q * (1 - q) / 100), np.sqrt(q * (1 - q) / 100), 0.0])


def test_draws_are_uniform_subsets_without_repeats():
    rng = np.random.default_rng(3)
    for pool, k in [(20, 3), (6, 4), (5, 5)]:  # few of many, most of few, all
        idx = _draw_indices(rng, pool, k, 6000)
        assert idx.shape == (6000, k) and idx.min() >= 0 and idx.max() < pool
        assert all(len(set(row)) == k for row in idx[:500])
        share = np.bincount(idx.ravel(), minlength=pool) / idx.size
        np.testing.assert_allclose(share, 1 / pool, atol=0.01)  # every candidate as likely to be drawn


def test_draws_in_chunks_estimate_the_same_rate(monkeypatch):
    monkeypatch.setattr(sampled, "_DRAW_ELEMENTS", 80)  # ten draws of a pool of 8 a chunk
    K, P, C, _ = counts(POOLS)
    rng = np.random.default_rng(1)
    for i, pool in enumerate(POOLS.values()):
        passes, correct = np.array([x[0] for x in pool]), np.array([x[1] for x in pool])
        got = solve_rate_sampled(passes, correct, np.zeros(8, dtype=np.int64), filtered_policy, [1, 2], 4, 3000, rng)
        np.testing.assert_allclose(got, n_at_k_filtered(K[i], P[i], C[i], [1, 2], 4), atol=5 * 0.5 / np.sqrt(3000))


def test_a_policy_returning_the_wrong_shape_is_caught():
    def one_too_many(draws, n):
        return np.zeros((draws.trials, n + 1), dtype=np.int64)

    judged = judgements_of(POOLS)
    with pytest.raises(ValueError, match=r"A policy must return an array of shape \(7, 2\), not \(7, 3\)\."):
        n_at_k_sampled(judged, one_too_many, 2, 3, trials=7)


# --------------------------------------------------------------------------- the judgements read


def test_pools_follow_the_benchmark_when_given():
    judged = judgements_of({"b": POOLS["b"], "a": POOLS["a"]})
    assert [name for name, _ in _pools(judged)] == ["b", "a"]  # order of first appearance
    pools = _pools(judged, ["a", "z", "b"])
    assert [name for name, _ in pools] == ["a", "z", "b"] and pools[1][1].empty and len(pools[2][1]) == 8


@pytest.mark.parametrize("problems, message", [
    (["a", "a", "b"], "The list of problems names a problem twice."),
    ([], "The list of problems is empty."),
    (["a"], "The judgements hold problem 'b', which is not in the list of problems."),
])
def test_a_wrong_list_of_problems_is_one_sentence(problems, message):
    with pytest.raises(UserError) as caught:
        _pools(judgements_of({"a": POOLS["a"], "b": POOLS["b"]}), problems)
    assert str(caught.value) == message


def test_empty_judgements_need_the_list_of_problems():
    with pytest.raises(UserError, match=r"^The judgements table is empty \(give `problems`"):
        n_at_k_sampled(judgements_of({}), random_policy, 1, 1)
    names, values = n_at_k_sampled(judgements_of({}), random_policy, 1, 3, problems=["p", "q"])
    assert names == ["p", "q"] and (values == 0).all()


def test_a_missing_verdict_is_refused_not_guessed():
    judged = judgements_of({"a": POOLS["a"]})
    judged["correct"] = judged["correct"].astype(object)
    judged.loc[3, "correct"] = None
    with pytest.raises(UserError, match=r"^The judgements of problem 'a' have missing values in correct\.$"):
        n_at_k_sampled(judged, random_policy, 1, 2, trials=5)
    with pytest.raises(UserError, match="missing values in passes_public"):
        _bool_column(pd.DataFrame({"passes_public": [True, np.nan]}), "passes_public", "x")


def test_cluster_labels_are_made_compact_and_unknown_behaviour_is_one_cluster():
    np.testing.assert_array_equal(_cluster_column(pd.DataFrame({"cluster": [7, -3, 7, 12]})), [1, 0, 1, 2])
    np.testing.assert_array_equal(_cluster_column(pd.DataFrame({"cluster": [np.nan, np.nan]})), [0, 0])
    np.testing.assert_array_equal(_cluster_column(pd.DataFrame({"x": [1, 2, 3]})), [0, 0, 0])
    # Without a cluster column the clustered policy is the filtered one: one cluster, members at random.
    judged = judgements_of(POOLS).drop(columns="cluster")
    K, P, C, _ = counts(POOLS)
    _, values = n_at_k_sampled(judged, clustered_policy, [1, 2], [3, 8], trials=3000, seed=2)
    np.testing.assert_allclose(values, n_at_k_filtered(K, P, C, [1, 2], [3, 8]), atol=5 * 0.5 / np.sqrt(3000))


def test_trials_must_be_positive():
    with pytest.raises(UserError, match=r"^trials must be at least 1\.$"):
        n_at_k_sampled(judgements_of(POOLS), random_policy, 1, 1, trials=0)
