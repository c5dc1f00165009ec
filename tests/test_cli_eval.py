"""`gencode eval references` and `gencode eval pass_at_k`, through the real entry points."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import datasets
import pandas as pd
import pytest
from cli_runner import gencode_in_process as run

from acodium.generate import mutant_candidates, reference_candidates

GENCODE = Path(sys.executable).with_name("gencode")


@pytest.fixture
def sample(train_rows, tmp_path) -> Path:
    """Four real problems as a JSONL dataset (in the test's temporary folder)."""
    path = tmp_path / "four.jsonl"
    with open(path, "w") as fh:
        for row in train_rows[:4]:
            fh.write(json.dumps(row) + "\n")
    return path


def test_references_on_the_starter_problems(capsys, tmp_path):
    out = tmp_path / "refs"
    code, stdout, stderr = run(capsys, "eval", "references", "--dataset", "starter", "--max_tests", "4",
                               "--out", out, "--no_cache", "--no_progress")
    assert code == 0, stderr
    summary = json.loads((out / "summary.json").read_text())
    # a row per problem, then the counts: a table, not the summary's JSON
    lines = stdout.splitlines()
    assert lines[0].split() == ["problem", "category", "kept", "correct", "pass", "incorrect", "caught", "tests"]
    assert len([line for line in lines[1:9] if " ok " in line and " yes " in line and "valid" in line]) == 8
    assert "problems by category:" in stdout and not stdout.lstrip().startswith("{")
    code, again, _ = run(capsys, "eval", "references", "--dataset", "starter", "--max_tests", "4", "--out", out,
                         "--no_cache", "--no_progress", "--json")
    assert code == 0 and {k: v for k, v in json.loads(again).items() if k not in ("wall_s", "jobs_run", "jobs_resumed",
                                                                                   "notes")} == \
        {k: v for k, v in summary.items() if k not in ("wall_s", "jobs_run", "jobs_resumed", "notes")}
    assert json.loads(again)["jobs_resumed"] == summary["jobs_run"] > 0  # resumed: nothing ran again
    assert summary["problems"] == 8
    assert summary["solutions_run"]["incorrect"] > 0 and summary["solutions_run"]["correct"] > 0
    # the starter solutions are right and the wrong ones are caught
    assert summary["correct_passing_all_tests_share"] == 1.0
    assert summary["incorrect_rejected_share"] > 0.5
    assert summary["invalid_tests"] == 0 and summary["invalid_problems"] == 0
    assert sum(summary["status_counts"].values()) == summary["executions"]
    assert summary["wall_s"] > 0
    cleaned = datasets.load_from_disk(str(out / "dataset"))
    assert len(cleaned) == 8 and all(cleaned["is_valid_problem"])
    assert all(all(row["private_tests"]["is_valid_test"]) for row in cleaned)
    tests = pd.read_parquet(out / "tests.parquet")
    assert {"problem", "test_set", "test_index", "agreement", "is_valid_test"} <= set(tests.columns)
    sols = pd.read_parquet(out / "solutions.parquet")
    assert set(sols["kind"]) == {"correct", "incorrect"}


def test_pass_at_k_on_a_problems_dataset_and_on_a_candidates_table(capsys, sample, train_rows, tmp_path):
    out = tmp_path / "own"
    code, stdout, stderr = run(capsys, "eval", "pass_at_k", "--dataset_name", sample, "--evaluation_test_type",
                               "private_tests", "--max_tests", "4", "--time_limit", "3", "--out", out,
                               "--no_cache", "--no_progress", "--bootstrap", "200")
    assert code == 0, stderr
    assert "pass@1" in stdout and "pass@2" not in stdout  # one sample a problem
    assert "left out of the grid" not in stdout  # every pool holds one: nothing was left out that could be had
    summary = json.loads((out / "summary.json").read_text())
    assert summary["problems"] == 4 and summary["candidates"] == 4
    judged = pd.read_parquet(out / "judgements.parquet")
    assert summary["metrics"]["pass@k"]["pass@1"]["value"] == pytest.approx(judged["correct"].mean())
    for name in ("executions.parquet", "metrics.parquet"):
        assert (out / name).exists()

    table = pd.concat([reference_candidates(train_rows[:4]), mutant_candidates(train_rows[:4], 2, seed=1)])
    table.to_parquet(tmp_path / "cands.parquet")
    out2 = tmp_path / "mutants"
    code, stdout, stderr = run(capsys, "eval", "pass-at-k", "--dataset-name", tmp_path / "cands.parquet",
                               "--problems", sample, "--k", "1,2,3", "--n", "2", "--max_tests", "3",
                               "--time_limit", "1", "--out", out2, "--no_cache", "--no_progress",
                               "--bootstrap", "200")
    assert code == 0, stderr
    summary = json.loads((out2 / "summary.json").read_text())
    assert summary["ks"] == [1, 2, 3] and summary["candidates"] == 12
    assert set(summary["metrics"]["n@k filtered"]) == {"2@1", "2@2", "2@3"}
    p = summary["metrics"]["pass@k"]
    assert p["pass@1"]["value"] <= p["pass@2"]["value"] <= p["pass@3"]["value"]
    assert p["pass@1"]["ci_low"] <= p["pass@1"]["value"] <= p["pass@1"]["ci_high"]


def test_pass_at_k_keeps_a_problem_without_solutions_and_judges_on_hidden_tests(capsys, train_rows, tmp_path):
    a, b = (dict(r) for r in train_rows[:2])
    a["solutions"] = {"language": [3, 3], "solution": [a["solutions"]["solution"][0], "print(0)\n"]}
    a["generated_tests"] = {"input": a["private_tests"]["input"][:2], "output": a["private_tests"]["output"][:2]}
    b["solutions"] = {"language": [], "solution": []}
    src = tmp_path / "two.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in (a, b)))
    out = tmp_path / "run"
    code, stdout, stderr = run(capsys, "eval", "pass_at_k", "--dataset_name", src, "--max_tests", "3",
                               "--time_limit", "3", "--out", out, "--no_cache", "--no_progress", "--bootstrap", "200")
    assert code == 0, stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["problems"] == 2 and summary["problems_with_candidates"] == 1 and summary["candidates"] == 2
    assert summary["metrics"]["pass@k"]["pass@1"]["value"] == pytest.approx(0.25)
    assert summary["test_sets"] == ["private", "generated"]  # the default: hidden tests, as docs/semantics.md
    assert "generated" in set(pd.read_parquet(out / "executions.parquet")["test_set"])
    assert summary["short_pools"]["reasons"] == {"none generated": [b["name"]]}
    assert (f"note: 1 of 2 problems had fewer candidates with code than k=2 (1 without any, counted as unsolved "
            f"at every k): 1 with none generated (e.g. {b['name']!r}).") in stdout
    assert "left out of the grid" not in stdout  # B's pool is empty, A's holds 2: the grid ends at 2
    # k=2 was asked for: A has 2 samples, and B's empty pool is no reason to refuse it; k=5 is left out.
    code, stdout, stderr = run(capsys, "eval", "pass_at_k", "--dataset_name", src, "--k", "2,5", "--max_tests", "3",
                               "--time_limit", "3", "--no_cache", "--no_progress", "--bootstrap", "100")
    assert code == 0, stderr
    assert "pass@2   0.5000" in stdout and "pass@5" not in stdout
    assert f"note: k=5 and above left out: problem {a['name']!r} has only 2 samples" in stdout


@pytest.mark.parametrize("case, message", [
    ("missing column", "lacks the column(s) language"),
    ("unknown problem", "not in the dataset"),
    ("k too large", "k=5 is more than the 1 sample of"),
    ("empty test set", "has no generated_tests"),
    ("unknown test type", "in --evaluation_test_type; choose among"),
    ("unknown policy", "Unknown selection policy 'best'; choose among random, filtered, clustered, mbr_exec"),
    ("hidden clustering set", "Unknown clustering set 'private' in --clustering_sets; choose among mutated, ai"),
    ("codet without model tests", "The codet policy needs model-written tests"),
    ("unknown scorer", "Unknown scorer 'tokens'; choose among length, likelihood"),
    ("model scorer without a model", "--scorer model needs --scorer_model NAME"),
])
def test_bad_input_is_one_sentence_and_exit_2(capsys, sample, train_rows, tmp_path, case, message):
    table = reference_candidates(train_rows[:4])
    args = ["eval", "pass_at_k", "--dataset_name", tmp_path / "cands.parquet", "--problems", sample,
            "--no_cache", "--no_progress"]
    if case == "missing column":
        table = table.drop(columns=["language"])
    if case == "unknown problem":
        table.loc[0, "problem"] = "9999_Z. Nowhere"
    if case == "k too large":  # no k left: a k too large beside one that fits is left out, with a note
        args += ["--k", "5,7"]
    if case == "empty test set":
        args += ["--evaluation_test_type", "generated_tests"]
    if case == "unknown test type":
        args += ["--evaluation_test_type", "secret_tests"]
    if case == "unknown policy":
        args += ["--policies", "clustered,best"]
    if case == "hidden clustering set":
        args += ["--clustering_sets", "mutated,private"]
    if case == "codet without model tests":
        args += ["--policies", "codet,filtered"]
    if case == "unknown scorer":
        args += ["--policies", "largest_clusters", "--scorer", "tokens"]
    if case == "model scorer without a model":
        args += ["--policies", "largest_clusters", "--scorer", "model"]
    table.to_parquet(tmp_path / "cands.parquet")
    code, stdout, stderr = run(capsys, *args)
    assert code == 2
    assert message in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gencode: ") and lines[0].endswith(".")


def test_a_killed_run_resumes_without_running_again_what_finished(sample, train_rows, tmp_path):
    # Candidates that take a while per test, so that the run can be killed midway.
    table = reference_candidates(train_rows[:4])
    slow = pd.concat([
        table.assign(candidate_id=f"slow-{i}", code="import time\ntime.sleep(0.25)\n" + f"# {i}\n" + table["code"])
        for i in range(3)
    ], ignore_index=True)
    slow.to_parquet(tmp_path / "cands.parquet")
    out = tmp_path / "run"
    args = [str(GENCODE), "eval", "pass_at_k", "--dataset_name", str(tmp_path / "cands.parquet"), "--problems",
            str(sample), "--k", "1", "--max_tests", "2", "--full", "--workers", "2", "--out", str(out),
            "--no_cache", "--no_progress", "--bootstrap", "100"]
    env = dict(os.environ, ACODIUM_CACHE=str(tmp_path / "cache"))
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    store = out / "executions.sqlite"  # the run's executions, by program, as they finish

    def stored() -> list[tuple]:
        try:
            with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
                return db.execute("SELECT problem, program_hash, test_set FROM runs").fetchall()
        except sqlite3.Error:
            return []

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if store.exists() and len(stored()) >= 4:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    rows_before = stored()
    jobs_before = set(rows_before)
    assert rows_before and not (out / "summary.json").exists()

    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    total = 12 * 2  # 12 candidates (12 programs), public and private tests
    assert summary["jobs_run"] + summary["jobs_resumed"] == total
    assert 0 < summary["jobs_resumed"] <= len(jobs_before) < total
    assert summary["jobs_run"] < total
    executions = pd.read_parquet(out / "executions.parquet")  # by program
    assert not executions.duplicated(["problem", "program_hash", "test_set", "test_index"]).any()
    assert executions.groupby(["problem", "program_hash", "test_set"]).ngroups == total
    # the slow copies behave as the solution they wrap
    judged = pd.read_parquet(out / "judgements.parquet")
    assert judged.groupby("problem")["correct"].nunique().max() == 1


def test_a_cleaned_dataset_skips_invalid_tests_and_problems(capsys, train_rows, tmp_path):
    # Evidence that a problem is bad: two references agree with each other against every stored
    # output (here, outputs overwritten). A reference that merely crashes (1133_F1's) is no evidence.
    bad = dict(train_rows[3], solutions={"language": [3, 3], "solution": train_rows[3]["solutions"]["solution"] * 2})
    for s in ("public_tests", "private_tests"):
        bad[s] = dict(bad[s], output=["wrong"] * len(bad[s]["output"]))
    rows = [train_rows[1], train_rows[2], bad]
    src = tmp_path / "three.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    refs = tmp_path / "refs"
    code, _, stderr = run(capsys, "eval", "references", "--dataset", src, "--max_tests", "3", "--time_limit", "3",
                          "--out", refs, "--no_cache", "--no_progress")
    assert code == 0, stderr
    summary = json.loads((refs / "summary.json").read_text())
    assert summary["invalid_problems"] >= 1
    cleaned = refs / "dataset"
    ds = datasets.load_from_disk(str(cleaned))
    valid = dict(zip(ds["name"], ds["is_valid_problem"]))
    assert valid[rows[2]["name"]] is False

    args = ["eval", "pass_at_k", "--dataset_name", cleaned, "--max_tests", "3", "--time_limit", "3", "--no_cache",
            "--no_progress", "--bootstrap", "100", "--evaluation_test_type", "public_tests,private_tests"]
    code, stdout, stderr = run(capsys, *args, "--valid_only", "--out", tmp_path / "valid")
    assert code == 0, stderr
    summary = json.loads((tmp_path / "valid" / "summary.json").read_text())
    assert summary["problems"] == sum(valid.values())
    # on the tests the check kept, an accepted solution is correct where it passes them all: a lone
    # disagreement is kept as "unconfirmed", no longer dropped
    sols = pd.read_parquet(refs / "solutions.parquet")
    kept = sols[sols["problem"].isin([name for name, ok in valid.items() if ok])]
    assert summary["metrics"]["pass@k"]["pass@1"]["value"] == kept["passed_all_valid"].mean()
    code, stdout, stderr = run(capsys, *args, "--out", tmp_path / "all")
    assert code == 0, stderr
    assert json.loads((tmp_path / "all" / "summary.json").read_text())["problems"] == 3


def test_pass_at_k_with_the_agreement_policies_and_model_tests(capsys, train_rows, tmp_path):
    rows = []
    for row in train_rows[:2]:  # the model's tests: the public inputs with their outputs
        rows.append(dict(row, ai_tests={"input": row["public_tests"]["input"], "output": row["public_tests"]["output"]}))
    src = tmp_path / "two.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    table = pd.concat([reference_candidates(rows), mutant_candidates(rows, 3, seed=1)])
    table.to_parquet(tmp_path / "cands.parquet")
    out = tmp_path / "run"
    code, stdout, stderr = run(capsys, "eval", "pass_at_k", "--dataset_name", tmp_path / "cands.parquet",
                               "--problems", src, "--k", "2", "--n", "1", "--max_tests", "3", "--time_limit", "3",
                               "--policies", "codet,mbr_exec,largest_clusters,clustered", "--clustering_sets", "ai",
                               "--out", out, "--no_cache", "--no_progress", "--bootstrap", "100")
    assert code == 0, stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["clustering_sets"] == ["ai"]
    assert {"n@k codet", "n@k mbr_exec", "n@k largest_clusters", "n@k clustered"} <= set(summary["metrics"])
    judged = pd.read_parquet(out / "judgements.parquet")
    passing = judged[judged["passes_public"]]
    assert (passing["model_tests_passed"] > 0).all()  # passing the public tests, they pass the same model tests
    for metric in ("n@k codet", "n@k mbr_exec", "n@k largest_clusters"):
        assert any(line.split()[:3] == [*metric.split(), "1@2"] for line in stdout.splitlines())
