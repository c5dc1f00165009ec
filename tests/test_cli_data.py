"""`gencode data etl` and `gencode data show`, through the installed `gencode` entry point."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from acodium import data
from acodium.cli import main

GENCODE = Path(sys.executable).with_name("gencode")


def gencode(*args, data_dir: Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, ACODIUM_DATA=str(data_dir), HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1",
               HF_DATASETS_CACHE=str(data_dir.parent / "hf-cache"))
    return subprocess.run([str(GENCODE), *map(str, args)], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300)


@pytest.fixture
def store(tmp_path):
    return tmp_path / "datasets"


def test_etl_starter_saves_python3_solutions_and_says_what(store):
    done = gencode("data", "etl", "--source", "starter", "--output_dataset_name", "demo", data_dir=store)
    assert done.returncode == 0, done.stderr
    rows = data.starter_rows()
    n_py3 = sum(row["solutions"]["language"].count(3) for row in rows)
    n_bad = sum(row["incorrect_solutions"]["language"].count(3) for row in rows)
    assert done.stdout.strip() == (
        f"Saved {len(rows)} problems ({n_py3} solutions, {n_bad} incorrect solutions) "
        f"as split 'train' of 'demo' in {store / 'demo'}."
    )
    saved = data.load_problems("demo", "train", data_dir=store, languages=None)
    assert saved["name"] == [r["name"] for r in rows]
    assert all(set(s["language"]) <= {3} for s in saved["solutions"])


def test_etl_sample_with_dashed_options_matches_the_library(store, train_sample_path, train_rows):
    done = gencode("data", "etl", "--source", train_sample_path, "--split", "valid", "--output-dataset-name",
                   "101_test", "--sample-rate", "0.1", "--seed", "4", data_dir=store)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Saved 23 problems (23 solutions, 0 incorrect solutions) as split 'valid'")
    expected = data.load_problems(train_sample_path, sample_rate=0.1, seed=4)["name"]
    assert data.load_problems("101_test", "valid", data_dir=store)["name"] == expected
    # A second split joins the first under the same name.
    done = gencode("data", "etl", "--source", train_sample_path, "--split", "train", "--output_dataset_name",
                   "101_test", "--limit", "5", data_dir=store)
    assert done.returncode == 0, done.stderr
    assert data.dataset_splits("101_test", data_dir=store) == ["valid", "train"]


def test_etl_filters(store, train_sample_path, train_rows):
    done = gencode("data", "etl", "--source", train_sample_path, "--split", "train", "--output_dataset_name", "f",
                   "--tags", "dp,graphs", "--difficulties", "B", "--difficulties", "C", "--min_tests", "private=10",
                   "--languages", "cpp", data_dir=store)
    assert done.returncode == 0, done.stderr
    expected = [
        r["name"] for r in train_rows
        if {"dp", "graphs"} & set(r["cf_tags"]) and r["difficulty"] in (8, 9) and len(r["private_tests"]["input"]) >= 10
    ]
    assert done.stdout.startswith(f"Saved {len(expected)} problems (0 solutions, 0 incorrect solutions)")
    assert data.load_problems("f", data_dir=store, languages=None)["name"] == expected


def test_show_summary_of_the_sample(store, train_sample_path, train_rows):
    done = gencode("data", "show", train_sample_path, data_dir=store)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"{train_sample_path} [train]: 230 problems"
    n_public = sum(len(r["public_tests"]["input"]) for r in train_rows)
    n_private = sum(len(r["private_tests"]["input"]) for r in train_rows)
    assert lines[1].startswith(f"  public tests: {n_public} (per problem min 1,")
    assert lines[2].startswith(f"  private tests: {n_private} ")
    assert "  solutions: python3 230" in lines
    assert "  ratings: - (230 unknown)" in lines
    assert any(line.startswith("  tags: dp 64, math 63, ") for line in lines)
    assert "  time limits: unknown (230)" in lines
    table = lines[lines.index("") + 1:]
    assert len(table) == 1 + 230 and table[0].split()[:3] == ["problem", "rating", "diff"]
    first = train_rows[0]
    assert table[1].startswith(first["name"]) and table[1].endswith(", ".join(first["cf_tags"]))


def test_show_one_problem_of_a_saved_dataset(store):
    assert gencode("data", "etl", "--source", "starter", "--output_dataset_name", "s", data_dir=store).returncode == 0
    problem = data.Problem.from_row(data.starter_rows()[0])
    done = gencode("data", "show", "s", "--problem", problem.name, "--max-chars", "100000", data_dir=store)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith(f"{problem.name}\n{'=' * len(problem.name)}\n")
    assert f"time limit {problem.time_limit_s:g} s, memory limit 256 MiB" in out
    assert problem.description.strip() in out
    assert f"--- private tests: {len(problem.tests('private'))}" in out
    assert f"--- solutions: {len(problem.solutions('python3'))}" in out  # etl kept Python 3 only
    for _, code in problem.solutions("python3") + problem.incorrect_solutions():
        assert code.strip().splitlines()[0] in out


def bad_jsonl(tmp_path, train_rows):
    rows = copy.deepcopy(train_rows[:4])
    rows[2]["public_tests"]["input"] = "not a list"
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize(
    "args, message",
    [
        (["data", "show", "no_such_dataset"], "Unknown dataset 'no_such_dataset'"),
        (["data", "show", "{missing}"], "No such file: "),
        (["data", "show", "{binary}"], "Cannot read "),
        (["data", "show", "{bad}"], "Line 3 of .*bad.jsonl: field 'public_tests'.input should be a list of strings"),
        (["data", "show", "{sample}", "--min_tests", "generated=1"], "select no problem"),
        (["data", "show", "{sample}", "--problem", "Nope"], "no problem named 'Nope'"),
        (["data", "etl", "--source", "{sample}", "--output_dataset_name", "x", "--sample_rate", "0.5", "--limit", "2"],
         "either a sample rate or a limit"),
        (["data", "etl", "--source", "starter", "--output_dataset_name", "x", "--min_tests", "private"],
         "--min_tests takes KIND=COUNT"),
        (["data", "etl", "--source", "starter", "--output_dataset_name", "x", "--languages", "cobol"],
         "Unknown language 'cobol'"),
        (["data", "show", "saved", "--split", "test"], "has no split 'test' \\(it has train\\)"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_code_2(args, message, tmp_path, store, train_sample_path, train_rows,
                                                   monkeypatch, capsys):
    # In process, through the same `main` the gencode script calls (one subprocess test below).
    if "saved" in args:
        data.save_problems(data.load_problems("starter"), "saved", store)
    (tmp_path / "binary.jsonl").write_bytes(b"\xff\xfe\x00garbage\n")
    paths = {"sample": train_sample_path, "missing": tmp_path / "missing.jsonl", "binary": tmp_path / "binary.jsonl",
             "bad": bad_jsonl(tmp_path, train_rows)}
    monkeypatch.setenv("ACODIUM_DATA", str(store))
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main([a.format(**paths) for a in args])
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gencode: ") and lines[0].endswith("."), lines
    assert re.search(message, lines[0]), lines[0]


def test_bad_input_in_a_real_process_prints_no_traceback(store, tmp_path, train_sample_path):
    done = gencode("data", "etl", "--source", tmp_path / "nothing.parquet", "--output_dataset_name", "x", data_dir=store)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"gencode: No such file: {tmp_path / 'nothing.parquet'}.\n"
    done = gencode("data", "show", train_sample_path, "--tags", "no such tag", data_dir=store)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"gencode: The filters (tags) select no problem of {train_sample_path}.\n"
