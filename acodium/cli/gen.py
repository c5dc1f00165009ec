"""`gencode gen`: ask a model, solve one problem and see every test, or generate and score a set.

Compatible with the original alphaCodium commands (`gen ask`, `gen solve_problem
--dataset_name D --split_name S --problem_name NAME --evaluation_test_type
private_tests`, `gen solve_and_evaluate_set`). Candidates come from any source
(`--source llm|human|mutants|file`); LLM replies are cached under
$ACODIUM_CACHE/llm, executions under $ACODIUM_CACHE/executions.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import UserError
from ..languages import RUNNABLE_LANGUAGES
from ..prompting import LANGUAGES as PROMPT_LANGUAGES
from ..wording import cost_text, plural
from .common import (
    TEST_TYPES, Folder, caches, data_dir, execution_from_options, execution_options, fraction, group as make_group,
    non_negative_float, non_negative_int, option, options, positive_float, positive_fraction, positive_int,
    require_utf8, seconds, parse_ints, parse_test_sets, scoring_options,
    selection_from_options,
)

if TYPE_CHECKING:  # only a type here: acodium.execute costs ~15 ms at start (see acodium.cli.common)
    from ..execute import Execution


@make_group(help="Generate candidate programs: from an LLM, the dataset's solutions, mutants, or a file.")
def group():
    pass

SOURCES = ("llm", "human", "mutants", "file")


def _default_model() -> str:
    return os.environ.get("ACODIUM_MODEL", "gpt-4o-mini")


# The options that say which model to ask and how (shared by every command).
llm_options = options(
    option("model", default=_default_model, show_default="$ACODIUM_MODEL or gpt-4o-mini",
           help="Model name as the server knows it."),
    option("base_url", default=None,
           help="OpenAI-compatible server (vLLM, Ollama, llama.cpp...), or several serving one model (URLs "
                "separated by commas, or a file with one per line): requests balanced, a failing one's retried on "
                "another [default: $OPENAI_BASE_URL or OpenAI]."),
    option("api_key", default=None, help="API key [default: $OPENAI_API_KEY]."),
    option("temperature", type=non_negative_float, default=None,
           help="Sampling temperature [default: 0.7; ask: the server's]."),
    option("top_p", type=fraction, default=None, help="Nucleus sampling."),
    option("max_tokens", type=positive_int, default=None, help="Longest reply, in tokens."),
    option("timeout", type=seconds, default=120.0, show_default=True, help="Seconds per request."),
    option("max_retries", type=non_negative_int, default=5, show_default=True,
           help="Retries of a request (429s, 5xx, timeouts), by the openai client."),
    option("prices", type=click.Path(dir_okay=False), default=None,
           help='TOML price table ([models."name"] input/output USD per 1M tokens) added to the built-in one.'),
)


def source_options(default_k: int, default_source: str | None = "llm", shown_source: str | bool = True):
    """Options of the candidate sources and of the generation loop."""
    return options(
        option("source", type=click.Choice(SOURCES), default=default_source, show_default=shown_source,
               help="Where candidates come from."),
        option("k", "--samples", type=positive_int, default=default_k, show_default=True,
               help="Candidates per problem."),
        llm_options,
        option("prompt", default="direct", show_default=True,
               help="Prompt: a name in acodium/prompts or a .toml path."),
        option("language", type=click.Choice(PROMPT_LANGUAGES), default="python3", show_default=True,
               help="Target language of the LLM's programs."),
        option("tags", type=click.Choice(["true", "random", "none"]), default="true", show_default=True,
               help="Tags shown in the prompt (AlphaCode: random tags for diversity)."),
        option("rating", type=click.Choice(["true", "random", "none"]), default="true", show_default=True,
               help="Rating shown in the prompt (AlphaCode: random ratings for diversity)."),
        option("seed", type=non_negative_int, default=0, show_default=True,
               help="Seed of the random tags/ratings, human sampling, mutants and problem sampling."),
        option("concurrency", type=positive_int, default=8, show_default=True,
               help="LLM requests in flight at once (per server, with several --base_url)."),
        option("rpm", type=positive_float, default=None,
               help="At most this many LLM requests per minute (per server, with several --base_url)."),
        option("correct_fraction", type=fraction, default=1.0, show_default=True,
               help="Human source: the share of k drawn from each problem's correct solutions, the rest from its "
                    "incorrect ones (1: correct only, 0: incorrect only); a problem with fewer gets fewer, said per "
                    "problem, never filled from the other kind."),
        option("candidates_file", type=click.Path(dir_okay=False), default=None,
               help="File source: a JSONL or parquet with problem and code columns."),
        option("strategy", type=click.Choice(["direct", "flow"]), default="direct", show_default=True,
               help="LLM source: one prompt per sample (direct), or AlphaCodium's flow per sample "
                    "(reflection, model tests, fixes; about 15-20 calls each)."),
        option("flow_ablation", default="full", show_default=True,
               help="Flow: switch stages off: no_reflection, no_approaches, no_model_tests, no_anchors, no_fixes."),
        option("flow_max_calls", type=positive_int, default=None, help="Flow: LLM calls per run [default: 20]."),
        option("flow_model_tests", type=non_negative_int, default=None,
               help="Flow: tests the model writes [default: 6]."),
        option("flow_prompts", default="flow", show_default=True,
               help="Flow: the stage prompts, a name in acodium/prompts or a .toml path."),
    )


# --no_cache in `gen` leaves both caches alone: the LLM replies and the test runs.
gen_execution_options = execution_options(
    no_cache_help="Do not use the on-disk caches of LLM replies and of test runs ($ACODIUM_CACHE).")


def make_cli_source(opts: dict, execution: Execution, *, no_cache: bool = False):
    """The candidate source the options describe (a missing key fails here, before any work);
    the flow runs its programs under `execution`, as the evaluation after it does. LLM replies
    are cached unless `no_cache`."""
    from ..generate import make_source

    name = opts["source"]
    if opts["strategy"] == "flow" and name != "llm":
        raise UserError(f"--strategy flow asks a model: it cannot be used with --source {name}.")
    for key in ("prompt", "flow_prompts"):  # a name in acodium/prompts, or a file of the user's
        if Path(opts[key]).is_file():
            require_utf8(opts[key], "prompt file")
    client = dict(
        model=opts["model"], base_url=opts["base_url"], api_key=opts["api_key"], top_p=opts["top_p"],
        max_tokens=opts["max_tokens"], concurrency=opts["concurrency"], rpm=opts["rpm"],
        max_retries=opts["max_retries"], timeout=opts["timeout"],
        cache_path=None if no_cache else caches().llm, prices=opts["prices"],
    )
    if opts["strategy"] == "flow":
        overrides = {k: v for k, v in (("max_calls", opts["flow_max_calls"]),
                                       ("n_model_tests", opts["flow_model_tests"])) if v is not None}
        return make_source(
            "flow", prompts=opts["flow_prompts"], language=opts["language"],
            ablation=opts["flow_ablation"], options=overrides,
            temperature=opts["temperature"], seed=None,
            execution=execution, **client,
        )
    if name == "llm":
        return make_source(
            "llm", prompt=opts["prompt"], language=opts["language"],
            temperature=0.7 if opts["temperature"] is None else opts["temperature"],
            tags=opts["tags"], rating=opts["rating"], diversity_seed=opts["seed"], **client,
        )
    if name == "human":  # every language this machine runs (a missing runtime is said once, here)
        languages = execution.runnable_languages()
        for language in (lang for lang in RUNNABLE_LANGUAGES if lang not in languages):
            click.echo(f"note: {language} solutions are left out: {execution.missing_runtime(language)}", err=True)
        return make_source("human", correct_fraction=opts["correct_fraction"], seed=opts["seed"], languages=languages)
    if name == "mutants":
        return make_source("mutants", seed=opts["seed"])
    return make_source("file", path=opts["candidates_file"])


@group.command("ask")
@click.argument("prompt")
@llm_options
@option("system", default=None, help="A system message.")
@option("cache", is_flag=True, help="Answer from (and store in) the LLM response cache.")
def ask(prompt, model, base_url, api_key, temperature, top_p, max_tokens, timeout, max_retries, prices,
        system, cache):
    """Send PROMPT to the model and print its reply (tokens and cost on stderr)."""
    from ..llm import LLMError, ask as ask_model

    try:
        result = ask_model(
            prompt, model=model, system=system, base_url=base_url, api_key=api_key,
            cache_path=caches().llm if cache else None,
            max_retries=max_retries, timeout=timeout, prices=prices,
            temperature=temperature, top_p=top_p, max_tokens=max_tokens,
        )
    except LLMError as e:  # the one call failed: for `ask` that is the whole command
        raise UserError(f"The model {model!r} gave no reply: {str(e).rstrip('.')}.") from None
    if not result.text.strip():
        raise UserError(f"The model {model!r} returned an empty reply (finish reason: {result.finish_reason}).")
    click.echo(result.text)
    cost = cost_text(result.cost, digits=6)
    click.echo(f"[{result.prompt_tokens} prompt + {result.completion_tokens} completion tokens, {cost}"
               f"{', cached' if result.cached else ''}]", err=True)


@group.command("test_inputs")
@option("dataset_name", required=True,
        help="Problems: a hub id, a name saved by `gencode data etl`, a save_to_disk folder, parquet or JSONL.")
@option("split_name", default=None, help="Split [default: the only split, else train].")
@option("out", required=True, type=click.Path(dir_okay=False),
        help="JSONL file: the problems with their ai_tests (score them with `eval pass_at_k --problems OUT`); "
             "OUT.calls.jsonl records what each call gave.")
@option("count", type=positive_int, default=10, show_default=True, help="Test cases asked for per problem.")
@option("no_outputs", is_flag=True, help="Ask for inputs only: no expected outputs, so no model tests for codet.")
@option("prompt", default="test_inputs", show_default=True, help="Prompt file (name or .toml path).")
@option("limit", type=positive_int, default=None, help="The first this many problems.")
@llm_options
@option("no_progress", is_flag=True, help="No progress bar.")
def test_inputs(dataset_name, split_name, out, count, no_outputs, prompt, limit, model, base_url, api_key,
                temperature, top_p, max_tokens, timeout, max_retries, prices, no_progress):
    """Ask a model for new test inputs of every problem (the ai test set), with expected outputs (model tests).

    Inputs are kept where new and shaped like the public examples; they cluster
    candidates (--clustering_sets ai) and the model's outputs rank them under
    --policies codet. They never decide correctness. Replies are cached: a
    re-run asks nothing twice.
    """
    from ..data import load_problems
    from ..mutate import ModelInputSettings, add_model_tests

    settings = ModelInputSettings(model=model, count=count, outputs=not no_outputs, prompt=prompt,
                                  temperature=0.0 if temperature is None else temperature, top_p=top_p,
                                  max_tokens=max_tokens or 4096, base_url=base_url, api_key=api_key,
                                  cache_path=str(caches().llm), timeout=timeout, max_retries=max_retries,
                                  prices=prices)
    problems = load_problems(dataset_name, split_name, data_dir=data_dir(), limit=limit, languages="all")
    made = add_model_tests(problems, settings, progress=not no_progress)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(row, default=str) + "\n" for row in made.rows), encoding="utf-8")
    calls = out.with_name(out.name + ".calls.jsonl")
    calls.write_text("".join(json.dumps(r) + "\n" for r in made.records), encoding="utf-8")
    kept = sum(r["kept"] for r in made.records)
    failed = sum(bool(r["error"]) for r in made.records)
    empty = sum(not r["error"] and not r["kept"] for r in made.records)
    click.echo(f"{plural(kept, 'model-written input')} kept for {plural(len(made.rows), 'problem')} "
               f"({sum(r['model_outputs'] for r in made.records)} with the model's output) from "
               f"{plural(made.calls, 'call')}: {failed} failed, {empty} gave no usable input. Saved {out}; calls in "
               f"{calls}.")


@group.command("solve_problem")
@option("dataset_name", required=True,
        help="Problems: a hub id, a name saved by `gencode data etl`, a save_to_disk folder, parquet or JSONL.")
@option("split_name", default="train", show_default=True, help="Split of the dataset.")
@option("problem_name", required=True, help="The problem's name, as in the dataset.")
@option("evaluation_test_type", type=click.Choice(TEST_TYPES), default="private_tests", show_default=True,
        help="Tests to run the candidates on.")
@source_options(default_k=1)
@gen_execution_options
@option("out", type=Folder(), default=None,
        help="Run folder to keep the candidates and executions (resumable) [default: nothing is written].")
@option("no_progress", is_flag=True, help="No progress bars.")
@option("verbose", is_flag=True, help="A line per test of every candidate, not only per candidate.")
def solve_problem(dataset_name, split_name, problem_name, evaluation_test_type, backend, time_limit, workers,
                  no_cache, checker, testlib_dir, python3, slow_cap, executor, out, no_progress, verbose, **opts):
    """Generate candidates for one problem, run them on its tests, print a line per candidate (--verbose:
    per test). A candidate without code is not run: it is judged incorrect."""
    from ..data import get_problem, load_problems, problem_tests
    from ..evaluation import has_code, run_executions
    from ..generate.flow.options import THINKING_STAGES
    from ..generate import generate_candidates

    execution = execution_from_options(backend, time_limit, workers, no_cache, checker, testlib_dir, python3,
                                       slow_cap, executor)
    source = make_cli_source(opts, execution, no_cache=no_cache)
    problems = load_problems(dataset_name, split_name, data_dir=data_dir(), languages="all")
    row = dict(get_problem(problems, problem_name).row)
    sets = parse_test_sets(evaluation_test_type)
    tests = {s: problem_tests(row, s) for s in sets}
    if not any(tests.values()):
        raise UserError(f"The problem {problem_name!r} has no {evaluation_test_type} to run the candidates on.")
    if opts["source"] == "llm" and not row.get("public_tests", {}).get("input"):
        click.echo(f"note: {problem_name!r} has no public tests; the prompt shows no examples.", err=True)

    candidates = generate_candidates([row], source, opts["k"], run_dir=out, progress=not no_progress)
    if candidates.empty:
        raise UserError(f"The {opts['source']} source gave no candidate for {problem_name!r}.")
    executions, _ = run_executions(
        [row], candidates, test_sets=sets, run_dir=out, execution=execution, progress=not no_progress,
    )
    solved = 0
    for cand in candidates.itertuples(index=False):
        meta = json.loads(cand.meta) if cand.meta else {}
        mine = executions[executions["candidate_id"] == cand.candidate_id].sort_values(["test_set", "test_index"])
        header = f"{cand.candidate_id} ({cand.source}, {cand.language})"
        if not has_code(cand.code):
            why = f"({meta.get('stop_reason') or 'the flow made no program'})" if meta.get("strategy") == "flow" \
                else f"in the reply ({meta.get('extraction', 'empty')})"
            click.echo(f"{header}: no code {why}: not run, judged incorrect")
        else:
            passed = int((mine["passed"] == True).sum())  # noqa: E712
            click.echo(f"{header}: {passed}/{plural(len(mine), 'test')} passed{_failures(mine)}")
        if meta.get("strategy") == "flow":
            stopped = f", stopped: {meta['stop_reason']}" if meta.get("stop_reason") else ""
            skipped = [stage for stage in THINKING_STAGES if stage in (meta.get("skipped_stages") or {})]
            skipped = f", skipped {', '.join(skipped)}" if skipped else ""
            trace = f"; trace in {Path(out) / meta['trace']}" if out and meta.get("trace") else ""
            click.echo(f"  flow: {plural(meta['calls'], 'call')}, {meta['public_passed']}/{meta['public_tests']} "
                       f"public and {meta['model_passed']}/{meta['model_tests']} model tests passed, "
                       f"{len(meta['model_distrusted'])} distrusted, {plural(meta['fixes_accepted'], 'fix', 'fixes')} "
                       f"kept, {meta['fixes_reverted']} reverted{skipped}{stopped}{trace}")
        if verbose:
            for ex in mine.itertuples(index=False):
                click.echo(f"  {ex.test_set} test {ex.test_index}: {_test_verdict(ex)} ({ex.status}, {ex.time_s:.2f}s)")
        solved += bool(len(mine)) and passed == len(mine)
    click.echo(f"{problem_name}: {solved} of {plural(len(candidates), 'candidate')} pass{'es' if solved == 1 else ''} "
               f"every {evaluation_test_type} test")


def _test_verdict(ex) -> str:
    """One test's verdict as a reader says it: passed, wrong answer (with the checker's message), or the status."""
    if ex.passed == True:  # noqa: E712 (None/NaN when nothing was compared)
        return "passed"
    verdict = "wrong answer" if ex.status == "OK" else ex.status
    if isinstance(ex.checker_message, str) and ex.checker_message:
        verdict += f" ({ex.checker_message})"
    return verdict


def _failures(mine) -> str:
    """How a candidate's failing tests failed, most common first: "; failed: 6 wrong answers, 2 TIMEOUT"."""
    failed = mine[mine["passed"] != True]  # noqa: E712
    if failed.empty:
        return ""
    counts = failed["status"].map(lambda s: "wrong answer" if s == "OK" else s).value_counts()
    parts = [plural(n, what, "wrong answers") if what == "wrong answer" else f"{n} {what}"
             for what, n in counts.items()]
    return f"; failed: {', '.join(parts)}"


@group.command("solve_and_evaluate_set")
@option("dataset_name", required=True,
        help="Problems: a hub id, a name saved by `gencode data etl`, a save_to_disk folder, parquet or JSONL.")
@option("split_name", default="train", show_default=True, help="Split of the dataset.")
@option("sample_rate", type=positive_fraction, default=None,
        help="Solve this fraction of the problems (seeded by --seed).")
@option("evaluation_test_type", type=click.Choice(TEST_TYPES), default="hidden_tests", show_default=True,
        help="Tests that decide correctness (hidden = private + generated, as docs/semantics.md).")
@source_options(default_k=10)
@option("k_values", default=None,
        help="k values of pass@k and n@k, comma-separated; those above the fewest samples a problem got are "
             "left out, with a note [default: 1, 2, 5, 10, 20, 50, ... up to the fewest samples, and that number].")
@scoring_options
@gen_execution_options
@option("out", required=True, type=Folder(),
        help="Run folder: candidates, executions, judgements, metrics, summary.json (resumable).")
@option("no_progress", is_flag=True, help="No progress bars.")
def solve_and_evaluate_set(dataset_name, split_name, sample_rate, evaluation_test_type, k_values, n, max_tests,
                           full, bootstrap, policies, clustering_sets, scorer, scorer_model, scorer_base_url, scorer_api_key, backend, time_limit, workers, no_cache, checker, testlib_dir, python3,
                           slow_cap, executor, out, no_progress, **opts):
    """Generate k candidates for every problem, then print pass@k and n@k with confidence intervals.

    Every problem counts: one the source gave no candidate for (all its LLM
    calls failed, say, for a statement longer than the context) is unsolved,
    and a note says how many problems got fewer than k candidates with code,
    and why.
    """
    from ..data import load_problems
    from .pipeline import failed_samples_note, generate_and_score

    sets = parse_test_sets(evaluation_test_type)
    ks = parse_ints(k_values, "--k_values")
    selection = selection_from_options(policies, clustering_sets, scorer, scorer_model, scorer_base_url,
                                       scorer_api_key)
    if ks is not None and min(ks) > opts["k"]:  # none could be reported (`reported_ks`): refused before any call
        raise UserError(f"--k_values asks for k={min(ks)}, more than the {plural(opts['k'], 'sample')} per problem (--k).")
    execution = execution_from_options(backend, time_limit, workers, no_cache, checker, testlib_dir, python3,
                                       slow_cap, executor)
    source = make_cli_source(opts, execution, no_cache=no_cache)
    problems = load_problems(dataset_name, split_name, data_dir=data_dir(), sample_rate=sample_rate,
                             seed=opts["seed"], languages="all")
    run = generate_and_score(
        problems, source, dataset=dataset_name, split=split_name, k=opts["k"], test_sets=sets, ks=ks, n=n,
        max_tests=max_tests, full=full, bootstrap=bootstrap, seed=opts["seed"], execution=execution, out=out,
        progress=not no_progress, selection=selection, source=opts["source"], strategy=opts["strategy"],
    )
    click.echo(run.scores.report())
    failed_samples_note(run)
    click.echo(f"Tables and summary.json in {out}")
