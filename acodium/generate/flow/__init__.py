"""AlphaCodium's flow (Ridnik et al. 2024) as a candidate source: reflect, reason, plan, test, code, fix.

One flow run makes one candidate. Its stages, each a table of acodium/prompts/flow.toml
with its own temperature:

1. `reflect`: the goal, inputs, outputs, rules and constraints, as bullet points;
2. `explain_tests`: why each public test's output is what it is;
3. `possible_solutions`, then `choose_solution`: two or three approaches in prose
   (brute force dropped when asked), ranked, one chosen;
4. `model_tests`: tests made by the model (six by default), inputs with expected outputs;
5. `initial_code`: a program, run on the tests; regenerated up to `code_attempts` times
   until one passes every public test, else the attempt passing the most is kept;
6. `fix_public`: each failing public test is shown (input, expected and actual output
   or the error) and the model asked for a fix, up to `max_fixes_per_test` per test and
   `max_public_fixes` in all;
7. `fix_model`: the same over the model's tests, with *test anchors*: a fix that breaks
   a test already passed (public tests, and model tests passed so far) is reverted, and
   a model test that code passing every public test still fails after its fixes is
   *distrusted* (the model's expected output is the likelier error): it never becomes an anchor.

Stages that think answer in YAML (`acodium.extract.extract_yaml`), stages that code with
a fenced program. An unreadable reply is asked again, `reasks` times; a stage that never
answers ends the run with a recorded reason, and the candidate is the best code so far
(or none). Budgets: `max_calls` per run (AlphaCodium spends 15 to 20) and `stage_calls`
per stage; the thinking stages always leave one call for the code. Tokens and cost are
counted per stage. Every call is cached under (messages, parameters, sample index, call
id): pass@k means k independent runs, sample indices 0..k-1, and a re-run asks nothing.
Ablations share the calls they have in common (run i of `no_anchors` reuses run i of
`full` up to where they differ), so their comparison is paired, and cheaper.

Each run writes every call (prompt, reply, parsed result), code version, test result and
decision to run_dir/flow_traces/<problem>/<candidate>.jsonl as it happens; `load_trace`
and `trace_table` read it back.

The package by job: `options` (stages, budgets, ablations, prompts), `parse` (the
reply readers), `run` (one run's state machine), `source` (`FlowSource`), `traces`.
"""

from __future__ import annotations

from .options import (ABLATIONS, DEFAULT_STAGE_CALLS, STAGE_PROMPTS, STAGES, THINKING_STAGES, FlowOptions,
                      FlowPrompts, flow_options)
from .parse import (code_parser, parse_choice, parse_reflection, parse_solutions, parse_test_explanations,
                    parse_tests)
from .run import REASK, FlowHost, FlowOutcome, FlowRun, StageSpend, Test, Version, describe_failure
from .source import FlowSource
from .traces import TRACES_DIR, TraceRecorder, load_trace, trace_path, trace_table

__all__ = [
    "ABLATIONS", "DEFAULT_STAGE_CALLS", "STAGE_PROMPTS", "STAGES", "THINKING_STAGES", "FlowOptions", "FlowPrompts",
    "flow_options", "code_parser", "parse_choice", "parse_reflection", "parse_solutions", "parse_test_explanations",
    "parse_tests", "REASK", "FlowHost", "FlowOutcome", "FlowRun", "StageSpend", "Test", "Version",
    "describe_failure", "FlowSource", "TRACES_DIR", "TraceRecorder", "load_trace", "trace_path", "trace_table",
]
