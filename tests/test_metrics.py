"""pass@k and n@k against brute-force enumeration of every draw on small pools.

The estimators of `acodium.metrics` (exact pass@k and filtered n@k, and the
subsampled n@k of the policies) checked against what they estimate, counted
draw by draw; each module's own cases sit in tests/test_metrics_<module>.py.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acodium.metrics import n_at_k_filtered, n_at_k_sampled, pass_at_k, per_draw_policy
from acodium.policies import clustered_policy, filtered_policy, random_policy
from metrics_pools import POOLS, counts, judgements_of


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


# --------------------------------------------------------------------------- n@k by subsampling


def test_sampled_filtered_policy_matches_the_exact_n_at_k():
    trials = 4000
    judgements = judgements_of(POOLS)
    ns, ks = [1, 2, 3], [1, 3, 5, 8]
    names, sampled = n_at_k_sampled(judgements, filtered_policy, ns, ks, trials=trials, seed=1)
    assert names == ["a", "b", "c"]
    K, P, C, _ = counts(POOLS)
    exact = n_at_k_filtered(K, P, C, ns, ks)
    tolerance = 5 * 0.5 / np.sqrt(trials)
    assert np.max(np.abs(sampled - exact)) < tolerance
    assert np.all(sampled[2] == 0)  # nothing passes: never solved


def test_random_policy_equals_pass_at_n():
    # The first n of a random order of a random k-subset are a random n-subset.
    trials = 4000
    judgements = judgements_of(POOLS)
    names, sampled = n_at_k_sampled(judgements, random_policy, [1, 2], [2, 5], trials=trials, seed=2)
    K, _, _, c = counts(POOLS)
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
    K, P, C, _ = counts(POOLS)
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
