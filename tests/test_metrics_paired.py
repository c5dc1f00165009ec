"""Paired comparisons of two scores over the same problems: the exact sign test, Monte Carlo ties."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from acodium.errors import UserError
from acodium.metrics import compare_metrics, compare_paired, sign_test_p


def test_the_sign_test_is_exact_and_two_sided():
    assert sign_test_p(8, 0) == sign_test_p(0, 8) == 2 / 256
    assert sign_test_p(7, 1) == pytest.approx(2 * (math.comb(8, 7) + 1) / 256)
    assert sign_test_p(3, 3) == 1.0 and sign_test_p(0, 0) == 1.0
    # against brute force over every split of 10 problems
    for ahead in range(11):
        tail = sum(math.comb(10, i) for i in range(10 + 1) if abs(i - 5) >= abs(ahead - 5)) / 2**10
        assert sign_test_p(ahead, 10 - ahead) == pytest.approx(min(1.0, tail))


def test_a_difference_within_the_monte_carlo_error_is_even():
    a, b = [0.50, 0.30, 0.20, 0.9], [0.40, 0.29, 0.25, 0.9]
    plain = compare_paired(a, b)
    assert (plain.ahead, plain.even, plain.behind) == (2, 1, 1)
    assert plain.difference == pytest.approx((0.10 + 0.01 - 0.05) / 4)
    noisy = compare_paired(a, b, a_mc_se=[0.01] * 4, b_mc_se=[float("nan")] * 4)  # an exact b: no error
    assert (noisy.ahead, noisy.even, noisy.behind) == (1, 2, 1)  # +0.01 is within 2 x 0.01: even; -0.05 is not
    assert noisy.p_value == 1.0
    with pytest.raises(UserError):
        compare_paired([0.1, 0.2], [0.1])


def test_compare_metrics_walks_the_selection_ladder_at_the_largest_k():
    rows = []
    for problem, (r, f, c) in {"a": (0.1, 0.3, 0.6), "b": (0.0, 0.2, 0.2), "c": (0.1, 0.5, 0.9)}.items():
        for metric, value, se in (("n@k random", r, 0.0), ("n@k filtered", f, 0.0), ("n@k clustered", c, 0.0)):
            rows += [{"problem": problem, "metric": metric, "n": 1, "k": 30, "value": value, "mc_se": se},
                     {"problem": problem, "metric": metric, "n": 1, "k": 10, "value": 0.0, "mc_se": se}]
    rows.append({"problem": "ALL", "metric": "n@k random", "n": 1, "k": 30, "value": 0.07, "mc_se": 0.0})
    table = compare_metrics(pd.DataFrame(rows))
    assert list(table["metric"]) == ["n@k filtered", "n@k clustered"]
    assert list(table["against"]) == ["n@k random", "n@k filtered"] and set(table["k"]) == {30}
    assert list(table["ahead"]) == [3, 2] and list(table["even"]) == [0, 1] and list(table["behind"]) == [0, 0]
    assert table["difference"].iloc[1] == pytest.approx((0.3 + 0.0 + 0.4) / 3)
    assert compare_metrics(pd.DataFrame(rows), k=10)["ahead"].tolist() == [0, 0]
    assert compare_metrics(pd.DataFrame(rows[-1:])).empty
