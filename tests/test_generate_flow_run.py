"""One flow run's state machine against the local chat server, with programs really executed:
the execution settings it runs under, its budgets, its sampling parameters, and what the
model is told when a program fails."""

from __future__ import annotations

import asyncio
import json

import pytest

from acodium.errors import UserError
from acodium.execute import Execution, Limits, Program, run_program
from acodium.generate import FlowSource, flow_options, generate_candidates, load_trace
from acodium.generate.flow.run import REASK, FlowRun, describe_failure
from chat_server import FlowScript, chat_server, wrap  # noqa: F401
from flow_script import CORRECT, COUNTS_EIGHTS, PROBLEM, fix_reply, flow_source, full_script, problem  # noqa: F401

SPINS = "while True:\n    pass\n"
CODE_ONLY = dict(reflect=False, explain_tests=False, approaches=False, model_tests=False)


def run_once(code: str, stdin: str = "", expected: str = "", language: str = "python3", **limits):
    return run_program(Program(language, code), [stdin], [expected], Limits(**limits))[0]


def test_describe_failure_says_what_happened_to_a_real_run():
    assert describe_failure(run_once("print(3)", expected="4"), 2.0) == \
        "wrong answer: the program's output differs from the expected output."
    assert describe_failure(run_once(SPINS, time_s=0.3), 0.3) == \
        "time limit exceeded: the program ran longer than 0.3 s."
    crashed = describe_failure(run_once("raise ValueError('bad cards')", expected="1"), 2.0)
    assert crashed.startswith("runtime error (exit code 1, signal None):") and "ValueError: bad cards" in crashed
    broken = describe_failure(run_once("int main() { return x; }", language="cpp"), 2.0)
    assert broken.startswith("compilation error:\n") and "x" in broken
    assert describe_failure(run_once("print('y' * 10**6)", output_bytes=1000), 2.0) == \
        "the program printed far too much output."


def test_the_execution_setting_decides_limits_and_the_fix_prompt(chat_server, tmp_path, problem):
    # a first program that never ends, under a 0.5 s limit instead of the problem's: the fix prompt says so
    script = FlowScript(initial_code=wrap(SPINS, "python_fence"), fix=fix_reply(CORRECT))
    chat_server.responder = script
    execution = Execution(cache_dir=tmp_path / "exec", time_s=0.5)
    source = flow_source(chat_server, tmp_path, execution=execution,
                         options=flow_options(**CODE_ONLY, code_attempts=1, max_public_fixes=1))
    run = tmp_path / "run"
    table = generate_candidates([problem], source, 1, run_dir=run, progress=False)
    assert script.asked == ["initial_code", "fix"] and table.iloc[0].code == CORRECT
    fix_prompt = chat_server.chat_bodies[-1]["messages"][-1]["content"]
    assert "time limit exceeded: the program ran longer than 0.5 s." in fix_prompt
    first = next(e for e in load_trace(run, PROBLEM, "flow-0000") if e["event"] == "tests")
    assert {r["status"] for r in first["results"]} == {"TIMEOUT"}
    assert all(0.4 < r["time_s"] < 5 for r in first["results"])
    # the settings a run folder is saved with, under the keys it always had (a resume still matches)
    saved = json.loads((run / "generation.json").read_text())
    assert (saved["backend"], saved["time_limit_s"]) == ("local", 0.5)
    assert any((tmp_path / "exec").iterdir())  # the executions went to the shared cache


def test_without_a_time_setting_the_problems_own_limit_applies(chat_server, tmp_path, problem):
    source = flow_source(chat_server, tmp_path)
    assert problem["time_limit"] is None  # the sample's rows: the tester's default of 10 s, not multiplied
    assert FlowRun(source, problem, 0, lambda event: None).limits.time_s == 10.0
    limited = {**problem, "time_limit": {"seconds": 1, "nanos": 500_000_000}, "memory_limit_bytes": 64 * 2**20}
    run = FlowRun(source, limited, 0, lambda event: None)
    assert (run.limits.time_s, run.limits.memory_bytes) == (3.0, 64 * 2**20)  # python3's multiplier of 2
    cpp = FlowRun(flow_source(chat_server, tmp_path, language="cpp"), limited, 0, lambda event: None)
    assert cpp.limits.time_s == 1.5
    overridden = flow_source(chat_server, tmp_path, execution=Execution(time_s=0.25))
    assert FlowRun(overridden, limited, 0, lambda event: None).limits.time_s == 0.25
    assert source.config()["time_limit_s"] is None


def test_a_run_checks_against_the_valid_public_tests_and_keeps_their_dataset_index(chat_server, tmp_path, problem):
    source = flow_source(chat_server, tmp_path)
    n = len(problem["public_tests"]["input"])
    assert n >= 2  # the sample problem has several examples
    every = FlowRun(source, problem, 0, lambda event: None).public
    assert [(t.index, t.input) for t in every] == list(enumerate(problem["public_tests"]["input"]))
    public = dict(problem["public_tests"], is_valid_test=[i != 0 for i in range(n)])  # a reference check refuted #0
    cleaned = FlowRun(source, {**problem, "public_tests": public}, 0, lambda event: None)
    assert [(t.index, t.input, t.output) for t in cleaned.public] == \
        [(t.index, t.input, t.output) for t in every[1:]]
    # The prompt still shows the statement's examples as written, the refuted one included.
    assert cleaned.variables["examples"] == FlowRun(source, problem, 0, lambda event: None).variables["examples"]
    assert problem["public_tests"]["input"][0].strip() in cleaned.variables["examples"]


def test_old_execution_knobs_and_wrong_values_are_one_sentence(chat_server, tmp_path):
    with pytest.raises(UserError, match=r"takes execution=acodium.execute.Execution\(...\).*not backend, time_limit_s"):
        flow_source(chat_server, tmp_path, backend="local", time_limit_s=2.0)
    with pytest.raises(UserError, match="execution must be an acodium.execute.Execution, not dict"):
        flow_source(chat_server, tmp_path, execution={"backend": "local"})


def test_a_stage_budget_binds_before_the_code_attempts(chat_server, tmp_path, problem):
    script = FlowScript(initial_code=wrap("print(2)", "python_fence"))  # passes public test 0 only
    chat_server.responder = script
    options = flow_options(**CODE_ONLY, code_attempts=3, max_public_fixes=0, stage_calls={"initial_code": 1})
    table = generate_candidates([problem], flow_source(chat_server, tmp_path, options=options), 1, progress=False)
    meta = json.loads(table.iloc[0].meta)
    assert script.asked == ["initial_code"] and meta["calls"] == 1 and meta["public_passed"] == 1


def test_a_fix_stage_out_of_calls_ends_the_run_with_its_code(chat_server, tmp_path, problem):
    script = FlowScript(initial_code=wrap(COUNTS_EIGHTS, "python_fence"), fix=fix_reply("print(5)"))
    chat_server.responder = script
    options = flow_options(**CODE_ONLY, code_attempts=1, stage_calls={"fix_public": 2})
    table = generate_candidates([problem], flow_source(chat_server, tmp_path, options=options), 1, progress=False)
    meta = json.loads(table.iloc[0].meta)
    # two fixes of test 0 (max_fixes_per_test), both reverted: the stage's 2 calls are spent at test 2
    assert script.asked == ["initial_code", "fix", "fix"] and table.iloc[0].code == COUNTS_EIGHTS
    assert (meta["fixes_accepted"], meta["fixes_reverted"], meta["final_version"]) == (0, 2, 1)
    assert meta["stop_reason"] is None  # a spent stage budget moves on, only the run's budget stops it


def test_a_reask_shows_the_model_its_reply_and_what_was_wrong(chat_server, tmp_path, problem):
    script = FlowScript(reflect=["My thoughts, in prose.", "self_reflection:\n- Count.\n"],
                        initial_code=wrap(CORRECT, "python_fence"))
    chat_server.responder = script
    options = flow_options(explain_tests=False, approaches=False, model_tests=False)
    generate_candidates([problem], flow_source(chat_server, tmp_path, options=options), 1, progress=False)
    first, second = chat_server.chat_bodies[0]["messages"], chat_server.chat_bodies[1]["messages"]
    assert second[: len(first)] == first
    assert second[len(first)] == {"role": "assistant", "content": "My thoughts, in prose."}
    assert second[-1]["content"] == REASK.format(problem="no YAML object in the reply")
    # the reflection reached the code prompt
    assert "- Count." in chat_server.chat_bodies[2]["messages"][-1]["content"]


def test_thinking_the_budget_has_no_room_for_is_skipped_and_traced(chat_server, tmp_path, problem):
    chat_server.responder = FlowScript(initial_code=wrap(CORRECT, "python_fence"))
    run = tmp_path / "run"
    source = flow_source(chat_server, tmp_path, options=flow_options(max_calls=3))
    table = generate_candidates([problem], source, 1, run_dir=run, progress=False)
    decisions = [(e["stage"], e["decision"], e.get("reason")) for e in load_trace(run, PROBLEM, "flow-0000")
                 if e["event"] == "decision"]
    # reflect and explain_tests take 2 calls; possible_solutions would take the code's: skipped
    assert decisions[0] == ("possible_solutions", "skipped", "the run's last call of 3 is the code's")
    assert table.iloc[0].code == CORRECT and json.loads(table.iloc[0].meta)["calls"] == 3


def test_temperature_and_seed_are_per_stage_and_per_run(chat_server, tmp_path, problem):
    chat_server.responder = FlowScript(initial_code=wrap(CORRECT, "python_fence"))
    options = flow_options(explain_tests=False, approaches=False, model_tests=False)
    generate_candidates([problem], flow_source(chat_server, tmp_path, options=options, seed=5), 2, progress=False)
    bodies = chat_server.chat_bodies
    # the stages' own temperatures (flow.toml); the seed offset by the run's sample index
    assert sorted((b["temperature"], b["seed"]) for b in bodies) == [(0.2, 5), (0.2, 5), (0.2, 6), (0.2, 6)]
    chat_server.reset_counts()
    generate_candidates([problem], flow_source(chat_server, tmp_path / "b", options=options, temperature=0.9), 1,
                        progress=False)
    assert {b["temperature"] for b in chat_server.chat_bodies} == {0.9} and "seed" not in chat_server.chat_bodies[0]


def test_first_call_is_the_first_enabled_stage(chat_server, tmp_path, problem):
    def first(**options):
        source = flow_source(chat_server, tmp_path, options=flow_options(**options))
        return FlowRun(source, problem, 4, lambda event: None).first_call()

    messages, params, call = first()
    assert call == "reflect/1" and params["temperature"] == 0.2 and "self_reflection" in messages[-1]["content"]
    assert first(reflect=False)[2] == "explain_tests/1"
    assert first(**CODE_ONLY)[2] == "initial_code/1"
    no_examples = {**problem, "public_tests": {"input": [], "output": []}}
    source = flow_source(chat_server, tmp_path, options=flow_options(reflect=False))
    assert FlowRun(source, no_examples, 0, lambda event: None).first_call()[2] == "possible_solutions/1"


def test_a_rerun_from_the_cache_needs_no_server(chat_server, tmp_path, problem):
    chat_server.responder = full_script()
    first = generate_candidates([problem], flow_source(chat_server, tmp_path), 1, progress=False)
    chat_server.stop()
    again = generate_candidates([problem], flow_source(chat_server, tmp_path), 1, run_dir=tmp_path / "again",
                                progress=False)
    assert again["code"].tolist() == first["code"].tolist() == [CORRECT]
    assert json.loads(again.iloc[0].meta)["cached_calls"] == 13


def test_an_unknown_model_is_one_sentence_and_no_candidate(chat_server, tmp_path, problem):
    source = FlowSource("gpt-unknown", base_url=chat_server.url, api_key="k", max_retries=0,
                        execution=Execution(cache_dir=tmp_path / "exec"))
    with pytest.raises(UserError, match="does not know the model"):
        generate_candidates([problem], source, 3, run_dir=tmp_path / "run", progress=False)
    # one sentence, after at most the first call of each run (no retries, no other stage)
    log = tmp_path / "run" / "candidates.jsonl"
    assert chat_server.chat_requests <= 3 and (not log.exists() or log.read_text() == "")


def test_traces_in_memory_and_make_before_start(chat_server, tmp_path, problem):
    chat_server.responder = FlowScript(initial_code=wrap(CORRECT, "python_fence"))
    source = flow_source(chat_server, tmp_path, options=flow_options(**CODE_ONLY))
    generate_candidates([problem], source, 1, progress=False)
    events = source.trace(PROBLEM, "flow-0000")
    assert [e["event"] for e in events] == ["call", "code", "tests", "decision", "end"]
    with pytest.raises(UserError, match="made no run flow-0001"):
        source.trace(PROBLEM, "flow-0001")
    fresh = flow_source(chat_server, tmp_path)
    with pytest.raises(RuntimeError, match="start"):
        asyncio.run(fresh.make(problem, "flow-0000"))
    with pytest.raises(UserError, match="how many flow runs"):
        fresh.plan(problem, None)
