"""Execution throughput: the local backend, DeepMind's code_contests tester, and a plain baseline.

Every backend runs in this one process, one after the other, on the same
machine and workload, with caching off (`run_batch(cache_dir=None)`):

(a) overhead: a trivial program (read a line, print it) on --overhead_inputs
    inputs (2,000). Targets: local >= 8x code_contests and >= 4x the baseline.
(b) real work: every human solution of the real train sample on its tests
    (public first, then private, at most --max_tests per problem), time limit
    from `limits_for_problem` (10 s: the sample has none). Targets: local >=
    2.5x code_contests and >= 1.5x the baseline, the same verdicts, and within
    1.25x of the floor: the programs' own CPU time (as local measures it), with
    each TIMEOUT test counted at max(its CPU time, the time limit), divided by
    the cores.

The baseline is "one subprocess per test": `subprocess.run([python3.11, file],
input=..., timeout=...)` from a thread pool as wide as the cores, no sandbox.
Workers are started (a warm-up run) before the clock starts, for every backend.

    .venv/bin/python bench/execution.py                                   # full
    .venv/bin/python bench/execution.py --problems 20 --max_tests 5 --overhead_inputs 300   # < 2 min
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ACODIUM_SHARED_DATA", REPO.parent / "shared" / "data"))
RESULTS = REPO / "bench" / "results"
PYTHON = "/usr/bin/python3.11"
ECHO = "x = input()\nprint(x)\n"


class SubprocessBaseline:
    """One `python3.11 file` subprocess per test: what a naive harness does."""

    name = "subprocess"

    def __init__(self, workers: int):
        self.workers = workers
        self.folder = tempfile.TemporaryDirectory(prefix="acodium-bench-")

    def run_jobs(self, jobs):
        from acodium.execute import ExecutionResult, Status, check_output

        files = {}
        for job in jobs:
            if job.program.hash not in files:
                path = Path(self.folder.name) / f"{job.program.hash[:16]}.py"
                path.write_text(job.program.code)
                files[job.program.hash] = str(path)

        def one(job, i):
            start = time.monotonic()
            try:
                proc = subprocess.run([PYTHON, files[job.program.hash]], input=job.inputs[i].encode(),
                                      capture_output=True, timeout=job.limits.time_s)
                stdout = proc.stdout.decode("utf-8", "replace")
                status = Status.OK if proc.returncode == 0 else Status.RUNTIME_ERROR
            except subprocess.TimeoutExpired:
                stdout, status = "", Status.TIMEOUT
            passed = None
            if job.expected is not None:
                passed = status == Status.OK and check_output(stdout, job.expected[i])
            return ExecutionResult(status=status, passed=passed, stdout=stdout,
                                   time_s=time.monotonic() - start)

        tasks = [(j, i) for j, job in enumerate(jobs) for i in range(len(job.inputs))]
        with ThreadPoolExecutor(self.workers) as pool:
            flat = list(pool.map(lambda t: one(jobs[t[0]], t[1]), tasks))
        out, k = [], 0
        for job in jobs:
            out.append(flat[k:k + len(job.inputs)])
            k += len(job.inputs)
        return out


def timed(name, jobs, workers):
    """(seconds, results) of running `jobs` on backend `name`, caches off."""
    from acodium.execute import run_batch

    if name == "subprocess":
        runner = SubprocessBaseline(workers)
        start = time.monotonic()
        results = runner.run_jobs(jobs)
        return time.monotonic() - start, results
    start = time.monotonic()
    results = run_batch(jobs, backend=name, cache_dir=None, workers=workers, progress=False)
    return time.monotonic() - start, results


def warm_up(names, workers):
    from acodium.execute import Job, Program, run_batch

    job = Job(Program("python3", ECHO), [f"{i}\n" for i in range(2 * workers)])
    for name in names:
        if name != "subprocess":
            run_batch([job], backend=name, workers=workers, progress=False)


def verdicts(results):
    return [[(r.status.value, r.passed) for r in rs] for rs in results]


def overhead(names, n, workers):
    from acodium.execute import Job, Program

    inputs = [f"line {i}\n" for i in range(n)]
    job = Job(Program("python3", ECHO), inputs, [f"line {i}" for i in range(n)])
    rows = {}
    for name in names:
        seconds, results = timed(name, [job], workers)
        ok = sum(bool(r.passed) for r in results[0])
        rows[name] = {"tests": n, "seconds": round(seconds, 3), "tests_per_s": round(n / seconds, 1), "passed": ok,
                      "sum_test_wall_s": round(sum(r.time_s for r in results[0]), 3)}
        print(f"  overhead {name:<14} {n} tests in {seconds:7.2f} s = {n / seconds:8.1f} tests/s ({ok} passed;"
              f" tests' own wall time {rows[name]['sum_test_wall_s']:.2f} s)")
    return rows


def real_work(names, rows, max_tests, workers):
    from acodium.execute import Job, Program, Status, limits_for_problem

    jobs = []
    for row in rows:
        inputs = list(row["public_tests"]["input"]) + list(row["private_tests"]["input"])
        outputs = list(row["public_tests"]["output"]) + list(row["private_tests"]["output"])
        jobs.append(Job(Program("python3", row["solutions"]["solution"][0]), inputs[:max_tests],
                        outputs[:max_tests], limits=limits_for_problem(row, "python3")))
    n = sum(len(j.inputs) for j in jobs)
    out, all_results = {}, {}
    for name in names:
        seconds, results = timed(name, jobs, workers)
        all_results[name] = results
        passed = sum(bool(r.passed) for rs in results for r in rs)
        out[name] = {"tests": n, "seconds": round(seconds, 3), "tests_per_s": round(n / seconds, 1), "passed": passed,
                     # Where the time went: each test's own wall time as the backend measured it.
                     "sum_test_wall_s": round(sum(r.time_s for rs in results for r in rs), 3),
                     "sum_test_cpu_s": round(sum(r.cpu_s for rs in results for r in rs), 3)}
        print(f"  real work {name:<13} {n} tests in {seconds:7.2f} s = {n / seconds:8.1f} tests/s ({passed} passed;"
              f" tests' own wall {out[name]['sum_test_wall_s']:.1f} s, CPU {out[name]['sum_test_cpu_s']:.1f} s)")
    if "local" in all_results:
        local = all_results["local"]
        # A TIMEOUT costs at least the time limit, whether it burned CPU or blocked.
        cpu = sum(r.cpu_s for rs in local for r in rs if r.status != Status.TIMEOUT)
        waits = sum(max(r.cpu_s, j.limits.time_s) for j, rs in zip(jobs, local) for r in rs
                    if r.status == Status.TIMEOUT)
        floor = (cpu + waits) / workers
        out["floor"] = {"cpu_s": round(cpu, 3), "timeout_waits_s": round(waits, 3), "cores": workers,
                        "seconds": round(floor, 3)}
        print(f"  floor: (programs' CPU {cpu:.2f} s + TIMEOUT tests at >= the limit {waits:.1f} s)"
              f" / {workers} cores = {floor:.2f} s")
        for name in names:
            if name == "local":
                continue
            same = sum(a == b for a, b in zip(verdicts(local), verdicts(all_results[name])))
            diff = [(rows[i]["name"], verdicts(local)[i], verdicts(all_results[name])[i])
                    for i in range(len(jobs)) if verdicts(local)[i] != verdicts(all_results[name])[i]]
            out[name]["same_verdicts_as_local"] = f"{same}/{len(jobs)} jobs"
            out[name]["verdict_differences"] = [
                {"problem": p, "local": a, name: b} for p, a, b in diff]
            print(f"  verdicts {name} vs local: {same}/{len(jobs)} jobs identical")
            for p, a, b in diff[:10]:
                print(f"    {p[:50]}: local {a[:6]} vs {name} {b[:6]}")
    return out


def ratios(section, targets):
    if "local" not in section:
        return {}
    out = {}
    for other, target in targets.items():
        if other not in section:
            continue
        if other == "floor":
            value = section["local"]["seconds"] / max(section["floor"]["seconds"], 1e-9)
            out["local_over_floor"] = {"value": round(value, 2), "target": f"<= {target}", "met": value <= target}
            print(f"  local / floor = {value:.2f} (target <= {target})")
        else:
            value = section[other]["seconds"] / section["local"]["seconds"]
            out[f"local_vs_{other}"] = {"value": round(value, 2), "target": f">= {target}", "met": value >= target}
            print(f"  local is {value:.2f}x {other} (target >= {target}x)")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default=str(SHARED / "code_contests_train_sample.jsonl"))
    parser.add_argument("--problems", type=int, default=None, help="first N problems (default all)")
    parser.add_argument("--max_tests", type=int, default=10, help="tests per problem, public first (default 10)")
    parser.add_argument("--overhead_inputs", type=int, default=2000)
    parser.add_argument("--backends", default="local,code_contests,subprocess")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip", default="", help="comma list of sections to skip: overhead,real")
    parser.add_argument("--out", default=str(RESULTS / "execution.json"))
    args = parser.parse_args()

    names = args.backends.split(",")
    skip = set(filter(None, args.skip.split(",")))
    rows = [json.loads(line) for line in open(args.dataset)][: args.problems]
    report = {"cores": args.workers, "load_average_before": os.getloadavg(), "max_tests": args.max_tests,
              "problems": len(rows), "backends": names}
    warm_up(names, args.workers)
    if "overhead" not in skip:
        print(f"(a) overhead: echo program on {args.overhead_inputs} inputs, {args.workers} workers")
        report["overhead"] = overhead(names, args.overhead_inputs, args.workers)
        report["overhead"]["ratios"] = ratios(report["overhead"], {"code_contests": 8, "subprocess": 4})
    if "real" not in skip:
        print(f"(b) real work: {len(rows)} solutions on up to {args.max_tests} tests each")
        report["real_work"] = real_work(names, rows, args.max_tests, args.workers)
        report["real_work"]["ratios"] = ratios(report["real_work"], {"code_contests": 2.5, "subprocess": 1.5, "floor": 1.25})
    report["load_average_after"] = os.getloadavg()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1))
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
