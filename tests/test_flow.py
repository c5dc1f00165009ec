"""The AlphaCodium flow end to end (FlowSource, FlowRun, traces) against a real local chat server.

The problem is a real one of the sample (1060_A. Phone Numbers, see flow_script.py);
its public tests are the dataset's, the private tests judge the final program.
"""

from __future__ import annotations

import json

import pytest

from acodium.generate import flow_options, generate_candidates, load_trace, trace_table
from acodium.tables import ERRORS_LOG
from chat_server import FlowScript, Slow, Status, chat_server, wrap  # noqa: F401
from flow_script import (CORRECT, COUNTS_CARDS, COUNTS_EIGHTS, MODEL_TESTS, PROBLEM, fix_reply, flow_source,
                         full_script, private_pass, problem)  # noqa: F401

def test_flow_fixes_reverts_and_distrusts(chat_server, tmp_path, problem):
    script = full_script()
    chat_server.responder = script
    run = tmp_path / "run"
    table = generate_candidates([problem], flow_source(chat_server, tmp_path), 1, run_dir=run, progress=False)
    cand = table.iloc[0]
    meta = json.loads(cand.meta)
    assert cand.candidate_id == "flow-0000" and cand.source == "flow"
    assert cand.code == CORRECT and private_pass(problem, cand.code)
    assert script.asked == [
        "reflect", "reflect", "explain_tests", "possible_solutions", "choose_solution", "model_tests",
        "initial_code", "initial_code", "initial_code",  # regenerated: none passes every public test
        "fix", "fix", "fix", "fix",
    ]
    assert meta["calls"] == 13 == chat_server.chat_requests
    assert meta["stages"]["reflect"]["calls"] == 2 and meta["stages"]["fix_public"]["calls"] == 2
    assert meta["stages"]["fix_model"]["calls"] == 2  # max_fixes_per_test on the wrong model test
    assert meta["public_passed"] == meta["public_tests"] == 4
    assert (meta["model_tests"], meta["model_passed"], meta["model_distrusted"]) == (3, 2, [1])
    assert (meta["fixes_accepted"], meta["fixes_reverted"]) == (1, 3)
    assert meta["stop_reason"] is None and meta["cached_calls"] == 0
    # tokens and cost add up over the stages, at the price given
    stages = meta["stages"].values()
    assert meta["prompt_tokens"] == sum(s["prompt_tokens"] for s in stages) > 0
    assert meta["cost"] == pytest.approx((meta["prompt_tokens"] * 1.0 + meta["completion_tokens"] * 2.0) / 1e6)

    events = load_trace(run, PROBLEM, "flow-0000")
    calls = [e for e in events if e["event"] == "call"]
    assert len(calls) == 13 and "error" in calls[0] and calls[1]["attempt"] == 1
    assert calls[1]["messages"][-1]["content"].startswith("Your reply could not be used")
    assert calls[2]["parsed"] == ["Example 1: 22 cards, four 8s: two numbers.\nNote: all examples agree."]
    decisions = [(e["stage"], e["decision"]) for e in events if e["event"] == "decision"]
    assert decisions == [
        ("possible_solutions", "dropped brute force"), ("model_tests", "tests added"), ("initial_code", "kept"),
        ("fix_public", "reverted"), ("fix_public", "accepted"),
        ("fix_model", "reverted"), ("fix_model", "reverted"), ("fix_model", "distrusted"),
    ]
    reverted = next(e for e in events if e["event"] == "decision" and e["decision"] == "reverted")
    assert reverted["broke"] == {"public": [2]} and reverted["analysis"] == "Only the number of cards limits it."
    versions = [e for e in events if e["event"] == "code"]
    assert [v["code"] for v in versions] == [COUNTS_EIGHTS] * 3 + [COUNTS_CARDS, CORRECT] + [COUNTS_EIGHTS] * 2
    first_tests = next(e for e in events if e["event"] == "tests")
    assert [r["passed"] for r in first_tests["results"]] == [False, True, True, True, False, True, False]
    assert events[-1] == {"event": "end", "stop_reason": None, "final_version": 5, "calls": 13}
    # the fix prompt showed the failing test, the expected and the actual output
    fix_prompt = calls[9]["messages"][-1]["content"]
    assert "0011223344556677889988" in fix_prompt and "wrong answer" in fix_prompt
    assert "```\n4\n```" in fix_prompt and COUNTS_EIGHTS.strip() in fix_prompt
    table_view = trace_table(events)
    assert list(table_view.columns) == ["step", "stage", "event", "summary"] and len(table_view) == len(events)
    assert table_view["summary"].str.contains("distrusted").any()


def test_without_anchors_a_fix_that_breaks_passed_tests_is_kept(chat_server, tmp_path, problem):
    script = full_script()
    chat_server.responder = script
    table = generate_candidates([problem], flow_source(chat_server, tmp_path, ablation="no_anchors"), 1,
                                progress=False)
    meta = json.loads(table.iloc[0].meta)
    # the first fix passes public test 0 and breaks test 2: kept, as nothing anchors test 2;
    # then test 2 is fixed by the correct program, and the wrong model test pulls it back
    assert meta["ablation"] == "no_anchors"
    assert table.iloc[0].code == COUNTS_EIGHTS and not private_pass(problem, table.iloc[0].code)
    assert meta["fixes_accepted"] == 3 and meta["model_distrusted"] == []


def test_stages_switched_off_are_not_asked(chat_server, tmp_path, problem):
    script = FlowScript(initial_code=wrap(CORRECT, "python_fence"))
    chat_server.responder = script
    options = flow_options("no_reflection", approaches=False, model_tests=False)
    table = generate_candidates([problem], flow_source(chat_server, tmp_path, options=options), 1, progress=False)
    assert script.asked == ["initial_code"]
    assert table.iloc[0].code == CORRECT
    body = chat_server.chat_bodies[0]
    assert body["temperature"] == 0.2  # the stage's own, from flow.toml
    assert "Reflection" not in body["messages"][-1]["content"]


def test_initial_code_is_regenerated_and_the_closest_attempt_kept(chat_server, tmp_path, problem):
    always_fails = "print(2)\n"  # passes public test 0 only
    script = FlowScript(initial_code=[wrap(always_fails, "python_fence"), wrap(COUNTS_EIGHTS, "python_fence")])
    chat_server.responder = script
    options = flow_options(model_tests=False, max_public_fixes=0, code_attempts=3)
    table = generate_candidates([problem], flow_source(chat_server, tmp_path, options=options), 1, progress=False)
    meta = json.loads(table.iloc[0].meta)
    assert script.asked.count("initial_code") == 3  # never all public tests: every attempt used
    assert table.iloc[0].code == COUNTS_EIGHTS and meta["public_passed"] == 3  # the closest one (3 of 4)
    # the same prompt asked three times is three cache keys, not one reply three times
    assert len({json.dumps(b["messages"]) for b in chat_server.chat_bodies[-3:]}) == 1


def test_budget_running_out_ends_the_run_with_its_best_code(chat_server, tmp_path, problem):
    script = full_script()
    chat_server.responder = script
    table = generate_candidates([problem], flow_source(chat_server, tmp_path, options=flow_options(max_calls=8)), 1,
                                progress=False)
    meta = json.loads(table.iloc[0].meta)
    assert meta["calls"] == 8 == chat_server.chat_requests
    assert "8 calls were spent" in meta["stop_reason"]
    assert table.iloc[0].code == COUNTS_EIGHTS  # calls 7 and 8 were the code, no fix was made
    # a budget too small for any thinking still leaves the one call for the code
    chat_server.reset_counts()
    script.asked.clear()
    table = generate_candidates([problem], flow_source(chat_server, tmp_path / "b", options=flow_options(max_calls=1)),
                                1, progress=False)
    assert script.asked == ["initial_code"] and table.iloc[0].code == COUNTS_EIGHTS


def test_an_unreadable_thinking_stage_is_skipped_and_the_run_goes_on_to_the_code(chat_server, tmp_path, problem):
    # what a 270M model did: explain_tests never readable (1 ask + 2 re-asks); model_tests neither
    script = FlowScript(explain_tests="Sure! The examples are right because the rules say so.",
                        model_tests="I think the tests are fine.", initial_code=wrap(CORRECT, "python_fence"))
    chat_server.responder = script
    run = tmp_path / "run"
    table = generate_candidates([problem], flow_source(chat_server, tmp_path), 1, run_dir=run, progress=False)
    meta = json.loads(table.iloc[0].meta)
    assert script.asked == ["reflect"] + ["explain_tests"] * 3 + ["possible_solutions", "choose_solution"] + \
        ["model_tests"] * 3 + ["initial_code"]
    assert table.iloc[0].code == CORRECT and meta["stop_reason"] is None and meta["calls"] == 10
    assert sorted(meta["skipped_stages"]) == ["explain_tests", "model_tests"]
    assert meta["skipped_stages"]["explain_tests"].startswith("no explain_tests reply could be read in 3 tries")
    assert meta["model_tests"] == 0 and "fix_model" not in meta["stages"]
    events = load_trace(run, PROBLEM, "flow-0000")
    skipped = [(e["stage"], e["reason"]) for e in events if e["event"] == "decision" and e["decision"] == "skipped"]
    assert skipped == list(meta["skipped_stages"].items())
    # the code was asked with what was read (the reflection, the plan), without the skipped explanations
    code_prompt = chat_server.chat_bodies[-1]["messages"][-1]["content"]
    assert "The goal is stated in the problem." in code_prompt and "Compute the answer directly." in code_prompt
    assert "Why the examples' outputs" not in code_prompt
    assert trace_table(events)["summary"].str.contains("skipped").sum() == 2


def test_an_unreadable_choice_falls_back_to_the_first_approach(chat_server, tmp_path, problem):
    chat_server.responder = FlowScript(choose_solution="Direct, obviously.", model_tests=MODEL_TESTS,
                                       initial_code=wrap(CORRECT, "python_fence"), fix=fix_reply(CORRECT))
    table = generate_candidates([problem], flow_source(chat_server, tmp_path), 1, progress=False)
    meta = json.loads(table.iloc[0].meta)
    assert list(meta["skipped_stages"]) == ["choose_solution"] and meta["stop_reason"] is None
    code_prompt = next(b for b in chat_server.chat_bodies if "Approach" in b["messages"][-1]["content"])
    assert "## Approach\n\nDirect\nCompute the answer directly." in code_prompt["messages"][-1]["content"]
    assert table.iloc[0].code == CORRECT


def test_a_skipped_stage_leaves_the_run_budget_to_the_code(chat_server, tmp_path, problem):
    # 3 unreadable reflections spend 3 of 4 calls: explain_tests would take the code's last call
    script = FlowScript(reflect="no yaml", initial_code=wrap(CORRECT, "python_fence"))
    chat_server.responder = script
    table = generate_candidates([problem], flow_source(chat_server, tmp_path, options=flow_options(max_calls=4)), 1,
                                progress=False)
    meta = json.loads(table.iloc[0].meta)
    assert script.asked == ["reflect"] * 3 + ["initial_code"] and table.iloc[0].code == CORRECT
    assert meta["skipped_stages"] == {
        "reflect": "no reflect reply could be read in 3 tries (last: no YAML object in the reply)",
        "explain_tests": "the run's last call of 4 is the code's"}


def test_an_unreadable_code_stage_ends_that_run_and_the_next_goes_on(chat_server, tmp_path, problem):
    # 3 replies without a program (1 ask + 2 re-asks) end run 0; run 1 gets a program
    script = FlowScript(initial_code=["I would write it in Python."] * 3 + [wrap(CORRECT, "python_fence")])
    chat_server.responder = script
    run = tmp_path / "run"
    options = flow_options(reflect=False, explain_tests=False, approaches=False, model_tests=False)
    table = generate_candidates([problem], flow_source(chat_server, tmp_path, options=options), 2, run_dir=run,
                                progress=False)
    first, second = (json.loads(m) for m in table["meta"])
    assert table.iloc[0].code == "" and first["calls"] == 3 and first["final_version"] is None
    assert first["stop_reason"].startswith("no initial_code reply could be read in 3 tries")
    assert table.iloc[1].code == CORRECT and second["stop_reason"] is None
    assert not (run / ERRORS_LOG).exists() or (run / ERRORS_LOG).read_text() == ""
    assert load_trace(run, PROBLEM, "flow-0000")[-1]["stop_reason"] == first["stop_reason"]


def test_rerun_is_free_and_a_failed_run_is_retried(chat_server, tmp_path, problem):
    # every run: 5 thinking calls, 3 code attempts, 1 fix kept, 2 fixes of the wrong model test reverted
    chat_server.responder = FlowScript(model_tests=MODEL_TESTS, initial_code=wrap(COUNTS_EIGHTS, "python_fence"),
                                       fix=fix_reply(CORRECT))
    run = tmp_path / "run"
    # run 1 gets an HTTP 500 at its first fix (request 11 + 9): recorded as failed, run 0 is kept
    chat_server.script(*[Slow(0)] * 19, Status(500))
    table = generate_candidates([problem], flow_source(chat_server, tmp_path), 2, run_dir=run, progress=False)
    assert table["candidate_id"].tolist() == ["flow-0000"]
    assert [f["candidate_id"] for f in table.attrs["failures"]] == ["flow-0001"]
    assert "HTTP 500" in (run / ERRORS_LOG).read_text()
    assert chat_server.chat_requests == 20
    # the server is well again: only run 1 is redone, its first 8 calls from the cache
    table = generate_candidates([problem], flow_source(chat_server, tmp_path), 2, run_dir=run, progress=False)
    assert table["candidate_id"].tolist() == ["flow-0000", "flow-0001"]
    assert table["code"].tolist() == [CORRECT, CORRECT]
    second = json.loads(table.iloc[1].meta)
    assert (second["calls"], second["cached_calls"]) == (11, 8) and chat_server.chat_requests == 20 + 3
    assert load_trace(run, PROBLEM, "flow-0001")[-1]["event"] == "end"  # the torn trace was rewritten
    # a fresh run folder with the same cache asks nothing: k runs are k cached sample indices
    again = generate_candidates([problem], flow_source(chat_server, tmp_path), 2, run_dir=tmp_path / "again",
                                progress=False)
    assert chat_server.chat_requests == 23
    assert again["code"].tolist() == table["code"].tolist()
    assert [json.loads(m)["cached_calls"] for m in again["meta"]] == [11, 11]


CPP_CORRECT = """#include <bits/stdc++.h>
int main() { int n; std::string s; std::cin >> n >> s;
  std::cout << std::min<long>(n / 11, std::count(s.begin(), s.end(), '8')) << std::endl; }
"""


def test_a_cpp_flow_and_a_problem_without_examples(chat_server, tmp_path, problem):
    script = FlowScript(initial_code=wrap(CPP_CORRECT, "cpp_fence"), model_tests=MODEL_TESTS,
                        fix=fix_reply(COUNTS_EIGHTS))
    chat_server.responder = script
    no_examples = {**problem, "name": "no examples", "public_tests": {"input": [], "output": []}}
    table = generate_candidates([problem, no_examples], flow_source(chat_server, tmp_path, language="cpp"), 1,
                                progress=False)
    with_examples, without = (json.loads(m) for m in table["meta"])
    assert table["language"].tolist() == ["cpp", "cpp"] and table["code"].tolist() == [CPP_CORRECT] * 2
    assert "```cpp" in chat_server.chat_bodies[-1]["messages"][-1]["content"]
    # with examples: 4/4 public, model test 1 (22 eights -> "22") distrusted after 2 reverted fixes
    assert (with_examples["public_passed"], with_examples["model_distrusted"]) == (4, [1])
    # without examples there is nothing to explain or fix on public tests: the model's tests decide
    assert without["public_tests"] == 0 and "explain_tests" not in without["stages"]
    assert "fix_public" not in without["stages"] and without["model_distrusted"] == [1]
    assert private_pass(problem, CPP_CORRECT, "cpp")


def test_model_tests_on_an_example_input_are_dropped(chat_server, tmp_path, problem):
    # the first contradicts the example "11 / 00000000008 -> 1"; the other two are new
    tests = ("tests:\n- input: |\n    11\n    00000000008\n  output: |\n    5\n"
             "- input: |\n    11\n    88888888888\n  output: |\n    1\n"
             "- input: |\n    1\n    8\n  output: |\n    0\n")
    chat_server.responder = FlowScript(model_tests=tests, initial_code=wrap(CORRECT, "python_fence"))
    run = tmp_path / "run"
    table = generate_candidates([problem], flow_source(chat_server, tmp_path), 1, run_dir=run, progress=False)
    meta = json.loads(table.iloc[0].meta)
    assert (meta["model_tests"], meta["model_passed"], meta["model_distrusted"]) == (2, 2, [])
    added = next(e for e in load_trace(run, PROBLEM, "flow-0000") if e.get("decision") == "tests added")
    assert (added["count"], added["on_examples"]) == (2, 1)
