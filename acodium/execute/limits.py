"""Per-test limits for a problem: the one place where they are decided."""

from __future__ import annotations

import warnings
from typing import Any, Iterable, Mapping

from ..data.problem import Problem, time_limit_seconds
from ..errors import UserError
from .types import DEFAULT_MEMORY_BYTES, DEFAULT_OUTPUT_BYTES, DEFAULT_SLOW_CAP, DEFAULT_TIME_S, Limits

# Slow languages get more time than the problem states (applied to the problem's
# own limit only; the default for unknown limits is already generous). Java's 1.5 pays
# for the JVM's start (~0.05-0.1 s of CPU) and its JIT warm-up, counted in its CPU time
# as judges count it; Python 3 keeps x2 under PyPy too (the factor is the language's).
DEFAULT_TIME_MULTIPLIERS = {"python3": 2.0, "python2": 2.0, "java": 1.5, "cpp": 1.0}


def limits_for_problem(
    problem: Any,
    language: str,
    *,
    default_time_s: float = DEFAULT_TIME_S,
    time_multiplier: float | Mapping[str, float] | None = None,
    default_memory_bytes: int = DEFAULT_MEMORY_BYTES,
    output_bytes: int = DEFAULT_OUTPUT_BYTES,
    time_s: float | None = None,
    slow_cap: float = DEFAULT_SLOW_CAP,
) -> Limits:
    """Per-test limits for running a `language` program on `problem` (a row or a `Problem`).

    Time: the problem's `time_limit` ({seconds, nanos} on the hub; null or zero = unknown)
    times the language's multiplier (`DEFAULT_TIME_MULTIPLIERS`: python3 and python2 x2, java x1.5, cpp x1; pass
    a number or a {language: factor} mapping to change it); when unknown (as in the local
    sample), `default_time_s` = 10 s, the code_contests tester's default, not multiplied.
    Memory: `memory_limit_bytes` (0 = unknown), else `default_memory_bytes` = 256 MiB,
    also the tester's default (for Java, the JVM's heap limit -Xmx; the local sandbox lets
    the JVM itself hold 128 MiB beyond it, docs/backends.md). Output: `output_bytes` (32 MiB) per stream.
    `time_s`, when given, replaces the time limit for every problem and language
    (a run's `--time_limit`): no multiplier applies to it. `slow_cap` (a run's `--slow_cap`,
    default 3): a test over its time limit but correct within slow_cap x the limit is SLOW
    (`acodium.execute.slow`); 0 or 1: no slow positives.
    """
    row = problem.row if isinstance(problem, Problem) else problem
    if not isinstance(row, Mapping):
        raise UserError(f"limits_for_problem needs a problem row or Problem, not {type(problem).__name__}.")
    seconds, memory = time_limit_seconds(row), row.get("memory_limit_bytes")
    if isinstance(time_multiplier, Mapping):
        factor = time_multiplier.get(language, 1.0)
    elif time_multiplier is None:
        factor = DEFAULT_TIME_MULTIPLIERS.get(language, 1.0)
    else:
        factor = float(time_multiplier)
    if time_s is None:
        time_s = seconds * factor if seconds else float(default_time_s)
    return Limits(time_s=float(time_s), memory_bytes=int(memory) if memory else int(default_memory_bytes),
                  output_bytes=int(output_bytes), slow_cap=slow_cap)


class DefaultTimeLimitWarning(UserWarning):
    """Some problems state no time limit: their tests run with the default one."""


_SAID_DEFAULT_TIME: list[bool] = []  # said once per process


def unstated_time_limits(rows: Iterable[Mapping[str, Any]], time_s: float | None = None,
                         default_time_s: float = DEFAULT_TIME_S) -> str | None:
    """The sentence that says which time limit problems stating none get, and how to change it
    (None: every problem states one, or `time_s` replaces them all)."""
    if time_s is not None:
        return None
    rows = list(rows)
    missing = [row.get("name") for row in rows if not time_limit_seconds(row)]
    if not missing:
        return None
    return (f"{len(missing)} of {len(rows)} problems state no time limit (e.g. {missing[0]!r}): their tests run with "
            f"the default of {default_time_s:g} s per test, the code_contests tester's, for every language; set "
            "time_limit_s in a notebook or --time_limit at the command line to change it.")


def say_unstated_time_limits(rows: Iterable[Mapping[str, Any]], time_s: float | None = None) -> None:
    """Warn once per process (a notebook's kernel, a command) when problems run with the default time limit."""
    note = None if _SAID_DEFAULT_TIME else unstated_time_limits(rows, time_s)
    if note:
        _SAID_DEFAULT_TIME.append(True)
        warnings.warn(note, DefaultTimeLimitWarning, stacklevel=3)
