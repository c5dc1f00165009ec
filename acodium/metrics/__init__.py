"""pass@k and n@k, exactly where a closed form exists, by subsampling where a policy decides.

Every estimator here works on a *pool*: K samples drawn for a problem, of
which some pass the public tests and some are correct (pass every hidden
test, docs/semantics.md). A metric "at k" is the probability over a uniform draw of k
of the K samples, so k may never exceed a non-empty pool's K: we say so
rather than extrapolate. The package, one job per module:

- `ks`: the one rule for the k reported (`reported_ks`), used by the METRICS
  table, the CLI, `acodium.evaluate(...)` and the sweeps' notebooks;
- `estimators`: `pass_at_k(n, c, k)` (the unbiased estimator of the Codex
  paper) and `n_at_k_filtered(K, P, C, n, k)` (AlphaCode's n@k of "submit up
  to n of the drawn samples passing the public tests", exactly);
- `sampled`: `n_at_k_sampled(judgements, policy, n, k)` for any selection
  policy of `acodium.policies` by repeated draws, with its Monte Carlo error;
- `intervals`: `problems_ci(values)`, the mean over problems with an
  interval about another draw of problems of the same kind (`score_ci`,
  `bootstrap_ci` underneath);
- `paired`: `compare_paired(a, b)`, two scores of the same problems compared
  problem by problem (ahead, even, behind; the exact sign test), and
  `compare_metrics(metrics)`, those comparisons from a METRICS table;
- `samples_reading`: `samples_ci(n, c, k)`, the other reading, the
  precision on these very problems (candidates resampled, problems fixed);
- `table`: `metrics_table(judgements, ks, ns)`, the METRICS table of
  `acodium.tables`, with what each interval is about (`interval`), how it
  was made (`ci_method`) and the Monte Carlo error of subsampled n@k (`mc_se`);
  `slow_positives(judgements)`, the candidates and problems that would pass but
  for SLOW runs, reported beside pass@k and never in it.

A problem without candidates (an empty pool) is an unsolved problem: 0 at
every k and n, counted in every mean (give the benchmark's problems to
`metrics_table(problems=...)` or `n_at_k_sampled(problems=...)`, since a
judgements table has no row for it). docs/metrics.md says what the
intervals mean and how well they cover (`bench/ci_coverage.py`).
"""

from __future__ import annotations

from ..policies import Draws, Policy, per_draw_policy
from .estimators import n_at_k_filtered, pass_at_k
from .intervals import DISPERSION_FLOOR, FEW_PROBLEMS, MeanCI, bootstrap_ci, problems_ci, score_ci
from .ks import ReportedKs, log_grid, reported_ks
from .paired import PairedComparison, compare_metrics, compare_paired, sign_test_p
from .sampled import n_at_k_sampled, solve_rate_sampled
from .samples_reading import samples_ci
from .table import INTERVAL_READINGS, TABLE_EXTRAS, metrics_table, slow_positives

__all__ = [
    "DISPERSION_FLOOR", "Draws", "FEW_PROBLEMS", "INTERVAL_READINGS", "MeanCI", "PairedComparison", "Policy",
    "ReportedKs", "compare_metrics", "compare_paired", "sign_test_p",
    "TABLE_EXTRAS", "bootstrap_ci", "log_grid", "metrics_table", "n_at_k_filtered",
    "n_at_k_sampled", "pass_at_k", "per_draw_policy", "problems_ci", "reported_ks", "samples_ci", "score_ci",
    "slow_positives", "solve_rate_sampled",
]
