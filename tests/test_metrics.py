"""pass@k and n@k against brute-force enumeration of every draw on small pools."""

from __future__ import annotations

import itertools
from fractions import Fraction
from math import comb

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acodium.errors import UserError
from acodium.metrics import (
    FEW_PROBLEMS,
    TABLE_EXTRAS,
    bootstrap_ci,
    fitting_ks,
    metrics_table,
    n_at_k_filtered,
    n_at_k_sampled,
    pass_at_k,
    per_draw_policy,
    problems_ci,
    samples_ci,
    score_ci,
)
from acodium.select import clustered_policy, filtered_policy, random_policy
from acodium.tables import METRICS


# --------------------------------------------------------------------------- brute force


def brute_pass_at_k(n: int, c: int, k: int) -> Fraction:
    """Share of the k-subsets of n samples (c correct) holding a correct one."""
    pool = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    return Fraction(sum(any(pool[i] for i in s) for s in subsets), len(subsets))


def brute_n_at_k_filtered(pool: list[tuple[bool, bool]], n: int, k: int) -> Fraction:
    """Every k-subset, then every choice of min(n, p) submissions among its p public-passing members."""
    total = Fraction(0)
    subsets = list(itertools.combinations(range(len(pool)), k))
    for s in subsets:
        passing = [i for i in s if pool[i][0]]
        m = min(n, len(passing))
        choices = list(itertools.combinations(passing, m))
        total += Fraction(sum(any(pool[i][1] for i in ch) for ch in choices), len(choices))
    return total / len(subsets)


def pool_of(K: int, P: int, C: int, correct_failing: int = 0) -> list[tuple[bool, bool]]:
    """(passes_public, correct) per sample: C pass and are correct, P - C pass and are wrong."""
    pool = [(True, True)] * C + [(True, False)] * (P - C)
    pool += [(False, True)] * correct_failing
    pool += [(False, False)] * (K - P - correct_failing)
    return pool


# --------------------------------------------------------------------------- pass@k


def test_pass_at_k_exhaustive_small_grid():
    for n in range(1, 8):
        for c in range(n + 1):
            ks = list(range(1, n + 1))
            got = pass_at_k(n, c, ks)
            want = [float(brute_pass_at_k(n, c, k)) for k in ks]
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 60).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
def test_pass_at_k_matches_the_binomial_formula(args):
    n, c, k = args
    want = 1 - Fraction(comb(n - c, k), comb(n, k))
    assert pass_at_k(n, c, k) == pytest.approx(float(want), rel=1e-12, abs=1e-15)


def test_pass_at_1_is_c_over_n_and_pass_at_n_is_any_correct():
    n = np.array([10, 10, 7, 1000, 1])
    c = np.array([0, 3, 7, 1, 1])
    np.testing.assert_allclose(pass_at_k(n, c, 1), c / n, rtol=1e-14)
    for i in range(n.size):
        assert pass_at_k(int(n[i]), int(c[i]), int(n[i])) == float(c[i] > 0)


def test_pass_at_k_is_monotone_in_k_and_in_c():
    values = pass_at_k(np.full(6, 200), np.array([0, 1, 2, 10, 100, 200]), np.arange(1, 201))
    assert values.shape == (6, 200)
    assert np.all(np.diff(values, axis=1) >= -1e-15)
    assert np.all(np.diff(values, axis=0) >= -1e-15)
    assert np.all((values >= 0) & (values <= 1))


def test_pass_at_k_keeps_tiny_values_precise():
    # 1 correct in 10^6: a naive 1 - product would lose most digits.
    assert pass_at_k(10**6, 1, 1) == pytest.approx(1e-6, rel=1e-12)
    assert pass_at_k(10**6, 1, 3) == pytest.approx(3e-6, rel=1e-12)


def test_pass_at_k_shapes():
    assert isinstance(pass_at_k(5, 2, 1), float)
    assert pass_at_k(5, 2, [1, 2]).shape == (2,)
    assert pass_at_k([5, 6, 7], [1, 2, 3], 2).shape == (3,)
    assert pass_at_k([5, 6, 7], [1, 2, 3], [1, 2]).shape == (3, 2)


def test_pass_at_k_refuses_to_extrapolate():
    with pytest.raises(UserError, match=r"k=11 exceeds the n=10 samples of problem 'b'"):
        pass_at_k([20, 10], [1, 1], [1, 11], problems=["a", "b"])
    with pytest.raises(UserError, match="correct exceeds"):
        pass_at_k(5, 6, 1)
    with pytest.raises(UserError, match="at least 1"):
        pass_at_k(5, 2, 0)
    with pytest.raises(UserError, match="whole numbers"):
        pass_at_k(5.5, 2, 1)
    with pytest.raises(UserError, match="negative"):
        pass_at_k(5, -1, 1)


# --------------------------------------------------------------------------- exact n@k of the filtered policy


def test_n_at_k_filtered_exhaustive_small_pools():
    for K in range(1, 7):
        for P in range(K + 1):
            for C in range(P + 1):
                for extra in range(K - P + 1):  # correct samples failing public: never submitted
                    pool = pool_of(K, P, C, extra)
                    got = n_at_k_filtered(K, P, C, [1, 2, 3, 7], list(range(1, K + 1)))
                    for i, n in enumerate([1, 2, 3, 7]):
                        for j, k in enumerate(range(1, K + 1)):
                            want = float(brute_n_at_k_filtered(pool, n, k))
                            assert got[i, j] == pytest.approx(want, abs=1e-12), (K, P, C, extra, n, k)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 9).flatmap(
        lambda K: st.tuples(
            st.just(K),
            st.integers(0, K).flatmap(lambda P: st.tuples(st.just(P), st.integers(0, P))),
            st.integers(1, K),
            st.integers(1, 12),
        )
    )
)
def test_n_at_k_filtered_property(args):
    K, (P, C), k, n = args
    want = brute_n_at_k_filtered(pool_of(K, P, C), n, k)
    assert n_at_k_filtered(K, P, C, n, k) == pytest.approx(float(want), abs=1e-12)


def test_n_at_k_with_n_at_least_k_is_pass_at_k_of_passing_and_correct():
    K, P, C = 500, 120, 7
    ks = np.array([1, 2, 5, 10, 50])
    for n in (50, 60, 500):
        got = n_at_k_filtered(K, P, C, n, ks)
        np.testing.assert_allclose(got, pass_at_k(K, C, ks), rtol=1e-9)


def test_n_at_k_filtered_on_large_pools_is_consistent():
    K = np.array([10_000, 10_000, 3_000])
    P = np.array([5_000, 30, 2_999])
    C = np.array([1, 10, 2_999])
    ks = np.array([1, 10, 100, 1000, 2_999, 3_000])
    got = n_at_k_filtered(K, P, C, [1, 10], ks)
    assert got.shape == (3, 2, 6)
    assert np.all(np.diff(got, axis=2) >= -1e-12)  # more samples never hurt
    assert np.all(got[:, 1] >= got[:, 0] - 1e-12)  # more submissions never hurt
    # 1@1 = chance the single draw passes public and is correct
    np.testing.assert_allclose(got[:, 0, 0], C / K, rtol=1e-12)
    # 1 correct among 5000 passing: 1@k is about 1/5000 for any k (one pick among the passing)
    assert got[0, 0, -1] == pytest.approx(1 / 5000, rel=1e-6)


def exact_n_at_k(K: int, P: int, C: int, n: int, k: int) -> Fraction:
    """The closed form with big integers: sum_p h(p) pass@min(n, p) of (P, C), h hypergeometric."""
    total = Fraction(0)
    for p in range(max(0, k - (K - P)), min(k, P) + 1):
        h = Fraction(comb(P, p) * comb(K - P, k - p), comb(K, k))
        m = min(n, p)
        total += h * (1 - Fraction(comb(P - C, m), comb(P, m)))
    return total


def test_n_at_k_filtered_on_many_larger_pools_against_big_integer_arithmetic():
    # Pools of up to 3,000 samples: several row chunks, the k > K - P corner, repeated pools.
    rng = np.random.default_rng(5)
    K = rng.integers(40, 3000, 30)
    P = np.minimum(K, (K * rng.choice([0.0, 0.01, 0.3, 0.97, 1.0], 30)).astype(int) + rng.integers(0, 3, 30))
    C = (P * rng.choice([0.0, 0.1, 0.5, 1.0], 30)).astype(int)
    K, P, C = np.r_[K, K[:5], K[:5]], np.r_[P, P[:5], P[:5]], np.r_[C, C[:5], C[:5]]
    ks = np.array([1, 2, 7, 20, 39, 40])
    ns = [1, 3, 10]
    got = n_at_k_filtered(K, P, C, ns, ks)
    for r in range(K.size):
        for i, n in enumerate(ns):
            for j, k in enumerate(ks):
                want = float(exact_n_at_k(int(K[r]), int(P[r]), int(C[r]), n, int(k)))
                assert got[r, i, j] == pytest.approx(want, rel=1e-9, abs=1e-12), (K[r], P[r], C[r], n, k)
    # Every k up to K on one pool where fewer samples fail than are drawn for most k.
    every_k = np.arange(1, 301)
    row = n_at_k_filtered(300, 290, 3, 4, every_k)
    for k in (1, 9, 10, 11, 12, 13, 14, 150, 300):
        assert row[k - 1] == pytest.approx(float(exact_n_at_k(300, 290, 3, 4, k)), rel=1e-9, abs=1e-12), k


def test_n_at_k_filtered_rejects_bad_counts():
    with pytest.raises(UserError, match="passing_correct <= passing <= samples"):
        n_at_k_filtered(10, 5, 6, 1, 1)
    with pytest.raises(UserError, match="k=11 exceeds the n=10 samples"):
        n_at_k_filtered(10, 5, 2, 1, 11)


# --------------------------------------------------------------------------- n@k by subsampling


def judgements_of(pools: dict[str, list[tuple[bool, bool, int]]]) -> pd.DataFrame:
    rows = []
    for problem, pool in pools.items():
        for i, (passes, correct, cluster) in enumerate(pool):
            rows.append({"problem": problem, "candidate_id": i, "passes_public": passes,
                         "correct": correct, "cluster": cluster})
    return pd.DataFrame(rows)


POOLS = {
    "a": [(True, True, 0), (True, False, 1), (True, False, 1), (False, True, 0), (True, True, 2),
          (False, False, 3), (True, False, 1), (True, False, 4)],
    "b": [(True, False, 0)] * 6 + [(True, True, 1), (False, True, 1)],
    "c": [(False, False, 0)] * 8,
}


def test_sampled_filtered_policy_matches_the_exact_n_at_k():
    trials = 4000
    judgements = judgements_of(POOLS)
    ns, ks = [1, 2, 3], [1, 3, 5, 8]
    names, sampled = n_at_k_sampled(judgements, filtered_policy, ns, ks, trials=trials, seed=1)
    assert names == ["a", "b", "c"]
    K = np.array([len(p) for p in POOLS.values()])
    P = np.array([sum(x[0] for x in p) for p in POOLS.values()])
    C = np.array([sum(x[0] and x[1] for x in p) for p in POOLS.values()])
    exact = n_at_k_filtered(K, P, C, ns, ks)
    tolerance = 5 * 0.5 / np.sqrt(trials)
    assert np.max(np.abs(sampled - exact)) < tolerance
    assert np.all(sampled[2] == 0)  # nothing passes: never solved


def test_random_policy_equals_pass_at_n():
    # The first n of a random order of a random k-subset are a random n-subset.
    trials = 4000
    judgements = judgements_of(POOLS)
    names, sampled = n_at_k_sampled(judgements, random_policy, [1, 2], [2, 5], trials=trials, seed=2)
    K = np.array([len(p) for p in POOLS.values()])
    c = np.array([sum(x[1] for x in p) for p in POOLS.values()])
    for i, n in enumerate([1, 2]):
        want = pass_at_k(K, c, n)
        assert np.max(np.abs(sampled[:, i, :] - want[:, None])) < 5 * 0.5 / np.sqrt(trials)


def test_a_policy_written_for_one_draw_plugs_in():
    def first_passing_by_position(passes, cluster, rng):
        """Submit passing candidates in a random order."""
        passing = np.flatnonzero(passes)
        return rng.permutation(passing)

    policy = per_draw_policy(first_passing_by_position)
    trials = 3000
    judgements = judgements_of(POOLS)
    _, sampled = n_at_k_sampled(judgements, policy, [1, 2], [3, 8], trials=trials, seed=4)
    K = np.array([len(p) for p in POOLS.values()])
    P = np.array([sum(x[0] for x in p) for p in POOLS.values()])
    C = np.array([sum(x[0] and x[1] for x in p) for p in POOLS.values()])
    exact = n_at_k_filtered(K, P, C, [1, 2], [3, 8])
    assert np.max(np.abs(sampled - exact)) < 5 * 0.5 / np.sqrt(trials)
    with pytest.raises(ValueError, match="distinct positions"):
        n_at_k_sampled(judgements, per_draw_policy(lambda p, c, r: [0, 0]), 2, 3, trials=5)


def reference_clustered_order(items, within_order, cluster_order) -> list[int]:
    """Plain-Python AlphaCode selection for one draw with its random choices fixed.

    items: (index, passes, cluster); within_order: item indices in random
    order; cluster_order: cluster labels in random order (tie-break only).
    """
    passing = [it for it in items if it[1]]
    members: dict[int, list[int]] = {}
    for idx in within_order:
        for it in passing:
            if it[0] == idx:
                members.setdefault(it[2], []).append(idx)
    clusters = sorted(members, key=lambda c: (-len(members[c]), cluster_order.index(c)))
    order = []
    for round_ in range(max((len(m) for m in members.values()), default=0)):
        for c in clusters:
            if round_ < len(members[c]):
                order.append(members[c][round_])
    return order


def brute_clustered_n_at_k(pool, n: int, k: int) -> float:
    labels = sorted({c for _, _, c in pool})
    total = Fraction(0)
    subsets = list(itertools.combinations(range(len(pool)), k))
    for s in subsets:
        items = [(i, pool[i][0], pool[i][2]) for i in s]
        perms = list(itertools.permutations(s))
        cluster_perms = list(itertools.permutations(labels))
        hits = 0
        for wp in perms:
            for cp in cluster_perms:
                order = reference_clustered_order(items, list(wp), list(cp))[:n]
                hits += any(pool[i][1] for i in order)
        total += Fraction(hits, len(perms) * len(cluster_perms))
    return float(total / len(subsets))


def test_clustered_policy_matches_brute_force_on_a_small_pool():
    pool = [(True, True, 0), (True, False, 1), (True, False, 1), (False, True, 0), (True, True, 2),
            (True, False, 1)]
    judgements = judgements_of({"p": pool})
    trials = 6000
    for k in (2, 4, 6):
        _, sampled = n_at_k_sampled(judgements, clustered_policy, [1, 2, 3], k, trials=trials, seed=3)
        for i, n in enumerate([1, 2, 3]):
            want = brute_clustered_n_at_k(pool, n, k)
            assert abs(sampled[0, i] - want) < 5 * 0.5 / np.sqrt(trials), (n, k, sampled[0, i], want)


def test_clustered_policy_beats_filtered_when_the_largest_cluster_is_right():
    # 3 correct programs agree; 5 wrong ones all behave differently.
    pool = [(True, True, 0)] * 3 + [(True, False, 1 + i) for i in range(5)]
    judgements = judgements_of({"p": pool})
    _, clustered = n_at_k_sampled(judgements, clustered_policy, 1, 8, trials=200, seed=0)
    _, filtered = n_at_k_sampled(judgements, filtered_policy, 1, 8, trials=200, seed=0)
    assert clustered[0] == 1.0
    assert filtered[0] < 0.7


def test_sampled_n_at_k_is_reproducible_and_refuses_to_extrapolate():
    judgements = judgements_of(POOLS)
    a = n_at_k_sampled(judgements, clustered_policy, 2, 5, trials=300, seed=7)[1]
    b = n_at_k_sampled(judgements, clustered_policy, 2, 5, trials=300, seed=7)[1]
    np.testing.assert_array_equal(a, b)
    with pytest.raises(UserError, match="k=9 exceeds the n=8 samples of problem 'a'"):
        n_at_k_sampled(judgements, clustered_policy, 2, 9)
    with pytest.raises(UserError, match="lacks the column"):
        n_at_k_sampled(judgements.drop(columns="correct"), clustered_policy, 2, 5)


# --------------------------------------------------------------------------- bootstrap and the table


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


def test_metrics_table_columns_and_values():
    judgements = judgements_of(POOLS)
    table = metrics_table(judgements, ks=[1, 4, 8], ns=[1, 2], trials=500, resamples=300)
    assert list(table.columns) == METRICS + TABLE_EXTRAS
    assert set(table["metric"]) == {"pass@k", "n@k filtered", "n@k clustered"}
    everyone = table[table["problem"] == "ALL"]
    assert len(everyone) == 3 + 2 * 3 + 2 * 3
    assert (everyone["ci_low"] <= everyone["value"]).all() and (everyone["value"] <= everyone["ci_high"]).all()
    per_problem = table[table["problem"] != "ALL"]
    assert set(per_problem["problem"]) == {"a", "b", "c"}
    assert per_problem["ci_low"].isna().all()
    # ALL is the mean of the per-problem rows
    means = per_problem.groupby(["metric", "n", "k"])["value"].mean()
    for _, row in everyone.iterrows():
        assert row["value"] == pytest.approx(means[(row["metric"], row["n"], row["k"])])
    p1 = table[(table["metric"] == "pass@k") & (table["k"] == 1) & (table["problem"] == "b")]["value"].item()
    assert p1 == pytest.approx(2 / 8)
    with pytest.raises(UserError, match="k=9 exceeds"):
        metrics_table(judgements, ks=[9])


# --------------------------------------------------------------------------- problems without candidates (issue 14)


def test_an_empty_pool_scores_zero_at_every_k_and_n():
    assert pass_at_k(0, 0, 5) == 0.0
    np.testing.assert_array_equal(pass_at_k([2, 0], [1, 0], [1, 2]), [[0.5, 1.0], [0.0, 0.0]])
    got = n_at_k_filtered([0, 3], [0, 2], [0, 1], [1, 2], [1, 3])
    np.testing.assert_array_equal(got[0], 0.0)
    np.testing.assert_allclose(got[1], n_at_k_filtered(3, 2, 1, [1, 2], [1, 3]))
    # A non-empty pool shorter than k stays an error.
    with pytest.raises(UserError, match="k=3 exceeds the n=2 samples of problem 'A'"):
        pass_at_k([2, 0], [1, 0], 3, problems=["A", "B"])


def test_a_problem_without_candidates_stays_in_the_mean():
    # A: 2 candidates, 1 correct; B: none. pass@1 = (0.5 + 0) / 2, not 0.5.
    judgements = judgements_of({"A": [(True, True, 0), (True, False, 1)]})
    table = metrics_table(judgements, ks=[1, 2], ns=[1], problems=["A", "B"], trials=200, resamples=200)
    everyone = table[(table["problem"] == "ALL") & (table["metric"] == "pass@k")].set_index("k")
    assert everyone.loc[1, "value"] == pytest.approx(0.25)
    assert everyone.loc[1, "problems"] == 2 and everyone.loc[1, "short_pools"] == 1
    b = table[table["problem"] == "B"]
    assert len(b) == len(table[table["problem"] == "A"]) and (b["value"] == 0).all()
    assert (b["short_pools"] == 1).all() and (b["mc_se"] == 0).all()
    names, values = n_at_k_sampled(judgements, clustered_policy, 1, 2, trials=50, problems=["A", "B"])
    assert names == ["A", "B"] and values[1] == 0
    # Every problem without candidates: all 0, still a table.
    nothing = metrics_table(judgements.iloc[:0], ks=[1, 5], problems=["A", "B"], policies={})
    assert (nothing["value"] == 0).all()
    with pytest.raises(UserError, match="not in the list of problems"):
        metrics_table(judgements, ks=[1], problems=["B"])


def test_k_beyond_a_pool_is_an_error_only_when_asked_for():
    judgements = judgements_of(POOLS)  # pools of 8
    with pytest.raises(UserError, match="k=9 exceeds"):
        metrics_table(judgements, ks=[9], problems=["a", "b", "c", "empty"])
    table = metrics_table(judgements, ks=None, problems=["a", "b", "c", "empty"], policies={})
    assert sorted(set(table["k"])) == [1, 2, 5]
    assert table.attrs["notes"] == ["k=10 and above left out of the grid: problem 'a' has only 8 samples."]
    assert fitting_ks([0, 3, 8], [1, 3]) == ([1, 3], None)
    assert fitting_ks([0, 0], None)[0] == [1]


# --------------------------------------------------------------------------- intervals that cover (issue 14)


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


def test_mc_error_is_reported_and_shrinks_with_trials():
    judgements = judgements_of(POOLS)
    errors = []
    for trials in (100, 1600):
        table = metrics_table(judgements, ks=[3, 8], ns=[1], trials=trials, resamples=50)
        sampled = table[table["metric"] == "n@k clustered"]
        exact = table[table["metric"] != "n@k clustered"]
        assert (exact["mc_se"] == 0).all()
        assert (sampled[sampled["problem"] == "c"]["mc_se"] == 0).all()  # no correct candidate: exactly 0
        errors.append(sampled[sampled["problem"] == "ALL"]["mc_se"].to_numpy())
    assert np.all(errors[0] > 0)
    assert np.all(errors[1] < errors[0] / 2.5)  # 1 / sqrt(trials), faster where a value sits at 0 or 1
    assert errors[1][0] == pytest.approx(errors[0][0] / 4, rel=0.35)  # k = 3: an intermediate value
    _, values, mc_se = n_at_k_sampled(judgements, clustered_policy, 1, 3, trials=400, return_mc_se=True)
    assert mc_se.shape == values.shape and np.all(mc_se <= 0.5 / np.sqrt(400) + 1e-12)


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
