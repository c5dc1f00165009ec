"""Program judges: checkers and interactors that are programs, run by testlib's protocols.

A problem's `checker` may be a program instead of a built-in rule, and its
`interactor` is always one (issue 16). Both are code from a dataset, so they run
in the sandbox like candidates, with their own limits (`JUDGE_TIME_S`,
`JUDGE_MEMORY_BYTES`), and what they say is read by testlib's exit codes:

- checker: `checker <input> <output> <answer>` (here /dev/fd/3, /dev/fd/4 and
  /dev/fd/5), run once the candidate's test has ended, only on an OK run;
- interactor: `interactor <input> <output>` (/dev/fd/3 and /dev/fd/4), run beside
  the candidate, each one's stdout the other's stdin; its output file is what a
  checker program (if the problem has one) then judges against the answer.

Exit codes: 0 accepted, 1 wrong answer, 2 presentation error, 7 partial (points,
recorded in the message; not accepted), 3 the judge failed; any other end (a crash,
a limit, a judge that does not compile) is a judge error too. A judge error is never
the candidate's fault: the run gets the status JUDGE_ERROR (not correct, kept apart
in the tables). Built-in checkers do not apply to interactive problems: the
interactor's verdict (then a checker program's) is the verdict.

C++ judges that `#include "testlib.h"` get the header from `testlib_dir` (a run's
--testlib_dir, else $ACODIUM_TESTLIB_DIR), compiled beside their source; it is part
of the judge's identity (its hash), so a cached verdict is never one of another header.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..errors import UserError

JUDGE_LANGUAGES = ("cpp", "python3")
SUFFIX_LANGUAGES = {".cpp": "cpp", ".cc": "cpp", ".cxx": "cpp", ".py": "python3"}
TESTLIB_HEADER = "testlib.h"
TESTLIB_ENV = "ACODIUM_TESTLIB_DIR"
# A judge's own limits: generous (a checker reads three files, an interactor waits on the
# candidate), and the same whatever the problem's limits are.
JUDGE_TIME_S = 10.0
JUDGE_MEMORY_BYTES = 1 << 30
JUDGE_OUTPUT_BYTES = 64 << 20  # an interactor's output file; a checker's stdout is only a message
CHECKER_ARGV = ("/dev/fd/3", "/dev/fd/4", "/dev/fd/5")  # input, output, answer
INTERACTOR_ARGV = ("/dev/fd/3", "/dev/fd/4")  # input, output file
_INCLUDES_TESTLIB = re.compile(r'^\s*#\s*include\s*[<"]testlib\.h[>"]', re.MULTILINE)
_MESSAGE_CHARS = 300


def _sha256(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class JudgeProgram:
    """A checker's or an interactor's code, with the headers it includes ((name, text) pairs)."""

    language: str
    code: str
    includes: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.language not in JUDGE_LANGUAGES:
            raise UserError(f"A checker or interactor program is in {' or '.join(JUDGE_LANGUAGES)}, "
                            f"not {self.language!r}.")
        if not isinstance(self.code, str) or not self.code.strip():
            raise UserError("A checker or interactor program has no code.")

    @property
    def hash(self) -> str:
        return _sha256(self.language, self.code, *(f"{name}\0{text}" for name, text in self.includes))


def _testlib_includes(language: str, code: str, testlib_dir: str | os.PathLike | None,
                      shipped: str | None, what: str) -> tuple[tuple[str, str], ...]:
    """The testlib.h a C++ judge needs: the dataset's own (`shipped`), else the one of
    `testlib_dir` or $ACODIUM_TESTLIB_DIR; refused in one sentence when there is none."""
    if language != "cpp" or not _INCLUDES_TESTLIB.search(code):
        return ()
    if shipped:
        return ((TESTLIB_HEADER, shipped),)
    folder = testlib_dir or os.environ.get(TESTLIB_ENV)
    if not folder:
        raise UserError(f"The {what} includes testlib.h: give its folder with --testlib_dir DIR or "
                        f"{TESTLIB_ENV}=DIR (testlib.h is at github.com/MikeMirzayanov/testlib).")
    header = Path(folder) / TESTLIB_HEADER
    try:
        return ((TESTLIB_HEADER, header.read_text(encoding="utf-8", errors="surrogateescape")),)
    except OSError as e:
        raise UserError(f"The {what} includes testlib.h, but {header} cannot be read ({e.strerror}).") from None


def judge_program(value: Any, what: str = "checker", testlib_dir: str | os.PathLike | None = None) -> JudgeProgram:
    """A `JudgeProgram` from a program {"language", "code"[, "testlib"]} or a source file's path
    (.cpp/.cc/.cxx or .py); `what` names it in messages ("checker", "interactor")."""
    if isinstance(value, JudgeProgram):
        return value
    if isinstance(value, Mapping):
        language, code = value.get("language"), value.get("code")
        if language not in JUDGE_LANGUAGES:
            raise UserError(f"The {what} program is in {language!r}; it must be in {' or '.join(JUDGE_LANGUAGES)}.")
        if not isinstance(code, str) or not code.strip():
            raise UserError(f"The {what} program has no code.")
        return JudgeProgram(language, code, _testlib_includes(language, code, testlib_dir, value.get("testlib"), what))
    if isinstance(value, (str, os.PathLike)):
        path = Path(value)
        language = SUFFIX_LANGUAGES.get(path.suffix.lower())
        if language is None:
            raise UserError(f"The {what} {str(value)!r} is no built-in name and no .cpp or .py file.")
        try:
            code = path.read_text(encoding="utf-8", errors="surrogateescape")
        except OSError as e:
            raise UserError(f"The {what} file {str(value)!r} cannot be read ({e.strerror}).") from None
        return judge_program({"language": language, "code": code}, what, testlib_dir)
    raise UserError(f"A {what} is a program {{'language', 'code'}} or a file, not {type(value).__name__}.")


def looks_like_file(text: str) -> bool:
    """Whether a --checker value names a source file rather than a built-in."""
    return Path(text).suffix.lower() in SUFFIX_LANGUAGES


@dataclass(frozen=True)
class ProgramChecker:
    """The judge of a problem whose verdicts come from programs: a checker program, an
    interactor, or both. Runs in the backend (see the module docstring); `spec` names it."""

    checker: JudgeProgram | None = None
    interactor: JudgeProgram | None = None

    def __post_init__(self) -> None:
        if self.checker is None and self.interactor is None:
            raise UserError("A program judge needs a checker program, an interactor, or both.")

    name = "program"
    eps = None

    @property
    def spec(self) -> str:
        parts = [f"{role}:{p.language}:{p.hash[:16]}" for role, p in
                 (("interactor", self.interactor), ("checker", self.checker)) if p is not None]
        return "program(" + ",".join(parts) + ")"

    def __str__(self) -> str:
        return self.spec

    def judge(self, actual: str, expected: str) -> tuple[bool, str]:
        raise UserError("A program checker judges by running in the sandbox: run the job with "
                        "run_batch / run_program, which run it.")

    def check(self, actual: str, expected: str) -> bool:
        return self.judge(actual, expected)[0]


@dataclass(frozen=True)
class JudgeSays:
    """What a judge's run means: passed (None: no verdict, a judge error) and its message."""

    passed: bool | None
    message: str

    @property
    def judge_error(self) -> bool:
        return self.passed is None


def _last_line(*texts: str) -> str:
    for text in texts:
        lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
        if lines:
            return lines[-1][:_MESSAGE_CHARS]
    return ""


def read_judge_exit(what: str, status: str, exit_code: int | None, signal: int | None,
                    stdout: str = "", stderr: str = "") -> JudgeSays:
    """A judge's run read by testlib's exit codes (`what`: "checker" or "interactor").

    `status` is how the judge's own process ended (OK, RUNTIME_ERROR, TIMEOUT, ...):
    anything but a clean exit with 0, 1, 2 or 7 is a judge error."""
    said = _last_line(stderr, stdout)
    if status == "OK" and exit_code == 0:
        return JudgeSays(True, "")
    if status in ("OK", "RUNTIME_ERROR") and signal is None:
        if exit_code == 1:
            return JudgeSays(False, f"wrong answer ({what}): {said}".rstrip(": "))
        if exit_code == 2:
            return JudgeSays(False, f"presentation error ({what}): {said}".rstrip(": "))
        if exit_code == 7:
            return JudgeSays(False, f"partial ({what}): {said}".rstrip(": "))
        if exit_code == 3:
            return JudgeSays(None, f"judge error: the {what} failed: {said}".rstrip(": "))
    how = (f"was killed by signal {signal}" if signal is not None else
           f"ended in {status}" if status not in ("OK", "RUNTIME_ERROR") else f"exited with {exit_code}")
    return JudgeSays(None, f"judge error: the {what} {how}{': ' + said if said else ''}")
