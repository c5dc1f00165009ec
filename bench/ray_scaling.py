"""Ray executor scaling: throughput on one node against two nodes of the same size, and what Ray adds per test.

A real Ray cluster on this machine (`ray.cluster_utils.Cluster`, started by tests/ray_cluster.py): a
head and a worker node of --cpus CPUs each (default 1: this machine has 2 cores), each its own raylet,
object store and worker processes, the loopback as network. One `Execution(executor="ray")` drives both
nodes; the one-node measurement tells the same executor to use the head only (`RayBackend.use_nodes`),
so both measurements share one driver, one cluster and warm sandboxes, and they alternate (--rounds),
so that a change in the machine's load (it is shared) falls on both. Caches off throughout.

(a) scaling: every human solution of the real train sample on its public and private tests (at most
    --max_tests each), each as --copies distinct programs (a comment apart: none is deduplicated),
    at --time_limit seconds per test without slow-positive reruns (the sample has no limits of its own:
    its default of 10 s, and reruns at 30 s, would let a few timeouts decide the whole time). Reported:
    tests per second on one node and on two, per round, the ratio of the medians (target >= 1.7x), the
    driver's CPU per test; verdicts must be the same both ways.
(b) overhead: --overhead_jobs jobs of --overhead_tests tests each of an echo program, on the local
    executor with --cpus workers and on the ray executor with one node of --cpus CPUs (`use_nodes`),
    alternated: what Ray adds per test and per job (a job is one round trip to a node).

The machine's load average is printed with every measurement.

    .venv/bin/python bench/ray_scaling.py                      # ~5 min on 2 idle cores
    .venv/bin/python bench/ray_scaling.py --problems 40 --rounds 2 --copies 1
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ACODIUM_SHARED_DATA", REPO.parent / "shared" / "data"))
RESULTS = REPO / "bench" / "results"
ECHO = "x = input()\nprint(x)\n"
sys.path.insert(0, str(REPO / "tests"))


def load() -> float:
    return round(os.getloadavg()[0], 2)


def timed(execution, jobs, driver: dict | None = None) -> tuple[float, list]:
    """(seconds, results) of a batch; `driver` gets the CPU seconds this process (the driver) spent on it."""
    start, cpu = time.monotonic(), time.process_time()
    results = execution.run_batch(jobs, progress=False)
    if driver is not None:
        driver["cpu_s"] = time.process_time() - cpu
    return time.monotonic() - start, results


def real_jobs(rows, max_tests: int, copies: int, time_s: float):
    from acodium.execute import Job, Program, limits_for_problem

    jobs = []
    for copy in range(copies):
        for row in rows:
            inputs = list(row["public_tests"]["input"]) + list(row["private_tests"]["input"])
            outputs = list(row["public_tests"]["output"]) + list(row["private_tests"]["output"])
            code = row["solutions"]["solution"][0] + f"\n# copy {copy}\n"
            jobs.append(Job(Program("python3", code), inputs[:max_tests], outputs[:max_tests],
                            limits=limits_for_problem(row, "python3", time_s=time_s, slow_cap=1)))
    return jobs


def verdicts(results):
    return [[(r.status.value, r.passed) for r in rs] for rs in results]


def scaling(ray_exec, backend, head, jobs, rounds: int) -> dict:
    tests = sum(len(j.inputs) for j in jobs)
    per = {"one node": [], "two nodes": []}
    seen = {}
    for round_ in range(rounds):
        for label, nodes in (("one node", [head]), ("two nodes", None)):
            backend.use_nodes(nodes)
            before, driver = load(), {}
            seconds, results = timed(ray_exec, jobs, driver)
            per[label].append({"seconds": round(seconds, 2), "tests_per_s": round(tests / seconds, 1),
                               "driver_cpu_ms_per_test": round(1000 * driver["cpu_s"] / tests, 3),
                               "load_before": before, "load_after": load()})
            seen.setdefault(label, verdicts(results))
            print(f"  round {round_ + 1} {label:<9} {tests} tests in {seconds:7.2f} s = {tests / seconds:7.1f} tests/s"
                  f"  (driver {1000 * driver['cpu_s'] / tests:.2f} ms CPU/test; load {before} -> {load()})")
    backend.use_nodes(None)
    one = statistics.median(r["tests_per_s"] for r in per["one node"])
    two = statistics.median(r["tests_per_s"] for r in per["two nodes"])
    same = seen["one node"] == seen["two nodes"]
    driver = statistics.median(r["driver_cpu_ms_per_test"] for rs in per.values() for r in rs)
    print(f"  two nodes / one node = {two / one:.2f}x (medians {two:.1f} / {one:.1f} tests/s; target >= 1.7x);"
          f" verdicts {'identical' if same else 'DIFFER'}")
    return {"tests": tests, "jobs": len(jobs), "rounds": per, "median_tests_per_s": {"one node": one, "two nodes": two},
            "speedup": round(two / one, 2), "target": ">= 1.7", "met": two / one >= 1.7, "same_verdicts": same,
            "driver_cpu_ms_per_test": driver}


def overhead(local_exec, ray_exec, backend, head, jobs_n: int, tests_n: int, rounds: int) -> dict:
    from acodium.execute import Job, Program

    jobs = [Job(Program("python3", ECHO + f"# {j}\n"), [f"line {i}\n" for i in range(tests_n)],
                [f"line {i}" for i in range(tests_n)]) for j in range(jobs_n)]
    tests = jobs_n * tests_n
    per = {"local": [], "ray": []}
    backend.use_nodes([head])
    for round_ in range(rounds):
        for label, execution in (("local", local_exec), ("ray", ray_exec)):
            before = load()
            seconds, results = timed(execution, jobs)
            assert all(r.passed for rs in results for r in rs), f"{label}: an echo test failed"
            per[label].append({"seconds": round(seconds, 3), "load_before": before, "load_after": load()})
            print(f"  round {round_ + 1} {label:<5} {tests} tests in {jobs_n} jobs: {seconds:6.2f} s"
                  f" = {1000 * seconds / tests:.2f} ms/test  (load {before} -> {load()})")
    backend.use_nodes(None)
    local = statistics.median(r["seconds"] for r in per["local"])
    ray = statistics.median(r["seconds"] for r in per["ray"])
    added = (ray - local) / tests
    print(f"  ray adds {1000 * added:.2f} ms per test ({1000 * (ray - local) / jobs_n:.1f} ms per job of {tests_n} "
          f"tests) over the local executor (medians {ray:.2f} s against {local:.2f} s)")
    return {"tests": tests, "jobs": jobs_n, "tests_per_job": tests_n, "rounds": per,
            "median_seconds": {"local": local, "ray": ray}, "added_ms_per_test": round(1000 * added, 3),
            "added_ms_per_job": round(1000 * (ray - local) / jobs_n, 2),
            "ratio": round(ray / local, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default=str(SHARED / "code_contests_train_sample.jsonl"))
    parser.add_argument("--problems", type=int, default=None, help="first N problems (default all)")
    parser.add_argument("--max_tests", type=int, default=10, help="tests per problem, public first (default 10)")
    parser.add_argument("--copies", type=int, default=2, help="distinct programs per solution (default 2)")
    parser.add_argument("--time_limit", type=float, default=1.0,
                        help="seconds per test, every problem (default 1; no slow-positive reruns)")
    parser.add_argument("--cpus", type=int, default=1, help="CPUs of each node (default 1)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--overhead_jobs", type=int, default=200)
    parser.add_argument("--overhead_tests", type=int, default=10)
    parser.add_argument("--out", default=str(RESULTS / "ray_scaling.json"))
    args = parser.parse_args()

    from ray_cluster import start_cluster, stop_cluster

    from acodium.execute import Execution

    rows = [json.loads(line) for line in open(args.dataset)][: args.problems]
    report = {"cores": os.cpu_count(), "node_cpus": args.cpus, "load_average_before": os.getloadavg()}
    cluster, _, seconds = start_cluster(nodes=2, cpus=args.cpus)
    print(f"a Ray cluster of two nodes of {args.cpus} CPU(s) each started in {seconds:.0f} s (load {load()})")
    report["cluster_start_s"] = round(seconds, 1)
    try:
        ray_exec = Execution(executor="ray")
        local_exec = Execution(workers=args.cpus)
        backend = ray_exec.get_backend()
        head = next(n for n in backend.nodes() if n == cluster.head_node.node_id)
        jobs = real_jobs(rows, args.max_tests, args.copies, args.time_limit)
        timed(ray_exec, jobs[: 4 * args.cpus])  # the workers of both nodes started before any clock
        timed(local_exec, jobs[:2])
        print(f"(a) scaling: {len(jobs)} programs ({len(rows)} solutions x {args.copies}) on up to {args.max_tests} tests")
        report["scaling"] = scaling(ray_exec, backend, head, jobs, args.rounds)
        print(f"(b) overhead: {args.overhead_jobs} jobs of {args.overhead_tests} echo tests, {args.cpus} CPU(s) each way")
        report["overhead"] = overhead(local_exec, ray_exec, backend, head, args.overhead_jobs, args.overhead_tests,
                                      args.rounds)
        report["executor_usage"] = backend.usage()
    finally:
        stop_cluster(cluster)
    report["load_average_after"] = os.getloadavg()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1))
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
