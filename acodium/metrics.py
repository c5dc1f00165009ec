"""pass@k and n@k, exactly where a closed form exists, by subsampling where a policy decides.

Every estimator here works on a *pool*: K samples drawn for a problem, of
which some pass the public tests and some are correct (pass every hidden
test, DESIGN.md). A metric "at k" is the probability over a uniform draw of k
of the K samples, so k may never exceed a non-empty pool's K: we say so
rather than extrapolate (`fitting_ks` cuts a default grid instead).

- `pass_at_k(n, c, k)`: the unbiased estimator of the Codex paper,
  1 - C(n-c, k) / C(n, k), from the product form prod_{i<k} (1 - c/(n-i)),
  one cumulative product per distinct (n, c) giving every k at once
  (1,000 problems x every k up to 10,000 in about 0.1 s of CPU).
- `n_at_k_filtered(K, P, C, n, k)`: AlphaCode's n@k, exactly, for the policy
  "submit up to n of the drawn samples that pass the public tests, chosen
  uniformly" (P pass public, C of those are also correct).
- `n_at_k_sampled(judgements, policy, n, k)`: n@k for any ordered selection
  policy (`acodium.select.clustered_policy`, ...) by repeated draws; a policy
  sees `Draws` and returns submission positions (`per_draw_policy` adapts a
  function written for a single draw).
- `problems_ci(values)`: the mean over problems with an interval about
  another draw of problems of the same kind (percentile bootstrap guarded by
  a score interval; the score interval alone for few problems or when every
  problem scores 0); `score_ci`, `bootstrap_ci` (the bare percentile
  bootstrap) underneath.
- `samples_ci(n, c, k)`: the other reading, the precision on these very
  problems (candidates resampled, problems fixed).
- `metrics_table(judgements, ks, ns)`: the METRICS table of `acodium.tables`,
  with what each interval is about (`interval`), how it was made
  (`ci_method`) and the Monte Carlo error of subsampled n@k (`mc_se`).

A problem without candidates (an empty pool) is an unsolved problem: 0 at
every k and n, counted in every mean (give the benchmark's problems to
`metrics_table(problems=...)` or `n_at_k_sampled(problems=...)`, since a
judgements table has no row for it). docs/metrics.md says what the
intervals mean and how well they cover (`bench/ci_coverage.py`).
"""

from __future__ import annotations

import math
import os
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from statistics import NormalDist
from typing import Callable, Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd

from .errors import UserError
from .tables import METRICS, require_columns

# Elements of a float64 scratch array worked on at once: small enough to stay in cache.
_CHUNK_ELEMENTS = 1 << 16
# Elements of the [trials x pool] random keys drawn at once when subsampling (32 MiB).
_DRAW_ELEMENTS = 1 << 22


# --------------------------------------------------------------------------- argument checks


def _counts(name: str, values) -> np.ndarray:
    """An integer array from counts given as ints (or integral floats)."""
    arr = np.atleast_1d(np.asarray(values))
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise UserError(f"{name} must be whole numbers, not {arr.dtype}.")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise UserError(f"{name} must be whole numbers.")
    arr = arr.astype(np.int64)
    if np.any(arr < 0):
        raise UserError(f"{name} must not be negative.")
    return arr


def _ks(k, what: str = "k") -> np.ndarray:
    ks = _counts(what, k)
    if ks.ndim != 1:
        raise UserError(f"{what} must be a number or a list of numbers.")
    if ks.size == 0:
        raise UserError(f"Give at least one {what}.")
    if np.any(ks < 1):
        raise UserError(f"{what} must be at least 1.")
    return ks


def _problem_name(problems: Sequence | None, i: int) -> str:
    return repr(problems[i]) if problems is not None else f"#{i}"


def _check_k_fits(samples: np.ndarray, ks: np.ndarray, problems: Sequence | None) -> None:
    """k > samples of a non-empty pool is an error: the estimator is undefined there, and we do not extrapolate.

    An empty pool is exempt: it is an unsolved problem, 0 at every k (DESIGN.md).
    """
    kmax = int(ks.max())
    short = np.flatnonzero((samples > 0) & (samples < kmax))
    if short.size:
        i = int(short[0])
        raise UserError(
            f"k={kmax} exceeds the n={int(samples[i])} samples of problem {_problem_name(problems, i)}."
        )


# --------------------------------------------------------------------------- pass@k


def _pass_and_miss(n: np.ndarray, c: np.ndarray, kmax: int, out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """pass@k and miss@k = C(n-c, k) / C(n, k) for rows (n, c) and every k = 1..kmax (kmax <= min n).

    miss@k is the product form prod_{j<k} (1 - c/(n-j)), a cumulative product
    over j. pass@k is taken as the sum of the positive terms
    miss@j * c/(n-j) (j < k), which telescopes to 1 - miss@k without the
    cancellation of that difference: tiny pass@k keep their relative
    precision (about k ulps), whatever n is. `out` receives pass@k.
    """
    rows = n.size
    j = np.arange(kmax, dtype=np.float64)
    share = np.empty((rows, kmax)) if out is None else out
    if rows and np.all(n == n[0]):
        np.multiply(c[:, None].astype(np.float64), 1.0 / (float(n[0]) - j), out=share)
    else:
        np.divide(c[:, None], n[:, None].astype(np.float64) - j, out=share)  # c / (n - j); n - j >= 1
    miss = np.subtract(1.0, share)
    for r in np.flatnonzero(n - c < kmax):  # no sample left but correct ones: exactly zero
        miss[r, n[r] - c[r]:] = 0.0
    np.cumprod(miss, axis=1, out=miss)
    share[:, 1:] *= miss[:, :-1]
    np.cumsum(share, axis=1, out=share)
    np.minimum(share, 1.0, out=share)
    return share, miss


def _row_chunks(rows: int, kmax: int):
    """Row ranges whose [rows x kmax] scratch arrays stay cache-sized."""
    step = max(1, _CHUNK_ELEMENTS // max(kmax, 1))
    for start in range(0, rows, step):
        yield slice(start, min(rows, start + step))


def _unique_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Distinct rows of integer columns and the inverse map: work once per distinct pool.

    The inverse is None when fewer than half the rows repeat (the rows are then
    kept as they are, sparing a gather of the whole result).
    """
    stacked = np.stack(columns, axis=1)
    uniq, inverse = np.unique(stacked, axis=0, return_inverse=True)
    if 2 * len(uniq) > len(stacked):  # too few repeats to pay for gathering the result
        return list(columns), None
    return [uniq[:, i] for i in range(len(columns))], inverse.reshape(-1)


def _pass_unique(n: np.ndarray, c: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """pass@k for rows (n, c) and columns ks (ks <= n checked by the caller), once per distinct (n, c)."""
    (un, uc), inverse = _unique_rows(n, c)
    kmax = int(ks.max())
    full = ks.size == kmax and np.array_equal(ks, np.arange(1, kmax + 1))
    out = np.empty((un.size, ks.size))
    for rows in _row_chunks(un.size, kmax):
        if full:
            _pass_and_miss(un[rows], uc[rows], kmax, out=out[rows])
        else:
            out[rows] = _pass_and_miss(un[rows], uc[rows], kmax)[0][:, ks - 1]
    return out if inverse is None else out[inverse]


def pass_at_k(n, c, k, problems: Sequence | None = None) -> np.ndarray | float:
    """Unbiased pass@k of the Codex paper: the chance that k of the n samples hold a correct one.

    n: samples per problem, c: correct samples per problem (arrays over
    problems, or scalars); k: a number or a list of numbers. Returns an array
    [problems] for a single k, [problems x ks] for a list, a float when n, c
    and k are all scalars. `problems` (names) only improves error messages.

    A problem with n = 0 (no candidate at all) scores 0 at every k: it is
    an unsolved problem, never an error and never dropped (DESIGN.md).
    Raises UserError when a k exceeds some problem's n > 0: pass@k is not
    defined there, and extrapolating would be a guess.
    """
    scalar_pool = np.ndim(n) == 0 and np.ndim(c) == 0
    scalar_k = np.ndim(k) == 0
    n_arr, c_arr = np.broadcast_arrays(_counts("n", n), _counts("c", c))
    if np.any(c_arr > n_arr):
        i = int(np.flatnonzero(c_arr > n_arr)[0])
        raise UserError(
            f"c={int(c_arr[i])} correct exceeds the n={int(n_arr[i])} samples of problem {_problem_name(problems, i)}."
        )
    ks = _ks(k)
    _check_k_fits(n_arr, ks, problems)
    values = np.zeros((n_arr.size, ks.size))
    pooled = n_arr > 0
    if pooled.all():
        values = _pass_unique(n_arr, c_arr, ks)
    elif pooled.any():
        values[pooled] = _pass_unique(n_arr[pooled], c_arr[pooled], ks)
    if scalar_k:
        values = values[:, 0]
    if scalar_pool:
        return float(values[0]) if scalar_k else values[0]
    return values


# --------------------------------------------------------------------------- exact n@k of the filtered policy


def _log_factorials(upto: int) -> np.ndarray:
    """log(m!) for m = 0..upto, each from lgamma (accurate to an ulp, no summed rounding)."""
    return np.array([math.lgamma(m + 1.0) for m in range(upto + 1)])


def _pass_small(P: np.ndarray, C: np.ndarray, mmax: int) -> np.ndarray:
    """pass@m of pools (P, C) for m = 0..mmax, m capped at P (all passing samples submitted)."""
    out = np.zeros((P.size, mmax + 1))
    if mmax == 0:
        return out
    big = P >= mmax
    if big.any():
        out[big, 1:], _ = _pass_and_miss(P[big], C[big], mmax)
    for r in np.flatnonzero(~big & (P > 0)):
        values, _ = _pass_and_miss(P[r:r + 1], C[r:r + 1], int(P[r]))
        out[r, 1:P[r] + 1] = values[0]
        out[r, P[r] + 1:] = values[0, -1]
    return out


def _n_at_k_rows(K, P, C, ns: np.ndarray, kmax: int, lf: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Exact n@k for rows (K, P, C), every n of ns (ascending) and k = 1..kmax: [rows x ns x kmax].

    With p ~ hypergeometric(K, P, k) the passing samples drawn, and pass(m)
    the pass@m of the pool (P, C):

        n@k = sum_{1<=p<n} h(p) pass(p) + S(n) pass(n),  S(n) = P(p >= n) = S(1) - sum_{1<=p<n} h(p)

    S(1) = pass@k of (K, P) and h(0) = miss@k of (K, P) come from the product
    form, and h(p) from h(p-1) by the ratio (P-p+1)/p * (k-p+1)/(F-k+p),
    F = K - P; no cancellation of large log-factorials. Where k > F the
    recurrence cannot start (h(0) = 0): those few columns (k - F < n) are
    summed directly from log-factorials, the rest are pass(n).
    """
    rows = K.size
    F = K - P
    nmax = int(ns.max())
    pass_m = _pass_small(P, C, nmax)
    out = np.empty((rows, ns.size, kmax)) if out is None else out
    S, h = _pass_and_miss(K, P, kmax)  # S(1) and h(0)
    k = np.arange(1, kmax + 1, dtype=np.float64)
    if nmax > 1:
        acc = np.zeros((rows, kmax))
        ratio = np.empty((rows, kmax))
        denominator = F[:, None] - k[None, :]  # F - k (+ p below)
    else:
        acc = 0.0
    wanted = {int(n): i for i, n in enumerate(ns)}
    with np.errstate(divide="ignore", invalid="ignore"):
        for p in range(1, nmax + 1):
            if p in wanted:  # everything below p is summed: record n = p
                np.multiply(np.maximum(S, 0.0), pass_m[:, p, None], out=out[:, wanted[p]])
                out[:, wanted[p]] += acc
            if p == nmax:
                break
            np.add(denominator, p, out=ratio)
            np.divide(k - (p - 1), ratio, out=ratio)  # (k-p+1) / (F-k+p)
            ratio *= ((P - p + 1) / p)[:, None]
            h *= ratio  # exactly 0 once p > k or p > P; columns k > F are garbage, rewritten below
            acc += np.multiply(h, pass_m[:, p, None], out=ratio)
            S -= h
    # Columns where fewer samples fail the public tests than are drawn (k > F).
    for r in np.flatnonzero(F < kmax):
        Kr, Pr, Fr = int(K[r]), int(P[r]), int(F[r])
        out[r, :, Fr:] = pass_m[r, ns, None]  # k - F >= n: at least n passing samples drawn
        for kk in range(Fr + 1, min(kmax, Fr + nmax - 1) + 1):
            p = np.arange(kk - Fr, min(kk, Pr) + 1)
            log_h = (lf[Pr] - lf[p] - lf[Pr - p] + lf[Fr] - lf[kk - p] - lf[Fr - kk + p]
                     - (lf[Kr] - lf[kk] - lf[Kr - kk]))
            h_direct = np.exp(log_h)
            for i, n in enumerate(ns):
                below = p < n
                if below.any():
                    tail = max(0.0, 1.0 - h_direct[below].sum())
                    out[r, i, kk - 1] = (h_direct[below] * pass_m[r, p[below]]).sum() + tail * pass_m[r, n]
    return np.clip(out, 0.0, 1.0, out=out)


def n_at_k_filtered(samples, passing, passing_correct, n, k, problems: Sequence | None = None):
    """Exact n@k of "submit up to n of the drawn samples that pass the public tests, chosen uniformly".

    For a problem with K = `samples`, of which P = `passing` pass the public
    tests and C = `passing_correct` of those are also correct (a correct sample
    failing the public tests is never submitted): draw k of the K; the number p
    of drawn samples passing public is hypergeometric(K, P, k); the min(n, p)
    submitted ones are a uniform subset of the P passing samples, so they hold a
    correct one with probability pass@min(n, p) of the pool (P, C). Hence

        n@k = sum_p h_k(p) pass_{P,C}(min(n, p))
            = sum_{p<n} h_k(p) pass_{P,C}(p) + P(p >= n) pass_{P,C}(n),

    n terms per (problem, k) whatever k is (see `_n_at_k_rows`); relative
    accuracy about 1e-15 on pools of 10^4 (no sum of large log-factorials).
    Shapes: [problems], then [ns] if n is a list, then [ks] if k is a list.
    An empty pool (K = 0) scores 0 for every n and k; k > K > 0 is an error.
    """
    scalar_pool = all(np.ndim(x) == 0 for x in (samples, passing, passing_correct))
    scalar_n, scalar_k = np.ndim(n) == 0, np.ndim(k) == 0
    K, P, C = np.broadcast_arrays(
        _counts("samples", samples), _counts("passing", passing), _counts("passing_correct", passing_correct)
    )
    bad = np.flatnonzero((P > K) | (C > P))
    if bad.size:
        i = int(bad[0])
        raise UserError(
            f"Problem {_problem_name(problems, i)} needs passing_correct <= passing <= samples, "
            f"not {int(C[i])}, {int(P[i])}, {int(K[i])}."
        )
    ns, ks = _ks(n, "n"), _ks(k, "k")
    _check_k_fits(K, ks, problems)
    ns_sorted, ns_back = np.unique(ns, return_inverse=True)
    kmax = int(ks.max())
    full = ks.size == kmax and np.array_equal(ks, np.arange(1, kmax + 1))
    pooled = K > 0
    if not pooled.all():  # empty pools: unsolved, 0 everywhere; the others as usual
        values = np.zeros((K.size, ns.size, ks.size))
        if pooled.any():
            values[pooled] = n_at_k_filtered(K[pooled], P[pooled], C[pooled], ns, ks)
        values = values[:, :, 0] if scalar_k else values
        values = values[:, 0] if scalar_n else values
        return values[0] if scalar_pool else values
    (uK, uP, uC), inverse = _unique_rows(K, P, C)
    lf = _log_factorials(int(K.max()) if np.any(K - P < kmax) else 0)  # only where k > K - P occurs
    values = np.empty((uK.size, ns_sorted.size, ks.size))
    def fill(rows: slice) -> None:
        if full:
            _n_at_k_rows(uK[rows], uP[rows], uC[rows], ns_sorted, kmax, lf, out=values[rows])
        else:
            values[rows] = _n_at_k_rows(uK[rows], uP[rows], uC[rows], ns_sorted, kmax, lf)[:, :, ks - 1]

    chunks = list(_row_chunks(uK.size, kmax))
    if len(chunks) > 1 and (os.cpu_count() or 1) > 1:
        # numpy releases the GIL in these loops; chunks write disjoint rows of `values`.
        with ThreadPoolExecutor(os.cpu_count()) as pool:
            list(pool.map(fill, chunks))
    else:
        for rows in chunks:
            fill(rows)
    if inverse is not None:
        values = values[inverse]
    ns_back = ns_back.reshape(-1)
    if not np.array_equal(ns_back, np.arange(ns_sorted.size)):
        values = values[:, ns_back]
    if scalar_k:
        values = values[:, :, 0]
    if scalar_n:
        values = values[:, 0]
    return values[0] if scalar_pool else values


# --------------------------------------------------------------------------- n@k of any policy, by subsampling


@dataclass(frozen=True)
class Draws:
    """What a selection policy sees: `trials` draws of k candidates from one problem's pool.

    Arrays are [trials x k]: whether each drawn candidate passes the public
    tests, and its behavioural cluster (label in the whole pool, >= 0). The
    verdict on hidden tests is deliberately absent: selection may use only
    what a contestant sees.
    """

    passes_public: np.ndarray
    cluster: np.ndarray
    rng: np.random.Generator

    @property
    def trials(self) -> int:
        return self.passes_public.shape[0]

    @property
    def k(self) -> int:
        return self.passes_public.shape[1]


# A policy orders submissions: (draws, n) -> int array [trials x n] of column
# positions into the draw, best first, -1 where it submits nothing more.
Policy = Callable[[Draws, int], np.ndarray]


def per_draw_policy(choose: Callable[[np.ndarray, np.ndarray, np.random.Generator], Sequence[int]]) -> Policy:
    """A Policy from a function written for one draw (simpler to write, slower to run).

    `choose(passes_public, cluster, rng)` gets the arrays of one draw of k
    candidates and returns the positions (0..k-1) it submits, best first;
    only the first n count.
    """

    def policy(draws: Draws, n: int) -> np.ndarray:
        chosen = np.full((draws.trials, n), -1, dtype=np.int64)
        for t in range(draws.trials):
            order = [int(i) for i in choose(draws.passes_public[t], draws.cluster[t], draws.rng)][:n]
            if any(not 0 <= i < draws.k for i in order) or len(set(order)) != len(order):
                raise ValueError(f"A policy must submit distinct positions among 0..{draws.k - 1}, not {order}.")
            chosen[t, :len(order)] = order
        return chosen

    policy.__doc__ = choose.__doc__
    return policy


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
) -> np.ndarray:
    """One problem's n@k for each n in ns: the share of `trials` draws of k whose first n submissions hold a correct one."""
    ns = np.asarray(ns, dtype=np.int64)
    nmax = int(ns.max())
    pool = passes_public.size
    solved = np.zeros(ns.size)
    per_chunk = max(1, _DRAW_ELEMENTS // max(pool, 1))
    for start in range(0, trials, per_chunk):
        t = min(per_chunk, trials - start)
        idx = _draw_indices(rng, pool, k, t)
        order = np.asarray(policy(Draws(passes_public[idx], cluster[idx], rng), nmax))
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
    correct, and cluster when the policy uses it). Returns (problems, values)
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
        for j, kk in enumerate(ks):
            rng = _problem_rng(seed, name, int(kk))
            values[i, :, j] = solve_rate_sampled(passes, correct, cluster, policy, ns, int(kk), int(trials), rng)
    mc_se = _mc_se(values, int(trials), certain[:, None, None])

    def shaped(arr: np.ndarray) -> np.ndarray:
        arr = arr[:, :, 0] if scalar_k else arr
        return arr[:, 0] if scalar_n else arr

    if return_mc_se:
        return names, shaped(values), shaped(mc_se)
    return names, shaped(values)


# --------------------------------------------------------------------------- confidence intervals
#
# Two readings of "how sure are we of this mean over problems?":
#
# - "problems" (the default): the benchmark is a draw of problems of a kind;
#   the interval is about the mean another draw of as many such problems
#   would show (the population mean of pass@k). Resample problems.
# - "samples": these very problems are the object; the interval is about
#   their mean true solve rate, the limit of infinitely many samples per
#   problem. Resample candidates, problems fixed.

# Below this many problems the percentile bootstrap alone undercovers (issue 14: 85-94% at 20).
FEW_PROBLEMS = 30
# Least dispersion assumed for per-problem scores, as a share of a Bernoulli's mu(1-mu) (see `score_ci`).
DISPERSION_FLOOR = 0.3
# Resamples of a pool for the "samples" reading's variance of filtered and subsampled n@k.
_SAMPLES_RESAMPLES = 200


class MeanCI(NamedTuple):
    """A mean over problems with its interval and the name of the method that gave it."""

    value: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    method: str | np.ndarray


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise UserError(f"The confidence level must be between 0 and 1, not {level}.")


def _values_2d(values, what: str) -> tuple[np.ndarray, bool]:
    arr = np.asarray(values, dtype=np.float64)
    one_d = arr.ndim == 1
    if one_d:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise UserError(f"{what} needs at least one problem's value.")
    if not np.all(np.isfinite(arr)):
        raise UserError(f"{what} got a missing or infinite per-problem value.")
    return arr, one_d


def _normal_quantile(level: float) -> float:
    return NormalDist().inv_cdf(0.5 + level / 2.0)


def _t_quantile(level: float, df: int) -> float:
    """Two-sided Student-t quantile: exact for df 1 and 2, else Cornish-Fisher (A&S 26.7.5, within 0.2% for df >= 3)."""
    p = 0.5 + level / 2.0
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        return (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    z = _normal_quantile(level)
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def _score_bounds(mean: np.ndarray, scale: np.ndarray, extra: np.ndarray, q: float) -> tuple[np.ndarray, np.ndarray]:
    """Solutions t of (mean - t)^2 = q^2 (scale t (1 - t) + extra): a score interval with variance scale t(1-t) + extra."""
    qa = q * q * scale
    a = 1.0 + qa
    b = 2.0 * mean + qa
    c = mean * mean - q * q * extra
    root = np.sqrt(np.maximum(b * b - 4.0 * a * c, 0.0))
    low, high = (b - root) / (2.0 * a), (b + root) / (2.0 * a)
    return np.clip(np.minimum(low, mean), 0.0, 1.0), np.clip(np.maximum(high, mean), 0.0, 1.0)


def _dispersion(mean: np.ndarray, variance: np.ndarray, bound_scale: np.ndarray) -> np.ndarray:
    """phi = variance / (bound_scale mean (1 - mean)), within [DISPERSION_FLOOR, 1]; 1 at the edges or if unknown."""
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.clip(variance / (bound_scale * mean * (1.0 - mean)), DISPERSION_FLOOR, 1.0)
    return np.where((mean <= 0.0) | (mean >= 1.0) | ~np.isfinite(phi), 1.0, phi)


def score_ci(values, *, level: float = 0.95) -> MeanCI:
    """Mean of per-problem scores in [0, 1] with a quasi-binomial score (Wilson) interval.

    Why: per-problem pass@k and n@k are fractions in [0, 1], not Bernoulli,
    and on hard benchmarks most are 0. A Wilson interval inverts the score
    test |mean - mu| <= q sqrt(V(mu) / N), so its width follows the candidate
    mu, not the observed mean: it stays wide enough near 0 and 1, and is
    never zero-width. The variance function is quasi-binomial,
    V(mu) = phi mu (1 - mu): a variable in [0, 1] with mean mu has variance
    at most mu (1 - mu) (Bernoulli is the most dispersed), so phi <= 1, and
    phi = s^2 / (mean (1 - mean)) is estimated from the scores; the interval
    is Wilson's with the effective count N / phi. Two guards, from the
    simulation of `bench/ci_coverage.py`: phi is floored at
    DISPERSION_FLOOR = 0.3, as few problems under-sample the rare ones far
    from the mean (without the floor: 76% coverage for 20 problems, easy,
    k = 10; with it 96-97%), and the quantile is Student's t with N - 1
    degrees of freedom, as phi is estimated. When every score is 0 (or every
    one is 1) the data say nothing of phi, and phi = 1: plain Wilson over N
    problems, the interval of a Bernoulli proportion, [0, 0.18] for 20
    unsolved problems (t quantile). Values: [problems] or [problems x metrics].
    """
    _check_level(level)
    arr, one_d = _values_2d(values, "score_ci")
    if np.any(arr < -1e-12) or np.any(arr > 1 + 1e-12):
        raise UserError("score_ci needs per-problem scores between 0 and 1.")
    arr = np.clip(arr, 0.0, 1.0)
    problems = arr.shape[0]
    mean = arr.mean(axis=0)
    if problems > 1:
        var = arr.var(axis=0, ddof=1)
        q = _t_quantile(level, problems - 1)
    else:
        var = np.zeros_like(mean)
        q = _normal_quantile(level)
    phi = _dispersion(mean, var, np.ones_like(mean))
    low, high = _score_bounds(mean, phi / problems, np.zeros_like(mean), q)
    if one_d:
        return MeanCI(float(mean[0]), float(low[0]), float(high[0]), "score")
    return MeanCI(mean, low, high, np.full(mean.shape, "score", dtype=object))


def problems_ci(values, *, method: str = "auto", resamples: int = 1000, level: float = 0.95,
                seed: int = 0) -> MeanCI:
    """Mean of per-problem scores with an interval about another draw of problems of the same kind.

    The interval is for the population mean: what the same system would
    score on average over problems like these (resampling problems), not the
    precision on these problems (that is the "samples" reading of
    `metrics_table`). Per-problem Monte Carlo noise (sampled n@k) is part of
    each score's spread, so this interval already accounts for it.

    method:
    - "auto" (default): with FEW_PROBLEMS = 30 or more problems and scores
      not all equal, the percentile bootstrap over problems, widened where
      needed to contain the `score_ci` interval ("bootstrap+score"); with
      fewer problems, or every score equal (all 0: nothing solved), the score
      interval alone ("score"). Why, from `bench/ci_coverage.py` (500
      datasets a cell; 20, 50, 160 problems; easy, medium, hard; k = 1, 10;
      n = 10, 20, 50 samples a problem): the bootstrap alone covers 39-96%
      (hard and easy-at-k=10 cells undercover: skewed scores piled at 0 or
      1, and [0, 0] whenever nothing is solved); auto covers at least 95%
      in every cell and is never zero-width; where the bootstrap already
      covers, auto is 2-15% wider (20-25% with 20 problems, where the score
      interval alone is used and errs wide).
    - "bootstrap": the percentile bootstrap alone (`bootstrap_ci`), as before.
    - "score": `score_ci` alone.

    values: [problems] or [problems x metrics] (scores in [0, 1]). Returns a
    MeanCI (value, ci_low, ci_high, method), floats and a str for 1-D input,
    arrays over metrics for 2-D.
    """
    if method not in ("auto", "bootstrap", "score"):
        raise UserError(f'The interval method must be "auto", "bootstrap" or "score", not {method!r}.')
    arr, one_d = _values_2d(values, "problems_ci")
    if method == "bootstrap":
        value, low, high = bootstrap_ci(arr, resamples=resamples, level=level, seed=seed)
        labels = np.full(value.shape, "bootstrap", dtype=object)
    else:
        value, low, high, labels = score_ci(arr, level=level)
        if method == "auto" and arr.shape[0] >= FEW_PROBLEMS:
            spread = arr.max(axis=0) > arr.min(axis=0)
            if spread.any():
                _, b_low, b_high = bootstrap_ci(arr[:, spread], resamples=resamples, level=level, seed=seed)
                low[spread] = np.minimum(low[spread], b_low)
                high[spread] = np.maximum(high[spread], b_high)
                labels[spread] = "bootstrap+score"
    if one_d:
        return MeanCI(float(value[0]), float(low[0]), float(high[0]), str(labels[0]))
    return MeanCI(value, low, high, labels)


def bootstrap_ci(values, *, resamples: int = 1000, level: float = 0.95, seed: int = 0):
    """Mean over problems with a percentile bootstrap interval (problems resampled with replacement).

    The primitive under `problems_ci`, kept as it was: on its own it
    undercovers with few problems or skewed scores, and is [0, 0] when
    every score is 0; `metrics_table` uses `problems_ci`.

    values: [problems] or [problems x metrics]. Returns (value, ci_low,
    ci_high), floats for 1-D input, arrays over metrics for 2-D. A resample
    is a multinomial count per problem, so all metrics share the resamples and
    the work is one matrix product.
    """
    arr = np.asarray(values, dtype=np.float64)
    one_d = arr.ndim == 1
    if one_d:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise UserError("bootstrap_ci needs at least one problem's value.")
    if not np.all(np.isfinite(arr)):
        raise UserError("bootstrap_ci got a missing or infinite per-problem value.")
    if not 0 < level < 1:
        raise UserError(f"The confidence level must be between 0 and 1, not {level}.")
    if int(resamples) < 1:
        raise UserError("resamples must be at least 1.")
    problems = arr.shape[0]
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(problems, np.full(problems, 1.0 / problems), size=int(resamples))
    means = counts @ arr / problems  # [resamples x metrics]
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha], axis=0)
    value = arr.mean(axis=0)
    # Guard against rounding putting the mean a hair outside a degenerate interval.
    low, high = np.minimum(low, value), np.maximum(high, value)
    if one_d:
        return float(value[0]), float(low[0]), float(high[0])
    return value, low, high


# --------------------------------------------------------------------------- the "samples" reading
#
# Problems fixed, the target is their mean true rate (the limit of infinitely
# many candidates each). Its estimate, the mean of unbiased per-problem
# estimates, has variance sum_i Var(x_i) / N^2, and a bound: every estimator
# here averages a k-subset outcome over all k-subsets (a U-statistic), so it
# is at least as precise as the mean over floor(K/k) disjoint groups of k,
# whence Var(x_i) <= t_i (1 - t_i) / floor(K_i / k), and the mean over
# problems obeys the Bernoulli bound t (1 - t) / m with m = N min_i floor(K_i/k).
# The interval is then a score (Wilson) interval like `score_ci`, with that
# effective count m and a dispersion phi = estimated variance / bound,
# floored as there, and 1 where the data say nothing (all 0 or all 1, or a
# variance that cannot be estimated): never zero-width, and it keeps its
# coverage where most problems have no correct candidate (a Beta posterior
# per problem does not: its prior's pull adds up over problems; see
# `bench/ci_coverage.py --reading samples`).


def _samples_intervals(values: np.ndarray, variances: np.ndarray, mc_se: np.ndarray, samples: np.ndarray,
                       ks: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The "samples" interval of the mean ([ks]) and of each problem ([problems x ks]).

    values, variances (NaN where unknown), mc_se: [problems x ks]; the Monte
    Carlo variance of a subsampled value is added to the score test's.
    Empty pools are 0 by definition: outside the estimate, scaled in.
    """
    pooled = samples > 0
    groups = np.where(pooled[:, None], samples[:, None] // ks[None, :], 0).astype(np.float64)  # floor(K/k)
    z = _normal_quantile(level)
    # Each problem alone.
    p_low, p_high = np.zeros_like(values), np.zeros_like(values)
    if pooled.any():
        v, g = values[pooled], groups[pooled]
        phi = _dispersion(v, variances[pooled], 1.0 / g)
        p_low[pooled], p_high[pooled] = _score_bounds(v, phi / g, mc_se[pooled] ** 2, z)
    # The mean: over the problems with candidates, then scaled by their share.
    count = int(pooled.sum())
    if count == 0:
        zero = np.zeros(ks.size)
        return zero, zero, p_low, p_high
    v, g = values[pooled], groups[pooled]
    mean = v.mean(axis=0)
    effective = count * g.min(axis=0)
    phi = _dispersion(mean, variances[pooled].sum(axis=0) / count**2, 1.0 / effective)
    q = _t_quantile(level, count - 1) if count > 1 else z
    low, high = _score_bounds(mean, phi / effective, (mc_se[pooled] ** 2).sum(axis=0) / count**2, q)
    share = count / samples.size
    return low * share, high * share, p_low, p_high


def _pass_variances(samples: np.ndarray, correct: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """Unbiased Var(pass@k estimate) per problem: m_k^2 - m_2k, m_j = C(n-c, j) / C(n, j); NaN where n < 2k."""
    out = np.full((samples.size, ks.size), np.nan)
    for j, k in enumerate(ks):
        rows = samples >= 2 * k
        if rows.any():
            miss = 1.0 - pass_at_k(samples[rows], correct[rows], [int(k), 2 * int(k)])
            out[rows, j] = np.maximum(miss[:, 0] ** 2 - miss[:, 1], 0.0)
    return out


def _filtered_variances(samples: np.ndarray, passing: np.ndarray, passing_correct: np.ndarray, ns: np.ndarray,
                        ks: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """[problems x ns x ks] bootstrap variance of the exact filtered n@k: each pool's counts resampled."""
    out = np.full((samples.size, ns.size, ks.size), np.nan)
    rows = np.flatnonzero(samples > 0)
    if rows.size == 0:
        return out
    K, P, C = samples[rows], passing[rows], passing_correct[rows]
    shares = np.stack([C, P - C, K - P], axis=1) / K[:, None]
    drawn = np.stack([rng.multinomial(K[i], shares[i], size=resamples) for i in range(rows.size)], axis=1)
    C_star, P_star = drawn[:, :, 0], drawn[:, :, 0] + drawn[:, :, 1]  # [resamples x problems]
    values = n_at_k_filtered(np.broadcast_to(K, C_star.shape).reshape(-1), P_star.reshape(-1),
                             C_star.reshape(-1), ns, ks)
    out[rows] = values.reshape(resamples, rows.size, ns.size, ks.size).var(axis=0, ddof=1)
    return out


def _policy_variances(pools, policy: Policy, ns: np.ndarray, ks: np.ndarray, trials: int, resamples: int,
                      seed: int) -> np.ndarray:
    """[problems x ns x ks] bootstrap variance of a policy's n@k: pools resampled with replacement, problems fixed.

    Each resample runs max(20, trials // 20) draws; their Monte Carlo
    variance is taken out of the spread of the resamples.
    """
    per = max(20, trials // 20)
    out = np.zeros((len(pools), ns.size, ks.size))
    for i, (name, group) in enumerate(pools):
        if group.empty:
            out[i] = np.nan
            continue
        passes = _bool_column(group, "passes_public", name)
        correct = _bool_column(group, "correct", name)
        if not correct.any():
            continue
        cluster = _cluster_column(group)
        for j, kk in enumerate(ks):
            rng = _problem_rng(seed + 1, name, int(kk))
            values = np.empty((resamples, ns.size))
            for r in range(resamples):
                idx = rng.integers(0, passes.size, passes.size)
                values[r] = solve_rate_sampled(passes[idx], correct[idx], cluster[idx], policy, ns, int(kk), per, rng)
            noise = (values * (1.0 - values)).mean(axis=0) / (per - 1)
            out[i, :, j] = np.maximum(values.var(axis=0, ddof=1) - noise, 0.0)
    return out


def samples_ci(n, c, k, *, level: float = 0.95) -> MeanCI:
    """Mean pass@k over these problems with the "samples" interval: their mean true pass@k, problems fixed.

    n samples and c correct per problem (an empty pool, n = 0, is 0 by
    definition); see the comment above for the method. k: a number (floats)
    or a list (arrays over ks). `bench/ci_coverage.py --reading samples`
    checks the coverage.
    """
    _check_level(level)
    n_arr, c_arr = np.broadcast_arrays(_counts("n", n), _counts("c", c))
    ks = _ks(k)
    values = pass_at_k(n_arr, c_arr, ks)
    low, high, _, _ = _samples_intervals(values, _pass_variances(n_arr, c_arr, ks), np.zeros_like(values),
                                         n_arr, ks, level)
    value = values.mean(axis=0)
    if np.ndim(k) == 0:
        return MeanCI(float(value[0]), float(low[0]), float(high[0]), "score (samples)")
    return MeanCI(value, low, high, np.full(ks.size, "score (samples)", dtype=object))


# --------------------------------------------------------------------------- the METRICS table

# What a row's interval is about (the `interval` column).
INTERVAL_READINGS = ("problems", "samples")


def fitting_ks(samples, ks: Sequence[int] | None = None, *, problems: Sequence | None = None,
               grid: Sequence[int] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
               ) -> tuple[list[int], str | None]:
    """The k to report for pools of these sizes, and a one-line note when the grid was cut.

    ks given (the user asked for them): every k must fit every non-empty
    pool, else UserError (pass@k is not extrapolated). ks=None: `grid` cut at
    the smallest non-empty pool, the note naming the k left out and why.
    Empty pools never count: they score 0 at every k.
    """
    sizes = _counts("samples", samples)
    if ks is not None:
        ks_arr = np.unique(_ks(list(ks), "k"))
        _check_k_fits(sizes, ks_arr, problems)
        return [int(k) for k in ks_arr], None
    pooled = np.flatnonzero(sizes > 0)
    grid = sorted(set(int(k) for k in _ks(list(grid), "k")))
    if pooled.size == 0:
        return [grid[0]], f"Every problem has an empty pool: only k={grid[0]} is reported (all 0)."
    i = int(pooled[np.argmin(sizes[pooled])])
    fewest = int(sizes[i])
    kept = [k for k in grid if k <= fewest]
    dropped = [k for k in grid if k > fewest]
    if not kept:
        kept = [fewest]
    note = None
    if dropped:
        note = (f"k={dropped[0]} and above left out of the grid: problem {_problem_name(problems, i)} "
                f"has only {fewest} samples.")
    return kept, note


def metrics_table(
    judgements: pd.DataFrame,
    ks: Sequence[int] | None = None,
    ns: Sequence[int] = (),
    *,
    policies: Mapping[str, Policy] | None = None,
    trials: int = 1000,
    resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    per_problem: bool = True,
    problems: Sequence[str] | None = None,
    ci: str = "problems",
    ci_method: str = "auto",
) -> pd.DataFrame:
    """The METRICS table from a judgements table: pass@k, and n@k for each n and policy.

    Rows carry, beside METRICS, a `metric` column:

    - "pass@k" (n = k): any correct sample among k, correct ones failing the
      public tests included;
    - "n@k filtered": exact n@k of submitting up to n of the drawn samples
      that pass the public tests, uniformly;
    - "n@k <name>" for each policy of `policies` (default: the clustered one
      of `acodium.select`), by subsampling with `trials` draws ("n@k filtered
      (sampled)" for a policy named "filtered", beside the exact one);

    and `interval` (what ci_low..ci_high is about, None where there is no
    interval), `ci_method` (how it was computed), `mc_se` (the Monte Carlo
    standard error of `value` from the finite `trials`; 0 for exact metrics),
    `problems` (how many problems the row averages) and `short_pools` (how
    many of them had fewer candidates than k: empty pools, scored 0).

    problems: every problem of the benchmark; those without a row in
      `judgements` have an empty pool and score 0 at every k and n (never an
      error, never dropped from the mean). Default: the problems of
      `judgements`.
    ks: the k asked for; one larger than a non-empty pool is an error.
      None: the grid of `fitting_ks` cut at the smallest non-empty pool,
      with a note in `table.attrs["notes"]`.
    ci: what the interval of the problem="ALL" rows is about, at `level`:
    - "problems" (default): another draw of as many problems of the same
      kind; `problems_ci` with `ci_method` ("auto": percentile bootstrap over
      problems with `resamples`, guarded by a score interval; "score" when
      problems are few or all score alike; "bootstrap" is the bare
      percentile bootstrap of earlier versions; see there). Per-problem rows
      have no interval (NaN).
    - "samples": the precision on these very problems, their mean true rate
      as if each had infinitely many candidates; problems fixed, a score
      interval from each problem's own candidates (see `samples_ci`):
      variance of pass@k unbiased, of the filtered n@k by resampling the
      pools' counts, of a subsampled policy by resampling its pools
      (min(resamples, 200) resamples of max(20, trials // 20) draws: that
      costs about 10x the policy's own estimate), whose Monte Carlo error
      is added to the interval. Per-problem rows get their own interval.
    """
    if ci not in INTERVAL_READINGS:
        raise UserError(f'ci must be "problems" (another draw of problems) or "samples" (these problems), not {ci!r}.')
    if ci == "problems" and ci_method not in ("auto", "bootstrap", "score"):
        raise UserError(f'The interval method must be "auto", "bootstrap" or "score", not {ci_method!r}.')
    _check_level(level)
    pools = _pools(judgements, problems)
    names = [name for name, _ in pools]
    if "ALL" in names:
        raise UserError('A problem is named "ALL", the name the metrics table keeps for the mean over problems.')
    samples = np.array([len(g) for _, g in pools], dtype=np.int64)
    ks_list, note = fitting_ks(samples, ks, problems=names)
    ks_arr = np.array(ks_list, dtype=np.int64)
    ns_arr = np.unique(_ks(list(ns), "n")) if len(ns) else np.array([], dtype=np.int64)
    if policies is None:
        from .select import clustered_policy

        policies = {"clustered": clustered_policy}
    correct = np.array([_bool_column(g, "correct", name).sum() if len(g) else 0 for name, g in pools])
    passing, passing_correct = [], []
    for name, g in pools:
        if g.empty:
            passing.append(0)
            passing_correct.append(0)
            continue
        pp, cc = _bool_column(g, "passes_public", name), _bool_column(g, "correct", name)
        passing.append(pp.sum())
        passing_correct.append((pp & cc).sum())
    passing, passing_correct = np.array(passing, dtype=np.int64), np.array(passing_correct, dtype=np.int64)
    if int(resamples) < 1:
        raise UserError("resamples must be at least 1.")
    by_samples = ci == "samples"
    rng = np.random.default_rng([int(seed), 14])
    pool_resamples = min(int(resamples), _SAMPLES_RESAMPLES)

    # (metric, n or None for n = k, values, mc_se, variances or None for the samples reading), each [problems x ks]
    blocks: list[tuple[str, int | None, np.ndarray, np.ndarray, np.ndarray | None]] = []
    zero = np.zeros((len(pools), ks_arr.size))
    blocks.append(("pass@k", None, pass_at_k(samples, correct, ks_arr, names), zero,
                   _pass_variances(samples, correct, ks_arr) if by_samples else None))
    if ns_arr.size:
        exact = n_at_k_filtered(samples, passing, passing_correct, ns_arr, ks_arr, names)
        exact_var = (_filtered_variances(samples, passing, passing_correct, ns_arr, ks_arr, pool_resamples, rng)
                     if by_samples else None)
        for j, nn in enumerate(ns_arr):
            blocks.append(("n@k filtered", int(nn), exact[:, j, :], zero,
                           None if exact_var is None else exact_var[:, j, :]))
        for policy_name, policy in policies.items():
            _, sampled, mc_se = n_at_k_sampled(judgements, policy, ns_arr, ks_arr, trials=trials, seed=seed,
                                               problems=names, return_mc_se=True)
            policy_var = (_policy_variances(pools, policy, ns_arr, ks_arr, int(trials), pool_resamples, seed)
                          if by_samples else None)
            metric = f"n@k {policy_name}"
            if metric == "n@k filtered":  # the exact one holds that name
                metric += " (sampled)"
            for j, nn in enumerate(ns_arr):
                blocks.append((metric, int(nn), sampled[:, j, :], mc_se[:, j, :],
                               None if policy_var is None else policy_var[:, j, :]))

    count = len(pools)
    short = (samples[:, None] < ks_arr[None, :])  # [problems x ks]: only empty pools get here
    frames = []
    for metric, nn, values, mc_se, variances in blocks:
        n_col = ks_arr if nn is None else np.full(ks_arr.size, nn)
        mean_mc_se = np.sqrt((mc_se**2).sum(axis=0)) / count
        if by_samples:
            mean = values.mean(axis=0)
            low, high, p_low, p_high = _samples_intervals(values, variances, mc_se, samples, ks_arr, level)
            how = np.full(ks_arr.size, "score (samples)", dtype=object)
            interval = "samples"
        else:
            mean, low, high, how = problems_ci(values, method=ci_method, resamples=resamples, level=level, seed=seed)
            interval = "problems"
        frames.append(pd.DataFrame({
            "problem": "ALL", "n": n_col, "k": ks_arr, "value": mean, "ci_low": low, "ci_high": high,
            "metric": metric, "interval": interval, "ci_method": how, "mc_se": mean_mc_se,
            "problems": count, "short_pools": short.sum(axis=0),
        }))
        if per_problem:
            if by_samples:
                p_how = np.repeat(how[None, :], count, axis=0)
                p_how[samples == 0] = "empty pool"  # 0 by definition, not by estimate
                p_interval, p_how = "samples", p_how.reshape(-1)
            else:
                p_low = p_high = np.full(values.shape, np.nan)
                p_interval, p_how = None, None
            frames.append(pd.DataFrame({
                "problem": np.repeat(names, ks_arr.size),
                "n": np.tile(n_col, count),
                "k": np.tile(ks_arr, count),
                "value": values.reshape(-1),
                "ci_low": p_low.reshape(-1),
                "ci_high": p_high.reshape(-1),
                "metric": metric,
                "interval": p_interval,
                "ci_method": p_how,
                "mc_se": mc_se.reshape(-1),
                "problems": 1,
                "short_pools": short.reshape(-1).astype(np.int64),
            }))
    table = pd.concat(frames, ignore_index=True)
    for column in ("n", "k", "problems", "short_pools"):
        table[column] = table[column].astype(np.int64)
    table = table[METRICS + TABLE_EXTRAS]
    table.attrs["notes"] = [note] if note else []
    return table


# Columns of metrics_table beyond METRICS, in order.
TABLE_EXTRAS = ["metric", "interval", "ci_method", "mc_se", "problems", "short_pools"]
