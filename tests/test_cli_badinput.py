"""Bad input to every `gencode` command: one sentence on stderr, exit code 2, nothing run, no traceback.

Through the in-process entry point the `gencode` script calls (a traceback would fail the
test as an uncaught exception), and a few through the real binary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pandas as pd
import pytest

from acodium.cli import cli, main
from acodium.cli.common import Number, physical_memory_mib
from acodium.errors import UserError
from acodium.execute.types import Limits, Program
from chat_server import Drop, Status, chat_server, wrap  # noqa: F401

GENCODE = Path(sys.executable).with_name("gencode")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Caches, saved datasets and run folders in tmp_path; no key or server from the environment."""
    monkeypatch.setenv("ACODIUM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ACODIUM_DATA", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ACODIUM_MODEL"):
        monkeypatch.delenv(var, raising=False)


def refused(capsys, *args) -> str:
    """Run gencode in-process, assert it refused with one sentence (exit 2); the sentence."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert exit_info.value.code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gencode: ") and lines[0].endswith("."), err
    assert "Traceback" not in err and out == ""
    return lines[0]


def ok(capsys, *args) -> tuple[str, str]:
    capsys.readouterr()
    try:
        main([str(a) for a in args])
    except SystemExit as e:
        assert not e.code, capsys.readouterr().err
    out = capsys.readouterr()
    return out.out, out.err


# ---- numbers ------------------------------------------------------------------------------------

EXEC = ["exec", "run", "prog.py"]
ASK = ["gen", "ask", "hello", "--api_key", "k", "--base_url", "http://127.0.0.1:9/v1"]
SOLVE = ["gen", "solve_problem", "--dataset_name", "d.jsonl", "--problem_name", "p", "--source", "human"]
SET = ["gen", "solve_and_evaluate_set", "--dataset_name", "d.jsonl", "--out", "run", "--source", "human"]
REFS = ["eval", "references", "--dataset", "starter", "--out", "run"]
PASS = ["eval", "pass_at_k", "--dataset_name", "d.jsonl", "--out", "run"]
SHOW = ["data", "show", "starter"]
ETL = ["data", "etl", "--source", "starter", "--output_dataset_name", "x"]
SWEEP = ["sweep", "s.yaml", "--out", "run"]

SECONDS = "must be a number of seconds above 0 and at most"
POSITIVE = "must be a whole number of at least 1"
NATURAL = "must be a whole number of at least 0"

NUMBERS = [
    *[(EXEC, "--time_limit", v, SECONDS) for v in ("nan", "inf", "-inf", "0", "-1", "1e12", "ten")],
    *[(EXEC, "--memory_mb", v, f"must be a whole number of MiB from 1 to {physical_memory_mib()} "
                                "(the memory of this machine)")
      for v in ("0", "-256", str(physical_memory_mib() + 1), "1.5")],
    (ASK, "--timeout", "-1", "must be a number of seconds above 0 and at most 86400"),
    (ASK, "--timeout", "0", SECONDS),
    (ASK, "--timeout", "nan", SECONDS),
    (ASK, "--max_retries", "-1", NATURAL),
    (ASK, "--temperature", "-0.5", "must be a finite number of at least 0"),
    (ASK, "--temperature", "inf", "must be a finite number of at least 0"),
    (ASK, "--top_p", "1.5", "must be a number from 0 to 1"),
    (ASK, "--max_tokens", "0", POSITIVE),
    (SOLVE, "--k", "0", POSITIVE),
    (SOLVE, "--samples", "-1", POSITIVE),
    (SOLVE, "--time_limit", "-1", SECONDS),
    (SOLVE, "--concurrency", "0", POSITIVE),
    (SOLVE, "--rpm", "0", "must be a finite number above 0"),
    (SOLVE, "--correct_fraction", "1.5", "must be a number from 0 to 1"),
    (SOLVE, "--seed", "-1", NATURAL),
    (SOLVE, "--flow_max_calls", "0", POSITIVE),
    (SOLVE, "--flow_model_tests", "-1", NATURAL),
    (SET, "--k", "-3", POSITIVE),
    (SET, "--sample_rate", "0", "must be a number above 0 and at most 1"),
    (SET, "--sample_rate", "1.5", "must be a number above 0 and at most 1"),
    (SET, "--n", "0", POSITIVE),
    (SET, "--max_tests", "0", POSITIVE),
    (SET, "--max_tests", "-1", POSITIVE),
    (SET, "--workers", "0", POSITIVE),
    (SET, "--workers", "-4", POSITIVE),
    (SET, "--bootstrap", "0", POSITIVE),
    (SET, "--time_limit", "inf", SECONDS),
    (REFS, "--max_tests", "0", POSITIVE),
    (REFS, "--max_solutions", "-1", POSITIVE),
    (REFS, "--min_correct_share", "-0.1", "must be a number from 0 to 1"),
    (REFS, "--min_correct_share", "1.1", "must be a number from 0 to 1"),
    (REFS, "--min_correct_share", "nan", "must be a number from 0 to 1"),
    (REFS, "--time_limit", "nan", SECONDS),
    (REFS, "--time_limit", "1e12", SECONDS),
    (REFS, "--workers", "0", POSITIVE),
    (PASS, "--n", "0", POSITIVE),
    (PASS, "--sample_rate", "0", "must be a number above 0 and at most 1"),
    (PASS, "--seed", "-1", NATURAL),
    (PASS, "--max_tests", "-1", POSITIVE),
    (PASS, "--time_limit", "0", SECONDS),
    (PASS, "--workers", "0", POSITIVE),
    (PASS, "--bootstrap", "-1", POSITIVE),
    (SHOW, "--max_chars", "-5", POSITIVE),
    (SHOW, "--sample_rate", "2", "must be a number above 0 and at most 1"),
    (SHOW, "--limit", "0", POSITIVE),
    (SHOW, "--min_rating", "-1", NATURAL),
    (SHOW, "--max_rating", "x", NATURAL),
    (ETL, "--limit", "-1", POSITIVE),
    (ETL, "--seed", "-1", NATURAL),
    (SWEEP, "--workers", "0", POSITIVE),
    (SWEEP, "--timeout", "-1", "must be a number of seconds above 0 and at most 86400"),
]


@pytest.mark.parametrize("command, flag, value, message", NUMBERS,
                         ids=[f"{c[0]}-{c[1]}{f}={v}" for c, f, v, _ in NUMBERS])
def test_an_invalid_number_is_refused_naming_the_option(capsys, tmp_path, command, flag, value, message):
    (tmp_path / "prog.py").write_text("open('ran', 'w').write('yes')\n")
    sentence = refused(capsys, *command, flag, value)
    shown = "--k" if flag == "--samples" else flag
    assert sentence.startswith(f"gencode: {shown} {message}") and sentence.endswith(f"not {value}."), sentence
    assert not (tmp_path / "run").exists() and not (tmp_path / "ran").exists()


def test_every_numeric_option_of_every_command_is_checked_in_one_place():
    """No numeric option may fall back to click's bare int/float (which takes nan, inf, 0 and -1)."""
    bare = (click.types.IntParamType, click.types.FloatParamType)
    found, loose = 0, []

    def walk(command, path):
        nonlocal found
        if isinstance(command, click.Group):
            ctx = click.Context(command)
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name), f"{path} {name}")
            return
        for param in command.params:
            if isinstance(param.type, Number):
                found += 1
            elif isinstance(param.type, bare):
                loose.append(f"{path} {param.opts[0]}")

    walk(cli, "gencode")
    assert loose == []
    assert found >= 50


def test_valid_numbers_still_run(capsys, tmp_path):
    (tmp_path / "prog.py").write_text("print(6 * 7)\n")
    out, err = ok(capsys, *EXEC, "--time_limit", "0.5", "--memory_mb", "128", "--expected", "42")
    assert out == "42\n" and "status=OK passed=True" in err


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 0, -1.0, 1e12, "2"])
def test_limits_refuse_a_time_that_is_no_limit(value):
    with pytest.raises(UserError, match="time limit must be a number of seconds above 0"):
        Limits(time_s=value)


def test_limits_refuse_memory_and_output_that_are_no_limit():
    with pytest.raises(UserError, match="memory_bytes limit must be a whole number of bytes above 0"):
        Limits(time_s=1, memory_bytes=0)
    with pytest.raises(UserError, match="output_bytes limit"):
        Limits(time_s=1, output_bytes=-1)
    assert Limits(time_s=2, memory_bytes=64 << 20).key() == f"2s/{64 << 20}b/{32 << 20}o"


@pytest.mark.parametrize("code", [None, 5, 1.5])
def test_a_program_needs_text(code):
    with pytest.raises(UserError, match="A program's code must be text"):
        Program("python3", code)


# ---- files and values that used to end in tracebacks --------------------------------------------

def test_a_non_utf8_input_file_is_one_sentence(capsys, tmp_path):
    (tmp_path / "prog.py").write_text("print(input())\n")
    (tmp_path / "in.bin").write_bytes(b"\xff\xfe\x00 binary")
    sentence = refused(capsys, *EXEC, "--input_file", "in.bin")
    assert sentence == "gencode: The input file in.bin is not UTF-8 text (byte 0xff at position 0)."
    (tmp_path / "out.bin").write_bytes(b"ok\n\xc3")
    assert "The expected file out.bin is not UTF-8 text (byte 0xc3 at position 3)" in \
        refused(capsys, *EXEC, "--expected_file", "out.bin")
    (tmp_path / "prog.py").write_bytes(b"print(1)\n# \xe9t\xe9\n")
    assert "The program file prog.py is not UTF-8 text" in refused(capsys, *EXEC)


def test_a_non_utf8_sweep_file_is_one_sentence(capsys, tmp_path):
    (tmp_path / "s.yaml").write_bytes(b"notebooks: [a.ipynb]\nfixed: {name: \xff\xfe}\n")
    assert refused(capsys, *SWEEP) == "gencode: The sweep file s.yaml is not UTF-8 text (byte 0xff at position 35)."
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("args, what", [
    ([*SOLVE, "--source", "llm", "--api_key", "k", "--prompt", "bin.toml"], "prompt file"),
    ([*SOLVE, "--source", "llm", "--api_key", "k", "--strategy", "flow", "--flow_prompts", "bin.toml"], "prompt file"),
    ([*ASK, "--prices", "bin.toml"], "price table"),
])
def test_a_non_utf8_prompt_or_price_file_is_one_sentence(capsys, tmp_path, args, what):
    (tmp_path / "bin.toml").write_bytes(b'user = "\xff"\n')
    assert refused(capsys, *args) == f"gencode: The {what} bin.toml is not UTF-8 text (byte 0xff at position 8)."


@pytest.mark.parametrize("languages, message", [
    ("unknown", "The unknown solutions cannot be run: the sandbox runs python3, cpp, java, python2 only (--languages)."),
    ("python3,0", "The unknown solutions cannot be run"),
    ("cobol", "Unknown language 'cobol'"),
    (",", "--languages names no language"),
])
def test_references_in_a_language_nothing_runs(capsys, tmp_path, languages, message):
    assert message in refused(capsys, *REFS, "--languages", languages, "--no_progress")
    assert not (tmp_path / "run").exists()


def test_references_with_nothing_to_run(capsys, tmp_path, train_rows):
    # The starter problems have no generated tests; these four real problems have no cpp solution kept.
    assert "starter has no generated_tests to run the solutions on" in \
        refused(capsys, *REFS, "--test_sets", "generated", "--no_progress")
    assert "Unknown test set 'secret' in --test_sets" in refused(capsys, *REFS, "--test_sets", "secret")
    rows = [dict(r, solutions={"language": [3], "solution": [r["solutions"]["solution"][0]]},
                 incorrect_solutions={"language": [], "solution": []}) for r in train_rows[:2]]
    (tmp_path / "py.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert "py.jsonl has no cpp solution to run (--languages)." in \
        refused(capsys, "eval", "references", "--dataset", "py.jsonl", "--out", "run", "--languages", "cpp",
                "--no_progress")
    assert not (tmp_path / "run").exists()


def bad_candidates(train_rows, tmp_path, code) -> Path:
    """A problems file of two real problems, and a candidates file whose second row's code is `code`."""
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train_rows[:2]))
    name = train_rows[0]["name"]
    rows = [{"problem": name, "candidate_id": "good", "language": "python3", "code": "print(1)\n"},
            {"problem": name, "candidate_id": "bad", "language": "python3", "code": code}]
    path = tmp_path / "cands.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize("code, kind", [(None, "null"), (5, "a number (5)"), (2.5, "a number (2.5)")])
def test_pass_at_k_refuses_candidates_whose_code_is_not_text(capsys, tmp_path, train_rows, code, kind):
    path = bad_candidates(train_rows, tmp_path, code)
    sentence = refused(capsys, "eval", "pass_at_k", "--dataset_name", path, "--problems", "d.jsonl",
                       "--out", "run", "--no_cache", "--no_progress")
    assert f"have a code that is not text, for instance 'bad' of {train_rows[0]['name']!r}, whose code is {kind}" \
        in sentence
    if code is None:  # parquet holds a null in a string column (not a number)
        pd.read_json(path, lines=True).to_parquet(tmp_path / "cands.parquet")
        assert "have a code that is not text" in refused(
            capsys, "eval", "pass_at_k", "--dataset_name", "cands.parquet", "--problems", "d.jsonl", "--no_cache")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("code, kind", [(None, "null"), (7, "the number 7")])
def test_the_file_source_refuses_candidates_whose_code_is_not_text(capsys, tmp_path, train_rows, code, kind):
    path = bad_candidates(train_rows, tmp_path, code)
    sentence = refused(capsys, *SET, "--source", "file", "--candidates_file", path, "--k", "2", "--no_progress")
    assert sentence == (f"gencode: The candidates file {path} has no program text in 'code' for 'bad' of problem "
                        f"{train_rows[0]['name']!r} (it holds {kind}).")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("args, message", [
    (["eval", "references", "--out", "run"], "Missing option '--dataset' (see 'gencode eval references --help')."),
    ([*REFS, "--backend", "docker"], "Invalid value for '--backend': 'docker' is not one of"),
    ([*EXEC, "--no_such_option"], "No such option '--no_such_option' (see 'gencode exec run --help')."),
    (["gen", "ask"], "Missing argument 'PROMPT'"),
    (["exec", "run", "."], "is a directory"),
    (["gen", "summon"], "No such command 'summon'"),
])
def test_usage_errors_are_one_sentence_too(capsys, tmp_path, args, message):
    assert message in refused(capsys, *args)


def test_ask_whose_one_call_fails_is_one_sentence(capsys, chat_server):
    chat_server.script(*[Status(500)] * 2)
    sentence = refused(capsys, "gen", "ask", "Hello?", "--model", "test-model", "--base_url", chat_server.url,
                       "--api_key", "k", "--max_retries", "1")
    assert sentence == ("gencode: The model 'test-model' gave no reply: HTTP 500 after the client's retries: "
                        "scripted error.")
    chat_server.script(Drop("reset"))
    assert "gave no reply: The connection to" in refused(
        capsys, "gen", "ask", "Hello?", "--model", "test-model", "--base_url", chat_server.url, "--api_key", "k",
        "--max_retries", "0")


@pytest.mark.parametrize("args", [
    [*EXEC, "--time_limit", "nan"],
    [*REFS, "--languages", "unknown"],
    ["exec", "run", "prog.py", "--input_file", "in.bin"],
])
def test_the_real_binary_prints_one_line_and_no_traceback(tmp_path, args):
    (tmp_path / "prog.py").write_text("print(1)\n")
    (tmp_path / "in.bin").write_bytes(b"\x80")
    done = subprocess.run([str(GENCODE), *args], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env=dict(os.environ, ACODIUM_CACHE=str(tmp_path / "cache")))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("gencode: ") and "Traceback" not in done.stderr


def test_a_damaged_llm_cache_is_one_sentence_and_no_cache_goes_around_it(capsys, tmp_path, chat_server, train_rows):
    row = train_rows[0]
    chat_server.reply_for(row["description"][:160], wrap(row["solutions"]["solution"][0], "python_fence"))
    (tmp_path / "d.jsonl").write_text(json.dumps(row) + "\n")
    cache = tmp_path / "cache" / "llm" / "responses.sqlite"
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"\x00" * 100 + b"half of a database, the rest lost\n" * 100)
    args = ["gen", "solve_and_evaluate_set", "--dataset_name", "d.jsonl", "--out", "run", "--k", "1",
            "--model", "test-model", "--base_url", chat_server.url, "--api_key", "k", "--max_tests", "1",
            "--bootstrap", "20", "--no_progress"]
    sentence = refused(capsys, *args)
    assert sentence == (f"gencode: The LLM response cache {cache} is damaged (file is not a database); delete it "
                        "(its replies will be asked again), or run without the cache (--no_cache).")
    assert chat_server.chat_requests == 0 and not (tmp_path / "run").exists()
    out, _ = ok(capsys, *args, "--no_cache")
    assert "pass@1" in out and chat_server.chat_requests == 1


def test_a_server_that_never_answers_the_preflight_is_one_sentence(capsys):
    import socket

    with socket.socket() as silent:  # accepts connections (the kernel's backlog), never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        sentence = refused(capsys, "gen", "ask", "Hello?", "--model", "m", "--base_url", url, "--api_key", "k",
                           "--timeout", "0.3", "--max_retries", "0")
    assert sentence == (f"gencode: The LLM server at {url} failed the check made before any work, listing its "
                        "models (The request timed out after the client's retries).")


@pytest.mark.parametrize("command", [SET, REFS, PASS, SOLVE + ["--out", "run"], SWEEP])
def test_an_output_folder_that_cannot_be_written_is_refused_before_any_work(capsys, tmp_path, command):
    (tmp_path / "taken").write_text("a file, not a folder\n")
    args = [a if a != "run" else "taken/run" for a in command]
    assert refused(capsys, *args) == "gencode: --out taken/run cannot be written: taken is not a folder."


def test_a_cache_folder_that_cannot_be_written_is_refused_before_any_work(capsys, tmp_path, monkeypatch,
                                                                            train_rows):
    (tmp_path / "d.jsonl").write_text(json.dumps(train_rows[0]) + "\n")
    (tmp_path / "taken").write_text("a file, not a folder\n")
    monkeypatch.setenv("ACODIUM_CACHE", str(tmp_path / "taken" / "cache"))
    assert refused(capsys, "eval", "pass_at_k", "--dataset_name", "d.jsonl", "--out", "run", "--max_tests", "1") == (
        f"gencode: The cache folder {tmp_path / 'taken' / 'cache'} cannot be written: {tmp_path / 'taken'} is not "
        "a folder; set ACODIUM_CACHE elsewhere.")
    assert not (tmp_path / "run").exists()
    out, _ = ok(capsys, "eval", "pass_at_k", "--dataset_name", "d.jsonl", "--max_tests", "1", "--no_cache",
                "--bootstrap", "10", "--no_progress")
    assert "pass@1" in out


def test_test_inputs_bad_input_is_one_sentence_before_any_call(capsys, chat_server, tmp_path):
    args = ["gen", "test_inputs", "--dataset_name", "starter", "--out", tmp_path / "ai.jsonl", "--model", "test-model",
            "--base_url", chat_server.url]
    assert refused(capsys, *args, "--prompt", "nope").startswith("gencode: No prompt 'nope'")
    assert "No API key" in refused(capsys, *args)  # no key in the environment nor given
    assert refused(capsys, *args, "--api_key", "k", "--count", "0").startswith("gencode: --count")
    assert chat_server.chat_requests == 0 and not (tmp_path / "ai.jsonl").exists()
