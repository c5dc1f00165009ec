"""`gencode gen` through its real entry point, against a real local chat server and the real sample."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from acodium.cli import main
from acodium.tables import AppendLog
from chat_server import chat_server, wrap  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
GENCODE = REPO / ".venv" / "bin" / "gencode"
SORTING = "Sorting Andi and Budi Books Problem"  # unsolved sample: 1 public, 0 private, 200 generated tests


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Caches and saved datasets in tmp_path; no key or server from the developer's environment."""
    monkeypatch.setenv("ACODIUM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ACODIUM_DATA", str(tmp_path / "data"))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ACODIUM_MODEL"):
        monkeypatch.delenv(var, raising=False)


def gencode(*args) -> int:
    try:
        main([str(a) for a in args])
    except SystemExit as e:
        return e.code
    return 0


def llm_args(server, *extra):
    return ["--model", "test-model", "--base_url", server.url, "--api_key", "sk-test", *extra]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def subset(rows, names, path: Path) -> Path:
    """A problems file of some real rows (in tmp_path: the sample is never copied into the repository)."""
    path.write_text("".join(json.dumps(r) + "\n" for r in rows if r["name"] in names))
    return path


def statement_marker(row) -> str:
    return row["description"][:160]


# Problems of the sample whose one accepted solution passes its private tests quickly here.
QUICK = ["1147_A. Hide and Seek", "438_A. The Child and Toy", "91_A. Newspaper Headline",
         "850_A. Five Dimensional Points"]


def test_ask_prints_the_reply(chat_server, capsys):
    chat_server.reply_for("Which language", "Python, of course.")
    assert gencode("gen", "ask", "Which language should I use?", *llm_args(chat_server, "--temperature", "0")) == 0
    out, err = capsys.readouterr()
    assert out == "Python, of course.\n"
    assert "completion tokens" in err
    assert chat_server.chat_bodies[0]["temperature"] == 0


@pytest.mark.parametrize("case", ["no key", "unreachable", "unknown model", "empty reply"])
def test_ask_bad_input_exits_2(chat_server, capsys, case):
    args = ["gen", "ask", "Hello?"]
    if case == "no key":
        args += ["--model", "test-model", "--base_url", chat_server.url]
        expected = "No API key"
    elif case == "unreachable":
        args += ["--model", "m", "--base_url", f"http://127.0.0.1:{free_port()}/v1", "--api_key", "k"]
        expected = "Cannot reach the LLM server"
    elif case == "unknown model":
        args += ["--model", "gpt-nope", "--base_url", chat_server.url, "--api_key", "k"]
        expected = "does not know the model 'gpt-nope'"
    else:
        chat_server.reply_for("Hello?", "")
        args += llm_args(chat_server)
        expected = "empty reply"
    assert gencode(*args) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    if case == "no key":
        assert chat_server.requests == []


def test_no_key_exits_2_before_any_work_via_the_real_binary(chat_server, train_sample_path, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    proc = subprocess.run(
        [GENCODE, "gen", "solve_and_evaluate_set", "--dataset_name", train_sample_path, "--split_name", "train",
         "--k", "2", "--out", tmp_path / "run", "--model", "test-model", "--base_url", chat_server.url],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("gencode: No API key") and "Traceback" not in proc.stderr
    assert chat_server.requests == [] and not (tmp_path / "run").exists()


def test_unreachable_server_exits_2_before_any_work(train_rows, tmp_path, capsys):
    problems = subset(train_rows, QUICK, tmp_path / "quick.jsonl")
    code = gencode("gen", "solve_and_evaluate_set", "--dataset_name", problems, "--k", "2",
                   "--sample_rate", "0.5", "--out", tmp_path / "run", "--model", "m",
                   "--base_url", f"http://127.0.0.1:{free_port()}/v1", "--api_key", "k", "--no_progress")
    assert code == 2
    assert "Cannot reach the LLM server" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_solve_problem_refuses_a_problem_without_those_tests(unsolved_sample_path, capsys):
    code = gencode("gen", "solve_problem", "--dataset_name", unsolved_sample_path, "--split_name", "train",
                   "--problem_name", SORTING, "--evaluation_test_type", "private_tests", "--source", "human")
    assert code == 2
    assert f"{SORTING!r} has no private_tests" in capsys.readouterr().err


def test_solve_problem_without_public_tests(train_rows, tmp_path, capsys):
    row = dict(train_rows[0], public_tests={"input": [], "output": []})
    path = tmp_path / "no_public.jsonl"
    path.write_text(json.dumps(row) + "\n")
    code = gencode("gen", "solve_problem", "--dataset_name", path, "--problem_name", row["name"],
                   "--evaluation_test_type", "public_tests", "--source", "human")
    assert code == 2
    assert "has no public_tests" in capsys.readouterr().err


def test_solve_problem_unknown_problem(train_sample_path, capsys):
    code = gencode("gen", "solve_problem", "--dataset_name", train_sample_path, "--problem_name", "no such problem",
                   "--source", "human")
    assert code == 2
    assert "no such problem" in capsys.readouterr().err


def test_dashed_spellings(chat_server, capsys):
    chat_server.reply_for("dashes", "fine")
    assert gencode("gen", "ask", "dashes?", "--model", "test-model", "--base-url", chat_server.url,
                   "--api-key", "k", "--max-tokens", "5") == 0
    assert capsys.readouterr().out == "fine\n"
    assert chat_server.chat_bodies[0]["max_tokens"] == 5


def test_solve_problem_prints_a_line_per_candidate_and_with_verbose_a_verdict_per_test(chat_server, train_rows,
                                                                                       tmp_path, capsys):
    row = next(r for r in train_rows if r["name"] == QUICK[0])
    problems = subset(train_rows, QUICK, tmp_path / "quick.jsonl")
    chat_server.reply_for(statement_marker(row), wrap(row["solutions"]["solution"][0], "prose"),
                          "```python\nprint(-1)\n```", "I do not know.")
    args = ["gen", "solve_problem", "--dataset_name", problems, "--split_name", "train", "--problem_name", row["name"],
            "--evaluation_test_type", "private_tests", "--k", "3", "--concurrency", "1", *llm_args(chat_server),
            "--no_progress"]
    code = gencode(*args)
    out = capsys.readouterr().out
    assert code == 0, out
    n = len(row["private_tests"]["input"])
    assert f"llm-0000 (llm, python3): {n}/{n} tests passed\n" in out
    assert f"llm-0001 (llm, python3): 0/{n} tests passed; failed: {n} wrong answers\n" in out
    # the reply without code is not run (it used to be reported as n wrong answers of the empty program)
    assert "llm-0002 (llm, python3): no code in the reply (no code): not run, judged incorrect\n" in out
    assert "  private test " not in out and len(out.splitlines()) == 4
    assert f"{row['name']}: 1 of 3 candidates passes every private_tests test" in out
    assert gencode(*args, "--verbose") == 0  # the same replies, from the cache
    out = capsys.readouterr().out
    assert out.count("  private test ") == 2 * n and f"  private test {n - 1}: wrong answer" in out


def test_solve_problem_with_human_and_mutant_sources(train_rows, tmp_path, capsys):
    row = next(r for r in train_rows if r["name"] == QUICK[1])
    problems = subset(train_rows, QUICK, tmp_path / "quick.jsonl")
    n = len(row["private_tests"]["input"])
    assert gencode("gen", "solve_problem", "--dataset_name", problems, "--problem_name", row["name"],
                   "--source", "human", "--no_progress") == 0
    assert f"human-c0 (human, python3): {n}/{n} tests passed" in capsys.readouterr().out
    assert gencode("gen", "solve_problem", "--dataset_name", problems, "--problem_name", row["name"],
                   "--source", "mutants", "--k", "4", "--no_progress") == 0
    out = capsys.readouterr().out
    assert out.count("(mutant, python3)") == 4


def test_solve_and_evaluate_set(chat_server, train_rows, tmp_path, capsys):
    rows = {r["name"]: r for r in train_rows if r["name"] in QUICK}
    a, b, c = (rows[name] for name in QUICK[:3])
    chat_server.reply_for(statement_marker(a), *[wrap(a["solutions"]["solution"][0], s)
                                                 for s in ("python_fence", "bare_fence", "no_fence")])
    chat_server.reply_for(statement_marker(b), wrap(b["solutions"]["solution"][0], "two_blocks"),
                          "```python\nprint('wrong')\n```", "```python\nprint('wrong')\n```")
    chat_server.reply_for(statement_marker(c), "Sorry, no idea.")
    problems = subset(train_rows, QUICK[:3], tmp_path / "three.jsonl")
    run = tmp_path / "run"
    args = ["gen", "solve_and_evaluate_set", "--dataset_name", problems, "--split_name", "train", "--k", "3",
            "--out", run, "--concurrency", "1", *llm_args(chat_server), "--bootstrap", "200", "--no_progress"]
    assert gencode(*args) == 0
    out = capsys.readouterr().out
    assert "pass@1" in out
    summary = json.loads((run / "summary.json").read_text())
    assert summary["source"] == "llm" and summary["samples_per_problem"] == 3
    for name in ("candidates.parquet", "candidates.jsonl", "generation.json", "executions.parquet",
                 "judgements.parquet", "metrics.parquet"):
        assert (run / name).exists(), name
    import pandas as pd

    judgements = pd.read_parquet(run / "judgements.parquet")
    correct = judgements.groupby("problem")["correct"].sum().to_dict()
    assert correct == {a["name"]: 3, b["name"]: 1, c["name"]: 0}
    metrics = pd.read_parquet(run / "metrics.parquet")
    pass1 = metrics[(metrics["metric"] == "pass@k") & (metrics["k"] == 1)].set_index("problem")["value"]
    assert pass1.to_dict() == pytest.approx({"ALL": (1 + 1 / 3 + 0) / 3, a["name"]: 1, b["name"]: 1 / 3,
                                             c["name"]: 0})
    assert summary["metrics"]["pass@k"]["pass@1"]["value"] == pytest.approx(4 / 9)
    # The same command again: nothing asked, nothing generated or executed twice, the same numbers.
    chat_server.reset_counts()
    assert gencode(*args) == 0
    assert chat_server.requests == []
    again = json.loads((run / "summary.json").read_text())
    assert again["metrics"] == summary["metrics"] and again["jobs_run"] == 0


def test_a_problem_whose_every_call_failed_counts_as_unsolved(chat_server, train_rows, tmp_path, capsys):
    # A statement too long for the model: every call for the second problem is refused (HTTP 400).
    from chat_server import Status

    a, b = [r for r in train_rows if r["name"] in QUICK[:2]]
    chat_server.reply_for(statement_marker(a), wrap(a["solutions"]["solution"][0], "python_fence"),
                          "```python\nprint('wrong')\n```")
    too_long = Status(400, message="This model's maximum context length is 8192 tokens.")
    chat_server.script(None, None, too_long, too_long)  # with one request at a time: A, A, B, B
    run = tmp_path / "run"
    assert gencode("gen", "solve_and_evaluate_set", "--dataset_name", subset(train_rows, QUICK[:2], tmp_path / "two.jsonl"),
                   "--k", "2", "--out", run, "--concurrency", "1", "--max_retries", "0", *llm_args(chat_server),
                   "--max_tests", "2", "--bootstrap", "100", "--no_progress") == 0
    out, err = capsys.readouterr()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["problems"] == 2 and summary["problems_with_candidates"] == 1
    assert summary["metrics"]["pass@k"]["pass@1"]["value"] == pytest.approx(0.25)
    assert summary["metrics"]["pass@k"]["pass@2"]["value"] == pytest.approx(0.5)
    assert summary["short_pools"]["reasons"] == {"LLM calls failed": [b["name"]]}
    assert summary["failed_samples"] == 2
    assert (f"note: 1 of 2 problems had fewer candidates with code than k=2 (1 without any, counted as unsolved at "
            f"every k): 1 whose LLM calls failed (2 calls; {b['name']!r}: HTTP 400") in out
    assert "maximum context length" in out
    assert "2 samples failed" in err
    # Scored again from the run folder: its generation errors keep the problem in the benchmark.
    assert gencode("eval", "pass_at_k", "--dataset_name", run, "--problems", tmp_path / "two.jsonl", "--out",
                   tmp_path / "again", "--max_tests", "2", "--bootstrap", "100", "--no_progress") == 0
    again = json.loads((tmp_path / "again" / "summary.json").read_text())
    assert again["problems"] == 2 and again["metrics"]["pass@k"]["pass@1"]["value"] == pytest.approx(0.25)
    assert again["short_pools"]["reasons"] == {"LLM calls failed": [b["name"]]}


def test_interrupted_run_resumes_without_asking_twice(chat_server, train_rows, tmp_path):
    for row in train_rows:
        if row["name"] in QUICK:
            chat_server.reply_for(statement_marker(row), wrap(row["solutions"]["solution"][0], "python_fence"))
    chat_server.delay = 0.5
    problems = subset(train_rows, QUICK, tmp_path / "four.jsonl")
    run = tmp_path / "run"
    env = dict(os.environ, ACODIUM_CACHE=str(tmp_path / "cache"))
    cmd = [str(GENCODE), "gen", "solve_and_evaluate_set", "--dataset_name", str(problems), "--k", "4",
           "--out", str(run), "--concurrency", "1", "--model", "test-model", "--base_url", chat_server.url,
           "--api_key", "k", "--no_progress", "--max_tests", "1", "--bootstrap", "50"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = run / "candidates.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not log.exists() or len(list(AppendLog(log).rows())) < 3):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    kept = len(list(AppendLog(log).rows()))
    assert 3 <= kept < 16
    chat_server.reset_counts()
    chat_server.delay = 0
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert chat_server.chat_requests == 16 - kept
    assert len(list(AppendLog(log).rows())) == 16


def test_ask_with_the_cache(chat_server, capsys):
    chat_server.reply_for("Twice?", "Once.")
    args = ["gen", "ask", "Twice?", *llm_args(chat_server), "--cache"]
    assert gencode(*args) == 0
    chat_server.reset_counts()
    assert gencode(*args) == 0
    out, err = capsys.readouterr()
    assert out == "Once.\nOnce.\n" and err.count(", cached]") == 1
    assert chat_server.requests == []


def test_solve_and_evaluate_set_from_a_file_of_candidates(train_rows, tmp_path, capsys):
    rows = [r for r in train_rows if r["name"] in QUICK[:2]]
    brought = tmp_path / "mine.jsonl"
    brought.write_text("".join(
        json.dumps({"problem": r["name"], "code": code}) + "\n"
        for r in rows for code in (r["solutions"]["solution"][0], "print('no')\n")
    ))
    run = tmp_path / "run"
    assert gencode("gen", "solve_and_evaluate_set", "--dataset_name", subset(train_rows, QUICK, tmp_path / "q.jsonl"),
                   "--source", "file", "--candidates_file", brought, "--k", "2", "--out", run,
                   "--bootstrap", "100", "--no_progress") == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["problems"] == 4 and summary["candidates"] == 4  # problems without candidates count 0
    assert "2 of 4 problems had fewer candidates with code than k=2 (2 without any" in capsys.readouterr().out
    assert summary["metrics"]["pass@k"]["pass@1"]["value"] == pytest.approx(0.25)
    assert summary["metrics"]["pass@k"]["pass@2"]["value"] == pytest.approx(0.5)


PHONE = "1060_A. Phone Numbers"
PHONE_CORRECT = "n = int(input())\ns = input()\nprint(min(n // 11, s.count('8')))\n"


def test_solve_problem_with_the_flow(chat_server, train_rows, tmp_path, capsys):
    from chat_server import FlowScript

    row = next(r for r in train_rows if r["name"] == PHONE)
    problems = subset(train_rows, [PHONE], tmp_path / "phone.jsonl")
    chat_server.responder = FlowScript(
        initial_code=wrap("n = int(input())\ns = input()\nprint(s.count('8'))\n", "python_fence"),
        fix="what_went_wrong: |\n  Eleven cards per number.\n\n" + wrap(PHONE_CORRECT, "python_fence"),
        model_tests="tests:\n- input: |\n    11\n    80000000000\n  output: |\n    1\n",
        explain_tests="The examples are right.")  # never readable: the stage is skipped, the run goes on
    run = tmp_path / "run"
    code = gencode("gen", "solve_problem", "--dataset_name", problems, "--problem_name", PHONE,
                   "--strategy", "flow", "--flow_ablation", "no_approaches", "--k", "1", "--out", run,
                   *llm_args(chat_server), "--no_progress")
    out = capsys.readouterr().out
    assert code == 0, out
    n = len(row["private_tests"]["input"])
    assert f"flow-0000 (flow, python3): {n}/{n} tests passed" in out
    # reflect, explain (3 unreadable replies), model tests, 3 code attempts (each fails public test 0), 1 fix
    assert "flow: 9 calls, 4/4 public and 1/1 model tests passed, 0 distrusted, 1 fix kept, 0 reverted, " \
           "skipped explain_tests; trace in " in out
    assert "trace in " + str(run / "flow_traces") in out
    assert json.loads((run / "generation.json").read_text())["flow_options"]["approaches"] is False


def test_flow_bad_options_exit_2(chat_server, train_rows, tmp_path, capsys):
    problems = subset(train_rows, [PHONE], tmp_path / "phone.jsonl")
    base = ["gen", "solve_problem", "--dataset_name", problems, "--problem_name", PHONE, *llm_args(chat_server)]
    assert gencode(*base, "--strategy", "flow", "--flow_ablation", "no_thinking") == 2
    assert "Unknown flow ablation 'no_thinking'" in capsys.readouterr().err
    assert gencode(*base, "--strategy", "flow", "--source", "human") == 2
    assert "--strategy flow asks a model" in capsys.readouterr().err
    assert gencode(*base, "--strategy", "flow", "--flow_max_calls", "0") == 2
    assert "--flow_max_calls must be a whole number of at least 1, not 0." in capsys.readouterr().err
    assert chat_server.chat_requests == 0


def test_solve_and_evaluate_set_with_the_flow(chat_server, train_rows, tmp_path, capsys):
    from chat_server import FlowScript

    problems = subset(train_rows, [PHONE], tmp_path / "phone.jsonl")
    chat_server.responder = FlowScript(initial_code=wrap(PHONE_CORRECT, "python_fence"))
    run = tmp_path / "run"
    args = ["gen", "solve_and_evaluate_set", "--dataset_name", problems, "--strategy", "flow", "--k", "2",
            "--flow_max_calls", "3", "--out", run, *llm_args(chat_server), "--bootstrap", "100", "--no_progress"]
    assert gencode(*args) == 0, capsys.readouterr().err
    summary = json.loads((run / "summary.json").read_text())
    assert summary["strategy"] == "flow" and summary["samples_per_problem"] == 2
    assert summary["metrics"]["pass@k"]["pass@2"]["value"] == 1.0
    # 3 calls per run: reflect, explain tests, then the last call is the code's (the rest skipped)
    assert chat_server.chat_requests == 2 * 3
    import pandas as pd

    meta = pd.read_parquet(run / "candidates.parquet")["meta"].map(json.loads)
    assert meta.map(lambda m: (m["calls"], m["stop_reason"])).tolist() == [(3, None), (3, None)]


def test_dropped_connections_mid_generation_are_failed_samples_not_a_dead_server(chat_server, train_rows, tmp_path,
                                                                                 capsys):
    # The server stays up but cuts three replies after the preflight passed: the run goes on, the
    # three samples are recorded as failed, and the same command asks for exactly those again.
    from chat_server import Drop

    rows = {r["name"]: r for r in train_rows if r["name"] in QUICK[:2]}
    for row in rows.values():
        chat_server.reply_for(statement_marker(row), wrap(row["solutions"]["solution"][0], "python_fence"))
    chat_server.script(Drop("close"), Drop("reset"), Drop("partial"))
    problems = subset(train_rows, QUICK[:2], tmp_path / "two.jsonl")
    run = tmp_path / "run"
    args = ["gen", "solve_and_evaluate_set", "--dataset_name", problems, "--k", "3", "--out", run,
            "--concurrency", "1", "--max_retries", "0", *llm_args(chat_server), "--max_tests", "1",
            "--bootstrap", "50", "--no_progress"]
    assert gencode(*args) == 0
    err = capsys.readouterr().err
    assert "Cannot reach" not in err and "3 samples failed and are not scored" in err
    errors = list(AppendLog(run / "generation_errors.jsonl").rows())
    assert len(errors) == 3 and all("The connection to" in e["error"] for e in errors)
    assert json.loads((run / "summary.json").read_text())["failed_samples"] == 3
    chat_server.reset_counts()
    assert gencode(*args) == 0
    assert chat_server.chat_requests == 3 and "samples failed" not in capsys.readouterr().err
    assert len(list(AppendLog(run / "candidates.jsonl").rows())) == 6


def test_a_dropped_connection_ends_one_flow_run_not_the_command(chat_server, train_rows, tmp_path, capsys):
    from chat_server import Drop, FlowScript

    problems = subset(train_rows, [PHONE], tmp_path / "phone.jsonl")
    chat_server.responder = FlowScript(initial_code=wrap(PHONE_CORRECT, "python_fence"))
    chat_server.script(Drop("reset"))  # the first call of the first run
    run = tmp_path / "run"
    code = gencode("gen", "solve_problem", "--dataset_name", problems, "--problem_name", PHONE,
                   "--strategy", "flow", "--flow_ablation", "no_approaches", "--k", "2", "--concurrency", "1",
                   "--max_retries", "0", "--out", run, *llm_args(chat_server), "--no_progress")
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "flow-0001 (flow, python3)" in out and "flow-0000" not in out
    assert "1 of 2 candidates failed (The connection to" in err
    assert [e["candidate_id"] for e in AppendLog(run / "generation_errors.jsonl").rows()] == ["flow-0000"]


def test_test_inputs_fill_the_ai_set_and_codet_ranks_by_them(chat_server, train_rows, tmp_path, capsys):
    from acodium.generate import reference_candidates
    from acodium.mutate import mutate_inputs

    good, bad = [r for r in train_rows if r["name"] in QUICK[:2]]
    fresh = mutate_inputs(good["public_tests"]["input"], 2, seed=3)
    chat_server.reply_for(statement_marker(good), "".join(
        f"Input:\n```\n{inp}```\nOutput:\n```\n{out}\n```\n" for inp, out in zip(fresh, ["1", "2"])))
    chat_server.reply_for(statement_marker(bad), "Here is a test: the empty graph.")
    src = subset(train_rows, QUICK[:2], tmp_path / "two.jsonl")
    out = tmp_path / "with_ai.jsonl"
    assert gencode("gen", "test_inputs", "--dataset_name", src, "--out", out, "--count", "3", "--no_progress",
                   *llm_args(chat_server)) == 0
    stdout = capsys.readouterr().out
    assert "2 model-written inputs kept for 2 problems (2 with the model's output) from 2 calls: 0 failed, " \
           "1 gave no usable input." in stdout
    rows = {r["name"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert rows[good["name"]]["ai_tests"]["input"] == fresh and rows[bad["name"]]["ai_tests"]["input"] == []
    calls = [json.loads(line) for line in (tmp_path / "with_ai.jsonl.calls.jsonl").read_text().splitlines()]
    assert sorted(c["kept"] for c in calls) == [0, 2]
    reference_candidates(train_rows[:0] + [good, bad]).to_parquet(tmp_path / "cands.parquet")
    assert gencode("eval", "pass_at_k", "--dataset_name", tmp_path / "cands.parquet", "--problems", out, "--k", "1",
                   "--n", "1", "--max_tests", "3", "--time_limit", "3", "--policies", "codet,mbr_exec",
                   "--clustering_sets", "ai", "--no_cache", "--no_progress", "--bootstrap", "50") == 0
    report = capsys.readouterr().out
    assert any(line.split()[:3] == ["n@k", "codet", "1@1"] for line in report.splitlines())
