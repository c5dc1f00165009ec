"""The notebook kit: what a papermill notebook calls around the library, apart from the sweep.

Notebooks hold no algorithms; they take their parameters, call one recipe
(`recipe`: problems and candidate sources in, every stage's table out: the
same driver as `gencode gen solve_and_evaluate_set`, `score_candidates`), read
its tables (`RecipeTables.pools`, `.policies`), loop over one setting
(`over`), and save tables and what they loaded where the sweep's manifest
finds them. Run interactively (or under nbval) with an empty `out_dir`, every
helper here saves nothing; an empty `cache_dir` caches where the command line
does ($ACODIUM_CACHE, else ~/.cache/acodium), so a re-run pays for nothing
twice. What exploring one problem needs (its statement, its solutions' code
and failing tests, a problem picker) is `acodium.explore`, re-exported here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import pandas as pd

from . import mutate
from .data import (
    CLUSTERING_TEST_SETS, HIDDEN_TEST_SETS, TEST_KINDS, dataset_fingerprint, problem_rows, problem_tests,
)
from .data import problems as as_problems
from .errors import UserError
from .evaluation import has_code, judge_candidates, score_candidates
from .execute import Execution
from .explore import Exploration, explore_solutions, interactive, pick_problem, problem_picker, statement
from .generate import CandidateSource, generate_candidates, make_source
from .llm import check_model, resolve_base_url
from .llm.check import missing_key
from .metrics import log_grid, metrics_table
from .model_scorer import ModelScorer
from .paths import Caches, caches as cache_layout
from .policies import get_policy
from .tables import DATASET_FILE, TABLES_DIR, read_table, write_json, write_table

__all__ = [
    "Caches", "Exploration", "POLICY_LABELS", "RecipeTables", "SELECTION_POLICIES", "SelectionAblation", "caches",
    "clustering_inputs_ablation", "selection_ablation",
    "explore_solutions", "interactive", "load_tables", "model_configured", "over", "overview", "pick_problem",
    "problem_picker", "recipe", "save_dataset_info", "save_tables", "statement",
]

# The readable name of each solve-rate metric in a table of selection policies (`RecipeTables.policies`).
POLICY_LABELS = {"n@k random": "random", "n@k filtered": "filtered", "n@k clustered": "filtered + clustered",
                 "pass@k": "pass@k (oracle)"}  # others keep their own name: mbr_exec, codet, largest_clusters


def caches(cache_dir: str | os.PathLike | None | bool = None) -> Caches:
    """The execution cache folder and LLM reply cache file under `cache_dir` (a sweep's shared one).

    An empty `cache_dir` (a notebook run by hand) caches where the command line
    does: $ACODIUM_CACHE, else ~/.cache/acodium (a folder that cannot be written
    is one sentence). `False` means no caches (both None): everything computed afresh.
    """
    if cache_dir is False:
        return Caches(executions=None, llm=None)
    return cache_layout(cache_dir or None)


def over(values: Iterable, run: Callable[[Any], Any], name: str):
    """A sweep inside a notebook: `run(value)` for each value, tables concatenated with a `name` column.

    `run` returns a DataFrame, a dict of DataFrames (concatenated key by key), or
    the `RecipeTables` of a recipe call (its `tables()`).
    """
    values = list(values)
    if not values:
        raise UserError(f"There are no values of {name} to sweep over.")
    results = [(v, run(v)) for v in values]
    results = [(v, r.tables() if isinstance(r, RecipeTables) else r) for v, r in results]
    first = results[0][1]
    if isinstance(first, Mapping):
        return {
            key: pd.concat([r[key].assign(**{name: v}) for v, r in results], ignore_index=True)
            for key in first
        }
    return pd.concat([r.assign(**{name: v}) for v, r in results], ignore_index=True)


def model_configured(model: str | None, base_url: str | None = None) -> bool:
    """Whether a notebook that needs an LLM has one; if not, say what to set (and do no work).

    Lets a notebook without a configured model end cleanly under papermill and
    nbval instead of failing in its first request. A model that is named but
    cannot be asked (no OPENAI_API_KEY, the server unreachable or refusing the
    key, the model not among those it lists) is a one-sentence UserError here,
    before any work (`acodium.llm.check_model`).
    """
    if model:
        check_model(model, base_url or None)
        return True
    print(
        "No model is configured, so this notebook stops here.\n"
        "Set the parameter `model` (and `base_url` for a server other than OpenAI's), with the key in\n"
        "OPENAI_API_KEY (any non-empty string for a local server), for instance:\n"
        "  gencode sweep params/temperature.yaml --set model=gpt-4o-mini\n"
        "  papermill notebooks/temperature_ablation.ipynb out.ipynb -p model llama3 -p base_url http://127.0.0.1:8000/v1"
    )
    return False


def save_tables(out_dir: str | os.PathLike | None, **tables) -> dict[str, Path]:
    """Save a notebook's tables as OUT_DIR/tables/NAME.parquet; no-op without an out_dir.

    Notebooks run interactively (or under nbval) leave out_dir empty and save nothing.
    """
    if not out_dir:
        return {}
    return {name: write_table(df, Path(out_dir) / TABLES_DIR / f"{name}.parquet") for name, df in tables.items()}


def load_tables(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The tables one run saved, by name (for reading results back after a sweep)."""
    return {p.stem: read_table(p) for p in sorted((Path(run_dir) / TABLES_DIR).glob("*.parquet"))}


def overview(problems: Any) -> pd.DataFrame:
    """One row per problem, what a notebook shows before any work: name, rating, difficulty, tags,
    valid tests of each of the dataset's sets (public, private, generated), correct and incorrect solutions."""
    rows = [{
        "name": p.name, "rating": p.rating, "difficulty": p.difficulty, "tags": ", ".join(p.tags),
        **{kind: len(p.tests(kind)) for kind in TEST_KINDS},
        "solutions": len(p.solutions()), "incorrect": len(p.incorrect_solutions()),
    } for p in as_problems(problems)]
    return pd.DataFrame(rows, columns=["name", "rating", "difficulty", "tags", *TEST_KINDS, "solutions", "incorrect"])


def save_dataset_info(out_dir: str | os.PathLike | None, problems, *, source: str, split: str) -> dict | None:
    """Record what a notebook loaded (source, split, size, content fingerprint) for the manifest."""
    info = {
        "source": str(source),
        "split": str(split),
        "problems": len(problems),
        "fingerprint": dataset_fingerprint(problems),
    }
    if out_dir:
        write_json(info, Path(out_dir) / DATASET_FILE)
    return info


# --------------------------------------------------------------------------- the recipe


@dataclass
class RecipeTables:
    """What one recipe call made: every stage's table, the problems it used, and its summary."""

    problems: list[dict]  # with their clustering inputs (`mutated_tests`) when some were asked for
    candidates: pd.DataFrame
    executions: pd.DataFrame
    judgements: pd.DataFrame
    metrics: pd.DataFrame
    summary: dict[str, Any]

    @property
    def solve_rate(self) -> pd.DataFrame:
        """The rows over all problems (problem == "ALL"): the numbers a curve plots."""
        overall = self.metrics[self.metrics["problem"] == "ALL"]
        return overall.drop(columns="problem").reset_index(drop=True)

    @property
    def notes(self) -> list[str]:
        """What a reader of the numbers should know (k left out, short pools, reused runs)."""
        return list(self.summary.get("notes", []))

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"candidates": self.candidates, "executions": self.executions, "judgements": self.judgements,
                "metrics": self.metrics, "solve_rate": self.solve_rate}

    def pools(self) -> pd.DataFrame:
        """One row per problem of the recipe, in its order, those without candidates too (zeros).

        Columns: problem; candidates, and how many came from each source
        (`from human`, ...); no code (replies without a program: judged
        incorrect, never run); passes_public and correct (candidates that pass the
        public tests, every hidden test); when the candidates were clustered,
        clustering_inputs (the problem's inputs of the clustering sets) and
        clusters (behaviours among its candidates, each without code its own).
        """
        names = [row["name"] for row in self.problems]
        judged = self.judgements.groupby("problem", sort=False)
        table = pd.DataFrame({"problem": names})
        def per_problem(candidates: pd.DataFrame):
            return candidates.groupby("problem", sort=False).size().reindex(names, fill_value=0).to_numpy()

        table["candidates"] = per_problem(self.candidates)
        for source in dict.fromkeys(self.candidates["source"]):
            table[f"from {source}"] = per_problem(self.candidates[self.candidates["source"] == source])
        table["no code"] = per_problem(self.candidates[[not has_code(c) for c in self.candidates["code"]]])
        for column in ("passes_public", "correct"):
            table[column] = judged[column].sum().reindex(names, fill_value=0).astype(int).to_numpy()
        clustering = list(self.summary.get("clustering_sets") or [])
        if clustering:
            table["clustering_inputs"] = [sum(len(problem_tests(row, s)) for s in clustering) for row in self.problems]
            table["clusters"] = judged["cluster"].nunique().reindex(names, fill_value=0).astype(int).to_numpy()
        return table

    def policies(self) -> pd.DataFrame:
        """The solve-rate rows with a readable `policy` column: how each way of choosing submissions fares.

        `POLICY_LABELS` names the metrics ("random", "filtered", "filtered +
        clustered", "pass@k (oracle)"); another policy keeps its own name.
        """
        rate = self.solve_rate
        labels = [POLICY_LABELS.get(m, m.removeprefix("n@k ")) for m in rate["metric"]]
        return rate.assign(policy=labels)


def recipe(
    problems: Any,
    sources: Mapping[str, tuple[int | None, Any]],
    *,
    execution: Execution | None = None,
    test_sets: Sequence[str] = HIDDEN_TEST_SETS,
    ks: Sequence[int] | None = None,
    ns: Sequence[int] = (10,),
    policies: Mapping[str, Any] | Sequence[str] | None = None,
    clustering_inputs: int = 0,
    clustering_execution: Execution | None = None,
    trials: int = 1000,
    resamples: int = 1000,
    seed: int = 0,
    run_dir: str | os.PathLike | None = None,
    progress: bool = True,
    schedule: str = "full",
    scorer: "str | ModelScorer" = "length",
) -> RecipeTables:
    """Problems and candidate sources to every stage's table: generate, execute, judge, score.

    sources: {label: (k, source)}, k samples per problem (None: all a source has;
      0: the source is skipped), source either a `CandidateSource` or the options
      of `make_source` (the label names the source unless the options say `source`).
    execution: where and how programs run (`acodium.execute.Execution`).
    test_sets: the hidden tests that decide correctness ("public" is refused:
      public tests always run, for the n@k filter, and never count toward
      correctness). ks, ns: pass@k's k (None: the grid of `reported_ks`)
      and n@k's n. policies: sampled selection policies reported beside pass@k
      and filtered n@k, by name ("random", "clustered", ...); None: the
      clustered one when there are clustering inputs, else none.
    clustering_inputs: inputs mutated from the public tests per problem
      (`acodium.mutate.add_mutated_tests`), on which candidates are clustered,
      run under `clustering_execution` (default: `execution`).
    run_dir: where generation and executions resume from and the tables are kept.
    progress: tqdm bars (widgets in a notebook; in a sweep's run, the sweep's line).
    schedule: which tests run (`acodium.evaluation.schedule`): "full" (every test of
      every candidate: a notebook's pools are small, and its pass@k exact), or
      "public_first" (hidden tests and clustering inputs only for the candidates
      passing the public tests, as `gencode gen solve_and_evaluate_set` by default).
    scorer: what the largest_clusters policy ranks representatives by (a name of `acodium.policies.SCORERS`,
      or a `ModelScorer`: a model rates each program passing the public tests, cached calls).
    """
    if isinstance(test_sets, str):
        raise UserError(f"test_sets is a list of test set names, not the text {test_sets!r}.")
    if "public" in test_sets:
        raise UserError("Public tests never count toward correctness (they always run, for the n@k filter): "
                        "leave \"public\" out of test_sets.")
    execution = execution or Execution()
    rows = list(problem_rows(problems).values())
    if clustering_inputs:
        rows = mutate.add_mutated_tests(rows, clustering_inputs, seed=seed, execution=execution, progress=progress)
    made, failures, asked = [], [], []
    for label, spec in sources.items():
        if not (isinstance(spec, tuple) and len(spec) == 2):
            raise UserError(f"The source {label!r} must be given as (k, source options), not {spec!r}.")
        k, source = spec
        if k == 0:
            continue
        if not isinstance(source, CandidateSource):
            options = dict(source or {})
            name = options.pop("source", label)
            if options.get("model") and not (options.get("api_key") or os.environ.get("OPENAI_API_KEY")):
                raise UserError(missing_key(resolve_base_url(options.get("base_url"))))
            source = make_source(name, **options)
        where = Path(run_dir) / "candidates" / label if run_dir is not None else None
        candidates = generate_candidates(rows, source, k, run_dir=where, progress=progress)
        failures += candidates.attrs.get("failures") or []
        made.append(candidates)
        asked.append(k)
    if not made:
        raise UserError("No source was asked for candidates: every k is 0.")
    candidates = pd.concat(made, ignore_index=True)
    scores = score_candidates(
        rows, candidates, test_sets=test_sets, ks=ks, n=list(ns), failures=failures,
        samples_asked=sum(asked) if None not in asked else None, run_dir=run_dir, execution=execution,
        clustering_sets=CLUSTERING_TEST_SETS, clustering_execution=clustering_execution, policies=policies,
        bootstrap=resamples, trials=trials, seed=seed, progress=progress, schedule=schedule, scorer=scorer,
    )
    return RecipeTables(rows, candidates, scores.executions, scores.judgements, scores.metrics, scores.summary)


def clustering_inputs_ablation(result: RecipeTables, counts: Iterable[int] | None = None, *, k: int | None = None,
                               n: int = 10, trials: int = 1000, resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """n@k of the clustered policy when only the first m mutated inputs of each problem are used.

    The runs are the recipe's own (nothing runs again): for each m of `counts`
    (default: 0, 1, 2, 5, ... up to the most mutated inputs a problem has),
    candidates are judged as the recipe judged them (those without code
    incorrect, unrun) and clustered on their outputs for inputs 0..m-1, then
    scored at `k` (default: the largest k of the recipe's table) over every
    problem of the recipe (one without candidates counts 0), at the recipe's
    interval level. One row per m, with an `inputs` column.
    """
    k = int(k or result.metrics["k"].max())
    summary = result.summary
    hidden = summary.get("test_sets") or list(HIDDEN_TEST_SETS)
    clustering = summary.get("clustering_sets") or list(CLUSTERING_TEST_SETS)
    names = [row["name"] for row in result.problems]
    if counts is None:
        most = max((len(problem_tests(row, "mutated")) for row in result.problems), default=0)
        counts = [0] + (log_grid(most) if most else [])
    ex = result.executions
    tables = []
    for m in sorted(set(int(c) for c in counts)):
        kept = ex[(ex["test_set"] != "mutated") | (ex["test_index"] < m)]
        judged = judge_candidates(kept, result.candidates, hidden_sets=hidden, clustering_sets=clustering, seed=seed)
        table = metrics_table(judged, ks=[k], ns=[n], policies={"clustered": get_policy("clustered")},
                              trials=trials, resamples=resamples, level=summary.get("level", 0.95), seed=seed,
                              per_problem=False, problems=names)
        tables.append(table[table["metric"] == "n@k clustered"].assign(inputs=m))
    if not tables:
        raise UserError("There are no clustering input counts to compare.")
    return pd.concat(tables, ignore_index=True)


# --------------------------------------------------------------------------- the selection ablation (issue 13)

SELECTION_POLICIES = ("random", "clustered", "mbr_exec", "codet", "largest_clusters")
# Policies that look at the clustering inputs: they pay for the model's test inputs when the ai set is used.
_SEES_CLUSTERING_INPUTS = {"filtered + clustered", "mbr_exec", "codet", "largest_clusters"}


@dataclass
class SelectionAblation:
    """The recipe's tables, what each problem's test-input call gave, and n@k of every policy per LLM call."""

    result: RecipeTables
    test_inputs: pd.DataFrame  # one row per problem asked for test inputs (none without a model)
    by_policy: pd.DataFrame  # solve-rate rows: policy, k, n, value, interval, llm_calls (per problem)
    notes: list[str]


def selection_ablation(problems: Any, sources: Mapping[str, tuple[int | None, Any]], *,
                       test_inputs: "mutate.ModelInputSettings | None" = None,
                       policies: Sequence[str] = SELECTION_POLICIES, n: int = 1, calls_per_sample: float = 1.0,
                       progress: bool = True, **recipe_options: Any) -> SelectionAblation:
    """Every selection policy on one pool, at equal budget: n@k against k and against LLM calls per problem.

    With `test_inputs` (`acodium.mutate.ModelInputSettings`), a model writes
    each problem's ai set first (one call per problem; their outputs are
    codet's model tests); without, codet is left out (a note says so) and
    the other policies cluster on the mutated inputs alone. LLM calls per
    problem: k x `calls_per_sample` (1 for a direct sample; a synthetic or
    human pool is priced as if sampled so), plus the test-input calls for
    the policies that look at the clustering inputs, plus for largest_clusters
    under a model scorer (`scorer=ModelScorer(...)`) its expected calls at k:
    k x the share of each problem's pool passing the public tests (each of
    those is asked about; repeated programs, asked once, are counted each
    time), averaged over problems. `recipe_options` go to
    `recipe` (execution, clustering_inputs, ks, trials, scorer, ...).
    """
    from .evaluation.selection_data import model_tests

    rows = list(problem_rows(problems).values())
    records: list[dict] = []
    if test_inputs is not None:
        made = mutate.add_model_tests(rows, test_inputs, progress=progress)
        rows, records = made.rows, made.records
    names, notes = list(policies), []
    if "codet" in names and not any(model_tests(row) for row in rows):
        names.remove("codet")
        notes.append("codet left out: no problem has model tests (a model writes them: `test_inputs`).")
    result = recipe(rows, sources, policies=names, ns=[n], progress=progress, **recipe_options)
    uses_ai = "ai" in (result.summary.get("clustering_sets") or [])
    test_calls = len(records) / len(rows) if uses_ai and rows else 0.0
    rate = result.policies()
    rate = rate[(rate["metric"] == "pass@k") | (rate["n"] == n)].reset_index(drop=True)
    rate["samples_calls"] = rate["k"] * float(calls_per_sample)
    rate["test_input_calls"] = [test_calls if p in _SEES_CLUSTERING_INPUTS else 0.0 for p in rate["policy"]]
    rate["scorer_calls"] = 0.0
    if isinstance(recipe_options.get("scorer"), ModelScorer):  # asked about each program passing the public tests
        judged = result.judgements
        passing = judged.groupby("problem")["passes_public"].mean().reindex([r["name"] for r in rows], fill_value=0.0)
        at = rate["policy"] == "largest_clusters"
        rate.loc[at, "scorer_calls"] = rate.loc[at, "k"] * float(passing.astype(float).mean())
    rate["llm_calls"] = rate["samples_calls"] + rate["test_input_calls"] + rate["scorer_calls"]
    calls = pd.DataFrame([dict(r, dropped=", ".join(f"{why}: {count}" for why, count in r["dropped"].items()))
                          for r in records])  # one flat row per call (a dict column cannot go to parquet)
    return SelectionAblation(result, calls, rate, notes + result.notes)
