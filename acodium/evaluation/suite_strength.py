"""How many wrong programs a test suite lets through, measured against a stronger suite.

A weak suite (the public tests, say) lets a wrong program through when it
passes the weak tests and a stronger suite rejects it. Mutated tests join the
strong suite only where two agreeing references confirmed their expected
output (`acodium.mutate.add_mutated_tests`): an output nobody checked would
"reject" correct programs, so such inputs are no tests (`unconfirmed_mutated`)
and every verdict leaves their runs out (`without`).
"""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from ..data import HIDDEN_TEST_SETS, problem_rows
from ..select import slow_only
from .executions import verdicts


def unconfirmed_mutated(problems: Any) -> set[tuple[str, str, int]]:
    """(problem, "mutated", index) of mutated inputs without a confirmed expected output.

    `acodium.mutate.add_mutated_tests` keeps every mutated input (clustering
    needs no output) and confirms an output only where two references agree
    (`output_confirmed`); the others are not tests and no verdict may use them.
    """
    out = set()
    for name, row in problem_rows(problems).items():
        tests = row.get("mutated_tests") or {}
        confirmed = tests.get("output_confirmed")
        if confirmed is None:
            continue  # written before confirmation existed, or by hand: taken as tests
        out.update((name, "mutated", i) for i, ok in enumerate(confirmed) if not ok)
    return out


def without(executions: pd.DataFrame, tests: set[tuple[str, str, int]]) -> pd.DataFrame:
    """The executions minus the runs of these (problem, test_set, test_index) tests."""
    if not tests or executions.empty:
        return executions
    keys = zip(executions["problem"], executions["test_set"], executions["test_index"].astype(int))
    return executions[[k not in tests for k in keys]]


def suite_false_positives(
    executions: pd.DataFrame,
    weak: Sequence[str],
    strong: Sequence[str],
) -> dict[str, Any]:
    """Among candidates that pass the weak suite, how many the strong suite rejects.

    The strong suite is the union of `strong` sets (it should include the
    weak one's hidden counterpart); a candidate passing `weak` is rejected
    when it fails any test of `strong`. Candidates with no test of the weak
    suite, or none of the strong one, are left out. Reported over candidates
    (micro) and as the mean over problems (macro), with the problems where
    the strong suite holds tests the weak one does not.

    Slow positives (AlphaCode's, beside its false positives): of the rejected,
    those the strong suite rejects only by SLOW runs, correct outputs over the
    time limit (`slow_only`): the weak suite let through a program that is
    right but too slow. They are counted in `rejected_by_strong` and
    `false_positive_share` too (a slow program is not correct), and alone in
    `slow_by_strong` and `slow_positive_share` (None where the executions
    carry no statuses).
    """
    weak_ok = verdicts(executions, weak)
    strong_ok = verdicts(executions, strong)
    both = pd.concat({"weak": weak_ok, "strong": strong_ok}, axis=1).dropna()
    passing = both[both["weak"].astype(bool)]
    rejected = ~passing["strong"].astype(bool)
    per_problem = rejected.groupby(level=0).mean() if len(passing) else pd.Series(dtype=float)
    slow = None
    if "status" in executions.columns and len(passing):
        slow = rejected & slow_only(executions, strong).reindex(passing.index, fill_value=False)
    slow_per_problem = slow.groupby(level=0).mean() if slow is not None else pd.Series(dtype=float)
    return {
        "weak": list(weak),
        "strong": list(strong),
        "candidates": int(len(both)),
        "problems": int(both.index.get_level_values(0).nunique()) if len(both) else 0,
        "passing_weak": int(len(passing)),
        "rejected_by_strong": int(rejected.sum()),
        "false_positive_share": float(rejected.mean()) if len(passing) else None,
        "false_positive_share_per_problem_mean": float(per_problem.mean()) if len(per_problem) else None,
        "slow_by_strong": int(slow.sum()) if slow is not None else 0,
        "slow_positive_share": float(slow.mean()) if slow is not None else None,
        "slow_positive_share_per_problem_mean": float(slow_per_problem.mean()) if len(slow_per_problem) else None,
        "problems_with_passing": int(len(per_problem)),
    }


def test_suite_strength(executions: pd.DataFrame, problems: Any = None) -> dict[str, dict[str, Any]]:
    """False positives of public tests against the hidden ones, and of private tests against all.

    - `public_vs_hidden`: among candidates passing the public tests, the share
      that the hidden tests (private + generated) reject (and, beside it, the
      share they reject only by SLOW runs: slow positives);
    - `private_vs_all_hidden`: among candidates passing the private tests, the
      share that private + generated + mutated reject.

    A mutated test counts only where its expected output was confirmed by two
    agreeing references (`acodium.mutate.add_mutated_tests`): an output nobody
    checked would "reject" correct programs. With `problems` (the rows that
    carry `mutated_tests`), the second figure leaves out the unconfirmed
    mutated runs and is computed only over problems with at least one
    confirmed mutated test run, and says how many problems it left out
    (`problems_left_out`) and why. Without `problems` nothing says
    which outputs were confirmed, and every mutated run is taken as a test.
    """
    extra = executions
    left_out: list[str] = []
    if problems is not None:
        extra = without(executions, unconfirmed_mutated(problems))
        confirmed = set(extra.loc[extra["test_set"] == "mutated", "problem"])
        left_out = sorted(set(executions["problem"]) - confirmed)
        extra = extra[extra["problem"].isin(confirmed)]
    strong = suite_false_positives(extra, ["private"], [*HIDDEN_TEST_SETS, "mutated"])
    if problems is not None:
        strong["problems_left_out"] = len(left_out)
        strong["left_out_because"] = "no mutated test whose output two agreeing references confirmed"
    return {
        "public_vs_hidden": suite_false_positives(executions, ["public"], list(HIDDEN_TEST_SETS)),
        "private_vs_all_hidden": strong,
    }


test_suite_strength.__test__ = False  # a library function, not a pytest test
