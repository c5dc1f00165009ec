"""`python -m acodium.demo` (what `make demo` runs): the offline default sweep and its headline numbers.

Runs params/demo.yaml: synthetic pools of the starter problems' own programs
(their solutions and program mutants), shaped like AlphaCode's (most fail the
public tests, most of those passing them are wrong; `acodium.generate.synthetic`),
judged by the local executor, giving AlphaCode's scaling curve and the
selection ablation (random, filtered, filtered + clustered). Settings come from
arguments or the environment (`make demo DATASET=deepmind/code_contests
SPLIT=valid LIMIT=20`, or `make demo MODEL=gpt-4o-mini BASE_URL=https://api.openai.com/v1`):

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
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UserError
from .generate import roles_in_clusters
from .metrics import PairedComparison, compare_metrics
from .notebook import POLICY_LABELS, load_tables
from .paths import cache_dir
from .sweep import run_sweep
from .tables import FIGURES_DIR, TABLES_DIR

DEMO_SWEEP = Path(__file__).resolve().parents[1] / "params" / "demo.yaml"
SETTINGS = ("DATASET", "SPLIT", "LIMIT", "MODEL", "BASE_URL")


def overrides_for(dataset=None, split=None, limit=None, model=None, base_url=None) -> dict:
    """The sweep parameters that the demo's settings replace.

    A real dataset gets a sample of problems (LIMIT, default 20), each with
    its synthetic pool; a MODEL replaces the synthetic pools with 20 samples
    per problem.
    """
    out: dict = {}
    if dataset and dataset != "starter":
        out.update(dataset=dataset, split="train", limit=20)
    if split:
        out["split"] = split
    if limit:
        try:
            out["limit"] = int(limit)
        except ValueError:
            raise UserError(f"LIMIT must be a number of problems, not {limit!r}.") from None
    if model:
        out.update(human_samples=0, mutant_samples=0, synthetic_samples=0, llm_samples=20, model=model)
        if base_url:
            out["base_url"] = base_url
    elif base_url:
        raise UserError("BASE_URL is set but MODEL is not: set MODEL to the model to sample from.")
    return out


@dataclass
class Headline:
    """What the demo prints after its runs, read back from the tables they saved.

    rows: (label, value, ci_low, ci_high, what the label means); comparisons:
    (label, `PairedComparison`) of each policy against the one before it, over
    the same problems; pools: what the pools held, when a source recorded it;
    told_apart: a sentence on how the clustering inputs split the false
    positives from the correct programs (synthetic pools only).
    """

    rows: list[tuple[str, float, float, float, str]] = field(default_factory=list)
    comparisons: list[tuple[str, PairedComparison]] = field(default_factory=list)
    pools: str | None = None
    told_apart: str | None = None
    synthetic: bool = False
    passing: float = 0.0  # programs passing the public tests, per problem (synthetic pools)


# What each policy of the ablation does, said after its label.
POLICY_MEANING = {
    "random": "submit {n} of the {k} samples, at random",
    "filtered": "submit {n} of those passing the public tests, at random",
    "filtered + clustered": "submit {n} of those, one per behaviour cluster, largest first",
}
ORDER = ("random", "filtered", "filtered + clustered")


def headline(result) -> Headline:
    """The numbers the demo prints, from the tables the runs saved (see `Headline`)."""
    out = Headline()
    for run in result.runs:
        if run.status not in ("ok", "skipped"):
            continue
        tables = load_tables(run.dir)
        if "solve_rate" in tables and "policies" not in tables:  # the policies table is the labelled solve rate
            df = tables["solve_rate"]
            passing = df[df["metric"] == "pass@k"]
            for k in dict.fromkeys((1, int(passing["k"].max()) if len(passing) else 1)):
                hit = passing[passing["k"] == k]
                if len(hit):
                    r = hit.iloc[0]
                    meaning = ("one sample, correct (passes every hidden test)" if k == 1 else
                               f"any of {k} samples correct (the oracle: no choosing)")
                    out.rows.append((f"pass@{k}", r["value"], r["ci_low"], r["ci_high"], meaning))
        if "policies" in tables:
            _policy_rows(out, tables)
    return out


def _policy_rows(out: Headline, tables: dict) -> None:
    """The ablation's rows at its largest k, the paired comparisons, and what the pools held."""
    df = tables["policies"]
    df = df[df["metric"] != "pass@k"]
    k = int(df["k"].max())
    at_k = df[df["k"] == k]
    for policy in [p for p in ORDER if p in set(at_k["policy"])] + sorted(set(at_k["policy"]) - set(ORDER)):
        for _, r in at_k[at_k["policy"] == policy].sort_values("n").iterrows():
            n = int(r["n"])
            meaning = POLICY_MEANING.get(policy, "submit {n} chosen by the policy " + policy).format(n=n, k=k)
            out.rows.append((f"{n}@{k} {policy}", r["value"], r["ci_low"], r["ci_high"], meaning))
    metrics = tables.get("metrics")
    if metrics is not None:
        for c in compare_metrics(metrics, k=k).itertuples(index=False):
            label = f"{_label(c.metric)} vs {_label(c.against)}, {c.n}@{c.k}:"
            out.comparisons.append((label, PairedComparison(c.difference, c.ahead, c.even, c.behind, c.p_value)))
    candidates, judgements = tables.get("candidates"), tables.get("judgements")
    if candidates is None or judgements is None:
        return
    roles = roles_in_clusters(candidates, judgements)
    if roles.empty:
        return
    out.synthetic = True
    problems = len(roles)
    sizes = roles["correct"] + roles["false positive"] + roles["fails public"]
    size = f"{sizes.min()}" if sizes.min() == sizes.max() else f"{sizes.min()} to {sizes.max()}"
    passing = out.passing = float((roles["correct"] + roles["false positive"]).mean())
    failing, false_positives = roles["fails public"].mean(), roles["false positive"].mean()
    out.pools = (f"{problems} problems, synthetic pools of {size} programs each, chosen by their verdicts to "
                 f"have AlphaCode's shape (acodium/generate/synthetic.py): on average {failing:.1f} fail the public "
                 f"tests, and of the {passing:.1f} that pass them {false_positives:.1f} are wrong")
    wrong = int(roles["false positive"].sum())
    apart = int(roles["told apart"].sum())
    split = int((roles["correct clusters"] > 1).sum())
    out.told_apart = (f"The clustering inputs tell {apart} of the {wrong} false positives apart from every correct "
                      f"program (the rest behave like a correct one on them)"
                      + (f"; the correct programs of {split} problem(s) fall into several clusters" if split else "")
                      + ".")


def _label(metric: str) -> str:
    return POLICY_LABELS.get(metric, metric.removeprefix("n@k "))


# What each step of the ladder does, for the sentence on what the run shows.
STEP = {("filtered", "random"): ("submitting only programs that pass the public tests", "submitting blindly"),
        ("filtered + clustered", "filtered"): ("submitting one program per behaviour cluster (largest first)",
                                               "a random one of those")}
SIGNIFICANT = 0.05  # a sign test below this says the step helps on this run


def what_it_shows(head: Headline) -> str:
    """The sentence on what this run shows, step by step, from its paired comparisons (not a fixed claim)."""
    parts = []
    for label, c in head.comparisons:
        pair = tuple(label.split(",")[0].split(" vs "))
        better, worse = STEP.get(pair, pair)
        problems = c.ahead + c.even + c.behind
        p = "p < 0.001" if c.p_value < 0.001 else f"p = {c.p_value:.3f}"
        verb = "beats" if c.p_value < SIGNIFICANT and c.ahead > c.behind else "does not measurably beat"
        parts.append(f"{better} {verb} {worse} (ahead on {c.ahead}, behind on {c.behind} of {problems} problems, {p})")
    return ("What this shows: on these pools, " + "; ".join(parts) + ". The policies see only the public tests "
            "and the clustering inputs.")


WHAT_IT_DOES_NOT = (
    "What it does not show: how often a model writes such programs, or how much clustering gains on a model's "
    "samples. The pools are synthetic (programs chosen by their verdicts on the hidden tests to give these "
    "proportions); they hold about {passing:.0f} programs passing the public tests where AlphaCode had "
    "thousands (10 submissions would take them all: nothing left to choose); and the clustering inputs are "
    "small edits of the public ones, which miss false positives that fail only on large inputs.")


def print_headline(head: Headline, width: int = 112) -> None:
    """The headline block: what the pools held, the numbers, the comparisons, and what they show."""
    if not head.rows:
        return

    def say(text: str) -> None:
        print(textwrap.fill(text, width, subsequent_indent="  "))

    print()
    say("Headline" + (f": {head.pools}." if head.pools else ".") + " Share of problems solved, with its 95% "
        "interval over problems (docs/metrics.md); n@k: n submissions chosen from k samples of a problem, "
        "solved when one passes every hidden test.")
    label_width = max(len(label) for label, *_ in head.rows)
    for label, value, lo, hi, meaning in head.rows:
        print(f"  {label:{label_width}s} {value:6.1%}  [{lo:6.1%}, {hi:6.1%}]  {meaning}")
    if head.comparisons:
        print("Paired, problem by problem (a difference within the Monte Carlo error is even; exact sign test):")
        label_width = max(len(label) for label, _ in head.comparisons)
        for label, c in head.comparisons:
            problems = c.ahead + c.even + c.behind
            print(f"  {label:{label_width}s} {100 * c.difference:+5.1f} points, ahead on {c.ahead}, even on "
                  f"{c.even}, behind on {c.behind} of {problems} problems "
                  f"({'p < 0.001' if c.p_value < 0.001 else f'p = {c.p_value:.3f}'})")
    if head.told_apart:
        say(head.told_apart)
    if head.synthetic:
        say(what_it_shows(head))
        say(WHAT_IT_DOES_NOT.format(passing=head.passing))


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
        where = (", ".join(f"{k}={v}" for k, v in overrides.items())
                 or "starter problems, synthetic AlphaCode-shaped pools")
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
    print_headline(headline(result))
    if result.failed:
        print(f"\n{len(result.failed)} run(s) failed: open their executed notebooks above.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
