"""What `gencode run` and `gencode gen solve_and_evaluate_set` share: candidates of a problem set into a run
folder, scored by the one driver (`acodium.evaluation.score_candidates`), the folder recording what it was run on.

The record (`problems.json`) is checked before any work (a folder of a run on
another dataset is refused) and written once the generation has begun, so a run
refused at its first call (a key, a server) leaves no folder behind, and an
interrupted one can still be scored: `gencode eval pass_at_k --dataset_name RUN`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import click

from ..errors import UserError
from ..tables import CANDIDATES_LOG
from ..wording import plural

if TYPE_CHECKING:  # types only: these cost their imports at start (see acodium.cli)
    from ..evaluation import Scores
    from ..execute import Execution
    from ..generate import CandidateSource
    from ..generate.loop import CandidatesFile


@dataclass
class SetRun:
    """A scored run: the candidates (their file in the run folder), the driver's result, and the summary
    written to summary.json."""

    candidates: CandidatesFile
    scores: Scores
    summary: dict[str, Any]


def generate_and_score(problems: Any, candidate_source: CandidateSource, *, dataset: str, split: str | None,
                       k: int, test_sets: Sequence[str], ks: Sequence[int] | None, n: int, max_tests: int | None,
                       full: bool, bootstrap: int, seed: int, execution: Execution, out: str | Path,
                       progress: bool, selection: Mapping[str, Any] | None = None, **about: Any) -> SetRun:
    """k candidates per problem from `candidate_source` into `out`, executed, judged and scored; `about` goes
    into summary.json beside the driver's summary (source, strategy, ...); `selection`: score_candidates'
    policies, clustering_sets and scorer (`common.selection_from_options`)."""
    from ..data import problem_rows
    from ..evaluation import problem_record, save_problem_record, score_candidates
    from ..evaluation.selection_data import check_model_tests
    from ..generate import generate_candidates

    # a policy without its data (codet without model tests) is refused before any sample is asked for
    check_model_tests((selection or {}).get("policies") or [], problem_rows(problems), test_sets, max_tests)

    out = Path(out)
    record = problem_record(out, problems, dataset=dataset, split=split)
    try:
        # Written to the run folder chunk by chunk and scored from it the same way: never a whole pool in memory.
        candidates = generate_candidates(problems, candidate_source, k, run_dir=out, progress=progress, table=False)
    finally:
        if (out / CANDIDATES_LOG).exists():  # the generation began: the folder can be scored from now on
            save_problem_record(out, record)
    failures = candidates.failures
    if not candidates.candidates:
        why = f" ({plural(len(failures), 'call')} failed: {failures[0]['error'].rstrip('.')})" if failures else ""
        raise UserError(f"The {candidate_source.name} source gave no candidate for any of the "
                        f"{plural(len(problems), 'problem')}{why}.")
    # Every problem is scored: one the source gave nothing for (or whose calls all failed) counts 0.
    scores = score_candidates(
        problems, candidates, test_sets=test_sets, ks=ks, n=n, failures=failures, samples_asked=k, run_dir=out,
        execution=execution, max_tests=max_tests, stop_on_first_failure=not full, bootstrap=bootstrap, seed=seed,
        progress=progress, **(selection or {}),
    )
    summary = dict(scores.summary, dataset_name=str(dataset), split=split, samples_per_problem=k,
                   failed_samples=len(failures), **about)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return SetRun(candidates, scores, summary)


def failed_samples_note(run: SetRun) -> None:
    """On stderr: samples that failed are not scored, and a re-run retries them."""
    failed = run.summary.get("failed_samples", 0)
    if failed:
        click.echo(f"{plural(failed, 'sample')} failed and {'is' if failed == 1 else 'are'} not scored; run the same "
                   "command again to retry them.", err=True)
