"""The direct LLM source through the generation loop, on the real sample and a real local chat server;
the factory of sources. (Each other source and the loop alone have their own test_generate_*.py.)"""

from __future__ import annotations

import asyncio
import json

import pandas as pd
import pytest

from acodium.errors import UserError
from acodium.execute import Execution
from acodium.generate import (SOURCES, FileSource, FlowSource, HumanSource, LLMSource, MutantSource, SyntheticSource,
                              agenerate_candidates, generate_candidates, make_source)
from acodium.prompting import ProblemPrompt
from acodium.tables import CANDIDATES, CANDIDATES_LOG, ERRORS_LOG, AppendLog
from chat_server import Drop, Status, chat_server, wrap  # noqa: F401

PRICES = {"test-model": (1.0, 2.0)}
STYLES = ["python_fence", "bare_fence", "prose", "no_fence", "two_blocks"]


def tidy(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.strip("\n").split("\n")) + "\n"


def marker(row) -> str:
    """A piece of the statement that identifies the problem in a prompt."""
    return row["description"][:160]


@pytest.fixture
def problems(train_rows):
    rows = train_rows[10:16]
    assert len({marker(r) for r in rows}) == len(rows)
    return rows


def teach(server, rows):
    """Each problem's replies: its real solution in several wrappings."""
    for i, row in enumerate(rows):
        code = row["solutions"]["solution"][0]
        server.reply_for(marker(row), *[wrap(code, STYLES[(i + j) % len(STYLES)]) for j in range(3)])


def source(server, tmp_path, **options):
    options.setdefault("cache_path", tmp_path / "cache" / "llm.sqlite")
    options.setdefault("max_retries", 2)
    options.setdefault("timeout", 10.0)
    return LLMSource("test-model", base_url=server.url, api_key="sk-test", prices=PRICES, **options)


def test_llm_candidates_table(chat_server, tmp_path, problems):
    teach(chat_server, problems)
    run = tmp_path / "run"
    table = generate_candidates(problems, source(chat_server, tmp_path, temperature=0.8), 3,
                                run_dir=run, progress=False)
    assert list(table.columns) == CANDIDATES
    assert len(table) == 18 and chat_server.chat_requests == 18
    assert set(table["source"]) == {"llm"} and set(table["language"]) == {"python3"}
    for row in problems:
        mine = table[table["problem"] == row["name"]]
        assert list(mine["candidate_id"]) == ["llm-0000", "llm-0001", "llm-0002"]
        assert set(mine["code"]) == {tidy(row["solutions"]["solution"][0])}
    meta = [json.loads(m) for m in table["meta"]]
    assert {m["model"] for m in meta} == {"test-model"} and {m["temperature"] for m in meta} == {0.8}
    assert all(len(m["prompt_hash"]) == 16 and m["extraction"] in ("fenced", "no fence") for m in meta)
    # Cost accounting: the server's token counts at the price table's rates.
    server_prompt_tokens = sum(sum(len(m["content"]) for m in b["messages"]) // 4 for b in chat_server.chat_bodies)
    assert sum(m["prompt_tokens"] for m in meta) == server_prompt_tokens
    assert sum(m["cost"] for m in meta) == pytest.approx(
        sum(m["prompt_tokens"] * 1.0 + m["completion_tokens"] * 2.0 for m in meta) / 1e6)
    # The run folder: the log as it arrived, the finished table, the settings.
    assert len(list(AppendLog(run / CANDIDATES_LOG).rows())) == 18
    assert pd.read_parquet(run / "candidates.parquet").equals(table)
    assert json.loads((run / "generation.json").read_text())["model"] == "test-model"
    assert "sk-test" not in (run / "generation.json").read_text()


def test_second_run_makes_zero_requests(chat_server, tmp_path, problems):
    teach(chat_server, problems)
    first = generate_candidates(problems, source(chat_server, tmp_path), 2, run_dir=tmp_path / "a", progress=False)
    chat_server.reset_counts()
    # The same run folder: the log answers. A fresh folder: the response cache answers.
    again = generate_candidates(problems, source(chat_server, tmp_path), 2, run_dir=tmp_path / "a", progress=False)
    fresh = generate_candidates(problems, source(chat_server, tmp_path), 2, run_dir=tmp_path / "b", progress=False)
    assert chat_server.requests == []
    assert again.equals(first)
    assert list(fresh["code"]) == list(first["code"])
    assert all(json.loads(m)["cached"] for m in fresh["meta"])
    # More samples ask only for the new ones.
    more = generate_candidates(problems, source(chat_server, tmp_path), 3, run_dir=tmp_path / "a", progress=False)
    assert len(more) == 18 and chat_server.chat_requests == 6


def test_resume_after_interruption(chat_server, tmp_path, problems):
    teach(chat_server, problems)
    chat_server.delay = 0.05
    run = tmp_path / "run"
    log = run / CANDIDATES_LOG

    async def interrupted():
        task = asyncio.create_task(agenerate_candidates(
            problems, source(chat_server, tmp_path, cache_path=None, concurrency=2), 4,
            run_dir=run, progress=False))
        while not log.exists() or len(list(AppendLog(log).rows())) < 6:
            await asyncio.sleep(0.01)
        task.cancel()  # what Ctrl-C does to the running loop
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(interrupted())
    kept = len(list(AppendLog(log).rows()))
    assert 6 <= kept < 24
    chat_server.reset_counts()
    # Without a response cache, only the log stands between a resume and paying twice.
    table = generate_candidates(problems, source(chat_server, tmp_path, cache_path=None), 4,
                                run_dir=run, progress=False)
    assert len(table) == 24 and table["code"].str.len().gt(0).all()
    assert chat_server.chat_requests == 24 - kept
    assert len(list(AppendLog(log).rows())) == 24


def test_failed_samples_are_left_for_the_next_run(chat_server, tmp_path, problems):
    teach(chat_server, problems)
    chat_server.script(*[Status(500, retry_after=0.01)] * 2)
    run = tmp_path / "run"
    table = generate_candidates(problems[:2], source(chat_server, tmp_path, max_retries=0, concurrency=1), 2,
                                run_dir=run, progress=False)
    # The first request (the probe) and the next one fail: nothing about them is kept but the error.
    assert len(table) == 2 and len(table.attrs["failures"]) == 2
    assert "HTTP 500" in table.attrs["failures"][0]["error"]
    assert len(list(AppendLog(run / ERRORS_LOG).rows())) == 2
    chat_server.reset_counts()
    table = generate_candidates(problems[:2], source(chat_server, tmp_path), 2, run_dir=run, progress=False)
    assert len(table) == 4 and chat_server.chat_requests == 2


def test_dropped_connections_are_failed_samples_and_the_run_goes_on(chat_server, tmp_path, problems):
    # The server stays up; three replies are cut (closed, reset, half a body) after the preflight passed.
    teach(chat_server, problems)
    chat_server.script(Drop("close"), Drop("reset"), Drop("partial"))
    run = tmp_path / "run"
    table = generate_candidates(problems[:3], source(chat_server, tmp_path, max_retries=0, concurrency=1), 2,
                                run_dir=run, progress=False)
    assert len(table) == 3 and table["code"].str.len().gt(0).all()
    failures = table.attrs["failures"]
    assert len(failures) == 3 and all("connection" in f["error"] for f in failures)
    assert [(r["problem"], r["candidate_id"]) for r in AppendLog(run / ERRORS_LOG).rows()] == \
        [(f["problem"], f["candidate_id"]) for f in failures]
    # Nothing of a cut reply was cached or logged as a candidate: the next run asks for exactly those.
    chat_server.reset_counts()
    table = generate_candidates(problems[:3], source(chat_server, tmp_path), 2, run_dir=run, progress=False)
    assert len(table) == 6 and not table.attrs["failures"] and chat_server.chat_requests == 3


def test_a_reply_without_code_is_a_candidate(chat_server, tmp_path, problems):
    chat_server.reply_for(marker(problems[0]), "I could not find an efficient algorithm for this problem.")
    chat_server.reply_for(marker(problems[1]), "")
    table = generate_candidates(problems[:2], source(chat_server, tmp_path), 1, progress=False)
    assert list(table["code"]) == ["", ""]
    metas = [json.loads(m) for m in table["meta"]]
    assert [m["extraction"] for m in metas] == ["no code", "empty reply"]
    assert metas[0]["reply"].startswith("I could not find")


def test_bad_configuration_fails_before_any_work(chat_server, tmp_path, problems, monkeypatch):
    run = tmp_path / "run"
    with pytest.raises(UserError, match="does not know the model"):
        generate_candidates(problems, LLMSource("gpt-unknown", base_url=chat_server.url, api_key="k"), 5,
                            run_dir=run, progress=False)
    # One listing of the models, one probe: not 30 failing requests.
    assert chat_server.requests == [("GET", "/v1/models"), ("POST", "/v1/chat/completions")]
    assert not run.exists()  # nothing written
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(UserError, match="No API key"):
        LLMSource("test-model", base_url=chat_server.url)
    # A run folder belongs to one configuration.
    generate_candidates(problems[:1], source(chat_server, tmp_path, temperature=0.2), 1,
                        run_dir=tmp_path / "r2", progress=False)
    with pytest.raises(UserError, match="temperature"):
        generate_candidates(problems[:1], source(chat_server, tmp_path, temperature=0.9), 1,
                            run_dir=tmp_path / "r2", progress=False)


def test_diversity_is_visible_in_the_requests(chat_server, tmp_path, problems):
    row = problems[0]
    teach(chat_server, [row])
    src = source(chat_server, tmp_path, tags="random", rating="random", diversity_seed=3, language="cpp",
                 temperature=0.3, max_tokens=2000, seed=5)
    generate_candidates([row], src, 4, progress=False)
    users = [b["messages"][-1]["content"] for b in chat_server.chat_bodies]
    assert all("C++17" in u and "```cpp" in u for u in users)
    shown = {(u.split("Tags: ")[1].split("\n")[0], u.split("Difficulty rating: ")[1].split("\n")[0]) for u in users}
    assert len(shown) > 1  # samples see different tags and ratings
    assert {b["temperature"] for b in chat_server.chat_bodies} == {0.3}
    assert {b["max_tokens"] for b in chat_server.chat_bodies} == {2000}
    assert sorted(b["seed"] for b in chat_server.chat_bodies) == [5, 6, 7, 8]  # one server seed per sample
    # The same seed shows the same metadata again (so the cache answers).
    chat_server.reset_counts()
    generate_candidates([row], source(chat_server, tmp_path, tags="random", rating="random", diversity_seed=3,
                                      language="cpp", temperature=0.3, max_tokens=2000, seed=5),
                         4, progress=False)
    assert chat_server.requests == []


def test_prompt_of_a_problem_without_public_tests(train_rows):
    row = dict(train_rows[0], public_tests={"input": [], "output": []})
    user = ProblemPrompt.load("direct").messages(row, ["graphs"], None)[-1]["content"]
    assert "## Examples" not in user and "Tags: graphs" in user and "rating" not in user
    assert row["description"].strip() in user


def test_progress_bar_shows_tokens_and_cost(chat_server, tmp_path, problems, capsys):
    teach(chat_server, problems[:2])
    generate_candidates(problems[:2], source(chat_server, tmp_path), 2, progress=True)
    err = capsys.readouterr().err
    assert "tok=" in err and "cost=$" in err and "4/4" in err


def test_prompt_files(train_rows, tmp_path):
    row = train_rows[0]
    for language, fence in (("python3", "```python"), ("cpp", "```cpp")):
        user = ProblemPrompt.load("alphacode", language).messages(row, ["dp", "greedy"], 1700)[-1]["content"]
        assert user.endswith(f"TAGS: dp, greedy\nRATING: 1700\nLANGUAGE IS {language}\nCORRECT SOLUTION\n{fence}")
    with pytest.raises(UserError, match="alphacode, direct"):
        ProblemPrompt.load("no-such-prompt")
    mine = tmp_path / "mine.toml"
    mine.write_text('user = "Solve ${statement} in ${language}, mind ${budget}."\n')
    with pytest.raises(UserError, match="budget"):
        ProblemPrompt.load(mine).messages(row)
    mine.write_text('user = "Solve in ${language}: ${statement}"\n')
    (message,) = ProblemPrompt.load(mine, "cpp").messages(row)
    assert message == {"role": "user", "content": f"Solve in cpp: {row['description'].strip()}"}


def test_a_loaded_dataset_gives_the_same_candidates(train_sample_path, train_rows):
    """A datasets.Dataset (only the fields a source reads are taken out of it) and plain rows agree."""
    from acodium.data import load_problems

    dataset = load_problems(train_sample_path, "train", limit=8, seed=3)
    names = set(dataset["name"])
    rows = [r for r in train_rows if r["name"] in names]
    for src in (HumanSource(), make_source("mutants", seed=1)):
        from_dataset = generate_candidates(dataset, src, 2, progress=False)
        from_rows = generate_candidates(rows, src, 2, progress=False)
        assert len(from_dataset) >= 8
        assert from_dataset.sort_values(["problem", "candidate_id"]).reset_index(drop=True).equals(
            from_rows.sort_values(["problem", "candidate_id"]).reset_index(drop=True))


def test_server_gone_mid_run_stops_with_one_sentence_and_keeps_the_rest(chat_server, tmp_path, problems):
    teach(chat_server, problems)
    chat_server.delay = 0.05
    run = tmp_path / "run"
    log = run / CANDIDATES_LOG

    async def go():
        task = asyncio.create_task(agenerate_candidates(
            problems, source(chat_server, tmp_path, concurrency=1, max_retries=1), 4, run_dir=run, progress=False))
        while not log.exists() or len(list(AppendLog(log).rows())) < 3:
            await asyncio.sleep(0.01)
        await asyncio.to_thread(chat_server.stop)
        return await task

    with pytest.raises(UserError, match="Cannot reach the LLM server"):
        asyncio.run(go())
    kept = list(AppendLog(log).rows())
    assert 3 <= len(kept) < 24 and all(r["code"] for r in kept)


def test_the_factory_knows_every_source_by_name(chat_server, tmp_path, train_rows):
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"problem": train_rows[0]["name"], "code": "print(1)"}) + "\n")
    client = dict(model="test-model", base_url=chat_server.url, api_key="sk-test")
    made = {
        "llm": make_source("llm", **client),
        "flow": make_source("flow", execution=Execution(time_s=2.0), **client),
        "human": make_source("human", seed=1),
        "mutants": make_source("mutants", seed=1),
        "synthetic": make_source("synthetic", seed=1, execution=Execution(time_s=2.0)),
        "file": make_source("file", path=path),
    }
    assert set(made) == set(SOURCES)
    kinds = (LLMSource, FlowSource, HumanSource, MutantSource, SyntheticSource, FileSource)
    assert all(isinstance(made[name], kind) for name, kind in zip(SOURCES, kinds))
    assert {name: source.name for name, source in made.items()} == {n: n for n in SOURCES}
    assert made["flow"].execution.time_s == 2.0 and made["synthetic"].execution.time_s == 2.0
    with pytest.raises(UserError, match="Unknown candidate source 'gpt': use one of llm, flow, human, mutants, "
                                        "synthetic, file"):
        make_source("gpt")
