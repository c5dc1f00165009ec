"""The AlphaCodium flow as a candidate source: k flow runs per problem, one candidate each.

`FlowSource` holds what every run of a problem set shares (options, prompts, the
chat client, the `Execution` settings programs run under) and turns each run's
`FlowOutcome` into a candidate whose meta says what the run spent and decided.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from ...errors import UserError
from ...execute import Checker, Execution, Job, Limits, Program
from ...execute.types import ExecutionResult
from ..base import Candidate, ChatModelSource
from .options import FlowOptions, FlowPrompts, flow_options
from .run import FlowOutcome, FlowRun, Test
from .traces import TraceRecorder, load_trace, trace_path

# The execution knobs FlowSource took before `execution=`: named in the error that refuses them.
_OLD_EXECUTION_KNOBS = ("backend", "exec_cache_dir", "time_limit_s", "workers")


class FlowSource(ChatModelSource):
    """k runs of the AlphaCodium flow per problem: one candidate each (see the module doc).

    `ablation` (a name of ABLATIONS) and `options` (overrides of it, or a whole
    FlowOptions) say which stages run and their budgets; `prompts` names the flow
    prompt file; `temperature`, when given, replaces every stage's own. The programs
    are run on the tests under `execution` (its backend, its cache folder, shared
    with evaluation, and its time limit: the problem's own unless `execution.time_s`
    overrides it).
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
        execution: Execution | None = None,
        **client_options: Any,
    ):
        old = [k for k in _OLD_EXECUTION_KNOBS if k in client_options]
        if old:
            raise UserError(f"The flow source takes execution=acodium.execute.Execution(...) for how programs run, "
                            f"not {', '.join(old)}.")
        if execution is not None and not isinstance(execution, Execution):
            raise UserError(f"execution must be an acodium.execute.Execution, not {type(execution).__name__}.")
        if isinstance(options, FlowOptions):
            self.options = options
        else:
            self.options = flow_options(ablation, **dict(options or {}))
        self.ablation = ablation
        self.prompts = FlowPrompts.load(prompts, language)
        self.params = {"temperature": temperature, "top_p": top_p, "max_tokens": max_tokens, "seed": seed}
        self.execution = execution if execution is not None else Execution()
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
            # the keys run folders were saved with before `execution=`: a resume still matches
            "backend": self.execution.backend,
            "time_limit_s": self.execution.time_s,
            **({"checker": self.execution.checker} if self.execution.checker is not None else {}),
            **{k: v for k, v in self.params.items() if v is not None},
        }

    def plan(self, problem, k):
        if k is None:
            raise UserError("Say how many flow runs to make per problem (--k).")
        return [f"flow-{i:04d}" for i in range(k)]

    async def execute(self, program: Program, tests: Sequence[Test], limits: Limits,
                      checker: Checker | str = "tokens") -> list[ExecutionResult]:
        """Run a program on tests, judged by `checker`, one batch at a time (each batch uses every worker)."""
        job = Job(program=program, inputs=[t.input for t in tests], expected=[t.output for t in tests],
                  limits=limits, checker=checker)
        async with self._exec_lock:
            return (await asyncio.to_thread(self.execution.run_batch, [job], progress=False))[0]

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
        recorder = TraceRecorder(path)
        if path is None:
            self.traces[(problem["name"], candidate_id)] = recorder.events
        try:
            outcome = await FlowRun(self, problem, index, recorder).run()
        finally:
            recorder.close()
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
            "skipped_stages": outcome.skipped,
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
