"""pass@k and n@k, exactly where a closed form exists, by subsampling where a policy decides.

Every estimator here works on a *pool*: K samples drawn for a problem, of
which some pass the public tests and some are correct (pass every hidden
test, DESIGN.md). A metric "at k" is the probability over a uniform draw of k
of the K samples, so k may never exceed K: we say so rather than extrapolate.

- `pass_at_k(n, c, k)`: the unbiased estimator of the Codex paper,
  1 - C(n-c, k) / C(n, k), in the product form prod_{i<k} (1 - c/(n-i))
  summed in log space, for every problem and every k at once.
- `n_at_k_filtered(K, P, C, n, k)`: AlphaCode's n@k, exactly, for the policy
  "submit up to n of the drawn samples that pass the public tests, chosen
  uniformly" (P pass public, C of those are also correct).
- `n_at_k_sampled(judgements, policy, n, k)`: n@k for any ordered selection
  policy (`acodium.select.clustered_policy`, ...) by repeated draws.
- `bootstrap_ci(values)`: percentile interval over problems for a mean.
- `metrics_table(judgements, ks, ns)`: the METRICS table of `acodium.tables`.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import UserError
from .tables import METRICS, require_columns

# Rows x columns of a float64 scratch array worked on at once (32 MiB).
_CHUNK_ELEMENTS = 1 << 22


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


def _log_fail_ratio(n: np.ndarray, c: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """log C(n-c, k) / C(n, k) for rows (n, c) and columns ks: log of "no correct sample among k".

    The ratio is prod_{i<k} (1 - c/(n-i)); its log is a cumulative sum over i,
    computed once up to max(ks) for every row and read at each k. A factor
    that reaches zero (fewer than k incorrect samples) makes it -inf.
    """
    kmax = int(ks.max())
    out = np.empty((n.size, ks.size))
    rows = max(1, _CHUNK_ELEMENTS // kmax)
    i = np.arange(kmax, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        for start in range(0, n.size, rows):
            nn = n[start:start + rows, None].astype(np.float64)
            cc = c[start:start + rows, None].astype(np.float64)
            frac = cc / (nn - i)  # columns i >= n are never read (k <= n is checked)
            term = np.log1p(-np.minimum(frac, 1.0))  # frac == 1 -> -inf
            np.cumsum(term, axis=1, out=term)
            out[start:start + rows] = term[:, ks - 1]
    return out


def _pass_unique(n: np.ndarray, c: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """pass@k for rows (n, c) and columns ks, computed once per distinct (n, c)."""
    key = n * (int(c.max(initial=0)) + 1) + c
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    log_ratio = _log_fail_ratio(n[first], c[first], ks)
    values = -np.expm1(log_ratio)  # 1 - ratio, accurate when the ratio is near 1
    values[c[first] == 0] = 0.0
    return values[inverse.reshape(-1)]


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


def n_at_k_filtered(samples, passing, passing_correct, n, k, problems: Sequence | None = None):
    """Exact n@k of "submit up to n of the drawn samples that pass the public tests, chosen uniformly".

    For a problem with K = `samples`, of which P = `passing` pass the public
    tests and C = `passing_correct` of those are also correct (a correct sample
    failing the public tests is never submitted): draw k of the K; the number p
    of drawn samples passing public is hypergeometric(K, P, k); the min(n, p)
    submitted ones are a uniform subset of the P passing samples, so they hold a
    correct one with probability pass@min(n, p) of the pool (P, C). Hence

        n@k = sum_p h_k(p) pass_{P,C}(min(n, p))
            = sum_{p<n} h_k(p) pass_{P,C}(p) + (1 - sum_{p<n} h_k(p)) pass_{P,C}(n),

    n terms per (problem, k) whatever k is. Shapes: [problems], then [ns] if n
    is a list, then [ks] if k is a list. Absolute accuracy about 1e-11 (the
    hypergeometric terms go through log-factorials of K).
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
    nmax = int(ns.max())

    # pass@m of the pool (P, C) for m = 0..nmax; beyond P every passing sample is submitted.
    m = np.minimum(np.arange(nmax + 1), P[:, None])  # [problems x nmax+1]
    pass_m = np.zeros(m.shape)
    has_p = P > 0
    if has_p.any():
        pass_sub = _pass_unique(P[has_p], C[has_p], np.arange(1, max(1, min(nmax, int(P.max()))) + 1))
        cols = np.clip(m[has_p] - 1, 0, pass_sub.shape[1] - 1)
        pass_m[has_p] = np.where(m[has_p] > 0, np.take_along_axis(pass_sub, cols, axis=1), 0.0)

    # Hypergeometric h_k(p) for p < nmax, accumulated into sum_{p<n} terms per n.
    lf = _log_factorials(int(K.max()))
    Kc, Pc, Fc = K[:, None], P[:, None], (K - P)[:, None]
    log_total = lf[Kc] - lf[ks][None, :] - lf[Kc - ks[None, :]]  # log C(K, k)
    below = np.zeros((K.size, nmax + 1, ks.size))  # [:, j, :] = sum_{p<j} h_k(p)
    weighted = np.zeros((K.size, nmax + 1, ks.size))  # [:, j, :] = sum_{p<j} h_k(p) pass(p)
    for p in range(nmax):
        fail_drawn = ks[None, :] - p  # drawn samples failing public
        ok = (p <= Pc) & (fail_drawn >= 0) & (fail_drawn <= Fc)
        fd = np.clip(fail_drawn, 0, Fc)  # clipped where not ok, to keep indices in range
        pp = np.minimum(p, Pc)
        log_h = (lf[Pc] - lf[pp] - lf[Pc - pp]
                 + lf[Fc] - lf[fd] - lf[Fc - fd] - log_total)
        h = np.where(ok, np.exp(log_h), 0.0)
        below[:, p + 1] = below[:, p] + h
        weighted[:, p + 1] = weighted[:, p] + h * pass_m[:, p, None]
    tail = np.clip(1.0 - below[:, ns, :], 0.0, 1.0)  # P(p >= n)
    values = weighted[:, ns, :] + tail * pass_m[:, ns, None]
    values = np.clip(values, 0.0, 1.0)
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
    per_chunk = max(1, _CHUNK_ELEMENTS // max(pool, 1))
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
      of `acodium.select`), by subsampling with `trials` draws.

    problem="ALL" rows hold the mean over problems with a bootstrap interval
    (`resamples`, `level`); per-problem rows (when `per_problem`) have no
    interval (NaN).
    """
    pools = _pools(judgements)
    names = [name for name, _ in pools]
    ks_arr = _ks(list(ks), "k")
    ns_arr = _ks(list(ns), "n") if len(ns) else np.array([], dtype=np.int64)
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
            for j, nn in enumerate(ns_arr):
                blocks.append((f"n@k {policy_name}", int(nn), sampled[:, j, :]))

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
