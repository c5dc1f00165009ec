"""Generation across several OpenAI-compatible servers (a pool): requests balanced within a bound per server,
a failing server's requests answered by another, the reply cache keyed by the pool, not by who answered.

Every server here is a real HTTP server on 127.0.0.1 (tests/chat_server.py), asked through the real openai
client; "failing" is a server answering HTTP 500, or one that was stopped (connection refused).
"""

from __future__ import annotations

import asyncio
import json
import warnings

import pandas as pd
import pytest

from acodium.cli import main
from acodium.errors import UserError
from acodium.llm import POOL_IDENTITY, LLMClient, LLMError, LLMServerWarning, cache_key, resolve_base_url
from acodium.llm.endpoints import parse_base_urls
from chat_server import ChatServer, Status, wrap

HELLO = [{"role": "user", "content": "Say hello."}]


def gencode(*args) -> int:
    try:
        main([str(a) for a in args])
    except SystemExit as e:
        return e.code
    return 0


@pytest.fixture
def servers():
    started = [ChatServer().start() for _ in range(3)]
    for server in started:
        server.default_reply = "hello"
    yield started
    for server in started:
        server.stop()


def pool_client(urls, tmp_path=None, **options) -> LLMClient:
    options.setdefault("max_retries", 1)
    options.setdefault("timeout", 5.0)
    return LLMClient("test-model", base_url=urls, api_key="sk-test",
                     cache_path=(tmp_path / "llm.sqlite") if tmp_path is not None else None, **options)


def ask_many(urls, count, tmp_path=None, first=0, **options):
    """`count` calls at once (sample indices first..): (results, requests and failures per server, usage)."""
    async def go():
        async with pool_client(urls, tmp_path, **options) as llm:
            await llm.preflight()
            results = await asyncio.gather(*(llm.chat(HELLO, sample_index=i) for i in range(first, first + count)))
            return results, llm.pool.usage(), llm.usage

    return asyncio.run(go())


def test_requests_are_balanced_within_a_bound_per_server(servers, tmp_path):
    a, b, _ = servers
    for server in (a, b):
        server.delay = 0.05
    results, per_server, usage = ask_many(f"{a.url},{b.url}", 24, tmp_path, concurrency=2)
    assert [r.text for r in results] == ["hello"] * 24 and usage.requests == 24 and usage.failures == 0
    assert a.chat_requests + b.chat_requests == 24 and min(a.chat_requests, b.chat_requests) >= 8
    assert max(a.max_in_flight, b.max_in_flight) == 2  # the bound is per server: 4 in flight in all
    assert per_server == {a.url: {"requests": a.chat_requests, "failures": 0},
                          b.url: {"requests": b.chat_requests, "failures": 0}}
    assert {r.endpoint for r in results} == {a.url, b.url}


def test_the_cache_is_the_pools_not_the_answering_servers(servers, tmp_path):
    a, b, c = servers
    results, _, _ = ask_many([a.url, b.url], 6, tmp_path)
    assert all(r.cache_key == cache_key(POOL_IDENTITY, "test-model", HELLO, {}, i) for i, r in enumerate(results))
    assert resolve_base_url(f"{a.url},{b.url}") == resolve_base_url([c.url, b.url]) == POOL_IDENTITY
    # Another pool of the same model (a server gone, another joined): every reply from the cache.
    for server in servers:
        server.reset_counts()
    again, _, usage = ask_many([b.url, c.url], 6, tmp_path)
    assert [r.text for r in again] == [r.text for r in results] and all(r.cached for r in again)
    assert usage.cache_hits == 6 and b.chat_requests == c.chat_requests == 0
    # One server alone keeps its own identity, as before pools: its cache is its own.
    assert resolve_base_url(a.url + "/") == a.url


def test_a_server_that_fails_has_its_requests_answered_by_another(servers, tmp_path):
    good, bad, _ = servers
    bad.script(*[Status(500, message="the GPU fell over")] * 200)

    async def go():
        async with pool_client([bad.url, good.url], tmp_path, concurrency=2) as llm:
            await llm.preflight()
            first = await asyncio.gather(*(llm.chat(HELLO, sample_index=i) for i in range(12)))
            asked = bad.chat_requests
            then = await asyncio.gather(*(llm.chat(HELLO, sample_index=i) for i in range(12, 24)))
            return first + then, asked, llm.pool.usage(), llm.usage

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results, asked, per_server, usage = asyncio.run(go())
    assert [r.text for r in results] == ["hello"] * 24 and {r.endpoint for r in results} == {good.url}
    assert usage.failures == 0 and good.chat_requests == 24
    # The calls made at once were shared out before it failed (each asked it once, then the good one);
    # after that it rests: the next calls do not ask it.
    assert 1 <= asked <= 12 and bad.chat_requests == asked == per_server[bad.url]["failures"]
    said = [str(w.message) for w in caught if issubclass(w.category, LLMServerWarning)]
    assert len(said) == 1 and bad.url in said[0] and "the other servers take its requests" in said[0]


def test_a_server_that_stops_mid_run_loses_no_call(servers, tmp_path):
    a, b, _ = servers

    async def go():
        async with pool_client([a.url, b.url], tmp_path, concurrency=2) as llm:
            await llm.preflight()
            first = await asyncio.gather(*(llm.chat(HELLO, sample_index=i) for i in range(8)))
            b.stop()  # the server is gone (a crash, a preempted node)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", LLMServerWarning)
                then = await asyncio.gather(*(llm.chat(HELLO, sample_index=i) for i in range(8, 20)))
            return first, then, llm.pool.usage(), llm.usage

    first, then, per_server, usage = asyncio.run(go())
    assert {r.endpoint for r in first} == {a.url, b.url}
    assert [r.text for r in then] == ["hello"] * 12 and {r.endpoint for r in then} == {a.url}
    assert usage.failures == 0 and per_server[b.url]["failures"] >= 1


def test_a_server_down_before_the_run_is_warned_of_and_left_resting(servers):
    a, b, _ = servers
    b.stop()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results, per_server, _ = ask_many([a.url, b.url], 4)
    assert {r.endpoint for r in results} == {a.url} and per_server[b.url]["requests"] == 0
    said = [str(w.message) for w in caught if issubclass(w.category, LLMServerWarning)]
    assert len(said) == 1 and said[0].startswith(f"Cannot reach the LLM server at {b.url} (")
    assert said[0].endswith("): the other servers take its requests.")


def test_when_no_server_can_answer_it_is_one_sentence(servers):
    a, b, _ = servers
    a.stop()
    b.stop()
    with pytest.raises(UserError) as caught:
        ask_many([a.url, b.url], 1)
    message = str(caught.value)
    assert message.startswith("None of the 2 LLM servers can be used: Cannot reach the LLM server at ")
    assert a.url in message and b.url in message and "\n" not in message


def test_a_call_every_server_fails_is_one_failed_call_and_a_bad_request_is_not_retried(servers):
    a, b, _ = servers
    for server in (a, b):
        server.script(Status(500, message="overloaded"))  # each server is asked once: max_retries=0, two servers

    async def go():
        async with pool_client([a.url, b.url], max_retries=0) as llm:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", LLMServerWarning)
                with pytest.raises(LLMError) as failed:
                    await llm.chat(HELLO)
            for server in (a, b):
                server.script(*[Status(400, message="maximum context length exceeded")] * 50)
                server.reset_counts()
            for endpoint in llm.pool.endpoints:
                endpoint.resting_until = 0.0
            with pytest.raises(LLMError) as bad:
                await llm.chat(HELLO, sample_index=1)
            return str(failed.value), str(bad.value)

    failed, bad = asyncio.run(go())
    assert failed.startswith("Every LLM server asked failed this call (") and a.url in failed and b.url in failed
    assert "maximum context length exceeded" in bad and a.chat_requests + b.chat_requests == 1


def test_several_urls_are_given_by_commas_a_list_or_a_file(tmp_path):
    assert parse_base_urls("http://h1:8000/v1/, http://h2:8000/v1") == ["http://h1:8000/v1", "http://h2:8000/v1"]
    listed = tmp_path / "servers.txt"
    listed.write_text("# the vLLM fleet\nhttp://h1:8000/v1\n\nhttp://h2:8000/v1  # node 2\nhttp://h1:8000/v1\n")
    assert parse_base_urls(str(listed)) == ["http://h1:8000/v1", "http://h2:8000/v1"]
    assert parse_base_urls(["http://h1/v1"]) == ["http://h1/v1"]
    assert parse_base_urls("http://localhost:8000/v1/") == ["http://localhost:8000/v1"]  # one, as before
    for bad, said in (("http://h1/v1,h2:8000", "'h2:8000' is not a server URL"),
                      (" , ", "Name at least one server URL")):
        with pytest.raises(UserError, match=said):
            parse_base_urls(bad)
    (tmp_path / "empty.txt").write_text("# nothing yet\n")
    with pytest.raises(UserError, match="names no server"):
        parse_base_urls(str(tmp_path / "empty.txt"))


def test_the_cli_generates_across_a_file_of_servers_one_of_which_fails(servers, train_rows, tmp_path, monkeypatch):
    monkeypatch.setenv("ACODIUM_CACHE", str(tmp_path / "cache"))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    good, bad, spare = servers
    bad.script(*[Status(503, message="draining")] * 500)
    rows = [r for r in train_rows if r["name"] in ("1147_A. Hide and Seek", "438_A. The Child and Toy")]
    for row in rows:
        good.reply_for(row["description"][:160], wrap(row["solutions"]["solution"][0], "python_fence"))
    problems = tmp_path / "two.jsonl"
    problems.write_text("".join(json.dumps(r) + "\n" for r in rows))
    fleet = tmp_path / "fleet.txt"
    fleet.write_text(f"{bad.url}\n{good.url}\n")
    run = tmp_path / "run"
    args = ["gen", "solve_and_evaluate_set", "--dataset_name", problems, "--k", "3", "--out", run,
            "--concurrency", "1", "--model", "test-model", "--base_url", fleet, "--api_key", "sk-test",
            "--max_retries", "1", "--bootstrap", "100", "--no_progress"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LLMServerWarning)
        assert gencode(*args) == 0
    candidates = pd.read_parquet(run / "candidates.parquet")
    assert len(candidates) == 6 and {json.loads(m)["endpoint"] for m in candidates["meta"]} == {good.url}
    assert json.loads((run / "generation.json").read_text())["base_url"] == POOL_IDENTITY
    summary = json.loads((run / "summary.json").read_text())
    assert summary["failed_samples"] == 0 and summary["metrics"]["pass@k"]["pass@1"]["value"] == 1.0
    # The fleet changes (the failing server replaced): the same run folder and cache, nothing asked.
    fleet.write_text(f"{spare.url}\n{good.url}\n")
    for server in servers:
        server.reset_counts()
    assert gencode(*args) == 0
    assert good.requests == spare.requests == []
    assert json.loads((run / "summary.json").read_text())["metrics"] == summary["metrics"]


def test_checking_a_model_before_any_work_needs_one_server_of_the_pool(servers, monkeypatch):
    from acodium.llm import check_model

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    a, b, _ = servers
    b.stop()
    check_model("test-model", f"{b.url},{a.url}")  # a answers and serves it: enough
    with pytest.raises(UserError, match=r"^The server at .* does not serve the model 'other-model'"):
        check_model("other-model", a.url)
    a.stop()
    with pytest.raises(UserError) as caught:
        check_model("test-model", [a.url, b.url])
    assert str(caught.value).startswith("None of the 2 LLM servers can be used: Cannot reach the LLM server at ")
