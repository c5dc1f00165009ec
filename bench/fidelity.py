"""Fidelity: do the local and code_contests backends judge real solutions alike? And two judges?

Every human solution of the real train sample (one accepted Python 3 program per
problem) runs on its public and private tests under each backend, with the same
limits. The script reports how many solutions pass everything under each, and
classifies every test where the two disagree (status or verdict) by cause:
threads (the tester's seccomp policy rejects clone3), another forbidden system
call, time, memory, output that differs between runs (set order, randomness),
a lost side process. Solutions that fail under both are classified too
(wrong answer against the single expected output: several valid answers or
float formatting; time; crash).

Two judges: under code_contests the verdict comes from the tester's own compiled
`OutputsMatch` (`--judge tester`, the default), and every test that ran OK is
also judged by acodium's `check_output` on the same stdout, so the report counts
the tests where the two judges disagree and names, for each, the deliberate
difference of acodium.execute.check that explains it (or none: a bug in the port).

Results go to bench/results/ (git-ignored): fidelity_runs.jsonl, one row per
(backend, problem) written as each finishes, so an interrupted run resumes;
fidelity.json, the summary. Time limit: 10 s per test by default, the tester's
own (fixed) CPU limit and the default `limits_for_problem` gives the sample
(its time_limit is null); memory 256 MiB (the tester's own, fixed).

    .venv/bin/python bench/fidelity.py                      # everything (long)
    .venv/bin/python bench/fidelity.py --problems 20 --max_tests 5
    .venv/bin/python bench/fidelity.py --backends code_contests --judge acodium
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ACODIUM_SHARED_DATA", REPO.parent / "shared" / "data"))
RESULTS = REPO / "bench" / "results"
BACKENDS = ("local", "code_contests")


def run_tests(row: dict, max_tests: int | None) -> tuple[list[str], list[str], list[str]]:
    """(inputs, outputs, test ids) of the valid public then private tests, each set capped at max_tests."""
    from acodium.data import problem_tests

    tests = [(s, i, inp, out) for s in ("public", "private") for i, inp, out in problem_tests(row, s, max_tests)]
    return [t[2] for t in tests], [t[3] for t in tests], [f"{s}/{i}" for s, i, _, _ in tests]


def test_row(result, expected: str) -> dict:
    """One test's outcome; `passed_acodium` is check_output's verdict on the same stdout."""
    from acodium.execute import Status, check_output
    from acodium.execute.check import known_difference

    row = {"status": result.status.value, "passed": result.passed, "time_s": round(result.time_s, 4),
           "cpu_s": round(result.cpu_s, 4), "output_hash": result.output_hash[:16],
           "exit_code": result.exit_code, "signal": result.signal,
           "passed_acodium": result.status == Status.OK and check_output(result.stdout, expected)}
    if row["passed_acodium"] != result.passed and result.status == Status.OK:
        row["known_difference"] = known_difference(result.stdout, expected)
        row["expected"] = expected[:300]
    if not result.passed or row["passed_acodium"] != result.passed:
        row["stdout"] = result.stdout[:300]
        row["stderr"] = result.stderr[-400:]
    return row


def run_backend(name: str, rows: list[dict], args, log) -> None:
    from tqdm.auto import tqdm

    from acodium.execute import Job, Limits, Program, get_backend

    done = {key[1] for key in log.keys("backend", "problem") if key[0] == name}
    todo = [r for r in rows if r["name"] not in done]
    if not todo:
        return
    limits = Limits(time_s=args.time_limit)
    jobs, meta = [], []
    for row in todo:
        inputs, outputs, ids = run_tests(row, args.max_tests)
        code = row["solutions"]["solution"][0]
        jobs.append(Job(Program("python3", code), inputs, outputs, limits=limits))
        meta.append((row["name"], ids, outputs))
    options = {"workers": args.workers} if args.workers else {}
    if name == "code_contests":
        options["judge"] = args.judge
    backend = get_backend(name, **options)
    started = time.monotonic()
    with tqdm(total=sum(len(j.inputs) for j in jobs), unit="test", desc=name) as bar:
        for index, results in backend.run_many(jobs, workers=args.workers or os.cpu_count() or 1):
            problem, ids, outputs = meta[index]
            log.append([{
                "backend": name, "problem": problem, "time_limit": args.time_limit,
                "judge": options.get("judge", "acodium"),
                "tests": [dict(test_row(r, o), id=t) for t, r, o in zip(ids, results, outputs)],
            }])
            bar.update(len(results))
    print(f"{name}: {len(jobs)} problems in {time.monotonic() - started:.0f} s")


def failure_cause(t: dict) -> str:
    """Why one test did not pass, in a few words."""
    status = t["status"]
    err = t.get("stderr") or ""
    if status == "OK":
        return "wrong answer"
    if status == "RUNTIME_ERROR" and "SYSCALL VIOLATION" in err:
        syscall = err.split("Violating Syscall", 1)[1].split("]")[1].lstrip("[") if "Violating Syscall" in err else "?"
        return "threads (clone3 forbidden)" if syscall.startswith("435") else f"forbidden syscall {syscall}"
    if status == "RUNTIME_ERROR":
        last = err.strip().rsplit("\n", 1)[-1][:80] if err.strip() else f"exit {t.get('exit_code')} signal {t.get('signal')}"
        return f"runtime error: {last}"
    return status.lower()


def disagreement_cause(a: dict, b: dict) -> str:
    """Why local (a) and code_contests (b) disagree on one test."""
    if a["status"] == "OK" and b["status"] == "OK":
        if a["output_hash"] != b["output_hash"]:
            return "different output on the same input (nondeterministic program)"
        if b.get("passed_acodium") == a["passed"]:
            return "same output, the judges differ (see judges)"
        return "same output, different verdict (a bug)"
    statuses = {a["status"], b["status"]}
    if "TIMEOUT" in statuses:
        return "time"
    if "MEMORY_LIMIT" in statuses:
        return "memory"
    if "SANDBOX_ERROR" in statuses:
        return "sandbox error"
    for t in (a, b):
        cause = failure_cause(t)
        if cause.startswith(("threads", "forbidden")):
            return cause
    return f"{failure_cause(a)} vs {failure_cause(b)}"


def summarize(log_rows: list[dict], names: list[str], args) -> dict:
    runs = {(r["backend"], r["problem"]): r for r in log_rows if r.get("time_limit") == args.time_limit}
    per_backend = {}
    for backend in BACKENDS:
        rows = [runs[(backend, n)] for n in names if (backend, n) in runs]
        passing = [r for r in rows if r["tests"] and all(t["passed"] for t in r["tests"])]
        causes = collections.Counter()
        for r in rows:
            failed = [t for t in r["tests"] if not t["passed"]]
            if failed:
                causes[failure_cause(failed[0])] += 1
        per_backend[backend] = {
            "problems": len(rows), "solutions_passing_all_tests": len(passing),
            "tests": sum(len(r["tests"]) for r in rows),
            "tests_passed": sum(t["passed"] for r in rows for t in r["tests"]),
            "first_failure_causes": dict(causes.most_common()),
        }
    disagreements = []
    both = [n for n in names if all((b, n) in runs for b in BACKENDS)]
    for name in both:
        local, cc = runs[("local", name)], runs[("code_contests", name)]
        by_id = {t["id"]: t for t in cc["tests"]}
        for a in local["tests"]:
            b = by_id.get(a["id"])
            if b is None:
                continue
            if (a["status"], a["passed"]) != (b["status"], b["passed"]):
                disagreements.append({
                    "problem": name, "test": a["id"], "cause": disagreement_cause(a, b),
                    "local": {k: a.get(k) for k in ("status", "passed", "time_s", "cpu_s", "stderr")},
                    "code_contests": {k: b.get(k) for k in ("status", "passed", "time_s", "stderr")},
                })
    solution_verdicts = collections.Counter()
    for name in both:
        verdict = tuple(all(t["passed"] for t in runs[(b, name)]["tests"]) for b in BACKENDS)
        solution_verdicts[{(True, True): "both pass", (False, False): "both fail",
                           (True, False): "only local passes",
                           (False, True): "only code_contests passes"}[verdict]] += 1
    judged = [(name, t) for name in names if ("code_contests", name) in runs
              for t in runs[("code_contests", name)]["tests"] if t["status"] == "OK"]
    judge_disagreements = [
        {"problem": name, "test": t["id"], "tester": t["passed"], "acodium": t["passed_acodium"],
         "known_difference": t.get("known_difference"), "stdout": t.get("stdout"), "expected": t.get("expected")}
        for name, t in judged if t["passed"] != t["passed_acodium"]]
    judges = {
        "judge": next((runs[("code_contests", n)].get("judge", "acodium") for n in names
                       if ("code_contests", n) in runs), None),
        "tests_judged": len(judged),
        "both_pass": sum(t["passed"] and t["passed_acodium"] for _, t in judged),
        "both_fail": sum(not t["passed"] and not t["passed_acodium"] for _, t in judged),
        "disagree": len(judge_disagreements),
        "unexplained": sum(d["known_difference"] is None for d in judge_disagreements),
        "disagreements": judge_disagreements,
    }
    return {
        "time_limit_s": args.time_limit, "max_tests": args.max_tests, "problems": len(names),
        "judges": judges,
        "backends": per_backend, "solutions": dict(solution_verdicts),
        "only_code_contests_passes": sorted(
            n for n in both if all(t["passed"] for t in runs[("code_contests", n)]["tests"])
            and not all(t["passed"] for t in runs[("local", n)]["tests"])),
        "disagreement_causes": dict(collections.Counter(d["cause"] for d in disagreements).most_common()),
        "disagreements": disagreements,
    }


def print_table(summary: dict) -> None:
    print(f"\nFidelity on {summary['problems']} problems (time limit {summary['time_limit_s']:g} s, "
          f"max_tests {summary['max_tests'] or 'all'} per test set)")
    print(f"{'backend':<15}{'problems':>9}{'pass all':>10}{'tests':>8}{'passed':>8}")
    ran = {name: b for name, b in summary["backends"].items() if b["problems"]}
    for name, b in ran.items():
        print(f"{name:<15}{b['problems']:>9}{b['solutions_passing_all_tests']:>10}{b['tests']:>8}{b['tests_passed']:>8}")
    for name, b in ran.items():
        print(f"  {name} first failures: {b['first_failure_causes']}")
    print(f"solutions: {summary['solutions']}")
    print(f"tests where the backends disagree: {len(summary['disagreements'])}  by cause: {summary['disagreement_causes']}")
    for d in summary["disagreements"][:40]:
        print(f"  {d['problem'][:40]:<40} {d['test']:<11} local {d['local']['status']}/{d['local']['passed']}"
              f"  cc {d['code_contests']['status']}/{d['code_contests']['passed']}  {d['cause']}")
    j = summary["judges"]
    print(f"judges on code_contests' OK runs (verdict: {j['judge']}; beside it acodium's check_output on the same stdout): "
          f"{j['tests_judged']} tests, both pass {j['both_pass']}, both fail {j['both_fail']}, "
          f"disagree {j['disagree']} (explained by no deliberate difference: {j['unexplained']})")
    for d in j["disagreements"][:40]:
        print(f"  {d['problem'][:40]:<40} {d['test']:<11} tester {d['tester']} acodium {d['acodium']}"
              f"  {d['known_difference'] or 'UNEXPLAINED'}  out {d['stdout']!r:.60} exp {d['expected']!r:.60}")
    if summary["only_code_contests_passes"]:
        print(f"BUG: correct under code_contests but not under local: {summary['only_code_contests_passes']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default=str(SHARED / "code_contests_train_sample.jsonl"))
    parser.add_argument("--problems", type=int, default=None, help="first N problems (default all)")
    parser.add_argument("--max_tests", type=int, default=None, help="cap on tests per test set and problem")
    parser.add_argument("--time_limit", type=float, default=10.0, help="seconds per test (default: the tester's 10)")
    parser.add_argument("--workers", type=int, default=None, help="processes per backend (default: cores)")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--judge", default="tester", choices=("tester", "acodium"),
                        help="who decides code_contests' verdicts (default: the tester's compiled OutputsMatch)")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()

    from acodium.tables import AppendLog

    rows = [json.loads(line) for line in open(args.dataset)][: args.problems]
    out = Path(args.out)
    suffix = f"t{args.time_limit:g}_m{args.max_tests or 'all'}_j{args.judge}"
    with AppendLog(out / f"fidelity_runs_{suffix}.jsonl") as log:
        for name in args.backends.split(","):
            run_backend(name, rows, args, log)
        summary = summarize(list(log.rows()), [r["name"] for r in rows], args)
    (out / f"fidelity_{suffix}.json").write_text(json.dumps(summary, indent=1))
    print_table(summary)
    print(f"\nwritten: {out / f'fidelity_{suffix}.json'}")


if __name__ == "__main__":
    main()
