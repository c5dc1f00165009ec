"""Do the intervals of the METRICS table cover? A simulation of issue 14's audit grid.

For each cell (problems x benchmark x k), 500 simulated benchmarks: each
problem gets a true solve probability p from the benchmark's distribution,
n samples (default 20), c ~ Binomial(n, p) correct, and its unbiased pass@k.
The true value is the population mean of pass@k, E[1 - (1 - p)^k], exact
from the Beta function. Coverage = share of the benchmarks whose 95%
interval contains it, for the old method (percentile bootstrap over
problems, `bootstrap_ci`) and the new default (`problems_ci`, method
"auto"), both the library's own code, each benchmark a column of one
[problems x benchmarks] call.

Benchmarks (p per problem):
  easy    Beta(2, 2)                               mean 0.50
  medium  Beta(0.5, 3)                             mean 0.14, many near 0
  hard    p = 0 for 80%, else Beta(0.3, 15)        mean 0.004; about 40% of
          20-problem benchmarks solve nothing (the audit saw 236 of 500)

With 500 benchmarks a cell, a coverage estimate has a standard error of
about 1 point at 95%. 1000 bootstrap resamples (the library default, all
500 benchmarks of a cell share them); a few seconds. `--reading samples`
checks the other reading instead: problems fixed, the target their own mean
true pass@k (`samples_ci`).

    .venv/bin/python bench/ci_coverage.py [--datasets 500] [--samples 20] [--resamples 1000] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from acodium.metrics import bootstrap_ci, pass_at_k, problems_ci, samples_ci

BENCHMARKS = {
    # name: (share of problems with p = 0, Beta a, Beta b)
    "easy": (0.0, 2.0, 2.0),
    "medium": (0.0, 0.5, 3.0),
    "hard": (0.8, 0.3, 15.0),
}
PROBLEM_COUNTS = (20, 50, 160)
KS = (1, 10)
TARGET = 0.93


def true_pass_at_k(benchmark: str, k: int) -> float:
    """E[1 - (1 - p)^k] over the benchmark's p: E[(1-p)^k] = B(a, b + k) / B(a, b) for p ~ Beta(a, b)."""
    zero, a, b = BENCHMARKS[benchmark]
    log_beta = lambda x, y: math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)  # noqa: E731
    return (1.0 - zero) * (1.0 - math.exp(log_beta(a, b + k) - log_beta(a, b)))


def draw_rates(benchmark: str, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    zero, a, b = BENCHMARKS[benchmark]
    p = rng.beta(a, b, shape)
    p[rng.random(shape) < zero] = 0.0
    return p


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=500, help="simulated benchmarks per cell")
    parser.add_argument("--samples", type=int, default=20, help="samples (candidates) per problem")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--level", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reading", choices=["problems", "samples"], default="problems",
                        help='"samples": check the other reading instead (problems fixed, `samples_ci`)')
    args = parser.parse_args()
    if args.reading == "samples":
        return check_samples_reading(args)
    rng = np.random.default_rng(args.seed)
    started = time.process_time()
    n = args.samples
    table = pass_at_k(np.full(n + 1, n), np.arange(n + 1), list(KS))  # pass@k for c = 0..n: [c x ks]

    print(f"{args.datasets} simulated benchmarks a cell, {n} samples a problem, {args.resamples} bootstrap "
          f"resamples, level {args.level}")
    print(f"{'problems':>8} {'bench':>6} {'k':>3} {'true':>7} {'nothing':>7} | {'old cover':>9} {'zero-w':>6} "
          f"{'width':>7} | {'new cover':>9} {'zero-w':>6} {'width':>7}  method (new)")
    worst_old, worst_new, zero_new = 1.0, 1.0, 0
    for problems in PROBLEM_COUNTS:
        for benchmark in BENCHMARKS:
            rates = draw_rates(benchmark, (problems, args.datasets), rng)
            correct = rng.binomial(n, rates)
            for j, k in enumerate(KS):
                truth = true_pass_at_k(benchmark, k)
                scores = table[correct, j]  # [problems x datasets]
                _, old_low, old_high = bootstrap_ci(scores, resamples=args.resamples, level=args.level,
                                                    seed=args.seed)
                new = problems_ci(scores, resamples=args.resamples, level=args.level, seed=args.seed)
                old_cover = np.mean((old_low <= truth) & (truth <= old_high))
                new_cover = np.mean((new.ci_low <= truth) & (truth <= new.ci_high))
                old_zero = int(np.sum(old_high - old_low <= 0))
                new_zero = int(np.sum(new.ci_high - new.ci_low <= 0))
                nothing = int(np.sum(scores.max(axis=0) == 0))
                methods = ", ".join(f"{m} {c}" for m, c in zip(*np.unique(new.method, return_counts=True)))
                print(f"{problems:>8} {benchmark:>6} {k:>3} {truth:>7.4f} {nothing:>7} | {old_cover:>9.1%} "
                      f"{old_zero:>6} {np.mean(old_high - old_low):>7.4f} | {new_cover:>9.1%} {new_zero:>6} "
                      f"{np.mean(new.ci_high - new.ci_low):>7.4f}  {methods}")
                worst_old, worst_new = min(worst_old, old_cover), min(worst_new, new_cover)
                zero_new += new_zero
    print(f"worst cell: old {worst_old:.1%}, new {worst_new:.1%} (target >= {TARGET:.0%}); "
          f"zero-width intervals (new): {zero_new}; nothing = benchmarks where no problem is solved")
    print(f"{time.process_time() - started:.1f} s of CPU")
    if worst_new < TARGET or zero_new:
        raise SystemExit(1)


def check_samples_reading(args) -> None:
    """Coverage of `samples_ci`: the target is these problems' own mean true pass@k, mean of 1 - (1 - p)^k."""
    rng = np.random.default_rng(args.seed)
    n, datasets = args.samples, args.datasets
    print(f"samples reading: {datasets} simulated benchmarks a cell, {n} samples a problem, level {args.level}")
    print(f"{'problems':>8} {'bench':>6} {'k':>3} {'cover':>7} {'zero-w':>6} {'width':>7}")
    worst, zero = 1.0, 0
    for problems in PROBLEM_COUNTS:
        for benchmark in BENCHMARKS:
            rates = draw_rates(benchmark, (problems, datasets), rng)
            correct = rng.binomial(n, rates)
            hits = np.zeros(len(KS))
            widths = np.zeros(len(KS))
            zeros = np.zeros(len(KS), dtype=int)
            for d in range(datasets):
                truth = (1.0 - (1.0 - rates[:, d, None]) ** np.array(KS)).mean(axis=0)
                _, low, high, _ = samples_ci(np.full(problems, n), correct[:, d], list(KS), level=args.level)
                hits += (low <= truth) & (truth <= high)
                widths += high - low
                zeros += high - low <= 0
            for j, k in enumerate(KS):
                print(f"{problems:>8} {benchmark:>6} {k:>3} {hits[j] / datasets:>7.1%} {zeros[j]:>6} "
                      f"{widths[j] / datasets:>7.4f}")
            worst, zero = min(worst, float(np.min(hits / datasets))), zero + int(zeros.sum())
    print(f"worst cell: {worst:.1%}; zero-width intervals: {zero}")


if __name__ == "__main__":
    main()
