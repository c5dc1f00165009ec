"""Where DeepMind's tester and the candidates' Python are found, for the code_contests backend.

The tester's compiled module loads only in CPython 3.9, so it lives in its own
environment (`make cc-env` builds the repository's `.cc-venv`), while the programs it
judges run under /usr/bin/python3.11 with that interpreter's standard library mounted
in sandbox2. Finding them, and saying in one sentence what to do when they are
missing, is kept apart from the backend that drives the tester (code_contests.py).
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
from pathlib import Path

from ..errors import UserError

REPO_VENV = Path(__file__).resolve().parents[2] / ".cc-venv"


def default_venv() -> Path:
    """$ACODIUM_CC_VENV, else the checkout's `.cc-venv` when acodium runs from a source checkout
    (`make cc-env`), else `$XDG_DATA_HOME/acodium/cc-venv` (`gencode exec setup_code_contests`
    after `pip install acodium[cc]`); read when a backend is built."""
    if os.environ.get("ACODIUM_CC_VENV"):
        return Path(os.environ["ACODIUM_CC_VENV"])
    if (REPO_VENV.parent / "pyproject.toml").exists():
        return REPO_VENV
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "acodium" / "cc-venv"


def venv_python(venv: Path) -> Path:
    """The interpreter of the tester's environment `venv`; a UserError naming `make cc-env` if absent."""
    python = venv / "bin" / "python"
    if not python.exists():
        raise UserError(f"DeepMind's code_contests tester needs its Python 3.9 environment at {venv}: run `gencode exec setup_code_contests` (`make cc-env` in a checkout), or pass venv= / set ACODIUM_CC_VENV.")
    return python


def stdlib_folders(python: str) -> list[str]:
    """The existing folders of `python`'s standard library (stdlib, platstdlib), once each;
    empty if `python` cannot say."""
    out = subprocess.run(
        [python, "-I", "-c", "import sysconfig, json; print(json.dumps("
         "[sysconfig.get_path('stdlib'), sysconfig.get_path('platstdlib')]))"],
        capture_output=True, text=True, env={}, timeout=60)
    paths = json.loads(out.stdout) if out.returncode == 0 else []
    return list(dict.fromkeys(p for p in paths if p and os.path.isdir(p)))


def installed_tester_version(venv: Path) -> str:
    """The version of code-contests-tester installed in `venv` ("unknown" if none is)."""
    tester = "unknown"
    for meta in glob.glob(str(venv / "lib" / "python3*" / "site-packages" / "code_contests_tester-*.dist-info")):
        tester = Path(meta).name[len("code_contests_tester-"):-len(".dist-info")]
    return tester
