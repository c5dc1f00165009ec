"""The execution-agreement policies (mbr_exec, codet, largest_clusters) on pools computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from acodium.errors import UserError
from acodium.metrics import metrics_table, n_at_k_filtered, n_at_k_sampled
from acodium.policies import (
    Draws,
    clustered_policy,
    codet_policy,
    get_scorer,
    largest_clusters_policy,
    mbr_exec_policy,
)


def rows(values, trials):
    return np.repeat(np.asarray(values)[None, ...], trials, axis=0)


# --------------------------------------------------------------------------- mbr_exec


BEHAVIOUR = [[1, 1, 1], [1, 1, 2], [1, 2, 2], [3, 3, 3], [3, 3, 3]]
CLUSTER = [0, 1, 2, 3, 3]


def test_mbr_exec_counts_agreement_per_input_not_whole_behaviour():
    # Per-input agreement with the others: c0 2+1=3, c1 2+2=4, c2 1+2=3, c3 and c4 3 each.
    # clustered submits from {c3, c4} first (the only cluster of two); mbr_exec submits c1.
    trials = 300
    d = Draws(rows([True] * 5, trials), rows(CLUSTER, trials), np.random.default_rng(0),
              behaviour=rows(BEHAVIOUR, trials))
    order = mbr_exec_policy(d, 5)
    assert (order[:, 0] == 1).all()
    # then one of each remaining cluster (agreement 3 each, in random order), then c3 or c4's partner
    assert all(set(row[1:4]) | {3, 4} >= {0, 2} and len({CLUSTER[i] for i in row[1:4]}) == 3 for row in order)
    assert all(sorted(row[1:]) == [0, 2, 3, 4] for row in order)
    assert {int(row[1]) for row in order} == {0, 2, 3, 4}  # equal agreement: random, members at random
    clustered = clustered_policy(Draws(rows([True] * 5, trials), rows(CLUSTER, trials), np.random.default_rng(0)), 1)
    assert set(clustered[:, 0]) == {3, 4}


def test_mbr_exec_counts_only_passing_candidates_and_never_submits_failing_ones():
    # c1 fails the public tests: it is not submitted and lends no agreement, so c0 and c2 (1 each)
    # tie with c3 and c4 (3 each)... c3/c4 win.
    trials = 200
    passes = [True, False, True, True, True]
    d = Draws(rows(passes, trials), rows(CLUSTER, trials), np.random.default_rng(1), behaviour=rows(BEHAVIOUR, trials))
    order = mbr_exec_policy(d, 5)
    assert set(order[:, 0]) == {3, 4}
    assert (order[:, 4] == -1).all() and not (order == 1).any()


def test_mbr_exec_input_not_run_agrees_with_nothing():
    behaviour = [[-1, -1], [-1, -1], [5, 6]]
    d = Draws(rows([True] * 3, 100), rows([0, 0, 1], 100), np.random.default_rng(2), behaviour=rows(behaviour, 100))
    # Every agreement is 0: the order among the two clusters is random.
    assert set(mbr_exec_policy(d, 1)[:, 0]) == {0, 1, 2}


# --------------------------------------------------------------------------- codet

# A1, A2 correct and passing 3 model tests; B1, B2, B3 wrong and passing 1: dual agreement 2x3 = 6 > 3x1 = 3.
GOOD_MODEL = pd.DataFrame({
    "problem": "p", "candidate_id": range(5), "passes_public": True,
    "correct": [True, True, False, False, False], "cluster": [0, 0, 1, 1, 1],
    "model_set": [0, 0, 1, 1, 1], "model_tests_passed": [3, 3, 1, 1, 1],
})
# The model's expected outputs contradict the reference: the correct programs pass none of its tests.
WRONG_MODEL = GOOD_MODEL.assign(model_tests_passed=[0, 0, 2, 2, 2])


def codet_value(table, k, trials=20000):
    _, value = n_at_k_sampled(table, codet_policy, 1, k, trials=trials, seed=3)
    return float(value[0])


def test_codet_beats_filtered_when_the_model_tests_are_right():
    filtered = n_at_k_filtered(np.array([5]), np.array([5]), np.array([2]), np.array([1]), np.array([2, 5]))
    assert filtered[0, 0].tolist() == pytest.approx([0.4, 0.4])
    # k = 5: the set {A1, A2} scores 6 against 3: always correct.
    assert codet_value(GOOD_MODEL, 5, trials=200) == 1.0
    # k = 2, by hand over the 10 pairs: AA (1) correct; AB (6): A scores 1x3 > 1x1, correct; BB (3) wrong: 7/10.
    assert codet_value(GOOD_MODEL, 2) == pytest.approx(0.7, abs=0.012)
    # clustering alone picks the larger (wrong) cluster at k = 5
    _, clustered = n_at_k_sampled(GOOD_MODEL, clustered_policy, 1, 5, trials=200)
    assert clustered[0] == 0.0


def test_codet_loses_to_filtered_when_the_model_tests_contradict_the_reference():
    assert codet_value(WRONG_MODEL, 5, trials=200) == 0.0
    # k = 2: AA scores 2x0 = 0 for the only set: a random one, correct (1 pair); AB: B scores 1x2 > 0: wrong; BB wrong.
    assert codet_value(WRONG_MODEL, 2) == pytest.approx(0.1, abs=0.008)


def test_codet_without_model_tests_is_one_sentence():
    plain = GOOD_MODEL.drop(columns=["model_set", "model_tests_passed"])
    with pytest.raises(UserError, match=r"^The codet policy needs model-written tests .*\.$"):
        n_at_k_sampled(plain, codet_policy, 1, 2, trials=10)


def test_codet_n_at_k_in_the_metrics_table_with_intervals():
    table = metrics_table(pd.concat([GOOD_MODEL, WRONG_MODEL.assign(problem="q")]), [2, 5], [1],
                          policies={"codet": codet_policy}, trials=2000, resamples=200)
    row = table[(table.problem == "ALL") & (table.metric == "n@k codet") & (table.k == 5)].iloc[0]
    assert row.value == pytest.approx(0.5) and row.ci_low < 0.5 < row.ci_high


# --------------------------------------------------------------------------- largest_clusters

SIZES = [0, 0, 0, 1, 1, 2]  # clusters of 3, 2 and 1
SCORES = [-10.0, -5.0, -7.0, -1.0, -20.0, 0.0]


def lc_order(n, trials=50):
    d = Draws(rows([True] * 6, trials), rows(SIZES, trials), np.random.default_rng(4), score=rows(SCORES, trials))
    return largest_clusters_policy(d, n)


def test_largest_clusters_keeps_the_n_largest_and_submits_their_best_by_score():
    assert (lc_order(2) == [3, 1]).all()  # the singleton's better score does not let it in
    assert (lc_order(3) == [5, 3, 1]).all()
    assert (lc_order(7) == [5, 3, 1, 2, 4, 0, -1]).all()  # then the next best members, round by round


def test_largest_clusters_equal_sizes_are_chosen_at_random():
    d = Draws(rows([True] * 4, 2000), rows([0, 0, 1, 1], 2000), np.random.default_rng(5),
              score=rows([1.0, 2.0, 3.0, 4.0], 2000))
    first = largest_clusters_policy(d, 1)[:, 0]
    assert set(first) == {1, 3} and 0.45 < (first == 3).mean() < 0.55


def test_length_scorer_prefers_shorter_programs():
    assert get_scorer("length")(["print(1)\n", "x = 1\nprint(x)\n"], [None, None]).argmax() == 0
    with pytest.raises(UserError, match="Unknown scorer 'nope'"):
        get_scorer("nope")


def test_codet_with_the_samples_interval_resamples_the_pools_with_their_model_tests():
    table = metrics_table(GOOD_MODEL, [2], [1], policies={"codet": codet_policy}, trials=400, resamples=50,
                          ci="samples", per_problem=False)
    row = table[table.metric == "n@k codet"].iloc[0]
    assert row.value == pytest.approx(0.7, abs=0.05) and row.ci_low < row.value < row.ci_high <= 1.0
