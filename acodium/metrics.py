"""pass@k and n@k, exactly where a closed form exists, by subsampling where a policy decides.

Every estimator here works on a *pool*: K samples drawn for a problem, of
which some pass the public tests and some are correct (pass every hidden
test, DESIGN.md). A metric "at k" is the probability over a uniform draw of k
of the K samples, so k may never exceed K: we say so rather than extrapolate.

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
- `bootstrap_ci(values)`: percentile interval over problems for a mean.
- `metrics_table(judgements, ks, ns)`: the METRICS table of `acodium.tables`.
"""

from __future__ import annotations

import math
import os
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

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
    """k > samples is an error: the estimator is undefined there, and we do not extrapolate."""
    kmax = int(ks.max())
    short = np.flatnonzero(samples < kmax)
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

    Raises UserError when a k exceeds some problem's n: pass@k is not defined
    there, and extrapolating would be a guess.
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
    values = _pass_unique(n_arr, c_arr, ks)
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


def _pools(judgements: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    require_columns(judgements, ["problem", "passes_public", "correct"], "judgements")
    if judgements.empty:
        raise UserError("The judgements table is empty.")
    return [(str(name), group) for name, group in judgements.groupby("problem", sort=False)]


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


def n_at_k_sampled(
    judgements: pd.DataFrame,
    policy: Policy,
    n,
    k,
    *,
    trials: int = 1000,
    seed: int = 0,
) -> tuple[list[str], np.ndarray]:
    """n@k of an ordered selection policy, estimated by `trials` draws of k of each problem's pool.

    `judgements` has one row per candidate (columns problem, passes_public,
    correct, and cluster when the policy uses it). Returns (problems, values)
    with values shaped [problems], then [ns] if n is a list, then [ks] if k is
    a list; problems in order of first appearance. The standard error of each
    value is at most 0.5 / sqrt(trials). Deterministic for a given seed.
    """
    if int(trials) < 1:
        raise UserError("trials must be at least 1.")
    scalar_n, scalar_k = np.ndim(n) == 0, np.ndim(k) == 0
    ns, ks = _ks(n, "n"), _ks(k, "k")
    pools = _pools(judgements)
    names = [name for name, _ in pools]
    _check_k_fits(np.array([len(g) for _, g in pools]), ks, names)
    values = np.empty((len(pools), ns.size, ks.size))
    for i, (name, group) in enumerate(pools):
        passes = _bool_column(group, "passes_public", name)
        correct = _bool_column(group, "correct", name)
        cluster = _cluster_column(group)
        for j, kk in enumerate(ks):
            rng = _problem_rng(seed, name, int(kk))
            values[i, :, j] = solve_rate_sampled(passes, correct, cluster, policy, ns, int(kk), int(trials), rng)
    if scalar_k:
        values = values[:, :, 0]
    if scalar_n:
        values = values[:, 0]
    return names, values


# --------------------------------------------------------------------------- confidence intervals


def bootstrap_ci(values, *, resamples: int = 1000, level: float = 0.95, seed: int = 0):
    """Mean over problems with a percentile bootstrap interval (problems resampled with replacement).

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


# --------------------------------------------------------------------------- the METRICS table


def metrics_table(
    judgements: pd.DataFrame,
    ks: Sequence[int],
    ns: Sequence[int] = (),
    *,
    policies: Mapping[str, Policy] | None = None,
    trials: int = 1000,
    resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    per_problem: bool = True,
) -> pd.DataFrame:
    """The METRICS table from a judgements table: pass@k, and n@k for each n and policy.

    Rows carry a `metric` column beside METRICS:

    - "pass@k" (n = k): any correct sample among k, correct ones failing the
      public tests included;
    - "n@k filtered": exact n@k of submitting up to n of the drawn samples
      that pass the public tests, uniformly;
    - "n@k <name>" for each policy of `policies` (default: the clustered one
      of `acodium.select`), by subsampling with `trials` draws ("n@k filtered
      (sampled)" for a policy named "filtered", beside the exact one).

    problem="ALL" rows hold the mean over problems with a bootstrap interval
    (`resamples`, `level`); per-problem rows (when `per_problem`) have no
    interval (NaN).
    """
    pools = _pools(judgements)
    names = [name for name, _ in pools]
    if "ALL" in names:
        raise UserError('A problem is named "ALL", the name the metrics table keeps for the mean over problems.')
    ks_arr = np.unique(_ks(list(ks), "k"))
    ns_arr = np.unique(_ks(list(ns), "n")) if len(ns) else np.array([], dtype=np.int64)
    if policies is None:
        from .select import clustered_policy

        policies = {"clustered": clustered_policy}
    samples = np.array([len(g) for _, g in pools])
    _check_k_fits(samples, ks_arr, names)
    correct = np.array([_bool_column(g, "correct", name).sum() for name, g in pools])
    passing_correct = []
    passing = []
    for name, g in pools:
        pp, cc = _bool_column(g, "passes_public", name), _bool_column(g, "correct", name)
        passing.append(pp.sum())
        passing_correct.append((pp & cc).sum())

    blocks: list[tuple[str, int | None, np.ndarray]] = []  # (metric, n or None for n = k, [problems x ks])
    blocks.append(("pass@k", None, pass_at_k(samples, correct, ks_arr, names)))
    if ns_arr.size:
        exact = n_at_k_filtered(samples, np.array(passing), np.array(passing_correct), ns_arr, ks_arr, names)
        for j, nn in enumerate(ns_arr):
            blocks.append(("n@k filtered", int(nn), exact[:, j, :]))
        for policy_name, policy in policies.items():
            _, sampled = n_at_k_sampled(judgements, policy, ns_arr, ks_arr, trials=trials, seed=seed)
            metric = f"n@k {policy_name}"
            if metric == "n@k filtered":  # the exact one holds that name
                metric += " (sampled)"
            for j, nn in enumerate(ns_arr):
                blocks.append((metric, int(nn), sampled[:, j, :]))

    frames = []
    for metric, nn, values in blocks:
        n_col = ks_arr if nn is None else np.full(ks_arr.size, nn)
        mean, low, high = bootstrap_ci(values, resamples=resamples, level=level, seed=seed)
        frames.append(pd.DataFrame({
            "problem": "ALL", "n": n_col, "k": ks_arr, "value": mean, "ci_low": low, "ci_high": high,
            "metric": metric,
        }))
        if per_problem:
            frames.append(pd.DataFrame({
                "problem": np.repeat(names, ks_arr.size),
                "n": np.tile(n_col, len(names)),
                "k": np.tile(ks_arr, len(names)),
                "value": values.reshape(-1),
                "ci_low": np.nan,
                "ci_high": np.nan,
                "metric": metric,
            }))
    table = pd.concat(frames, ignore_index=True)
    table["n"] = table["n"].astype(np.int64)
    table["k"] = table["k"].astype(np.int64)
    return table[METRICS + ["metric"]]
