"""`acodium.evaluate(candidates, tests, k=...)`: pass@k of programs on given tests, for notebooks.

In the spirit of alphaCodium's metric object: no dataset rows, no run
folder, only {problem: [code, ...]} and {problem: tests} (or alphaCodium's
predictions and references), run in one batch and scored by the unbiased
pass@k estimator. Problems without candidates count 0 at every k; a k larger
than a pool is left out, never extrapolated. For a dataset's problems with
hidden tests, n@k and intervals, use `score_candidates`.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from ..errors import UserError
from ..execute import Execution
from ..execute.cache import MACHINE_FAILURES
from ..execute.settings import execution_from
from ..execute.types import Job, Program
from ..metrics import pass_at_k, reported_ks
from ..tables import EXECUTIONS
from ..wording import plural
from .candidates import has_code
from .executions import MACHINE_RETRIES


@dataclass
class EvaluationResult:
    """What `acodium.evaluate(...)` gives back (alphaCodium's metric object, as a value).

    pass_at_k: {"pass@k": mean over problems, those without candidates as 0}, for each k
      every non-empty pool has samples for;
    per_problem: one row per problem (n samples, c correct, pass@k columns);
    tests: the number of tests per problem;
    results: per problem, (candidate index, [ExecutionResult per test]) for every candidate
      (an empty list for a candidate without code: it is not run);
    executions: the same runs as an EXECUTIONS table;
    notes: what a reader of the numbers should know (k left out, empty pools, candidates without code).
    """

    pass_at_k: dict[str, float]
    per_problem: pd.DataFrame
    tests: dict[str, int]
    results: dict[str, list[tuple[int, list[Any]]]]
    executions: pd.DataFrame
    notes: list[str] = dataclasses.field(default_factory=list)

    def __repr__(self) -> str:
        scores = ", ".join(f"{k}={v:.4f}" for k, v in self.pass_at_k.items())
        return f"EvaluationResult({plural(len(self.tests), 'problem')}: {scores})"


def _as_named(value: Any, what: str, key: str) -> dict[str, Any]:
    """A mapping problem -> item, from a mapping or alphaCodium's list of dicts with `task_name`."""
    wrong = f"{what} must map problem names to {key}, or be alphaCodium's list of dicts with task_name."
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise UserError(wrong)
    out = {}
    for item in value:
        if isinstance(item, Mapping) and "task_name" in item:
            out[item["task_name"]] = item[key]
        else:
            raise UserError(wrong)
    return out


def _as_tests(value: Any, name: str) -> tuple[list[str], list[str]]:
    if isinstance(value, Mapping):
        inputs = value.get("input", value.get("tests_inputs"))
        outputs = value.get("output", value.get("tests_outputs"))
    elif isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        pairs = list(value)
        if not all(isinstance(p, Sequence) and not isinstance(p, str) and len(p) == 2 for p in pairs):
            raise UserError(f"The tests of {name!r} must be (input, output) pairs or a dict of input and output.")
        inputs, outputs = [p[0] for p in pairs], [p[1] for p in pairs]
    else:
        raise UserError(f"The tests of {name!r} must be (input, output) pairs or a dict of input and output.")
    if inputs is None or outputs is None or len(inputs) != len(outputs):
        raise UserError(f"The tests of {name!r} need as many inputs as outputs.")
    return list(inputs), list(outputs)


def evaluate(
    candidates: Mapping[str, Sequence[str]] | Sequence[Mapping[str, Any]],
    tests: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    k: Sequence[int] | int | None = (1, 10, 100),
    *,
    language: str = "python3",
    execution: Execution | None = None,
    stop_on_first_failure: bool = False,
    progress: bool = True,
    time_limit_s: float | None = None,
    backend: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    workers: int | None = None,
) -> EvaluationResult:
    """pass@k of candidate programs on given tests: the notebook entry point (`acodium.evaluate`).

    candidates: {problem: [code, ...]} (or alphaCodium's predictions, dicts
      with task_name and solution_candidates); every program is in `language`.
    tests: {problem: {"input": [...], "output": [...]}} or {problem: [(input, output), ...]}
      (or alphaCodium's references, with tests_inputs and tests_outputs, in
      the order of the predictions).
    k: pass@k is reported for the k that every problem with candidates has at
      least k samples for (as the original metric); larger k are left out,
      never extrapolated, and `notes` says so (`acodium.metrics.reported_ks`,
      the rule of the CLI and the sweeps too; None: 1, 2, 5, ... up to the
      smallest pool).

    A problem with no candidates (an empty list) is an unsolved problem: 0 at
    every k, kept in the mean, and it needs no tests. A candidate without
    code (empty text) is not run: it is incorrect.

    time_limit_s, backend, cache_dir, workers: the keywords of earlier
    versions, still accepted here (deprecated: give execution=Execution(...));
    giving them with `execution` is refused.
    """
    legacy = {"time_limit_s": time_limit_s, "backend": backend, "cache_dir": cache_dir, "workers": workers}
    execution = execution_from(execution, **legacy)
    given = [name for name, value in legacy.items() if value is not None]
    if given:
        warnings.warn(f"acodium.evaluate's {', '.join(given)} keyword(s) are deprecated: pass "
                      "execution=acodium.execute.Execution(...) instead (time_limit_s is its time_s).",
                      DeprecationWarning, stacklevel=2)
    cands = _as_named(candidates, "candidates", "solution_candidates")
    for name, codes in cands.items():
        if isinstance(codes, (str, bytes)) or not isinstance(codes, Iterable):
            raise UserError(f"The candidates of {name!r} must be a list of programs, not a {type(codes).__name__}.")
        cands[name] = list(codes)
    if isinstance(tests, Mapping):
        named_tests = dict(tests)
    else:  # alphaCodium's references: aligned with the predictions
        tests = list(tests)
        if len(tests) != len(cands):
            raise UserError(f"There are candidates for {plural(len(cands), 'problem')} but tests for {len(tests)}.")
        named_tests = dict(zip(cands, tests))
    if not cands:
        raise UserError("There are no problems to evaluate.")
    missing = [name for name in cands if name not in named_tests and len(cands[name])]
    if missing:
        raise UserError(f"There are no tests for the problem {missing[0]!r}.")
    limits = execution.limits({}, language)  # given tests carry no limits: the defaults, or execution.time_s
    checker = execution.checker_for({})  # nor a checker: tokens, or execution.checker
    jobs, where = [], []
    n_tests = {}
    no_code: list[tuple[str, int]] = []
    for name, codes in cands.items():
        inputs, outputs = _as_tests(named_tests[name], name) if name in named_tests else ([], [])
        if not inputs and len(codes):
            raise UserError(f"The problem {name!r} has no tests.")
        n_tests[name] = len(inputs)
        for i, code in enumerate(codes):
            if not has_code(code):
                no_code.append((name, i))
                continue
            jobs.append(Job(Program(language, code), inputs, outputs, limits, stop_on_first_failure, checker))
            where.append((name, i))
    why = execution.missing_runtime(language) if jobs else None
    if why is not None:  # no runtime here for the candidates' language: nothing would run
        raise UserError(why)
    runs = execution.run_batch(jobs, progress=progress) if jobs else []
    for _ in range(MACHINE_RETRIES):  # a machine failure is no verdict: run those jobs again
        again = [i for i, res in enumerate(runs) if any(r.status in MACHINE_FAILURES for r in res)]
        if not again:
            break
        for i, res in zip(again, execution.run_batch([jobs[i] for i in again], progress=False)):
            runs[i] = res
    failed = [(where[i], r) for i, res in enumerate(runs) for r in res if r.status in MACHINE_FAILURES]
    if failed:
        (name, i), r = failed[0]
        raise UserError(f"{len(failed)} test run(s) ended in {r.status.value} (the machine failed, not the program) "
                        f"{1 + MACHINE_RETRIES} times, for instance candidate {i} of {name!r}: "
                        "no pass@k is made without them; run again.")
    results: dict[str, list[tuple[int, list[Any]]]] = {name: [] for name in cands}
    rows = []
    for name, i in no_code:
        results[name].append((i, []))
    for (name, i), job, res in zip(where, jobs, runs):
        results[name].append((i, res))
        for t, r in enumerate(res):
            rows.append({"problem": name, "candidate_id": str(i), "program_hash": job.program.hash,
                         "test_set": "given", "test_index": t, "status": r.status.value,
                         "passed": bool(r.passed), "output_hash": r.output_hash, "time_s": float(r.time_s),
                         "checker": checker.spec, "checker_message": r.checker_message})
    for name in results:
        results[name].sort(key=lambda item: item[0])
    names = list(cands)
    n = [len(cands[name]) for name in names]
    c = [sum(len(res) == n_tests[name] and all(r.passed for r in res) for _, res in results[name])
         for name in names]
    per_problem = pd.DataFrame({"problem": names, "n": n, "correct": c})
    ks, note = reported_ks(n, k, problems=names)
    notes = [note] if note else []
    empty = [name for name, size in zip(names, n) if size == 0]
    if empty:
        notes.append(f"{len(empty)} of {plural(len(names), 'problem')} have no candidates (e.g. {empty[0]!r}): "
                     "they count as unsolved at every k.")
    if no_code:
        notes.append(f"{plural(len(no_code), 'candidate')} {'has' if len(no_code) == 1 else 'have'} no code (e.g. candidate {no_code[0][1]} of {no_code[0][0]!r}): "
                     "judged incorrect without running.")
    scores = {}
    values = pass_at_k(per_problem["n"].to_numpy(), per_problem["correct"].to_numpy(), ks, names)
    for j, kk in enumerate(ks):
        per_problem[f"pass@{kk}"] = values[:, j]
        scores[f"pass@{kk}"] = float(values[:, j].mean())
    return EvaluationResult(scores, per_problem, n_tests, results, pd.DataFrame(rows, columns=EXECUTIONS), notes)
