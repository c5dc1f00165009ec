"""Finding the tester's environment and the candidates' standard library (`code_contests_env`)."""

from __future__ import annotations

import re
import stat
import sys
from pathlib import Path

import pytest

from acodium.errors import UserError
from acodium.execute import code_contests
from acodium.execute.code_contests import CodeContestsBackend
from acodium.execute.code_contests_env import (
    REPO_VENV,
    default_venv,
    installed_tester_version,
    stdlib_folders,
    venv_python,
)

REPO = Path(__file__).resolve().parents[1]


def script(path: Path, text: str) -> str:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def fake_venv(root: Path, *dist_infos: str) -> Path:
    (root / "bin").mkdir(parents=True)
    script(root / "bin" / "python", "#!/bin/sh\nexit 0\n")
    for name in dist_infos:
        (root / "lib" / "python3.9" / "site-packages" / name).mkdir(parents=True)
    return root


def test_the_environment_is_the_variable_else_the_repositorys(monkeypatch, tmp_path):
    assert REPO_VENV == REPO / ".cc-venv"
    monkeypatch.delenv("ACODIUM_CC_VENV", raising=False)
    assert default_venv() == REPO_VENV
    monkeypatch.setenv("ACODIUM_CC_VENV", str(tmp_path / "mine"))
    assert default_venv() == tmp_path / "mine"  # read when asked, not at import
    monkeypatch.setenv("ACODIUM_CC_VENV", "")
    assert default_venv() == REPO_VENV


def test_a_missing_environment_says_how_to_build_it(tmp_path):
    with pytest.raises(UserError) as caught:
        venv_python(tmp_path / "absent")
    assert str(caught.value) == (f"DeepMind's code_contests tester needs its Python 3.9 environment at "
                                 f"{tmp_path / 'absent'}: run `gencode exec setup_code_contests` (`make cc-env` in a "
                                 f"checkout), or pass venv= / set ACODIUM_CC_VENV.")
    assert venv_python(fake_venv(tmp_path / "venv")) == tmp_path / "venv" / "bin" / "python"


def test_the_tester_version_comes_from_the_installed_package(tmp_path):
    assert installed_tester_version(fake_venv(tmp_path / "a", "code_contests_tester-0.1.6.dist-info")) == "0.1.6"
    assert installed_tester_version(fake_venv(tmp_path / "b", "numpy-1.26.dist-info")) == "unknown"
    assert installed_tester_version(tmp_path / "nothing") == "unknown"


@pytest.mark.code_contests
def test_the_real_environment_holds_tester_0_1_6():
    venv = default_venv()
    if not venv.exists():
        pytest.skip(f"no tester environment at {venv} (make cc-env)")
    assert installed_tester_version(venv) == "0.1.6"
    assert venv_python(venv).exists()


def test_the_standard_library_of_the_candidates_python():
    assert stdlib_folders("/usr/bin/python3.11") == ["/usr/lib/python3.11"]  # stdlib = platstdlib: once
    assert stdlib_folders(sys.executable)[0].endswith("python3.11")


def test_an_interpreter_that_cannot_say_gives_no_folders(tmp_path):
    assert stdlib_folders(script(tmp_path / "broken", "#!/bin/sh\nexit 1\n")) == []
    elsewhere = script(tmp_path / "liar", '#!/bin/sh\necho \'["/no/such/lib", "", "/usr/lib"]\'\n')
    assert stdlib_folders(elsewhere) == ["/usr/lib"]  # only folders that exist


def test_the_backend_says_so_when_it_cannot_find_the_library(tmp_path):
    broken = script(tmp_path / "broken", "#!/bin/sh\nexit 1\n")
    backend = CodeContestsBackend(venv=fake_venv(tmp_path / "venv"), python=broken)
    with pytest.raises(UserError, match=rf"^Could not find the standard library of {broken}: pass python_lib=\[\.\.\.\]\.$"):
        backend.python_lib()
    given = CodeContestsBackend(venv=tmp_path / "venv", python=broken, python_lib=["/usr/lib/python3.11"])
    assert given.python_lib() == ["/usr/lib/python3.11"]  # given: never asked


def test_the_version_changes_with_any_of_the_backends_code(tmp_path, monkeypatch):
    """Cached verdicts are keyed by the version: editing any host-side module of the backend,
    or its side process's code, must make it a new version."""
    venv = fake_venv(tmp_path / "venv", "code_contests_tester-0.1.6.dist-info")
    version = CodeContestsBackend(venv=venv).version()
    assert re.fullmatch(r"1/[0-9a-f]{12}/tester0\.1\.6/py3\.11\.\d+", version), version
    assert len(code_contests.SOURCES) == len(set(code_contests.SOURCES)) == 4
    for i, source in enumerate(code_contests.SOURCES):
        edited = tmp_path / f"edited_{i}.py"
        edited.write_text(source.read_text() + "\n# edited\n")
        monkeypatch.setattr(code_contests, "SOURCES", code_contests.SOURCES[:i] + (edited,) + code_contests.SOURCES[i + 1:])
        assert CodeContestsBackend(venv=venv).version() != version, source.name
        monkeypatch.undo()
    assert CodeContestsBackend(venv=venv).version() == version
