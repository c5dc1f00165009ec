"""The local executor's own cost per test, side by side with the floor of forking a warm interpreter.

Floor: a minimal warm interpreter (`python3.11 -I`, nothing imported beyond what
it starts with) that forks, exits and reaps a child --tests / 2 times, two such
loops at once (one per core), timed from the moment both are released until
both are done. Local: an echo program (`x = input(); print(x)`) on --tests inputs
through `run_batch` on the local backend, 2 workers started before the clock,
caches off, every isolation the sandbox has (seccomp, cgroup or rlimits, the
kill of everything a test started, output limits, the frame protocol). Rounds
alternate (floor, local, floor, local, ...), so that a machine whose speed
drifts (a shared VM) weighs on both alike; the ratio of the medians is the
figure (issue 17's target: local within 2x the floor). A second floor, of a
Python test with no isolation at all (the worker's warm interpreter and
preloaded modules, libc's fork, the program run from a memfd stdin into a memfd
stdout, flushed and collected at exit, the child reaped and its output read),
says how much of the cost is running a Python program in a fork at all.

`--profile` adds one round measured from /proc: CPU per test of the host
process, the workers and the tests (page faults too), which is where the
profile in docs/backends.md comes from.

    .venv/bin/python bench/executor_cost.py [--tests 2000] [--rounds 5] [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

PYTHON = "/usr/bin/python3.11"
ECHO = "x = input()\nprint(x)\n"
RESULTS = Path(__file__).resolve().parent / "results"
FLOOR_LOOP = """
import os, sys
n = int(sys.argv[1])
sys.stdin.buffer.read(1)  # released by the bench, both loops at once
for _ in range(n):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
"""

# The floor of a Python test as the local worker runs one, without any isolation: the worker's warm
# interpreter (its preloaded modules, frozen), libc's fork, the program run on a memfd stdin into a
# memfd stdout with fresh text streams, flushed and collected as at exit; the parent reaps and reads.
PYTHON_TEST_LOOP = """
import ctypes, gc, io, os, sys, types
import array, bisect, collections, decimal, fractions, functools, heapq, itertools, json, math, operator
import random, re, resource, select, signal, string, struct, threading, time
fork = ctypes.PyDLL(None).fork
code = compile("x = input()\\nprint(x)\\n", "solution.py", "exec")
streams = (io.open(0, "r", closefd=False), io.open(1, "w", closefd=False))
gc.freeze()
n = int(sys.argv[1])
sys.stdin.buffer.read(1)
for i in range(n):
    stdin = os.memfd_create("in")
    os.write(stdin, b"line %d\\n" % i)
    os.lseek(stdin, 0, 0)
    stdout = os.memfd_create("out")
    main = types.ModuleType("__main__")
    pid = fork()
    if pid == 0:
        os.dup2(stdin, 0)
        os.dup2(stdout, 1)
        sys.stdin, sys.stdout = streams
        exec(code, main.__dict__)
        sys.stdout.flush()
        gc.collect(1)
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.pread(stdout, 100, 0) == b"line %d\\n" % i
    os.close(stdin)
    os.close(stdout)
"""


def floor_seconds(tests: int, loops: int = 2, program: str = FLOOR_LOOP) -> float:
    """Wall time of `loops` warm interpreters forking, exiting and reaping tests/loops children each, at once."""
    procs = [subprocess.Popen([PYTHON, "-I", "-c", program, str(tests // loops)], stdin=subprocess.PIPE)
             for _ in range(loops)]
    time.sleep(0.3)  # started and waiting
    start = time.monotonic()
    for p in procs:
        p.stdin.write(b"x")
        p.stdin.flush()
    for p in procs:
        p.wait()
    return time.monotonic() - start


def local_seconds(backend, tests: int, workers: int) -> float:
    from acodium.execute import Job, Program, run_batch

    inputs = [f"line {i}\n" for i in range(tests)]
    job = Job(Program("python3", ECHO), inputs, [f"line {i}" for i in range(tests)])
    start = time.monotonic()
    results = run_batch([job], backend=backend, workers=workers, progress=False)[0]
    seconds = time.monotonic() - start
    if not all(r.passed for r in results) or len(results) != tests:
        raise SystemExit("bench/executor_cost.py: the echo program did not pass every test.")
    return seconds


def _proc_stat(pid: int) -> list[float]:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    # minflt, cminflt, utime, stime, cutime, cstime
    return [int(fields[7]), int(fields[8])] + [int(x) / ticks for x in fields[11:15]]


def _workers(backend) -> list[int]:
    """The workers' host pids (bwrap's child, the sandbox's pid 1)."""
    ppids = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppids[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    tops = {w.popen.pid for w in backend._all}
    return [pid for pid, ppid in ppids.items() if ppid in tops]


def profile(backend, tests: int, workers: int) -> dict:
    """CPU and page faults per test of the host, the workers and the tests, from /proc and getrusage."""
    import resource

    pids = _workers(backend)
    before = [_proc_stat(p) for p in pids]
    host0 = resource.getrusage(resource.RUSAGE_SELF)
    wall = local_seconds(backend, tests, workers)
    host1 = resource.getrusage(resource.RUSAGE_SELF)
    after = [_proc_stat(p) for p in pids]
    d = [sum(a[i] - b[i] for a, b in zip(after, before)) for i in range(6)]
    ms = 1000.0 / tests
    return {
        "wall_ms_per_test": round(wall * ms, 3),
        "host_cpu_ms": round((host1.ru_utime - host0.ru_utime + host1.ru_stime - host0.ru_stime) * ms, 3),
        "worker_user_ms": round(d[2] * ms, 3), "worker_system_ms": round(d[3] * ms, 3),
        "tests_user_ms": round(d[4] * ms, 3), "tests_system_ms": round(d[5] * ms, 3),
        "worker_faults": round(d[0] / tests, 1), "test_faults": round(d[1] / tests, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--out", default=None, help="results JSON [default: bench/results/executor_cost.json]")
    args = parser.parse_args()
    from acodium.execute import get_backend

    backend = get_backend("local", workers=args.workers)
    local_seconds(backend, 4 * args.workers, args.workers)  # workers started, before the clock
    floors, python_floors, locals_, loads = [], [], [], []
    for r in range(args.rounds):
        loads.append(os.getloadavg()[0])
        floors.append(floor_seconds(args.tests))
        locals_.append(local_seconds(backend, args.tests, args.workers))
        python_floors.append(floor_seconds(args.tests, program=PYTHON_TEST_LOOP))
        print(f"round {r + 1}: fork floor {floors[-1]:.2f} s, Python-test floor {python_floors[-1]:.2f} s, "
              f"local {locals_[-1]:.2f} s, ratio to the fork floor {locals_[-1] / floors[-1]:.2f} "
              f"(load {loads[-1]:.1f})", flush=True)
    floor, python_floor, local = (statistics.median(floors), statistics.median(python_floors),
                                  statistics.median(locals_))
    result = {"tests": args.tests, "workers": args.workers, "rounds": args.rounds, "floor_s": floors,
              "python_test_floor_s": python_floors, "local_s": locals_, "floor_median_s": floor,
              "python_test_floor_median_s": python_floor, "local_median_s": local, "ratio": local / floor,
              "ratio_to_python_test_floor": local / python_floor, "load_average": loads, "cpus": os.cpu_count()}
    print(f"echo x {args.tests} (medians of {args.rounds}): fork floor {floor:.2f} s, Python-test floor "
          f"{python_floor:.2f} s, local {local:.2f} s: local is {local / floor:.2f}x the fork floor (target <= 2) "
          f"and {local / python_floor:.2f}x the Python-test floor; load average {statistics.mean(loads):.1f}")
    if args.profile:
        result["profile"] = profile(backend, args.tests, args.workers)
        print("per test:", json.dumps(result["profile"]))
    backend.close()
    out = Path(args.out) if args.out else RESULTS / "executor_cost.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
