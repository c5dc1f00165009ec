"""One run of the AlphaCodium flow on one problem: the state machine behind a flow candidate.

`FlowRun` asks the stages in order (thinking in YAML, then code), re-asks an
unreadable reply, runs every program version on the public and model tests, and
keeps or reverts each fix by its test anchors, within the run's call budgets. A
thinking stage whose replies cannot be read is skipped (the code is asked without
it); only the code stages end a run. It
ends with a `FlowOutcome` (the final version, why it stopped, the spend per stage)
and reports every step to a trace callback. What a run needs from its source
(options, prompts, the client, how to execute) is the `FlowHost` protocol, so this
module does not depend on the source that drives it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol, Sequence

from ...data import problem_tests
from ...execute import Execution, Limits, Program
from ...execute.types import ExecutionResult, Status
from ...extract import ReplyFormatError
from ...llm import ChatResult, LLMClient
from ...wording import plural
from .options import STAGES, THINKING_STAGES, FlowOptions, FlowPrompts
from .parse import code_parser, parse_choice, parse_reflection, parse_solutions, parse_test_explanations, parse_tests

REASK = (
    "Your reply could not be used: {problem}. Reply again with only what was asked, "
    "in the format shown."
)


class _OutOfCalls(Exception):
    """The run's budget of calls is spent: it ends with the code it has."""


class _StageFailed(Exception):
    """A stage's reply never parsed within its re-asks: a thinking stage is skipped, a code stage ends the run."""


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
    skipped: dict[str, str]  # thinking stage -> why it was skipped
    fixes_accepted: int
    fixes_reverted: int
    versions: int


def _spent(calls: int) -> str:
    return f"{plural(calls, 'call')} {'was' if calls == 1 else 'were'} spent"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n... ({len(text) - limit} more characters)"


def describe_failure(result: ExecutionResult, time_s: float) -> str:
    """One line on why a run did not pass, for a fixing prompt."""
    tail = result.stderr.strip()[-1500:]
    if result.status == Status.OK:
        return "wrong answer: the program's output differs from the expected output."
    if result.status == Status.TIMEOUT:
        return f"time limit exceeded: the program ran longer than {time_s:g} s."
    if result.status == Status.SLOW:
        return (f"time limit exceeded: the output is right, but the program ran longer than {time_s:g} s "
                "(a faster algorithm is needed).")
    if result.status == Status.MEMORY_LIMIT:
        return "memory limit exceeded."
    if result.status == Status.OUTPUT_LIMIT:
        return "the program printed far too much output."
    if result.status == Status.COMPILE_ERROR:
        return f"compilation error:\n{tail}"
    return f"runtime error (exit code {result.exit_code}, signal {result.signal}):\n{tail}"


class FlowHost(Protocol):
    """What a run takes from the source that drives it (`FlowSource`)."""

    options: FlowOptions
    prompts: FlowPrompts
    params: dict[str, Any]  # sampling parameters; a None temperature means each stage's own
    llm: LLMClient | None
    execution: Execution

    async def execute(self, program: Program, tests: Sequence[Test], limits: Limits,
                      checker: Any = "tokens") -> list[ExecutionResult]:
        """Run a program on tests, judged by `checker` (a `Checker` or a built-in's name): one result per test."""


class FlowRun:
    """One run of the flow on one problem (sample index `index`): `await run()`."""

    def __init__(self, source: FlowHost, problem: Mapping[str, Any], index: int,
                 trace: Callable[[dict], None]):
        self.source, self.index, self.trace = source, index, trace
        self.options = source.options
        self.prompts = source.prompts
        self.language = source.prompts.base.language
        self.limits = source.execution.limits(problem, self.language)
        self.checker = source.execution.checker_for(problem)  # judges public and model tests
        self.public = [Test("public", i, a, b) for i, a, b in problem_tests(problem, "public")]
        self.model: list[Test] = []
        self.spend = {stage: StageSpend() for stage in STAGES}
        self.total_calls = 0
        self.versions: list[Version] = []
        self.current: Version | None = None
        self.distrusted: list[int] = []
        self.skipped: dict[str, str] = {}
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
            raise _OutOfCalls(f"the run's {_spent(self.options.max_calls)} (in {stage})")
        return self.spend[stage].calls < self.options.calls_for(stage)

    async def ask(self, stage: str, parse: Callable[[str], Any], **variables: Any) -> Any:
        """Ask a stage's prompt; re-ask when the reply cannot be parsed; the parsed reply."""
        messages = self.prompts.messages(stage, {**self.variables, **variables})
        problem, failures = "", 0
        for attempt in range(self.options.reasks + 1):
            if stage in THINKING_STAGES and self.total_calls + 1 >= self.options.max_calls:
                raise _NoCallsToThink(stage)  # the last call is the code's
            if self.total_calls >= self.options.max_calls:
                raise _OutOfCalls(f"the run's {_spent(self.options.max_calls)} (in {stage})")
            if self.spend[stage].calls >= self.options.calls_for(stage):
                if attempt == 0:
                    raise _OutOfCalls(f"the {stage} stage's {_spent(self.options.calls_for(stage))}")
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
        raise _StageFailed(f"no {stage} reply could be read in {plural(failures, 'try', 'tries')} (last: {problem})")

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
        results = await self.source.execute(Program(language, code), tests, self.limits, self.checker) if tests else []
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
            self.skip(str(e), f"the run's last call of {self.options.max_calls} is the code's")

    def skip(self, stage: str, reason: str) -> None:
        self.skipped[stage] = reason
        self.decide(stage, "skipped", reason=reason)

    async def thought(self, stage: str, parse: Callable[[str], Any]) -> Any | None:
        """A thinking stage's parsed reply; None when no reply could be read (the stage is skipped, traced)."""
        try:
            return await self.ask(stage, parse)
        except _StageFailed as e:
            self.skip(stage, str(e))
            return None

    async def _think(self) -> None:
        o = self.options
        bullets = await self.thought("reflect", parse_reflection) if self.enabled("reflect") else None
        if bullets is not None:
            self.variables["reflection"] = "\n## Reflection on the problem\n\n" + "\n".join(
                f"- {b}" for b in bullets) + "\n"
        explanations = (await self.thought("explain_tests", parse_test_explanations)
                        if self.enabled("explain_tests") else None)
        if explanations is not None:
            self.variables["test_explanations"] = "\n## Why the examples' outputs are what they are\n\n" + "\n".join(
                f"Example {i + 1}: {e}" for i, e in enumerate(explanations) if e) + "\n"
        solutions = (await self.thought("possible_solutions", parse_solutions)
                     if self.enabled("possible_solutions") else None)
        if solutions is not None:
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
                chosen = await self.thought("choose_solution", parse_choice) or solutions[0]
            self.variables["plan"] = f"\n## Approach\n\n{chosen['name']}\n{chosen['content']}\n"
        tests = await self.thought("model_tests", parse_tests) if self.enabled("model_tests") else None
        if tests is not None:
            self.add_model_tests(tests)

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
            model_tests=len(self.model), distrusted=self.distrusted, skipped=self.skipped, fixes_accepted=self.accepted,
            fixes_reverted=self.reverted, versions=len(self.versions),
        )
        self.trace({"event": "end", "stop_reason": stop,
                    "final_version": self.current.number if self.current else None,
                    "calls": self.total_calls})
        return outcome
