"""The interpreters and compilers candidate programs run under, found on this machine.

The local sandbox runs Python 3 in its own worker (a pristine CPython that forks per
test), C++ with /usr/bin/g++, Java with a JDK's javac and java, and Python 2 (or a
Python 3 that the worker cannot be, such as PyPy) as an interpreter exec'd per test
on the source. This module finds them, once per process, and says what each is (its
identity enters the execution cache's key) and which host folders the sandbox must
bind read-only for it (its prefix, where that is not under /usr).

Where each comes from:
- Python 3, the worker's own: /usr/bin/python3.11 if present, else the first CPython
  >= 3.10 found among the system's python3 (said once); `--python3 PATH_OR_NAME` /
  `$ACODIUM_PYTHON3` names another. A CPython >= 3.10 with ctypes becomes the worker
  itself (tests stay forks of a warm interpreter); any other Python 3 (PyPy, an older
  CPython) is exec'd per test on the source.
- Python 2: `$ACODIUM_PYTHON2`, else python2.7, python2 or pypy on PATH, else pyenv's
  versions/2.7*/bin/python2.7 (under $PYENV_ROOT or ~/.pyenv).
- Java: `javac` on PATH (its JDK's `java` beside it).
"""

from __future__ import annotations

import functools
import glob
import json
import os
import shutil
import stat
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError

DEFAULT_PYTHON = "/usr/bin/python3.11"
# What the sandbox shows of the host whatever the runtimes (local_sandbox.bwrap_command).
VISIBLE = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# The oldest CPython the worker runs under (os.splice, sys.orig_argv).
WORKER_MIN = (3, 10)

# Printed as JSON by any Python 2.6+ or 3: what the interpreter is and where it lives.
PROBE = (
    "import sys, json, platform\n"
    "try:\n    import ctypes; has_ctypes = True\nexcept Exception:\n    has_ctypes = False\n"
    "pypy = getattr(sys, 'pypy_version_info', None)\n"
    "print(json.dumps({'implementation': platform.python_implementation().lower(),\n"
    "    'version': '.'.join(map(str, sys.version_info[:3])),\n"
    "    'pypy': '.'.join(map(str, pypy[:3])) if pypy else None,\n"
    "    'major': sys.version_info[0], 'minor': sys.version_info[1], 'ctypes': has_ctypes,\n"
    "    'executable': sys.executable,\n"
    "    'prefixes': [sys.prefix, sys.exec_prefix, getattr(sys, 'base_prefix', sys.prefix),\n"
    "                 getattr(sys, 'base_exec_prefix', sys.exec_prefix)]}))\n")

PYTHON2_MISSING = ("No Python 2 interpreter was found for Python 2 programs: install one (for instance "
                   "`pyenv install 2.7.18`) or name it with ACODIUM_PYTHON2=/path/to/python2.7.")
JAVA_MISSING = ("No Java compiler (javac) was found for Java programs: install a JDK (for instance "
                "`apt-get install default-jdk-headless`) so that javac is on PATH.")
CPP_MISSING = "No C++ compiler was found for C++ programs: install g++ (/usr/bin/g++)."


class RuntimeChoiceWarning(UserWarning):
    """Which interpreter runs Python 3 candidates, when it is not /usr/bin/python3.11."""


@dataclass(frozen=True)
class Runtime:
    """One language's runtime as the sandbox sees it (every path the same as on the host).

    `executable`: the interpreter, or the JVM (`compiler`: javac); `binds`: host folders
    bound read-only at the same path; `warm`: a Python 3 the worker itself runs under
    (tests are forks of it), else one exec'd per test.
    """

    language: str
    implementation: str  # cpython, pypy, openjdk
    version: str
    executable: str
    binds: tuple[str, ...] = ()
    compiler: str | None = None
    warm: bool = False

    @property
    def identity(self) -> str:
        """What changes a run when it changes: enters the backend's version (the cache key)."""
        return f"{self.implementation}-{self.version}@{self.executable}" + ("+fork" if self.warm else "")

    def describe(self) -> str:
        return f"{self.implementation} {self.version} ({self.executable})".replace("  ", " ")


def outside_sandbox(paths) -> tuple[str, ...]:
    """The folders among `paths` the sandbox does not already show, each once, none inside another."""
    found: list[str] = []
    for path in sorted({os.path.realpath(p) for p in paths if p}, key=len):
        if any(path == top or path.startswith(top + "/") for top in (*VISIBLE, *found)):
            continue
        if os.path.isdir(path):
            found.append(path)
    return tuple(found)


@functools.lru_cache(maxsize=None)
def probe(executable: str) -> dict | None:
    """What a Python interpreter says about itself (PROBE), or None if it does not answer.

    Run on the host with the caller's PATH, HOME and PYENV_ROOT only, so that a pyenv shim
    can pick its version; a shim that cannot (pyenv: command not found) is None.
    """
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYENV_ROOT", "PYENV_VERSION")}
    try:
        done = subprocess.run([executable, "-c", PROBE], capture_output=True, text=True, timeout=30,
                              env=env, stdin=subprocess.DEVNULL)
        info = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else None
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
        return None
    if not isinstance(info, dict) or not isinstance(info.get("executable"), str) or not info["executable"]:
        return None
    return info


def _python_runtime(language: str, info: dict, warm: bool) -> Runtime:
    executable = info["executable"]
    version = info["version"] + (f"/pypy{info['pypy']}" if info.get("pypy") else "")
    binds = outside_sandbox([*info.get("prefixes", []), os.path.dirname(executable),
                             os.path.dirname(os.path.realpath(executable))])
    return Runtime(language, info["implementation"], version, executable, binds, warm=warm)


def _resolve(name_or_path: str) -> str | None:
    if os.sep in name_or_path:
        return name_or_path if os.path.exists(name_or_path) else None
    return shutil.which(name_or_path)


def _worker_capable(info: dict | None) -> bool:
    return bool(info) and info["implementation"] == "cpython" and info.get("ctypes") and \
        (info["major"], info["minor"]) >= WORKER_MIN


_SAID: set[str] = set()


def _say_once(message: str) -> None:
    if message not in _SAID:
        _SAID.add(message)
        warnings.warn(message, RuntimeChoiceWarning, stacklevel=4)


@functools.lru_cache(maxsize=None)
def default_python3() -> str:
    """The worker's interpreter when none is named: /usr/bin/python3.11 if present, else the
    first CPython >= 3.10 (with ctypes) among the system's python3, said once."""
    if os.path.exists(DEFAULT_PYTHON):
        return DEFAULT_PYTHON
    names = ["/usr/bin/python3", *sorted(glob.glob("/usr/bin/python3.[0-9]*"), reverse=True),
             "/usr/local/bin/python3", shutil.which("python3") or ""]
    for name in dict.fromkeys(n for n in names if n and os.path.exists(n)):
        info = probe(name)
        if _worker_capable(info):
            _say_once(f"Python 3 candidates run under {name} (CPython {info['version']}): "
                      f"{DEFAULT_PYTHON} is not here (choose another with --python3 or ACODIUM_PYTHON3).")
            return name
    raise UserError(f"No CPython 3.10 or later was found to run the sandbox's worker ({DEFAULT_PYTHON} is not "
                    "here): install python3 (3.10 or later), or name one with --python3 / ACODIUM_PYTHON3.")


@functools.lru_cache(maxsize=None)
def python3_runtime(choice: str) -> Runtime:
    """The runtime of Python 3 candidates for `--python3 choice` (a path or a name on PATH).

    A CPython >= 3.10 with ctypes is warm (the worker runs under it and forks per test);
    any other Python 3, PyPy included, is exec'd per test on the source.
    """
    path = _resolve(choice)
    if path is None:
        raise UserError(f"The Python 3 interpreter {choice!r} (--python3 / ACODIUM_PYTHON3) was not found: "
                        "give a path or a name on PATH, such as pypy3.")
    info = probe(path)
    if info is None or info.get("major") != 3:
        what = "did not answer as a Python interpreter" if info is None else f"is Python {info['version']}"
        raise UserError(f"The Python 3 interpreter {choice!r} (--python3 / ACODIUM_PYTHON3) {what}: "
                        "give a Python 3, such as pypy3 or python3.12.")
    return _python_runtime("python3", info, warm=_worker_capable(info))


@functools.lru_cache(maxsize=None)
def worker_runtime(python: str) -> Runtime:
    """The worker's own interpreter as a runtime: its binds and version (where it answers;
    one that does not is left to the worker's start, which says what is wrong)."""
    if not outside_sandbox([os.path.dirname(python), os.path.dirname(os.path.realpath(python))]):
        return Runtime("python3", "cpython", "", python, warm=True)  # (its version: LocalBackend.version)
    info = probe(python) if os.path.exists(python) else None
    if info is None:
        return Runtime("python3", "cpython", "unknown", python, outside_sandbox([os.path.dirname(python)]),
                       warm=True)
    return _python_runtime("python3", info, warm=True)


def _python2_candidates() -> list[str]:
    names = [shutil.which(n) for n in ("python2.7", "python2", "pypy")]
    root = os.environ.get("PYENV_ROOT") or os.path.join(os.path.expanduser("~"), ".pyenv")
    names += sorted(glob.glob(os.path.join(root, "versions", "2.7*", "bin", "python2.7")), reverse=True)
    return [n for n in dict.fromkeys(names) if n]


def python2_runtime() -> Runtime | None:
    """Python 2: $ACODIUM_PYTHON2 (which must work), else the first that answers among
    python2.7, python2 and pypy on PATH and pyenv's 2.7 versions; None if none does."""
    return _python2_runtime(os.environ.get("ACODIUM_PYTHON2", ""), os.environ.get("PATH", ""),
                            os.environ.get("PYENV_ROOT", ""), os.path.expanduser("~"))


@functools.lru_cache(maxsize=None)
def _python2_runtime(named: str, _path: str, _pyenv_root: str, _home: str) -> Runtime | None:
    """python2_runtime, once per value of what it reads from the environment."""
    if named:
        path = _resolve(named)
        info = probe(path) if path else None
        if info is None or info.get("major") != 2:
            raise UserError(f"ACODIUM_PYTHON2={named} is not a working Python 2 interpreter: "
                            "name a python2.7 (or unset it to search PATH and pyenv).")
        return _python_runtime("python2", info, warm=False)
    for candidate in _python2_candidates():
        info = probe(candidate)
        if info is not None and info.get("major") == 2:
            return _python_runtime("python2", info, warm=False)
    return None


def _java_config_folders(home: Path) -> list[str]:
    """Folders outside the JDK its configuration links point into (Debian: /etc/java-17-openjdk)."""
    found = []
    for link in [home / "lib" / "jvm.cfg", *home.glob("conf/*"), *home.glob("conf/*/*")]:
        if link.is_symlink():
            target = Path(os.path.realpath(link))
            if home not in target.parents:
                top = Path(*target.parts[:3]) if target.parts[1:2] == ("etc",) else target.parent
                found.append(str(top))
    return found


def java_runtime() -> Runtime | None:
    """The JDK whose javac is on PATH (its java beside it), or None."""
    return _java_runtime(shutil.which("javac") or "")


@functools.lru_cache(maxsize=None)
def _java_runtime(javac: str) -> Runtime | None:
    if not javac:
        return None
    compiler = Path(os.path.realpath(javac))
    home = compiler.parent.parent
    java = home / "bin" / "java"
    if not java.exists():
        return None
    version, vendor = "unknown", "openjdk"
    try:
        release = dict(line.split("=", 1) for line in (home / "release").read_text().splitlines() if "=" in line)
        version = release.get("JAVA_RUNTIME_VERSION", release.get("JAVA_VERSION", version)).strip('"')
    except OSError:
        pass
    binds = outside_sandbox([str(home), *_java_config_folders(home)])
    return Runtime("java", vendor, version, str(java), binds, compiler=str(compiler))


def cpp_compiler() -> str | None:
    """The C++ compiler the worker runs (a fixed path: it execs it inside the sandbox)."""
    return "/usr/bin/g++" if os.path.exists("/usr/bin/g++") else None


def reachable_by_others(path: str) -> bool:
    """Whether a user with no rights on it (the sandbox's `nobody`) can reach and read `path`."""
    parts = Path(path).parts
    for i in range(1, len(parts) + 1):
        try:
            mode = os.stat(os.path.join(*parts[:i])).st_mode
        except OSError:
            return False
        if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
            return False
    try:
        return bool(os.stat(path).st_mode & stat.S_IROTH)
    except OSError:
        return False
