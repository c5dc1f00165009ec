"""How candidates are run, as one frozen value passed from the CLI down.

Every stage that runs programs (evaluation, the AlphaCodium flow, reference
checks, mutation) takes one `Execution` instead of a backend name, a cache
folder, a worker count and a time limit threaded through each signature.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from ..errors import UserError
from ..languages import RUNNABLE_LANGUAGES
from .base import Backend
from .batch import run_batch
from .checkers import Checker, checker_for_problem, parse_checker
from .judges import ProgramChecker
from .limits import limits_for_problem
from .registry import BACKENDS, EXECUTORS, RAY_MISSING, get_backend, get_executor
from .types import DEFAULT_SLOW_CAP, MAX_TIME_S, ExecutionResult, Job, Limits, slow_cap_value


@dataclass(frozen=True)
class Execution:
    """Where and how programs run.

    backend: "local" (the bubblewrap sandbox) or "code_contests" (DeepMind's tester).
    executor: where the backend runs: "local" (this machine) or "ray" (the local sandbox on every
      node of a Ray cluster, `acodium.execute.ray_executor`; docs/scale.md).
    cache_dir: the execution cache folder (None: no cache).
    workers: processes running tests at once (None: every core; under Ray, every CPU of the cluster).
    time_s: a time limit replacing every problem's own (None: the problem's limit
      times the language's multiplier, `limits_for_problem`).
    checker: a checker judging every problem (a run's --checker: a built-in, "tokens" or
      "float_rel:1e-6", or a checker program's file; None: each problem's own `checker`
      column, `checker_for_problem`).
    testlib_dir: the folder of testlib.h for judge programs that include it (None:
      $ACODIUM_TESTLIB_DIR).
    python3: the Python 3 that runs Python 3 candidates, a path or a name on PATH (a run's
      --python3, e.g. "pypy3"; None: $ACODIUM_PYTHON3, else /usr/bin/python3.11 or the first
      suitable system python3; local backend only, see `acodium.execute.runtimes`).
    slow_cap: a test over its time limit that is correct within slow_cap x the limit is SLOW
      (AlphaCode's slow positive: never correct, counted apart from TIMEOUT; `acodium.execute.slow`);
      0 or 1: no slow positives, every test runs once.
    """

    backend: str = "local"
    cache_dir: Path | None = None
    workers: int | None = None
    time_s: float | None = None
    checker: str | None = None
    testlib_dir: Path | None = None
    python3: str | None = None
    slow_cap: float = DEFAULT_SLOW_CAP
    executor: str = "local"

    def __post_init__(self) -> None:
        if not isinstance(self.backend, str) or self.backend not in BACKENDS:
            raise UserError(f"Unknown execution backend {self.backend!r}: choose one of {', '.join(BACKENDS)}.")
        if not isinstance(self.executor, str) or self.executor not in EXECUTORS:
            raise UserError(f"Unknown executor {self.executor!r}: choose one of {', '.join(EXECUTORS)}.")
        if self.executor != "local" and self.backend != "local":
            raise UserError(f"The {self.executor} executor runs the local sandbox on every node, not the "
                            f"{self.backend} backend: use the local backend with it.")
        if self.executor == "ray" and not _installed("ray"):
            raise UserError(RAY_MISSING)
        if self.cache_dir is not None and not isinstance(self.cache_dir, Path):
            object.__setattr__(self, "cache_dir", Path(self.cache_dir))
        if self.workers is not None and (isinstance(self.workers, bool) or not isinstance(self.workers, int)
                                         or self.workers < 1):
            raise UserError(f"workers must be a positive whole number, not {self.workers!r}.")
        if self.time_s is not None:
            if isinstance(self.time_s, bool) or not isinstance(self.time_s, (int, float)) \
                    or not 0 < self.time_s <= MAX_TIME_S:
                raise UserError(f"The time limit must be a number of seconds in (0, {MAX_TIME_S:g}], "
                                f"not {self.time_s!r}.")
            object.__setattr__(self, "time_s", float(self.time_s))
        object.__setattr__(self, "slow_cap", slow_cap_value(self.slow_cap))  # 0 is kept as 1
        if self.testlib_dir is not None and not isinstance(self.testlib_dir, Path):
            object.__setattr__(self, "testlib_dir", Path(self.testlib_dir))
        if self.checker is not None:  # checked now, kept as its canonical text (a program: its file)
            checker = parse_checker(self.checker, self.testlib_dir)
            object.__setattr__(self, "checker", str(self.checker) if isinstance(checker, ProgramChecker)
                               else checker.spec)
        if self.python3 is not None:
            if not isinstance(self.python3, str) or not self.python3.strip():
                raise UserError(f"python3 must name a Python 3 interpreter (a path or a name on PATH), not {self.python3!r}.")
            if self.backend != "local":
                raise UserError(f"--python3 applies to the local backend: the {self.backend} backend runs Python 3 "
                                "under its own interpreter.")

    def replace(self, **changes: Any) -> "Execution":
        return dataclasses.replace(self, **changes)

    def limits(self, problem: Any, language: str) -> Limits:
        """The per-test limits for running `language` on `problem` (a row or a `Problem`)."""
        return limits_for_problem(problem, language, time_s=self.time_s, slow_cap=self.slow_cap)

    def checker_for(self, problem: Any) -> Checker | ProgramChecker:
        """The checker that judges `problem` (a row or a `Problem`): this run's override, else its own
        (a problem with an interactor: a `ProgramChecker` holding it)."""
        return checker_for_problem(problem, self.checker, self.testlib_dir)

    def missing_runtime(self, language: str) -> str | None:
        """Why this backend cannot run `language` on this machine (one sentence that says how to get its
        runtime: a Python 2, a JDK), or None."""
        return self.get_backend().missing_runtime(language)

    def runnable_languages(self) -> tuple[str, ...]:
        """The languages this backend runs on this machine, in RUNNABLE_LANGUAGES' order."""
        return tuple(lang for lang in RUNNABLE_LANGUAGES if self.missing_runtime(lang) is None)

    def get_backend(self) -> Backend:
        """The backend that runs this execution's jobs: the named backend here, or under the ray
        executor the driver's end of the sandboxes on every node (`ray_executor.RayBackend`)."""
        options = {"python3": self.python3} if self.python3 is not None else {}
        if self.executor == "ray":
            return get_executor("ray", backend=self.backend, **options)
        return get_backend(self.backend, **options)

    def run_batch(self, jobs: Sequence[Job], *, progress: bool = True,
                  on_result: Callable[[int, list[ExecutionResult]], None] | None = None,
                  ) -> list[list[ExecutionResult]]:
        """`run_batch` on this backend, cache and worker count."""
        return run_batch(jobs, backend=self.get_backend(), cache_dir=self.cache_dir, workers=self.workers,
                         progress=progress, on_result=on_result)


def _installed(module: str) -> bool:
    """Whether `module` can be imported (found, not imported: Ray takes seconds to import)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def execution_from(value: "Execution | None" = None, **legacy: Any) -> Execution:
    """An `Execution` from `value`, or from the older keywords backend, cache_dir, workers and
    time_limit_s (None: not given); giving both is refused with one sentence.

    Only `acodium.evaluate(...)` (the documented notebook entry point) still takes
    the older keywords, with a DeprecationWarning; every other function takes
    `execution=` alone and passes no keywords here.
    """
    given = {k: v for k, v in legacy.items() if v is not None}
    if value is not None:
        if given:
            raise UserError(f"Give either execution= or {', '.join(sorted(given))}, not both.")
        if not isinstance(value, Execution):
            raise UserError(f"execution must be an acodium.execute.Execution, not {type(value).__name__}.")
        return value
    if "time_limit_s" in given:
        given["time_s"] = given.pop("time_limit_s")
    unknown = set(given) - {"backend", "cache_dir", "workers", "time_s"}
    if unknown:
        raise TypeError(f"unexpected execution settings: {', '.join(sorted(unknown))}")
    return Execution(**given)
