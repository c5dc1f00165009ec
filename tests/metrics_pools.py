"""Small judgement pools the metrics tests share: (passes_public, correct, cluster) per candidate."""

from __future__ import annotations

import numpy as np
import pandas as pd


def judgements_of(pools: dict[str, list[tuple[bool, bool, int]]]) -> pd.DataFrame:
    """A judgements table (problem, candidate_id, passes_public, correct, cluster) from pools of tuples."""
    rows = []
    for problem, pool in pools.items():
        for i, (passes, correct, cluster) in enumerate(pool):
            rows.append({"problem": problem, "candidate_id": i, "passes_public": passes,
                         "correct": correct, "cluster": cluster})
    return pd.DataFrame(rows, columns=["problem", "candidate_id", "passes_public", "correct", "cluster"])


def counts(pools: dict[str, list[tuple[bool, bool, int]]]) -> tuple[np.ndarray, ...]:
    """Per problem: samples K, passing public P, passing and correct C, correct c."""
    K = np.array([len(p) for p in pools.values()])
    P = np.array([sum(x[0] for x in p) for p in pools.values()])
    C = np.array([sum(x[0] and x[1] for x in p) for p in pools.values()])
    c = np.array([sum(x[1] for x in p) for p in pools.values()])
    return K, P, C, c


# Three pools of 8: a (mixed, 5 clusters), b (one right answer passing public, one failing it), c (nothing passes).
POOLS = {
    "a": [(True, True, 0), (True, False, 1), (True, False, 1), (False, True, 0), (True, True, 2),
          (False, False, 3), (True, False, 1), (True, False, 4)],
    "b": [(True, False, 0)] * 6 + [(True, True, 1), (False, True, 1)],
    "c": [(False, False, 0)] * 8,
}
