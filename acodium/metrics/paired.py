"""Two scores of the same problems compared problem by problem: which is ahead, and how surely.

Two selection policies scored on the same problems move together (an easy
problem is easy for both), so their intervals over problems, side by side,
overlap on a handful of problems even when one policy is ahead on every one
of them. The paired question is asked here: on how many problems is one
ahead, and could that be chance? The answer is the exact two-sided sign test,
which assumes nothing about how the differences are spread (a Student-t
interval on the mean difference covers 73-87% instead of 95% for skewed
differences of 8 problems, by simulation). A difference within the Monte Carlo
error of sampled scores (`mc_se` of the METRICS table) is even, not a win.
`compare_metrics` makes these comparisons from a METRICS table's per-problem
rows (AlphaCode's ladder by default: filtered against random, clustered
against filtered).
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd

from ..errors import UserError

# A difference counts as ahead or behind when it exceeds this many Monte Carlo standard errors.
MC_ERRORS = 2.0


class PairedComparison(NamedTuple):
    """a against b over the same problems: mean difference, problems a is ahead / even / behind on, and
    the exact two-sided sign test's p-value (1 when every problem is even)."""

    difference: float
    ahead: int
    even: int
    behind: int
    p_value: float


def sign_test_p(ahead: int, behind: int) -> float:
    """Exact two-sided sign test: the chance of a split at least this uneven if each side were as likely."""
    trials = ahead + behind
    if trials == 0:
        return 1.0
    extreme = max(ahead, behind)
    tail = sum(math.comb(trials, i) for i in range(extreme, trials + 1)) / 2.0**trials
    return min(1.0, 2.0 * tail)


def compare_paired(a, b, a_mc_se=None, b_mc_se=None) -> PairedComparison:
    """Compare per-problem scores `a` and `b` (same problems, same order), each with its optional
    Monte Carlo standard errors: a problem is even when |a - b| <= MC_ERRORS x the combined error."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape or a.size == 0:
        raise UserError("compare_paired needs one score per problem in each, for the same problems.")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise UserError("compare_paired got a missing or infinite per-problem score.")
    error = np.zeros_like(a)
    for se in (a_mc_se, b_mc_se):
        if se is not None:
            error = error + np.nan_to_num(np.asarray(se, dtype=np.float64)) ** 2
    margin = MC_ERRORS * np.sqrt(error) + 1e-12
    diff = a - b
    ahead, behind = int((diff > margin).sum()), int((diff < -margin).sum())
    return PairedComparison(float(diff.mean()), ahead, a.size - ahead - behind, behind, sign_test_p(ahead, behind))


# The selection ladder of AlphaCode's ablation: each policy against the one it refines.
LADDER = (("n@k filtered", "n@k random"), ("n@k clustered", "n@k filtered"))


def compare_metrics(metrics: pd.DataFrame, pairs: Sequence[tuple[str, str]] = LADDER,
                    k: int | None = None) -> pd.DataFrame:
    """Paired comparisons of a METRICS table's per-problem rows: each (metric, against) pair at every n, at k.

    k: default the largest k of the table. One row per pair and n: metric,
    against, n, k, difference (mean over problems), ahead, even, behind (of
    the problems), p_value (`compare_paired`). Pairs the table lacks are left
    out; a table without per-problem rows gives an empty table.
    """
    columns = ["metric", "against", "n", "k", "difference", "ahead", "even", "behind", "p_value"]
    per = metrics[metrics["problem"] != "ALL"]
    if per.empty:
        return pd.DataFrame(columns=columns)
    k = int(k if k is not None else per["k"].max())
    per = per[per["k"] == k]
    se = per["mc_se"] if "mc_se" in per.columns else pd.Series(0.0, index=per.index)
    per = per.assign(mc_se=se)
    rows = []
    for metric, against in pairs:
        for n in sorted(set(per.loc[per["metric"] == metric, "n"]) & set(per.loc[per["metric"] == against, "n"])):
            a = per[(per["metric"] == metric) & (per["n"] == n)].set_index("problem")
            b = per[(per["metric"] == against) & (per["n"] == n)].set_index("problem").reindex(a.index)
            c = compare_paired(a["value"], b["value"], a["mc_se"], b["mc_se"])
            rows.append({"metric": metric, "against": against, "n": int(n), "k": k, **c._asdict()})
    return pd.DataFrame(rows, columns=columns)
