"""The JUDGEMENTS table of a pool from its programs' verdicts (`schedule.run_schedule`), as arrays.

The same rules as `acodium.select.judgements` reads them from a per-candidate
executions table, computed per program and spread to candidates with numpy:
a candidate is its program's verdicts; clusters are counted in candidates (two
candidates of one program are two members), cluster 0 the largest, ties to the
cluster holding the first candidate in candidate_id order; a candidate whose
program ran no clustering input (under the "public_first" schedule: it failed
the public tests) is cluster -1, never submitted; a candidate without code is
incorrect, never submitted, a cluster of its own (-2, -3, ...).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import select
from ..tables import JUDGEMENTS
from .schedule import ScheduleResult

NOT_CLUSTERED = -1


def _order_keys(ids: list[str]) -> np.ndarray:
    """Positions of candidate ids in `select`'s order: numbers in numeric order before text."""
    keys = [select._sort_key(c) for c in ids]
    return np.array(sorted(range(len(ids)), key=keys.__getitem__), dtype=np.int64)


def _clusters(signatures: np.ndarray, ids: list[str]) -> np.ndarray:
    """One problem's cluster ids from its candidates' signatures (-1: not clustered)."""
    out = np.full(len(ids), NOT_CLUSTERED, dtype=np.int64)
    clustered = np.flatnonzero(signatures >= 0)
    if not clustered.size:
        return out
    order = _order_keys([ids[i] for i in clustered])
    position = np.empty(clustered.size, dtype=np.int64)
    position[order] = np.arange(clustered.size)
    values, inverse, counts = np.unique(signatures[clustered], return_inverse=True, return_counts=True)
    first = np.full(values.size, clustered.size, dtype=np.int64)
    np.minimum.at(first, inverse.reshape(-1), position)
    rank = np.lexsort((first, -counts))  # largest first, then the one holding the earliest candidate
    cluster_of_value = np.empty(values.size, dtype=np.int64)
    cluster_of_value[rank] = np.arange(values.size)
    out[clustered] = cluster_of_value[inverse.reshape(-1)]
    return out


def judge_schedule(result: ScheduleResult, *, seed: int = 0) -> pd.DataFrame:
    """JUDGEMENTS of every candidate of the pool, in pool order."""
    v = result.verdicts
    program = result.program_of
    coded = program >= 0
    at = np.where(coded, program, 0)

    def spread(values, fill) -> np.ndarray:
        arr = np.asarray(values) if len(values) else np.array([fill])
        return np.where(coded, arr[at], fill)

    passes = spread(v.passes_public, False).astype(bool)
    correct = spread(v.correct, False).astype(bool)
    slow = spread(v.slow, False).astype(bool)
    signatures = spread(v.signature, NOT_CLUSTERED).astype(np.int64)
    problem_of = result.problem_of
    cluster = np.zeros(len(problem_of), dtype=np.int64)
    rank = np.full(len(problem_of), -1, dtype=np.int64)
    ids = result.candidate_ids.to_pylist()  # (the clusters' tie-break orders them; dropped after)
    unrun = np.flatnonzero(~coded)
    cluster[unrun] = -2 - np.arange(unrun.size)  # each its own behaviour, apart from the not clustered (-1)
    order = np.argsort(problem_of, kind="stable")
    starts = np.flatnonzero(np.diff(problem_of[order], prepend=-1))
    for where in np.split(order, starts[1:]) if order.size else []:
        mine_coded = where[coded[where]]
        cluster[mine_coded] = _clusters(signatures[mine_coded], [ids[i] for i in mine_coded])
        if mine_coded.size:
            ranks = select.submission_order(passes[mine_coded], cluster[mine_coded], seed=seed)
            rank[mine_coded] = [r if r is not None else -1 for r in ranks]
    submitted = pd.array(np.where(rank > 0, rank, 0), dtype="Int64")
    submitted[rank <= 0] = pd.NA
    problems = pd.Categorical.from_codes(problem_of, categories=result.problem_names).astype(str)
    del ids
    table = pd.DataFrame({"problem": problems, "candidate_id": pd.Series(result.candidate_ids.to_pandas()),
                          "passes_public": passes, "correct": correct, "cluster": cluster,
                          "submitted_rank": submitted, "slow": slow})
    return table[JUDGEMENTS]
