"""The mean over problems with an interval about another draw of problems of the same kind.

Two readings of "how sure are we of this mean over problems?":

- "problems" (the default, this module): the benchmark is a draw of
  problems of a kind; the interval is about the mean another draw of as
  many such problems would show (the population mean of pass@k). Resample
  problems: `problems_ci` (percentile bootstrap guarded by a score
  interval; the score interval alone for few problems or when every
  problem scores 0), with `score_ci` and `bootstrap_ci` underneath.
- "samples": these very problems are the object; the interval is about
  their mean true solve rate, the limit of infinitely many samples per
  problem. Resample candidates, problems fixed: `acodium.metrics.samples_reading`.

docs/metrics.md says what the intervals mean and how well they cover
(`bench/ci_coverage.py`).
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import NamedTuple

import numpy as np

from ..errors import UserError

# Below this many problems the percentile bootstrap alone undercovers (issue 14: 85-94% at 20).
FEW_PROBLEMS = 30
# Least dispersion assumed for per-problem scores, as a share of a Bernoulli's mu(1-mu) (see `score_ci`).
DISPERSION_FLOOR = 0.3


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
