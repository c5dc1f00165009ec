"""Slow positives: which tests over their time limit run again, and what the runs of a test decide.

AlphaCode counts "slow positives", correct outputs produced too slowly, apart
from plain timeouts. `run_batch` drives the schedule and this module decides
it, for a job whose limits have `slow_cap` > 1 (the default 3) and that has
expected outputs:

1. every test runs once under its limits ("first" run, limit L);
2. a first run that is a TIMEOUT and used its whole allowance (the backend's
   `time_used` >= `time_allowed`: CPU time for local, wall time for
   code_contests) runs again with L x slow_cap ("capped" run). A TIMEOUT that
   another limit ended (an idle program at local's wall cap, the tester's own
   10 s of CPU) is not: a longer limit would not make it finish;
3. a capped run that ended (not TIMEOUT) within 10% of the allowance is near
   the limit: the test runs once more under L ("again" run), so that a noisy
   machine does not turn a program that fits into a TIMEOUT.

The test's run (`resolve`): the again run if it ended within L (the first
TIMEOUT was the machine's noise); else SLOW if the capped run ended OK and the
checker accepts its output (a program judge, which runs beside the program, judged the capped run
there); else the first run (TIMEOUT: too slow, and its
output, if any, wrong or never made). A machine failure (SANDBOX_ERROR) in a
rerun is the test's result: retried, never a verdict. Runs without expected
outputs (clustering) make no verdict, so nothing makes them a positive: they
run once, and a run over the limit is a TIMEOUT. An OK run near the limit is
not run again (it already fits). Each run is a raw run in the execution
cache: the capped one under the capped limits (shared with any run made
under that limit), the again one under L with its own key (`run_key`
attempt 2), so a cached schedule decides the same without running anything,
and a SLOW is never served for another cap (another cap is another capped
key).
"""

from __future__ import annotations

import dataclasses

from .base import Backend
from .cache import MACHINE_FAILURES
from .checkers import Checker
from .judges import ProgramChecker
from .types import ExecutionResult, Limits, Status

# A capped run within this factor of the allowance is near the limit: the test runs once more under it.
NEAR_LIMIT = 1.1


def wants_capped(first: ExecutionResult, limits: Limits, judged: bool, backend: Backend) -> bool:
    """Whether a test's first run is to run again with the capped limit (step 2 of the module docstring)."""
    return (judged and limits.slow_cap > 1 and first.status == Status.TIMEOUT
            and backend.time_used(first) >= backend.time_allowed(limits))


def wants_again(capped: ExecutionResult, limits: Limits, backend: Backend) -> bool:
    """Whether a capped run ended near the limit, so that the test runs once more under it (step 3)."""
    return (capped.status not in (Status.TIMEOUT, *MACHINE_FAILURES)
            and backend.time_used(capped) <= NEAR_LIMIT * backend.time_allowed(limits))


def resolve(first: ExecutionResult, capped: ExecutionResult | None, again: ExecutionResult | None,
            expected: str | None, checker: Checker | ProgramChecker, limits: Limits) -> ExecutionResult:
    """The run that decides a test, from its first run and the reruns it had (None: not run);
    a slow positive is the capped run with status SLOW and a message that says so. A program judge
    (checker program, interactor) judged the capped run beside it: its verdict is the run's `passed`."""
    if capped is None or expected is None:
        return first
    if capped.status in MACHINE_FAILURES:
        return capped
    if again is not None and again.status != Status.TIMEOUT:  # within the limit this time (or a machine failure)
        return again
    accepted = (capped.passed is True if isinstance(checker, ProgramChecker)
                else checker.check(capped.stdout, expected))
    if capped.status == Status.OK and accepted:
        used = f"{capped.cpu_s:.3g} s of CPU" if capped.cpu_s > 0 else f"{capped.time_s:.3g} s of wall time"
        return dataclasses.replace(capped, status=Status.SLOW, passed=False, checker_message=(
            f"slow positive: the checker accepts this output, made in {used} with a limit of "
            f"{limits.time_s:g} s (run again with {limits.capped().time_s:g} s)"))
    return first
