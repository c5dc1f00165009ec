"""Fidelity: do the backends and the checkers judge real accepted solutions as Codeforces did?

Every problem of the real train sample has one human Python 3 solution accepted on
Codeforces, so each should pass every test. Each runs on its public and private
tests under each backend and each checker setting, with the same limits, and the
report gives, per (backend, checker setting), the solutions passing every test and
the failing ones classified by their first failing test:

  several answers  a wrong answer on a problem whose statement allows several
                   (`reference_categories.possibly_multi_answer`, the reference
                   check's rule): it needs a checker
  float            a wrong answer that float_rel:1e-6 (Codeforces' usual float rule) accepts
  interactive      a wrong answer on an interactive problem stored as plain tests
  slow             TIMEOUT (or SLOW: over the limit, correct within the cap)
  runtime          a crash, a memory or output limit (`causes` says which: threads...)
  judge error      the checker program failed (never the solution's fault)
  other            a wrong answer none of the above explains (a dataset error)

Checker settings (--checkers, comma-separated; default tokens,problem):

  tokens      every problem by the token compare (`--checker tokens`: today's numbers)
  problem     each problem's own checker: its row's `checker` column, else the one
              --problem_checkers attaches (default tests/checkers/checkers.json: checker
              programs written for a handful of the sample's multi-answer and float
              problems, test fixtures; no data of the sample is in them), else tokens
  NAME, FILE  a built-in ("float_rel:1e-6") or a checker program for every problem

A problem runs once per backend for all its built-in judges (they judge the stdout on
the host, as run_batch does), and once more per checker program (local only: the
code_contests backend runs none, so there such problems are counted as unjudged).

Backends: local and code_contests. Under code_contests the token compare's verdict
comes from the tester's own compiled `OutputsMatch` (`--judge tester`, the default),
and every test that ran OK is also judged by acodium's `check_output` on the same
stdout, so the report counts the tests where the two disagree and names, for each,
the deliberate difference of acodium.execute.check that explains it (or none: a bug
in the port). Tests where the two backends disagree (status or verdict, under
tokens) are classified by cause: threads (the tester's seccomp policy rejects
clone3), another forbidden system call, time, memory, output that differs between
runs (set order, randomness).

Results go to bench/results/ (git-ignored): fidelity_runs_*.jsonl, one row per
(backend, problem, checker) written as each finishes, so an interrupted run resumes
and a new checker setting runs only what it judges differently; fidelity_*.json, the
summary. Time limit: 10 s per test by default, the tester's own (fixed) CPU limit and
what `limits_for_problem` gives the sample (its time_limit is null); memory 256 MiB.

    .venv/bin/python bench/fidelity.py                      # everything (long)
    .venv/bin/python bench/fidelity.py --problems 20 --max_tests 5
    .venv/bin/python bench/fidelity.py --backends local --checkers tokens,problem,float_rel:1e-6
    .venv/bin/python bench/fidelity.py --names 598_F,618_C --backends local
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ACODIUM_SHARED_DATA", REPO.parent / "shared" / "data"))
RESULTS = REPO / "bench" / "results"
FIXTURE_CHECKERS = REPO / "tests" / "checkers" / "checkers.json"
BACKENDS = ("local", "code_contests")
PROBLEM = "problem"  # the checker setting "each problem's own checker"
FLOAT_RULE = "float_rel:1e-6"
CLASSES = ("several answers", "float", "interactive", "slow", "runtime", "judge error", "other")
_INTERACTIVE = re.compile(r"\binteractive problem\b", re.IGNORECASE)


def run_tests(row: dict, max_tests: int | None) -> tuple[list[str], list[str], list[str]]:
    """(inputs, outputs, test ids) of the valid public then private tests, each set capped at max_tests."""
    from acodium.data import problem_tests

    tests = [(s, i, inp, out) for s in ("public", "private") for i, inp, out in problem_tests(row, s, max_tests)]
    return [t[2] for t in tests], [t[3] for t in tests], [f"{s}/{i}" for s, i, _, _ in tests]


def attached_checkers(path: str | None) -> dict[str, object]:
    """problem name -> checker value (a built-in's name, or a program {language, code} read from the
    file the manifest names, relative to it). None or "": nothing attached."""
    if not path:
        return {}
    from acodium.execute.judges import SUFFIX_LANGUAGES

    manifest = Path(path)
    out = {}
    for name, value in json.loads(manifest.read_text()).items():
        suffix = Path(value).suffix.lower()
        if suffix in SUFFIX_LANGUAGES:
            value = {"language": SUFFIX_LANGUAGES[suffix], "code": (manifest.parent / value).read_text()}
        out[name] = value
    return out


def judges_for(rows: list[dict], setting: str, attached: dict) -> dict:
    """problem name -> the checker that judges it under one checker setting."""
    from acodium.data.problem import checker_column
    from acodium.execute import checker_for_problem

    out = {}
    for row in rows:
        if setting == PROBLEM:
            own = checker_column(row) is not None or row["name"] not in attached
            out[row["name"]] = checker_for_problem(row if own else {**row, "checker": attached[row["name"]]})
        else:
            out[row["name"]] = checker_for_problem(row, setting)
    return out


def test_row(result, expected: str, checker, tester: bool) -> dict:
    """One test's outcome under `checker`. `tester`: the backend's own verdict is the tester's (the
    token compare under code_contests); `passed_acodium` is check_output's verdict on the same stdout."""
    from acodium.execute import Status, check_output, parse_checker
    from acodium.execute.check import known_difference
    from acodium.execute.judges import ProgramChecker

    ok = result.status == Status.OK
    if isinstance(checker, ProgramChecker) or (checker.spec == "tokens" and tester):
        passed, message = bool(result.passed), result.checker_message
    else:
        passed, message = checker.judge(result.stdout, expected) if ok else (False, "")
    row = {"status": result.status.value, "passed": passed, "time_s": round(result.time_s, 4),
           "cpu_s": round(result.cpu_s, 4), "output_hash": result.output_hash[:16],
           "exit_code": result.exit_code, "signal": result.signal,
           "passed_acodium": ok and check_output(result.stdout, expected)}
    if not passed and (message or result.checker_message):
        row["message"] = (message or result.checker_message)[:300]
    if ok and not passed:
        row["float_accepts"] = parse_checker(FLOAT_RULE).check(result.stdout, expected)
    if row["passed_acodium"] != passed and ok and checker.spec == "tokens":
        row["known_difference"] = known_difference(result.stdout, expected)
        row["expected"] = expected[:300]
    if not passed or (row["passed_acodium"] != passed and checker.spec == "tokens"):
        row["stdout"] = result.stdout[:300]
        row["stderr"] = result.stderr[-400:]
    return row


def run_backend(name: str, rows: list[dict], judges: dict[str, dict], args, log) -> dict[str, list[str]]:
    """Run what the log lacks of `judges` (setting -> problem -> checker) on one backend; returns
    the problems per setting this backend cannot judge (a checker program under code_contests)."""
    from tqdm.auto import tqdm

    from acodium.execute import Job, Limits, Program, get_backend
    from acodium.execute.checkers import TOKENS
    from acodium.execute.judges import ProgramChecker

    options = {"workers": args.workers} if args.workers else {}
    if name == "code_contests":
        options["judge"] = args.judge
    backend = get_backend(name, **options)
    done = {(key[1], key[2] or "tokens") for key in log.keys("backend", "problem", "checker") if key[0] == name}
    unjudged: dict[str, list[str]] = collections.defaultdict(list)
    builtins: dict[str, dict] = collections.defaultdict(dict)  # problem -> spec -> checker
    programs: dict[tuple[str, str], object] = {}
    for setting, checkers in judges.items():
        for problem, checker in checkers.items():
            if isinstance(checker, ProgramChecker) and not backend.runs_program_judges:
                unjudged[setting].append(problem)
            elif (problem, checker.spec) not in done:
                if isinstance(checker, ProgramChecker):
                    programs[(problem, checker.spec)] = checker
                else:
                    builtins[problem][checker.spec] = checker
    by_name = {r["name"]: r for r in rows}
    limits = Limits(time_s=args.time_limit)
    jobs, meta = [], []
    for problem, checker in [(p, TOKENS) for p in builtins] + [(p, c) for (p, _), c in programs.items()]:
        inputs, outputs, ids = run_tests(by_name[problem], args.max_tests)
        code = by_name[problem]["solutions"]["solution"][0]
        jobs.append(Job(Program("python3", code), inputs, outputs, limits=limits, checker=checker))
        meta.append((problem, ids, outputs, [checker] if isinstance(checker, ProgramChecker)
                     else list(builtins[problem].values())))
    if not jobs:
        return unjudged
    started = time.monotonic()
    with tqdm(total=sum(len(j.inputs) for j in jobs), unit="test", desc=name) as bar:
        for index, results in backend.run_many(jobs, workers=args.workers or os.cpu_count() or 1):
            problem, ids, outputs, checkers = meta[index]
            log.append([{
                "backend": name, "problem": problem, "checker": checker.spec, "time_limit": args.time_limit,
                "judge": options.get("judge", "acodium"),
                "tests": [dict(test_row(r, o, checker, name == "code_contests" and args.judge == "tester"), id=t)
                          for t, r, o in zip(ids, results, outputs)],
            } for checker in checkers])
            bar.update(len(results))
    print(f"{name}: {len(jobs)} runs of a solution in {time.monotonic() - started:.0f} s")
    return unjudged


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


def failure_class(t: dict, row: dict) -> str:
    """One of CLASSES for a failing test of the solution of `row`."""
    from acodium.evaluation import possibly_multi_answer

    status = t["status"]
    if status in ("TIMEOUT", "SLOW"):
        return "slow"
    if status == "JUDGE_ERROR":
        return "judge error"
    if status != "OK":
        return "runtime"
    if _INTERACTIVE.search(row.get("description") or ""):
        return "interactive"
    if t.get("float_accepts"):
        return "float"
    if possibly_multi_answer(row):
        return "several answers"
    return "other"


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


def setting_summary(runs: dict, backend: str, setting: str, judges: dict, rows: list[dict],
                    unjudged: list[str]) -> dict:
    """Solutions passing every test under one (backend, checker setting), the failures classified."""
    judged = [(r, runs[(backend, r["name"], judges[r["name"]].spec)]) for r in rows
              if (backend, r["name"], judges[r["name"]].spec) in runs]
    classes, causes, failing = collections.Counter(), collections.Counter(), {}
    for row, run in judged:
        failed = [t for t in run["tests"] if not t["passed"]]
        if failed:
            first = failed[0]
            classes[failure_class(first, row)] += 1
            causes[failure_cause(first)] += 1
            failing[row["name"]] = {"class": failure_class(first, row), "test": first["id"],
                                    "cause": failure_cause(first), "tests_failed": len(failed),
                                    "message": first.get("message", "")}
    checked = {n for n, c in judges.items() if c.spec != "tokens"}
    return {
        "problems": len(judged), "unjudged": sorted(unjudged),
        "problems_with_a_checker": len(checked),
        "solutions_passing_all_tests": sum(1 for _, run in judged if run["tests"] and all(t["passed"] for t in run["tests"])),
        "tests": sum(len(run["tests"]) for _, run in judged),
        "tests_passed": sum(t["passed"] for _, run in judged for t in run["tests"]),
        "failure_classes": {c: classes[c] for c in CLASSES if classes[c]},
        "first_failure_causes": dict(causes.most_common()),
        "failing": dict(sorted(failing.items())),
    }


def summarize(log_rows: list[dict], rows: list[dict], judges: dict[str, dict], unjudged: dict, args) -> dict:
    runs = {(r["backend"], r["problem"], r.get("checker") or "tokens"): r for r in log_rows
            if r.get("time_limit") == args.time_limit}
    names = [r["name"] for r in rows]
    settings = {}
    for setting, checkers in judges.items():
        for backend in BACKENDS:
            s = setting_summary(runs, backend, setting, checkers, rows, unjudged.get(backend, {}).get(setting, []))
            if s["problems"]:
                settings[f"{backend} / {setting}"] = s
    for key, s in settings.items():
        backend, setting = key.split(" / ", 1)
        base = settings.get(f"{backend} / tokens")
        if base is not None and setting != "tokens":
            s["now_pass"] = sorted(set(base["failing"]) - set(s["failing"]) - set(s["unjudged"]))
            s["now_fail"] = sorted(set(s["failing"]) - set(base["failing"]))

    tokens = {(b, n): runs[(b, n, "tokens")] for b in BACKENDS for n in names if (b, n, "tokens") in runs}
    disagreements = []
    both = [n for n in names if all((b, n) in tokens for b in BACKENDS)]
    for name in both:
        by_id = {t["id"]: t for t in tokens[("code_contests", name)]["tests"]}
        for a in tokens[("local", name)]["tests"]:
            b = by_id.get(a["id"])
            if b is not None and (a["status"], a["passed"]) != (b["status"], b["passed"]):
                disagreements.append({
                    "problem": name, "test": a["id"], "cause": disagreement_cause(a, b),
                    "local": {k: a.get(k) for k in ("status", "passed", "time_s", "cpu_s", "stderr")},
                    "code_contests": {k: b.get(k) for k in ("status", "passed", "time_s", "stderr")},
                })
    solution_verdicts = collections.Counter()
    for name in both:
        verdict = tuple(all(t["passed"] for t in tokens[(b, name)]["tests"]) for b in BACKENDS)
        solution_verdicts[{(True, True): "both pass", (False, False): "both fail",
                           (True, False): "only local passes",
                           (False, True): "only code_contests passes"}[verdict]] += 1
    judged = [(name, t) for name in names if ("code_contests", name) in tokens
              for t in tokens[("code_contests", name)]["tests"] if t["status"] == "OK"]
    judge_disagreements = [
        {"problem": name, "test": t["id"], "tester": t["passed"], "acodium": t["passed_acodium"],
         "known_difference": t.get("known_difference"), "stdout": t.get("stdout"), "expected": t.get("expected")}
        for name, t in judged if t["passed"] != t["passed_acodium"]]
    judges_summary = {
        "judge": next((tokens[("code_contests", n)].get("judge", "acodium") for n in names
                       if ("code_contests", n) in tokens), None),
        "tests_judged": len(judged),
        "both_pass": sum(t["passed"] and t["passed_acodium"] for _, t in judged),
        "both_fail": sum(not t["passed"] and not t["passed_acodium"] for _, t in judged),
        "disagree": len(judge_disagreements),
        "unexplained": sum(d["known_difference"] is None for d in judge_disagreements),
        "disagreements": judge_disagreements,
    }
    return {
        "time_limit_s": args.time_limit, "max_tests": args.max_tests, "problems": len(names),
        "checker_settings": list(judges), "settings": settings,
        "judges": judges_summary, "solutions": dict(solution_verdicts),
        "only_code_contests_passes": sorted(
            n for n in both if all(t["passed"] for t in tokens[("code_contests", n)]["tests"])
            and not all(t["passed"] for t in tokens[("local", n)]["tests"])),
        "disagreement_causes": dict(collections.Counter(d["cause"] for d in disagreements).most_common()),
        "disagreements": disagreements,
    }


def print_table(summary: dict) -> None:
    print(f"\nFidelity on {summary['problems']} problems (time limit {summary['time_limit_s']:g} s, "
          f"max_tests {summary['max_tests'] or 'all'} per test set)")
    short = {"several answers": "several", "interactive": "interact", "judge error": "judge err"}
    print(f"{'backend / checkers':<34}{'judged':>7}{'pass all':>9}{'tests':>7}{'passed':>7}"
          + "".join(f"{short.get(c, c):>10}" for c in CLASSES))
    for key, s in summary["settings"].items():
        print(f"{key[:33]:<34}{s['problems']:>7}{s['solutions_passing_all_tests']:>9}{s['tests']:>7}"
              f"{s['tests_passed']:>7}" + "".join(f"{s['failure_classes'].get(c, 0):>10}" for c in CLASSES))
    for key, s in summary["settings"].items():
        extra = []
        if s.get("now_pass") is not None:
            extra.append(f"pass now, failed under tokens: {s['now_pass']}")
            extra.append(f"fail now, passed under tokens: {s['now_fail']}")
        if s["unjudged"]:
            extra.append(f"unjudged (this backend runs no checker programs): {s['unjudged']}")
        for line in extra:
            print(f"  {key}: {line}")
    for key, s in summary["settings"].items():
        print(f"\n{key}: failing solutions ({len(s['failing'])})")
        for name, f in s["failing"].items():
            print(f"  {name[:44]:<44} {f['class']:<16} {f['test']:<12} {f['tests_failed']:>4} failed  {f['cause'][:50]}")
    if summary["solutions"]:
        print(f"\nunder tokens, solutions: {summary['solutions']}")
        print(f"tests where the backends disagree: {len(summary['disagreements'])}  by cause: "
              f"{summary['disagreement_causes']}")
        for d in summary["disagreements"][:40]:
            print(f"  {d['problem'][:40]:<40} {d['test']:<11} local {d['local']['status']}/{d['local']['passed']}"
                  f"  cc {d['code_contests']['status']}/{d['code_contests']['passed']}  {d['cause']}")
    j = summary["judges"]
    if j["tests_judged"]:
        print(f"judges on code_contests' OK runs (verdict: {j['judge']}; beside it acodium's check_output on the "
              f"same stdout): {j['tests_judged']} tests, both pass {j['both_pass']}, both fail {j['both_fail']}, "
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
    parser.add_argument("--names", default=None,
                        help="only the problems whose names start with one of these, comma-separated (598_F,618_C)")
    parser.add_argument("--max_tests", type=int, default=None, help="cap on tests per test set and problem")
    parser.add_argument("--time_limit", type=float, default=10.0, help="seconds per test (default: the tester's 10)")
    parser.add_argument("--workers", type=int, default=None, help="processes per backend (default: cores)")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--checkers", default=f"tokens,{PROBLEM}",
                        help=f"checker settings, comma-separated: tokens, {PROBLEM} (each problem's own), "
                             "a built-in (float_rel:1e-6) or a checker program's file")
    parser.add_argument("--problem_checkers", default=str(FIXTURE_CHECKERS),
                        help="JSON {problem name: built-in or file} of checkers the 'problem' setting attaches "
                             "to problems without one ('' for none)")
    parser.add_argument("--judge", default="tester", choices=("tester", "acodium"),
                        help="who decides code_contests' token verdicts (default: the tester's compiled OutputsMatch)")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()

    from acodium.tables import AppendLog

    rows = [json.loads(line) for line in open(args.dataset)]
    if args.names:
        prefixes = tuple(p.strip() for p in args.names.split(",") if p.strip())
        rows = [r for r in rows if r["name"].startswith(prefixes)]
    rows = rows[: args.problems]
    attached = attached_checkers(args.problem_checkers)
    judges = {setting: judges_for(rows, setting, attached) for setting in args.checkers.split(",")}
    out = Path(args.out)
    suffix = f"t{args.time_limit:g}_m{args.max_tests or 'all'}_j{args.judge}"
    unjudged = {}
    with AppendLog(out / f"fidelity_runs_{suffix}.jsonl") as log:
        for name in args.backends.split(","):
            unjudged[name] = run_backend(name, rows, judges, args, log)
        backends = set(args.backends.split(","))
        summary = summarize([r for r in log.rows() if r["backend"] in backends], rows, judges, unjudged, args)
    (out / f"fidelity_{suffix}.json").write_text(json.dumps(summary, indent=1))
    print_table(summary)
    print(f"\nwritten: {out / f'fidelity_{suffix}.json'}")


if __name__ == "__main__":
    main()
