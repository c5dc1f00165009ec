"""`python -m acodium.demo` (what `make demo` runs): the offline default sweep and its headline numbers.

Runs params/demo.yaml: pools of human and mutant candidates on the starter
problems, judged by the local executor, giving AlphaCode's scaling curve and
the clustering ablation. Settings come from arguments or the environment
(`make demo DATASET=deepmind/code_contests SPLIT=valid LIMIT=20`, or
`make demo MODEL=gpt-4o-mini BASE_URL=https://api.openai.com/v1`):

    DATASET   problems: a hub id, a path, a saved name, or `starter` (default)
    SPLIT     the split to load (default train; the starter problems have one)
    LIMIT     at most this many problems (sampled with the sweep's seed)
    MODEL     sample candidates from this chat model instead of the offline pools
    BASE_URL  the OpenAI-compatible server of MODEL (default: OPENAI_BASE_URL or OpenAI)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .errors import UserError
from .notebook import load_tables
from .paths import cache_dir
from .sweep import run_sweep
from .tables import FIGURES_DIR, TABLES_DIR

DEMO_SWEEP = Path(__file__).resolve().parents[1] / "params" / "demo.yaml"
SETTINGS = ("DATASET", "SPLIT", "LIMIT", "MODEL", "BASE_URL")


def overrides_for(dataset=None, split=None, limit=None, model=None, base_url=None) -> dict:
    """The sweep parameters that the demo's settings replace.

    A real dataset gets a sample of problems (LIMIT, default 20) and 20 human
    solutions per problem (half correct where there are enough), not all of them;
    a MODEL replaces the offline pools with 20 samples per problem.
    """
    out: dict = {}
    if dataset and dataset != "starter":
        out.update(dataset=dataset, split="train", limit=20, human_samples=20)
    if split:
        out["split"] = split
    if limit:
        try:
            out["limit"] = int(limit)
        except ValueError:
            raise UserError(f"LIMIT must be a number of problems, not {limit!r}.") from None
    if model:
        out.update(human_samples=0, mutant_samples=0, llm_samples=20, model=model)
        if base_url:
            out["base_url"] = base_url
    elif base_url:
        raise UserError("BASE_URL is set but MODEL is not: set MODEL to the model to sample from.")
    return out


def headline(result) -> list[tuple[str, float, float, float]]:
    """(label, value, ci_low, ci_high) of the numbers the demo prints, from the tables the runs saved."""
    rows = []
    for run in result.runs:
        if run.status not in ("ok", "skipped"):
            continue
        tables = load_tables(run.dir)
        if "solve_rate" in tables and "policies" not in tables:  # the policies table is the labelled solve rate
            df = tables["solve_rate"]
            for metric in ("pass@k",):
                for k in (1, 10):
                    hit = df[(df["metric"] == metric) & (df["k"] == k)]
                    if len(hit):
                        r = hit.iloc[0]
                        rows.append((f"pass@{k}", r["value"], r["ci_low"], r["ci_high"]))
        if "policies" in tables:
            df = tables["policies"]
            df = df[df["metric"] != "pass@k"]
            k = int(df["k"].max())
            for _, r in df[df["k"] == k].iterrows():
                rows.append((f"{int(r['n'])}@{k} {r['policy']}", r["value"], r["ci_low"], r["ci_high"]))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m acodium.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("settings", nargs="*", metavar="KEY=VALUE", help=f"any of {', '.join(SETTINGS)}")
    parser.add_argument("--out", default="outputs", help="folder receiving demo/RUN_ID/ (default outputs)")
    parser.add_argument("--sweep", default=str(DEMO_SWEEP), help="the sweep file (default params/demo.yaml)")
    args = parser.parse_args(argv)

    settings = {k: os.environ.get(k) or None for k in SETTINGS}
    try:
        for item in args.settings:
            key, sep, value = item.partition("=")
            if not sep or key.upper() not in SETTINGS:
                raise UserError(f"Expected one of {', '.join(s + '=...' for s in SETTINGS)}, got {item!r}.")
            settings[key.upper()] = value or None
        overrides = overrides_for(
            settings["DATASET"], settings["SPLIT"], settings["LIMIT"], settings["MODEL"], settings["BASE_URL"]
        )
        where = ", ".join(f"{k}={v}" for k, v in overrides.items()) or "starter problems, human + mutant candidates"
        print(f"acodium demo: {where}; cache {cache_dir()}", flush=True)
        result = run_sweep(args.sweep, out=args.out, overrides=overrides, cache_dir=cache_dir(), echo=print)
    except UserError as e:
        print(f"acodium demo: {e}", file=sys.stderr)
        return 2

    print(f"\nRun folder: {result.dir}  (manifest.json)")
    for run in result.runs:
        print(f"  {run.status:7s} {run.run_id}: {Path(run.dir) / Path(run.notebook).name}")
        for fig in run.figures:
            if fig.endswith(".png"):
                print(f"           figure  {Path(run.dir) / FIGURES_DIR / fig}")
        if run.tables:
            print(f"           tables  {Path(run.dir) / TABLES_DIR}/ ({', '.join(run.tables)})")
        if run.error:
            print(f"           error   {run.error}")
    rows = headline(result)
    if rows:
        print("\nHeadline (share of problems solved, 95% interval over problems, see docs/metrics.md):")
        for label, value, lo, hi in rows:
            print(f"  {label:28s} {value:6.1%}  [{lo:6.1%}, {hi:6.1%}]")
    if result.failed:
        print(f"\n{len(result.failed)} run(s) failed: open their executed notebooks above.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
