"""How fast are the metrics? pass@k and exact n@k for every k up to 10,000.

The target of issue 4: 1,000 problems with 10,000 samples each, every k
from 1 to 10,000, in under a second. Pools are random (seeded); what is
timed is the call, best of `--repeat` runs.

    .venv/bin/python bench/metrics.py [--problems 1000] [--samples 10000] [--ns 1,10]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from acodium.metrics import n_at_k_filtered, n_at_k_sampled, pass_at_k
from acodium.policies import clustered_policy


def best_of(repeat: int, fn) -> tuple[str, object]:
    """Best wall and CPU seconds of `repeat` calls (CPU time shows the cost on a busy machine)."""
    wall, cpu, result = float("inf"), float("inf"), None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return f"{wall:.3f} s wall, {cpu:.3f} s CPU", result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--ns", default="1,10", help="submission budgets for the exact n@k")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sampled_problems", type=int, default=20,
                        help="problems for the subsampled (clustered) n@k, which costs per draw")
    parser.add_argument("--trials", type=int, default=1000)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    samples = np.full(args.problems, args.samples)
    # Solve rates spread over orders of magnitude, as on real problem sets.
    rate = 10.0 ** rng.uniform(-4, 0, args.problems) * (rng.random(args.problems) < 0.7)
    passing = rng.binomial(samples, np.minimum(1.0, rate * 3))
    passing_correct = rng.binomial(passing, rate / np.maximum(np.minimum(1.0, rate * 3), 1e-12))
    correct = passing_correct + rng.binomial(samples - passing, rate / 10)
    ks = np.arange(1, args.samples + 1)
    ns = [int(x) for x in args.ns.split(",") if x]

    seconds, values = best_of(args.repeat, lambda: pass_at_k(samples, correct, ks))
    print(f"pass@k   {args.problems} problems x {ks.size} ks ({args.samples} samples each): "
          f"{seconds}  (mean pass@1 {values[:, 0].mean():.4f}, pass@{ks[-1]} {values[:, -1].mean():.4f})")
    for n in ns:
        seconds, values = best_of(args.repeat, lambda: n_at_k_filtered(samples, passing, passing_correct, n, ks))
        print(f"{n}@k exact {args.problems} problems x {ks.size} ks: {seconds}  "
              f"(mean {n}@{ks[-1]} {values[:, -1].mean():.4f})")

    # Subsampling: a pool of 1,000 candidates per problem in 50 behavioural clusters.
    pool, problems = 1000, args.sampled_problems
    judgements = pd.DataFrame({
        "problem": np.repeat([f"p{i}" for i in range(problems)], pool),
        "passes_public": rng.random(problems * pool) < 0.3,
        "correct": rng.random(problems * pool) < 0.05,
        "cluster": rng.integers(0, 50, problems * pool),
    })
    sampled_ks = [1, 10, 100, 1000]
    seconds, (_, values) = best_of(1, lambda: n_at_k_sampled(
        judgements, clustered_policy, [1, 10], sampled_ks, trials=args.trials, seed=args.seed))
    print(f"clustered n@k by subsampling, {problems} problems x {pool} samples, k in {sampled_ks}, "
          f"n in [1, 10], {args.trials} draws each: {seconds}  (mean 10@1000 {values[:, 1, -1].mean():.4f})")


if __name__ == "__main__":
    main()
