"""How strong are CodeContests' test suites? False positives, measured with program mutants.

Candidates are single-edit mutants of each problem's human solution
(`acodium.mutate.program_mutants`): plausible wrong programs. The script
reports, among mutants that pass the public tests, the share the hidden tests
(private + generated) reject, and among mutants that pass the private tests,
the share that private + generated + mutated tests reject (mutated tests:
inputs mutated from the public ones, with outputs only where two human
solutions agree; the shared sample has one per problem, so there the second
figure covers no problem and says so).

Only tests the human solution passes within the time limit are used (it is
run first, `check_references`), so a mutant is never "rejected" by a test
that a correct program fails too; problems whose solution fails a public
test are left out. A mutant that is semantically equal to its original
passes everything and so counts as a public-test pass that is not rejected:
the shares are lower bounds on the share of wrong programs let through.

    .venv/bin/python bench/suite_strength.py --problems 60 --mutants 10 --max_tests 10
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ACODIUM_SHARED_DATA", REPO.parent / "shared" / "data"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default=str(SHARED / "code_contests_train_sample.jsonl"))
    parser.add_argument("--problems", type=int, default=None, help="first N problems (default all)")
    parser.add_argument("--mutants", type=int, default=10, help="program mutants per solution")
    parser.add_argument("--mutated_inputs", type=int, default=10, help="mutated test inputs per problem")
    parser.add_argument("--max_tests", type=int, default=10, help="tests per test set and problem")
    parser.add_argument("--time_limit", type=float, default=3.0, help="seconds per test")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(REPO / "outputs" / "suite_strength"))
    args = parser.parse_args()

    from acodium.evaluation import check_references, run_executions, test_suite_strength
    from acodium.execute import Execution
    from acodium.generate import mutant_candidates
    from acodium.mutate import add_mutated_tests

    started = time.monotonic()
    out = Path(args.out)
    rows = [json.loads(line) for line in open(args.dataset)][: args.problems]
    execution = Execution(time_s=args.time_limit, workers=args.workers, cache_dir=out / "cache")

    # 1. tests the human solution passes within the limit (the first max_tests of each set)
    rows = add_mutated_tests(rows, args.mutated_inputs, args.seed, execution=execution)
    report = check_references(rows, test_sets=("public", "private", "generated", "mutated"),
                              max_tests=args.max_tests, run_dir=out / "references", execution=execution)
    passed = {
        (r.problem, r.test_set, r.test_index)
        for r in report.executions.itertuples() if r.passed
    }
    usable = []
    for row in rows:
        for s in ("public", "private", "generated", "mutated"):
            tests = row.get(f"{s}_tests") or {"input": [], "output": []}
            valid = [(row["name"], s, i) in passed for i in range(len(tests["input"]))]
            row[f"{s}_tests"] = dict(tests, is_valid_test=valid)
        public = row["public_tests"]["is_valid_test"]
        if public and all(public):
            usable.append(row)

    # 2. mutants of the human solutions, on those tests, stopping at the first failing hidden test
    candidates = mutant_candidates(usable, per_solution=args.mutants, seed=args.seed)
    executions, stats = run_executions(
        usable, candidates, test_sets=("public", "private", "generated", "mutated"),
        stop_on_first_failure=True, max_tests=args.max_tests, run_dir=out / "mutants", execution=execution,
    )
    strength = test_suite_strength(executions, usable)
    public_ok = executions[executions.test_set == "public"].groupby(["problem", "candidate_id"])["passed"].all()
    summary = {
        "problems": len(rows),
        "problems_used": len(usable),
        "mutants": len(candidates),
        "mutants_passing_public": int(public_ok.sum()),
        "mutated_inputs": sum(len(r["mutated_tests"]["input"]) for r in usable),
        "mutated_tests": sum(sum(r["mutated_tests"].get("output_confirmed", [])) for r in usable),
        "reference_summary": {k: report.summary[k] for k in ("correct_passing_all_tests_share", "status_counts")},
        "strength": strength,
        "settings": vars(args),
        "executions": len(executions),
        "jobs_run": stats.jobs_run,
        "wall_s": round(time.monotonic() - started, 1),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    pv, av = strength["public_vs_hidden"], strength["private_vs_all_hidden"]
    print(f"{len(usable)} problems, {len(candidates)} mutants, {summary['mutated_inputs']} mutated inputs, "
          f"{summary['mutated_tests']} of them tests (output confirmed by two agreeing references)")
    print(f"public tests let through {pv['passing_weak']} mutants; hidden tests reject "
          f"{pv['rejected_by_strong']} of them: false-positive share {_pct(pv['false_positive_share'])} "
          f"(mean over problems {_pct(pv['false_positive_share_per_problem_mean'])})")
    print(f"private tests let through {av['passing_weak']} mutants; private+generated+mutated reject "
          f"{av['rejected_by_strong']}: false-positive share {_pct(av['false_positive_share'])} "
          f"(mean over problems {_pct(av['false_positive_share_per_problem_mean'])}); "
          f"{av['problems_left_out']} problems left out: {av['left_out_because']}")
    print(f"wall {summary['wall_s']} s; summary in {out / 'summary.json'}")


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


if __name__ == "__main__":
    main()
