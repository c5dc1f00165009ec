"""pass@k and the filtered n@k (`acodium.metrics.estimators`): hand-computed values, shapes, bad input.

Their agreement with brute-force enumeration is in tests/test_metrics.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from acodium.errors import UserError
from acodium.metrics import estimators, n_at_k_filtered, pass_at_k


# --------------------------------------------------------------------------- pass@k


def test_pass_at_k_by_hand():
    # 5 samples, 2 correct: pass@2 = 1 - C(3,2)/C(5,2) = 1 - 3/10; pass@4 = 1 - 0 (only 3 wrong ones).
    np.testing.assert_allclose(pass_at_k(5, 2, [1, 2, 3, 4, 5]), [0.4, 0.7, 0.9, 1.0, 1.0], rtol=1e-15)
    assert pass_at_k(5, 0, 5) == 0.0
    assert pass_at_k(3, 3, 1) == 1.0


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


def test_pass_at_k_broadcasts_a_scalar_against_problems():
    np.testing.assert_allclose(pass_at_k(10, [0, 5, 10], 1), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(pass_at_k([10, 4], 2, 2), [1 - 28 / 45, 1 - 1 / 6])


def test_pass_at_k_names_the_problem_whose_counts_are_wrong():
    with pytest.raises(UserError, match=r"^c=4 correct exceeds the n=3 samples of problem 'q'\.$"):
        pass_at_k([5, 3], [1, 4], 1, problems=["p", "q"])
    with pytest.raises(UserError, match=r"^c=4 correct exceeds the n=3 samples of problem #1\.$"):
        pass_at_k([5, 3], [1, 4], 1)


def test_pass_at_k_for_a_few_ks_equals_every_k_then_picked():
    n = np.array([30, 30, 12, 7])
    c = np.array([0, 4, 11, 1])
    every = pass_at_k(n, c, np.arange(1, 8))
    np.testing.assert_allclose(pass_at_k(n, c, [7, 2, 5]), every[:, [6, 1, 4]], rtol=1e-15)


def test_repeated_pools_are_computed_once_and_given_back_to_each():
    # Many rows, few distinct (n, c): the result is gathered back in the rows' order.
    n = np.tile([10, 20, 20], 40)
    c = np.tile([1, 0, 20], 40)
    got = pass_at_k(n, c, [1, 10])
    want = np.array([[0.1, 1.0], [0.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(got, np.tile(want, (40, 1)), rtol=1e-14)


# --------------------------------------------------------------------------- n@k of the filtered policy


def test_n_at_k_filtered_by_hand():
    # K=4 samples, P=2 pass public, C=1 of those correct; draw k=2. Passing drawn p: h(0)=1/6, h(1)=4/6, h(2)=1/6.
    # 1@2 = (h(1) + h(2)) * 1/2 = 5/12; 2@2 = h(1) * 1/2 + h(2) * 1 = 1/2 = pass@2 of the 4 with 1 correct.
    np.testing.assert_allclose(n_at_k_filtered(4, 2, 1, [1, 2], 2), [5 / 12, 1 / 2], rtol=1e-14)
    assert n_at_k_filtered(4, 2, 1, 2, 2) == pytest.approx(pass_at_k(4, 1, 2), rel=1e-14)
    # A correct sample failing the public tests is never submitted: C counts only passing ones.
    assert n_at_k_filtered(4, 2, 0, 2, 4) == 0.0


def test_n_at_k_filtered_shapes():
    assert np.ndim(n_at_k_filtered(4, 2, 1, 1, 2)) == 0
    assert n_at_k_filtered(4, 2, 1, [1, 2], 2).shape == (2,)
    assert n_at_k_filtered(4, 2, 1, [1, 2], [1, 2, 3]).shape == (2, 3)
    assert n_at_k_filtered([4, 6], [2, 3], [1, 1], 1, 2).shape == (2,)
    assert n_at_k_filtered([4, 6], [2, 3], [1, 1], [1, 2], [1, 2, 4]).shape == (2, 2, 3)


def test_n_at_k_filtered_keeps_the_order_of_ns_as_given():
    got = n_at_k_filtered([9, 9], [5, 2], [2, 1], [3, 1, 3], [2, 9])
    for i, n in enumerate([3, 1, 3]):
        np.testing.assert_allclose(got[:, i], n_at_k_filtered([9, 9], [5, 2], [2, 1], n, [2, 9]), rtol=1e-15)


def test_n_at_k_filtered_in_many_chunks_and_threads_equals_one_piece(monkeypatch):
    rng = np.random.default_rng(8)
    K = rng.integers(30, 60, 200)
    P = rng.integers(0, 30, 200)
    C = (P * rng.random(200)).astype(int)
    whole = n_at_k_filtered(K, P, C, [1, 5], np.arange(1, 31))
    monkeypatch.setattr(estimators, "_CHUNK_ELEMENTS", 64)  # two rows a chunk: a hundred chunks
    pieces = n_at_k_filtered(K, P, C, [1, 5], np.arange(1, 31))
    np.testing.assert_allclose(pieces, whole, rtol=1e-13)  # a uniform chunk takes a faster path: ulps apart


def test_n_at_k_filtered_rejects_bad_counts():
    with pytest.raises(UserError, match="passing_correct <= passing <= samples"):
        n_at_k_filtered(10, 5, 6, 1, 1)
    with pytest.raises(UserError, match="k=11 exceeds the n=10 samples"):
        n_at_k_filtered(10, 5, 2, 1, 11)

    with pytest.raises(UserError, match=r"^Problem 'x' needs passing_correct <= passing <= samples, not 1, 4, 3\.$"):
        n_at_k_filtered([5, 3], [2, 4], [1, 1], 1, 1, problems=["w", "x"])
    with pytest.raises(UserError, match="n must be at least 1"):
        n_at_k_filtered(10, 5, 2, 0, 1)


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
