"""`gencode run`: one command from a model (or an offline source) to the metrics table and a figure.

Generate k candidates per problem, execute them in the sandbox, judge them on
the hidden tests, print pass@k and n@k with intervals and draw the solve rate
against k, all into one run folder that a re-run resumes. It is `gen
solve_and_evaluate_set` with a model's name up front and a figure at the end:
the same options (`cli/gen.py`), the same pipeline (`cli/pipeline.py`) and
the same driver (`acodium.evaluation.score_candidates`).
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from click.core import ParameterSource

from ..errors import UserError
from ..wording import plural
from .common import (Folder, data_dir, execution_from_options, option, parse_ints, positive_int, scoring_options,
                     selection_from_options)
from .gen import gen_execution_options, make_cli_source, source_options

FIGURE = "solve_rate_vs_samples"  # OUT/figures/FIGURE.png and .svg
POLICY_LABELS = {"filtered": "filtered on public tests", "clustered": "filtered + clustered"}


def _given(ctx: click.Context, name: str) -> bool:
    """Whether the user set an option (on the command line or through its environment variable)."""
    return ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)


def _choose_source(ctx: click.Context, opts: dict) -> None:
    """A model named (--model or $ACODIUM_MODEL) means the llm source; no model and no --source is refused,
    rather than sampling from a default model the user never asked for, and so is a model given to an
    offline source, which would not ask it."""
    if opts["source"] is None:
        if not (_given(ctx, "model") or os.environ.get("ACODIUM_MODEL")):
            raise UserError("Name a model (--model M, and --base_url URL for a local server) or run offline with "
                            "--source human, mutants or file.")
        opts["source"] = "llm"
    elif opts["source"] != "llm" and _given(ctx, "model"):
        raise UserError(f"--model names a model, but --source {opts['source']} asks none; leave one of them out.")


def solve_rate_figure(metrics, problems: int, out: Path) -> Path:
    """The solve rate against k, one line per metric (pass@k, n@k per policy) with 95% bands, as
    OUT/figures/solve_rate_vs_samples.png (and .svg)."""
    from .. import plots

    overall = metrics[metrics["problem"] == "ALL"]
    pass_at_k = overall["metric"] == "pass@k"  # one row per k (its n is k)
    curves = {"pass@k (any of k correct)": overall[pass_at_k]}
    for (metric, n), rows in overall[~pass_at_k].groupby(["metric", "n"], sort=False):
        policy = metric.removeprefix("n@k ")
        curves[f"{n}@k ({POLICY_LABELS.get(policy, policy)})"] = rows
    fig = plots.solve_rate_curves(curves, title="Solve rate against samples per problem",
                                  note=f"{problems} problems; bands: 95% interval over problems")
    return plots.save_figure(fig, out, FIGURE)[0]


@click.command("run")
@option("dataset", required=True,
        help="Problems: 'starter', a name saved by `gencode data etl`, a hub id, a save_to_disk folder, parquet or "
             "JSONL.")
@option("split", default="train", show_default=True, help="Split of the dataset.")
@option("limit", type=positive_int, default=None, help="At most this many problems (a seeded random sample).")
@source_options(default_k=10, default_source=None,
                shown_source="llm when a model is named, else required")
@option("k_values", default=None,
        help="k values of pass@k and n@k, comma-separated [default: 1, 2, 5, 10, ... up to the fewest samples "
             "a problem got, and that number].")
@scoring_options
@gen_execution_options
@option("out", required=True, type=Folder(),
        help="Run folder: candidates, executions, judgements, metrics, summary.json, figures/ (a re-run resumes).")
@option("no_progress", is_flag=True, help="No progress bars.")
@click.pass_context
def group(ctx, dataset, split, limit, k_values, n, max_tests, full, bootstrap, policies, clustering_sets, scorer,
          scorer_model, scorer_base_url, scorer_api_key,
          backend, time_limit, workers,
          no_cache, checker, testlib_dir, python3, slow_cap, executor, out, no_progress, **opts):
    """Generate k candidates per problem, run and judge them, print pass@k and n@k, draw the figure.

    Candidates come from a model (--model, over any OpenAI-compatible server:
    --base_url; --strategy flow for AlphaCodium's flow) or, offline, from the
    dataset's own solutions (--source human), their mutants (--source mutants)
    or a file (--source file --candidates_file F). Correct means passing every
    hidden test (private and generated); n@k submits up to n of k samples that
    pass the public tests. Every problem counts, one without candidates as
    unsolved. Writes OUT/candidates, executions, judgements, metrics,
    summary.json, problems.json (what it ran on: `gencode eval pass_at_k
    --dataset_name OUT` scores it again) and figures/solve_rate_vs_samples.png;
    the same command again skips what is done and says so.
    """
    from ..data import HIDDEN_TEST_SETS, load_problems
    from .pipeline import failed_samples_note, generate_and_score

    _choose_source(ctx, opts)
    ks = parse_ints(k_values, "--k_values")
    selection = selection_from_options(policies, clustering_sets, scorer, scorer_model, scorer_base_url,
                                       scorer_api_key)
    if ks is not None and min(ks) > opts["k"]:
        raise UserError(f"--k_values asks for k={min(ks)}, more than the {plural(opts['k'], 'sample')} per problem "
                        "(--k).")
    execution = execution_from_options(backend, time_limit, workers, no_cache, checker, testlib_dir, python3,
                                       slow_cap, executor)
    source = make_cli_source(opts, execution, no_cache=no_cache)  # a missing key: one sentence, nothing written
    problems = load_problems(dataset, split, data_dir=data_dir(), limit=limit, seed=opts["seed"], languages="all")
    out = Path(out)
    run = generate_and_score(
        problems, source, dataset=dataset, split=split, k=opts["k"], test_sets=list(HIDDEN_TEST_SETS), ks=ks,
        n=n, max_tests=max_tests, full=full, bootstrap=bootstrap, seed=opts["seed"], execution=execution,
        out=out, progress=not no_progress, selection=selection, source=opts["source"], strategy=opts["strategy"],
        model=opts["model"] if opts["source"] == "llm" else None,
    )
    click.echo(run.scores.report())
    failed_samples_note(run)
    figure = solve_rate_figure(run.scores.metrics, len(problems), out)
    click.echo(f"Tables and summary.json in {out}; figure: {figure}")
