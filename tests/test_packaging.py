"""Packaging: the slim core works without the extras, every import is declared, `gencode --version`.

The slim core (`pip install acodium`) holds data, generation, execution, metrics
and the CLI; notebooks and sweeps need `[notebooks]`, the code_contests backend's
side environment comes from `gencode exec setup_code_contests` (`[cc]` brings uv
for a Python 3.9), Ray from `[ray]`. These tests run the core with the extras'
packages made unimportable, and check the dependency lists against the imports the
package actually makes.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import acodium
from acodium.errors import UserError
from acodium.execute import code_contests_setup
from acodium.execute.code_contests_env import REPO_VENV, default_venv

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())

# Import name -> distribution name, where they differ.
DISTRIBUTION_OF = {"yaml": "pyyaml", "IPython": "ipython", "sklearn": "scikit-learn"}
# What the extras bring, by import name: none of it may be needed by the core.
EXTRA_MODULES = ["papermill", "nbval", "nbformat", "nbclient", "jupyter_client", "jupyterlab", "ipywidgets",
                 "ipykernel", "IPython", "ray", "pytest", "hypothesis"]


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0].lower() for r in requirements}


def _third_party_imports() -> dict[str, set[str]]:
    """Every top-level module the package imports (at module level or inside functions), with the files."""
    found: dict[str, set[str]] = {}
    for path in (REPO / "acodium").rglob("*.py"):
        if path.name in ("_worker.py", "_cc_worker.py"):  # run by other interpreters: the sandbox's bare python3,
            continue                                    # the tester's Python 3.9 (code_contests_tester)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "acodium":
                    found.setdefault(top, set()).add(str(path.relative_to(REPO)))
    return found


def test_every_import_of_the_package_is_a_declared_dependency():
    core = _requirement_names(PYPROJECT["project"]["dependencies"])
    extras = {name: _requirement_names(reqs) for name, reqs in PYPROJECT["project"]["optional-dependencies"].items()}
    declared = core.union(*extras.values())
    imports = _third_party_imports()
    assert {"pandas", "numpy", "click", "openai", "datasets", "tqdm", "yaml"} <= set(imports)  # the scan sees them
    missing = {top: files for top, files in imports.items()
               if DISTRIBUTION_OF.get(top, top).lower().replace("_", "-") not in declared}
    assert not missing, f"imported but declared nowhere in pyproject.toml: {missing}"


def test_the_core_declares_none_of_the_extras_packages():
    core = _requirement_names(PYPROJECT["project"]["dependencies"])
    assert not core & {"papermill", "nbval", "jupyterlab", "ipywidgets", "ipykernel", "ray", "pytest"}
    assert set(PYPROJECT["project"]["optional-dependencies"]) == {"notebooks", "cc", "ray", "dev"}
    assert "acodium[notebooks]" in PYPROJECT["project"]["optional-dependencies"]["dev"]  # make install runs notebooks


def test_the_license_is_an_spdx_expression_and_the_version_has_one_source():
    assert PYPROJECT["project"]["license"] == "Apache-2.0"  # a string: no setuptools deprecation warning
    assert "version" in PYPROJECT["project"]["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "acodium.__version__"}
    assert importlib.metadata.version("acodium") == acodium.__version__


def test_gencode_version():
    done = subprocess.run([sys.executable, "-m", "acodium", "--version"], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"gencode (acodium) {acodium.__version__}"


# A child interpreter in which the extras' packages cannot be imported, as after `pip install acodium`.
BLOCKER = """
import importlib.abc, sys
BLOCKED = set({blocked!r})
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Blocker())
for name in list(sys.modules):
    if name.split('.')[0] in BLOCKED:
        del sys.modules[name]
"""


def _slim(code: str, *args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "ACODIUM_CACHE": str(tmp_path / "cache"), "ACODIUM_DATA": str(tmp_path / "data")}
    script = BLOCKER.format(blocked=EXTRA_MODULES) + code
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=300)


def test_every_module_of_the_core_imports_without_the_extras(tmp_path):
    code = """
import importlib, json, pkgutil, acodium
failed = {}
for info in pkgutil.walk_packages(acodium.__path__, 'acodium.'):
    if info.name.endswith(('._worker', '._cc_worker', '.__main__')):
        continue
    try:
        importlib.import_module(info.name)
    except Exception as e:
        failed[info.name] = repr(e)
print(json.dumps(failed))
"""
    done = _slim(code, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {}


def test_the_core_cli_judges_a_pool_without_the_extras_and_a_sweep_says_what_to_install(tmp_path):
    run_cli = "import sys; from acodium.cli import main; main(sys.argv[1:])"
    done = _slim(run_cli, "gen", "solve_and_evaluate_set", "--dataset_name", "starter", "--source", "human",
                 "--k", "2", "--out", str(tmp_path / "run"), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert re.search(r"pass@k\s+pass@1\s+\d\.\d{4}", done.stdout), done.stdout
    assert (tmp_path / "run" / "summary.json").exists()

    done = _slim(run_cli, "sweep", str(REPO / "params" / "tiny.yaml"), tmp_path=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "gencode: Sweeps run notebooks through papermill, which is not installed (papermill is missing): "
        "pip install 'acodium[notebooks]'."]


def test_the_tester_environment_is_found_in_a_checkout_else_in_the_users_data_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("ACODIUM_CC_VENV", raising=False)
    assert default_venv() == REPO_VENV  # this checkout has a pyproject.toml beside .cc-venv
    monkeypatch.setattr("acodium.execute.code_contests_env.REPO_VENV", tmp_path / "site-packages" / ".cc-venv")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert default_venv() == tmp_path / "share" / "acodium" / "cc-venv"  # an installed acodium: no checkout


def test_setting_up_the_tester_refuses_a_python_that_is_not_39_in_one_sentence(tmp_path, monkeypatch):
    with pytest.raises(UserError, match=r"is not a CPython 3\.9 that runs"):
        code_contests_setup.build_tester_env(tmp_path / "venv", python39=sys.executable, log=lambda line: None)
    assert not (tmp_path / "venv").exists()  # nothing half-built
    monkeypatch.setenv("PYTHON39", sys.executable)
    with pytest.raises(UserError, match=r"^PYTHON39=.* is not a CPython 3\.9 that runs\.$"):
        code_contests_setup.find_python39()


def test_setting_up_the_tester_over_an_installed_environment_does_nothing():
    venv = default_venv()
    if not code_contests_setup.tester_installed(venv):
        pytest.skip(f"no code_contests environment at {venv} (make cc-env)")
    said = []
    assert code_contests_setup.build_tester_env(venv, log=said.append) == venv / "bin" / "python"
    assert said == [f"code_contests tester: already installed in {venv}"]
    assert code_contests_setup.is_python39(str(venv / "bin" / "python"))
