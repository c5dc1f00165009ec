"""Mutated inputs become tests only where the references agree: the mutated test suite of a problem.

A mutated input has no expected output. Clustering needs none, so every mutated
input is kept for it; a verdict needs one, and the only source is the problem's
correct solutions. One reference alone confirms nothing (its output on an input
nobody checked may be wrong, or the input may break the statement's
guarantees), so an output counts when at least two references run OK and agree
under the tester's output check.

Programs run through one `acodium.execute.Execution` (backend, cache, workers,
time limit override); the limits of each run are `execution.limits(problem,
language)`, the problem's own unless the execution overrides the time.
"""

from __future__ import annotations

import random
from typing import Any, Iterable, Sequence

from ..data import dataset_solutions, problem_tests
from ..execute import Execution, ExecutionResult, Job, Program, Status, check_output
from ..execute.settings import execution_from
from .inputs import mutate_inputs


def _agreed(inputs: Sequence[str], runs: Sequence[Sequence[ExecutionResult]],
            min_agreeing: int = 1) -> list[str | None]:
    """Per input, the output at least `min_agreeing` references agree on (every run OK), else None."""
    outputs: list[str | None] = []
    for i in range(len(inputs)):
        results = [r[i] for r in runs if len(r) > i]
        if len(results) < max(1, min_agreeing) or len(results) < len(runs) or any(
                r.status != Status.OK for r in results):
            outputs.append(None)
            continue
        first = results[0].stdout
        outputs.append(first if all(check_output(r.stdout, first) for r in results[1:]) else None)
    return outputs


def _reference_jobs(problem: Any, inputs: Sequence[str], references: Sequence[Program],
                    execution: Execution) -> list[Job]:
    """One job per reference on every input, under the problem's limits for its language."""
    return [Job(program=p, inputs=list(inputs), limits=execution.limits(problem, p.language))
            for p in references]


def _references(row: dict, languages: Sequence[str], max_references: int | None) -> list[Program]:
    """The problem's correct solutions in `languages`, the first `max_references` of them."""
    return [Program(language, code)
            for _, language, code in dataset_solutions(row, "solutions", languages)][:max_references]


def reference_tests(
    inputs: Sequence[str],
    references: Sequence[Program],
    *,
    problem: Any,
    min_agreeing: int = 2,
    execution: Execution | None = None,
    progress: bool = False,
) -> list[tuple[str, str]]:
    """The (input, output) pairs on which at least `min_agreeing` reference programs run OK and agree.

    `references` are `acodium.execute.Program`s believed correct (a problem's
    human solutions); every one must run OK and agree. `problem` (a row or a
    `Problem`) gives the limits, through `execution.limits`. Agreement uses the
    tester's output check, so outputs that differ only in whitespace or float
    noise agree. One reference alone confirms nothing, hence the default of two.
    """
    execution = execution_from(execution)
    if not inputs or not references:
        return []
    runs = execution.run_batch(_reference_jobs(problem, inputs, references, execution), progress=progress)
    return [(text, out) for text, out in zip(inputs, _agreed(inputs, runs, min_agreeing)) if out is not None]


def add_mutated_tests(
    problems: Iterable[dict],
    count: int,
    seed: int = 0,
    *,
    from_sets: Sequence[str] = ("public",),
    languages: Sequence[str] = ("python3",),
    max_references: int | None = 5,
    min_agreeing: int = 2,
    filter_with_references: bool = False,
    widen: bool = False,
    execution: Execution | None = None,
    progress: bool = True,
) -> list[dict]:
    """The problems with a `mutated_tests` field: up to `count` mutated inputs each.

    Inputs are mutated from the problem's valid `from_sets` tests (public by
    default: what a contestant sees; `widen` as in `mutate_input`). Every
    mutated input is kept, for clustering, which needs no expected output.
    An input becomes a test only where at least `min_agreeing` of the
    problem's correct solutions in `languages` (at most `max_references`)
    all run OK and agree: `output` holds their output and `output_confirmed`
    is True; elsewhere `output` is "" and `output_confirmed` False, and no
    verdict may use it (`acodium.evaluation.unconfirmed_mutated`).

    `filter_with_references` drops the inputs on which a reference fails or
    the references disagree (what this function did before issue 14). The
    references are the dataset's hidden knowledge, not what a contestant
    has, so it is off by default: n@k with clustering inputs filtered that way
    is not AlphaCode's n@k. All runs go to `execution` (default: local, no
    cache, each problem's own limits) as one batch.
    """
    execution = execution_from(execution)
    rows = [dict(p) for p in problems]
    plan = []  # per problem: (inputs, first job index, number of references)
    jobs: list[Job] = []
    for row in rows:
        inputs = [text for s in from_sets for _, text, _ in problem_tests(row, s)]
        sub_seed = random.Random(f"{seed}|{row['name']}").randrange(2**32)
        mutated = mutate_inputs(inputs, count, sub_seed, widen=widen)
        start = len(jobs)
        if mutated:
            jobs += _reference_jobs(row, mutated, _references(row, languages, max_references), execution)
        plan.append((mutated, start, len(jobs) - start))
    runs = execution.run_batch(jobs, progress=progress) if jobs else []
    for row, (mutated, start, n) in zip(rows, plan):
        mine = runs[start:start + n]
        confirmed = _agreed(mutated, mine, min_agreeing) if n else [None] * len(mutated)
        if filter_with_references:
            clean = _agreed(mutated, mine, 1) if n else [None] * len(mutated)
            keep = [i for i, out in enumerate(clean) if out is not None]
        else:
            keep = list(range(len(mutated)))
        row["mutated_tests"] = {
            "input": [mutated[i] for i in keep],
            "output": [confirmed[i] if confirmed[i] is not None else "" for i in keep],
            "output_confirmed": [confirmed[i] is not None for i in keep],
        }
    return rows
