"""Spend analysis on real candidates tables: direct samples and flow runs made against the local
chat server, on a real problem, and put on one axis of calls, tokens or cost."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from acodium.errors import UserError
from acodium.generate import LLMSource, generate_candidates
from acodium.generate.flow.options import STAGES
from acodium.generate.spend import spend_per_sample, stage_spend, with_budget
from chat_server import chat_server, wrap  # noqa: F401
from flow_script import CORRECT, flow_source, full_script, problem  # noqa: F401

SOLVE_RATE = pd.DataFrame({"metric": ["pass@k"] * 3, "k": [1, 2, 4], "value": [0.2, 0.3, 0.5]})


@pytest.fixture
def direct(chat_server, tmp_path, problem):
    """Three direct samples of the problem, priced."""
    chat_server.reply_for(problem["description"][:100], wrap(CORRECT, "prose"))
    source = LLMSource("test-model", base_url=chat_server.url, api_key="sk-test", prices={"test-model": (1.0, 2.0)},
                       cache_path=tmp_path / "llm.sqlite", max_retries=0)
    return generate_candidates([problem], source, 3, progress=False)


@pytest.fixture
def flow(chat_server, tmp_path, problem):
    """Two runs of the flow on the problem, with the scripted model's mistakes."""
    chat_server.responder = full_script()
    return generate_candidates([problem], flow_source(chat_server, tmp_path), 2, progress=False)


def metas(table):
    return [json.loads(m) for m in table["meta"]]


def test_a_direct_sample_is_one_call_with_its_tokens_and_cost(direct):
    assert spend_per_sample(direct, "calls").tolist() == [1.0, 1.0, 1.0]
    assert spend_per_sample(direct, "tokens").tolist() == [
        float(m["prompt_tokens"] + m["completion_tokens"]) for m in metas(direct)]
    assert spend_per_sample(direct, "tokens").gt(100).all()  # the statement alone is hundreds of tokens
    assert spend_per_sample(direct, "cost").tolist() == pytest.approx([m["cost"] for m in metas(direct)])
    with pytest.raises(UserError, match="calls, tokens or cost, not 'minutes'"):
        spend_per_sample(direct, "minutes")


def test_a_flow_run_counts_every_call_it_made(flow):
    calls = spend_per_sample(flow, "calls").tolist()
    assert calls == [float(m["calls"]) for m in metas(flow)]
    assert calls[0] == 13.0  # the scripted run: 2 reflections, 4 thinking, 3 code attempts, 4 fixes
    tokens = spend_per_sample(flow, "tokens")
    assert tokens.tolist() == [float(m["prompt_tokens"] + m["completion_tokens"]) for m in metas(flow)]


def test_direct_and_flow_on_one_budget_axis(direct, flow):
    both = pd.concat([direct.assign(strategy="direct"), flow.assign(strategy="full")], ignore_index=True)
    rates = pd.concat([SOLVE_RATE.assign(strategy="direct"), SOLVE_RATE.assign(strategy="full")], ignore_index=True)
    budget = with_budget(rates, both, "calls", group="strategy")
    mean_flow_calls = spend_per_sample(flow, "calls").mean()
    assert budget[budget["strategy"] == "direct"]["budget"].tolist() == [1.0, 2.0, 4.0]
    assert budget[budget["strategy"] == "full"]["budget"].tolist() == pytest.approx(
        [mean_flow_calls, 2 * mean_flow_calls, 4 * mean_flow_calls])
    assert list(rates.columns) == ["metric", "k", "value", "strategy"]  # the input is not changed
    # without groups, one mean over every candidate
    overall = with_budget(SOLVE_RATE, both, "calls")["budget"].tolist()
    assert overall == pytest.approx([k * (3 + spend_per_sample(flow, "calls").sum()) / 5 for k in (1, 2, 4)])
    # by tokens, a flow run costs many direct samples
    tokens = with_budget(rates, both, "tokens", group="strategy")
    per_k = tokens.set_index(["strategy", "k"])["budget"]
    assert per_k[("full", 1)] > 3 * per_k[("direct", 1)]


def test_a_group_without_candidates_is_one_sentence(direct):
    rates = SOLVE_RATE.assign(strategy=["direct", "direct", "no_anchors"])
    with pytest.raises(UserError, match="No candidates of strategy 'no_anchors'"):
        with_budget(rates, direct.assign(strategy="direct"), group="strategy")


def test_no_candidates_cost_nothing():
    empty = pd.DataFrame(columns=["problem", "candidate_id", "language", "code", "source", "meta"])
    assert with_budget(SOLVE_RATE, empty)["budget"].tolist() == [0.0, 0.0, 0.0]
    # candidates brought without meta count as one call each, no tokens, no cost
    brought = pd.DataFrame({"meta": ["", json.dumps({"cost": None})]})
    assert spend_per_sample(brought, "calls").tolist() == [1.0, 1.0]
    assert spend_per_sample(brought, "cost").tolist() == [0.0, 0.0]


def test_stage_spend_is_the_mean_per_run_in_stage_order(flow):
    table = stage_spend(flow)
    assert list(table.columns) == ["stage", "calls_per_run", "tokens_per_run", "cost_per_run"]
    assert table["stage"].tolist() == [s for s in STAGES if s in set(table["stage"])]
    assert "reflect" in set(table["stage"]) and "fix_public" in set(table["stage"])
    assert table["calls_per_run"].sum() == pytest.approx(spend_per_sample(flow, "calls").mean())
    assert table["tokens_per_run"].sum() == pytest.approx(spend_per_sample(flow, "tokens").mean())
    assert table["cost_per_run"].sum() == pytest.approx(spend_per_sample(flow, "cost").mean())
    by_stage = table.set_index("stage")["calls_per_run"]
    runs = metas(flow)
    assert by_stage["reflect"] == pytest.approx(sum(m["stages"]["reflect"]["calls"] for m in runs) / len(runs))


def test_stage_spend_of_direct_samples_is_empty(direct):
    assert stage_spend(direct).empty


def test_stage_spend_by_group_leaves_direct_samples_out(flow, direct):
    both = pd.concat([direct.assign(strategy="direct"), flow.assign(strategy="full"),
                      flow.iloc[:1].assign(strategy="one")], ignore_index=True)
    table = stage_spend(both, group="strategy")
    assert list(dict.fromkeys(table["strategy"])) == ["full", "one"]
    alone = stage_spend(flow)
    pd.testing.assert_frame_equal(table[table["strategy"] == "full"].drop(columns="strategy").reset_index(drop=True),
                                  alone)
    assert stage_spend(direct.assign(strategy="direct"), group="strategy").empty
