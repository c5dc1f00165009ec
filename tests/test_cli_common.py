"""The options every program-running command shares (`execution_options`) and the one
`Execution` they make (`execution_from_options`), on real runs of the starter problems."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from cli_runner import gencode_in_process as gencode
from click.testing import CliRunner

from acodium.cli import common
from acodium.cli.common import BackendName, execution_from_options, option, options
from acodium.errors import UserError
from acodium.execute import Execution
from acodium.execute.registry import BACKENDS
from acodium.execute.types import MAX_TIME_S

CALM = "acodium_A. Calm Stretch"

# Every command that runs programs, on the starter problems, as small as it goes.
RUNS = {
    "eval references": ["eval", "references", "--dataset", "starter", "--max_tests", "1", "--max_solutions", "1"],
    "eval pass_at_k": ["eval", "pass_at_k", "--dataset_name", "starter", "--max_tests", "1", "--bootstrap", "10"],
    "gen solve_problem": ["gen", "solve_problem", "--dataset_name", "starter", "--problem_name", CALM,
                          "--source", "human"],
    "gen solve_and_evaluate_set": ["gen", "solve_and_evaluate_set", "--dataset_name", "starter", "--source", "human",
                                   "--k", "1", "--max_tests", "1", "--bootstrap", "10"],
}


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """The cache and the data folder in tmp_path, run folders made there too."""
    monkeypatch.setenv("ACODIUM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ACODIUM_DATA", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)


def one_sentence(code: int, out: str, err: str) -> str:
    lines = err.strip().splitlines()
    assert code == 2 and out == "" and len(lines) == 1 and lines[0].startswith("gencode: "), (code, out, err)
    assert "Traceback" not in err and lines[0].endswith(".")
    return lines[0]


# ---- real runs ------------------------------------------------------------------------------

@pytest.mark.parametrize("command", RUNS)
def test_every_command_takes_the_four_options_and_no_cache_leaves_the_cache_alone(capsys, tmp_path, command):
    cache = tmp_path / "cache"
    code, _, err = gencode(capsys, *RUNS[command], "--out", "quiet", "--backend", "local", "--time_limit", "2.5",
                           "--workers", "1", "--no_cache", "--no_progress")
    assert code == 0, err
    assert not cache.exists()  # neither the executions nor (gen) the LLM replies were cached
    settings = json.loads((tmp_path / "quiet" / "settings.json").read_text())
    assert settings["backend"] == "local" and settings["time_limit_s"] == 2.5
    assert all(limit.startswith("2.5s/") for limit in settings["limits"])

    code, _, err = gencode(capsys, *RUNS[command], "--out", "cached", "--no_progress")
    assert code == 0, err
    assert (cache / "executions" / "executions.sqlite").is_file()  # the default: $ACODIUM_CACHE/executions
    settings = json.loads((tmp_path / "cached" / "settings.json").read_text())
    assert settings["time_limit_s"] is None and not any(limit.startswith("2.5s/") for limit in settings["limits"])


@pytest.mark.parametrize("command", RUNS)
@pytest.mark.parametrize("flag, value, message", [
    ("--workers", "0", "--workers must be a whole number of at least 1, not 0."),
    ("--workers", "two", "--workers must be a whole number of at least 1, not two."),
    ("--time_limit", "0", f"--time_limit must be a number of seconds above 0 and at most {MAX_TIME_S:g}, not 0."),
    ("--time_limit", f"{MAX_TIME_S + 1:g}",
     f"--time_limit must be a number of seconds above 0 and at most {MAX_TIME_S:g}, not {MAX_TIME_S + 1:g}."),
    ("--time-limit", "nan", f"--time_limit must be a number of seconds above 0 and at most {MAX_TIME_S:g}, not nan."),
])
def test_a_bad_workers_or_time_limit_is_one_sentence(capsys, tmp_path, command, flag, value, message):
    sentence = one_sentence(*gencode(capsys, *RUNS[command], "--out", "run", flag, value))
    assert sentence == f"gencode: {message}"
    assert not (tmp_path / "run").exists() and not (tmp_path / "cache").exists()


@pytest.mark.parametrize("command", [*RUNS, "exec run"])
def test_an_unknown_backend_is_one_sentence_naming_the_registered_ones(capsys, tmp_path, command):
    args = ["exec", "run", "prog.py"] if command == "exec run" else [*RUNS[command], "--out", "run"]
    (tmp_path / "prog.py").write_text("open('ran', 'w').write('yes')\n")
    sentence = one_sentence(*gencode(capsys, *args, "--backend", "docker"))
    assert sentence.startswith("gencode: Invalid value for '--backend': 'docker' is not one of ")
    assert all(f"'{name}'" in sentence for name in BACKENDS)
    assert not (tmp_path / "run").exists() and not (tmp_path / "ran").exists()


def test_the_help_shows_the_registered_backends(capsys):
    code, out, _ = gencode(capsys, "eval", "pass_at_k", "--help")
    assert code == 0 and f"--backend [{'|'.join(BACKENDS)}]" in out


# ---- the builder ------------------------------------------------------------------------------

def test_the_builder_makes_the_execution_the_options_describe(tmp_path):
    assert execution_from_options("local", 2.0, 3, False) == Execution(
        backend="local", cache_dir=tmp_path / "cache" / "executions", workers=3, time_s=2.0)
    assert execution_from_options("code_contests", None, None, True) == Execution(backend="code_contests")
    assert execution_from_options() == Execution(cache_dir=tmp_path / "cache" / "executions")
    assert not (tmp_path / "cache").exists()  # building makes no folder: the first cached run does


def test_the_builder_checks_the_cache_folder_unless_no_cache(tmp_path, monkeypatch):
    (tmp_path / "taken").write_text("a file, not a folder\n")
    monkeypatch.setenv("ACODIUM_CACHE", str(tmp_path / "taken" / "cache"))
    with pytest.raises(UserError, match=r"The cache folder .*taken/cache cannot be written: .*taken is not a folder"):
        execution_from_options("local", None, None, False)
    assert execution_from_options("local", None, None, True).cache_dir is None


def test_the_builder_refuses_settings_that_bypass_the_options(tmp_path):
    with pytest.raises(UserError, match="Unknown execution backend 'docker'"):
        execution_from_options("docker", None, None, True)
    with pytest.raises(UserError, match="workers must be a positive whole number"):
        execution_from_options("local", None, 0, True)


# ---- the types and the decorator --------------------------------------------------------------

def test_a_test_time_limit_goes_up_to_the_longest_limits_take():
    assert common.test_seconds.convert(f"{MAX_TIME_S:g}", None, None) == MAX_TIME_S
    assert common.test_seconds.convert("0.001", None, None) == 0.001
    for bad in ("0", "-1", f"{MAX_TIME_S * 1.0001:g}", "inf", ""):
        with pytest.raises(UserError, match=f"at most {MAX_TIME_S:g}"):
            common.test_seconds.convert(bad, None, None)


def test_the_backend_choice_is_the_registry():
    backend = BackendName()
    assert backend.choices == tuple(BACKENDS)
    assert [backend.convert(name, None, None) for name in BACKENDS] == list(BACKENDS)
    with pytest.raises(click.BadParameter, match="'sandbox' is not one of 'local', 'code_contests'"):
        backend.convert("sandbox", None, None)


def test_options_are_applied_and_listed_in_the_order_given():
    @click.command()
    @options(option("first", default="1"), option("second_one", default="2"), option("third", is_flag=True))
    def command(first, second_one, third):
        click.echo(f"{first} {second_one} {third}")

    assert [p.name for p in command.params] == ["first", "second_one", "third"]
    result = CliRunner().invoke(command, ["--second-one", "x", "--third"])
    assert result.output == "1 x True\n"


# ---- start-up ---------------------------------------------------------------------------------

def test_starting_the_cli_does_not_import_the_execution_stack():
    """`gencode --help` loads every group's module: none may bring acodium.execute or tqdm."""
    script = ("import sys\nfrom acodium.cli import main\n"
              "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
              "import acodium.cli.data, acodium.cli.eval_, acodium.cli.exec_, acodium.cli.gen, acodium.cli.sweep\n"
              "print(sorted(m for m in sys.modules if m.startswith(('acodium.execute', 'tqdm'))))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert "gen" in done.stdout and "eval" in done.stdout  # the help listed the groups it loaded
