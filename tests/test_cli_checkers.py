"""--checker at the command line: `gencode exec run` and `gencode eval pass_at_k`, through the real entry points."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import gencode_in_process as run

GENCODE = Path(sys.executable).with_name("gencode")


def exec_run(*args):
    return subprocess.run([str(GENCODE), "exec", "run", *map(str, args)], capture_output=True, text=True, timeout=120)


@pytest.fixture
def float_program(tmp_path):
    (tmp_path / "third.py").write_text("print(1 / 3 * 1000)\n")  # 333.3333333333333
    (tmp_path / "answer.txt").write_text("333.33\n")
    return tmp_path / "third.py", tmp_path / "answer.txt"


def test_exec_run_judges_with_the_checker_given(float_program):
    prog, answer = float_program
    tokens = exec_run(prog, "--input", "", "--expected_file", answer, "--json")
    assert tokens.returncode == 0, tokens.stderr
    data = json.loads(tokens.stdout)
    assert data["passed"] is False and data["checker"] == "tokens"
    assert data["checker_message"] == "token 1: expected 333.33, got 333.3333333333333"
    relative = json.loads(exec_run(prog, "--input", "", "--expected_file", answer, "--json",
                                   "--checker", "float_rel:1e-4").stdout)
    assert relative["passed"] is True and relative["checker"] == "float_rel:0.0001" and relative["checker_message"] == ""
    absolute = exec_run(prog, "--input", "", "--expected_file", answer, "--checker", "float_abs:1e-4")
    assert "passed=False" in absolute.stderr and "checker=float_abs:0.0001: token 1: expected 333.33" in absolute.stderr


@pytest.mark.parametrize("value, words", [
    ("nope", "gencode: --checker: Unknown checker 'nope': choose one of tokens, exact"),
    ("float_abs", "gencode: --checker: The checker float_abs needs a tolerance EPS"),
    ("float_rel:1e-x", "not 'float_rel:1e-x'"),
    ("exact:1", "takes no parameter"),
])
def test_a_bad_checker_is_one_sentence_and_exit_2(float_program, value, words):
    prog, answer = float_program
    p = exec_run(prog, "--input", "", "--expected_file", answer, "--checker", value)
    assert p.returncode == 2 and p.stdout == ""
    assert words in p.stderr and p.stderr.count("\n") == 1


@pytest.fixture
def cut_length(train_rows, tmp_path):
    """598_F as a one-problem JSONL dataset: its accepted Python solution fails one private test under the token
    compare (282842.7052553788 for 282842.705403551...) and passes under float_rel:1e-6."""
    row = next(r for r in train_rows if r["name"].startswith("598_F"))
    keep = [i for i, lang in enumerate(row["solutions"]["language"]) if lang == 3]
    row = {**row, "solutions": {k: [v[i] for i in keep] for k, v in row["solutions"].items()}}
    path = tmp_path / "cut.jsonl"
    path.write_text(json.dumps(row) + "\n")
    return path


def _pass_at_1(capsys, dataset, out, *extra) -> float:
    code, stdout, stderr = run(capsys, "eval", "pass_at_k", "--dataset_name", dataset, "--evaluation_test_type",
                               "private_tests", "--time_limit", "5", "--out", out, "--no_cache", "--no_progress",
                               "--bootstrap", "50", *extra)
    assert code == 0, stderr
    return json.loads((Path(out) / "summary.json").read_text())["metrics"]["pass@k"]["pass@1"]["value"]


def test_eval_pass_at_k_checker_overrides_every_problem(capsys, cut_length, tmp_path):
    assert _pass_at_1(capsys, cut_length, tmp_path / "run") == 0.0  # today's number
    assert _pass_at_1(capsys, cut_length, tmp_path / "run", "--checker", "float_rel:1e-6") == 1.0
    assert _pass_at_1(capsys, cut_length, tmp_path / "run", "--checker", "tokens") == 0.0
    settings = json.loads((tmp_path / "run" / "settings.json").read_text())
    assert settings["checker"] == "tokens"
    code, _, stderr = run(capsys, "eval", "pass_at_k", "--dataset_name", cut_length, "--out", tmp_path / "x",
                          "--checker", "floats")
    assert code == 2 and stderr.startswith("gencode: --checker: Unknown checker 'floats'")
