"""How the solve rate depends on the metadata a prompt shows: two runs compared problem by problem.

AlphaCode conditioned its samples on the problem's rating and tags, and
sampled random ones for diversity (the `alphacode` prompt with `tags="random"`,
`rating="random"`; `gencode run --prompt alphacode --tags random --rating
random`). Two run folders on the same problems, one made with the true
metadata and one with random metadata, are compared here per problem on
pass@k and filtered n@k (k: the smallest pool of either run), with the exact
sign test of `acodium.metrics.paired` (how many problems each is ahead on, and
whether that could be chance).
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..errors import UserError
from ..metrics import compare_paired, n_at_k_filtered, pass_at_k
from .run import Run, read_run

SETTINGS = ("source", "model", "prompt", "tags", "rating", "diversity_seed", "temperature")


class Sensitivity(NamedTuple):
    """per_problem: each problem's scores in both runs and their differences; comparison: one row per
    metric (mean difference a - b, problems ahead / even / behind, sign test p-value); settings: what
    each run was made with (generation.json)."""

    per_problem: pd.DataFrame
    comparison: pd.DataFrame
    settings: pd.DataFrame


def _counts(run: Run) -> pd.DataFrame:
    judged = run.judgements
    passing = judged[judged["passes_public"].astype(bool)]
    return pd.DataFrame({
        "samples": judged.groupby("problem").size(),
        "passing": passing.groupby("problem").size(),
        "correct": judged.groupby("problem")["correct"].sum(),
        "passing_correct": passing.groupby("problem")["correct"].sum(),
    }).reindex(run.names).fillna(0).astype(int)


def _scores(counts: pd.DataFrame, k: int, n: int) -> dict[str, np.ndarray]:
    pooled = counts["samples"].to_numpy() > 0
    # a problem with no sample scores 0; one with fewer than k has no pass@k (refused by the caller)
    return {
        "pass@k": np.where(pooled, pass_at_k(counts["samples"], counts["correct"], k), 0.0),
        "n@k filtered": np.where(pooled, n_at_k_filtered(counts["samples"], counts["passing"],
                                                         counts["passing_correct"], n, k), 0.0),
    }


def run_settings(run: Run) -> dict[str, Any]:
    """What a run's samples were made with, as far as its generation.json says."""
    config = run.generation
    return {"run": str(run.folder), **{key: config.get(key) for key in SETTINGS}}


def metadata_sensitivity(run_a: str | os.PathLike | Run, run_b: str | os.PathLike | Run, *, k: int | None = None,
                         n: int = 10, problems: Any = None) -> Sensitivity:
    """Run a (e.g. true tags and ratings) against run b (e.g. random ones), problem by problem.

    Both must be run folders on the same problems. k: default the smallest
    non-empty pool of either run (every problem's pass@k is then defined).
    """
    a, b = read_run(run_a, problems=problems), read_run(run_b, problems=problems)
    if sorted(a.names) != sorted(b.names):
        only = sorted(set(a.names) ^ set(b.names))
        raise UserError(f"The runs {a.folder} and {b.folder} were made on different problems (for instance "
                        f"{only[0]!r} is in one only): a paired comparison needs the same problems.")
    ca, cb = _counts(a), _counts(b).reindex(a.names)
    sizes = np.concatenate([ca["samples"].to_numpy(), cb["samples"].to_numpy()])
    if not (sizes > 0).any():
        raise UserError(f"Neither {a.folder} nor {b.folder} holds a sample.")
    smallest = int(sizes[sizes > 0].min())
    k = smallest if k is None else int(k)
    if not 1 <= k <= smallest:
        raise UserError(f"k must be between 1 and {smallest}, the smallest pool of a problem in the two runs, "
                        f"not {k}.")
    sa, sb = _scores(ca, k, n), _scores(cb, k, n)
    per_problem = pd.DataFrame({"problem": a.names, "samples_a": ca["samples"].to_numpy(),
                                "samples_b": cb["samples"].to_numpy()})
    rows = []
    for metric in sa:
        per_problem[f"{metric} a"], per_problem[f"{metric} b"] = sa[metric], sb[metric]
        per_problem[f"{metric} difference"] = sa[metric] - sb[metric]
        c = compare_paired(sa[metric], sb[metric])
        rows.append({"metric": metric, "n": n if metric != "pass@k" else k, "k": k, "a": float(sa[metric].mean()),
                     "b": float(sb[metric].mean()), **c._asdict()})
    comparison = pd.DataFrame(rows, columns=["metric", "n", "k", "a", "b", "difference", "ahead", "even",
                                             "behind", "p_value"])
    settings = pd.DataFrame([{"label": "a", **run_settings(a)}, {"label": "b", **run_settings(b)}])
    return Sensitivity(per_problem, comparison, settings)
