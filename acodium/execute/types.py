"""What the execution stage takes and gives: programs, limits, and per-test results.

Program status (did it run to completion within its limits?) is kept apart
from the verdict (did its output match?), as in DeepMind's code_contests
tester: a TIMEOUT has `passed=False`, an OK run may still be wrong.

SLOW is the one status that needs a verdict: a run over its time limit that,
run again with the limit times `Limits.slow_cap`, ends OK with an output the
checker accepts (AlphaCode's "slow positive"). It is never correct
(`passed=False`), but it is counted apart from TIMEOUT; a slow run with a
wrong output is a TIMEOUT (`acodium.execute.slow` holds the rule).
"""

from __future__ import annotations

import hashlib
import math
import numbers
from dataclasses import asdict, dataclass, field
from enum import Enum

from ..errors import UserError
from ..languages import LANGUAGE_IDS, LANGUAGE_NAMES, RUNNABLE_LANGUAGES  # noqa: F401  (re-exported)
from .checkers import TOKENS, Checker, parse_checker


class Status(str, Enum):
    OK = "OK"
    RUNTIME_ERROR = "RUNTIME_ERROR"
    TIMEOUT = "TIMEOUT"
    MEMORY_LIMIT = "MEMORY_LIMIT"
    OUTPUT_LIMIT = "OUTPUT_LIMIT"
    COMPILE_ERROR = "COMPILE_ERROR"
    SANDBOX_ERROR = "SANDBOX_ERROR"
    SLOW = "SLOW"  # over the time limit, but correct within slow_cap x the limit: never passed
    # The program ran (OK) but its judge (a checker program, an interactor) failed: never the
    # candidate's fault, never correct, kept apart from wrong answers (judges.py).
    JUDGE_ERROR = "JUDGE_ERROR"




def sha256(text: str | bytes) -> str:
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogatepass")
    return hashlib.sha256(text).hexdigest()


@dataclass(frozen=True)
class Program:
    """A candidate program: its language (`python3` or `cpp`) and its source."""

    language: str
    code: str

    def __post_init__(self):
        if not isinstance(self.code, str):  # null or a number in a candidates table
            raise UserError(f"A program's code must be text, not {type(self.code).__name__} ({self.code!r}).")

    @property
    def hash(self) -> str:
        """Identity of the program: identical programs are executed once."""
        return sha256(self.language + "\0" + self.code)


# The tester's own defaults (DeepMind code_contests): 10 s and 256 MiB.
DEFAULT_TIME_S = 10.0
DEFAULT_MEMORY_BYTES = 256 * 1024 * 1024
DEFAULT_OUTPUT_BYTES = 32 * 1024 * 1024
# The longest time limit of one test: nan, inf or a year would be run as no limit, or crash.
MAX_TIME_S = 3600.0
# A run over its limit is a slow positive (SLOW) if it is correct within this many times the limit.
DEFAULT_SLOW_CAP = 3.0
MAX_SLOW_CAP = 100.0


@dataclass(frozen=True)
class Limits:
    """Per-test limits: time (seconds), memory and output size (bytes), and the slow cap.

    The local backend counts CPU time against `time_s`, with a wall-clock cap for
    programs that sleep; memory is the peak resident set. `slow_cap`: a test over
    `time_s` is run again with `slow_cap` x `time_s` to tell a slow positive (SLOW)
    from a TIMEOUT (1: no SLOW and no second run; 0 is read as 1).
    """

    time_s: float = DEFAULT_TIME_S
    memory_bytes: int = DEFAULT_MEMORY_BYTES
    output_bytes: int = DEFAULT_OUTPUT_BYTES
    slow_cap: float = DEFAULT_SLOW_CAP

    def __post_init__(self):
        if not (isinstance(self.time_s, numbers.Real) and math.isfinite(self.time_s)
                and 0 < self.time_s <= MAX_TIME_S):
            raise UserError(f"A test's time limit must be a number of seconds above 0 and at most "
                            f"{MAX_TIME_S:g}, not {self.time_s!r}.")
        for name in ("memory_bytes", "output_bytes"):
            if not isinstance(getattr(self, name), numbers.Integral) or getattr(self, name) < 1:
                raise UserError(f"A test's {name} limit must be a whole number of bytes above 0, "
                                f"not {getattr(self, name)!r}.")
        object.__setattr__(self, "slow_cap", slow_cap_value(self.slow_cap))

    def key(self) -> str:
        """What limits one run: the cache key of a raw run (the slow cap decides verdicts, not runs)."""
        return f"{self.time_s:g}s/{self.memory_bytes}b/{self.output_bytes}o"

    def verdict_key(self) -> str:
        """What limits a test's verdict: the run's limits and, where slow positives are told apart, the cap."""
        return self.key() + (f"/slow{self.slow_cap:g}" if self.slow_cap > 1 else "")

    def capped(self) -> "Limits":
        """The limits of the second run of a test over its time limit: time x slow_cap (at most MAX_TIME_S)."""
        return Limits(time_s=min(self.time_s * self.slow_cap, MAX_TIME_S), memory_bytes=self.memory_bytes,
                      output_bytes=self.output_bytes, slow_cap=1.0)


def slow_cap_value(value) -> float:
    """A slow cap as a float: 1 to MAX_SLOW_CAP, or 0 (read as 1: no slow positives); else one sentence."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and (
            value == 0 or 1 <= value <= MAX_SLOW_CAP):
        return max(1.0, float(value))
    raise UserError(f"The slow cap must be a number from 1 to {MAX_SLOW_CAP:g} times the time limit "
                    f"(0 or 1: no slow positives), not {value!r}.")


@dataclass
class ExecutionResult:
    """One run of one program on one input."""

    status: Status
    passed: bool | None  # None when no expected output was given
    stdout: str = ""  # capped for display; output_hash covers the whole output
    stderr: str = ""  # the tail only
    exit_code: int | None = None
    signal: int | None = None
    time_s: float = 0.0  # wall time
    cpu_s: float = 0.0
    memory_bytes: int | None = None  # peak, where known
    program_hash: str = ""
    output_hash: str = ""
    cached: bool = False
    checker_message: str = ""  # where a failing output went wrong, by the job's checker

    def to_dict(self) -> dict:
        d = asdict(self)
        d["status"] = self.status.value
        return d


@dataclass
class Job:
    """A program and the tests to run it on: the unit of a batch."""

    program: Program
    inputs: list[str]
    expected: list[str] | None = None
    limits: Limits = field(default_factory=Limits)
    stop_on_first_failure: bool = False
    checker: Checker = TOKENS  # judges each output against `expected` (a name is parsed: "float_rel:1e-6")

    def __post_init__(self):
        self.checker = parse_checker(self.checker)
