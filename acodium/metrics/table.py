"""The METRICS table: pass@k, and n@k for each n and policy, with intervals, from a judgements table.

`metrics_table(judgements, ks, ns)` puts the estimators of this package
together: the k reported follow `reported_ks` (the one rule), pass@k and the
filtered n@k are exact, the policies' n@k are subsampled with their Monte
Carlo error, and each mean over problems carries an interval (`interval`
says what it is about, `ci_method` how it was made). Problems without
candidates score 0 at every k and stay in every mean.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import UserError
from ..policies import Policy, clustered_policy
from ..tables import METRICS
from .estimators import n_at_k_filtered, pass_at_k
from .intervals import _check_level, problems_ci
from .ks import _ks, reported_ks
from .sampled import _bool_column, _pools, n_at_k_sampled
from .samples_reading import (
    _SAMPLES_RESAMPLES,
    _filtered_variances,
    _pass_variances,
    _policy_variances,
    _samples_intervals,
)

# What a row's interval is about (the `interval` column).
INTERVAL_READINGS = ("problems", "samples")


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
      of `acodium.policies`), by subsampling with `trials` draws ("n@k filtered
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
    ks: the k asked for, or None for the default grid: which are reported
      is `reported_ks`'s rule (k beyond the smallest non-empty pool left
      out, an error if none is left), its note in `table.attrs["notes"]`.
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
    ks_list, note = reported_ks(samples, ks, problems=names)
    ks_arr = np.array(ks_list, dtype=np.int64)
    ns_arr = np.unique(_ks(list(ns), "n")) if len(ns) else np.array([], dtype=np.int64)
    if policies is None:
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


def slow_positives(judgements: pd.DataFrame, problems: Sequence[str] | None = None) -> dict | None:
    """How many candidates and problems would pass but for SLOW runs (AlphaCode's slow positives), or None
    when the judgements say nothing of it (no `slow` column, as in tables made by hand or before it).

    A slow candidate is not correct, and every hidden test it failed was SLOW (correct output over the
    time limit, within the slow cap). Reported beside pass@k, never in it: SLOW is never correct.
    `problems` as in `metrics_table` (empty pools count, as problems without a slow candidate):
    - slow_candidates, candidates, slow_candidate_share: over every candidate;
    - problems_with_slow, problems, problem_share: problems with at least one slow candidate;
    - problems_only_slow: of those, the ones no candidate solves (solved, were the limit slow_cap x longer).
    """
    if "slow" not in judgements.columns:
        return None
    pools = _pools(judgements, problems)
    slow = [_bool_column(g, "slow", name) if len(g) else np.zeros(0, dtype=bool) for name, g in pools]
    correct = [_bool_column(g, "correct", name) if len(g) else np.zeros(0, dtype=bool) for name, g in pools]
    candidates = sum(len(s) for s in slow)
    slow_candidates = int(sum(s.sum() for s in slow))
    with_slow = sum(bool(s.any()) for s in slow)
    only_slow = sum(bool(s.any()) and not c.any() for s, c in zip(slow, correct))
    return {
        "slow_candidates": slow_candidates,
        "candidates": int(candidates),
        "slow_candidate_share": slow_candidates / candidates if candidates else None,
        "problems_with_slow": int(with_slow),
        "problems": len(pools),
        "problem_share": with_slow / len(pools) if pools else None,
        "problems_only_slow": int(only_slow),
    }
