"""Ray executor scaling: throughput on one node against two nodes of the same size, and what Ray adds per test.

A real Ray cluster on this machine (`ray.cluster_utils.Cluster`, started by tests/ray_cluster.py): a
head and a worker node of --cpus CPUs each (default 1: this machine has 2 cores), each its own raylet,
object store and worker processes, the loopback as network. One `Execution(executor="ray")` drives both
nodes; the one-node measurement tells the same executor to use the head only (`RayBackend.use_nodes`),
so both measurements share one driver, one cluster and warm sandboxes, and they alternate (--rounds),
so that a change in the machine's load (it is shared) falls on both. Caches off throughout. The nodes'
workers run at nice 0 (tests/ray_cluster.py; Ray's default is 15), on equal terms with the local executor.

(a) scaling: every human solution of the real train sample on its public and private tests (at most
    --max_tests each), each as --copies distinct programs (a comment apart: none is deduplicated),
    at --time_limit seconds per test without slow-positive reruns (the sample has no limits of its own:
    its default of 10 s, and reruns at 30 s, would let a few timeouts decide the whole time). Reported:
    tests per second on one node and on two, per round, the ratio of the medians (target >= 1.7x), the
    driver's CPU per test, and the tests whose verdict differs between the two (on a loaded machine a
    test near its limit can end either way: a TIMEOUT at the wall cap). Beside them, in the same rounds,
    the local executor with one node's workers and with two nodes': what this machine gives twice the
    workers at that moment, the ceiling of Ray's ratio here (other work on a shared machine lowers both).
(b) overhead: --overhead_jobs jobs of --overhead_tests tests each of an echo program, on the local
    executor with --cpus workers and on the ray executor with one node of --cpus CPUs (`use_nodes`),
    alternated: what Ray adds per test and per job (a job is one round trip to a node); then the same
    number of one-test jobs one at a time, each its own batch: the latency a round trip adds, which the
    throughput above hides (two jobs per CPU are in flight).

(c) driver: `run_executions` on the sample with a run folder and the execution cache, on both nodes: the
    CPU this process (the driver) spends per test, all its bookkeeping included; what one driver core
    can keep up with is 1 / that.

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


def differences(a, b) -> list[dict]:
    """The tests whose (status, passed) differ between two runs of the same jobs."""
    out = []
    for j, (ra, rb) in enumerate(zip(a, b)):
        for i, (x, y) in enumerate(zip(ra, rb)):
            if x != y:
                out.append({"job": j, "test": i, "first": x, "second": y})
    return out


def scaling(ray_exec, backend, head, jobs, rounds: int, cpus: int) -> dict:
    """Ray on one node and on two, and beside them the local executor with one node's workers and with
    two nodes' (what this machine gives two sets of workers now: the ceiling Ray can reach here)."""
    from acodium.execute import Execution

    tests = sum(len(j.inputs) for j in jobs)
    setups = {"ray, one node": (ray_exec, [head]), "ray, two nodes": (ray_exec, None),
              "local, one node's workers": (Execution(workers=cpus), None),
              "local, two nodes' workers": (Execution(workers=2 * cpus), None)}
    per = {label: [] for label in setups}
    seen = {}
    for round_ in range(rounds):
        for label, (execution, nodes) in setups.items():
            backend.use_nodes(nodes)
            before, driver = load(), {}
            seconds, results = timed(execution, jobs, driver)
            per[label].append({"seconds": round(seconds, 2), "tests_per_s": round(tests / seconds, 1),
                               "driver_cpu_ms_per_test": round(1000 * driver["cpu_s"] / tests, 3),
                               "load_before": before, "load_after": load()})
            seen.setdefault(label, verdicts(results))
            print(f"  round {round_ + 1} {label:<26} {tests} tests in {seconds:6.2f} s = {tests / seconds:6.1f} tests/s"
                  f"  (driver {1000 * driver['cpu_s'] / tests:.2f} ms CPU/test; load {before} -> {load()})")
    backend.use_nodes(None)
    median = {label: statistics.median(r["tests_per_s"] for r in rows) for label, rows in per.items()}
    ray_ratio = median["ray, two nodes"] / median["ray, one node"]
    local_ratio = median["local, two nodes' workers"] / median["local, one node's workers"]
    driver = statistics.median(r["driver_cpu_ms_per_test"] for label in ("ray, one node", "ray, two nodes")
                               for r in per[label])
    diff = differences(seen["ray, one node"], seen["ray, two nodes"])
    kinds = sorted({(d["first"][0], d["second"][0]) for d in diff})
    print(f"  ray: two nodes / one node = {ray_ratio:.2f}x (medians {median['ray, two nodes']:.1f} / "
          f"{median['ray, one node']:.1f} tests/s; target >= 1.7x)")
    print(f"  local: twice the workers = {local_ratio:.2f}x on this machine now (the ceiling of the ratio above)")
    print(f"  driver: {driver:.2f} ms of CPU per test; verdicts one node / two nodes: {len(diff)} of {tests} tests "
          f"differ {kinds if kinds else ''}")
    return {"tests": tests, "jobs": len(jobs), "rounds": per, "median_tests_per_s": median,
            "speedup": round(ray_ratio, 2), "target": ">= 1.7", "met": ray_ratio >= 1.7,
            "local_speedup_same_machine": round(local_ratio, 2), "driver_cpu_ms_per_test": driver,
            "verdict_differences": diff}


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
    latency = {"local": [], "ray": []}  # one job at a time: each a whole round trip, nothing overlapping it
    one = [Job(Program("python3", ECHO), [f"ping {i}\n"], [f"ping {i}"]) for i in range(jobs_n)]
    for _ in range(rounds):
        for label, execution in (("local", local_exec), ("ray", ray_exec)):
            start = time.monotonic()
            for job in one:
                execution.run_batch([job], progress=False)
            latency[label].append((time.monotonic() - start) / jobs_n)
    backend.use_nodes(None)
    lat = {label: statistics.median(values) for label, values in latency.items()}
    print(f"  one job of one test at a time: local {1000 * lat['local']:.2f} ms, ray {1000 * lat['ray']:.2f} ms "
          f"(a round trip to a node adds {1000 * (lat['ray'] - lat['local']):.2f} ms)")
    local = statistics.median(r["seconds"] for r in per["local"])
    ray = statistics.median(r["seconds"] for r in per["ray"])
    added = (ray - local) / tests
    print(f"  ray adds {1000 * added:.2f} ms per test ({1000 * (ray - local) / jobs_n:.1f} ms per job of {tests_n} "
          f"tests) over the local executor (medians {ray:.2f} s against {local:.2f} s)")
    return {"tests": tests, "jobs": jobs_n, "tests_per_job": tests_n, "rounds": per,
            "median_seconds": {"local": local, "ray": ray}, "added_ms_per_test": round(1000 * added, 3),
            "added_ms_per_job": round(1000 * (ray - local) / jobs_n, 2),
            "ratio": round(ray / local, 2),
            "one_job_at_a_time_ms": {k: round(1000 * v, 2) for k, v in lat.items()},
            "round_trip_added_ms": round(1000 * (lat["ray"] - lat["local"]), 2)}


def driver_cost(rows, max_tests: int, time_s: float) -> dict:
    """The driver's CPU per test in a whole evaluation: `run_executions` with a run folder (a log row per
    test) and the execution cache (a lookup and a row per test), on the ray executor's two nodes, so that
    this process does the driver's work alone (the sandboxes' host side runs in the actors)."""
    import tempfile

    from acodium.evaluation import run_executions
    from acodium.execute import Execution
    from acodium.generate import reference_candidates

    candidates = reference_candidates(rows)
    with tempfile.TemporaryDirectory(prefix="acodium-ray-bench-") as folder:
        execution = Execution(executor="ray", time_s=time_s, slow_cap=1, cache_dir=Path(folder) / "cache")
        start, cpu = time.monotonic(), time.process_time()
        table, stats = run_executions(rows, candidates, test_sets=["public", "private"], execution=execution,
                                      run_dir=Path(folder) / "run", max_tests=max_tests, progress=False)
        seconds, cpu = time.monotonic() - start, time.process_time() - cpu
        start, again = time.monotonic(), time.process_time()  # the same again: every test from the run folder
        run_executions(rows, candidates, test_sets=["public", "private"], execution=execution,
                       run_dir=Path(folder) / "run", max_tests=max_tests, progress=False)
        resumed, again = time.monotonic() - start, time.process_time() - again
    tests = len(table)
    print(f"  run_executions with a run folder and the cache: {tests} tests in {seconds:.1f} s, driver "
          f"{1000 * cpu / tests:.2f} ms CPU/test; the same resumed from the folder: {1000 * again / tests:.2f} ms/test")
    return {"tests": tests, "seconds": round(seconds, 2), "driver_cpu_ms_per_test": round(1000 * cpu / tests, 3),
            "resumed_seconds": round(resumed, 2), "resumed_driver_cpu_ms_per_test": round(1000 * again / tests, 3),
            "executor": stats.executor}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default=str(SHARED / "code_contests_train_sample.jsonl"))
    parser.add_argument("--problems", type=int, default=None, help="first N problems (default all)")
    parser.add_argument("--max_tests", type=int, default=6, help="tests per problem, public first (default 6)")
    parser.add_argument("--copies", type=int, default=1, help="distinct programs per solution (default 1)")
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
        report["scaling"] = scaling(ray_exec, backend, head, jobs, args.rounds, args.cpus)
        print(f"(b) overhead: {args.overhead_jobs} jobs of {args.overhead_tests} echo tests, {args.cpus} CPU(s) each way")
        report["overhead"] = overhead(local_exec, ray_exec, backend, head, args.overhead_jobs, args.overhead_tests,
                                      args.rounds)
        print("(c) the driver's work per test in a whole evaluation (run folder and cache)")
        report["driver"] = driver_cost(rows, args.max_tests, args.time_limit)
        report["executor_usage"] = backend.usage()
    finally:
        stop_cluster(cluster)
    report["load_average_after"] = os.getloadavg()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1))
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
