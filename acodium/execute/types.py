"""What the execution stage takes and gives: programs, limits, and per-test results.

Program status (did it run to completion within its limits?) is kept apart
from the verdict (did its output match?), as in DeepMind's code_contests
tester: a TIMEOUT has `passed=False`, an OK run may still be wrong.
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


@dataclass(frozen=True)
class Limits:
    """Per-test limits: time (seconds), memory and output size (bytes).

    The local backend counts CPU time against `time_s`, with a wall-clock cap for
    programs that sleep; memory is the peak resident set.
    """

    time_s: float = DEFAULT_TIME_S
    memory_bytes: int = DEFAULT_MEMORY_BYTES
    output_bytes: int = DEFAULT_OUTPUT_BYTES

    def __post_init__(self):
        if not (isinstance(self.time_s, numbers.Real) and math.isfinite(self.time_s)
                and 0 < self.time_s <= MAX_TIME_S):
            raise UserError(f"A test's time limit must be a number of seconds above 0 and at most "
                            f"{MAX_TIME_S:g}, not {self.time_s!r}.")
        for name in ("memory_bytes", "output_bytes"):
            if not isinstance(getattr(self, name), numbers.Integral) or getattr(self, name) < 1:
                raise UserError(f"A test's {name} limit must be a whole number of bytes above 0, "
                                f"not {getattr(self, name)!r}.")

    def key(self) -> str:
        return f"{self.time_s:g}s/{self.memory_bytes}b/{self.output_bytes}o"


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
