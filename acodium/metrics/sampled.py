"""n@k of any selection policy, by drawing k of each problem's pool many times.

`n_at_k_sampled(judgements, policy, n, k)` estimates, for a policy of
`acodium.policies` (or any function of that signature), the chance that
its first n submissions from a uniform draw of k candidates hold a correct
one; `trials` draws per (problem, k), each from a random stream of its own
so that adding a problem or a k changes no other estimate, with the Monte
Carlo standard error of each value (`return_mc_se`). `solve_rate_sampled`
is the same for one problem's arrays.
"""

from __future__ import annotations

import zlib
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import UserError
from ..policies import Draws, Policy
from ..tables import require_columns
from .ks import _check_k_fits, _ks

# Elements of the [trials x pool] random keys drawn at once when subsampling (8 MiB; a policy makes about ten
# arrays of this size: its peak memory, the same for a pool of 10^4 as of 10^6).
_DRAW_ELEMENTS = 1 << 20


def _pools(judgements: pd.DataFrame, problems: Sequence[str] | None = None) -> list[tuple[str, pd.DataFrame]]:
    """(problem, its rows) in order; with `problems`, every listed problem, those without a row as an empty pool."""
    require_columns(judgements, ["problem", "passes_public", "correct"], "judgements")
    groups = [(str(name), group) for name, group in judgements.groupby("problem", sort=False)]
    if problems is None:
        if judgements.empty:
            raise UserError("The judgements table is empty (give `problems` to score problems without candidates as 0).")
        return groups
    names = [str(p) for p in problems]
    if len(set(names)) != len(names):
        raise UserError("The list of problems names a problem twice.")
    if not names:
        raise UserError("The list of problems is empty.")
    by_name = dict(groups)
    stray = [name for name in by_name if name not in set(names)]
    if stray:
        raise UserError(f"The judgements hold problem {stray[0]!r}, which is not in the list of problems.")
    empty = judgements.iloc[:0]
    return [(name, by_name.get(name, empty)) for name in names]


def _bool_column(group: pd.DataFrame, column: str, problem: str) -> np.ndarray:
    values = group[column]
    if values.isna().any():
        raise UserError(f"The judgements of problem {problem!r} have missing values in {column}.")
    return values.to_numpy(dtype=bool)


def _cluster_column(group: pd.DataFrame) -> np.ndarray:
    if "cluster" not in group.columns or group["cluster"].isna().all():
        return np.zeros(len(group), dtype=np.int64)  # no behaviour known: one cluster
    _, labels = np.unique(group["cluster"].fillna(-1).to_numpy(), return_inverse=True)
    return labels.reshape(-1).astype(np.int64)


# Judgements columns a policy may see beyond passes_public and cluster -> the `Draws` field they fill.
EXTRA_COLUMNS = {"behaviour": "behaviour", "model_set": "model_set", "model_tests_passed": "model_passed",
                 "score": "score"}


def _extra_columns(group: pd.DataFrame, problem: str) -> dict[str, np.ndarray]:
    """The `Draws` fields these judgements carry (see `EXTRA_COLUMNS`), as arrays over the pool."""
    out: dict[str, np.ndarray] = {}
    for column, field in EXTRA_COLUMNS.items():
        if column not in group.columns:
            continue
        if column == "behaviour":
            rows = [np.asarray(v, dtype=np.int64).reshape(-1) if v is not None and np.ndim(v) else None
                    for v in group[column]]
            width = max((r.size for r in rows if r is not None), default=0)
            if any(r is not None and r.size != width for r in rows):
                raise UserError(f"The behaviour of the candidates of problem {problem!r} covers different inputs.")
            out[field] = np.stack([r if r is not None else np.full(width, -1, np.int64) for r in rows]) \
                if rows else np.zeros((0, width), np.int64)
            continue
        values = pd.to_numeric(group[column], errors="coerce")
        if column == "score":
            out[field] = values.fillna(-np.inf).to_numpy(dtype=np.float64)
        else:
            out[field] = values.fillna(-1).to_numpy(dtype=np.int64)
    return out


def _problem_rng(seed: int, problem: str, k: int) -> np.random.Generator:
    """A stream per (seed, problem, k): adding a problem or a k changes no other estimate."""
    return np.random.default_rng([int(seed), zlib.crc32(problem.encode("utf-8")), int(k)])


def _draw_indices(rng: np.random.Generator, pool: int, k: int, trials: int) -> np.ndarray:
    """[trials x k] indices of uniform k-subsets of range(pool), without replacement."""
    if k == pool:
        return np.broadcast_to(np.arange(pool), (trials, pool)).copy()
    if 4 * k <= pool:  # few of many: Floyd-style draws cost O(k), not O(pool), per trial
        return np.stack([rng.choice(pool, k, replace=False, shuffle=False) for _ in range(trials)])
    keys = rng.random((trials, pool))
    return np.argpartition(keys, k - 1, axis=1)[:, :k]


def solve_rate_sampled(
    passes_public: np.ndarray,
    correct: np.ndarray,
    cluster: np.ndarray,
    policy: Policy,
    ns: Sequence[int],
    k: int,
    trials: int,
    rng: np.random.Generator,
    extras: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """One problem's n@k for each n in ns: the share of `trials` draws of k whose first n submissions hold a correct one.

    `extras`: the optional `Draws` fields (behaviour, model_set, ...) as arrays over the pool."""
    ns = np.asarray(ns, dtype=np.int64)
    nmax = int(ns.max())
    pool = passes_public.size
    solved = np.zeros(ns.size)
    extras = extras or {}
    behaviour = extras.get("behaviour")
    inputs = behaviour.shape[1] if behaviour is not None else 1
    per_chunk = max(1, min(_DRAW_ELEMENTS // max(pool, 1), _DRAW_ELEMENTS // max(k * inputs, 1)))
    for start in range(0, trials, per_chunk):
        t = min(per_chunk, trials - start)
        idx = _draw_indices(rng, pool, k, t)
        seen = {field: values[idx] for field, values in extras.items()}
        order = np.asarray(policy(Draws(passes_public[idx], cluster[idx], rng, **seen), nmax))
        if order.shape != (t, nmax):
            raise ValueError(f"A policy must return an array of shape {(t, nmax)}, not {order.shape}.")
        submitted = order >= 0
        hit = np.take_along_axis(correct[idx], np.where(submitted, order, 0), axis=1) & submitted
        hit_by = np.logical_or.accumulate(hit, axis=1)  # [:, j]: a correct one among the first j+1
        solved += hit_by[:, ns - 1].sum(axis=0)
    return solved / trials


def _mc_se(values: np.ndarray, trials: int, certain: np.ndarray) -> np.ndarray:
    """Monte Carlo standard error of shares of `trials` independent draws.

    sqrt(q(1-q)/trials) with q pulled half a draw from 0 and 1 (a share of
    0/1000 is not a certainty unless the pool says so); 0 where `certain`
    (an empty pool or one without a correct candidate: the value is exactly 0).
    """
    q = (np.asarray(values, dtype=np.float64) * trials + 0.5) / (trials + 1.0)
    se = np.sqrt(q * (1.0 - q) / trials)
    return np.where(certain, 0.0, se)


def n_at_k_sampled(
    judgements: pd.DataFrame,
    policy: Policy,
    n,
    k,
    *,
    trials: int = 1000,
    seed: int = 0,
    problems: Sequence[str] | None = None,
    return_mc_se: bool = False,
):
    """n@k of an ordered selection policy, estimated by `trials` draws of k of each problem's pool.

    `judgements` has one row per candidate (columns problem, passes_public,
    correct, and cluster when the policy uses it; behaviour, model_set,
    model_tests_passed and score for the policies that see them:
    `EXTRA_COLUMNS`). Returns (problems, values)
    with values shaped [problems], then [ns] if n is a list, then [ks] if k is
    a list; problems in order of first appearance, or the order of
    `problems` when given: every problem of the benchmark, those without a
    row in `judgements` scoring 0 (an empty pool is an unsolved problem).
    With `return_mc_se`, returns (problems, values, mc_se): the Monte Carlo
    standard error of each value from the finite `trials` (at most
    0.5 / sqrt(trials); 0 where the value is exactly 0 because the pool holds
    no correct candidate). Deterministic for a given seed.
    """
    if int(trials) < 1:
        raise UserError("trials must be at least 1.")
    scalar_n, scalar_k = np.ndim(n) == 0, np.ndim(k) == 0
    ns, ks = _ks(n, "n"), _ks(k, "k")
    pools = _pools(judgements, problems)
    names = [name for name, _ in pools]
    _check_k_fits(np.array([len(g) for _, g in pools]), ks, names)
    values = np.zeros((len(pools), ns.size, ks.size))
    certain = np.ones(len(pools), dtype=bool)
    for i, (name, group) in enumerate(pools):
        if group.empty:
            continue
        passes = _bool_column(group, "passes_public", name)
        correct = _bool_column(group, "correct", name)
        certain[i] = not correct.any()
        if certain[i]:
            continue  # nothing correct to submit: exactly 0, whatever the policy does
        cluster = _cluster_column(group)
        extras = _extra_columns(group, name)
        for j, kk in enumerate(ks):
            rng = _problem_rng(seed, name, int(kk))
            values[i, :, j] = solve_rate_sampled(passes, correct, cluster, policy, ns, int(kk), int(trials), rng,
                                                 extras)
    mc_se = _mc_se(values, int(trials), certain[:, None, None])

    def shaped(arr: np.ndarray) -> np.ndarray:
        arr = arr[:, :, 0] if scalar_k else arr
        return arr[:, 0] if scalar_n else arr

    if return_mc_se:
        return names, shaped(values), shaped(mc_se)
    return names, shaped(values)
