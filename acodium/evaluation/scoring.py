"""The scoring driver: execute, judge and score candidates, pass@k and n@k with intervals over problems.

`score_candidates` is what `gencode eval pass_at_k` and `gencode gen
solve_and_evaluate_set` run: the executions stage (`run_executions`, public
tests for the filter, clustering inputs in full), judgements
(`acodium.select.judgements`), then the METRICS table
(`acodium.metrics.metrics_table`). Every problem counts: one without
candidates is unsolved, 0 at every k, and `short_pools` says why pools are
short (failed LLM calls, replies without code, fewer generated). With a run
folder, it saves judgements.parquet, metrics.parquet and summary.json beside
the executions.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
import time
import weakref
from collections import Counter
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import metrics as metrics_mod
from .. import select
from ..data import CLUSTERING_TEST_SETS, HIDDEN_TEST_SETS, problem_rows, problem_tests
from ..errors import UserError
from ..execute import Execution
from ..execute.base import merge_usage
from ..execute.settings import execution_from
from ..metrics import reported_ks
from ..model_scorer import ModelScorer, calls_note, calls_summary
from ..policies import Policy, get_policy
from ..tables import JUDGEMENTS, JUDGEMENTS_FILE, METRICS_FILE, SUMMARY_FILE, run_folder_lock, write_json, write_table
from ..wording import plural
from .candidates import has_code
from .executions import RunStats
from .judging import judge_schedule
from .pool import CandidatePool, as_pool
from ..tables import PROGRAM_EXECUTIONS, PROGRAMS
from .program_store import candidate_executions, start_phase
from .schedule import run_schedule, schedule_name
from .selection_data import (check_model_tests, check_scorer, refuse_model_tests_as_correctness, selection_columns,
                             write_scorer_calls)

# Said when the default schedule left candidates unjudged on the hidden tests.
PUBLIC_FIRST_NOTE = ("pass@k and random n@k count a candidate that fails the public tests as not correct (the default "
                     "schedule runs no hidden test for it): they are lower bounds of pass@k as docs/semantics.md "
                     "defines it, exact with --full; filtered and clustered n@k are exact.")

# Why a problem has fewer candidates with code than k (`short_pools`).
NONE_GENERATED = "none generated"
FEWER_GENERATED = "fewer generated"
CALLS_FAILED = "LLM calls failed"
NO_CODE = "extraction found no code"


def short_pools(names: Sequence[str], candidates: pd.DataFrame, k: int,
                failures: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """Which problems have fewer than k candidates with code, and why: only the caller knows the reason.

    Reasons, per problem (several may apply): its LLM calls failed (a failed
    sample later made is not counted), extraction found no code in some of
    its candidates (they count as incorrect, unrun), or the source gave
    none (or fewer) at all. Empty pools score 0 at every k.
    """
    made = set(zip(candidates["problem"], candidates["candidate_id"].astype(str)))
    sizes = candidates.groupby("problem").size()
    coded = candidates[[has_code(c) for c in candidates["code"]]].groupby("problem").size()
    return short_pools_counted(names, {p: int(v) for p, v in sizes.items()}, {p: int(v) for p, v in coded.items()},
                               made, k, failures)


def short_pools_counted(names: Sequence[str], sizes: Mapping[str, int], coded: Mapping[str, int], made, k: int,
                        failures: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """`short_pools` from counts: candidates and candidates with code per problem, and which of the failed
    samples' (problem, candidate_id) were made after all (`made` needs to hold those only)."""
    failed: dict[str, set[str]] = {}
    first_error: dict[str, str] = {}
    for f in failures:
        key = (f.get("problem"), str(f.get("candidate_id")))
        if key not in made:
            failed.setdefault(key[0], set()).add(key[1])
            first_error.setdefault(key[0], str(f.get("error", "")))
    reasons: dict[str, list[str]] = {}
    for name in names:
        size, with_code = int(sizes.get(name, 0)), int(coded.get(name, 0))
        if with_code >= k:
            continue
        why = []
        if failed.get(name):
            why.append(CALLS_FAILED)
        if with_code < size:
            why.append(NO_CODE)
        if size + len(failed.get(name, ())) < k:
            why.append(NONE_GENERATED if size == 0 and not failed.get(name) else FEWER_GENERATED)
        for reason in dict.fromkeys(why):
            reasons.setdefault(reason, []).append(name)
    short = [name for name in names if any(name in v for v in reasons.values())]
    return {
        "k": int(k),
        "problems": len(short),
        "empty_pools": sum(int(sizes.get(name, 0)) == 0 for name in names),
        "reasons": reasons,
        "failed_calls": sum(len(failed.get(name, ())) for name in names),
        "no_code_candidates": int(sum(sizes.values()) - sum(coded.values())),
        "first_error": {name: first_error[name] for name in reasons.get(CALLS_FAILED, [])},
    }


def short_pools_note(short: Mapping[str, Any], total: int) -> str | None:
    """One line: how many problems had fewer candidates with code than k, and why."""
    if not short["problems"]:
        return None
    phrases = {NONE_GENERATED: "with none generated", FEWER_GENERATED: "where the source gave fewer",
               CALLS_FAILED: "whose LLM calls failed", NO_CODE: "where extraction found no code"}
    parts = []
    for reason, names in short["reasons"].items():
        part = f"{len(names)} {phrases[reason]}"
        if reason == CALLS_FAILED:
            part += f" ({plural(short['failed_calls'], 'call')}; {names[0]!r}: {short['first_error'][names[0]].rstrip('.')})"
        elif reason == NO_CODE:
            part += f" ({plural(short['no_code_candidates'], 'candidate')} judged incorrect without running)"
        else:
            part += f" (e.g. {names[0]!r})"
        parts.append(part)
    return (f"{short['problems']} of {plural(total, 'problem')} had fewer candidates with code than k={short['k']} "
            f"({short['empty_pools']} without any, counted as unsolved at every k): {'; '.join(parts)}.")


def _close_all(files) -> None:
    for fh in files:
        fh.close()


class Scores:
    """An evaluation's tables and numbers: what `gencode eval pass_at_k` prints and saves.

    `judgements`, `metrics` and `summary` are in memory; the executions are files
    (by program: `program_executions`, and which program each candidate is:
    `programs`), read when asked for. `executions` is the per-candidate view of
    them (docs/semantics.md's EXECUTIONS table), made on demand: for small pools.
    """

    def __init__(self, judgements: pd.DataFrame, metrics: pd.DataFrame, summary: dict[str, Any], stats: RunStats,
                 executions_path: Path | None = None, programs_path: Path | None = None, keep: Any = None):
        self.judgements, self.metrics, self.summary, self.stats = judgements, metrics, summary, stats
        self.executions_path, self.programs_path = executions_path, programs_path
        self._keep = keep  # a temporary folder holding the files, alive as long as these scores
        # The files as this run wrote them, open: a later run into the same folder replaces them (a new
        # file under the name), and these scores still read their own.
        self._files = {name: open(path, "rb") for name, path in (("executions", executions_path),
                                                                 ("programs", programs_path))
                       if path is not None and path.exists()}
        weakref.finalize(self, _close_all, list(self._files.values()))
        self._executions: pd.DataFrame | None = None

    def _read(self, name: str, columns: list[str]) -> pd.DataFrame:
        fh = self._files.get(name)
        if fh is None:
            return pd.DataFrame(columns=columns)
        fh.seek(0)
        return pd.read_parquet(fh)

    @property
    def program_executions(self) -> pd.DataFrame:
        """One row per (problem, program, test) run: PROGRAM_EXECUTIONS."""
        return self._read("executions", PROGRAM_EXECUTIONS)

    @property
    def programs(self) -> pd.DataFrame:
        """Which program each candidate with code is: PROGRAMS (problem, candidate_id, program_hash)."""
        return self._read("programs", PROGRAMS)

    @property
    def executions(self) -> pd.DataFrame:
        """The per-candidate EXECUTIONS table (each program's runs under each of its candidates)."""
        if self._executions is None:
            self._executions = candidate_executions(self.program_executions, self.programs)
        return self._executions

    def report(self) -> str:
        """The headline numbers as text: pass@k and n@k over problems with their intervals."""
        s = self.summary
        level = int(round(100 * s["level"]))
        lines = [
            f"{plural(s['problems'], 'problem')} ({s['problems_with_candidates']} with candidates), "
            f"{plural(s['candidates'], 'candidate')}; correct = passes every test of {', '.join(s['test_sets'])} "
            f"({level}% intervals over problems)",
        ]
        for metric, values in s["metrics"].items():
            for label, v in values.items():
                lines.append(f"  {metric:<22} {label:<8} {v['value']:.4f}  [{v['ci_low']:.4f}, {v['ci_high']:.4f}]")
        slow = s.get("slow_positives")
        if slow is not None and s.get("slow_cap", 1) > 1:
            lines.append(slow_positives_line(slow, s["slow_cap"], s.get("stop_on_first_failure", False)))
        for note in s.get("notes", []):
            lines.append(f"note: {note}")
        return "\n".join(lines)


def slow_positives_line(slow: Mapping[str, Any], cap: float, stopped: bool) -> str:
    """One line on the slow positives (`acodium.metrics.slow_positives`) of an evaluation."""
    share = slow["slow_candidate_share"]
    line = (f"  slow positives: {slow['slow_candidates']} of {plural(slow['candidates'], 'candidate')} "
            f"({100 * (share or 0):.1f}%), in {slow['problems_with_slow']} of {plural(slow['problems'], 'problem')} "
            f"({slow['problems_only_slow']} solved by no other), would be correct but for SLOW runs "
            f"(over the time limit, correct within {cap:g}x it); never counted correct")
    if stopped:
        line += " (each candidate stopped at its first failing hidden test: there, SLOW)"
    return line


def score_candidates(
    problems: Any,
    candidates: pd.DataFrame | CandidatePool | str | os.PathLike,
    *,
    test_sets: Sequence[str] = HIDDEN_TEST_SETS,
    ks: Sequence[int] | None = None,
    n: int | Sequence[int] = 10,
    clustering_sets: Sequence[str] = CLUSTERING_TEST_SETS,
    failures: Sequence[Mapping[str, Any]] | None = None,
    samples_asked: int | None = None,
    run_dir: str | os.PathLike | None = None,
    execution: Execution | None = None,
    clustering_execution: Execution | None = None,
    policies: Mapping[str, Policy] | Sequence[str] | None = None,
    scorer: "str | ModelScorer" = "length",
    max_tests: int | None = None,
    stop_on_first_failure: bool = True,
    schedule: str | None = None,
    bootstrap: int = 1000,
    level: float = 0.95,
    trials: int = 1000,
    seed: int = 0,
    progress: bool = True,
) -> Scores:
    """Execute, judge and score candidates: pass@k and n@k with intervals over `problems`.

    `problems` is the benchmark: a problem without candidates is unsolved, 0
    at every k and n, and stays in every mean (docs/semantics.md). Correct = passes
    every test of `test_sets` (default private + generated). `candidates` is a
    table, a candidates file (parquet, JSONL) or a `CandidatePool`, read in
    chunks: identical programs run once. A candidate without code is not run:
    it is incorrect. `schedule` (`acodium.evaluation.schedule`): "public_first"
    (the default; `stop_on_first_failure=False` means "full") runs the public
    tests of every program first, and the hidden tests (each set in turn,
    stopping at the first failure) and the clustering inputs (`clustering_sets`,
    default mutated and ai, in full) only for the programs that pass them; there,
    a candidate failing the public tests counts as not correct, so pass@k and
    random n@k are lower bounds (exact for filtered and clustered n@k: a note
    says so); "full" runs every set in full for every program. Checked before
    anything runs: every problem with candidates has tests in `test_sets`, and
    some k is left to report (`acodium.metrics.reported_ks`: k beyond the
    smallest non-empty pool are left out with a note; ks=None is the grid 1, 2,
    5, ... up to that pool). `failures` (default: the table's
    `attrs["failures"]`, as generation leaves them) and `samples_asked` say why
    pools are short (`short_pools`). With `run_dir`, executions resume (a run
    folder holds one schedule) and the tables are saved there.
    `clustering_execution` runs the clustering inputs under other settings
    (AlphaCode clusters on short runs: a timeout is a behaviour too; default:
    `execution`). `policies`: the sampled selection policies reported beside
    pass@k and filtered n@k, by name or as functions (default: the clustered
    one when there are clustering inputs, else none); mbr_exec, codet and
    largest_clusters get the judgements' columns they need
    (`selection_data`), the last ranked by `scorer` (a name of `acodium.policies.SCORERS`, or a
    `ModelScorer`: a model asked about each program passing the public tests; summary's "scorer_calls").
    """
    started = time.monotonic()
    execution = execution_from(execution)
    schedule = schedule_name(schedule or ("public_first" if stop_on_first_failure else "full"))
    if clustering_execution is not None:
        clustering_execution = execution_from(clustering_execution)
    if policies is not None and not isinstance(policies, Mapping):
        if isinstance(policies, str):
            raise UserError(f"policies is a list of names, not the text {policies!r}.")
        policies = {name: get_policy(name) for name in policies}
    check_scorer(scorer)
    pool = as_pool(candidates)
    if failures is None:
        failures = pool.attrs.get("failures") or []
    rows = problem_rows(problems)
    survey = pool.survey(rows, wanted={(f.get("problem"), str(f.get("candidate_id"))) for f in failures})
    if not survey.candidates:
        raise UserError("There are no candidates to evaluate.")
    test_sets = list(dict.fromkeys(test_sets))
    refuse_model_tests_as_correctness(test_sets)
    names = list(rows)
    for name in names:
        if name in survey.sizes and not any(problem_tests(rows[name], s, max_tests) for s in test_sets):
            raise UserError(
                f"The problem {name!r} has no {' or '.join(s + '_tests' for s in test_sets)} to decide correctness."
            )
    sizes = np.array([survey.sizes.get(name, 0) for name in names], dtype=np.int64)
    ks, note = reported_ks(sizes, ks, problems=names)
    notes = [note] if note else []
    short = short_pools_counted(names, survey.sizes, survey.coded, survey.found, samples_asked or max(ks), failures)
    note = short_pools_note(short, len(names))
    notes += [note] if note else []
    ns = [n] if isinstance(n, int) else list(n)
    runnable = [p for p in names if p in survey.sizes]
    has_clustering = [s for s in clustering_sets
                      if s not in test_sets and any(problem_tests(rows[p], s, max_tests) for p in runnable)]
    check_model_tests(policies or {}, {p: rows[p] for p in runnable}, test_sets, max_tests)
    with run_folder_lock(run_dir) if run_dir is not None else contextlib.nullcontext():
        return _score(rows, names, pool, survey, test_sets, ks, ns, notes, short, has_clustering, schedule,
                      started, run_dir=run_dir, execution=execution, clustering_execution=clustering_execution,
                      policies=policies, scorer=scorer, max_tests=max_tests, bootstrap=bootstrap, level=level,
                      trials=trials, seed=seed, progress=progress)


def judge_candidates(executions: pd.DataFrame, candidates: pd.DataFrame, *,
                     hidden_sets: Sequence[str] = HIDDEN_TEST_SETS,
                     clustering_sets: Sequence[str] = CLUSTERING_TEST_SETS, seed: int = 0) -> pd.DataFrame:
    """The JUDGEMENTS table of every candidate, in the candidates' order, from a per-candidate executions table.

    Candidates with code are judged on their runs (`acodium.select.judgements`:
    each must have some); those without code were never run and are
    incorrect, never submitted, each its own cluster. `candidates` needs
    problem and candidate_id, and code (a table without it is all code).
    """
    if "code" in candidates.columns:
        with_code = np.array([has_code(c) for c in candidates["code"]], dtype=bool)
    else:
        with_code = np.ones(len(candidates), dtype=bool)
    coded = candidates[with_code]
    judged = _no_code_judgements(candidates[~with_code])
    if len(coded):
        judged = pd.concat([select.judgements(executions, coded[["problem", "candidate_id"]], hidden_sets=hidden_sets,
                                              clustering_sets=clustering_sets, seed=seed), judged],
                           ignore_index=True)
    order = pd.MultiIndex.from_frame(candidates[["problem", "candidate_id"]])
    return judged.set_index(["problem", "candidate_id"]).loc[order].reset_index()


def _no_code_judgements(candidates: pd.DataFrame) -> pd.DataFrame:
    """Judgements of candidates without code, made without running them: incorrect, never submitted."""
    return pd.DataFrame({
        "problem": candidates["problem"].to_numpy(),
        "candidate_id": candidates["candidate_id"].to_numpy(),
        "passes_public": False,
        "correct": False,
        "cluster": -2 - np.arange(len(candidates), dtype=np.int64),  # each its own behaviour (-1: not clustered)
        "submitted_rank": pd.array([pd.NA] * len(candidates), dtype="Int64"),
        "slow": False,
    }, columns=JUDGEMENTS)


def _score(rows, names, pool, survey, test_sets, ks, ns, notes, short, has_clustering, schedule, started, *,
           run_dir, execution: Execution, clustering_execution: Execution | None, policies, scorer,
           max_tests, bootstrap, level, trials, seed, progress) -> Scores:
    correctness = [s for s in test_sets if s != "public"]
    keep = None
    if run_dir is None:
        keep = tempfile.TemporaryDirectory(prefix="acodium-scores-")
    out_dir = Path(run_dir) if run_dir is not None else Path(keep.name)
    apart = has_clustering if clustering_execution is not None else []
    main_sets = ["public", *correctness, *[s for s in has_clustering if s not in apart]]
    checker_of = {name: execution.checker_for(rows[name]) for name in names if name in survey.sizes}
    stats = RunStats()
    main = start_phase(out_dir, execution, rows, survey, main_sets, schedule, max_tests, stats, run_dir is not None)
    clustering = None
    if apart:  # its own folder: one run folder holds one set of execution settings
        clustering = start_phase(out_dir / "clustering", clustering_execution, rows, survey, apart, schedule,
                                 max_tests, RunStats(), run_dir is not None)
    try:
        result = run_schedule(
            rows, pool, out_dir=out_dir, schedule=schedule, correctness_sets=correctness, clustering_sets=has_clustering,
            public_counts="public" in test_sets,
            main=main, clustering=clustering, max_tests=max_tests, checker_of=checker_of, progress=progress,
            limits_of=lambda problem, language: execution.limits(rows[problem], language))
    finally:
        for phase in (main, clustering):
            if phase is not None:
                phase.store.close()
    notes = notes + main.stats.notes(run_dir)
    if clustering is not None:
        notes += clustering.stats.notes(out_dir / "clustering" if run_dir is not None else None)
        more = clustering.stats
        stats = dataclasses.replace(
            stats, jobs_total=stats.jobs_total + more.jobs_total, jobs_run=stats.jobs_run + more.jobs_run,
            jobs_skipped=stats.jobs_skipped + more.jobs_skipped, tests_run=stats.tests_run + more.tests_run,
            retried=stats.retried + more.retried, executor=merge_usage(stats.executor, more.executor))
    stats.wall_s = time.monotonic() - started
    judged = judge_schedule(result, seed=seed)
    if schedule == "public_first" and not judged["passes_public"].all():
        notes.append(PUBLIC_FIRST_NOTE)
    if policies is None:
        policies = {"clustered": get_policy("clustered")} if has_clustering else {}
    calls: list[dict] = []
    judged = selection_columns(judged, policies, executions_path=result.executions_path, max_tests=max_tests,
                               programs_path=result.programs_path, rows=rows, pool=pool, scorer=scorer,
                               clustering_sets=has_clustering, progress=progress, calls=calls)
    notes += calls_note(scorer, calls)
    table = metrics_mod.metrics_table(judged, ks, ns, policies=policies, trials=trials, resamples=bootstrap,
                                      level=level, seed=seed, problems=names)
    if PUBLIC_FIRST_NOTE in notes:  # the table says what its pass@k is, wherever it goes
        table.attrs["notes"] = list(table.attrs.get("notes", [])) + [PUBLIC_FIRST_NOTE]
    overall = table[table["problem"] == "ALL"]
    metric_summary: dict[str, dict[str, dict[str, float]]] = {}
    for r in overall.itertuples(index=False):
        label = f"pass@{r.k}" if r.metric == "pass@k" else f"{r.n}@{r.k}"
        metric_summary.setdefault(r.metric, {})[label] = {
            "value": float(r.value), "ci_low": float(r.ci_low), "ci_high": float(r.ci_high)}
    counts = Counter(result.tests_run_by_status)
    summary = {
        "problems": len(names),
        "problems_with_candidates": len(survey.sizes),
        "candidates": survey.candidates,
        "programs": len(result.verdicts),
        "short_pools": short,
        "test_sets": test_sets,
        "clustering_sets": has_clustering,
        "schedule": schedule,
        "ks": ks,
        "ns": ns,
        "level": level,
        "bootstrap_resamples": bootstrap,
        "metrics": metric_summary,
        "correct_candidates": int(judged["correct"].sum()),
        "passing_public_candidates": int(judged["passes_public"].sum()),
        "executions": int(sum(counts.values())),
        "tests_run": stats.tests_run,
        "status_counts": {k: int(v) for k, v in counts.most_common()},
        "slow_cap": execution.slow_cap,
        "slow_positives": metrics_mod.slow_positives(judged, problems=names),
        "jobs_run": stats.jobs_run,
        "jobs_resumed": stats.jobs_skipped,
        "stop_on_first_failure": schedule == "public_first",
        "max_tests": max_tests,
        "time_limit_s": execution.time_s,
        "backend": execution.backend,
        "executor": stats.executor,  # where the jobs ran ({"kind": "ray", "nodes": {...}}: tests per node)
        "scorer": getattr(scorer, "name", scorer),
        "scorer_calls": calls_summary(calls, scorer) if isinstance(scorer, ModelScorer) else None,
        "notes": notes,
        "wall_s": round(time.monotonic() - started, 2),
    }
    if run_dir is not None:
        write_table(judged, Path(run_dir) / JUDGEMENTS_FILE)
        write_table(table, Path(run_dir) / METRICS_FILE)
        write_json(summary, Path(run_dir) / SUMMARY_FILE)
        if isinstance(scorer, ModelScorer):
            write_scorer_calls(calls, run_dir)
    return Scores(judged, table, summary, stats, result.executions_path, result.programs_path, keep)
