"""Selection policies: the order of submissions from a draw, the registry by name, the one signature."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from acodium import policies
from acodium.errors import UserError
from acodium.metrics import metrics_table, n_at_k_filtered, n_at_k_sampled
from acodium.policies import (
    POLICIES,
    Draws,
    _smallest,
    clustered_policy,
    filtered_policy,
    get_policy,
    per_draw_policy,
    random_policy,
    register_policy,
)
from metrics_pools import judgements_of


def draws(passes, cluster, trials=1, seed=0) -> Draws:
    passes = np.repeat(np.asarray(passes, dtype=bool)[None, :], trials, axis=0)
    cluster = np.repeat(np.asarray(cluster)[None, :], trials, axis=0)
    return Draws(passes, cluster, np.random.default_rng(seed))


# --------------------------------------------------------------------------- the three policies


def test_clustered_policy_goes_round_the_clusters_largest_first_and_cycles():
    # cluster 5 has 3 passing members, cluster 2 has 2, cluster 7 has 1; position 6 fails public.
    passes = [True, True, True, True, True, True, False]
    cluster = [5, 2, 5, 7, 2, 5, 7]
    order = clustered_policy(draws(passes, cluster, trials=50), 8)
    labels = np.array(cluster)
    for row in order:
        submitted = row[row >= 0]
        assert list(labels[submitted]) == [5, 2, 7, 5, 2, 5]  # cycle back to the largest
        assert 6 not in submitted  # failing public tests: never submitted
        assert list(row[6:]) == [-1, -1]
    firsts = {int(row[0]) for row in order}
    assert firsts == {0, 2, 5}  # the member within a cluster is chosen at random


def test_cluster_sizes_are_counted_within_the_draw_among_passing_candidates():
    # In the whole pool cluster 0 is the largest, but this draw holds one of its members
    # (plus two failing ones, which do not count) against two of cluster 1.
    order = clustered_policy(draws([True, False, False, True, True], [0, 0, 0, 1, 1], trials=20), 1)
    assert set(order[:, 0]) <= {3, 4}


def test_equal_clusters_are_ordered_at_random():
    order = clustered_policy(draws([True] * 4, [0, 0, 1, 1], trials=2000, seed=4), 1)
    share_cluster0 = np.isin(order[:, 0], [0, 1]).mean()
    assert 0.45 < share_cluster0 < 0.55


def test_filtered_and_random_policies():
    passes = [True, False, True, False, False]
    order = filtered_policy(draws(passes, [0] * 5, trials=3000, seed=1), 3)
    assert set(order[:, :2].ravel()) == {0, 2} and (order[:, 2] == -1).all()
    assert 0.45 < (order[:, 0] == 0).mean() < 0.55
    order = random_policy(draws(passes, [0] * 5, trials=5000, seed=2), 2)
    assert all(len(set(row)) == 2 for row in order)
    counts = np.bincount(order[:, 0], minlength=5) / len(order)
    assert np.all(np.abs(counts - 0.2) < 0.03)  # failing candidates too: the baseline ignores tests


def test_clustered_policy_with_singleton_clusters_is_the_filtered_policy():
    # Every passing candidate in a cluster of its own: the order is uniform, as in `filtered`.
    pool = pd.DataFrame({
        "problem": "p", "candidate_id": range(8),
        "passes_public": [True, True, False, True, False, True, True, False],
        "correct": [True, False, True, False, False, False, True, True],
        "cluster": range(8),
    })
    table = metrics_table(pool, ks=[3, 6], ns=[1, 2], trials=4000, resamples=10, per_problem=False,
                          policies={"clustered": clustered_policy, "filtered": filtered_policy})
    exact = table[table["metric"] == "n@k filtered"].set_index(["n", "k"])["value"]
    for name in ("n@k clustered", "n@k filtered (sampled)"):
        sampled = table[table["metric"] == name].set_index(["n", "k"])["value"]
        assert np.max(np.abs(sampled - exact)) < 5 * 0.5 / np.sqrt(4000)
    assert exact[(1, 3)] == pytest.approx(float(n_at_k_filtered(8, 5, 2, 1, 3)))


def test_no_passing_candidate_means_no_submission_for_filtered_and_clustered():
    d = draws([False] * 4, [0, 1, 1, 2], trials=3)
    for policy in (filtered_policy, clustered_policy):
        assert (policy(d, 2) == -1).all()
    assert (random_policy(d, 2) >= 0).all()  # the baseline submits anyway


@pytest.mark.parametrize("name", ["random", "filtered", "clustered"])
def test_every_policy_keeps_the_one_signature(name):
    # (draws, n) -> [trials x n]: distinct positions within the draw, best first, then only -1.
    rng = np.random.default_rng(11)
    policy = get_policy(name)
    for k, n in [(1, 1), (5, 2), (6, 6), (4, 9)]:
        passes = rng.random((40, k)) < 0.5
        cluster = rng.integers(0, 3, (40, k))
        order = policy(Draws(passes, cluster, np.random.default_rng(0)), n)
        assert order.shape == (40, n) and np.issubdtype(order.dtype, np.integer)
        for t, row in enumerate(order):
            submitted = row[row >= 0]
            assert list(row[len(submitted):]) == [-1] * (n - len(submitted))  # -1 only after the last one
            assert len(set(submitted)) == len(submitted) and np.all(submitted < k)
            if name == "random":
                assert len(submitted) == min(n, k)
            else:  # only candidates passing the public tests, as many as there are
                assert passes[t, submitted].all() and len(submitted) == min(n, passes[t].sum())
        again = policy(Draws(passes, cluster, np.random.default_rng(0)), n)
        np.testing.assert_array_equal(order, again)  # the draw's generator decides every random choice


# --------------------------------------------------------------------------- helpers of the signature


def test_smallest_orders_by_key_and_masks_the_ineligible():
    key = np.array([[0.3, 0.1, 0.2], [0.0, 0.5, 0.4]])
    eligible = np.array([[True, True, False], [True, True, True]])
    np.testing.assert_array_equal(_smallest(key, eligible, 2), [[1, -1], [0, 2]])
    np.testing.assert_array_equal(_smallest(key, eligible, 3), [[1, -1, 0], [0, 2, 1]])
    np.testing.assert_array_equal(_smallest(key, eligible, 5), [[1, -1, 0, -1, -1], [0, 2, 1, -1, -1]])


def test_a_policy_written_for_one_draw():
    def last_passing_first(passes, cluster, rng):
        """Passing candidates, last position first."""
        return np.flatnonzero(passes)[::-1]

    policy = per_draw_policy(last_passing_first)
    assert policy.__doc__ == "Passing candidates, last position first."
    d = Draws(np.array([[True, False, True, True], [False, False, False, True]]), np.zeros((2, 4), dtype=int),
              np.random.default_rng(0))
    np.testing.assert_array_equal(policy(d, 2), [[3, 2], [3, -1]])
    np.testing.assert_array_equal(policy(d, 5), [[3, 2, 0, -1, -1], [3, -1, -1, -1, -1]])
    with pytest.raises(ValueError, match="distinct positions among 0..3"):
        per_draw_policy(lambda p, c, r: [4])(d, 1)
    with pytest.raises(ValueError, match="distinct positions"):
        per_draw_policy(lambda p, c, r: [1, 1])(d, 2)


# --------------------------------------------------------------------------- the registry


def test_the_registry_holds_the_policies_by_name():
    assert list(POLICIES) == ["random", "filtered", "clustered", "mbr_exec", "codet", "largest_clusters"]
    assert [get_policy(n) for n in POLICIES][:3] == [random_policy, filtered_policy, clustered_policy]
    with pytest.raises(UserError, match=r"^Unknown selection policy 'best'; choose among random, filtered, "
                                        r"clustered, mbr_exec, codet, largest_clusters\.$"):
        get_policy("best")
    with pytest.raises(UserError, match="Unknown selection policy"):
        get_policy(["clustered"])  # not a name at all


def test_a_registered_policy_is_chosen_by_name_and_scored(monkeypatch):
    monkeypatch.setattr(policies, "POLICIES", dict(POLICIES))  # leave the real registry as it was

    @register_policy("first_passing")
    def first_passing(draws: Draws, n: int) -> np.ndarray:
        """Passing candidates in the order of the draw."""
        key = np.broadcast_to(np.arange(draws.k, dtype=float), draws.passes_public.shape)
        return _smallest(key + draws.k * ~draws.passes_public, draws.passes_public, n)

    assert policies.get_policy("first_passing") is first_passing
    assert "first_passing" not in POLICIES  # the module's registry was the patched copy
    # Drawing the whole pool keeps its order: candidate 0 (passes, wrong), 1 (passes, right), 2 (fails, right).
    judged = judgements_of({"p": [(True, False, 0), (True, True, 0), (False, True, 0)]})
    _, values = n_at_k_sampled(judged, policies.get_policy("first_passing"), [1, 2], 3, trials=20)
    np.testing.assert_array_equal(values, [[0.0, 1.0]])
    # Registering the same function again is harmless; another under a taken name is refused.
    assert register_policy("first_passing")(first_passing) is first_passing
    with pytest.raises(UserError, match=r"^A selection policy is already registered as 'clustered'\.$"):
        register_policy("clustered")(first_passing)


@pytest.mark.parametrize("name", ["Best", "", "two words", "1st", "n@k", 3])
def test_a_policy_name_is_a_plain_lower_case_word(name):
    with pytest.raises(UserError, match="A policy name is lower-case letters"):
        register_policy(name)


def test_a_policy_must_be_a_function(monkeypatch):
    monkeypatch.setattr(policies, "POLICIES", dict(POLICIES))
    with pytest.raises(UserError, match=r"The policy 'table' must be a function \(draws, n\) -> positions\."):
        register_policy("table")({"a": 1})
    assert "table" not in policies.POLICIES
