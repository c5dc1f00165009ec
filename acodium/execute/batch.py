"""Run jobs on a backend: identical jobs once, the cache first, every core busy."""

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


def _unit_key(job: Job) -> tuple:
    inputs = sha256("\0".join(sha256(t) for t in job.inputs))
    expected = checker = None
    # Where a job stops depends on the verdicts; a program judge's verdicts are part of the results.
    if job.expected is not None and (job.stop_on_first_failure or isinstance(job.checker, ProgramChecker)):
        expected = sha256("\0".join(sha256(t) for t in job.expected))
        checker = job.checker.spec
    return (job.program.hash, inputs, job.limits.key(), job.stop_on_first_failure, expected, checker)


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
    from tqdm.auto import tqdm

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
    workers = workers or os.cpu_count() or 1
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

    # Cache lookups first, then plan what is left: (unit, test indices) per piece of work.
    if cache is not None:
        found = cache.get_many([k for u in units.values() for k in u.keys])
        for u in units.values():
            u.results = [found.get(k) for k in u.keys]
    pieces: list[tuple[_Unit, list[int]]] = []
    for u in units.values():
        job = u.job
        if job.stop_on_first_failure:
            todo = []
            for i, r in enumerate(u.results):
                if r is None:
                    todo = list(range(i, len(job.inputs)))
                    break
                if _failed(r, job.expected[i] if job.expected is not None else None, job.checker):
                    break
            if todo:
                pieces.append((u, todo))
        else:
            todo = [i for i, r in enumerate(u.results) if r is None]
            if todo:
                pieces.append((u, todo))
    # Few jobs, many tests (one program on a big test set): split so every core works.
    if 0 < len(pieces) < workers:
        split = []
        per = math.ceil(workers / len(pieces))
        for u, todo in pieces:
            # C++ would be compiled once per piece: keep its tests together.
            if u.job.stop_on_first_failure or len(todo) < 2 or u.job.program.language != "python3":
                split.append((u, todo))
                continue
            size = math.ceil(len(todo) / min(per, len(todo)))
            split += [(u, todo[s:s + size]) for s in range(0, len(todo), size)]
        pieces = split

    def report(u: _Unit) -> None:
        if on_result is not None:
            for j in u.job_indices:
                on_result(j, _finish(jobs[j], u))

    for u, _ in pieces:
        u.pending += 1
    for u in units.values():
        if u.pending == 0:
            report(u)  # served whole from the cache

    sub_jobs = [
        Job(program=u.job.program, inputs=[u.job.inputs[i] for i in todo],
            expected=[u.job.expected[i] for i in todo] if u.job.expected is not None else None,
            limits=u.job.limits, stop_on_first_failure=u.job.stop_on_first_failure, checker=u.job.checker)
        for u, todo in pieces
    ]
    total = sum(len(j.inputs) for j in sub_jobs)
    with tqdm(total=total, unit="test", desc="execute", disable=not progress or total == 0) as bar:
        for index, results in be.run_many(sub_jobs, workers=workers):
            u, todo = pieces[index]
            for i, r in zip(todo, results):
                u.results[i] = r
            if cache is not None:
                judged = isinstance(u.job.checker, ProgramChecker)  # else judged afresh when read
                cache.put_many([(u.keys[i], r if judged else dataclasses.replace(r, passed=None, checker_message=""))
                                for i, r in zip(todo, results)])
            bar.update(len(todo))
            u.pending -= 1
            if u.pending == 0:
                report(u)
    if cache is not None:
        cache.close()
    return [_finish(job, u) for job, u in zip(jobs, job_unit)]


def _finish(job: Job, unit: _Unit) -> list[ExecutionResult]:
    """A job's results from its unit's runs: verdicts against its own expected outputs."""
    results = []
    for i, r in enumerate(unit.results):
        if r is None:  # not run: an earlier test failed and the job stops there
            break
        exp = job.expected[i] if job.expected is not None else None
        passed, message = _verdict(r, exp, job.checker)
        r = dataclasses.replace(r, passed=passed, checker_message=message)
        results.append(r)
        if job.stop_on_first_failure and _stops(r, passed):  # the verdict just made, not judged again
            break
    return results
