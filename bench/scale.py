"""How evaluation cost grows with the pool: 10^3, 10^4, 10^5 samples of one problem, filter + cluster + 10@k.

An AlphaCode-shaped pool (`bench/scale_pool.py`: correct programs, wrong ones that
pass the public tests, wrong ones that do not, crashes; each sample textually
distinct) is scored at each size in a fresh process, through the library
(`score_candidates` with a run folder) or the command line (`gencode gen
solve_and_evaluate_set --source file --candidates_file POOL --k N`), with the
local backend on every core, no cache, the default schedule (public tests first).
For each size: wall time, tests run, samples per second, the peak memory of the
whole process tree (the sum of the proportional set sizes of the process and
every descendant, its sandbox workers and their tests included, sampled every
0.2 s), and the load average; then the growth between sizes: of time against
the growth of the work (samples, and tests run), and of peak memory.

Targets (issue 17): time grows at most 1.1x the work (10x samples: at most 11x
time), 10^5 samples in under 15 minutes, peak memory under 1 GiB and flat
(10^5 at most 1.2x the peak of 10^4).

    .venv/bin/python bench/scale.py                          # 10^3, 10^4, 10^5 via the library
    .venv/bin/python bench/scale.py --via cli --sizes 1000,10000
    .venv/bin/python bench/scale.py --write_pool POOL.jsonl --sizes 100000   # only write a pool (and its problem)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_pool import problem_row, with_clustering_inputs, write_pool, write_problem  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
TARGET_GROWTH = 1.1
TARGET_SECONDS_1E5 = 15 * 60
TARGET_PEAK_BYTES = 1 << 30
TARGET_MEMORY_GROWTH = 1.2

LIBRARY = """
import json, sys, time
import pandas as pd
from acodium.data import load_problems
from acodium.evaluation import score_candidates
from acodium.execute import Execution
problems, pool, out, k = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rows = [json.loads(line) for line in open(problems)]
scores = score_candidates(rows, pool, ks=[1, 10, k], n=10, run_dir=out, execution=Execution(),
                          bootstrap=200, trials=200, progress=False)
print(json.dumps(scores.summary, default=str))
"""


def children(pid: int) -> list[int]:
    """Every descendant of pid (from /proc: each process's parent)."""
    parent: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    stat = fh.read()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            parent.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += parent.get(p, [])
    return out


def pss(pid: int) -> int:
    """A process's proportional set size in bytes (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class TreeMemory(threading.Thread):
    """Samples the memory of a process tree every `every` seconds; `peak` is the largest sum seen."""

    def __init__(self, pid: int, every: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.every, self.peak, self.done = pid, every, 0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, sum(pss(p) for p in children(self.pid)))
            self.done.wait(self.every)


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def run_size(n: int, via: str, problems: Path, work: Path, seed: int) -> dict:
    """Score a fresh pool of n samples in a fresh process; its figures."""
    pool = write_pool(work / f"pool_{n}.jsonl", problem_row()["name"], n, seed)
    out = work / f"run_{via}_{n}"
    env = dict(os.environ, ACODIUM_CACHE=str(work / "cache"))
    if via == "cli":
        cmd = [str(Path(sys.executable).with_name("gencode")), "gen", "solve_and_evaluate_set",
               "--dataset_name", str(problems), "--source", "file", "--candidates_file", str(pool),
               "--k", str(n), "--k_values", f"1,10,{n}", "--n", "10", "--out", str(out), "--no_cache",
               "--no_progress", "--bootstrap", "200"]
    else:
        cmd = [sys.executable, "-c", LIBRARY, str(problems), str(pool), str(out), str(n)]
    loads = [loadavg()]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    meter = TreeMemory(proc.pid)
    meter.start()
    sampler_stop = threading.Event()

    def sample_load():
        while not sampler_stop.wait(10):
            loads.append(loadavg())
    threading.Thread(target=sample_load, daemon=True).start()
    stdout, stderr = proc.communicate()
    wall = time.monotonic() - start
    meter.done.set()
    meter.join()
    sampler_stop.set()
    loads.append(loadavg())
    if proc.returncode != 0:
        raise SystemExit(f"bench/scale.py: the run of {n} samples failed ({proc.returncode}):\n{stderr[-3000:]}")
    summary = json.loads((out / "summary.json").read_text())
    tests = int(summary.get("tests_run", summary.get("executions", 0)))
    return {
        "samples": n, "via": via, "wall_s": round(wall, 2), "tests_run": tests,
        "samples_per_s": round(n / wall, 1), "tests_per_s": round(tests / wall, 1),
        "peak_bytes": meter.peak, "peak_mib": round(meter.peak / 2**20, 1),
        "load_avg": round(sum(loads) / len(loads), 2), "load_max": max(loads),
        "schedule": summary.get("schedule"), "passing_public": summary.get("passing_public_candidates"),
        "correct": summary.get("correct_candidates"),
        "metrics": {name: {label: v["value"] for label, v in values.items()}
                    for name, values in summary.get("metrics", {}).items()},
    }


def report(rows: list[dict]) -> list[str]:
    lines = [f"{'samples':>8} {'via':>7} {'wall s':>8} {'tests':>8} {'samples/s':>9} {'tests/s':>8} "
             f"{'peak MiB':>8} {'load':>5}"]
    for r in rows:
        lines.append(f"{r['samples']:>8} {r['via']:>7} {r['wall_s']:>8.1f} {r['tests_run']:>8} "
                     f"{r['samples_per_s']:>9.1f} {r['tests_per_s']:>8.1f} {r['peak_mib']:>8.1f} {r['load_avg']:>5.2f}")
    for a, b in zip(rows, rows[1:]):
        work = b["samples"] / a["samples"]
        time_growth = b["wall_s"] / a["wall_s"]
        tests_growth = b["tests_run"] / max(a["tests_run"], 1)
        memory = b["peak_bytes"] / max(a["peak_bytes"], 1)
        lines.append(
            f"{a['samples']} -> {b['samples']}: samples x{work:g}, tests x{tests_growth:.2f}, time x{time_growth:.2f} "
            f"({time_growth / work:.2f}x the samples' growth, target <= {TARGET_GROWTH}; "
            f"{time_growth / tests_growth:.2f}x the tests'), peak memory x{memory:.2f} "
            f"(target <= {TARGET_MEMORY_GROWTH} from 10^4 to 10^5)")
    for r in rows:
        if r["samples"] >= 100_000:
            lines.append(f"{r['samples']} samples in {r['wall_s']:.0f} s (target < {TARGET_SECONDS_1E5} s), "
                         f"peak {r['peak_mib']:.0f} MiB (target < {TARGET_PEAK_BYTES >> 20} MiB)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--via", choices=["library", "cli"], default="library")
    parser.add_argument("--clustering_inputs", type=int, default=10, help="inputs mutated from the public tests")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", default=None, help="folder for pools and run folders [default: a temporary one]")
    parser.add_argument("--write_pool", default=None,
                        help="only write the pool of the (first) size here, and its problem beside it (.problems.jsonl)")
    parser.add_argument("--out", default=None, help="results JSON [default: bench/results/scale_VIA.json]")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    row = with_clustering_inputs(problem_row(), args.clustering_inputs, args.seed)
    if args.write_pool:
        pool = Path(args.write_pool)
        write_pool(pool, row["name"], sizes[0], args.seed)
        problems = write_problem(pool.with_suffix(".problems.jsonl"), row)
        print(f"{sizes[0]} samples in {pool}, the problem in {problems}")
        return
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="acodium-scale-"))
    problems = write_problem(work / "problem.jsonl", row)
    rows = []
    for n in sizes:
        rows.append(run_size(n, args.via, problems, work, args.seed))
        print("\n".join(report(rows)[-1:] if len(rows) > 1 else report(rows)), flush=True)
    print("\n".join(report(rows)))
    out = Path(args.out) if args.out else RESULTS / f"scale_{args.via}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"rows": rows, "report": report(rows), "cpus": os.cpu_count()}, indent=2) + "\n")
    print(f"results in {out}")


if __name__ == "__main__":
    main()
