"""`gencode run` through its real entry point: offline on the starter problems, with a model on the local chat
server, its refusals; and the run folder's record of its problems, which `eval pass_at_k RUN` scores alone."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pandas as pd
import pytest

from acodium.data import dataset_solutions, load_problems
from acodium.languages import RUNNABLE_LANGUAGES
from chat_server import chat_server, wrap  # noqa: F401
from cli_runner import gencode_in_process


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Caches and saved datasets in tmp_path; no key, model or server from the developer's environment."""
    monkeypatch.setenv("ACODIUM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ACODIUM_DATA", str(tmp_path / "data"))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ACODIUM_MODEL"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def starter_rows():
    return [dict(r) for r in load_problems("starter", languages="all")]


def gencode(capsys, *args):
    return gencode_in_process(capsys, *args)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_rows(rows, path: Path) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def pass_at_1(judgements: pd.DataFrame, names) -> float:
    """pass@1 over `names` computed here from the judgements: each problem's share of correct candidates, 0
    for a problem without any."""
    share = judgements.groupby("problem")["correct"].mean()
    return sum(float(share.get(name, 0.0)) for name in names) / len(names)


def test_offline_run_prints_the_table_draws_the_figure_and_resumes(starter_rows, tmp_path, capsys):
    run = tmp_path / "mutants"
    args = ["run", "--dataset", "starter", "--source", "mutants", "--k", "4", "--out", run, "--bootstrap", "200",
            "--no_progress"]
    code, out, err = gencode(capsys, *args)
    assert code == 0, err
    names = [r["name"] for r in starter_rows]
    judgements = pd.read_parquet(run / "judgements.parquet")
    assert len(judgements) == 32 and set(judgements["problem"]) == set(names)
    summary = json.loads((run / "summary.json").read_text())
    expected = pass_at_1(judgements, names)
    assert 0 < expected < 1  # mutants: some right, some wrong, so the number says something
    assert summary["metrics"]["pass@k"]["pass@1"]["value"] == pytest.approx(expected)
    assert f"pass@1   {expected:.4f}" in out and "10@4" in out
    assert summary["source"] == "mutants" and summary["samples_per_problem"] == 4
    figure = run / "figures" / "solve_rate_vs_samples.png"
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and figure.stat().st_size > 10_000
    assert f"figure: {figure}" in out
    record = json.loads((run / "problems.json").read_text())
    assert record["dataset"] == "starter" and record["problems"] == names
    assert "resumed" not in out

    # The same command again: nothing made or run twice, and it says what it skipped.
    code, again, err = gencode(capsys, *args)
    assert code == 0, err
    jobs = json.loads((run / "summary.json").read_text())
    assert jobs["jobs_run"] == 0 and jobs["metrics"] == summary["metrics"]
    assert f"acodium: resumed {run}: 32 of 32 candidates were made before" in err
    assert f"note: resumed {run}: {jobs['jobs_resumed']} of {jobs['jobs_resumed']} jobs" in again

    # The folder alone is enough to score it again: it recorded its problems.
    code, scored, err = gencode(capsys, "eval", "pass_at_k", "--dataset_name", run, "--k", "1,2,4",
                                "--bootstrap", "200", "--no_progress")
    assert code == 0, err
    assert json.loads((run / "summary.json").read_text())["metrics"]["pass@k"] == summary["metrics"]["pass@k"]


def test_a_run_with_a_model_on_the_local_server(chat_server, train_rows, tmp_path, capsys):
    rows = [r for r in train_rows if r["name"] in ("1147_A. Hide and Seek", "438_A. The Child and Toy")]
    right, wrong = rows
    chat_server.reply_for(right["description"][:160], wrap(right["solutions"]["solution"][0], "python_fence"))
    chat_server.reply_for(wrong["description"][:160], "```python\nprint('wrong')\n```")
    problems = write_rows(rows, tmp_path / "two.jsonl")
    run = tmp_path / "model"
    code, out, err = gencode(capsys, "run", "--model", "test-model", "--base_url", chat_server.url,
                             "--api_key", "sk-test", "--dataset", problems, "--k", "2", "--out", run,
                             "--bootstrap", "200", "--no_progress", "--policies", "clustered,mbr_exec,largest_clusters")
    assert code == 0, err
    summary = json.loads((run / "summary.json").read_text())
    assert summary["source"] == "llm" and summary["model"] == "test-model"
    assert {"n@k clustered", "n@k mbr_exec", "n@k largest_clusters"} <= set(summary["metrics"])
    assert summary["metrics"]["pass@k"]["pass@1"]["value"] == pytest.approx(0.5)
    assert chat_server.chat_requests == 4
    assert (run / "figures" / "solve_rate_vs_samples.png").exists()
    # the record names the file by its absolute path: the folder is scored from anywhere
    assert json.loads((run / "problems.json").read_text())["dataset"] == str(problems.resolve())


def test_a_run_with_the_flow(chat_server, train_rows, tmp_path, capsys):
    from chat_server import FlowScript
    from flow_script import CORRECT, PROBLEM

    chat_server.responder = FlowScript(initial_code=wrap(CORRECT, "python_fence"))
    problems = write_rows([r for r in train_rows if r["name"] == PROBLEM], tmp_path / "phone.jsonl")
    run = tmp_path / "flow"
    code, out, err = gencode(capsys, "run", "--model", "test-model", "--base_url", chat_server.url, "--api_key",
                             "sk-test", "--strategy", "flow", "--flow_max_calls", "3", "--dataset", problems,
                             "--k", "2", "--out", run, "--bootstrap", "100", "--no_progress")
    assert code == 0, err
    summary = json.loads((run / "summary.json").read_text())
    assert summary["strategy"] == "flow" and summary["metrics"]["pass@k"]["pass@2"]["value"] == 1.0
    assert chat_server.chat_requests == 2 * 3  # two flow runs of three calls
    assert (run / "figures" / "solve_rate_vs_samples.png").exists() and "pass@2   1.0000" in out


@pytest.mark.parametrize("extra, message", [
    ([], "gencode: Name a model (--model M, and --base_url URL for a local server) or run offline with "
         "--source human, mutants or file.\n"),
    (["--source", "human", "--model", "m"],
     "gencode: --model names a model, but --source human asks none; leave one of them out.\n"),
    (["--model", "m"], "gencode: No API key for https://api.openai.com/v1: set OPENAI_API_KEY or pass --api_key "
                       "(any non-empty string for a local server that does not check keys).\n"),
    (["--source", "human", "--strategy", "flow"],
     "gencode: --strategy flow asks a model: it cannot be used with --source human.\n"),
    (["--source", "human", "--k_values", "8"],
     "gencode: --k_values asks for k=8, more than the 4 samples per problem (--k).\n"),
    (["--source", "human", "--policies", "filtered,codet"],
     "gencode: The codet policy needs model-written tests (ai_tests with expected outputs, from `gencode gen "
     "test_inputs`), and no problem here has any.\n"),
])
def test_refusals_are_one_sentence_and_write_nothing(extra, message, tmp_path, capsys):
    code, out, err = gencode(capsys, "run", "--dataset", "starter", "--k", "4", "--out", tmp_path / "run", *extra)
    assert (code, out, err) == (2, "", message)
    assert not (tmp_path / "run").exists()


def test_an_unreachable_server_is_one_sentence_and_writes_nothing(tmp_path, capsys):
    url = f"http://127.0.0.1:{free_port()}/v1"
    code, out, err = gencode(capsys, "run", "--model", "m", "--base_url", url, "--api_key", "k", "--dataset",
                             "starter", "--k", "2", "--out", tmp_path / "run", "--no_progress")
    assert code == 2 and err == f"gencode: Cannot reach the LLM server at {url} (All connection attempts failed).\n"
    assert not (tmp_path / "run").exists()


def test_human_k10_on_the_starter_makes_what_it_has_and_says_so(starter_rows, tmp_path, capsys):
    """The issue's case: `--source human --k 10` made 4-6 per problem, filled with incorrect ones; now the
    default fraction 1.0 makes each problem's 2-3 correct solutions and says so per problem."""
    run = tmp_path / "human"
    code, out, err = gencode(capsys, "gen", "solve_and_evaluate_set", "--dataset_name", "starter", "--source",
                             "human", "--k", "10", "--out", run, "--bootstrap", "200", "--no_progress")
    assert code == 0, err
    candidates = pd.read_parquet(run / "candidates.parquet")
    for row in starter_rows:
        have = len(dataset_solutions(row, "solutions", RUNNABLE_LANGUAGES))
        assert (candidates["problem"] == row["name"]).sum() == have
        assert (f"  {row['name']}: {have} of 10, only {have} correct solutions; correct_fraction 1 takes no "
                "incorrect ones\n") in err
    assert {json.loads(m)["label"] for m in candidates["meta"]} == {"correct"}
    assert "pass@1   1.0000" in out
    # and `eval pass_at_k RUN` needs no --problems: the folder recorded them
    code, out, err = gencode(capsys, "eval", "pass_at_k", "--dataset_name", run, "--k", "1,2", "--bootstrap",
                             "200", "--no_progress")
    assert code == 0, err
    assert "8 problems (8 with candidates)" in out


def test_the_record_keeps_problems_without_candidates_and_is_checked(starter_rows, tmp_path, capsys):
    """A file source naming two of four problems: the record keeps all four (two unsolved), and scoring the
    folder against a dataset that changed since, or lacks one of them, is refused in one sentence."""
    rows = starter_rows[:4]
    problems = write_rows(rows, tmp_path / "four.jsonl")
    file = tmp_path / "candidates.jsonl"
    file.write_text("".join(json.dumps({"problem": r["name"], "code": r["solutions"]["solution"][0],
                                        "language": "python3"}) + "\n"
                            for r in rows[:2] if r["solutions"]["language"][0] == 3))
    assert len(file.read_text().splitlines()) == 2
    run = tmp_path / "file"
    code, out, err = gencode(capsys, "gen", "solve_and_evaluate_set", "--dataset_name", problems, "--source", "file",
                             "--candidates_file", file, "--k", "1", "--out", run, "--bootstrap", "200",
                             "--no_progress")
    assert code == 0, err
    assert "4 problems (2 with candidates)" in out
    for row in rows[2:]:
        assert f"  {row['name']}: 0 of 1, candidates.jsonl holds 0 candidates for it\n" in err
    code, out, err = gencode(capsys, "eval", "pass_at_k", "--dataset_name", run, "--no_progress", "--bootstrap",
                             "200")
    assert code == 0, err
    assert "4 problems (2 with candidates)" in out and "pass@1   0.5000" in out

    # the file's tests change: refused, and the original given with --problems is scored
    changed = [dict(r) for r in rows]
    changed[3] = dict(changed[3], private_tests={"input": ["1\n"], "output": ["1\n"]})
    write_rows(changed, problems)
    code, out, err = gencode(capsys, "eval", "pass_at_k", "--dataset_name", run, "--no_progress")
    assert code == 2 and err == (f"gencode: The tests of the problems {run} was run on differ in "
                                 f"{problems.resolve()} from those recorded when it ran (the dataset changed); "
                                 "give the dataset it was run on with --problems.\n")
    original = write_rows(rows, tmp_path / "original.jsonl")
    code, out, err = gencode(capsys, "eval", "pass_at_k", "--dataset_name", run, "--problems", original,
                             "--no_progress", "--bootstrap", "200")
    assert code == 0 and "4 problems (2 with candidates)" in out, err
    # a problem gone
    write_rows(rows[:3], problems)
    code, out, err = gencode(capsys, "eval", "pass_at_k", "--dataset_name", run, "--no_progress")
    assert code == 2 and err == (f"gencode: 1 of the 4 problems {run} was run on are not in {problems.resolve()} "
                                 f"(for instance {rows[3]['name']!r}); give the dataset it was run on with "
                                 "--problems.\n")
    # another dataset into the same folder
    code, out, err = gencode(capsys, "gen", "solve_and_evaluate_set", "--dataset_name", "starter", "--source",
                             "human", "--k", "1", "--out", run, "--no_progress")
    assert code == 2 and err == (f"gencode: The run folder {run} holds a run on {problems.resolve()} (split train), "
                                 "not starter (split train); use a new folder or the same dataset.\n")
