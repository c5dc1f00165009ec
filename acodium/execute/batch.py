"""Run jobs on a backend: identical jobs once, the cache first, every core busy, and tests over
their time limit run again to tell slow positives from timeouts (`acodium.execute.slow`)."""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Callable, Sequence

from ..errors import UserError
from ..languages import RUNNABLE_LANGUAGES
from .base import Backend
from .cache import ResultCache, run_key
from .checkers import Checker
from .judges import ProgramChecker
from .registry import get_backend
from .slow import resolve, wants_again, wants_capped
from .types import ExecutionResult, Job, Limits, Program, Status, sha256


def _verdict(result: ExecutionResult, expected: str | None, checker: Checker | ProgramChecker) -> tuple[bool | None, str]:
    """(passed, checker message) of one run: only an OK run is judged, and None without an expected output.
    A program judge's verdict was made by the backend that ran it (and cached with the run)."""
    if expected is None:
        return None, ""
    if isinstance(checker, ProgramChecker):
        return bool(result.passed) and result.status == Status.OK, result.checker_message
    if result.status != Status.OK:
        return False, ""
    return checker.judge(result.stdout, expected)


def _stops(result: ExecutionResult, passed: bool | None) -> bool:
    """Whether a run ends a stop-on-first-failure job: a wrong verdict, or without an expected
    output (passed None) a run that did not end OK."""
    return not (passed if passed is not None else result.status == Status.OK)


def _failed(result: ExecutionResult, expected: str | None, checker: Checker | ProgramChecker) -> bool:
    return _stops(result, _verdict(result, expected, checker)[0])


def _judged_by(job: Job, i: int) -> str:
    """What a cached run of test `i` depends on beyond program and input: a program judge's
    verdict is in the result, so its spec and the expected output are in the key."""
    if not isinstance(job.checker, ProgramChecker):
        return ""
    return job.checker.spec + "\0" + (sha256(job.expected[i]) if job.expected is not None else "")


def run_program(
    program: Program,
    inputs: Sequence[str],
    expected: Sequence[str] | None = None,
    limits: Limits = Limits(),
    *,
    backend: str | Backend = "local",
    stop_on_first_failure: bool = False,
    cache_dir: str | os.PathLike | None = None,
    checker: Checker | ProgramChecker | str = "tokens",
) -> list[ExecutionResult]:
    """Run one program on `inputs` (optionally against `expected`, judged by `checker`, a built-in's
    name or a `Checker`): one result per test run."""
    job = Job(program=program, inputs=list(inputs),
              expected=list(expected) if expected is not None else None,
              limits=limits, stop_on_first_failure=stop_on_first_failure, checker=checker)
    return run_batch([job], backend=backend, cache_dir=cache_dir, progress=False)[0]


@dataclasses.dataclass
class _Unit:
    """Identical jobs collapse into one unit: executed (at most) once."""

    job: Job
    results: list[ExecutionResult | None]
    keys: list[str]
    done: bool = False
    pending: int = 0  # pieces of work still running
    job_indices: list[int] = dataclasses.field(default_factory=list)
    judged: bool = False  # a job of the unit has expected outputs: its tests over the limit run again
    capped: dict[int, ExecutionResult] = dataclasses.field(default_factory=dict)  # test -> run at the cap
    again: dict[int, ExecutionResult] = dataclasses.field(default_factory=dict)  # test -> second run near it
    gave_up: set[int] = dataclasses.field(default_factory=set)  # tests whose first run the backend did not give

    def run(self, i: int) -> ExecutionResult:
        """Test i's deciding run for the unit's own job (`slow.resolve`), from the runs it has had so far."""
        first = self.results[i]
        exp = self.job.expected[i] if self.job.expected is not None else None
        return resolve(first, self.capped.get(i), self.again.get(i), exp, self.job.checker, self.job.limits)


# Kinds of work on a unit's tests: the first run, the run at the slow cap, the second run near the limit.
FIRST, CAPPED, AGAIN = "first", "capped", "again"


def _plan(u: _Unit, be: Backend, cache: ResultCache | None, version: str) -> list[tuple[str, list[int]]]:
    """The work a unit's tests still need, as (kind, test indices); reruns are looked up in the cache first.

    A stopping job plans nothing past a test whose rerun is due or whose run fails.
    """
    job = u.job
    stop = job.stop_on_first_failure
    first: list[int] = []
    reruns: dict[str, list[int]] = {CAPPED: [], AGAIN: []}
    for i, r in enumerate(u.results):
        if r is None:
            if i in u.gave_up:  # owed and not given: never asked again (a stopping job stops here)
                if stop:
                    break
                continue
            if stop:
                first = list(range(i, len(job.inputs)))
                break
            first.append(i)
            continue
        due = _rerun_due(u, i, be, cache, version)
        if due is not None:
            reruns[due].append(i)
        if stop and (due is not None or _failed(u.run(i), job.expected[i] if job.expected is not None else None,
                                                 job.checker)):
            break
    return [(kind, todo) for kind, todo in ((FIRST, first), (CAPPED, reruns[CAPPED]), (AGAIN, reruns[AGAIN]))
            if todo]


def _rerun_due(u: _Unit, i: int, be: Backend, cache: ResultCache | None, version: str) -> str | None:
    """CAPPED or AGAIN when test i needs that rerun and the cache does not hold it, else None."""
    limits = u.job.limits
    if i not in u.capped:
        if not wants_capped(u.results[i], limits, u.judged, be):
            return None
        found = cache.get(_rerun_key(u, i, CAPPED, be, version)) if cache is not None else None
        if found is None:
            return CAPPED
        u.capped[i] = found
    if i not in u.again and wants_again(u.capped[i], limits, be):
        found = cache.get(_rerun_key(u, i, AGAIN, be, version)) if cache is not None else None
        if found is None:
            return AGAIN
        u.again[i] = found
    return None


def _rerun_key(u: _Unit, i: int, kind: str, be: Backend, version: str) -> str:
    job = u.job
    limits = job.limits.capped() if kind == CAPPED else job.limits
    return run_key(job.program.hash, job.inputs[i], limits, be.name, version, _judged_by(job, i),
                   attempt=2 if kind == AGAIN else 1)


def _work_job(u: _Unit, kind: str, todo: list[int]) -> Job:
    """The job a backend runs for one piece of work: reruns stop nowhere, and only a program judge (which
    runs beside the program) judges them there."""
    job = u.job
    inputs = [job.inputs[i] for i in todo]
    if kind == FIRST:
        return Job(program=job.program, inputs=inputs,
                   expected=[job.expected[i] for i in todo] if job.expected is not None else None,
                   limits=job.limits, stop_on_first_failure=job.stop_on_first_failure, checker=job.checker)
    judged = isinstance(job.checker, ProgramChecker) and job.expected is not None  # the backend judges it
    return Job(program=job.program, inputs=inputs, expected=[job.expected[i] for i in todo] if judged else None,
               limits=job.limits.capped() if kind == CAPPED else job.limits, checker=job.checker)


def _unit_key(job: Job) -> tuple:
    inputs = sha256("\0".join(sha256(t) for t in job.inputs))
    expected = checker = None
    # Where a job stops depends on the verdicts; a program judge's verdicts are part of the results.
    if job.expected is not None and (job.stop_on_first_failure or isinstance(job.checker, ProgramChecker)):
        expected = sha256("\0".join(sha256(t) for t in job.expected))
        checker = job.checker.spec
    return (job.program.hash, inputs, job.limits.verdict_key(), job.stop_on_first_failure, expected, checker)


def run_batch(
    jobs: Sequence[Job],
    *,
    backend: str | Backend = "local",
    cache_dir: str | os.PathLike | None = None,
    workers: int | None = None,
    progress: bool = True,
    on_result: Callable[[int, list[ExecutionResult]], None] | None = None,
) -> list[list[ExecutionResult]]:
    """Run every job; results in job order, one list per job (shorter on early stop).

    Identical jobs (same program, inputs, limits) run once; with `cache_dir`, each test
    run is looked up first and stored after (see `acodium.execute.cache`); jobs spread
    over `workers` processes (default: all cores); a tqdm bar counts test runs.
    `on_result(job_index, results)` is called as soon as each job is complete, so that
    long runs can write what is finished before the whole batch is.
    """
    # Imported here: acodium.execute loads with the standard library alone, so the
    # sandbox runs from a bare system interpreter (tests/test_hostile.py).
    from ..progress import grow, progress_bar

    jobs = list(jobs)
    for job in jobs:
        if not isinstance(job, Job):
            raise UserError(f"run_batch takes Job objects, not {type(job).__name__}.")
        if job.program.language not in RUNNABLE_LANGUAGES:
            raise UserError(f"Cannot run {job.program.language!r} programs: runnable languages are {', '.join(RUNNABLE_LANGUAGES)}.")
        if job.expected is not None and len(job.expected) != len(job.inputs):
            raise UserError(f"A job has {len(job.inputs)} inputs but {len(job.expected)} expected outputs.")
    if not jobs:
        return []
    be = get_backend(backend) if isinstance(backend, str) else backend
    if not be.runs_program_judges and any(isinstance(job.checker, ProgramChecker) for job in jobs):
        raise UserError(f"The {be.name} backend runs no checker programs or interactors: use the local "
                        "backend, or judge with a built-in checker (--checker NAME).")
    workers = workers or be.default_workers()
    cache = ResultCache(cache_dir) if cache_dir is not None else None
    version = be.version() if cache is not None else ""

    units: dict[tuple, _Unit] = {}
    job_unit: list[_Unit] = []
    for index, job in enumerate(jobs):
        key = _unit_key(job)
        unit = units.get(key)
        if unit is None:
            keys = [run_key(job.program.hash, t, job.limits, be.name, version, _judged_by(job, i))
                    for i, t in enumerate(job.inputs)] if cache is not None else []
            unit = units[key] = _Unit(job, [None] * len(job.inputs), keys)
        unit.job_indices.append(index)
        job_unit.append(unit)

    # Cache lookups first, then rounds of work until no unit plans any: first runs, then the reruns
    # of tests over their time limit (and a stopping job's tests after a rerun that passed).
    if cache is not None:
        found = cache.get_many([k for u in units.values() for k in u.keys])
        for u in units.values():
            u.results = [found.get(k) for k in u.keys]
    for u in units.values():
        u.judged = any(jobs[j].expected is not None for j in u.job_indices)

    def report(u: _Unit) -> None:
        u.done = True
        if on_result is not None:
            for j in u.job_indices:
                on_result(j, _finish(jobs[j], u))

    bar = None  # made when there is something to run: a batch served from the cache shows none
    try:
        while True:
            pieces: list[tuple[_Unit, list[int], str]] = []
            for u in units.values():
                if not u.done:
                    planned = _plan(u, be, cache, version)
                    if not planned:
                        report(u)  # served whole from the cache, or finished last round
                    for kind, todo in planned:  # a rerun is long (over the limit): each on its own, spread
                        pieces += [(u, todo, kind)] if kind == FIRST else [(u, [i], kind) for i in todo]
            if not pieces:
                break
            pieces = _spread(pieces, workers)
            for u, _, _ in pieces:
                u.pending += 1
            sub_jobs = [_work_job(u, kind, todo) for u, todo, kind in pieces]
            if bar is None:
                bar = progress_bar(total=0, unit="test", desc="execute", progress=progress)
            grow(bar, sum(len(j.inputs) for j in sub_jobs))
            for index, results in be.run_many(sub_jobs, workers=workers):
                u, todo, kind = pieces[index]
                results = _store(u, kind, todo, results)
                if cache is not None:
                    keys = u.keys if kind == FIRST else {i: _rerun_key(u, i, kind, be, version) for i in todo}
                    judged = isinstance(u.job.checker, ProgramChecker)  # else judged afresh when read
                    cache.put_many([(keys[i], r if judged else dataclasses.replace(r, passed=None, checker_message=""))
                                    for i, r in zip(todo, results)])
                bar.update(len(todo))
                u.pending -= 1
                if u.pending == 0 and not _plan(u, be, cache, version):
                    report(u)  # complete: reported now, not at the end of the round
    finally:
        if bar is not None:
            bar.close()
    if cache is not None:
        cache.close()
    return [_finish(job, u) for job, u in zip(jobs, job_unit)]


def _store(u: _Unit, kind: str, todo: list[int], results: list[ExecutionResult]) -> list[ExecutionResult]:
    """Keep a piece's results in its unit. A backend may give fewer results than tests (a stopping job's
    failure, a lost worker): first runs it owed and did not give are not planned again (the job's results
    end before them, as they always did); a rerun it did not give is a SANDBOX_ERROR, the test's result."""
    if kind == FIRST:
        for i, r in zip(todo, results):
            u.results[i] = r
        u.gave_up.update(todo[len(results):max(1, len(results))] if u.job.stop_on_first_failure
                         else todo[len(results):])
        return list(results)
    results = list(results[:len(todo)]) + [
        ExecutionResult(status=Status.SANDBOX_ERROR, passed=None, program_hash=u.job.program.hash,
                        stderr="sandbox error: the backend returned no result for this test")
        for _ in todo[len(results):]]
    store = u.capped if kind == CAPPED else u.again
    for i, r in zip(todo, results):
        store[i] = r
    return results


def _spread(pieces: list[tuple[_Unit, list[int], str]], workers: int) -> list[tuple[_Unit, list[int], str]]:
    """Few pieces, many tests (one program on a big test set): split them so every core works."""
    if not 0 < len(pieces) < workers:
        return pieces
    split = []
    per = math.ceil(workers / len(pieces))
    for u, todo, kind in pieces:
        # C++ would be compiled once per piece: keep its tests together.
        if (kind == FIRST and u.job.stop_on_first_failure) or len(todo) < 2 or u.job.program.language != "python3":
            split.append((u, todo, kind))
            continue
        size = math.ceil(len(todo) / min(per, len(todo)))
        split += [(u, todo[s:s + size], kind) for s in range(0, len(todo), size)]
    return split


def _finish(job: Job, unit: _Unit) -> list[ExecutionResult]:
    """A job's results from its unit's runs: verdicts against its own expected outputs, a test over its
    limit decided by its reruns (`slow.resolve`: SLOW, TIMEOUT, or the second run near the limit)."""
    results = []
    for i, r in enumerate(unit.results):
        if r is None:  # not run: an earlier test failed and the job stops there
            break
        exp = job.expected[i] if job.expected is not None else None
        r = resolve(r, unit.capped.get(i), unit.again.get(i), exp, job.checker, job.limits)
        passed, message = _verdict(r, exp, job.checker)
        r = dataclasses.replace(r, passed=passed, checker_message=message or (
            r.checker_message if r.status == Status.SLOW else ""))
        results.append(r)
        if job.stop_on_first_failure and _stops(r, passed):  # the verdict just made, not judged again
            break
    return results
