"""Flow options and stage prompts: the ablations, the budgets, a user's prompt file, and bad values
refused with one sentence before any call is made."""

from __future__ import annotations

import dataclasses
import re

import pytest

from acodium.errors import UserError
from acodium.generate.flow.options import (ABLATIONS, DEFAULT_STAGE_CALLS, STAGE_PROMPTS, STAGES, FlowOptions,
                                           FlowPrompts, flow_options)
from acodium.prompting import prompt_path


def test_each_ablation_changes_only_what_it_names():
    full = flow_options("full").as_dict()
    for name, changes in ABLATIONS.items():
        options = flow_options(name).as_dict()
        differ = {k for k in full if options[k] != full[k]}
        assert differ == set(changes), name
    assert flow_options("no_fixes").max_public_fixes == flow_options("no_fixes").max_model_fixes == 0


def test_overrides_apply_on_top_of_the_ablation_and_round_trip():
    options = flow_options("no_anchors", max_calls=8, stage_calls={"fix_public": 1})
    assert (options.anchors, options.max_calls) == (False, 8)
    assert options.calls_for("fix_public") == 1 and options.calls_for("reflect") == DEFAULT_STAGE_CALLS["reflect"]
    # the saved form (generation.json) makes the same options again
    assert FlowOptions(**options.as_dict()) == options
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.max_calls = 30  # type: ignore[misc]


def test_stage_calls_are_copied_not_shared():
    given = {"initial_code": 2}
    options = FlowOptions(stage_calls=given)
    given["initial_code"] = 9
    assert options.calls_for("initial_code") == 2


@pytest.mark.parametrize("make, message", [
    (lambda: flow_options("no_thinking"), "Unknown flow ablation 'no_thinking': use one of full, "),
    (lambda: flow_options(max_call=3), "Unknown flow option 'max_call'"),
    (lambda: FlowOptions(stage_calls={"reflection": 1}), "Unknown flow stage 'reflection'"),
    (lambda: FlowOptions(max_calls=-1), "max_calls must be a whole number >= 0, not -1"),
    (lambda: FlowOptions(n_model_tests=2.5), "n_model_tests must be a whole number"),
    (lambda: FlowOptions(reasks="2"), "reasks must be a whole number"),
    (lambda: FlowOptions(code_attempts=0), "at least one code attempt and one LLM call"),
    (lambda: FlowOptions(max_calls=0), "at least one code attempt and one LLM call"),
])
def test_bad_options_are_one_sentence(make, message):
    with pytest.raises(UserError, match=re.escape(message)):
        make()


def test_the_shipped_prompts_fill_every_stage(train_rows):
    prompts = FlowPrompts.load("flow", "cpp")
    assert set(prompts.tables) == set(STAGE_PROMPTS.values())
    row = train_rows[0]
    variables = {**prompts.base.variables(row, [], None), "reflection": "", "test_explanations": "", "solutions": "",
                 "plan": "", "n_solutions": 3, "n_tests": 6, "brute_force_rule": "", "code": "print(1)",
                 "test_input": "1", "expected_output": "2", "actual_output": "1", "failure": "wrong answer"}
    for stage in STAGES:
        messages = prompts.messages(stage, variables)
        assert [m["role"] for m in messages] == ["system", "user"]
        assert "${" not in messages[-1]["content"]
        assert isinstance(prompts.temperature(stage), float)
    assert "C++17" in prompts.messages("initial_code", variables)[-1]["content"]
    assert row["description"].strip()[:200] in prompts.messages("reflect", variables)[-1]["content"]
    # the two fixing stages share one prompt
    assert prompts.messages("fix_public", variables) == prompts.messages("fix_model", variables)


def test_a_users_prompt_file(tmp_path):
    shipped = prompt_path("flow").read_text()
    mine = tmp_path / "mine.toml"
    mine.write_text(shipped.replace("temperature = 0.2", "temperature = 0.5", 1))
    prompts = FlowPrompts.load(mine)
    assert prompts.temperature("reflect") == 0.5 and prompts.name == "flow"
    # any change of the file is another configuration (a resumed run folder says so)
    assert prompts.text_hash != FlowPrompts.load("flow").text_hash
    # a stage without a system prompt sends the user message alone
    mine.write_text(re.sub(r'\[reflect\]\ntemperature = 0.2\nsystem = """.*?"""\n', '[reflect]\n', shipped,
                           flags=re.DOTALL))
    variables = {**FlowPrompts.load(mine).base.variables({"description": "Add."}, [], None),
                 "n_solutions": 3, "n_tests": 6}
    reflect = FlowPrompts.load(mine).messages("reflect", variables)
    assert [m["role"] for m in reflect] == ["user"]


def test_bad_prompt_files_are_one_sentence(tmp_path):
    shipped = prompt_path("flow").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(shipped.replace("[fix]", "[repair]"))
    with pytest.raises(UserError, match=r"has no \[fix\] table with a 'user' template"):
        FlowPrompts.load(bad)
    bad.write_text(shipped.replace("temperature = 0.3", 'temperature = "warm"', 1))
    with pytest.raises(UserError, match=r"The temperature of \[possible_solutions\] .* must be a number"):
        FlowPrompts.load(bad)
    bad.write_text("name = 'broken\n")
    with pytest.raises(UserError, match="not valid TOML"):
        FlowPrompts.load(bad)
    with pytest.raises(UserError, match="target language must be one of python3, cpp, java, not 'python2'"):
        FlowPrompts.load("flow", "python2")
    with pytest.raises(UserError, match="No prompt 'no-such-flow'"):
        FlowPrompts.load("no-such-flow")
    # a template naming a variable nobody gives
    bad.write_text(shipped.replace("## Problem\n\n${statement}", "## Problem\n\n${statment}", 1))
    with pytest.raises(UserError, match=r"uses \$\{statment\}"):
        FlowPrompts.load(bad).messages("reflect", FlowPrompts.load(bad).base.variables({"description": "x"}, [], None))
