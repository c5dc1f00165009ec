"""Model-written test inputs (the "ai" set): replies read, inputs checked and deduplicated, calls cached,
against the local chat server with scripted replies, on real problems."""

from __future__ import annotations

import pytest
from chat_server import Status, chat_server  # noqa: F401

from acodium.errors import UserError
from acodium.evaluation import score_candidates
from acodium.execute import Execution
from acodium.generate import reference_candidates
from acodium.mutate import mutate_inputs
from acodium.mutate.model_inputs import (
    ModelInputSettings,
    add_model_tests,
    messages_for,
    shape_mismatch,
    test_cases_of,
)


def case(inp: str, out: str | None = None, label: str = "Input:") -> str:
    text = f"{label}\n```\n{inp.strip()}\n```\n"
    return text + (f"Output:\n```\n{out.strip()}\n```\n" if out is not None else "")


def settings(server, tmp_path, **kw) -> ModelInputSettings:
    return ModelInputSettings(model="test-model", base_url=server.url, api_key="sk-test",
                              cache_path=str(tmp_path / "llm.sqlite"), **kw)


@pytest.fixture
def problem(train_rows):
    row = train_rows[0]
    public = row["public_tests"]["input"]
    fresh = mutate_inputs(public, 3, seed=7)
    assert len(fresh) == 3 and all(shape_mismatch(f, public) is None for f in fresh)
    return row, public, fresh


def test_reading_a_reply_pairs_outputs_with_their_inputs():
    reply = ("Sure! Test 1 (smallest)\n```\n1\n5\n```\nExpected output:\n```\n5\n```\n"
             "Test 2:\n~~~text\n2\n1 2\n~~~\nAnswer:\n```\n3\n```\nTest 3 (cut off):\n```\n3\n1 2")
    assert test_cases_of(reply) == [("1\n5\n", "5\n"), ("2\n1 2\n", "3\n"), ("3\n1 2\n", None)]
    assert test_cases_of("No tests, sorry.") == [] and test_cases_of(None) == []


def test_an_input_must_read_like_the_examples():
    examples = ["3\n1 2 3\n", "1\n7\n"]
    assert shape_mismatch("4\n9 9 9 9\n", examples) is None  # sizes vary: the count of tokens need not match
    assert shape_mismatch("2\n1.5 2\n", examples) == "token type"
    assert shape_mismatch("2 3\n1 2\n", examples) == "first line"
    assert shape_mismatch("  \n", examples) == "empty"
    fixed = ["3 4\n", "10 2\n"]  # every example one line of two integers
    assert shape_mismatch("1 2\n3 4\n", fixed) == "line count" and shape_mismatch("7\n", fixed) == "tokens per line"
    assert shape_mismatch("5 6 7\n", fixed) == "tokens per line"


def test_inputs_that_parse_are_kept_others_and_duplicates_dropped_and_calls_cached(chat_server, problem, tmp_path):
    row, public, fresh = problem
    reply = (case(fresh[0], "42") + case(" " + fresh[0].replace("\n", " \n")) + case(public[0])  # two duplicates
             + case("not an input at all, just words") + case(fresh[1]))
    chat_server.reply_for(row["description"][:60], reply)
    made = add_model_tests([row], settings(chat_server, tmp_path, count=5), progress=False)
    ai = made.rows[0]["ai_tests"]
    assert ai["input"] == [fresh[0], fresh[1]]
    assert ai["output"] == ["42\n", ""] and ai["output_confirmed"] == [False, False]  # a model test, then an input only
    assert made.records[0]["kept"] == 2 and made.records[0]["model_outputs"] == 1
    assert made.records[0]["dropped"] == {"duplicate": 2, "first line": 1}  # the examples start "n m"
    assert made.records[0]["cached"] is False and made.calls == 1
    requests = chat_server.chat_requests
    again = add_model_tests([row], settings(chat_server, tmp_path, count=5), progress=False)
    assert chat_server.chat_requests == requests and again.records[0]["cached"] is True  # the cache answered
    assert again.rows[0]["ai_tests"] == ai
    # A row that has them already: nothing added twice, the count counts them.
    third = add_model_tests(made.rows, settings(chat_server, tmp_path, count=5), progress=False)
    assert third.rows[0]["ai_tests"]["input"] == [fresh[0], fresh[1]] and third.records[0]["dropped"] == {
        **made.records[0]["dropped"], "duplicate": 4}


def test_a_reply_without_a_usable_input_or_a_failed_call_is_recorded_not_raised(chat_server, train_rows, tmp_path):
    a, b = train_rows[0], train_rows[2]
    chat_server.reply_for(a["description"][:60], "I cannot write tests for this problem.")
    chat_server.reply_for(b["description"][:60], "ok")
    chat_server.script(Status(400, message="context too long"))  # the first request fails, unretried
    made = add_model_tests([a, b], settings(chat_server, tmp_path, count=3), progress=False)
    assert [r["ai_tests"]["input"] for r in made.rows] == [[], []]
    failed = [r for r in made.records if r["error"]]
    assert len(failed) == 1 and "context too long" in failed[0]["error"]
    empty = [r for r in made.records if not r["error"]]
    assert empty[0]["dropped"] == {"no test case in the reply": 1} and empty[0]["completion_tokens"] >= 0


def test_model_outputs_that_contradict_the_reference_become_model_tests_never_verdicts(chat_server, problem, tmp_path):
    row, public, fresh = problem
    chat_server.reply_for(row["description"][:60], case(fresh[0], "-123456789") + case(fresh[1], "-987654321"))
    made = add_model_tests([row], settings(chat_server, tmp_path, count=2), progress=False)
    assert made.rows[0]["ai_tests"]["output"] == ["-123456789\n", "-987654321\n"]
    pool = reference_candidates(made.rows)
    scores = score_candidates(made.rows, pool, ks=[1], n=1, policies=["codet", "filtered"], execution=Execution(
        time_s=3.0), max_tests=3, bootstrap=100, trials=100, progress=False)
    judged = scores.judgements.iloc[0]
    assert judged["correct"] and judged["passes_public"]  # the hidden tests decide, never the model's outputs
    assert judged["model_tests_passed"] == 0  # the reference fails the model's (wrong) tests
    assert scores.summary["clustering_sets"] == ["ai"]


def test_the_prompt_shows_the_statement_examples_and_count(train_rows):
    row = train_rows[0]
    messages = messages_for(row, ModelInputSettings(model="m", count=7, outputs=False))
    user = messages[1]["content"]
    assert "Write 7 new test cases" in user and row["public_tests"]["input"][0].strip() in user
    assert "give only the input" in user and "Output:" in user  # the examples keep their outputs
    with pytest.raises(UserError, match="positive whole number"):
        ModelInputSettings(model="m", count=0)
    with pytest.raises(UserError, match=r"^No prompt 'nope'"):
        messages_for(row, ModelInputSettings(model="m", prompt="nope"))
