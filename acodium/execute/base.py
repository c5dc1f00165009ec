"""The one interface every execution backend implements (local sandbox, code_contests).

A backend runs one program on a list of inputs under limits; `run_many` may
run jobs concurrently. Caching, de-duplication of identical programs and the
progress bar live above it, in `acodium.execute.run_batch`, so a backend only
has to run programs and report what happened.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Iterator, Sequence

from .types import ExecutionResult, Job, Limits


class Backend(ABC):
    """Override points: `run` (required), `run_many`, `version`, `close`."""

    name: str = "backend"
    # Whether it runs program judges (checker programs, interactors: judges.py) in its sandbox.
    runs_program_judges: bool = False

    @abstractmethod
    def run(self, job: Job) -> list[ExecutionResult]:
        """Run `job.program` on each of `job.inputs` in order; one result per test run.

        With `job.stop_on_first_failure`, stop after the first test that does not
        pass (or is not OK, when there are no expected outputs): the list is then
        shorter than the inputs.
        """

    def version(self) -> str:
        """Part of the cache key: change it when results could change."""
        return "1"

    def time_used(self, result: ExecutionResult) -> float:
        """What this backend's time limit measures of a run (CPU seconds here): the slow-positive
        rule (`acodium.execute.slow`) compares it with `time_allowed`."""
        return result.cpu_s

    def time_allowed(self, limits: Limits) -> float:
        """How much of `time_used` a run may take under `limits` before it is a TIMEOUT."""
        return limits.time_s

    def missing_runtime(self, language: str) -> str | None:
        """Why this backend cannot run `language` on this machine (one sentence that says how to
        get its runtime), or None. Such a job's results are SANDBOX_ERROR: never a verdict."""
        return None

    def default_workers(self) -> int:
        """Programs run at once when the caller names no number: every core here (an executor
        that spreads over machines says how many it has)."""
        return os.cpu_count() or 1

    def usage(self) -> dict:
        """Where jobs ran, for a run's summary.json ("executor"): {"kind": "local"} here; the ray
        executor adds the tests each node ran, counted since it started (`usage_since` takes a
        run's share)."""
        return {"kind": "local"}

    def run_many(
        self,
        jobs: Sequence[Job],
        workers: int = 1,
    ) -> Iterator[tuple[int, list[ExecutionResult]]]:
        """Run jobs, yielding (index, results) as each finishes, in any order."""
        if workers <= 1:
            for i, job in enumerate(jobs):
                yield i, self.run(job)
            return
        with ThreadPoolExecutor(workers) as pool:
            futures = {pool.submit(self.run, job): i for i, job in enumerate(jobs)}
            for fut in as_completed(futures):
                yield futures[fut], fut.result()

    def close(self) -> None:
        """Release processes and files the backend holds."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def usage_since(before: dict, after: dict) -> dict:
    """A run's share of a backend's `usage()`: `after` less `before`, number by number (a node's
    counts, where there are nodes); numbers that are not counts (a node's cpus) are `after`'s."""
    def minus(a, b, key=""):
        if isinstance(a, dict):
            return {k: minus(v, b.get(k) if isinstance(b, dict) else None, k) for k, v in a.items()}
        if isinstance(a, (int, float)) and not isinstance(a, bool) and isinstance(b, (int, float)) \
                and key in COUNTS:
            return a - b
        return a
    return minus(after, before)


def merge_usage(a: dict, b: dict) -> dict:
    """Two runs' usage as one (the clustering inputs' run beside the main one): counts added."""
    if not a:
        return dict(b)
    if not b:
        return dict(a)
    out = dict(a)
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge_usage(out[k], v)
        elif k in COUNTS and isinstance(v, (int, float)) and isinstance(out.get(k), (int, float)):
            out[k] = out[k] + v
        else:
            out.setdefault(k, v)
    return out


# The numbers of `usage()` that count work (a run's share is a difference, two runs' a sum).
COUNTS = frozenset({"tests", "jobs", "compiles", "resubmitted"})
