"""How samples fail, by language: no code, compile errors, crashes, limits, wrong answers (AlphaCode table 9).

Each sample gets one outcome, the first of OUTCOMES that its runs show (a
sample that fails to compile on one test fails on all): "no code" (the reply
held no program: never run), "compile error", "runtime error", "memory or
output limit", "timeout" (TIMEOUT or SLOW), "judge error", "wrong answer"
(every run ended but some output was wrong), else "passes" (every test it
ran); "not run" when the folder holds no run of it. The runs are the ones the run's schedule made: under "public_first",
hidden tests ran only for samples passing the public ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..evaluation import has_code
from .run import Run

OUTCOMES = ["no code", "compile error", "runtime error", "memory or output limit", "timeout", "judge error",
            "sandbox error", "wrong answer", "passes", "not run"]
_STATUS_OUTCOME = {"COMPILE_ERROR": "compile error", "RUNTIME_ERROR": "runtime error",
                   "MEMORY_LIMIT": "memory or output limit", "OUTPUT_LIMIT": "memory or output limit",
                   "TIMEOUT": "timeout", "SLOW": "timeout", "JUDGE_ERROR": "judge error",
                   "SANDBOX_ERROR": "sandbox error"}


def sample_outcomes(run: Run) -> pd.DataFrame:
    """One row per candidate: problem, candidate_id, language, outcome (one of OUTCOMES)."""
    ex = run.executions
    rank = {outcome: i for i, outcome in enumerate(OUTCOMES)}
    outcome = ex["status"].map(_STATUS_OUTCOME)
    wrong = outcome.isna() & ~ex["passed"].astype(bool) if "passed" in ex.columns else outcome.isna() & False
    outcome = outcome.where(~wrong, "wrong answer").fillna("passes")
    worst = (pd.DataFrame({"problem": ex["problem"], "candidate_id": ex["candidate_id"],
                           "rank": outcome.map(rank)})
             .groupby(["problem", "candidate_id"])["rank"].min())
    cands = run.candidates[["problem", "candidate_id", "language", "code"]]
    keys = pd.MultiIndex.from_frame(cands[["problem", "candidate_id"]])
    ranks = worst.reindex(keys).to_numpy()
    coded = np.array([has_code(c) for c in cands["code"]], dtype=bool)
    names = [OUTCOMES[int(r)] if c and r == r else ("no code" if not c else "not run")
             for r, c in zip(ranks, coded)]
    return pd.DataFrame({"problem": cands["problem"].to_numpy(), "candidate_id": cands["candidate_id"].to_numpy(),
                         "language": cands["language"].to_numpy(), "outcome": names})


def failure_shares(run: Run) -> pd.DataFrame:
    """By language (and "all"): samples, then the share of each outcome of OUTCOMES (those with none
    left out), and `fails to compile or crashes` (compile and runtime errors together)."""
    outcomes = sample_outcomes(run)
    rows = []
    for language, group in [*outcomes.groupby("language", sort=True), ("all", outcomes)]:
        shares = group["outcome"].value_counts(normalize=True)
        rows.append({"language": language, "samples": len(group),
                     **{o: float(shares.get(o, 0.0)) for o in OUTCOMES},
                     "fails to compile or crashes": float(shares.get("compile error", 0.0)
                                                          + shares.get("runtime error", 0.0))})
    table = pd.DataFrame(rows)
    seen = [o for o in OUTCOMES if (table[o] > 0).any()]
    return table[["language", "samples", *seen, "fails to compile or crashes"]]
