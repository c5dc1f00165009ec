"""`gencode exec run PROGRAM_FILE`: run one program on one input, for scripting and debugging.

Exit status: 0 whenever the program was run, whatever its verdict (read `status` and
`passed`, or the summary line on stderr); 2 for bad input (a missing file, an unknown
language, conflicting options) or a sandbox that cannot be started.
"""

from __future__ import annotations

import json as jsonlib
import sys
from pathlib import Path

import click

from ..errors import UserError
from ..languages import LANGUAGE_OF_SUFFIX, RUNNABLE_LANGUAGES
from .common import (CHECKER_HELP, CheckerName, backend_option, group as make_group, memory_mib, not_utf8, option,
                     python3_option, slow_cap_option, test_seconds,
                     testlib_dir_option)


@make_group(help="Run candidate programs in the sandbox.")
def group():
    pass


def _text(value: str | None, path: Path | None, what: str) -> str | None:
    if value is not None and path is not None:
        raise UserError(f"Give either --{what} or --{what}_file, not both.")
    if path is not None:
        try:
            return path.read_text(encoding="utf-8")
        except OSError as e:
            raise UserError(f"Cannot read the {what} file {path}: {e.strerror}.") from e
        except UnicodeDecodeError as e:  # programs are given and judged as text
            raise not_utf8(f"{what} file", path, e) from None
    return value


@group.command("run", help=(
    "Run PROGRAM_FILE on one input and report status, output, time and memory. "
    "Exits 0 whenever the program ran (whatever its verdict), 2 on bad input."))
@click.argument("program_file", type=click.Path(dir_okay=False, path_type=Path))
@option("language", type=click.Choice(RUNNABLE_LANGUAGES), default=None,
        help="Language of the program [default: from the suffix: .py python3, .cpp/.cc/.cxx/.c++ cpp, .java java; "
             "python2 only when given].")
@option("input", default=None, help="The program's standard input.")
@option("input_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help="File holding the program's standard input.")
@option("expected", default=None, help="Expected output (judged by --checker).")
@option("expected_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help="File holding the expected output.")
@option("time_limit", type=test_seconds, default=10.0, show_default=True,
        help="Time limit in seconds (CPU time; a program idle past 5x the limit + 1 s is stopped).")
@option("memory_mb", type=memory_mib, default=256, show_default=True,
        help="Memory limit in MiB.")
@option("checker", type=CheckerName(), default="tokens", show_default=True,
        help=CHECKER_HELP.replace(", overriding each problem's own", " against the expected one"))
@option("interactor", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help="Interactor program (FILE.cpp or FILE.py, testlib's protocol: interactor INPUT OUTPUT) talking with "
             "the program; its exit code is the verdict (then --checker, if a program, judges its output file).")
@testlib_dir_option
@slow_cap_option
@backend_option
@python3_option
@option("no_sandbox", is_flag=True,
        help="Run the program on the host without isolation (local backend; warns). Only for trusted code.")
@option("json", is_flag=True,
        help="Print one JSON object: status, passed, checker, checker_message, stdout, stderr, exit_code, "
             "signal, time_s, cpu_s, memory_mb.")
def run(program_file, language, input, input_file, expected, expected_file, time_limit,  # noqa: A002
        memory_mb, checker, interactor, testlib_dir, slow_cap, backend, python3, no_sandbox, json):
    from ..execute import Execution, Limits, Program, Status, get_backend, run_program
    from ..execute.checkers import parse_checker
    from ..execute.judges import ProgramChecker, judge_program

    if not program_file.exists():
        raise UserError(f"The program file {program_file} does not exist.")
    if language is None:
        language = LANGUAGE_OF_SUFFIX.get(program_file.suffix.lower())
        if language is None:
            raise UserError(f"Cannot tell the language of {program_file.name}: pass "
                            f"{' or '.join('--language ' + name for name in RUNNABLE_LANGUAGES)}.")
        if language not in RUNNABLE_LANGUAGES:
            raise UserError(f"{program_file.name} is a {language} program: the sandbox runs "
                            f"{' and '.join(RUNNABLE_LANGUAGES)} only.")
    try:
        code = program_file.read_text(encoding="utf-8")
    except OSError as e:
        raise UserError(f"Cannot read the program file {program_file}: {e.strerror}.") from e
    except UnicodeDecodeError as e:
        raise not_utf8("program file", program_file, e) from None
    stdin = _text(input, input_file, "input") or ""
    expected_text = _text(expected, expected_file, "expected")
    if no_sandbox and backend != "local":
        raise UserError("--no_sandbox applies to the local backend only.")
    judge = parse_checker(checker, testlib_dir)
    if interactor is not None:
        if not interactor.exists():
            raise UserError(f"The interactor file {interactor} does not exist.")
        judge = ProgramChecker(checker=judge.checker if isinstance(judge, ProgramChecker) else None,
                               interactor=judge_program(interactor, "interactor", testlib_dir))
        expected_text = expected_text if expected_text is not None else ""  # the interactor judges
    Execution(backend=backend, python3=python3)  # the --python3 sentences, before any work
    options = {"python3": python3} if python3 is not None else {}
    be = get_backend(backend, sandbox=False, **options) if no_sandbox else get_backend(backend, **options)
    why = be.missing_runtime(language)
    if why is not None:
        raise UserError(why)
    limits = Limits(time_s=time_limit, memory_bytes=memory_mb * 1024 * 1024, slow_cap=slow_cap)
    result = run_program(Program(language, code), [stdin],
                         [expected_text] if expected_text is not None else None,
                         limits, backend=be, checker=judge)[0]
    if result.status == Status.JUDGE_ERROR:  # the judge's fault, not the program's: bad input here
        message = result.checker_message.removeprefix("judge error: ")
        raise UserError(message[:1].upper() + message[1:] + ("" if message.endswith(".") else "."))
    memory_mb_used = round(result.memory_bytes / 2**20, 3) if result.memory_bytes is not None else None
    if json:
        click.echo(jsonlib.dumps({
            "status": result.status.value, "passed": result.passed, "checker": judge.spec if interactor is not None or isinstance(judge, ProgramChecker) else checker,
            "checker_message": result.checker_message, "stdout": result.stdout,
            "stderr": result.stderr, "exit_code": result.exit_code, "signal": result.signal,
            "time_s": round(result.time_s, 6), "cpu_s": round(result.cpu_s, 6),
            "memory_mb": memory_mb_used, "program_hash": result.program_hash,
            "backend": backend,
        }))
        return
    sys.stdout.write(result.stdout)
    sys.stdout.flush()
    if result.stderr:
        sys.stderr.write(result.stderr if result.stderr.endswith("\n") else result.stderr + "\n")
    summary = (f"status={result.status.value} passed={result.passed} exit_code={result.exit_code}"
               f" time={result.time_s:.3f}s cpu={result.cpu_s:.3f}s"
               f" memory={'unknown' if memory_mb_used is None else f'{memory_mb_used}MiB'}")
    if result.signal is not None:
        summary += f" signal={result.signal}"
    if result.checker_message:
        summary += f" checker={checker}: {result.checker_message}"
    click.echo(summary, err=True)


@group.command("setup_code_contests", help=(
    "Build the Python 3.9 environment of DeepMind's code_contests tester (the `--backend code_contests` "
    "side process): finds a CPython 3.9 ($PYTHON39, PATH, pyenv, uv; uv installs one where none is found) "
    "and pip-installs code-contests-tester into VENV. Does nothing when VENV already has it."))
@option("venv", type=click.Path(file_okay=False, path_type=Path), default=None,
        help="Where to build it [default: $ACODIUM_CC_VENV, a checkout's .cc-venv, else "
             "~/.local/share/acodium/cc-venv]; the backend looks there.")
@option("python39", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help="The CPython 3.9 to build it from [default: found as above].")
def setup_code_contests(venv, python39):
    from ..execute.code_contests_env import default_venv
    from ..execute.code_contests_setup import build_tester_env

    venv = venv if venv is not None else default_venv()
    python = build_tester_env(venv, str(python39) if python39 is not None else None,
                              log=lambda line: click.echo(line, err=True))
    click.echo(str(python))
