"""acodium.llm.cache: the reply cache's key and its sqlite file, without a server."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from acodium.errors import UserError
from acodium.llm import ResponseCache, cache_key
from acodium.llm.cache import STORED_FIELDS

MESSAGES = [{"role": "user", "content": "hi \u00e9"}]
REPLY = {"text": "hello \u4e2d", "finish_reason": "stop", "model": "m", "served_model": "m-2024",
         "prompt_tokens": 3, "completion_tokens": 2, "cost": 1.5e-6}


def test_the_key_of_a_call_never_changes_across_versions():
    # Computed by the cache_key of commit 9be4eed (before `call` existed): cache files written
    # by older runs must stay hits, so these literal values may never change.
    assert cache_key("http://x/v1/", "m", MESSAGES, {"temperature": 0.5, "max_tokens": 10}, 3) == \
        "876275e9d687f28721c0934dfac66499d504756c2332378c827215b8319c8e44"
    assert cache_key("http://x/v1", "m", MESSAGES, {"max_tokens": 10, "temperature": 0.5}, 3,
                     call="attempt-1") == "a146a99d11e08a19240c539c2927df13014e87155eb2ebd35e0b23ced07a152d"


def test_the_key_holds_everything_that_determines_a_reply_and_nothing_else():
    base = dict(base_url="http://x/v1", model="m", messages=MESSAGES, params={"temperature": 0.5}, sample_index=0)
    key = cache_key(**base)
    assert cache_key(**{**base, "base_url": "http://x/v1/"}) == key  # a trailing slash is the same server
    assert cache_key(**{**base, "params": dict(base["params"])}, call="") == key  # no call: the old key
    changed = [
        {"base_url": "http://y/v1"}, {"model": "m2"},
        {"messages": [{"role": "user", "content": "hi e"}]},
        {"messages": [{"role": "system", "content": "hi \u00e9"}]},
        {"params": {"temperature": 0.6}}, {"params": {"temperature": 0.5, "seed": 1}}, {"params": {}},
        {"sample_index": 1},
    ]
    keys = {cache_key(**{**base, **change}) for change in changed} | {cache_key(**base, call="attempt-1")}
    assert key not in keys and len(keys) == len(changed) + 1


def test_params_that_json_cannot_encode_are_keyed_by_their_text():
    class Odd:
        def __str__(self):
            return "odd"

    a = cache_key("u", "m", MESSAGES, {"extra_body": Odd()}, 0)
    assert a == cache_key("u", "m", MESSAGES, {"extra_body": "odd"}, 0)


def test_a_reply_round_trips_and_a_second_put_replaces_it(tmp_path):
    cache = ResponseCache(tmp_path / "deep" / "folder" / "llm.sqlite")  # folders are made
    assert len(cache) == 0 and cache.get("k") is None and "k" not in cache
    cache.put("k", {"messages": MESSAGES}, REPLY)
    assert cache.get("k") == REPLY and "k" in cache
    cache.put("k", {"messages": MESSAGES}, {**REPLY, "text": "again"})
    assert cache.get("k")["text"] == "again" and len(cache) == 1
    cache.close()
    reopened = ResponseCache(tmp_path / "deep" / "folder" / "llm.sqlite")
    assert reopened.get("k")["text"] == "again"
    with sqlite3.connect(reopened.path) as db:  # the request is kept beside the reply, for inspection
        assert '"hi \u00e9"' in db.execute("SELECT request FROM replies").fetchone()[0]
    reopened.close()


def test_the_stored_fields_are_what_a_chat_result_needs():
    assert set(STORED_FIELDS) == set(REPLY)


@pytest.mark.parametrize("reply", [
    {**REPLY, "prompt_tokens": True},  # a bool is no count
    {**REPLY, "completion_tokens": 2.0},
    {**REPLY, "text": None},
    {**REPLY, "finish_reason": 1},
    {**REPLY, "cost": "cheap"},
    {k: v for k, v in REPLY.items() if k != "prompt_tokens"},
])
def test_a_stored_reply_of_the_wrong_shape_is_a_miss(tmp_path, reply):
    cache = ResponseCache(tmp_path / "llm.sqlite")
    cache.put("k", {}, reply)
    assert cache.get("k") is None and "k" not in cache
    assert len(cache) == 1  # still there, replaced when asked again
    cache.close()


def test_a_reply_without_cost_or_finish_reason_is_sound(tmp_path):
    cache = ResponseCache(tmp_path / "llm.sqlite")
    cache.put("k", {}, {**REPLY, "cost": None, "finish_reason": None, "served_model": None})
    assert cache.get("k")["cost"] is None
    cache.close()


def test_a_folder_that_cannot_be_made_is_one_sentence(tmp_path):
    (tmp_path / "a_file").write_text("")
    with pytest.raises(UserError, match=r"Cannot create the folder of the LLM response cache .*a_file/llm\.sqlite"
                                        r".*ACODIUM_CACHE.*--no_cache"):
        ResponseCache(tmp_path / "a_file" / "llm.sqlite")


def test_a_cache_path_sqlite_cannot_open_is_one_sentence(tmp_path):
    (tmp_path / "llm.sqlite").mkdir()  # a folder where the file should be
    with pytest.raises(UserError, match=r"Cannot use the LLM response cache .*llm\.sqlite \(unable to open"):
        ResponseCache(tmp_path / "llm.sqlite")


WRITER = r"""
import sys
from acodium.llm import ResponseCache
cache = ResponseCache(sys.argv[1])
for i in range(150):
    cache.put(f"{sys.argv[2]}-{i}", {"i": i}, {"text": sys.argv[2] * 50, "prompt_tokens": i,
                                             "completion_tokens": 1})
    assert cache.get(f"{sys.argv[2]}-{i}")["prompt_tokens"] == i
cache.close()
"""


def test_processes_writing_one_cache_file_at_once_lose_nothing(tmp_path):
    path = tmp_path / "llm.sqlite"
    ResponseCache(path).close()
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name], stderr=subprocess.PIPE, text=True)
             for name in ("a", "b", "c")]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    cache = ResponseCache(path)
    assert len(cache) == 450
    assert all(cache.get(f"{name}-{i}")["text"] == name * 50 for name in "abc" for i in range(150))
    cache.close()
