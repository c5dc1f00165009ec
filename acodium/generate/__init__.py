"""Candidate programs for a problem set, from one of six sources, into the CANDIDATES table.

Sources share one interface (`base.CandidateSource`): `plan` names the candidates a
source would make for a problem (stable ids, so a resumed run knows what is
done), `make` makes one. One module per source:

- `llm` (`direct.py`): samples from an OpenAI-compatible server (`acodium.llm`),
  prompts from TOML (`acodium.prompting`), code pulled out of replies (`acodium.extract`);
- `flow` (`flow/`): AlphaCodium's multi-stage flow over the same server: one
  candidate per flow run;
- `human` (`human.py`): the dataset's own correct and incorrect solutions, sampled
  with a seed in a chosen mix;
- `mutants` (`mutants.py`): program mutants of the reference solutions (`acodium.mutate`);
- `synthetic` (`synthetic.py`): AlphaCode-shaped pools of the dataset's programs and their mutants,
  chosen by their verdicts so that most fail the public tests and many that pass them are wrong;
- `file` (`file.py`): a JSONL or parquet of candidates the user brings.

`generate_candidates` (`loop.py`) runs a source over problems, k per problem, writing
each candidate to `run_dir/candidates.jsonl` as it arrives; a re-run skips what is
there. `spend.py` reads back what candidates cost (calls, tokens, cost per sample).

`make_source` below is the one place that knows every source; nothing in this
package imports it back.
"""

from __future__ import annotations

from typing import Any

from ..data import dataset_solutions  # noqa: F401  (re-exported: generate.human held it before)
from ..errors import UserError
from .base import Candidate, CandidateSource, ChatModelSource
from .direct import LLMSource
from .file import FileSource
from .flow import (ABLATIONS, DEFAULT_STAGE_CALLS, REASK, STAGE_PROMPTS, STAGES, THINKING_STAGES, TRACES_DIR,
                   FlowOptions, FlowOutcome, FlowPrompts, FlowRun, FlowSource, StageSpend, Test, TraceRecorder,
                   Version, code_parser, describe_failure, flow_options, load_trace, parse_choice, parse_reflection,
                   parse_solutions, parse_test_explanations, parse_tests, trace_path, trace_table)
from .human import HumanSource, human_candidate, human_ids, reference_candidates
from .loop import agenerate_candidates, generate_candidates
from .mutants import MutantSource, mutant_candidates, problem_mutants, solution_mutants
from .spend import spend_per_sample, stage_spend, with_budget
from .synthetic import SyntheticSource, pool_counts, roles_in_clusters

SOURCES = ("llm", "flow", "human", "mutants", "synthetic", "file")


def make_source(name: str, **options: Any) -> CandidateSource:
    """A source by name (`llm`, `flow`, `human`, `mutants`, `synthetic`, `file`) with its options."""
    if name == "llm":
        return LLMSource(**options)
    if name == "flow":
        return FlowSource(**options)
    if name == "human":
        return HumanSource(**options)
    if name == "mutants":
        return MutantSource(**options)
    if name == "synthetic":
        return SyntheticSource(**options)
    if name == "file":
        if not options.get("path"):
            raise UserError("The file source needs the path of a JSONL or parquet of candidates (--candidates_file).")
        return FileSource(**options)
    raise UserError(f"Unknown candidate source {name!r}: use one of {', '.join(SOURCES)}.")


__all__ = [
    # the sources and the loop (the old acodium.generate)
    "SOURCES", "Candidate", "CandidateSource", "ChatModelSource", "LLMSource", "FlowSource", "HumanSource",
    "MutantSource", "SyntheticSource", "FileSource", "make_source", "agenerate_candidates", "generate_candidates",
    "dataset_solutions", "human_ids", "human_candidate", "problem_mutants", "reference_candidates",
    "mutant_candidates", "solution_mutants", "pool_counts", "roles_in_clusters",
    # the AlphaCodium flow (the old acodium.flow)
    "ABLATIONS", "DEFAULT_STAGE_CALLS", "REASK", "STAGE_PROMPTS", "STAGES", "THINKING_STAGES", "TRACES_DIR",
    "FlowOptions", "FlowOutcome", "FlowPrompts", "FlowRun", "StageSpend", "Test", "TraceRecorder", "Version",
    "code_parser", "describe_failure", "flow_options", "load_trace", "parse_choice", "parse_reflection",
    "parse_solutions", "parse_test_explanations", "parse_tests", "trace_path", "trace_table",
    # what candidates cost
    "spend_per_sample", "stage_spend", "with_budget",
]
