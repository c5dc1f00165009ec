"""What candidates cost: LLM calls, tokens or money per sample, per stage, and on a budget axis.

It reads the candidates table's `meta`, which the sources here write (a direct
sample is one call with its tokens; a flow run records its calls and a spend per
stage), so the reader of that record lives beside its writers. `with_budget` puts
a solve-rate table on the axis "spend per problem" so that direct sampling and the
flow (15-20 calls a run) compare at equal cost.
"""

from __future__ import annotations

import json

import pandas as pd

from ..errors import UserError
from .flow.options import STAGES


def spend_per_sample(candidates: pd.DataFrame, by: str = "calls") -> pd.Series:
    """LLM calls (or tokens, or cost) each candidate took, from its meta: a direct sample is one call."""
    if by not in ("calls", "tokens", "cost"):
        raise UserError(f"Spend is counted in calls, tokens or cost, not {by!r}.")

    def one(meta: str) -> float:
        m = json.loads(meta) if meta else {}
        if by == "calls":
            return float(m.get("calls", 1))
        if by == "tokens":
            return float((m.get("prompt_tokens") or 0) + (m.get("completion_tokens") or 0))
        return float(m.get("cost") or 0.0)

    return candidates["meta"].map(one)


def with_budget(solve_rate: pd.DataFrame, candidates: pd.DataFrame, by: str = "calls",
                group: str | None = None) -> pd.DataFrame:
    """A solve-rate table with `budget`: k samples times the mean spend of one sample.

    Puts direct sampling and the flow on one axis: pass@k of the flow at k runs
    costs k x (mean calls per run), of direct sampling k calls. With `group` (a
    column of both tables, like `strategy`), each group gets its own mean.
    """
    out = solve_rate.copy()
    if group is None:
        per_sample = float(spend_per_sample(candidates, by).mean()) if len(candidates) else 0.0
        out["budget"] = out["k"] * per_sample
        return out
    means = spend_per_sample(candidates, by).groupby(candidates[group]).mean()
    missing = sorted(set(out[group]) - set(means.index), key=str)
    if missing:
        raise UserError(f"No candidates of {group} {missing[0]!r} to count the spend of.")
    out["budget"] = out["k"] * out[group].map(means)
    return out


def stage_spend(candidates: pd.DataFrame, group: str | None = None) -> pd.DataFrame:
    """Mean calls, tokens and cost per flow run, stage by stage (from the candidates' meta).

    With `group` (a column such as `strategy`), one block of stages per value of
    it that has flow runs, with that column; candidates without stages (direct
    samples) are left out.
    """
    if group is not None:
        flow_runs = candidates[[bool((json.loads(m) if m else {}).get("stages")) for m in candidates["meta"]]]
        blocks = [stage_spend(part).assign(**{group: value})
                  for value, part in flow_runs.groupby(group, sort=False, observed=True)]
        columns = ["stage", "calls_per_run", "tokens_per_run", "cost_per_run", group]
        return pd.concat(blocks, ignore_index=True) if blocks else pd.DataFrame(columns=columns)
    rows = []
    for meta in candidates["meta"]:
        m = json.loads(meta) if meta else {}
        for stage, s in (m.get("stages") or {}).items():
            rows.append({"stage": stage, "calls": s["calls"], "tokens": s["prompt_tokens"] + s["completion_tokens"],
                         "cost": s["cost"]})
    runs = max(1, len(candidates))
    table = pd.DataFrame(rows, columns=["stage", "calls", "tokens", "cost"])
    table = table.groupby("stage", sort=False).sum() / runs
    order = [s for s in STAGES if s in table.index]
    return table.loc[order].reset_index().rename(columns={"calls": "calls_per_run", "tokens": "tokens_per_run",
                                                          "cost": "cost_per_run"})
