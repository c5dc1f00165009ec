"""Building the Python 3.9 environment of DeepMind's code_contests tester.

`code-contests-tester` ships a compiled module for CPython 3.9 only, so the
backend drives it from a side environment (code_contests_env.py finds it). This
module makes that environment, for `make cc-env` and for `gencode exec
setup_code_contests` after `pip install acodium[cc]`: it finds a CPython 3.9
($PYTHON39, PATH, pyenv, uv), asks uv for one where none is found, and installs
the tester into a fresh venv.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

from ..errors import UserError

TESTER_PACKAGE = "code-contests-tester"
NO_PYTHON39 = ("No Python 3.9 found (DeepMind's code_contests tester loads only in CPython 3.9): install one with "
               "'uv python install 3.9' (pip install 'acodium[cc]' brings uv) or 'pyenv install 3.9', "
               "or set PYTHON39=/path/to/python3.9.")


def is_python39(python: str) -> bool:
    """Whether `python` runs and is CPython 3.9."""
    try:
        done = subprocess.run([python, "-c", "import sys, platform; sys.exit(not (sys.version_info[:2] == (3, 9) "
                               "and platform.python_implementation() == 'CPython'))"],
                              capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _uv() -> str | None:
    return shutil.which("uv")


def python39_candidates() -> list[str]:
    """Where a Python 3.9 may be, in order: $PYTHON39, PATH, pyenv's versions, uv's managed Pythons."""
    found = []
    if os.environ.get("PYTHON39"):
        found.append(os.environ["PYTHON39"])
    if shutil.which("python3.9"):
        found.append(shutil.which("python3.9"))
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    found += sorted(glob.glob(os.path.join(pyenv_root, "versions", "3.9.*", "bin", "python3.9")), reverse=True)
    uv = _uv()
    if uv:
        done = subprocess.run([uv, "python", "find", "3.9"], capture_output=True, text=True)
        if done.returncode == 0 and done.stdout.strip():
            found.append(done.stdout.strip())
    return list(dict.fromkeys(found))


def find_python39(install: bool = False) -> str:
    """The first CPython 3.9 found; with `install`, uv installs one where none is (a UserError if it cannot)."""
    named = os.environ.get("PYTHON39")
    if named:  # the user's choice is taken or refused, never passed over
        if is_python39(named):
            return named
        raise UserError(f"PYTHON39={named} is not a CPython 3.9 that runs.")
    for python in python39_candidates():
        if is_python39(python):
            return python
    uv = _uv()
    if install and uv:
        done = subprocess.run([uv, "python", "install", "3.9"], capture_output=True, text=True)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["no reason given"])[-1]
            raise UserError(f"uv could not install Python 3.9 ({reason}). {NO_PYTHON39}")
        return find_python39(install=False)
    raise UserError(NO_PYTHON39)


def tester_installed(venv: Path) -> bool:
    """Whether `venv` holds a Python 3.9 with the tester importable."""
    python = venv / "bin" / "python"
    if not python.exists():
        return False
    done = subprocess.run([str(python), "-c", "import code_contests_tester"], capture_output=True)
    return done.returncode == 0


def build_tester_env(venv: Path, python39: str | None = None, log=print) -> Path:
    """Make `venv` a Python 3.9 environment with the tester installed, unless it already is; its python.

    A half-built environment (the install interrupted) is rebuilt from scratch.
    """
    venv = Path(venv)
    if tester_installed(venv):
        log(f"code_contests tester: already installed in {venv}")
        return venv / "bin" / "python"
    if python39 is not None and not is_python39(python39):
        raise UserError(f"{python39} is not a CPython 3.9 that runs.")
    python39 = python39 or find_python39(install=True)
    log(f"code_contests tester: using {python39}, installing into {venv}")
    steps = [([python39, "-m", "venv", "--clear", str(venv)], "create the environment"),
             ([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", TESTER_PACKAGE], f"pip install {TESTER_PACKAGE}")]
    for command, what in steps:
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["no reason given"])[-1]
            raise UserError(f"Could not {what} in {venv}: {reason}.")
    if not tester_installed(venv):
        raise UserError(f"{TESTER_PACKAGE} installed into {venv} but does not import; see `{venv}/bin/python -c 'import code_contests_tester'`.")
    return venv / "bin" / "python"
