"""Reference checks: each problem's own human solutions on its tests, AlphaCodium's cleaning made to need evidence.

`check_references` runs the correct and incorrect solutions a dataset stores
(`acodium.generate.reference_candidates`), categorises every test and problem by the rules of
`reference_categories`, and gives back the problems with `is_valid_test` per
test set, `is_valid_problem` and `reference_check` (the problem's category),
which later runs honour: an invalid test is skipped, `--valid_only` leaves an
invalid problem out.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Sequence

import pandas as pd

from ..data import TEST_KINDS, TEST_SETS, problem_rows
from ..execute import Execution
from ..execute.settings import execution_from
from ..generate.human import reference_candidates
from ..select import slow_only
from ..wording import plural
from .executions import run_executions
from .reference_categories import (INVALID, PROBLEM_CATEGORIES, TEST_CATEGORIES, UNCONFIRMED, judge_problems,
                                   judge_tests, possibly_multi_answer)
from .suite_strength import unconfirmed_mutated, without


# The problems table's test counts, by the name a reader sees.
_TEST_COLUMNS = {"valid": "tests_valid", "invalid": "tests_invalid", "unconfirmed": "tests_unconfirmed",
                 "several answers": "tests_several_answers", "reference too slow/broken": "tests_slow_or_broken",
                 "not checked": "tests_not_checked"}


@dataclass
class ReferenceReport:
    """What running the human solutions on their own tests says about the tests and problems."""

    dataset: Any  # datasets.Dataset: the problems with is_valid_test per test set and is_valid_problem
    tests: pd.DataFrame  # one row per test run: agreement of correct and incorrect solutions, category
    solutions: pd.DataFrame  # one row per solution: tests run, passed, verdicts
    executions: pd.DataFrame
    summary: dict[str, Any]
    problems: pd.DataFrame | None = None  # one row per problem: category, flags, is_valid_problem

    def problem_table(self) -> pd.DataFrame:
        """One readable row per problem: its category, whether it stays, how its own solutions did on
        its valid tests, and its tests by category (what `gencode eval references` prints)."""
        sol = self.solutions
        rows = []
        for p in (self.problems if self.problems is not None else pd.DataFrame(columns=["problem"])).itertuples():
            mine = sol[sol["problem"] == p.problem]
            correct, incorrect = mine[mine["kind"] == "correct"], mine[mine["kind"] == "incorrect"]
            tests = {name: int(getattr(p, column)) for name, column in _TEST_COLUMNS.items()}
            rows.append({
                "problem": p.problem, "category": p.category, "kept": "yes" if p.is_valid_problem else "no",
                "correct pass": f"{int(correct['passed_all_valid'].sum())}/{len(correct)}",
                "incorrect caught": f"{int((~incorrect['passed_all_valid'].astype(bool)).sum())}/{len(incorrect)}",
                "tests": ", ".join(f"{n} {name}" for name, n in tests.items() if n) or "none",
            })
        return pd.DataFrame(rows, columns=["problem", "category", "kept", "correct pass", "incorrect caught", "tests"])

    def report(self) -> str:
        """Problems and tests per category, as text (what `gencode eval references` prints)."""
        s = self.summary
        lines = [f"{plural(s['problems'], 'problem')}, {plural(s['tests_run'], 'test')} checked; "
                 f"{plural(s['invalid_problems'], 'problem')} and {plural(s['invalid_tests'], 'test')} marked invalid "
                 "(evidence only)"]
        lines.append("problems by category:")
        for category, n in s["problem_categories"].items():
            lines.append(f"  {category:<42} {n}")
        slow = s.get("correct_slow_positives")
        if slow is not None and s.get("slow_cap", 1) > 1:
            lines.append(f"{slow} of {plural(s['solutions_run']['correct'], 'correct solution')} are slow positives: right, "
                         f"but over the time limit on some test (within {s['slow_cap']:g}x it), and only that")
        lines.append("tests by category:")
        for category, n in s["test_categories"].items():
            lines.append(f"  {category:<42} {n}  (in {plural(s['test_category_problems'][category], 'problem')})")
        return "\n".join(lines)


def check_references(
    problems: Any,
    *,
    languages: Sequence[str] | None = None,
    test_sets: Sequence[str] = TEST_KINDS,
    max_tests: int | None = None,
    max_solutions: int | None = None,
    min_correct_share: float = 0.2,
    min_test_agreement: float = 0.5,
    max_invalid_test_share: float = 0.5,
    execution: Execution | None = None,
    run_dir: str | os.PathLike | None = None,
    progress: bool = True,
) -> ReferenceReport:
    """Run each problem's correct and incorrect solutions on its tests; mark bad tests and problems.

    AlphaCodium's cleaning, made to need evidence. Each test checked gets a
    category from the correct solutions (the references) that ran it:

    - "invalid" (`is_valid_test` False, the only category that removes a
      test): at least two references finished OK, agree with each other, and
      fewer than `min_test_agreement` of those that finished OK match the
      stored output; or the problem may accept several answers
      (`possibly_multi_answer`) and its only reference passes every other test;
    - "unconfirmed": a reference finished OK with another answer and nothing
      backs it (typically the single reference a CodeContests problem has): a
      question, not evidence. The test stays;
    - "several valid answers (needs a checker)": references that each pass
      some other test disagree with each other on this input (or with the
      stored output while another matches it). The test stays;
    - "reference too slow/broken": no reference finished it (timeout, crash):
      that says nothing about the test. The test stays;
    - "valid": every reference that finished it matches the stored output;
    - "not checked": only incorrect solutions ran it (no correct one in `languages`; default:
      every language `execution` runs on this machine, `Execution.runnable_languages`).

    A problem is invalid (`is_valid_problem` False) only on evidence: more
    than `max_invalid_test_share` of its judged tests invalid, or, among at
    least two references that finished every test, fewer than
    `min_correct_share` passing every test that is not invalid or
    unconfirmed (AlphaCodium: 20%). A slow or crashing reference never makes
    a problem invalid (`--valid_only` would otherwise drop hard problems).
    Each problem also gets one category (`problems` table, and
    `reference_check` in the dataset): the first of "no reference", "several
    valid answers (needs a checker)", "invalid", "unconfirmed", "reference
    too slow/broken" that applies, else "ok". Mutated inputs without a
    confirmed output (`unconfirmed_mutated`) are not tests and are left out.

    `execution` says where and how the solutions run (None: `Execution()`).
    With `run_dir`, executions are logged as they finish and a re-run resumes.
    """
    import datasets as hf  # the cleaned problems are a Dataset; loading the library costs a second

    started = time.monotonic()
    execution = execution_from(execution)
    if languages is None:
        languages = execution.runnable_languages()
    rows_by_name = problem_rows(problems)
    candidates = reference_candidates(rows_by_name.values(), languages, max_solutions)
    executions, stats = run_executions(
        rows_by_name.values(), candidates, test_sets=test_sets, run_dir=run_dir, execution=execution,
        max_tests=max_tests, progress=progress,
    )
    ex = without(executions, unconfirmed_mutated(rows_by_name.values())).copy()
    ex["kind"] = ex["candidate_id"].str.split("-").str[0]
    ex["ok"] = ex["status"] == "OK"
    multi = {name: possibly_multi_answer(row) for name, row in rows_by_name.items()}
    tests = judge_tests(ex, rows_by_name, candidates, multi, min_test_agreement, execution)
    invalid = {(r.problem, r.test_set, r.test_index) for r in tests.itertuples() if not r.is_valid_test}
    questioned = {(r.problem, r.test_set, r.test_index) for r in tests.itertuples()
                  if r.category in (INVALID, UNCONFIRMED)}
    sol = _solutions(ex, invalid, questioned)
    table = judge_problems(rows_by_name, tests, sol, multi, min_correct_share, max_invalid_test_share)
    dataset = hf.Dataset.from_list(_cleaned_rows(rows_by_name, invalid, table))

    sol["slow"] = slow_only(ex, test_sets).reindex(pd.MultiIndex.from_frame(sol[["problem", "candidate_id"]]),
                                                   fill_value=False).to_numpy()
    corr_sol = sol[sol["kind"] == "correct"]
    inc_sol = sol[sol["kind"] == "incorrect"]
    test_counts = Counter(tests["category"])
    summary = {
        "problems": len(rows_by_name),
        "problems_with_correct_solutions": int(corr_sol["problem"].nunique()),
        "solutions_run": {"correct": int(len(corr_sol)), "incorrect": int(len(inc_sol))},
        "tests_run": int(len(tests)),
        "executions": int(len(ex)),
        "correct_passing_all_tests_share": _share(corr_sol["passed_all"]),
        "correct_passing_all_valid_tests_share": _share(corr_sol["passed_all_valid"]),
        "incorrect_rejected_share": _share(~inc_sol["passed_all"].astype(bool)),
        "slow_cap": execution.slow_cap,
        "correct_slow_positives": int(corr_sol["slow"].sum()),  # failing only by SLOW runs
        "correct_slow_positive_share": _share(corr_sol["slow"]),
        "status_counts": {k: int(v) for k, v in Counter(ex["status"]).most_common()},
        "invalid_tests": int(len(invalid)),
        "invalid_problems": int(sum(not v for v in table["is_valid_problem"])),
        "problem_categories": {c: int((table["category"] == c).sum()) for c in PROBLEM_CATEGORIES},
        "problems_with_slow_or_broken_reference": int(table["reference_slow_or_broken"].sum()),
        "problems_possibly_multi_answer": int(table["possibly_multi_answer"].sum()),
        "test_categories": {c: int(test_counts[c]) for c in TEST_CATEGORIES},
        "test_category_problems": {c: int(tests[tests["category"] == c]["problem"].nunique())
                                   for c in TEST_CATEGORIES},
        "max_tests": max_tests,
        "time_limit_s": execution.time_s,
        "languages": list(languages),
        "backend": execution.backend,
        "executor": stats.executor,
        "jobs_run": stats.jobs_run,
        "jobs_resumed": stats.jobs_skipped,
        "notes": stats.notes(run_dir),
        "wall_s": round(time.monotonic() - started, 2),
    }
    return ReferenceReport(dataset, tests, sol, executions, summary, table)


def _solutions(ex: pd.DataFrame, invalid: set, questioned: set) -> pd.DataFrame:
    """One row per solution: passed everything run, everything valid, everything neither invalid nor unconfirmed."""
    ex = ex.copy()
    keys = list(zip(ex["problem"], ex["test_set"], ex["test_index"]))
    ex["valid_test"] = [k not in invalid for k in keys]
    ex["confirmed_test"] = [k not in questioned for k in keys]
    sol = ex.groupby(["problem", "candidate_id"]).agg(
        kind=("kind", "first"), tests_run=("passed", "size"), tests_passed=("passed", "sum"),
        passed_all=("passed", "all"), all_ok=("ok", "all"),
    )
    for column, mask in (("passed_all_valid", "valid_test"), ("passed_all_confirmed", "confirmed_test")):
        sol[column] = ex[ex[mask]].groupby(["problem", "candidate_id"])["passed"].all()
        sol[column] = sol[column].fillna(True).astype(bool)
    sol["statuses"] = ex.groupby(["problem", "candidate_id"])["status"].agg(
        lambda s: json.dumps(dict(Counter(s)), sort_keys=True))
    return sol.reset_index()


def _cleaned_rows(rows_by_name, invalid: set, problems: pd.DataFrame) -> list[dict]:
    """The problems' rows with is_valid_test per test set (earlier marks kept), is_valid_problem and
    reference_check."""
    problem_valid = dict(zip(problems["problem"], problems["is_valid_problem"]))
    problem_category = dict(zip(problems["problem"], problems["category"]))
    cleaned = []
    for name, row in rows_by_name.items():
        row = dict(row)
        for s in TEST_SETS:
            column = f"{s}_tests"
            if column not in row or row[column] is None:
                continue
            t = dict(row[column])
            before = t.get("is_valid_test")
            t["is_valid_test"] = [
                (before is None or i >= len(before) or before[i] is not False) and (name, s, i) not in invalid
                for i in range(len(t.get("input") or []))
            ]
            row[column] = t
        row["is_valid_problem"] = problem_valid[name]
        row["reference_check"] = problem_category[name]
        cleaned.append(row)
    return cleaned


def _share(values: pd.Series) -> float | None:
    return float(values.astype(bool).mean()) if len(values) else None
