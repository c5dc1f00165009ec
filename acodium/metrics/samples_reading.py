"""The "samples" reading of an interval: how precisely these very problems are measured.

Problems fixed, the target is their mean true rate (the limit of infinitely
many candidates each). `samples_ci(n, c, k)` gives it for pass@k, and
`metrics_table(ci="samples")` for every metric, from the variances here:
unbiased for pass@k, by resampling the pools' counts for the exact filtered
n@k, by resampling the pools themselves for a subsampled policy.
"""

from __future__ import annotations

import numpy as np

from ..policies import Policy
from .estimators import n_at_k_filtered, pass_at_k
from .intervals import MeanCI, _check_level, _dispersion, _normal_quantile, _score_bounds, _t_quantile
from .ks import _counts, _ks
from .sampled import _bool_column, _cluster_column, _extra_columns, _problem_rng, solve_rate_sampled

# Resamples of a pool for the "samples" reading's variance of filtered and subsampled n@k.
_SAMPLES_RESAMPLES = 200

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
        extras = _extra_columns(group, name)
        for j, kk in enumerate(ks):
            rng = _problem_rng(seed + 1, name, int(kk))
            values = np.empty((resamples, ns.size))
            for r in range(resamples):
                idx = rng.integers(0, passes.size, passes.size)
                values[r] = solve_rate_sampled(passes[idx], correct[idx], cluster[idx], policy, ns, int(kk), per, rng,
                                               {field: v[idx] for field, v in extras.items()})
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
