"""What a flow run may do: its stages, their call budgets, the ablations, the stage prompts.

Plain values, saved with a run's settings (`FlowOptions.as_dict`), so a run folder
says which variant of the flow made it; the prompts are bound to one target
language and hashed, so an edited prompt file is a different configuration.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

from ...errors import UserError
from ...prompting import LANGUAGES, ProblemPrompt, fill, load_prompt_file, prompt_path

THINKING_STAGES = ("reflect", "explain_tests", "possible_solutions", "choose_solution", "model_tests")
STAGES = THINKING_STAGES + ("initial_code", "fix_public", "fix_model")
# The prompt table each stage asks with (the two fixing stages share one).
STAGE_PROMPTS = {**{s: s for s in THINKING_STAGES}, "initial_code": "initial_code",
                 "fix_public": "fix", "fix_model": "fix"}
# Calls per stage, re-asks included: a thinking stage gets its answer and two re-asks;
# the run's `max_calls` (20) binds first when every stage uses its share.
DEFAULT_STAGE_CALLS = {"reflect": 3, "explain_tests": 3, "possible_solutions": 3, "choose_solution": 3,
                       "model_tests": 3, "initial_code": 5, "fix_public": 8, "fix_model": 8}


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
