"""Evaluation runs: every candidate on the chosen test sets, as the EXECUTIONS table, resumable.

A run folder holds what a run has done:

- `executions.jsonl`: one row per (candidate, test) as each job finishes (an
  `AppendLog`); a killed run resumes from it without executing again what
  finished. Each row carries a `key`: the hash of everything that decides it
  (program hash, input, expected output, limits, backend and its version,
  checker and its version), and a resumed run reuses only rows whose key is
  the one it would make, so a folder re-used with other settings (a time
  limit, fewer tests, other candidates or data) runs again what they change
  and never reports old rows under new settings. Rows whose status says the machine failed
  (SANDBOX_ERROR) are never done: they are run again. `executions.parquet`
  is the finished table: the rows of this run's jobs, nothing else.
- `settings.json`: what decided the rows (test sets, limits, backend and
  version, checker, fingerprints of the tests and the programs), for people;
  a run with other settings notes what changed.
- `.lock`: held while a process writes the folder; a second one is refused.
- `judgements.parquet`, `metrics.parquet` and `summary.json`: made from the
  executions by `acodium.select.judgements` and `acodium.metrics.metrics_table`
  (see `score_candidates`).

A job is one candidate on one test set of its problem. Test sets are the
dataset's `public_tests`, `private_tests`, `generated_tests`, and
`mutated_tests` (inputs made by `acodium.mutate`, outputs from the reference
solutions); tests the dataset marks invalid (`is_valid_test`, written by
`check_references`) are skipped, and `test_index` is the test's position in the
dataset. "Correct" means passing every hidden test: private and generated,
as DESIGN.md says; public tests never count towards it.

With `stop_on_first_failure`, hidden test sets run one after another and
each job stops at its first failing test: a candidate goes on to the next
hidden set only while it has passed everything hidden so far. That gives
the verdict at a fraction of the cost, but no full per-test picture. Public
and mutated tests always run in full (the filter and the clustering need them).

Also here: `check_references` (the dataset's own solutions on its tests,
AlphaCodium's is_valid_test / is_valid_problem cleaning) and
`test_suite_strength` (how many wrong programs a test suite lets through).

The module is callable: `acodium.evaluate(candidates, tests, k=...)` is the
notebook entry point (`evaluate` below), in the spirit of alphaCodium's
metric object.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import sys
import time
import types
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .errors import UserError
from .execute import get_backend, limits_for_problem, run_batch
from .execute.cache import MACHINE_FAILURES
from .execute.types import Job, Limits, Program, Status, sha256
from .languages import RUNNABLE_LANGUAGES, language_name
from .tables import (CANDIDATES, CANDIDATES_FILE, CANDIDATES_LOG, ERRORS_LOG, EXECUTIONS, EXECUTIONS_FILE,
                     EXECUTIONS_LOG, JUDGEMENTS_FILE, METRICS_FILE, SETTINGS_FILE, SUMMARY_FILE, AppendLog, read_table,
                     require_columns, run_folder_lock, write_json, write_table)
from .data import HIDDEN_TEST_SETS, TEST_SETS, load_problems, problem_rows, problem_tests

# The output check every row was judged with: check_output's token compare (DESIGN.md),
# and the version of its source. Part of each row's key (a logged row keeps its
# verdict), so rows judged by another checker, or an earlier version of this one,
# are never reused.
CHECKER = "tokens"


def _checker_version() -> str:
    from .execute import check

    return sha256(Path(check.__file__).read_bytes())[:16]
# Rounds a job whose test ended in a machine failure is run again within one call.
MACHINE_RETRIES = 2
_MACHINE_STATUSES = {s.value for s in MACHINE_FAILURES}
_STATUSES = {s.value for s in Status}


# --------------------------------------------------------------------------- problems and tests


def check_candidates(candidates: pd.DataFrame, problems: Mapping[str, dict]) -> pd.DataFrame:
    """The candidates table, checked against the problems (one clear sentence when it is wrong)."""
    require_columns(candidates, ["problem", "candidate_id", "language", "code"], "candidates")
    unknown = sorted(set(candidates["problem"]) - set(problems))
    if unknown:
        raise UserError(
            f"{len(unknown)} problem(s) of the candidates table are not in the dataset, "
            f"for instance {unknown[0]!r}."
        )
    dup = candidates.duplicated(["problem", "candidate_id"])
    if dup.any():
        first = candidates[dup].iloc[0]
        raise UserError(
            f"The candidates table has {int(dup.sum())} duplicate (problem, candidate_id) pair(s), "
            f"for instance ({first['problem']!r}, {first['candidate_id']!r})."
        )
    candidates = candidates.copy()
    candidates["language"] = candidates["language"].map(language_name)
    candidates["candidate_id"] = candidates["candidate_id"].astype(str)
    return candidates


# --------------------------------------------------------------------------- execution runs


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

    def notes(self, run_dir: str | os.PathLike | None) -> list[str]:
        """What a reader of the numbers should know about how the run folder was used."""
        out = []
        if self.changed_settings:
            out.append(f"{run_dir} held results made with other {', '.join(self.changed_settings)}: "
                       "only rows made with these settings were used.")
        if self.damaged_lines:
            out.append(f"{len(self.damaged_lines)} damaged line(s) of {Path(run_dir) / EXECUTIONS_LOG} "
                       f"were skipped and their tests run again (line {', '.join(map(str, self.damaged_lines[:5]))}).")
        return out


@dataclass
class _JobSpec:
    problem: str
    candidate_id: str
    test_set: str
    program: Program
    tests: list[tuple[int, str, str]]
    limits: Limits
    stop: bool
    keys: list[str]  # per test: the row key (`_row_key`)


def _row_key(program: Program, input_hash: str, expected_hash: str, limits: Limits, backend: str,
             version: str) -> str:
    """Everything that decides one row: a logged row is reused only under the same key."""
    return sha256("\0".join([program.hash, input_hash, expected_hash, limits.key(), backend, version, CHECKER,
                             _CHECKER_VERSION]))


_CHECKER_VERSION = _checker_version()
_Index = dict[tuple[str, str, str, int, str], dict]  # (problem, candidate, set, test, key) -> row


def _valid_row(r: dict) -> bool:
    """Whether a logged row is whole and a verdict: a row that is not is run again."""
    return (isinstance(r.get("problem"), str) and isinstance(r.get("candidate_id"), (str, int))
            and r.get("test_set") in TEST_SETS
            and isinstance(r.get("test_index"), int) and not isinstance(r.get("test_index"), bool)
            and isinstance(r.get("key"), str) and isinstance(r.get("program_hash"), str)
            and r.get("status") in _STATUSES and isinstance(r.get("passed"), bool)
            and (r["status"] == "OK" or not r["passed"])  # only an OK run can pass
            and isinstance(r.get("output_hash"), str)
            and isinstance(r.get("time_s"), (int, float)) and not isinstance(r.get("time_s"), bool))


def _read_log(log: AppendLog) -> tuple[_Index, list[int]]:
    """The log's reusable rows by (problem, candidate_id, test_set, test_index, key), the last winning,
    and the numbers of damaged lines.

    A row made by an older acodium (no key), a machine failure, or a row with
    a missing or bogus field (`passed: null` included) is not reusable: its
    test runs again. Lines that are not rows at all are reported as damaged.
    """
    index: _Index = {}
    damaged: list[int] = []
    for number, r in log.numbered_rows():
        if r.get("status") in _MACHINE_STATUSES:
            continue  # the machine failed: run it again
        if not _valid_row(r):
            if "key" in r:  # a row of ours, damaged; rows of older versions simply run again
                damaged.append(number)
            continue
        index[(r["problem"], str(r["candidate_id"]), r["test_set"], r["test_index"], r["key"])] = r
    return index, sorted(log.damaged + damaged)


def _job_rows(spec: _JobSpec, index: _Index) -> tuple[list[dict], bool]:
    """The logged rows of a job made under its settings, in test order, and whether the job is done.

    Done: every test has its row, or (stopping) the rows reach a failure.
    """
    rows = []
    for (i, _, _), key in zip(spec.tests, spec.keys):
        row = index.get((spec.problem, spec.candidate_id, spec.test_set, i, key))
        if row is None:
            return rows, False
        rows.append(row)
        if spec.stop and not row["passed"]:
            return rows, True
    return rows, True


def _rows(spec: _JobSpec, results) -> list[dict]:
    out = []
    for (index, _, _), key, result in zip(spec.tests, spec.keys, results):
        status = result.status.value if hasattr(result.status, "value") else str(result.status)
        machine = status in _MACHINE_STATUSES
        out.append({
            "problem": spec.problem,
            "candidate_id": spec.candidate_id,
            "program_hash": spec.program.hash,
            "test_set": spec.test_set,
            "test_index": index,
            "status": status,
            "passed": None if machine else bool(result.passed),  # a machine failure is no verdict
            "output_hash": result.output_hash,
            "time_s": float(result.time_s),
            "key": key,
        })
    return out


def _fingerprint(items) -> str:
    h = hashlib.sha256()
    for item in items:
        h.update(json.dumps(item, sort_keys=True, default=str).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def _settings(rows_by_name, cands, tests_of, **settings) -> dict[str, Any]:
    """What decides the rows of a run, for settings.json (the rows' keys are what resuming trusts)."""
    test_sets = settings["test_sets"]
    tests = [(name, s, i, hi, he) for name in sorted({c.problem for c in cands})
             for s in test_sets for i, _, _, hi, he in tests_of(name, s)]
    programs = sorted((c.problem, c.candidate_id, Program(c.language, c.code).hash) for c in cands)
    limits = sorted({limits_for_problem(rows_by_name[c.problem], c.language, time_s=settings["time_limit_s"]).key() for c in cands})
    return {
        **settings,
        "checker": CHECKER,
        "checker_version": _CHECKER_VERSION,
        "limits": limits,
        "tests": len(tests),
        "tests_fingerprint": _fingerprint(tests),
        "candidates": len(programs),
        "programs_fingerprint": _fingerprint(programs),
        "row_key": "sha256 of program hash, input hash, expected output hash, limits, backend, "
                   "backend version, checker and its version",
    }


def _previous_settings(path: Path) -> dict[str, Any]:
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}  # absent or damaged: only for the notes, the rows' keys decide
    return old if isinstance(old, dict) else {}


def run_executions(
    problems: Any,
    candidates: pd.DataFrame,
    *,
    test_sets: Sequence[str] = ("public", "private", "generated"),
    run_dir: str | os.PathLike | None = None,
    backend: str = "local",
    cache_dir: str | os.PathLike | None = None,
    workers: int | None = None,
    time_limit_s: float | None = None,
    max_tests: int | None = None,
    stop_on_first_failure: bool = False,
    stop_sets: Sequence[str] = HIDDEN_TEST_SETS,
    max_jobs: int | None = None,
    progress: bool = True,
) -> tuple[pd.DataFrame, RunStats]:
    """Run every candidate on its problem's tests; return the EXECUTIONS table and what was done.

    With `run_dir`, rows go to run_dir/executions.jsonl as each job finishes
    and a re-run executes only the jobs the log lacks under these settings
    (see the module docstring; `max_jobs` caps the jobs executed by one call,
    for budgets); the folder is locked while the call runs. Without it,
    nothing is written. With `stop_on_first_failure`, the `stop_sets` among
    `test_sets` (default: the hidden ones) run one after another, each job
    stopping at its first failing test, and a candidate goes on only while it
    passes; other sets run in full for every candidate. A job whose test ends
    in a machine failure (SANDBOX_ERROR) runs again, up to MACHINE_RETRIES
    times; one that still fails ends the call with a UserError (its verdict
    is unknown, and no number is made without it).
    """
    rows_by_name = problem_rows(problems)
    candidates = check_candidates(candidates, rows_by_name)
    for s in test_sets:
        if s not in TEST_SETS:
            raise UserError(f"Unknown test set {s!r}; choose among {', '.join(TEST_SETS)}.")
    if run_dir is None:
        return _run_executions(rows_by_name, candidates, None, test_sets=test_sets, backend=backend,
                               cache_dir=cache_dir, workers=workers, time_limit_s=time_limit_s,
                               max_tests=max_tests, stop_on_first_failure=stop_on_first_failure,
                               stop_sets=stop_sets, max_jobs=max_jobs, progress=progress)
    with run_folder_lock(run_dir):
        return _run_executions(rows_by_name, candidates, Path(run_dir), test_sets=test_sets, backend=backend,
                               cache_dir=cache_dir, workers=workers, time_limit_s=time_limit_s,
                               max_tests=max_tests, stop_on_first_failure=stop_on_first_failure,
                               stop_sets=stop_sets, max_jobs=max_jobs, progress=progress)


def _run_executions(rows_by_name, candidates, run_dir, *, test_sets, backend, cache_dir, workers,
                    time_limit_s, max_tests, stop_on_first_failure, stop_sets, max_jobs, progress):
    started = time.monotonic()
    workers = workers or os.cpu_count() or 1
    be = get_backend(backend)
    version = be.version()
    stats = RunStats()
    log = AppendLog(run_dir / EXECUTIONS_LOG) if run_dir is not None else None
    index: _Index = {}
    if log is not None:
        index, stats.damaged_lines = _read_log(log)
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
    if run_dir is not None:
        settings = _settings(
            rows_by_name, cands, tests_of, test_sets=list(test_sets), max_tests=max_tests,
            time_limit_s=time_limit_s, stop_on_first_failure=stop_on_first_failure,
            stop_sets=list(stop_sets), backend=be.name, backend_version=version)
        old = _previous_settings(run_dir / SETTINGS_FILE)
        stats.changed_settings = [k for k, v in settings.items() if k in old and k not in ("tests", "candidates")
                                  and old[k] != json.loads(json.dumps(v, default=str))]
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

    all_specs: list[_JobSpec] = []
    hidden_failed: set[tuple[str, str]] = set()
    bar = tqdm(total=0, desc="executing", unit="job", disable=not progress)
    try:
        for phase in phases:
            specs: list[_JobSpec] = []
            for c in cands:
                if (c.problem, c.candidate_id) in hidden_failed:
                    continue
                row = rows_by_name[c.problem]
                program = Program(c.language, c.code)
                limits = limits_for_problem(row, c.language, time_s=time_limit_s)
                for s in phase:
                    tests = tests_of(c.problem, s)
                    if tests:
                        keys = [_row_key(program, hi, he, limits, be.name, version) for _, _, _, hi, he in tests]
                        specs.append(_JobSpec(c.problem, c.candidate_id, s, program,
                                              [t[:3] for t in tests], limits,
                                              stop_on_first_failure and s in stopping, keys))
            all_specs += specs
            todo = []
            for spec in specs:
                if _job_rows(spec, index)[1]:
                    stats.jobs_skipped += 1
                else:
                    todo.append(spec)
            stats.jobs_total += len(specs)
            if max_jobs is not None:
                room = max(0, max_jobs - stats.jobs_run)
                if len(todo) > room:
                    todo, stats.stopped_early = todo[:room], True
            bar.total += len(todo)
            bar.refresh()
            _run_jobs(todo, index, log, stats, bar, backend=backend, cache_dir=cache_dir, workers=workers)
            # who goes on to the next stopping set
            for spec in specs:
                if spec.test_set in stopping:
                    rows, done = _job_rows(spec, index)
                    if not (done and len(rows) == len(spec.tests) and all(r["passed"] for r in rows)):
                        hidden_failed.add((spec.problem, spec.candidate_id))
            if stats.stopped_early:
                break
    finally:
        bar.close()
        if log is not None:
            log.close()
    stats.wall_s = time.monotonic() - started
    table = _dedupe(pd.DataFrame([r for spec in all_specs for r in _job_rows(spec, index)[0]],
                                 columns=EXECUTIONS))
    if run_dir is not None and not stats.stopped_early:
        write_table(table, run_dir / EXECUTIONS_FILE)
    return table, stats


class RunFolderWarning(UserWarning):
    """A run folder held something it should not (damaged lines); the run went on without it."""


def _run_jobs(todo: list[_JobSpec], index: _Index, log: AppendLog | None, stats: RunStats, bar,
              **batch) -> None:
    """Run jobs as one batch, logging each as it finishes; run again those a machine failure hit.

    One batch: identical work runs once (run_batch dedupes), every core is
    busy, and each job's rows reach the log the moment it finishes.
    """
    for attempt in range(1 + MACHINE_RETRIES):
        hit: list[tuple[_JobSpec, dict]] = []  # jobs with a machine failure, and the failed row

        def write(i: int, results: list, todo=todo, hit=hit, attempt=attempt) -> None:
            spec = todo[i]
            if not results:  # even a job that stops runs its first test
                raise RuntimeError(f"The executor returned no result for {spec.problem!r} / "
                                   f"{spec.candidate_id!r} on its {spec.test_set} tests.")
            rows = _rows(spec, results)
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
                    spec.limits, spec.stop) for spec in todo]
        run_batch(jobs, progress=False, on_result=write, **batch)
        if not hit:
            return
        todo = [spec for spec, _ in hit]
    spec, row = hit[0]
    where = f"{log.path} keeps the other results and a re-run" if log is not None else "a re-run"
    raise UserError(
        f"{len(hit)} job(s) ended in {row['status']} (the machine failed, not the program) "
        f"{1 + MACHINE_RETRIES} times, for instance candidate {spec.candidate_id!r} of {spec.problem!r} "
        f"on {spec.test_set} test {row['test_index']}: no verdict is made without them; "
        f"{where} tries them again.")


def _dedupe(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (candidate, test): a resumed job that ran again keeps its last result."""
    if table.empty:
        return pd.DataFrame(columns=EXECUTIONS)
    table = table.drop_duplicates(["problem", "candidate_id", "test_set", "test_index"], keep="last")
    table = table.sort_values(["problem", "candidate_id", "test_set", "test_index"], kind="stable")
    return table[EXECUTIONS].reset_index(drop=True)


# --------------------------------------------------------------------------- verdicts


def verdicts(executions: pd.DataFrame, test_sets: Sequence[str]) -> pd.Series:
    """Per (problem, candidate_id): passed every test run of these sets (NaN-free; absent -> no entry).

    A candidate with no row in these sets (the problem has no such tests)
    gets no entry, so that callers can tell "no tests" from "passed".
    """
    sub = executions[executions["test_set"].isin(list(test_sets))]
    if sub.empty:
        return pd.Series(dtype=bool)
    return sub.groupby(["problem", "candidate_id"])["passed"].all()


def suite_false_positives(
    executions: pd.DataFrame,
    weak: Sequence[str],
    strong: Sequence[str],
) -> dict[str, Any]:
    """Among candidates that pass the weak suite, how many the strong suite rejects.

    The strong suite is the union of `strong` sets (it should include the
    weak one's hidden counterpart); a candidate passing `weak` is rejected
    when it fails any test of `strong`. Candidates with no test of the weak
    suite, or none of the strong one, are left out. Reported over candidates
    (micro) and as the mean over problems (macro), with the problems where
    the strong suite holds tests the weak one does not.
    """
    weak_ok = verdicts(executions, weak)
    strong_ok = verdicts(executions, strong)
    both = pd.concat({"weak": weak_ok, "strong": strong_ok}, axis=1).dropna()
    passing = both[both["weak"].astype(bool)]
    rejected = ~passing["strong"].astype(bool)
    per_problem = rejected.groupby(level=0).mean() if len(passing) else pd.Series(dtype=float)
    return {
        "weak": list(weak),
        "strong": list(strong),
        "candidates": int(len(both)),
        "problems": int(both.index.get_level_values(0).nunique()) if len(both) else 0,
        "passing_weak": int(len(passing)),
        "rejected_by_strong": int(rejected.sum()),
        "false_positive_share": float(rejected.mean()) if len(passing) else None,
        "false_positive_share_per_problem_mean": float(per_problem.mean()) if len(per_problem) else None,
        "problems_with_passing": int(len(per_problem)),
    }


def test_suite_strength(executions: pd.DataFrame, problems: Any = None) -> dict[str, dict[str, Any]]:
    """False positives of public tests against the hidden ones, and of private tests against all.

    - `public_vs_hidden`: among candidates passing the public tests, the share
      that the hidden tests (private + generated) reject;
    - `private_vs_all_hidden`: among candidates passing the private tests, the
      share that private + generated + mutated reject.

    A mutated test counts only where its expected output was confirmed by two
    agreeing references (`acodium.mutate.add_mutated_tests`): an output nobody
    checked would "reject" correct programs. With `problems` (the rows that
    carry `mutated_tests`), the second figure leaves out the unconfirmed
    mutated runs and is computed only over problems with at least one
    confirmed mutated test run, and says how many problems it left out
    (`problems_left_out`) and why. Without `problems` nothing says
    which outputs were confirmed, and every mutated run is taken as a test.
    """
    extra = executions
    left_out: list[str] = []
    if problems is not None:
        extra = _without(executions, unconfirmed_mutated(problems))
        confirmed = set(extra.loc[extra["test_set"] == "mutated", "problem"])
        left_out = sorted(set(executions["problem"]) - confirmed)
        extra = extra[extra["problem"].isin(confirmed)]
    strong = suite_false_positives(extra, ["private"], ["private", "generated", "mutated"])
    if problems is not None:
        strong["problems_left_out"] = len(left_out)
        strong["left_out_because"] = "no mutated test whose output two agreeing references confirmed"
    return {
        "public_vs_hidden": suite_false_positives(executions, ["public"], ["private", "generated"]),
        "private_vs_all_hidden": strong,
    }


test_suite_strength.__test__ = False  # a library function, not a pytest test


# --------------------------------------------------------------------------- reference checks


def reference_candidates(
    problems: Any,
    languages: Sequence[str] = ("python3",),
    max_solutions: int | None = None,
) -> pd.DataFrame:
    """A candidates table of each problem's own human solutions, correct and incorrect.

    candidate_id is `correct-<i>` or `incorrect-<i>` (i: index in the
    dataset's list); meta says which the dataset claims it is. `max_solutions`
    keeps the first that many of each kind per problem.
    """
    wanted = {language_name(lang) for lang in languages}
    rows = []
    for name, row in problem_rows(problems).items():
        for field_name, kind in (("solutions", "correct"), ("incorrect_solutions", "incorrect")):
            sols = row.get(field_name) or {}
            taken = 0
            for i, (lang, code) in enumerate(zip(sols.get("language") or [], sols.get("solution") or [])):
                lang = language_name(lang)
                if lang not in wanted:
                    continue
                if max_solutions is not None and taken >= max_solutions:
                    break
                taken += 1
                rows.append({
                    "problem": name, "candidate_id": f"{kind}-{i}", "language": lang, "code": code,
                    "source": "human", "meta": json.dumps({"expected": kind, "solution_index": i}),
                })
    return pd.DataFrame(rows, columns=CANDIDATES)


# Categories of `check_references`: what the references say about a test and a problem.
VALID = "valid"
INVALID = "invalid"
UNCONFIRMED = "unconfirmed"
SEVERAL_ANSWERS = "several valid answers (needs a checker)"
SLOW_OR_BROKEN = "reference too slow/broken"
NOT_CHECKED = "not checked"
NO_REFERENCE = "no reference"
PROBLEM_OK = "ok"
TEST_CATEGORIES = (VALID, INVALID, UNCONFIRMED, SEVERAL_ANSWERS, SLOW_OR_BROKEN, NOT_CHECKED)
_SLUGS = {VALID: "valid", INVALID: "invalid", UNCONFIRMED: "unconfirmed", SEVERAL_ANSWERS: "several_answers",
          SLOW_OR_BROKEN: "slow_or_broken", NOT_CHECKED: "not_checked"}
PROBLEM_CATEGORIES = (PROBLEM_OK, INVALID, SEVERAL_ANSWERS, UNCONFIRMED, SLOW_OR_BROKEN, NO_REFERENCE)

import re  # noqa: E402  (kept beside its only use: the cleaning section)

_SEVERAL = re.compile(r"\b(multiple|several|(?<!no )more than one|not unique)\b", re.IGNORECASE)
_ANSWER_VERB = re.compile(r"\b(print|output|acceptable|suit|satisf|allowed|choose)", re.IGNORECASE)
_ANY = re.compile(r"\bany\b(?!thing|\s+one\s+of\s+the\s+lines)", re.IGNORECASE)
_PRINT_ANY = re.compile(r"\b(print|output)\s+any\b(?!thing)", re.IGNORECASE)


def possibly_multi_answer(row: Mapping[str, Any]) -> bool:
    """Whether a problem may accept several answers: its own flag, else its statement says so.

    The flag is `possibly_multi_answer` on the row (set it where you know
    better); else the statement says "print any ..." or has a sentence with
    "multiple" / "several" / "more than one" / "not unique", "any" and
    "print" / "output" / "acceptable" / "suit" / "satisfied" / "allowed" / "choose" ("If
    there are multiple answers, print any of them"). On the shared sample it
    flags 40 of 230 problems; each one's sentence, read, does allow several answers.
    """
    flag = row.get("possibly_multi_answer")
    if flag is not None:
        return bool(flag)
    text = row.get("description") or ""
    if _PRINT_ANY.search(text):
        return True
    return any(_SEVERAL.search(s) and _ANY.search(s) and _ANSWER_VERB.search(s) for s in re.split(r"[.!?\n]", text))


def unconfirmed_mutated(problems: Any) -> set[tuple[str, str, int]]:
    """(problem, "mutated", index) of mutated inputs without a confirmed expected output.

    `acodium.mutate.add_mutated_tests` keeps every mutated input (clustering
    needs no output) and confirms an output only where two references agree
    (`output_confirmed`); the others are not tests and no verdict may use them.
    """
    out = set()
    for name, row in problem_rows(problems).items():
        tests = row.get("mutated_tests") or {}
        confirmed = tests.get("output_confirmed")
        if confirmed is None:
            continue  # written before confirmation existed, or by hand: taken as tests
        out.update((name, "mutated", i) for i, ok in enumerate(confirmed) if not ok)
    return out


def _without(executions: pd.DataFrame, tests: set[tuple[str, str, int]]) -> pd.DataFrame:
    """The executions minus the runs of these (problem, test_set, test_index) tests."""
    if not tests or executions.empty:
        return executions
    keys = zip(executions["problem"], executions["test_set"], executions["test_index"].astype(int))
    return executions[[k not in tests for k in keys]]


def _agreeing_groups(outputs: Mapping[str, str]) -> list[list[str]]:
    """References grouped by output under the tester's compare (each joins the first group it matches)."""
    from .execute import check_output

    groups: list[tuple[str, list[str]]] = []
    for ref, out in outputs.items():
        for first, members in groups:
            if check_output(out, first):
                members.append(ref)
                break
        else:
            groups.append((out, [ref]))
    return [members for _, members in groups]


def _wrong_outputs(rows_by_name, wrong, candidates, run_args) -> dict:
    """Stdout of each reference that ran a test OK with another answer, where two or more did.

    The executions table keeps output hashes only: equal hashes agree, and
    unequal ones are compared by the tester's rule on outputs run again
    (from the cache when there is one), since whitespace alone changes a hash.
    """
    todo: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)  # (problem, ref) -> tests
    for (problem, test_set, index), refs in wrong.items():
        hashes = {h for _, h in refs}
        if len(refs) >= 2 and len(hashes) >= 2:
            for ref, _ in refs:
                todo[(problem, ref)].append((test_set, index))
    if not todo:
        return {}
    code = candidates.set_index(["problem", "candidate_id"])
    jobs, where = [], []
    for (problem, ref), tests in todo.items():
        row = rows_by_name[problem]
        language = code.loc[(problem, ref), "language"]
        inputs = [row[f"{s}_tests"]["input"][i] for s, i in tests]
        jobs.append(Job(Program(language, code.loc[(problem, ref), "code"]), inputs,
                        limits=limits_for_problem(row, language, time_s=run_args["time_limit_s"])))
        where.append((problem, ref, tests))
    runs = run_batch(jobs, backend=run_args["backend"], cache_dir=run_args["cache_dir"],
                     workers=run_args["workers"], progress=False)
    out: dict[tuple[str, str, int], dict[str, str]] = defaultdict(dict)
    for (problem, ref, tests), results in zip(where, runs):
        for (s, i), r in zip(tests, results):
            out[(problem, s, i)][ref] = r.stdout
    return out


def _judge_tests(ex: pd.DataFrame, rows_by_name, candidates, multi: dict[str, bool],
                 min_test_agreement: float, run_args: dict) -> pd.DataFrame:
    """One row per test checked, with its category (see `check_references`)."""
    keys = ["problem", "test_set", "test_index"]
    corr = ex[ex["kind"] == "correct"]
    inc = ex[ex["kind"] == "incorrect"]
    tests = ex[keys].drop_duplicates().set_index(keys)
    tests["correct_run"] = corr.groupby(keys).size()
    tests["correct_ok"] = corr.groupby(keys)["ok"].sum()
    tests["correct_passed"] = corr.groupby(keys)["passed"].sum()
    tests["incorrect_run"] = inc.groupby(keys).size()
    tests["incorrect_passed"] = inc.groupby(keys)["passed"].sum()
    tests = tests.fillna(0).astype(int)
    tests["agreement"] = tests["correct_passed"] / tests["correct_ok"].where(tests["correct_ok"] > 0)

    # what each reference did elsewhere: the tests it passed, and whether it finished all OK
    passed_tests = corr[corr["passed"]].groupby(["problem", "candidate_id"]).size()
    runs_per_ref = corr.groupby(["problem", "candidate_id"]).size()
    wrong_runs = corr[corr["ok"] & ~corr["passed"]]
    wrong = defaultdict(list)  # test -> [(reference, output hash)]
    for r in wrong_runs.itertuples(index=False):
        wrong[(r.problem, r.test_set, int(r.test_index))].append((r.candidate_id, r.output_hash))
    outputs = _wrong_outputs(rows_by_name, wrong, candidates, run_args)

    categories, groups_col = [], []
    for (problem, test_set, index), t in tests.iterrows():
        refs = wrong.get((problem, test_set, index), [])
        if t.correct_run == 0:
            category, largest = NOT_CHECKED, 0
        elif t.correct_ok == 0:
            category, largest = SLOW_OR_BROKEN, 0
        elif not refs:
            category, largest = VALID, 0
        else:
            if (problem, test_set, index) in outputs:
                groups = _agreeing_groups(outputs[(problem, test_set, index)])
            else:  # one wrong reference, or all wrong ones printed the very same bytes
                by_hash = defaultdict(list)
                for ref, h in refs:
                    by_hash[h].append(ref)
                groups = list(by_hash.values())
            largest = max(len(g) for g in groups)
            # a reference that passes no other test is broken, not a second answer
            answering = [g for g in groups if any(passed_tests.get((problem, ref), 0) > 0 for ref in g)]
            if largest >= 2 and t.agreement < min_test_agreement:
                category = INVALID
            elif (t.correct_ok == 1 and multi[problem] and len(refs) == 1
                  and passed_tests.get((problem, refs[0][0]), 0) == runs_per_ref[(problem, refs[0][0])] - 1):
                category = INVALID  # the only reference passes everything else on a multi-answer problem
            elif answering and (t.correct_passed > 0 or len(answering) >= 2):
                category = SEVERAL_ANSWERS
            else:
                category = UNCONFIRMED
        categories.append(category)
        groups_col.append(largest)
    tests["largest_agreeing_wrong"] = groups_col
    tests["category"] = categories
    tests["is_valid_test"] = tests["category"] != INVALID
    return tests.reset_index()


def _judge_problems(rows_by_name, tests: pd.DataFrame, sol: pd.DataFrame, multi: dict[str, bool],
                    min_correct_share: float, max_invalid_test_share: float) -> pd.DataFrame:
    """One row per problem: its flags, its validity and its category (see `check_references`)."""
    out = []
    for name in rows_by_name:
        mine = sol[(sol["problem"] == name) & (sol["kind"] == "correct")]
        checked = tests[tests["problem"] == name]
        count = Counter(checked["category"])
        judged = checked[checked["category"].isin([VALID, INVALID, UNCONFIRMED, SEVERAL_ANSWERS])]
        slow = bool((mine["statuses"].map(lambda s: set(json.loads(s)) - {"OK"})).map(bool).any())
        # the share rule, over references that finished every test (a slow one says nothing)
        complete = mine[mine["all_ok"]]
        valid = True
        if len(judged) and count[INVALID] / len(judged) > max_invalid_test_share:
            valid = False
        if len(complete) >= 2 and complete["passed_all_confirmed"].mean() < min_correct_share:
            valid = False
        if not len(mine):
            category = NO_REFERENCE
        elif count[SEVERAL_ANSWERS]:
            category = SEVERAL_ANSWERS  # invalid too when too few references pass: it needs a checker
        elif not valid:
            category = INVALID
        elif count[UNCONFIRMED]:
            category = UNCONFIRMED
        elif slow:
            category = SLOW_OR_BROKEN
        else:
            category = PROBLEM_OK
        out.append({
            "problem": name, "category": category, "is_valid_problem": valid,
            "references": int(len(mine)), "references_complete": int(len(complete)),
            "reference_slow_or_broken": slow, "possibly_multi_answer": multi[name],
            **{f"tests_{_SLUGS[c]}": int(count[c]) for c in TEST_CATEGORIES},
        })
    return pd.DataFrame(out)


@dataclass
class ReferenceReport:
    """What running the human solutions on their own tests says about the tests and problems."""

    dataset: Any  # datasets.Dataset: the problems with is_valid_test per test set and is_valid_problem
    tests: pd.DataFrame  # one row per test run: agreement of correct and incorrect solutions, category
    solutions: pd.DataFrame  # one row per solution: tests run, passed, verdicts
    executions: pd.DataFrame
    summary: dict[str, Any]
    problems: pd.DataFrame | None = None  # one row per problem: category, flags, is_valid_problem

    def report(self) -> str:
        """Problems and tests per category, as text (what `gencode eval references` prints)."""
        s = self.summary
        lines = [f"{s['problems']} problems, {s['tests_run']} tests checked; "
                 f"{s['invalid_problems']} problems and {s['invalid_tests']} tests marked invalid (evidence only)"]
        lines.append("problems by category:")
        for category, n in s["problem_categories"].items():
            lines.append(f"  {category:<42} {n}")
        lines.append("tests by category:")
        for category, n in s["test_categories"].items():
            lines.append(f"  {category:<42} {n}  (in {s['test_category_problems'][category]} problems)")
        return "\n".join(lines)


def check_references(
    problems: Any,
    *,
    languages: Sequence[str] = ("python3",),
    test_sets: Sequence[str] = ("public", "private", "generated"),
    max_tests: int | None = None,
    max_solutions: int | None = None,
    min_correct_share: float = 0.2,
    min_test_agreement: float = 0.5,
    max_invalid_test_share: float = 0.5,
    backend: str = "local",
    cache_dir: str | os.PathLike | None = None,
    workers: int | None = None,
    time_limit_s: float | None = None,
    run_dir: str | os.PathLike | None = None,
    progress: bool = True,
) -> ReferenceReport:
    """Run each problem's correct and incorrect solutions on its tests; mark bad tests and problems.

    AlphaCodium's cleaning, made to need evidence. Each test checked gets a
    category from the correct solutions (the references) that ran it:

    - "invalid" (`is_valid_test` False, the only category that removes a
      test): at least two references finished OK, agree with each other, and
      fewer than `min_test_agreement` of those that finished OK match the
      stored output; or the problem may accept several answers
      (`possibly_multi_answer`) and its only reference passes every other test;
    - "unconfirmed": a reference finished OK with another answer and nothing
      backs it (typically the single reference a CodeContests problem has): a
      question, not evidence. The test stays;
    - "several valid answers (needs a checker)": references that each pass
      some other test disagree with each other on this input (or with the
      stored output while another matches it). The test stays;
    - "reference too slow/broken": no reference finished it (timeout, crash):
      that says nothing about the test. The test stays;
    - "valid": every reference that finished it matches the stored output;
    - "not checked": only incorrect solutions ran it (no correct one in `languages`).

    A problem is invalid (`is_valid_problem` False) only on evidence: more
    than `max_invalid_test_share` of its judged tests invalid, or, among at
    least two references that finished every test, fewer than
    `min_correct_share` passing every test that is not invalid or
    unconfirmed (AlphaCodium: 20%). A slow or crashing reference never makes
    a problem invalid (`--valid_only` would otherwise drop hard problems).
    Each problem also gets one category (`problems` table, and
    `reference_check` in the dataset): the first of "no reference", "several
    valid answers (needs a checker)", "invalid", "unconfirmed", "reference
    too slow/broken" that applies, else "ok". Mutated inputs without a
    confirmed output (`unconfirmed_mutated`) are not tests and are left out.

    With `run_dir`, executions are logged as they finish and a re-run resumes.
    """
    import datasets as hf

    started = time.monotonic()
    rows_by_name = problem_rows(problems)
    candidates = reference_candidates(rows_by_name.values(), languages, max_solutions)
    executions, stats = run_executions(
        rows_by_name.values(), candidates, test_sets=test_sets, run_dir=run_dir, backend=backend,
        cache_dir=cache_dir, workers=workers, time_limit_s=time_limit_s, max_tests=max_tests,
        progress=progress,
    )
    ex = _without(executions, unconfirmed_mutated(rows_by_name.values())).copy()
    ex["kind"] = ex["candidate_id"].str.split("-").str[0]
    ex["ok"] = ex["status"] == "OK"
    multi = {name: possibly_multi_answer(row) for name, row in rows_by_name.items()}
    run_args = {"backend": backend, "cache_dir": cache_dir, "workers": workers, "time_limit_s": time_limit_s}
    tests = _judge_tests(ex, rows_by_name, candidates, multi, min_test_agreement, run_args)
    invalid = {(r.problem, r.test_set, r.test_index) for r in tests.itertuples() if not r.is_valid_test}
    questioned = {(r.problem, r.test_set, r.test_index) for r in tests.itertuples()
                  if r.category in (INVALID, UNCONFIRMED)}

    # per solution: passed everything run, everything valid, everything neither invalid nor unconfirmed
    keys = list(zip(ex["problem"], ex["test_set"], ex["test_index"]))
    ex["valid_test"] = [k not in invalid for k in keys]
    ex["confirmed_test"] = [k not in questioned for k in keys]
    sol = ex.groupby(["problem", "candidate_id"]).agg(
        kind=("kind", "first"), tests_run=("passed", "size"), tests_passed=("passed", "sum"),
        passed_all=("passed", "all"), all_ok=("ok", "all"),
    )
    for column, mask in (("passed_all_valid", "valid_test"), ("passed_all_confirmed", "confirmed_test")):
        sol[column] = ex[ex[mask]].groupby(["problem", "candidate_id"])["passed"].all()
        sol[column] = sol[column].fillna(True).astype(bool)
    sol["statuses"] = ex.groupby(["problem", "candidate_id"])["status"].agg(
        lambda s: json.dumps(dict(Counter(s)), sort_keys=True))
    sol = sol.reset_index()

    table = _judge_problems(rows_by_name, tests, sol, multi, min_correct_share, max_invalid_test_share)
    problem_valid = dict(zip(table["problem"], table["is_valid_problem"]))
    problem_category = dict(zip(table["problem"], table["category"]))

    cleaned = []
    for name, row in rows_by_name.items():
        row = dict(row)
        for s in TEST_SETS:
            column = f"{s}_tests"
            if column not in row or row[column] is None:
                continue
            t = dict(row[column])
            before = t.get("is_valid_test")
            t["is_valid_test"] = [
                (before is None or i >= len(before) or before[i] is not False) and (name, s, i) not in invalid
                for i in range(len(t.get("input") or []))
            ]
            row[column] = t
        row["is_valid_problem"] = problem_valid[name]
        row["reference_check"] = problem_category[name]
        cleaned.append(row)
    dataset = hf.Dataset.from_list(cleaned)

    corr_sol = sol[sol["kind"] == "correct"]
    inc_sol = sol[sol["kind"] == "incorrect"]
    test_counts = Counter(tests["category"])
    summary = {
        "problems": len(rows_by_name),
        "problems_with_correct_solutions": int(corr_sol["problem"].nunique()),
        "solutions_run": {"correct": int(len(corr_sol)), "incorrect": int(len(inc_sol))},
        "tests_run": int(len(tests)),
        "executions": int(len(ex)),
        "correct_passing_all_tests_share": _share(corr_sol["passed_all"]),
        "correct_passing_all_valid_tests_share": _share(corr_sol["passed_all_valid"]),
        "incorrect_rejected_share": _share(~inc_sol["passed_all"].astype(bool)),
        "status_counts": {k: int(v) for k, v in Counter(ex["status"]).most_common()},
        "invalid_tests": int(len(invalid)),
        "invalid_problems": int(sum(not v for v in problem_valid.values())),
        "problem_categories": {c: int((table["category"] == c).sum()) for c in PROBLEM_CATEGORIES},
        "problems_with_slow_or_broken_reference": int(table["reference_slow_or_broken"].sum()),
        "problems_possibly_multi_answer": int(table["possibly_multi_answer"].sum()),
        "test_categories": {c: int(test_counts[c]) for c in TEST_CATEGORIES},
        "test_category_problems": {c: int(tests[tests["category"] == c]["problem"].nunique())
                                   for c in TEST_CATEGORIES},
        "max_tests": max_tests,
        "time_limit_s": time_limit_s,
        "languages": list(languages),
        "backend": backend,
        "jobs_run": stats.jobs_run,
        "jobs_resumed": stats.jobs_skipped,
        "notes": stats.notes(run_dir),
        "wall_s": round(time.monotonic() - started, 2),
    }
    return ReferenceReport(dataset, tests, sol, executions, summary, table)


def _share(values: pd.Series) -> float | None:
    return float(values.astype(bool).mean()) if len(values) else None


# --------------------------------------------------------------------------- loading what to evaluate


def _candidates_from_rows(rows: Mapping[str, dict], solutions_column: str, name_column: str) -> pd.DataFrame:
    """Candidates carried by the problems' rows, at a dotted path such as `solutions.solution`.

    Candidates in languages that cannot run here (java, python2) are left out;
    candidate_id is the position in the row's list.
    """
    parts = solutions_column.split(".")
    out = []
    for row in rows.values():
        if name_column not in row:
            raise UserError(f"The problems have no column {name_column!r} to name them.")
        value: Any = row
        languages: Any = None
        for depth, part in enumerate(parts):
            if not isinstance(value, Mapping) or part not in value:
                raise UserError(f"The problems have no field {solutions_column!r} holding candidates.")
            if depth == len(parts) - 1 and "language" in value:
                languages = value["language"]
            value = value[part]
        if isinstance(value, str):
            value = [value]
        for i, code in enumerate(value or []):
            language = language_name(languages[i]) if languages is not None else "python3"
            if language not in RUNNABLE_LANGUAGES:
                continue  # java, python2: nothing here runs them
            out.append({"problem": row[name_column], "candidate_id": str(i), "language": language,
                        "code": code, "source": "dataset", "meta": json.dumps({"column": solutions_column})})
    return pd.DataFrame(out, columns=CANDIDATES)


def _candidates_log(run_dir: Path) -> pd.DataFrame:
    """The candidates of an unfinished generation, from its log: a torn last line is a candidate
    not yet written, a damaged line elsewhere is one sentence (a candidate silently missing
    would change every pass@k)."""

    log = AppendLog(run_dir / CANDIDATES_LOG)
    table = pd.DataFrame(list(log.rows()))
    if log.damaged:
        raise UserError(f"Line {', '.join(map(str, log.damaged[:5]))} of {log.path} is damaged: run the generation "
                        f"into {run_dir} again (it redoes those candidates and writes candidates.parquet), "
                        "or delete the line.")
    return table if len(table) else pd.DataFrame(columns=CANDIDATES)


def load_candidate_set(
    dataset_name: str | os.PathLike,
    *,
    split: str | None = "train",
    problems: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
    solutions_column: str = "solutions.solution",
    name_column: str = "name",
    sample_rate: float | None = None,
    seed: int = 0,
    valid_only: bool = False,
):
    """What `gencode eval pass_at_k` evaluates: (problems, candidates, run folder or None).

    `dataset_name` is a run folder (with candidates.parquet or .jsonl), a
    candidates table, or a problems dataset carrying candidates at
    `solutions_column` (by default the dataset's own solutions, as the
    original command). The problems are the benchmark, those without
    candidates included (they count as unsolved): every problem of a
    problems dataset; for a candidates table, the problems it names and,
    in a run folder, those whose generation failed (`generation_failures`,
    also left in `candidates.attrs["failures"]`), since `--problems` may be
    a larger set than the one generated for. With `valid_only`, problems a
    `check_references` marked invalid are left out; `sample_rate` then keeps
    a seeded fraction.
    """

    path = Path(dataset_name)
    run_dir = None
    table = None
    failures: list[dict] = []
    if path.is_dir() and ((path / CANDIDATES_FILE).exists() or (path / CANDIDATES_LOG).exists()):
        run_dir = path
        table = read_table(path / CANDIDATES_FILE) if (path / CANDIDATES_FILE).exists() else _candidates_log(path)
    elif path.is_file() and path.suffix in (".parquet", ".jsonl", ".json"):
        peek = read_table(path)
        if "name" not in peek.columns or "problem" in peek.columns or "candidate_id" in peek.columns:
            table = peek
    if table is not None:
        require_columns(table, ["problem", "candidate_id", "language", "code"], "candidates")
        if problems is None:
            raise UserError(f"{dataset_name} holds candidates only; give their problems with --problems.")
        rows = problem_rows(load_problems(problems, split, data_dir=data_dir, languages="all"))
        candidates = check_candidates(table, rows)
        if run_dir is not None:
            failures = [f for f in generation_failures(run_dir) if f.get("problem") in rows]
        generated = set(candidates["problem"]) | {f["problem"] for f in failures}
    else:
        rows = problem_rows(load_problems(dataset_name, split, data_dir=data_dir, languages="all"))
        candidates = check_candidates(_candidates_from_rows(rows, solutions_column, name_column), rows)
        generated = set(rows)
    if candidates.empty:
        raise UserError(f"{dataset_name} holds no candidates for any problem.")
    names = [name for name in rows if name in generated
             and not (valid_only and rows[name].get("is_valid_problem") is False)]
    if not names:
        raise UserError(f"{dataset_name} holds no problem that a reference check left valid (--valid_only).")
    if sample_rate is not None:
        import numpy as np

        size = max(1, round(len(names) * sample_rate))
        chosen = np.random.default_rng(seed).choice(len(names), size=size, replace=False)
        names = [names[i] for i in sorted(chosen)]
    keep = set(names)
    candidates = candidates[candidates["problem"].isin(keep)].reset_index(drop=True)
    candidates.attrs["failures"] = [f for f in failures if f["problem"] in keep]
    return [rows[name] for name in names], candidates, run_dir


# --------------------------------------------------------------------------- scores: judgements and metrics


# Why a problem has fewer candidates with code than k (`short_pools`).
NONE_GENERATED = "none generated"
FEWER_GENERATED = "fewer generated"
CALLS_FAILED = "LLM calls failed"
NO_CODE = "extraction found no code"


def has_code(code: Any) -> bool:
    """Whether a candidate holds a program: empty text (extraction found none) is judged without running."""
    return isinstance(code, str) and bool(code.strip())


def generation_failures(run_dir: str | os.PathLike) -> list[dict]:
    """The failed samples a generation run folder recorded (its generation_errors.jsonl), oldest first."""

    path = Path(run_dir) / ERRORS_LOG
    return list(AppendLog(path).rows()) if path.exists() else []


def short_pools(names: Sequence[str], candidates: pd.DataFrame, k: int,
                failures: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """Which problems have fewer than k candidates with code, and why: only the caller knows the reason.

    Reasons, per problem (several may apply): its LLM calls failed (a failed
    sample later made is not counted), extraction found no code in some of
    its candidates (they count as incorrect, unrun), or the source gave
    none (or fewer) at all. Empty pools score 0 at every k.
    """
    made = set(zip(candidates["problem"], candidates["candidate_id"].astype(str)))
    failed: dict[str, set[str]] = {}
    first_error: dict[str, str] = {}
    for f in failures:
        key = (f.get("problem"), str(f.get("candidate_id")))
        if key not in made:
            failed.setdefault(key[0], set()).add(key[1])
            first_error.setdefault(key[0], str(f.get("error", "")))
    sizes = candidates.groupby("problem").size()
    coded = candidates[[has_code(c) for c in candidates["code"]]].groupby("problem").size()
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
        "no_code_candidates": int(len(candidates) - coded.sum()),
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
            part += f" ({short['failed_calls']} calls; {names[0]!r}: {short['first_error'][names[0]].rstrip('.')})"
        elif reason == NO_CODE:
            part += f" ({short['no_code_candidates']} candidates judged incorrect without running)"
        else:
            part += f" (e.g. {names[0]!r})"
        parts.append(part)
    return (f"{short['problems']} of {total} problems had fewer candidates with code than k={short['k']} "
            f"({short['empty_pools']} without any, counted as unsolved at every k): {'; '.join(parts)}.")


@dataclass
class Scores:
    """An evaluation's tables and numbers: what `gencode eval pass_at_k` prints and saves."""

    executions: pd.DataFrame
    judgements: pd.DataFrame
    metrics: pd.DataFrame
    summary: dict[str, Any]
    stats: RunStats

    def report(self) -> str:
        """The headline numbers as text: pass@k and n@k over problems with their intervals."""
        s = self.summary
        level = int(round(100 * s["level"]))
        lines = [
            f"{s['problems']} problems ({s['problems_with_candidates']} with candidates), {s['candidates']} "
            f"candidates; correct = passes every test of {', '.join(s['test_sets'])} "
            f"({level}% intervals over problems)",
        ]
        for metric, values in s["metrics"].items():
            for label, v in values.items():
                lines.append(f"  {metric:<22} {label:<8} {v['value']:.4f}  [{v['ci_low']:.4f}, {v['ci_high']:.4f}]")
        for note in s.get("notes", []):
            lines.append(f"note: {note}")
        return "\n".join(lines)


def score_candidates(
    problems: Any,
    candidates: pd.DataFrame,
    *,
    test_sets: Sequence[str] = HIDDEN_TEST_SETS,
    ks: Sequence[int] | None = None,
    n: int | Sequence[int] = 10,
    clustering_sets: Sequence[str] = ("mutated",),
    failures: Sequence[Mapping[str, Any]] | None = None,
    samples_asked: int | None = None,
    run_dir: str | os.PathLike | None = None,
    backend: str = "local",
    cache_dir: str | os.PathLike | None = None,
    workers: int | None = None,
    time_limit_s: float | None = None,
    max_tests: int | None = None,
    stop_on_first_failure: bool = True,
    bootstrap: int = 1000,
    level: float = 0.95,
    trials: int = 1000,
    seed: int = 0,
    progress: bool = True,
) -> Scores:
    """Execute, judge and score candidates: pass@k and n@k with intervals over `problems`.

    `problems` is the benchmark: a problem without candidates is unsolved, 0
    at every k and n, and stays in every mean (DESIGN.md). Correct = passes
    every test of `test_sets` (default private + generated). Public tests are
    run too (the n@k filter), and the `clustering_sets` problems have (mutated
    inputs) in full, for the clustered policy. A candidate without code is
    not run: it is incorrect. Checked before anything runs: every problem
    with candidates has tests in `test_sets`, and some k is left to report
    (`acodium.metrics.reported_ks`: k beyond the smallest non-empty pool are
    left out with a note; ks=None is the grid 1, 2, 5, ... up to that pool).
    `failures` (default: `candidates.attrs["failures"]`, as generation leaves
    them) and `samples_asked` say why pools are short (`short_pools`).
    With `run_dir`, executions resume and the tables are saved there.
    """
    from .metrics import reported_ks

    started = time.monotonic()
    if failures is None:
        failures = candidates.attrs.get("failures") or []
    rows = problem_rows(problems)
    candidates = check_candidates(candidates, rows)
    if candidates.empty:
        raise UserError("There are no candidates to evaluate.")
    test_sets = list(dict.fromkeys(test_sets))
    names = list(rows)
    pooled = set(candidates["problem"])
    for name in names:
        if name in pooled and not any(problem_tests(rows[name], s, max_tests) for s in test_sets):
            raise UserError(
                f"The problem {name!r} has no {' or '.join(s + '_tests' for s in test_sets)} to decide correctness."
            )
    sizes = candidates.groupby("problem").size().reindex(names, fill_value=0)
    ks, note = reported_ks(sizes.to_numpy(), ks, problems=names)
    notes = [note] if note else []
    short = short_pools(names, candidates, samples_asked or max(ks), failures)
    note = short_pools_note(short, len(names))
    notes += [note] if note else []
    ns = [n] if isinstance(n, int) else list(n)
    runnable = [p for p in names if p in pooled]
    has_clustering = [s for s in clustering_sets
                      if s not in test_sets and any(problem_tests(rows[p], s, max_tests) for p in runnable)]
    run_sets = ["public"] + [s for s in test_sets if s != "public"] + has_clustering
    run_sets = list(dict.fromkeys(run_sets))
    with run_folder_lock(run_dir) if run_dir is not None else contextlib.nullcontext():
        return _score(rows, names, candidates, test_sets, ks, ns, notes, short, has_clustering, run_sets,
                      started, run_dir=run_dir, backend=backend, cache_dir=cache_dir, workers=workers,
                      time_limit_s=time_limit_s, max_tests=max_tests,
                      stop_on_first_failure=stop_on_first_failure, bootstrap=bootstrap, level=level,
                      trials=trials, seed=seed, progress=progress)


def _no_code_judgements(candidates: pd.DataFrame) -> pd.DataFrame:
    """Judgements of candidates without code, made without running them: incorrect, never submitted."""
    from .tables import JUDGEMENTS

    return pd.DataFrame({
        "problem": candidates["problem"].to_numpy(),
        "candidate_id": candidates["candidate_id"].to_numpy(),
        "passes_public": False,
        "correct": False,
        "cluster": -1 - np.arange(len(candidates), dtype=np.int64),  # each its own behaviour
        "submitted_rank": pd.array([pd.NA] * len(candidates), dtype="Int64"),
    }, columns=JUDGEMENTS)


def _score(rows, names, candidates, test_sets, ks, ns, notes, short, has_clustering, run_sets, started, *,
           run_dir, backend, cache_dir, workers, time_limit_s, max_tests, stop_on_first_failure, bootstrap,
           level, trials, seed, progress) -> Scores:
    from . import metrics as metrics_mod
    from . import select

    coded = candidates[[has_code(c) for c in candidates["code"]]]
    executions, stats = run_executions(
        [rows[p] for p in dict.fromkeys(coded["problem"])], coded, test_sets=run_sets, run_dir=run_dir,
        backend=backend, cache_dir=cache_dir, workers=workers, time_limit_s=time_limit_s, max_tests=max_tests,
        stop_on_first_failure=stop_on_first_failure, stop_sets=[s for s in test_sets if s != "public"],
        progress=progress,
    )
    notes = notes + stats.notes(run_dir)
    if "mutated" in test_sets:  # a mutated input whose output no two references confirmed is no test
        executions = _without(executions, unconfirmed_mutated([rows[p] for p in names]))
    judged = _no_code_judgements(candidates[[not has_code(c) for c in candidates["code"]]])
    if len(coded):
        judged = pd.concat([select.judgements(executions, coded[["problem", "candidate_id"]], hidden_sets=test_sets,
                                              clustering_sets=has_clustering, seed=seed), judged],
                           ignore_index=True)
    order = pd.MultiIndex.from_frame(candidates[["problem", "candidate_id"]])
    judged = judged.set_index(["problem", "candidate_id"]).loc[order].reset_index()
    policies = {"clustered": select.clustered_policy} if has_clustering else {}
    table = metrics_mod.metrics_table(judged, ks, ns, policies=policies, trials=trials, resamples=bootstrap,
                                      level=level, seed=seed, problems=names)
    overall = table[table["problem"] == "ALL"]
    metric_summary: dict[str, dict[str, dict[str, float]]] = {}
    for r in overall.itertuples(index=False):
        label = f"pass@{r.k}" if r.metric == "pass@k" else f"{r.n}@{r.k}"
        metric_summary.setdefault(r.metric, {})[label] = {
            "value": float(r.value), "ci_low": float(r.ci_low), "ci_high": float(r.ci_high)}
    summary = {
        "problems": len(names),
        "problems_with_candidates": int(candidates["problem"].nunique()),
        "candidates": int(len(candidates)),
        "short_pools": short,
        "test_sets": test_sets,
        "clustering_sets": has_clustering,
        "ks": ks,
        "ns": ns,
        "level": level,
        "bootstrap_resamples": bootstrap,
        "metrics": metric_summary,
        "correct_candidates": int(judged["correct"].sum()),
        "passing_public_candidates": int(judged["passes_public"].sum()),
        "executions": int(len(executions)),
        "status_counts": {k: int(v) for k, v in Counter(executions["status"]).most_common()},
        "jobs_run": stats.jobs_run,
        "jobs_resumed": stats.jobs_skipped,
        "stop_on_first_failure": stop_on_first_failure,
        "max_tests": max_tests,
        "time_limit_s": time_limit_s,
        "backend": backend,
        "notes": notes,
        "wall_s": round(time.monotonic() - started, 2),
    }
    if run_dir is not None:
        write_table(judged, Path(run_dir) / JUDGEMENTS_FILE)
        write_table(table, Path(run_dir) / METRICS_FILE)
        write_json(summary, Path(run_dir) / SUMMARY_FILE)
    return Scores(executions, judged, table, summary, stats)


# --------------------------------------------------------------------------- acodium.evaluate(...)


@dataclass
class EvaluationResult:
    """What `acodium.evaluate(...)` gives back (alphaCodium's metric object, as a value).

    pass_at_k: {"pass@k": mean over problems, those without candidates as 0}, for each k
      every non-empty pool has samples for;
    per_problem: one row per problem (n samples, c correct, pass@k columns);
    tests: the number of tests per problem;
    results: per problem, (candidate index, [ExecutionResult per test]) for every candidate
      (an empty list for a candidate without code: it is not run);
    executions: the same runs as an EXECUTIONS table;
    notes: what a reader of the numbers should know (k left out, empty pools, candidates without code).
    """

    pass_at_k: dict[str, float]
    per_problem: pd.DataFrame
    tests: dict[str, int]
    results: dict[str, list[tuple[int, list[Any]]]]
    executions: pd.DataFrame
    notes: list[str] = dataclasses.field(default_factory=list)

    def __repr__(self) -> str:
        scores = ", ".join(f"{k}={v:.4f}" for k, v in self.pass_at_k.items())
        return f"EvaluationResult({len(self.tests)} problems: {scores})"


def _as_named(value: Any, what: str, key: str) -> dict[str, Any]:
    """A mapping problem -> item, from a mapping or alphaCodium's list of dicts with `task_name`."""
    if isinstance(value, Mapping):
        return dict(value)
    out = {}
    for i, item in enumerate(value):
        if isinstance(item, Mapping) and "task_name" in item:
            out[item["task_name"]] = item[key]
        else:
            raise UserError(f"{what} must map problem names to {key}, or be alphaCodium's list of dicts with task_name.")
    return out


def _as_tests(value: Any, name: str) -> tuple[list[str], list[str]]:
    if isinstance(value, Mapping):
        inputs = value.get("input", value.get("tests_inputs"))
        outputs = value.get("output", value.get("tests_outputs"))
    else:
        pairs = list(value)
        inputs, outputs = [p[0] for p in pairs], [p[1] for p in pairs]
    if inputs is None or outputs is None or len(inputs) != len(outputs):
        raise UserError(f"The tests of {name!r} need as many inputs as outputs.")
    return list(inputs), list(outputs)


def evaluate(
    candidates: Mapping[str, Sequence[str]] | Sequence[Mapping[str, Any]],
    tests: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    k: Sequence[int] | int | None = (1, 10, 100),
    *,
    language: str = "python3",
    time_limit_s: float | None = None,
    backend: str = "local",
    cache_dir: str | os.PathLike | None = None,
    workers: int | None = None,
    stop_on_first_failure: bool = False,
    progress: bool = True,
) -> EvaluationResult:
    """pass@k of candidate programs on given tests: the notebook entry point (`acodium.evaluate`).

    candidates: {problem: [code, ...]} (or alphaCodium's predictions, dicts
      with task_name and solution_candidates); every program is in `language`.
    tests: {problem: {"input": [...], "output": [...]}} or {problem: [(input, output), ...]}
      (or alphaCodium's references, with tests_inputs and tests_outputs, in
      the order of the predictions).
    k: pass@k is reported for the k that every problem with candidates has at
      least k samples for (as the original metric); larger k are left out,
      never extrapolated, and `notes` says so (`acodium.metrics.reported_ks`,
      the rule of the CLI and the sweeps too; None: 1, 2, 5, ... up to the
      smallest pool).

    A problem with no candidates (an empty list) is an unsolved problem: 0 at
    every k, kept in the mean, and it needs no tests. A candidate without
    code (empty text) is not run: it is incorrect.
    """
    from .execute import run_batch
    from .metrics import pass_at_k, reported_ks

    cands = _as_named(candidates, "candidates", "solution_candidates")
    if isinstance(tests, Mapping):
        named_tests = dict(tests)
    else:  # alphaCodium's references: aligned with the predictions
        tests = list(tests)
        if len(tests) != len(cands):
            raise UserError(f"There are {len(cands)} problems of candidates but {len(tests)} of tests.")
        named_tests = dict(zip(cands, tests))
    if not cands:
        raise UserError("There are no problems to evaluate.")
    missing = [name for name in cands if name not in named_tests and len(cands[name])]
    if missing:
        raise UserError(f"There are no tests for the problem {missing[0]!r}.")
    limits = Limits() if time_limit_s is None else Limits(time_s=float(time_limit_s))
    jobs, where = [], []
    n_tests = {}
    no_code: list[tuple[str, int]] = []
    for name, codes in cands.items():
        inputs, outputs = _as_tests(named_tests[name], name) if name in named_tests else ([], [])
        if not inputs and len(codes):
            raise UserError(f"The problem {name!r} has no tests.")
        n_tests[name] = len(inputs)
        for i, code in enumerate(codes):
            if not has_code(code):
                no_code.append((name, i))
                continue
            jobs.append(Job(Program(language, code), inputs, outputs, limits, stop_on_first_failure))
            where.append((name, i))
    runs = run_batch(jobs, backend=backend, cache_dir=cache_dir, workers=workers, progress=progress) if jobs else []
    for _ in range(MACHINE_RETRIES):  # a machine failure is no verdict: run those jobs again
        again = [i for i, res in enumerate(runs) if any(r.status in MACHINE_FAILURES for r in res)]
        if not again:
            break
        for i, res in zip(again, run_batch([jobs[i] for i in again], backend=backend, cache_dir=cache_dir,
                                           workers=workers, progress=False)):
            runs[i] = res
    failed = [(where[i], r) for i, res in enumerate(runs) for r in res if r.status in MACHINE_FAILURES]
    if failed:
        (name, i), r = failed[0]
        raise UserError(f"{len(failed)} test run(s) ended in {r.status.value} (the machine failed, not the program) "
                        f"{1 + MACHINE_RETRIES} times, for instance candidate {i} of {name!r}: "
                        "no pass@k is made without them; run again.")
    results: dict[str, list[tuple[int, list[Any]]]] = {name: [] for name in cands}
    rows = []
    for name, i in no_code:
        results[name].append((i, []))
    for (name, i), job, res in zip(where, jobs, runs):
        results[name].append((i, res))
        for t, r in enumerate(res):
            rows.append({"problem": name, "candidate_id": str(i), "program_hash": job.program.hash,
                         "test_set": "given", "test_index": t, "status": r.status.value,
                         "passed": bool(r.passed), "output_hash": r.output_hash, "time_s": float(r.time_s)})
    for name in results:
        results[name].sort(key=lambda item: item[0])
    names = list(cands)
    n = [len(cands[name]) for name in names]
    c = [sum(len(res) == n_tests[name] and all(r.passed for r in res) for _, res in results[name])
         for name in names]
    per_problem = pd.DataFrame({"problem": names, "n": n, "correct": c})
    ks, note = reported_ks(n, k, problems=names)
    notes = [note] if note else []
    empty = [name for name, size in zip(names, n) if size == 0]
    if empty:
        notes.append(f"{len(empty)} of {len(names)} problems have no candidates (e.g. {empty[0]!r}): "
                     "they count as unsolved at every k.")
    if no_code:
        notes.append(f"{len(no_code)} candidates have no code (e.g. candidate {no_code[0][1]} of {no_code[0][0]!r}): "
                     "judged incorrect without running.")
    scores = {}
    values = pass_at_k(per_problem["n"].to_numpy(), per_problem["correct"].to_numpy(), ks, names)
    for j, kk in enumerate(ks):
        per_problem[f"pass@{kk}"] = values[:, j]
        scores[f"pass@{kk}"] = float(values[:, j].mean())
    return EvaluationResult(scores, per_problem, n_tests, results, pd.DataFrame(rows, columns=EXECUTIONS), notes)


class _CallableModule(types.ModuleType):
    """`acodium.evaluate` is this module; calling it calls `evaluate` (the notebook entry point)."""

    def __call__(self, *args, **kwargs):
        return self.evaluate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
