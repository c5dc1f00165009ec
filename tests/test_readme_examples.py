"""Every ```bash example of the README runs as written, in order, in a fresh folder, on the offline defaults.

The commands are taken from the README itself (a line ending in a backslash goes
on in the next), run one by one with bash in a temporary folder that holds the
repository's `params/` and `notebooks/` (as a clone's top folder does), with
`$ACODIUM_DATA` and `$ACODIUM_CACHE` in it too, and each must exit 0. A command
is skipped by one rule, stated in `skip_reason`: it needs what this machine does
not give a test (the network, an API key, a model server), or it is `make`
(which sets up .venv and runs the whole suite, this test included, or the demo)
or `pip install` (a package index, and it changes the environment under test).
Nothing offline may depend on a skipped command: the examples chain on what the
offline ones made.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from acodium.data import CODE_CONTESTS_O, CODE_CONTESTS_PLUS, HUB_ID, OPEN_R1_CODEFORCES

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
HUB_DATASETS = (HUB_ID, CODE_CONTESTS_O, CODE_CONTESTS_PLUS, OPEN_R1_CODEFORCES)
MODEL = re.compile(r"--model\b|\bmodel=|_model=", re.IGNORECASE)  # `--model M`, `MODEL=...`, `--set model=...`,
# `--set test_input_model=...`


def bash_commands(text: str) -> list[str]:
    """The commands of the README's ```bash blocks, in order, continuation lines joined."""
    commands = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE):
        pending = ""
        for line in block.splitlines():
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            command = (pending + line).strip()
            pending = ""
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def skip_reason(command: str) -> str | None:
    """Why a README command is not run here, or None: the rule, all of it."""
    if re.match(r"make\b", command):
        return "make: sets up .venv and runs the whole suite (this test included) or the demo"
    if re.match(r"pip\b", command):
        return "pip install: needs a package index and changes the environment this test runs in"
    if MODEL.search(command):
        return "asks a model: needs an API key or a model server"
    if any(hub in command for hub in HUB_DATASETS):
        return "loads a hub dataset: needs the network"
    return None


COMMANDS = bash_commands(README.read_text(encoding="utf-8"))


def test_the_readme_has_examples_and_the_rule_runs_most_of_them():
    """The extraction sees the examples (a changed fence would otherwise run nothing, and pass)."""
    run = [c for c in COMMANDS if skip_reason(c) is None]
    for start in ("gencode run ", "gencode data etl ", "gencode eval references ",
                  "gencode gen solve_and_evaluate_set ", "gencode eval pass_at_k --dataset_name outputs/",
                  "gencode exec run ", "gencode sweep "):
        assert any(c.startswith(start) for c in run), start
    assert len(run) >= 12
    # continuation lines joined: no command ends in a backslash or starts with an option
    assert not any(c.endswith("\\") or c.startswith("--") for c in COMMANDS)


def test_skip_rule():
    assert skip_reason("make demo MODEL=gpt-4o-mini") is not None
    assert skip_reason("pip install '.[cc]' && gencode exec setup_code_contests") is not None
    assert skip_reason("gencode --version") is None
    assert skip_reason("gencode sweep params/flow.yaml --set model=gpt-4o-mini") is not None
    assert skip_reason("gencode sweep params/selection.yaml --set test_input_model=gpt-4o-mini") is not None
    assert skip_reason("gencode run --dataset starter --model m --k 4 --out o") is not None
    assert skip_reason("gencode data etl --source deepmind/code_contests --output_dataset_name x") is not None
    assert skip_reason("gencode run --dataset starter --source mutants --k 4 --out o") is None
    assert skip_reason("gencode data show mine") is None


@pytest.mark.slow  # ~75 s on two lightly loaded cores: a sweep, a reference check, sandboxed runs
def test_every_offline_readme_command_runs_in_order(tmp_path):
    work = tmp_path / "clone"
    work.mkdir()
    for shared in ("params", "notebooks"):
        (work / shared).symlink_to(REPO / shared)
    env = {key: value for key, value in os.environ.items()
           if key not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ACODIUM_MODEL")}
    env.update(ACODIUM_DATA=str(tmp_path / "data"), ACODIUM_CACHE=str(tmp_path / "cache"), HF_HUB_OFFLINE="1",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    ran = []
    for command in COMMANDS:
        if skip_reason(command) is not None:
            continue
        proc = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True,
                              timeout=600)
        assert proc.returncode == 0, (f"README command failed (exit {proc.returncode}), after {ran}:\n{command}\n"
                                      f"{proc.stderr[-3000:]}")
        ran.append(command.split("#")[0].strip()[:60])
    # what the chain leaves: the run folders the README names, their figures and records
    for run in ("outputs/mutants", "outputs/human", "outputs/refs"):
        assert (work / run / "summary.json").exists(), run
    assert (work / "outputs/mutants/figures/solve_rate_vs_samples.png").exists()
    assert (work / "outputs/human/problems.json").exists()
