"""largest_clusters' model scorer: replies read, only public passers asked, calls cached and recorded, the pick
by the model's scores computed by hand, against the local chat server with scripted replies, on real problems."""

from __future__ import annotations

import json
import socket

import numpy as np
import pandas as pd
import pytest
from chat_server import chat_server  # noqa: F401

from acodium.errors import UserError
from acodium.evaluation import score_candidates
from acodium.evaluation.selection_data import with_scores
from acodium.execute import Execution
from acodium.generate import reference_candidates
from acodium.metrics import metrics_table
from acodium.model_scorer import UNSCORED, ModelScorer, messages_for, score_in, score_programs
from acodium.policies import get_policy, get_scorer


def settings(server, tmp_path, **kw) -> ModelScorer:
    return ModelScorer(model="test-model", base_url=server.url, api_key="sk-test",
                       cache_path=str(tmp_path / "llm.sqlite"), **kw)


def scores_by_marker(table: dict[str, str]):
    """A responder: the reply for the first marker found in the program sent."""
    def respond(body):
        user = body["messages"][-1]["content"]
        return next((reply for marker, reply in table.items() if marker in user), "Score: 50")
    return respond


def test_reading_a_score_from_a_reply():
    assert score_in("The loop is O(n log n) and handles n = 1.\nScore: 85") == 85.0
    assert score_in("Score: 20 at first... on reflection, Score: 70.") == 70.0  # the last one said
    assert score_in("**Score**: 42.5") == 42.5 and score_in("score is 7") == 7.0
    assert score_in(" 90 ") == 90.0 and score_in("90%") == 90.0 and score_in("75/100") == 75.0
    assert score_in("Score: 250") == 100.0 and score_in("Score: -3") == 0.0  # clipped to 0..100
    assert score_in("It fails for n = 1, I think.") is None  # a number, but not a score
    assert score_in("") is None and score_in(None) is None


def test_the_prompt_shows_the_statement_language_and_program(train_rows):
    row = train_rows[0]
    user = messages_for(row, "print(42)\n", "python3", ModelScorer(model="m"))[1]["content"]
    assert row["description"][:200] in user and "print(42)" in user and "(python3)" in user
    assert "Score: N" in user
    with pytest.raises(UserError, match=r"^No prompt 'nope'"):
        messages_for(row, "x", "python3", ModelScorer(model="m", prompt="nope"))
    with pytest.raises(UserError, match="needs the name of the model"):
        ModelScorer(model=" ")
    with pytest.raises(UserError, match=r"^The model scorer asks an LLM"):
        get_scorer("model")


@pytest.fixture
def hand_case(train_rows):
    """One real problem, four programs: a and b in one cluster, c alone, d failing the public tests.

    Only a is correct. largest_clusters at k=4, n=1 keeps the largest cluster {a, b} and submits its
    best-scored member: a when the model prefers it (1@4 = 1), b when it prefers b (1@4 = 0).
    """
    row = train_rows[0]
    code = pd.DataFrame({"problem": row["name"], "candidate_id": ["a", "b", "c", "d"],
                         "code": ["# program A\nprint(1)\n", "# program B\nprint(2)\n", "# program C\nprint(3)\n",
                                  "# program D\nprint(4)\n"], "language": "python3"})
    judged = pd.DataFrame({"problem": row["name"], "candidate_id": ["a", "b", "c", "d"],
                           "passes_public": [True, True, True, False], "correct": [True, False, False, False],
                           "cluster": [0, 0, 1, 2], "submitted_rank": pd.array([pd.NA] * 4, dtype="Int64"),
                           "slow": False})
    return {row["name"]: row}, judged, code


def one_at_four(judged) -> float:
    table = metrics_table(judged, ks=[4], ns=[1], policies={"largest_clusters": get_policy("largest_clusters")},
                          trials=200, resamples=10, per_problem=False, problems=list(judged["problem"].unique()))
    return float(table[table["metric"] == "n@k largest_clusters"]["value"].iloc[0])


def test_only_public_passers_are_asked_and_largest_clusters_picks_by_the_model(chat_server, hand_case, tmp_path):
    rows, judged, code = hand_case
    chat_server.responder = scores_by_marker({"program A": "Looks right.\nScore: 80",
                                              "program B": "Score: 30", "program C": "Score: 95"})
    calls: list[dict] = []
    scored = with_scores(judged, settings(chat_server, tmp_path), code, rows, calls=calls)
    assert scored["score"].tolist() == [80.0, 30.0, 95.0, -np.inf]  # d fails the public tests: never asked
    sent = [b["messages"][-1]["content"] for b in chat_server.chat_bodies]
    assert len(sent) == 3 and not any("program D" in s for s in sent)
    assert [r["score"] for r in calls] == [80.0, 30.0, 95.0] and not any(r["cached"] for r in calls)
    # c scores best, but its cluster is smaller: the largest cluster's best member, a, is submitted.
    assert one_at_four(scored) == 1.0
    # Another model prefers b: largest_clusters follows it (the length scorer cannot tell a from b).
    chat_server.responder = scores_by_marker({"program A": "Score: 10", "program B": "Score: 60"})
    other = with_scores(judged, settings(chat_server, tmp_path, temperature=0.5), code, rows)
    assert other["score"].tolist()[:2] == [10.0, 60.0] and one_at_four(other) == 0.0


def test_a_reply_without_a_score_costs_its_call_and_scores_lowest_and_a_rerun_asks_nothing(chat_server, hand_case,
                                                                                          tmp_path):
    rows, judged, code = hand_case
    chat_server.responder = scores_by_marker({"program A": "I cannot tell without running it.",
                                              "program B": "Score: 0", "program C": "Score: 40"})
    calls: list[dict] = []
    scored = with_scores(judged, settings(chat_server, tmp_path), code, rows, calls=calls)
    assert scored["score"].tolist()[:3] == [UNSCORED, 0.0, 40.0] and UNSCORED < 0.0
    assert calls[0]["score"] is None and calls[0]["error"].startswith("no score in the reply: I cannot tell")
    assert calls[0]["completion_tokens"] > 0  # the call was made, and paid for
    assert one_at_four(scored) == 0.0  # b (scored 0) is preferred to a (no score)
    requests = chat_server.chat_requests
    again: list[dict] = []
    rescored = with_scores(judged, settings(chat_server, tmp_path), code, rows, calls=again)
    assert chat_server.chat_requests == requests and all(r["cached"] for r in again)  # the cache answered
    assert rescored["score"].tolist() == scored["score"].tolist()


def test_identical_programs_are_asked_once(chat_server, train_rows, tmp_path):
    rows = {train_rows[0]["name"]: train_rows[0]}
    name = train_rows[0]["name"]
    chat_server.responder = scores_by_marker({"print(1)": "Score: 65"})
    made = score_programs(rows, [(name, "print(1)\n", "python3")] * 3 + [(name, "print(2)\n", "python3")],
                          settings(chat_server, tmp_path), progress=False)
    assert made.scores.tolist() == [65.0, 65.0, 65.0, 50.0] and made.calls == 2 == chat_server.chat_requests
    assert [r["candidates"] for r in made.records] == [3, 1]


def test_an_unreachable_server_is_one_sentence(hand_case, tmp_path):
    rows, judged, code = hand_case
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    scorer = ModelScorer(model="test-model", base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-test",
                         max_retries=0, timeout=5.0, cache_path=str(tmp_path / "llm.sqlite"))
    with pytest.raises(UserError, match=r"^Cannot reach the LLM server at http://127\.0\.0\.1") as e:
        with_scores(judged, scorer, code, rows)
    assert "\n" not in str(e.value)


def test_score_candidates_with_the_model_scorer_records_its_calls(chat_server, train_rows, tmp_path):
    rows = train_rows[:2]
    pool = reference_candidates(rows)
    chat_server.default_reply = "Score: 77"
    run = tmp_path / "run"
    common = dict(ks=[1], n=1, policies=["largest_clusters"], execution=Execution(time_s=3.0), max_tests=3,
                  bootstrap=50, trials=50, progress=False, run_dir=run, scorer=settings(chat_server, tmp_path))
    scores = score_candidates(rows, pool, **common)
    passing = int(scores.judgements["passes_public"].sum())
    assert passing >= 1 and (scores.judgements["score"] == 77.0).sum() == passing
    summary = json.loads((run / "summary.json").read_text())
    assert summary["scorer"] == "model" and summary["scorer_calls"]["model"] == "test-model"
    assert summary["scorer_calls"]["calls"] == passing == chat_server.chat_requests
    assert len(json.loads((run / "scorer_calls.json").read_text())) == passing
    assert f"note: the model scorer (test-model) made {passing} call(s)" in scores.report()
    again = score_candidates(rows, pool, **common)  # a re-run: executions resumed, replies from the cache
    assert chat_server.chat_requests == passing and again.summary["scorer_calls"]["cached"] == passing
    with pytest.raises(UserError, match=r"^Unknown scorer 'tokens'"):
        score_candidates(rows, pool, **dict(common, scorer="tokens"))


def test_the_command_line_scores_with_a_model(capsys, chat_server, train_rows, tmp_path, monkeypatch):
    from cli_runner import gencode_in_process as run

    monkeypatch.setenv("ACODIUM_CACHE", str(tmp_path / "cache"))
    reference_candidates(train_rows[:2]).to_parquet(tmp_path / "cands.parquet")
    problems = tmp_path / "two.jsonl"
    problems.write_text("".join(json.dumps(row) + "\n" for row in train_rows[:2]))
    chat_server.default_reply = "Score: 64"
    args = ["eval", "pass_at_k", "--dataset_name", tmp_path / "cands.parquet", "--problems", problems, "--k", "1",
            "--max_tests", "3", "--time_limit", "3", "--no_cache", "--no_progress", "--bootstrap", "50",
            "--policies", "largest_clusters", "--scorer", "model", "--scorer_model", "test-model",
            "--scorer_base_url", chat_server.url, "--scorer_api_key", "sk-test", "--out", tmp_path / "run"]
    code, stdout, stderr = run(capsys, *args)
    assert code == 0, stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["scorer"] == "model" and summary["scorer_calls"]["calls"] == chat_server.chat_requests >= 1
    assert (tmp_path / "cache").exists()  # the replies went to the LLM cache a re-run reads
    code, stdout, stderr = run(capsys, *args[:-2], "--scorer_base_url", "http://127.0.0.1:9/v1")
    assert code == 2 and stderr.strip().startswith("gencode: Cannot reach the LLM server at http://127.0.0.1:9")
