"""acodium.llm against a real HTTP server on 127.0.0.1, through the real openai client."""

from __future__ import annotations

import asyncio
import socket
import sqlite3

import pytest

from acodium.errors import UserError
from acodium.llm import (
    LLMClient, LLMError, ResponseCache, ask, cost_of, load_prices, price_for, run_sync,
)
from chat_server import Drop, Malformed, Reply, Slow, Status, chat_server  # noqa: F401

PRICES = {"test-model": (1.0, 2.0)}
HELLO = [{"role": "user", "content": "Say hello."}]


def client(server, tmp_path=None, **options) -> LLMClient:
    options.setdefault("max_retries", 2)
    options.setdefault("timeout", 5.0)
    return LLMClient(
        "test-model", base_url=server.url, api_key="sk-test", prices=PRICES,
        cache_path=(tmp_path / "llm.sqlite") if tmp_path is not None else None, **options,
    )


def run(coro):
    return asyncio.run(coro)


def test_chat_reports_text_tokens_and_cost(chat_server):
    chat_server.reply_for("Say hello", "Hello!")

    async def go():
        async with client(chat_server) as llm:
            return await llm.chat(HELLO, temperature=0.2), llm.usage

    result, usage = run(go())
    assert result.text == "Hello!"
    assert result.finish_reason == "stop"
    assert not result.cached
    # The server counts len(prompt)//4 and len(reply)//4 tokens.
    assert result.prompt_tokens == len("Say hello.") // 4
    assert result.completion_tokens == len("Hello!") // 4
    assert result.cost == pytest.approx((result.prompt_tokens * 1.0 + result.completion_tokens * 2.0) / 1e6)
    assert usage.requests == 1 and usage.cost == pytest.approx(result.cost)
    assert chat_server.chat_bodies[0]["temperature"] == 0.2


def test_cache_answers_repeats_without_a_request(chat_server, tmp_path):
    chat_server.reply_for("Say hello", "one", "two", "three", "four")

    async def go():
        async with client(chat_server, tmp_path) as llm:
            a = await llm.chat(HELLO, temperature=0.5, sample_index=0)
            b = await llm.chat(HELLO, temperature=0.5, sample_index=0)
            c = await llm.chat(HELLO, temperature=0.5, sample_index=1)
            d = await llm.chat(HELLO, temperature=0.9, sample_index=0)
            return a, b, c, d, llm.usage

    a, b, c, d, usage = run(go())
    assert chat_server.chat_requests == 3
    assert (a.text, b.text) == ("one", "one") and b.cached and not a.cached
    assert c.text == "two" and d.text == "three"  # sample index and temperature are in the key
    assert b.cost == a.cost and usage.cache_hits == 1
    assert usage.cost == pytest.approx(a.cost + c.cost + d.cost)  # a cache hit costs nothing now

    # A new client (a new process, a notebook re-run) on the same cache file: zero requests.
    chat_server.reset_counts()

    async def again():
        async with client(chat_server, tmp_path) as llm:
            return [await llm.chat(HELLO, temperature=t, sample_index=i) for t, i in ((0.5, 0), (0.5, 1), (0.9, 0))]

    texts = [r.text for r in run(again())]
    assert texts == ["one", "two", "three"]
    assert chat_server.requests == []


def test_client_retries_429_and_500(chat_server, tmp_path):
    chat_server.reply_for("Say hello", "finally")
    chat_server.script(Status(429, retry_after=0.05), Status(500, retry_after=0.05))

    async def go():
        async with client(chat_server, tmp_path, max_retries=3) as llm:
            return await llm.chat(HELLO)

    assert run(go()).text == "finally"
    assert chat_server.chat_requests == 3


def test_errors_are_never_cached(chat_server, tmp_path):
    chat_server.reply_for("Say hello", "good")
    chat_server.script(*[Status(500, retry_after=0.05)] * 3)

    async def failing():
        async with client(chat_server, tmp_path, max_retries=2) as llm:
            await llm.chat(HELLO)

    with pytest.raises(LLMError, match="HTTP 500"):
        run(failing())
    assert chat_server.chat_requests == 3  # one try and two retries
    assert len(ResponseCache(tmp_path / "llm.sqlite")) == 0

    async def works():
        async with client(chat_server, tmp_path) as llm:
            return await llm.chat(HELLO)

    assert run(works()).text == "good"
    assert len(ResponseCache(tmp_path / "llm.sqlite")) == 1


def test_slow_reply_times_out_and_is_not_cached(chat_server, tmp_path):
    chat_server.script(Slow(1.5, "late"))

    async def go():
        async with client(chat_server, tmp_path, timeout=0.3, max_retries=0) as llm:
            await llm.chat(HELLO)

    with pytest.raises(LLMError, match="timed out"):
        run(go())
    assert len(ResponseCache(tmp_path / "llm.sqlite")) == 0


@pytest.mark.parametrize("body", [
    Malformed(b"{this is not json"),
    Malformed(b"<html>gateway hiccup</html>", "text/html"),
    Malformed(b'{"id": "x", "object": "chat.completion"}'),
    Malformed(b'{"choices": []}'),
])
def test_malformed_bodies_are_errors_not_cached(chat_server, tmp_path, body):
    chat_server.script(body)

    async def go():
        async with client(chat_server, tmp_path) as llm:
            await llm.chat(HELLO)

    with pytest.raises(LLMError, match="malformed"):
        run(go())
    assert len(ResponseCache(tmp_path / "llm.sqlite")) == 0


@pytest.mark.parametrize("how", ["close", "reset", "partial"])
def test_a_connection_dropped_mid_reply_is_a_failed_call_not_an_unreachable_server(chat_server, tmp_path, how):
    chat_server.reply_for("Say hello", "hello again")
    chat_server.script(Drop(how))

    async def go():
        async with client(chat_server, tmp_path, max_retries=0) as llm:
            await llm.preflight()
            with pytest.raises(LLMError, match="connection .* broke"):
                await llm.chat(HELLO)
            return await llm.chat(HELLO), llm.usage

    result, usage = run(go())  # the server is up: the same client goes on
    assert result.text == "hello again" and not result.cached
    assert usage.failures == 1 and len(ResponseCache(tmp_path / "llm.sqlite")) == 1


def test_a_dropped_connection_is_retried_by_the_client(chat_server, tmp_path):
    chat_server.reply_for("Say hello", "made it")
    chat_server.script(Drop("reset"))

    async def go():
        async with client(chat_server, tmp_path, max_retries=1) as llm:
            return await llm.chat(HELLO)

    assert run(go()).text == "made it" and chat_server.chat_requests == 2


def test_a_server_gone_mid_run_is_told_by_the_preflight_question(chat_server, tmp_path):
    async def go():
        async with client(chat_server, tmp_path, max_retries=0) as llm:
            await llm.preflight()
            await asyncio.to_thread(chat_server.stop)
            await llm.chat(HELLO)

    with pytest.raises(UserError, match="Cannot reach the LLM server"):
        run(go())


def cached_hello(server, tmp_path) -> str:
    """One reply in a fresh cache file; its key."""
    server.reply_for("Say hello", "first", "second")

    async def go():
        async with client(server, tmp_path) as llm:
            return (await llm.chat(HELLO)).cache_key

    return run(go())


@pytest.mark.parametrize("damage", ["not json", "torn json", "not a reply", "wrong types", "foreign bytes"])
def test_a_damaged_cache_entry_is_a_miss_asked_again_and_replaced(chat_server, tmp_path, damage):
    key = cached_hello(chat_server, tmp_path)
    bad = {"not json": "{oops", "torn json": '{"text": "fir', "not a reply": "[1, 2]",
           "wrong types": '{"text": "x", "prompt_tokens": "many", "completion_tokens": 1}',
           "foreign bytes": b"\x78\x9c\xff\x00"}[damage]
    with sqlite3.connect(tmp_path / "llm.sqlite") as db:
        db.execute("UPDATE replies SET reply = ? WHERE key = ?", (bad, key))
    db.close()

    async def go():
        async with client(chat_server, tmp_path) as llm:
            cached = llm.is_cached(HELLO, {})
            return cached, await llm.chat(HELLO), await llm.chat(HELLO)

    cached, asked, again = run(go())
    assert not cached and (asked.text, asked.cached) == ("second", False)
    assert (again.text, again.cached) == ("second", True) and chat_server.chat_requests == 2


def test_a_cache_file_that_is_not_a_database_is_one_sentence(chat_server, tmp_path):
    (tmp_path / "llm.sqlite").write_bytes(b"these bytes were never a database\n" * 200)
    with pytest.raises(UserError, match=r"cache .*llm\.sqlite is damaged \(file is not a database\); delete it"
                                        r".*--no_cache"):
        client(chat_server, tmp_path)
    assert chat_server.requests == []


def test_a_cache_file_with_damaged_pages_is_one_sentence(chat_server, tmp_path):
    path = tmp_path / "llm.sqlite"
    cache = ResponseCache(path)
    for i in range(300):
        cache.put(f"key-{i}", {"i": i}, {"text": "x" * 300, "prompt_tokens": 1, "completion_tokens": 1})
    cache.close()
    data = bytearray(path.read_bytes())
    data[3 * 4096:4 * 4096] = b"\xde\xad\xbe\xef" * 1024  # a page of the table, overwritten
    path.write_bytes(bytes(data))
    cache = ResponseCache(path)
    with pytest.raises(UserError, match="is damaged \\(database disk image is malformed\\).*--no_cache"):
        for i in range(300):
            cache.get(f"key-{i}")


def test_concurrency_is_bounded(chat_server):
    chat_server.delay = 0.3

    async def go():
        async with client(chat_server, concurrency=3) as llm:
            await asyncio.gather(*(llm.chat(HELLO, sample_index=i) for i in range(9)))

    run(go())
    assert chat_server.chat_requests == 9
    assert chat_server.max_in_flight == 3


def test_requests_per_minute_are_paced(chat_server):
    async def go():
        async with client(chat_server, concurrency=8, rpm=120) as llm:  # one start per 0.5 s
            await llm.preflight()  # the client's first request is slower (lazy set-up): not paced, not measured
            await asyncio.gather(*(llm.chat(HELLO, sample_index=i) for i in range(4)))

    run(go())
    arrivals = sorted(chat_server.arrivals)
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    # Three intervals of 0.5 s (unpaced, all four arrive at once); the slack is for
    # a loaded machine's scheduling jitter between the client and the server.
    assert arrivals[-1] - arrivals[0] >= 1.2
    assert min(gaps) >= 0.25


def test_unknown_model_is_a_user_error(chat_server):
    async def go():
        async with LLMClient("no-such-model", base_url=chat_server.url, api_key="k") as llm:
            await llm.chat(HELLO)

    with pytest.raises(UserError, match="does not know the model 'no-such-model'"):
        run(go())


def test_unreachable_server_fails_in_preflight():
    with socket.socket() as s:  # a port that nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def go():
        async with LLMClient("m", base_url=f"http://127.0.0.1:{port}/v1", api_key="k") as llm:
            await llm.preflight()

    with pytest.raises(UserError, match="Cannot reach the LLM server"):
        run(go())


@pytest.mark.parametrize("options, message", [
    ({"timeout": -1}, "timeout of a request must be a finite number of seconds above 0, not -1"),
    ({"timeout": float("nan")}, "not nan"),
    ({"max_retries": -1}, "retries of a request must be a whole number of at least 0, not -1"),
    ({"concurrency": 0}, "Concurrency must be at least 1"),
])
def test_client_options_that_cannot_work_are_refused(chat_server, options, message):
    with pytest.raises(UserError, match=message):
        client(chat_server, **options)


def test_missing_and_rejected_keys(chat_server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(UserError, match="No API key"):
        LLMClient("test-model", base_url=chat_server.url)
    chat_server.api_key = "sk-right"

    async def go():
        async with LLMClient("test-model", base_url=chat_server.url, api_key="sk-wrong") as llm:
            await llm.preflight()

    with pytest.raises(UserError, match="rejected the API key"):
        run(go())


def test_environment_is_read_when_called(chat_server, monkeypatch):
    chat_server.reply_for("Say hello", "from env")
    monkeypatch.setenv("OPENAI_BASE_URL", chat_server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    result = ask("Say hello.", model="test-model")
    assert result.text == "from env"
    assert chat_server.requests[0] == ("GET", "/v1/models")  # the preflight, then the question


def test_empty_reply_is_a_reply(chat_server, tmp_path):
    chat_server.script(Reply(""))

    async def go():
        async with client(chat_server, tmp_path) as llm:
            return await llm.chat(HELLO)

    result = run(go())
    assert result.text == "" and not result.cached


def test_price_tables(tmp_path):
    path = tmp_path / "prices.toml"
    path.write_text('[models."my-local-model"]\ninput = 0.5\noutput = 1.5\n')
    prices = load_prices(path)
    assert prices == {"my-local-model": (0.5, 1.5)}
    assert price_for("gpt-4o-mini-2024-07-18", {"gpt-4o": (1, 1), "gpt-4o-mini": (2, 2)}) == (2, 2)
    assert cost_of("unpriced", 10, 10, prices) is None
    assert cost_of("my-local-model", 2_000_000, 1_000_000, prices) == pytest.approx(2.5)
    (tmp_path / "bad.toml").write_text('[models."m"]\ninput = "cheap"\n')
    with pytest.raises(UserError, match="numeric"):
        load_prices(tmp_path / "bad.toml")


def test_run_sync_works_inside_a_running_loop(chat_server):
    chat_server.reply_for("Say hello", "nested")

    async def notebook_cell():
        # Jupyter runs cells inside an event loop: asyncio.run would refuse.
        return ask("Say hello.", model="test-model", base_url=chat_server.url, api_key="k")

    assert run(notebook_cell()).text == "nested"
    assert run_sync(asyncio.sleep(0, result=7)) == 7


def test_ask_sends_the_system_message_and_a_cached_question_makes_no_request(chat_server, tmp_path):
    chat_server.reply_for("Say hello", "hi there")
    options = dict(model="test-model", system="Be brief.", base_url=chat_server.url, api_key="k",
                   cache_path=tmp_path / "llm.sqlite", temperature=0.3)
    first = ask("Say hello.", **options)
    assert first.text == "hi there" and not first.cached
    assert chat_server.chat_bodies[0]["messages"] == [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello."}]
    chat_server.reset_counts()
    again = ask("Say hello.", **options)
    assert (again.text, again.cached, again.cost) == ("hi there", True, first.cost)
    assert chat_server.requests == []  # not even the preflight: the answer was on disk


def test_an_unset_parameter_and_an_absent_one_are_one_call(chat_server, tmp_path):
    chat_server.reply_for("Say hello", "once", "twice")

    async def go():
        async with client(chat_server, tmp_path) as llm:
            a = await llm.chat(HELLO, temperature=None, max_tokens=None)
            b = await llm.chat(HELLO)
            return a, b, llm.is_cached(HELLO, {"temperature": None}), llm.is_cached(HELLO, {"temperature": 1})

    a, b, unset_cached, other_cached = run(go())
    assert "temperature" not in chat_server.chat_bodies[0]  # None is not sent
    assert b.cached and b.text == a.text == "once" and a.cache_key == b.cache_key
    assert unset_cached and not other_cached


def test_calls_of_one_sample_are_told_apart_by_their_name(chat_server, tmp_path):
    chat_server.reply_for("Say hello", "first attempt", "second attempt")

    async def go():
        async with client(chat_server, tmp_path) as llm:
            return [await llm.chat(HELLO, call=c) for c in ("attempt-1", "attempt-2", "attempt-1")]

    texts = [r.text for r in run(go())]
    assert texts == ["first attempt", "second attempt", "first attempt"]
    assert chat_server.chat_requests == 2 and all("call" not in body for body in chat_server.chat_bodies)


def test_a_reply_with_null_content_and_no_usage_is_empty_and_free(chat_server, tmp_path):
    chat_server.script(Malformed(b'{"id": "x", "object": "chat.completion", "created": 0, "model": "served-m",'
                                 b' "choices": [{"index": 0, "finish_reason": "length",'
                                 b' "message": {"role": "assistant", "content": null}}]}'))

    async def go():
        async with client(chat_server, tmp_path) as llm:
            return await llm.chat(HELLO), llm.usage

    result, usage = run(go())
    assert (result.text, result.finish_reason, result.served_model) == ("", "length", "served-m")
    assert (result.prompt_tokens, result.completion_tokens, result.cost) == (0, 0, 0.0)
    assert usage.requests == 1 and usage.unpriced_calls == 0


def test_an_unpriced_model_costs_none_and_is_counted(chat_server):
    chat_server.models.add("free-model")
    chat_server.reply_for("Say hello", "hello")

    async def go():
        async with LLMClient("free-model", base_url=chat_server.url, api_key="k") as llm:
            return await llm.chat(HELLO), llm.usage

    result, usage = run(go())
    assert result.cost is None and usage.unpriced_calls == 1 and usage.cost == 0.0
    assert usage.postfix()["cost"] == "unpriced"  # not "$0.0000": nothing was priced


def test_a_price_table_file_prices_the_client(chat_server, tmp_path):
    (tmp_path / "prices.toml").write_text('[models."test-model"]\ninput = 4\noutput = 8\n')
    chat_server.reply_for("Say hello", "Hello there!")

    async def go():
        async with LLMClient("test-model", base_url=chat_server.url, api_key="k",
                             prices=tmp_path / "prices.toml") as llm:
            return await llm.chat(HELLO)

    result = run(go())
    assert result.cost == pytest.approx((result.prompt_tokens * 4 + result.completion_tokens * 8) / 1e6)
    assert result.cost > 0


@pytest.mark.parametrize("options, message", [
    ({"rpm": 0}, "requests-per-minute limit must be a positive number"),
    ({"rpm": -5}, "requests-per-minute limit must be a positive number"),
    ({"max_retries": True}, "not True"),
    ({"timeout": "10"}, "not '10'"),
])
def test_more_client_options_that_cannot_work(chat_server, options, message):
    with pytest.raises(UserError, match=message):
        client(chat_server, **options)
    with pytest.raises(UserError, match="Name the model to ask"):
        LLMClient("", base_url=chat_server.url, api_key="k")


def test_a_server_without_a_models_route_passes_the_preflight(chat_server):
    async def go():
        async with client(chat_server, max_retries=0) as llm:
            llm._client = llm._client.with_options(base_url=chat_server.url + "/elsewhere")  # /models: 404
            await llm.preflight()

    run(go())  # the first chat request will tell whether the server works
    assert chat_server.requests == [("GET", "/v1/elsewhere/models")]


def test_a_server_error_in_the_preflight_is_one_sentence(chat_server):
    chat_server._handle = lambda h, method: chat_server._error(h, 503, "Down for maintenance.")

    async def go():
        async with client(chat_server, max_retries=0) as llm:
            await llm.preflight()

    with pytest.raises(UserError, match=r"failed the check made before any work, listing its models "
                                        r"\(HTTP 503 after the client's retries: Down for maintenance\)\.$"):
        run(go())


def test_run_sync_inside_a_running_loop_raises_what_the_coroutine_raised():
    async def fails():
        raise ValueError("inner failure")

    async def notebook_cell():
        return run_sync(fails())

    with pytest.raises(ValueError, match="inner failure"):
        run(notebook_cell())
    with pytest.raises(ValueError, match="inner failure"):
        run_sync(fails())
