"""What the hardened sandbox costs per test: the local backend now against a baseline commit.

Both run in this one process, side by side: the package at `--baseline` (a git ref,
by default the last commit before the unforgeable-judge hardening) is extracted with
`git archive` and imported as `acodium_baseline`; each version's LocalBackend runs
the echo program (read a line, print it) on `--inputs` inputs split over `--workers`
jobs, caches off, workers started before the clock. Rounds alternate (baseline,
current, baseline, ...) so a drift of the machine's speed hits both; the ratio of the
medians is the overhead. Target (issue 11): current / baseline <= 1.2.

    .venv/bin/python bench/sandbox_overhead.py [--inputs 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASELINE_REF = "59f5669"  # main before the sandbox hardening (issue 11)
ECHO = "x = input()\nprint(x)\n"


def import_baseline(ref: str, folder: Path):
    """The acodium package as it was at `ref`, importable as `acodium_baseline`."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref, "acodium"], check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    spec = importlib.util.spec_from_file_location(
        "acodium_baseline", folder / "acodium" / "__init__.py",
        submodule_search_locations=[str(folder / "acodium")])
    module = importlib.util.module_from_spec(spec)
    sys.modules["acodium_baseline"] = module
    spec.loader.exec_module(module)
    return module


def echo_jobs(package, n: int, workers: int):
    execute = importlib.import_module(f"{package}.execute")
    per = -(-n // workers)
    return [execute.Job(execute.Program("python3", ECHO), [f"line {i}\n" for i in range(lo, min(n, lo + per))],
                        [f"line {i}" for i in range(lo, min(n, lo + per))])
            for lo in range(0, n, per)]


def timed(package, backend, jobs, workers: int) -> float:
    execute = importlib.import_module(f"{package}.execute")
    start = time.monotonic()
    results = execute.run_batch(jobs, backend=backend, cache_dir=None, workers=workers, progress=False)
    seconds = time.monotonic() - start
    passed = sum(bool(r.passed) for rs in results for r in rs)
    if passed != sum(len(j.inputs) for j in jobs):
        raise SystemExit(f"{package}: only {passed} echo tests passed")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default=BASELINE_REF)
    parser.add_argument("--inputs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory(prefix="acodium-baseline-") as folder:
        import_baseline(args.baseline, Path(folder))
        backends = {}
        for package in ("acodium_baseline", "acodium"):
            local = importlib.import_module(f"{package}.execute.local")
            backends[package] = local.LocalBackend(workers=args.workers)
            timed(package, backends[package], echo_jobs(package, 4 * args.workers, args.workers), args.workers)
        seconds = {p: [] for p in backends}
        for r in range(args.rounds):
            for package, backend in backends.items():
                s = timed(package, backend, echo_jobs(package, args.inputs, args.workers), args.workers)
                seconds[package].append(s)
                print(f"round {r + 1}: {package:<17} {args.inputs} echo tests in {s:6.2f} s "
                      f"({1000 * s * args.workers / args.inputs:.2f} ms per test per worker)")
        for backend in backends.values():
            backend.close()
    base, now = (statistics.median(seconds[p]) for p in ("acodium_baseline", "acodium"))
    print(f"median: baseline {base:.2f} s, current {now:.2f} s: current / baseline = {now / base:.3f} "
          f"(target <= 1.2)")


if __name__ == "__main__":
    main()
