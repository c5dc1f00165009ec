"""Run candidate programs on tests: the execution stage.

    from acodium.execute import Program, Limits, run_program
    results = run_program(Program("python3", "print(int(input()) * 2)"), ["21\\n"], ["42"])
    results[0].status, results[0].passed        # (Status.OK, True)

`run_batch` runs many (program, tests) jobs on all cores, with a progress bar, an
optional on-disk cache (`cache_dir`), and identical jobs executed once. Backends:
"local" (bubblewrap sandbox, forking workers; the default) and "code_contests"
(DeepMind's tester). Status (did it run within limits) is kept apart from `passed`
(did its output match: by default under code_contests rules, `check_output`; a job's
`checker`, a built-in of `acodium.execute.checkers`, can say otherwise). A test over
its time limit runs again at `Limits.slow_cap` x the limit: correct then, it is SLOW, a
slow positive, never passed (`acodium.execute.slow`).
"""

from __future__ import annotations

from .base import Backend
from .batch import run_batch, run_program
from .check import check_output
from .checkers import BUILTINS as CHECKERS, Checker, checker_for_problem, parse_checker
from .limits import DEFAULT_TIME_MULTIPLIERS, limits_for_problem
from .registry import BACKENDS, get_backend
from .settings import Execution
from .types import (
    DEFAULT_MEMORY_BYTES,
    DEFAULT_OUTPUT_BYTES,
    DEFAULT_TIME_S,
    LANGUAGE_IDS,
    LANGUAGE_NAMES,
    RUNNABLE_LANGUAGES,
    ExecutionResult,
    Job,
    Limits,
    Program,
    Status,
    sha256,
)

__all__ = [
    "Backend", "ExecutionResult", "Job", "Limits", "Program", "Status", "LANGUAGE_IDS",
    "LANGUAGE_NAMES", "RUNNABLE_LANGUAGES", "BACKENDS", "Execution", "get_backend", "run_program",
    "run_batch", "check_output", "Checker", "CHECKERS", "parse_checker", "checker_for_problem", "limits_for_problem", "DEFAULT_TIME_MULTIPLIERS",
    "DEFAULT_MEMORY_BYTES", "DEFAULT_OUTPUT_BYTES", "DEFAULT_TIME_S", "sha256",
]
