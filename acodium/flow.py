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
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from .errors import UserError
from .execute import Job, Limits, Program, limits_for_problem, run_batch
from .execute.types import ExecutionResult, Status
from .extract import ReplyFormatError, extract_code, extract_yaml
from .generate import Candidate, ChatModelSource
from .llm import ChatResult
from .prompting import LANGUAGES, ProblemPrompt, fill, load_prompt_file, prompt_path

THINKING_STAGES = ("reflect", "explain_tests", "possible_solutions", "choose_solution", "model_tests")
STAGES = THINKING_STAGES + ("initial_code", "fix_public", "fix_model")
# The prompt table each stage asks with (the two fixing stages share one).
STAGE_PROMPTS = {**{s: s for s in THINKING_STAGES}, "initial_code": "initial_code",
                 "fix_public": "fix", "fix_model": "fix"}
# Calls per stage, re-asks included: a thinking stage gets its answer and two re-asks;
# the run's `max_calls` (20) binds first when every stage uses its share.
DEFAULT_STAGE_CALLS = {"reflect": 3, "explain_tests": 3, "possible_solutions": 3, "choose_solution": 3,
                       "model_tests": 3, "initial_code": 5, "fix_public": 8, "fix_model": 8}
TRACES_DIR = "flow_traces"

REASK = (
    "Your reply could not be used: {problem}. Reply again with only what was asked, "
    "in the format shown."
)


@dataclass(frozen=True)
class FlowOptions:
    """Which stages run and how many calls each may spend (plain values, saved with the run)."""

    reflect: bool = True
    explain_tests: bool = True
    approaches: bool = True  # possible_solutions + choose_solution
    model_tests: bool = True
    anchors: bool = True
    n_solutions: int = 3
    drop_brute_force: bool = True
    n_model_tests: int = 6
    code_attempts: int = 3
    max_fixes_per_test: int = 2
    max_public_fixes: int = 6
    max_model_fixes: int = 6
    max_calls: int = 20  # per flow run, re-asks included
    reasks: int = 2
    stage_calls: Mapping[str, int] = field(default_factory=dict)  # overrides DEFAULT_STAGE_CALLS

    def __post_init__(self):
        for name in ("n_solutions", "n_model_tests", "code_attempts", "max_fixes_per_test",
                     "max_public_fixes", "max_model_fixes", "max_calls", "reasks"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise UserError(f"The flow option {name} must be a whole number >= 0, not {value!r}.")
        if self.code_attempts < 1 or self.max_calls < 1:
            raise UserError("A flow run needs at least one code attempt and one LLM call.")
        unknown = sorted(set(self.stage_calls) - set(STAGES))
        if unknown:
            raise UserError(f"Unknown flow stage {unknown[0]!r} in stage_calls: the stages are {', '.join(STAGES)}.")
        object.__setattr__(self, "stage_calls", dict(self.stage_calls))

    def calls_for(self, stage: str) -> int:
        return int(self.stage_calls.get(stage, DEFAULT_STAGE_CALLS[stage]))

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# The ablations of the AlphaCodium paper's table, by name (`flow_options("no_anchors")`).
ABLATIONS: dict[str, dict[str, Any]] = {
    "full": {},
    "no_reflection": {"reflect": False, "explain_tests": False},
    "no_approaches": {"approaches": False},
    "no_model_tests": {"model_tests": False},
    "no_anchors": {"anchors": False},
    "no_fixes": {"max_public_fixes": 0, "max_model_fixes": 0},
}


def flow_options(ablation: str = "full", **overrides: Any) -> FlowOptions:
    """The options of a named ablation, with any option overridden."""
    if ablation not in ABLATIONS:
        raise UserError(f"Unknown flow ablation {ablation!r}: use one of {', '.join(ABLATIONS)}.")
    known = {f.name for f in dataclasses.fields(FlowOptions)}
    bad = sorted(set(overrides) - known)
    if bad:
        raise UserError(f"Unknown flow option {bad[0]!r}: the options are {', '.join(sorted(known))}.")
    return FlowOptions(**{**ABLATIONS[ablation], **overrides})


@dataclass(frozen=True)
class FlowPrompts:
    """The stage prompts of a flow file, bound to a target language."""

    name: str
    tables: dict[str, dict[str, Any]]
    base: ProblemPrompt  # builds ${statement}, ${examples}, ${language}, ${fence} from a row
    text_hash: str

    @classmethod
    def load(cls, name: str | os.PathLike = "flow", language: str = "python3") -> "FlowPrompts":
        if language not in LANGUAGES:
            raise UserError(f"The target language must be one of {', '.join(LANGUAGES)}, not {language!r}.")
        path = prompt_path(name)
        doc = load_prompt_file(path)
        tables = {}
        for table in sorted(set(STAGE_PROMPTS.values())):
            entry = doc.get(table)
            if not isinstance(entry, dict) or not isinstance(entry.get("user"), str):
                raise UserError(f"The flow prompt file {path} has no [{table}] table with a 'user' template.")
            temperature = entry.get("temperature")
            if temperature is not None and not isinstance(temperature, (int, float)):
                raise UserError(f"The temperature of [{table}] in {path} must be a number.")
            tables[table] = entry
        lang = doc.get("languages", {}).get(language, {})
        base = ProblemPrompt(
            name=str(doc.get("name", path.stem)), system="", user="",
            pieces={k: v for k, v in doc.items() if isinstance(v, str)}, language=language,
            language_display=str(lang.get("display", language)), fence=str(lang.get("fence", language)),
        )
        text_hash = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        return cls(name=base.name, tables=tables, base=base, text_hash=text_hash)

    def messages(self, stage: str, variables: Mapping[str, Any]) -> list[dict]:
        table = self.tables[STAGE_PROMPTS[stage]]
        messages = []
        system = str(table.get("system", "")).strip()
        if system:
            messages.append({"role": "system", "content": fill(system, variables, f"[{stage}] system prompt")})
        messages.append({"role": "user", "content": fill(str(table["user"]).strip(), variables, f"[{stage}] prompt")})
        return messages

    def temperature(self, stage: str) -> float | None:
        return self.tables[STAGE_PROMPTS[stage]].get("temperature")


# ---- what the stages parse ---------------------------------------------------------------


def _text(value: Any) -> str:
    """A YAML value as text: models answer `key: value` where text was asked."""
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "\n".join(_text(v) for v in value)
    return str(value).strip()


def _entries(doc: Mapping, key: str) -> list:
    """A list the stage asked for; one text or a mapping is taken as its entries."""
    value = doc[key]
    if isinstance(value, Mapping):
        value = list(value.values())
    elif isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ReplyFormatError(f"'{key}' should be a non-empty list")
    return value


def parse_reflection(reply: str) -> list[str]:
    bullets = [b for b in (_text(v) for v in _entries(extract_yaml(reply, ("self_reflection",)), "self_reflection")) if b]
    if not bullets:
        raise ReplyFormatError("'self_reflection' holds no text")
    return bullets


def parse_test_explanations(reply: str) -> list[str]:
    out = []
    for entry in _entries(extract_yaml(reply, ("tests_explanations",)), "tests_explanations"):
        out.append(_text(entry.get("explanation", entry)) if isinstance(entry, Mapping) else _text(entry))
    if not any(out):
        raise ReplyFormatError("'tests_explanations' holds no explanation")
    return out


def parse_solutions(reply: str) -> list[dict[str, Any]]:
    out = []
    for entry in _entries(extract_yaml(reply, ("possible_solutions",)), "possible_solutions"):
        if not isinstance(entry, Mapping) or not _text(entry.get("content")):
            continue
        brute = entry.get("is_brute_force")
        labels = _text(entry.get("labels")).lower()
        out.append({
            "name": _text(entry.get("name")) or f"solution {len(out) + 1}",
            "content": _text(entry.get("content")),
            "why_it_works": _text(entry.get("why_it_works")),
            "complexity": _text(entry.get("complexity")),
            "is_brute_force": brute is True or str(brute).lower() in ("true", "yes") or "brute" in labels,
        })
    if not out:
        raise ReplyFormatError("no entry of 'possible_solutions' has a 'content'")
    return out


def parse_choice(reply: str) -> dict[str, str]:
    doc = extract_yaml(reply, ("name", "content"))
    choice = {"name": _text(doc["name"]), "content": _text(doc["content"]), "why": _text(doc.get("why"))}
    if not choice["content"]:
        raise ReplyFormatError("the chosen solution has no 'content'")
    return choice


def parse_tests(reply: str) -> list[dict[str, str]]:
    out = []
    for entry in _entries(extract_yaml(reply, ("tests",)), "tests"):
        if not isinstance(entry, Mapping) or entry.get("input") is None or entry.get("output") is None:
            continue  # a test cut short, or without an answer
        test_in, test_out = _value_text(entry["input"]), _value_text(entry["output"])
        if test_in.strip() and test_out.strip():
            out.append({"input": test_in, "output": test_out, "explanation": _text(entry.get("explanation"))})
    if not out:
        raise ReplyFormatError("no entry of 'tests' has both an 'input' and an 'output'")
    return out


def _value_text(value: Any) -> str:
    """A test's input or output as program text: lists are lines, a final newline added."""
    if isinstance(value, list):
        value = "\n".join(" ".join(map(str, v)) if isinstance(v, list) else str(v) for v in value)
    text = str(value)
    return text if text.endswith("\n") else text + "\n"


# A fenced block tagged with anything but YAML (the program, not the analysis).
_CODE_BLOCK = re.compile(r"^[ \t]*```(?!ya?ml[ \t]*$)[^\n`]+\n.*?^[ \t]*```[ \t]*$", re.DOTALL | re.MULTILINE)


def code_parser(language: str) -> Callable[[str], tuple[str, str, str]]:
    """A parser of coding replies: (code, language, analysis) or ReplyFormatError."""

    def parse(reply: str) -> tuple[str, str, str]:
        found = extract_code(reply, language)
        if not found.code:
            raise ReplyFormatError(f"it holds no complete {language} program ({found.reason})")
        try:  # the analysis before the program, best effort: the program is what counts
            analysis = _text(extract_yaml(_CODE_BLOCK.sub("", reply), ("what_went_wrong",))["what_went_wrong"])
        except ReplyFormatError:
            analysis = ""
        return found.code, found.language or language, analysis

    return parse


# ---- one flow run ------------------------------------------------------------------------


class _OutOfCalls(Exception):
    """The run's budget of calls is spent: it ends with the code it has."""


class _StageFailed(Exception):
    """A stage's reply never parsed within its re-asks: the run ends with the code it has."""


class _NoCallsToThink(Exception):
    """The thinking stages may not take the call the code needs: the stage is skipped."""


@dataclass
class Test:
    kind: str  # "public" or "model"
    index: int
    input: str
    output: str


@dataclass
class Version:
    """One program the run made, and how it did on every test it was run on."""

    number: int
    stage: str
    code: str
    language: str
    results: dict[tuple[str, int], ExecutionResult]

    def passed(self, kind: str) -> set[int]:
        return {i for (k, i), r in self.results.items() if k == kind and r.passed}

    def score(self) -> tuple[int, int]:
        return len(self.passed("public")), len(self.passed("model"))


@dataclass
class StageSpend:
    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    unpriced_calls: int = 0


@dataclass
class FlowOutcome:
    """What a run ends with: the final program (None when it made none) and how it got there."""

    version: Version | None
    stop_reason: str | None
    spend: dict[str, StageSpend]
    public_total: int
    model_tests: int
    distrusted: list[int]
    fixes_accepted: int
    fixes_reverted: int
    versions: int


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n... ({len(text) - limit} more characters)"


def describe_failure(result: ExecutionResult, time_s: float) -> str:
    """One line on why a run did not pass, for a fixing prompt."""
    tail = result.stderr.strip()[-1500:]
    if result.status == Status.OK:
        return "wrong answer: the program's output differs from the expected output."
    if result.status == Status.TIMEOUT:
        return f"time limit exceeded: the program ran longer than {time_s:g} s."
    if result.status == Status.MEMORY_LIMIT:
        return "memory limit exceeded."
    if result.status == Status.OUTPUT_LIMIT:
        return "the program printed far too much output."
    if result.status == Status.COMPILE_ERROR:
        return f"compilation error:\n{tail}"
    return f"runtime error (exit code {result.exit_code}, signal {result.signal}):\n{tail}"


class FlowRun:
    """One run of the flow on one problem (sample index `index`): `await run()`."""

    def __init__(self, source: "FlowSource", problem: Mapping[str, Any], index: int,
                 trace: Callable[[dict], None]):
        self.source, self.index, self.trace = source, index, trace
        self.options = source.options
        self.prompts = source.prompts
        self.language = source.prompts.base.language
        self.limits = source.limits(problem)
        public = problem.get("public_tests") or {}
        self.public = [Test("public", i, a, b) for i, (a, b) in
                       enumerate(zip(public.get("input") or [], public.get("output") or []))]
        self.model: list[Test] = []
        self.spend = {stage: StageSpend() for stage in STAGES}
        self.total_calls = 0
        self.versions: list[Version] = []
        self.current: Version | None = None
        self.distrusted: list[int] = []
        self.accepted = self.reverted = 0
        base = source.prompts.base.variables(problem, [], None)
        self.variables: dict[str, Any] = {
            **base, "reflection": "", "test_explanations": "", "solutions": "", "plan": "",
            "n_solutions": self.options.n_solutions, "n_tests": self.options.n_model_tests,
            "brute_force_rule": source.prompts.base.pieces.get("brute_force_rule", "")
            if self.options.drop_brute_force else "",
            "code": "", "test_input": "", "expected_output": "", "actual_output": "", "failure": "",
        }

    # ---- calls -----------------------------------------------------------------------

    def params(self, stage: str) -> dict[str, Any]:
        params = dict(self.source.params)
        if params.get("temperature") is None:
            params["temperature"] = self.prompts.temperature(stage)
        if params.get("seed") is not None:
            params["seed"] += self.index
        return params

    def first_call(self) -> tuple[list[dict], dict[str, Any], str]:
        """The messages, parameters and call id the run starts with (to see if it is cached)."""
        stage = next((s for s in ("reflect", "explain_tests", "possible_solutions", "model_tests")
                      if self.enabled(s)), "initial_code")
        return self.prompts.messages(stage, self.variables), self.params(stage), f"{stage}/1"

    def enabled(self, stage: str) -> bool:
        o = self.options
        on = {"reflect": o.reflect, "explain_tests": o.explain_tests and bool(self.public),
              "possible_solutions": o.approaches, "choose_solution": o.approaches,
              "model_tests": o.model_tests and o.n_model_tests > 0,
              "initial_code": True, "fix_public": o.max_public_fixes > 0 and bool(self.public),
              "fix_model": o.max_model_fixes > 0}[stage]
        return on and o.calls_for(stage) > 0

    def has_calls(self, stage: str) -> bool:
        """Whether the stage may make another call; _OutOfCalls when the run's budget is spent."""
        if self.total_calls >= self.options.max_calls:
            raise _OutOfCalls(f"the run's {self.options.max_calls} calls were spent (in {stage})")
        return self.spend[stage].calls < self.options.calls_for(stage)

    async def ask(self, stage: str, parse: Callable[[str], Any], **variables: Any) -> Any:
        """Ask a stage's prompt; re-ask when the reply cannot be parsed; the parsed reply."""
        messages = self.prompts.messages(stage, {**self.variables, **variables})
        problem, failures = "", 0
        for attempt in range(self.options.reasks + 1):
            if stage in THINKING_STAGES and self.total_calls + 1 >= self.options.max_calls:
                raise _NoCallsToThink(stage)  # the last call is the code's
            if self.total_calls >= self.options.max_calls:
                raise _OutOfCalls(f"the run's {self.options.max_calls} calls were spent (in {stage})")
            if self.spend[stage].calls >= self.options.calls_for(stage):
                if attempt == 0:
                    raise _OutOfCalls(f"the {stage} stage's {self.options.calls_for(stage)} calls were spent")
                break
            self.total_calls += 1
            self.spend[stage].calls += 1
            call = f"{stage}/{self.spend[stage].calls}"
            result = await self.source.llm.chat(messages, sample_index=self.index, call=call, **self.params(stage))
            self._account(stage, result)
            event = {"event": "call", "stage": stage, "call": call, "attempt": attempt, "messages": messages,
                     "reply": result.text, "prompt_tokens": result.prompt_tokens,
                     "completion_tokens": result.completion_tokens, "cost": result.cost, "cached": result.cached}
            try:
                parsed = parse(result.text)
            except ReplyFormatError as e:
                problem, failures = str(e), failures + 1
                self.trace({**event, "error": problem})
                messages = messages + [{"role": "assistant", "content": result.text},
                                       {"role": "user", "content": REASK.format(problem=problem)}]
                continue
            self.trace({**event, "parsed": parsed})
            return parsed
        raise _StageFailed(f"no {stage} reply could be read in {failures} tries (last: {problem})")

    def _account(self, stage: str, result: ChatResult) -> None:
        spend = self.spend[stage]
        spend.cached_calls += result.cached
        spend.prompt_tokens += result.prompt_tokens
        spend.completion_tokens += result.completion_tokens
        if result.cost is None:
            spend.unpriced_calls += 1
        else:
            spend.cost += result.cost

    # ---- code and tests --------------------------------------------------------------

    async def try_code(self, stage: str, code: str, language: str) -> Version:
        """Run a new program on every test (public and model), trace it, return it as a version."""
        tests = self.public + self.model
        results = await self.source.execute(Program(language, code), tests, self.limits) if tests else []
        version = Version(len(self.versions) + 1, stage, code, language,
                          {(t.kind, t.index): r for t, r in zip(tests, results)})
        self.versions.append(version)
        self.trace({"event": "code", "stage": stage, "version": version.number, "language": language, "code": code})
        self.trace({"event": "tests", "stage": stage, "version": version.number, "results": [
            {"kind": t.kind, "index": t.index, "status": r.status.value, "passed": r.passed,
             "stdout": _clip(r.stdout, 2000), "stderr": _clip(r.stderr, 2000), "time_s": round(r.time_s, 4)}
            for t, r in zip(tests, results)]})
        return version

    def add_model_tests(self, tests: list[dict[str, str]]) -> None:
        """The model's tests, at most `n_model_tests`, minus those on an example's input.

        An example's input already has its true output: a model test on it adds
        nothing when it agrees and is wrong when it does not.
        """
        known = {t.input.strip() for t in self.public}
        fresh = [t for t in tests if t["input"].strip() not in known]
        self.model = [Test("model", i, t["input"], t["output"])
                      for i, t in enumerate(fresh[: self.options.n_model_tests])]
        self.decide("model_tests", "tests added", count=len(self.model), on_examples=len(tests) - len(fresh))

    def decide(self, stage: str, what: str, **detail: Any) -> None:
        self.trace({"event": "decision", "stage": stage, "decision": what, **detail})

    # ---- the stages ------------------------------------------------------------------

    async def think(self) -> None:
        """The stages before the code; those the budget leaves no call for are skipped."""
        try:
            await self._think()
        except _NoCallsToThink as e:
            self.decide(str(e), "skipped", reason=f"the run's last call of {self.options.max_calls} is the code's")

    async def _think(self) -> None:
        o = self.options
        if self.enabled("reflect"):
            bullets = await self.ask("reflect", parse_reflection)
            self.variables["reflection"] = "\n## Reflection on the problem\n\n" + "\n".join(
                f"- {b}" for b in bullets) + "\n"
        if self.enabled("explain_tests"):
            explanations = await self.ask("explain_tests", parse_test_explanations)
            self.variables["test_explanations"] = "\n## Why the examples' outputs are what they are\n\n" + "\n".join(
                f"Example {i + 1}: {e}" for i, e in enumerate(explanations) if e) + "\n"
        if self.enabled("possible_solutions"):
            solutions = await self.ask("possible_solutions", parse_solutions)
            if o.drop_brute_force and any(not s["is_brute_force"] for s in solutions):
                dropped = [s["name"] for s in solutions if s["is_brute_force"]]
                solutions = [s for s in solutions if not s["is_brute_force"]]
                if dropped:
                    self.decide("possible_solutions", "dropped brute force", solutions=dropped)
            solutions = solutions[: max(1, o.n_solutions)]
            self.variables["solutions"] = "\n\n".join(
                f"{i + 1}. {s['name']}\n{s['content']}"
                + (f"\nWhy it works: {s['why_it_works']}" if s["why_it_works"] else "")
                + (f"\nComplexity: {s['complexity']}" if s["complexity"] else "")
                for i, s in enumerate(solutions))
            chosen = solutions[0]
            if len(solutions) > 1 and self.enabled("choose_solution"):
                chosen = await self.ask("choose_solution", parse_choice)
            self.variables["plan"] = f"\n## Approach\n\n{chosen['name']}\n{chosen['content']}\n"
        if self.enabled("model_tests"):
            self.add_model_tests(await self.ask("model_tests", parse_tests))

    async def initial_code(self) -> None:
        parse = code_parser(self.language)
        best: Version | None = None
        for attempt in range(self.options.code_attempts):
            if attempt and not self.has_calls("initial_code"):
                break
            code, language, _ = await self.ask("initial_code", parse)
            version = await self.try_code("initial_code", code, language)
            if best is None or version.score()[0] > best.score()[0]:
                best = self.current = version
            if len(version.passed("public")) == len(self.public):
                break
        self.decide("initial_code", "kept", version=best.number, public_passed=len(best.passed("public")))

    async def fix(self, stage: str, tests: list[Test], budget: int) -> None:
        """Fix `tests` in order: each fix runs on every test and is kept or reverted (anchors)."""
        parse = code_parser(self.language)
        spent = 0
        anchors = {"public": self.current.passed("public") if self.options.anchors else set(),
                   "model": set()}
        for test in tests:
            key = (test.kind, test.index)
            tries = 0
            while not self.current.results[key].passed:
                if tries >= self.options.max_fixes_per_test or spent >= budget or not self.has_calls(stage):
                    break  # (has_calls last: a test needing no more tries does not end the run)
                tries += 1
                spent += 1
                failing = self.current.results[key]
                code, language, analysis = await self.ask(
                    stage, parse, code=self.current.code.rstrip("\n"), test_input=_clip(test.input.rstrip("\n"), 4000),
                    expected_output=_clip(test.output.rstrip("\n"), 2000),
                    actual_output=_clip(failing.stdout.rstrip("\n"), 2000) or "(nothing)",
                    failure=describe_failure(failing, self.limits.time_s))
                candidate = await self.try_code(stage, code, language)
                broken = {kind: sorted(anchors[kind] - candidate.passed(kind)) for kind in anchors}
                if any(broken.values()):
                    self.reverted += 1
                    self.decide(stage, "reverted", version=candidate.number, test=list(key),
                                broke={k: v for k, v in broken.items() if v}, analysis=analysis)
                elif not candidate.results[key].passed:
                    self.reverted += 1
                    self.decide(stage, "reverted", version=candidate.number, test=list(key),
                                reason="the test still fails", analysis=analysis)
                else:
                    self.accepted += 1
                    self.current = candidate
                    self.decide(stage, "accepted", version=candidate.number, test=list(key), analysis=analysis)
                    if self.options.anchors:
                        anchors["public"] |= candidate.passed("public")
            if self.current.results[key].passed:
                if self.options.anchors:
                    anchors[test.kind].add(test.index)
            elif test.kind == "model" and len(self.current.passed("public")) == len(self.public):
                self.distrusted.append(test.index)
                self.decide(stage, "distrusted", test=list(key),
                            reason="it disagrees with code that passes every public test")

    async def run(self) -> FlowOutcome:
        stop = None
        try:
            await self.think()
            await self.initial_code()
            if self.enabled("fix_public"):
                await self.fix("fix_public", self.public, self.options.max_public_fixes)
            if self.model and self.enabled("fix_model"):
                await self.fix("fix_model", self.model, self.options.max_model_fixes)
        except (_OutOfCalls, _StageFailed) as e:
            stop = str(e)
        outcome = FlowOutcome(
            version=self.current, stop_reason=stop, spend=self.spend, public_total=len(self.public),
            model_tests=len(self.model), distrusted=self.distrusted, fixes_accepted=self.accepted,
            fixes_reverted=self.reverted, versions=len(self.versions),
        )
        self.trace({"event": "end", "stop_reason": stop,
                    "final_version": self.current.number if self.current else None,
                    "calls": self.total_calls})
        return outcome


# ---- the candidate source ----------------------------------------------------------------


def _slug(name: str) -> str:
    """A file-system-safe folder name for a problem (its hash keeps different names apart)."""
    return re.sub(r"[^\w.-]+", "_", name)[:60] + "-" + hashlib.sha256(name.encode()).hexdigest()[:8]


def trace_path(run_dir: str | os.PathLike, problem: str, candidate_id: str) -> Path:
    return Path(run_dir) / TRACES_DIR / _slug(problem) / f"{candidate_id}.jsonl"


class FlowSource(ChatModelSource):
    """k runs of the AlphaCodium flow per problem: one candidate each (see the module doc).

    `ablation` (a name of ABLATIONS) and `options` (overrides of it, or a whole
    FlowOptions) say which stages run and their budgets; `prompts` names the flow prompt file; `temperature`, when
    given, replaces every stage's own. The programs are run on the tests with
    `backend` (and `exec_cache_dir`, shared with evaluation), under the
    problem's limits or `time_limit_s`.
    """

    name = "flow"
    columns = ("name", "description", "public_tests", "time_limit", "memory_limit_bytes")

    def __init__(
        self,
        model: str,
        *,
        prompts: str | os.PathLike = "flow",
        language: str = "python3",
        ablation: str = "full",
        options: FlowOptions | Mapping[str, Any] | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        max_tokens: int | None = None,
        seed: int | None = None,
        backend: str = "local",
        exec_cache_dir: str | os.PathLike | None = None,
        time_limit_s: float | None = None,
        **client_options: Any,
    ):
        if isinstance(options, FlowOptions):
            self.options = options
        else:
            self.options = flow_options(ablation, **dict(options or {}))
        self.ablation = ablation
        self.prompts = FlowPrompts.load(prompts, language)
        self.params = {"temperature": temperature, "top_p": top_p, "max_tokens": max_tokens, "seed": seed}
        self.backend = backend
        self.exec_cache_dir = exec_cache_dir
        self.time_limit_s = time_limit_s
        self.traces: dict[tuple[str, str], list[dict]] = {}  # in memory when there is no run folder
        self._exec_lock: asyncio.Lock | None = None
        super().__init__(model, **client_options)

    def config(self) -> dict[str, Any]:
        return {
            **self.client_config(),
            "strategy": "flow",
            "flow_prompts": self.prompts.name,
            "flow_prompts_hash": self.prompts.text_hash,
            "language": self.prompts.base.language,
            "ablation": self.ablation,
            "flow_options": self.options.as_dict(),
            "backend": self.backend,
            "time_limit_s": self.time_limit_s,
            **{k: v for k, v in self.params.items() if v is not None},
        }

    def plan(self, problem, k):
        if k is None:
            raise UserError("Say how many flow runs to make per problem (--k).")
        return [f"flow-{i:04d}" for i in range(k)]

    def limits(self, problem: Mapping[str, Any]) -> Limits:
        limits = limits_for_problem(problem, self.prompts.base.language)
        return limits if self.time_limit_s is None else dataclasses.replace(limits, time_s=float(self.time_limit_s))

    async def execute(self, program: Program, tests: Sequence[Test], limits: Limits) -> list[ExecutionResult]:
        """Run a program on tests, one batch at a time (each batch uses every core)."""
        job = Job(program=program, inputs=[t.input for t in tests], expected=[t.output for t in tests],
                  limits=limits)
        async with self._exec_lock:
            return (await asyncio.to_thread(run_batch, [job], backend=self.backend,
                                            cache_dir=self.exec_cache_dir, progress=False))[0]

    async def start(self, todo):
        self._exec_lock = asyncio.Lock()
        llm = self.open_client()
        # As LLMSource: the server is checked before any work, unless every run to make
        # starts from the cache (a re-run of finished work needs no server).
        for problem, cid in todo:
            index = int(cid.removeprefix("flow-"))
            messages, params, call = FlowRun(self, problem, index, lambda e: None).first_call()
            if not llm.is_cached(messages, params, index, call):
                await llm.preflight()
                break

    async def make(self, problem, candidate_id):
        if self.llm is None:
            raise RuntimeError("FlowSource.start() must run before make()")
        index = int(candidate_id.removeprefix("flow-"))
        path = trace_path(self.run_dir, problem["name"], candidate_id) if self.run_dir is not None else None
        events: list[dict] = []
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(path, "w", encoding="utf-8")  # an unfinished run is redone whole (from the cache)
        else:
            self.traces[(problem["name"], candidate_id)] = events
            handle = None

        def trace(event: dict) -> None:
            if handle is None:
                events.append(event)
            else:
                handle.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
                handle.flush()

        try:
            outcome = await FlowRun(self, problem, index, trace).run()
        finally:
            if handle is not None:
                handle.close()
        return self._candidate(problem, candidate_id, index, outcome, path)

    def trace(self, problem: str, candidate_id: str) -> list[dict]:
        """The events of one run this source made (from its run folder, else kept in memory)."""
        if self.run_dir is not None:
            return load_trace(self.run_dir, problem, candidate_id)
        if (problem, candidate_id) not in self.traces:
            raise UserError(f"This flow source made no run {candidate_id} of {problem!r}.")
        return self.traces[(problem, candidate_id)]

    def _candidate(self, problem, candidate_id, index, outcome: FlowOutcome, path: Path | None) -> Candidate:
        version = outcome.version
        spend = outcome.spend
        meta = {
            "model": self.client_options["model"],
            "base_url": self.llm.base_url,
            "strategy": "flow",
            "ablation": self.ablation,
            "sample_index": index,
            "calls": sum(s.calls for s in spend.values()),
            "cached_calls": sum(s.cached_calls for s in spend.values()),
            "prompt_tokens": sum(s.prompt_tokens for s in spend.values()),
            "completion_tokens": sum(s.completion_tokens for s in spend.values()),
            "cost": None if any(s.unpriced_calls for s in spend.values()) else sum(s.cost for s in spend.values()),
            "stages": {stage: dataclasses.asdict(s) for stage, s in spend.items() if s.calls},
            "stop_reason": outcome.stop_reason,
            "public_tests": outcome.public_total,
            "public_passed": len(version.passed("public")) if version else 0,
            "model_tests": outcome.model_tests,
            "model_passed": len(version.passed("model")) if version else 0,
            "model_distrusted": outcome.distrusted,
            "fixes_accepted": outcome.fixes_accepted,
            "fixes_reverted": outcome.fixes_reverted,
            "versions": outcome.versions,
            "final_version": version.number if version else None,
        }
        if path is not None:
            meta["trace"] = str(path.relative_to(self.run_dir))
        return Candidate(problem=problem["name"], candidate_id=candidate_id,
                         language=version.language if version else self.prompts.base.language,
                         code=version.code if version else "", source=self.name, meta=meta)


# ---- reading traces, and spend per sample --------------------------------------------------


def load_trace(run_dir: str | os.PathLike, problem: str, candidate_id: str) -> list[dict]:
    """The events of one flow run, in order (a torn last line is skipped)."""
    path = trace_path(run_dir, problem, candidate_id)
    if not path.exists():
        raise UserError(f"No flow trace for {candidate_id} of {problem!r} in {run_dir}.")
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events


def trace_table(events: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per event of a flow run, with a one-line summary: what to show stage by stage."""
    rows = []
    for step, e in enumerate(events):
        kind = e.get("event")
        if kind == "call":
            what = f"error: {e['error']}" if "error" in e else _summary(e.get("parsed"))
            summary = f"{e['call']}{' (cached)' if e.get('cached') else ''}: {what}"
        elif kind == "code":
            summary = f"version {e['version']}: {len(e['code'].splitlines())} lines of {e['language']}"
        elif kind == "tests":
            by_kind: dict[str, list[int]] = {}
            for r in e["results"]:
                by_kind.setdefault(r["kind"], [0, 0])
                by_kind[r["kind"]][0] += bool(r["passed"])
                by_kind[r["kind"]][1] += 1
            summary = f"version {e['version']} passes " + ", ".join(
                f"{p}/{n} {k}" for k, (p, n) in by_kind.items()) if by_kind else "no tests"
        elif kind == "decision":
            detail = {k: v for k, v in e.items() if k not in ("event", "stage", "decision", "analysis")}
            summary = f"{e['decision']} {json.dumps(detail, default=str)}"
        elif kind == "end":
            summary = f"final version {e.get('final_version')} after {e.get('calls')} calls" + (
                f"; stopped: {e['stop_reason']}" if e.get("stop_reason") else "")
        else:
            summary = json.dumps(e, default=str)[:200]
        rows.append({"step": step, "stage": e.get("stage", ""), "event": kind, "summary": summary})
    return pd.DataFrame(rows, columns=["step", "stage", "event", "summary"])


def _summary(parsed: Any, limit: int = 160) -> str:
    text = json.dumps(parsed, ensure_ascii=False, default=str) if not isinstance(parsed, str) else parsed
    return text if len(text) <= limit else text[:limit] + "..."


def spend_per_sample(candidates: pd.DataFrame, by: str = "calls") -> pd.Series:
    """LLM calls (or tokens, or cost) each candidate took, from its meta: a direct sample is one call."""
    if by not in ("calls", "tokens", "cost"):
        raise UserError(f"Spend is counted in calls, tokens or cost, not {by!r}.")

    def one(meta: str) -> float:
        m = json.loads(meta) if meta else {}
        if by == "calls":
            return float(m.get("calls", 1))
        if by == "tokens":
            return float((m.get("prompt_tokens") or 0) + (m.get("completion_tokens") or 0))
        return float(m.get("cost") or 0.0)

    return candidates["meta"].map(one)


def with_budget(solve_rate: pd.DataFrame, candidates: pd.DataFrame, by: str = "calls",
                group: str | None = None) -> pd.DataFrame:
    """A solve-rate table with `budget`: k samples times the mean spend of one sample.

    Puts direct sampling and the flow on one axis: pass@k of the flow at k runs
    costs k x (mean calls per run), of direct sampling k calls. With `group` (a
    column of both tables, like `strategy`), each group gets its own mean.
    """
    out = solve_rate.copy()
    if group is None:
        per_sample = float(spend_per_sample(candidates, by).mean()) if len(candidates) else 0.0
        out["budget"] = out["k"] * per_sample
        return out
    means = spend_per_sample(candidates, by).groupby(candidates[group]).mean()
    missing = sorted(set(out[group]) - set(means.index), key=str)
    if missing:
        raise UserError(f"No candidates of {group} {missing[0]!r} to count the spend of.")
    out["budget"] = out["k"] * out[group].map(means)
    return out


def stage_spend(candidates: pd.DataFrame) -> pd.DataFrame:
    """Mean calls, tokens and cost per flow run, stage by stage (from the candidates' meta)."""
    rows = []
    for meta in candidates["meta"]:
        m = json.loads(meta) if meta else {}
        for stage, s in (m.get("stages") or {}).items():
            rows.append({"stage": stage, "calls": s["calls"], "tokens": s["prompt_tokens"] + s["completion_tokens"],
                         "cost": s["cost"]})
    runs = max(1, len(candidates))
    table = pd.DataFrame(rows, columns=["stage", "calls", "tokens", "cost"])
    table = table.groupby("stage", sort=False).sum() / runs
    order = [s for s in STAGES if s in table.index]
    return table.loc[order].reset_index().rename(columns={"calls": "calls_per_run", "tokens": "tokens_per_run",
                                                          "cost": "cost_per_run"})
