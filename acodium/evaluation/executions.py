"""The executions stage of an evaluation: every candidate on its tests, as the EXECUTIONS table, resumable.

A job is one candidate on one test set of its problem. Test sets are the
dataset's `public_tests`, `private_tests`, `generated_tests`, and
`mutated_tests` (inputs made by `acodium.mutate`, outputs from the reference
solutions); tests the dataset marks invalid (`is_valid_test`, written by
`check_references`) are skipped, and `test_index` is the test's position in
the dataset. "Correct" means passing every hidden test: private and
generated, as docs/semantics.md says; public tests never count towards it. A
candidate without code (a reply extraction found no program in) is never
executed: it has no rows, and `acodium.evaluation.judge_candidates` judges it
incorrect without running it (the empty program would "run" and fail every test).

With a run folder, rows go to `executions.jsonl` as each job finishes and a
killed run resumes without executing again what finished under the same
settings (`run_folder`: row keys and settings.json); `executions.parquet` is
the finished table, the rows of this run's jobs and nothing else; `.lock` is
held while a process writes the folder, and a second one is refused.

With `stop_on_first_failure`, hidden test sets run one after another and
each job stops at its first failing test: a candidate goes on to the next
hidden set only while it has passed everything hidden so far. That gives the
verdict at a fraction of the cost, but no full per-test picture. Public and
mutated tests always run in full (the filter and the clustering need them).
"""

from __future__ import annotations

import dataclasses
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..data import HIDDEN_TEST_SETS, TEST_KINDS, problem_rows, problem_tests, test_set_name
from ..errors import UserError
from ..execute import Execution
from ..execute.base import usage_since
from ..execute.limits import say_unstated_time_limits
from ..execute.settings import execution_from
from ..execute.types import Job, Program, sha256
from ..progress import grow, progress_bar
from ..tables import (EXECUTIONS, EXECUTIONS_FILE, EXECUTIONS_LOG, JUDGEMENTS_FILE, METRICS_FILE, SETTINGS_FILE,
                      SUMMARY_FILE, AppendLog, run_folder_lock, write_json, write_table)
from ..wording import plural
from .candidates import check_candidates, has_code
from .run_folder import (Index, JobSpec, changed_settings, job_rows, previous_settings, read_log, result_rows,
                         row_key, run_settings)

# Rounds a job whose test ended in a machine failure is run again within one call.
MACHINE_RETRIES = 2


@dataclass
class RunStats:
    """What a call to `run_executions` did: jobs executed now, jobs found done in the log."""

    jobs_total: int = 0
    jobs_run: int = 0
    jobs_skipped: int = 0
    tests_run: int = 0
    wall_s: float = 0.0
    stopped_early: bool = False  # max_jobs reached before the end
    retried: int = 0  # job runs repeated because a test ended in a machine failure
    damaged_lines: list[int] = dataclasses.field(default_factory=list)  # of the log, skipped
    changed_settings: list[str] = dataclasses.field(default_factory=list)  # since the folder's last run
    executor: dict = dataclasses.field(default_factory=dict)  # where jobs ran: `Backend.usage`, this call's share
    no_code: int = 0  # candidates without code: not executed, no rows (judged incorrect unrun)
    kept_in: str = EXECUTIONS_LOG  # where finished rows are kept (a scoring run: its store, by program)
    job: str = "a candidate on a test set"  # what one job is there

    def notes(self, run_dir: str | os.PathLike | None) -> list[str]:
        """What a reader of the numbers should know about how the run folder was used."""
        out = []
        if self.jobs_skipped and run_dir is not None:
            out.append(f"resumed {run_dir}: {self.jobs_skipped} of {plural(self.jobs_total, 'job')} ({self.job}) "
                       f"were kept from {Path(run_dir) / self.kept_in}, made under the same settings, "
                       "and not run again.")
        if self.changed_settings:
            out.append(f"{run_dir} held results made with other {', '.join(self.changed_settings)}: "
                       "only rows made with these settings were used.")
        if self.damaged_lines:
            out.append(f"{len(self.damaged_lines)} damaged line(s) of {Path(run_dir) / EXECUTIONS_LOG} "
                       f"were skipped and their tests run again (line {', '.join(map(str, self.damaged_lines[:5]))}).")
        return out


class RunFolderWarning(UserWarning):
    """A run folder held something it should not (damaged lines); the run went on without it."""


def run_executions(
    problems: Any,
    candidates: pd.DataFrame,
    *,
    test_sets: Sequence[str] = TEST_KINDS,
    run_dir: str | os.PathLike | None = None,
    execution: Execution | None = None,
    max_tests: int | None = None,
    stop_on_first_failure: bool = False,
    stop_sets: Sequence[str] = HIDDEN_TEST_SETS,
    max_jobs: int | None = None,
    progress: bool = True,
) -> tuple[pd.DataFrame, RunStats]:
    """Run every candidate with code on its problem's tests; return the EXECUTIONS table and what was done.

    `execution` says where and how (backend, cache, workers, time limit
    override; None: `Execution()`). With `run_dir`, rows go to
    run_dir/executions.jsonl as each job finishes and a re-run executes only
    the jobs the log lacks under these settings (see the module docstring;
    `max_jobs` caps the jobs executed by one call, for budgets); the folder
    is locked while the call runs. Without it, nothing is written. With
    `stop_on_first_failure`, the `stop_sets` among `test_sets` (default: the
    hidden ones) run one after another, each job stopping at its first
    failing test, and a candidate goes on only while it passes; other sets
    run in full for every candidate. A job whose test ends in a machine
    failure (SANDBOX_ERROR) runs again, up to MACHINE_RETRIES times; one that
    still fails ends the call with a UserError (its verdict is unknown, and
    no number is made without it). Candidates without code are not run and
    have no rows (`RunStats.no_code` counts them).
    """
    execution = execution_from(execution)
    rows_by_name = problem_rows(problems)
    candidates = check_candidates(candidates, rows_by_name)
    coded = np.array([has_code(c) for c in candidates["code"]], dtype=bool)
    no_code, candidates = int((~coded).sum()), candidates[coded]
    test_sets = [test_set_name(s) for s in test_sets]
    stop_sets = [test_set_name(s) for s in stop_sets]
    say_unstated_time_limits([rows_by_name[p] for p in dict.fromkeys(candidates["problem"])], execution.time_s)
    options = dict(test_sets=test_sets, execution=execution, max_tests=max_tests,
                   stop_on_first_failure=stop_on_first_failure, stop_sets=stop_sets, max_jobs=max_jobs,
                   progress=progress)
    if run_dir is None:
        table, stats = _run_executions(rows_by_name, candidates, None, **options)
    else:
        with run_folder_lock(run_dir):
            table, stats = _run_executions(rows_by_name, candidates, Path(run_dir), **options)
    stats.no_code = no_code
    return table, stats


def _run_executions(rows_by_name, candidates, run_dir, *, test_sets, execution: Execution, max_tests,
                    stop_on_first_failure, stop_sets, max_jobs, progress):
    started = time.monotonic()
    be = execution.get_backend()
    version = be.version()
    stats = RunStats()
    usage_before = be.usage()
    log = AppendLog(run_dir / EXECUTIONS_LOG) if run_dir is not None else None
    index: Index = {}
    if log is not None:
        index, stats.damaged_lines = read_log(log)
        if stats.damaged_lines:
            warnings.warn(stats.notes(run_dir)[-1], RunFolderWarning, stacklevel=3)

    hashed: dict[tuple[str, str], list[tuple[int, str, str, str, str]]] = {}

    def tests_of(problem: str, test_set: str):
        """A problem's tests of one set with the hashes of input and expected output (once per call)."""
        if (problem, test_set) not in hashed:
            hashed[(problem, test_set)] = [(i, inp, exp, sha256(inp), sha256(exp)) for i, inp, exp in
                                           problem_tests(rows_by_name[problem], test_set, max_tests)]
        return hashed[(problem, test_set)]

    cands = list(candidates.itertuples(index=False))
    # Each problem's checker (or the run's override), decided before anything runs: a problem whose
    # checker cannot judge here (a program checker) is refused in one sentence, not half way.
    checker_of = {name: execution.checker_for(rows_by_name[name]) for name in dict.fromkeys(c.problem for c in cands)}
    if run_dir is not None:
        settings = run_settings(
            rows_by_name, cands, tests_of, execution, test_sets=list(test_sets), max_tests=max_tests,
            time_limit_s=execution.time_s, stop_on_first_failure=stop_on_first_failure,
            stop_sets=list(stop_sets), backend=be.name, backend_version=version)
        stats.changed_settings = changed_settings(settings, previous_settings(run_dir / SETTINGS_FILE))
        if stats.changed_settings:  # tables made under the old settings must not sit beside the new ones
            for name in (EXECUTIONS_FILE, JUDGEMENTS_FILE, METRICS_FILE, SUMMARY_FILE):
                (run_dir / name).unlink(missing_ok=True)
        write_json(settings, run_dir / SETTINGS_FILE)

    # Phases: without stopping, everything at once. With stopping, the sets that
    # are not verdict-only (public, and mutated: clustering wants every
    # candidate's outputs there) with the first stopping set, then each later
    # stopping set for the candidates that passed every stopping test so far.
    stopping = [s for s in test_sets if s in stop_sets]
    if stop_on_first_failure and stopping:
        phases = [[s for s in test_sets if s not in stop_sets] + stopping[:1]] + [[s] for s in stopping[1:]]
    else:
        phases = [list(test_sets)]

    all_specs: list[JobSpec] = []
    hidden_failed: set[tuple[str, str]] = set()
    bar = None  # made when there is something to run: a resumed run with nothing left shows no empty bar
    try:
        for phase in phases:
            specs: list[JobSpec] = []
            for c in cands:
                if (c.problem, c.candidate_id) in hidden_failed:
                    continue
                program = Program(c.language, c.code)
                limits = execution.limits(rows_by_name[c.problem], c.language)
                for s in phase:
                    tests = tests_of(c.problem, s)
                    if tests:
                        checker = checker_of[c.problem]
                        keys = [row_key(program, hi, he, limits, be.name, version, checker)
                                for _, _, _, hi, he in tests]
                        specs.append(JobSpec(c.problem, c.candidate_id, s, program, [t[:3] for t in tests], limits,
                                             stop_on_first_failure and s in stopping, keys, checker))
            all_specs += specs
            todo = []
            for spec in specs:
                if job_rows(spec, index)[1]:
                    stats.jobs_skipped += 1
                else:
                    todo.append(spec)
            stats.jobs_total += len(specs)
            if max_jobs is not None:
                room = max(0, max_jobs - stats.jobs_run)
                if len(todo) > room:
                    todo, stats.stopped_early = todo[:room], True
            if todo:
                if bar is None:
                    bar = progress_bar(total=0, desc="executing", unit="job", progress=progress)
                grow(bar, len(todo))
            _run_jobs(todo, index, log, stats, bar, execution)
            # who goes on to the next stopping set
            for spec in specs:
                if spec.test_set in stopping:
                    rows, done = job_rows(spec, index)
                    if not (done and len(rows) == len(spec.tests) and all(r["passed"] for r in rows)):
                        hidden_failed.add((spec.problem, spec.candidate_id))
            if stats.stopped_early:
                break
    finally:
        if bar is not None:
            bar.close()
        if log is not None:
            log.close()
    stats.wall_s = time.monotonic() - started
    stats.executor = usage_since(usage_before, be.usage())
    table = dedupe(pd.DataFrame([r for spec in all_specs for r in job_rows(spec, index)[0]], columns=EXECUTIONS))
    if run_dir is not None and not stats.stopped_early:
        write_table(table, run_dir / EXECUTIONS_FILE)
    return table, stats


def _run_jobs(todo: list[JobSpec], index: Index, log: AppendLog | None, stats: RunStats, bar,
              execution: Execution) -> None:
    """Run jobs as one batch, logging each as it finishes; run again those a machine failure hit.

    One batch: identical work runs once (run_batch dedupes), every core is
    busy, and each job's rows reach the log the moment it finishes.
    """
    for attempt in range(1 + MACHINE_RETRIES):
        hit: list[tuple[JobSpec, dict]] = []  # jobs with a machine failure, and the failed row

        def write(i: int, results: list, todo=todo, hit=hit, attempt=attempt) -> None:
            spec = todo[i]
            if not results:  # even a job that stops runs its first test
                raise RuntimeError(f"The executor returned no result for {spec.problem!r} / "
                                   f"{spec.candidate_id!r} on its {spec.test_set} tests.")
            rows = result_rows(spec, results)
            if log is not None:
                log.append(rows)  # machine failures too: the log is a record of what happened
            for r in rows:
                if r["passed"] is not None:
                    index[(r["problem"], r["candidate_id"], r["test_set"], r["test_index"], r["key"])] = r
            failed = [r for r in rows if r["passed"] is None]
            if failed:
                hit.append((spec, failed[0]))
            if attempt == 0:
                stats.jobs_run += 1
                bar.update(1)
            else:
                stats.retried += 1
            stats.tests_run += len(rows)

        jobs = [Job(spec.program, [t[1] for t in spec.tests], [t[2] for t in spec.tests],
                    spec.limits, spec.stop, spec.checker) for spec in todo]
        execution.run_batch(jobs, progress=False, on_result=write)
        if not hit:
            return
        missing = [(spec, execution.missing_runtime(spec.program.language)) for spec, _ in hit]
        missing = [(spec, why) for spec, why in missing if why is not None]
        if missing:  # no runtime here for their language: running them again changes nothing
            spec, why = missing[0]
            raise UserError(f"{why.rstrip('.')} ({len(missing)} job(s) of {spec.program.language} candidates, "
                            f"for instance {spec.candidate_id!r} of {spec.problem!r}, were not run: no verdict is "
                            "made without them).")
        todo = [spec for spec, _ in hit]
    spec, row = hit[0]
    where = f"{log.path} keeps the other results and a re-run" if log is not None else "a re-run"
    raise UserError(
        f"{len(hit)} job(s) ended in {row['status']} (the machine failed, not the program) "
        f"{1 + MACHINE_RETRIES} times, for instance candidate {spec.candidate_id!r} of {spec.problem!r} "
        f"on {spec.test_set} test {row['test_index']}: no verdict is made without them; "
        f"{where} tries them again.")


def dedupe(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (candidate, test): a resumed job that ran again keeps its last result."""
    if table.empty:
        return pd.DataFrame(columns=EXECUTIONS)
    table = table.drop_duplicates(["problem", "candidate_id", "test_set", "test_index"], keep="last")
    table = table.sort_values(["problem", "candidate_id", "test_set", "test_index"], kind="stable")
    return table[EXECUTIONS].reset_index(drop=True)


def verdicts(executions: pd.DataFrame, test_sets: Sequence[str]) -> pd.Series:
    """Per (problem, candidate_id): passed every test run of these sets (NaN-free; absent -> no entry).

    A candidate with no row in these sets (the problem has no such tests)
    gets no entry, so that callers can tell "no tests" from "passed".
    """
    sub = executions[executions["test_set"].isin(list(test_sets))]
    if sub.empty:
        return pd.Series(dtype=bool)
    return sub.groupby(["problem", "candidate_id"])["passed"].all()
