"""Throughput of the built-in checkers against `tokens`, on the real outputs of the shared sample.

Issue 16 asks that a built-in checker judge within 10% of the token compare's
speed. The pairs are the sample's stored outputs (every test of every
problem, public, private and generated) in three kinds, as judging meets them:

  same       the output as stored (a right answer printed the same way)
  spacing    the output with a trailing newline added or removed and its last
             line ending in a space (a right answer printed differently)
  wrong      another test's output of the same problem (a wrong answer)

Every checker judges every pair of a round, in one process, the checkers'
order rotating between rounds; the best of the rounds is kept. Prints
microseconds per pair and the ratio to `tokens` per kind and over all pairs
(and `check_output` alone, the compare `tokens` wraps with its message)
(the mix judging sees: mostly right answers when a model is good, mostly
wrong ones when not, so "all" weighs the three kinds equally).

Checker programs (`--programs`, on by default): what judging by a program costs per
test beside the built-ins, measured side by side in one process on the local backend
(one sandbox worker, caches off): one echo candidate runs on N of the sample's stored
outputs (each its own expected output) judged by `tokens`, by `float_rel:1e-6`, and by
the same float rule as a C++ and as a Python checker program (tests/checkers/
float_rel_1e-6.cpp and .py, testlib's protocol). Each judge's batch follows a one-test
run that loads it (for C++: compiles it, reported apart), the judges' order rotates
between rounds, the best round is kept; prints ms per test and the cost a judge adds
per test over `tokens`.

    .venv/bin/python bench/checkers.py [--rounds 5] [--max_pairs 20000] [--program_tests 200]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from acodium.execute.check import check_output
from acodium.execute.checkers import parse_checker

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ACODIUM_SHARED_DATA", REPO.parent / "shared" / "data"))
FIXTURES = REPO / "tests" / "checkers"
# The judges of the program part: two built-ins, and the float rule as checker programs.
JUDGES = {"tokens": "tokens", "float_rel:1e-6": "float_rel:1e-6",
          "C++ program": FIXTURES / "float_rel_1e-6.cpp", "Python program": FIXTURES / "float_rel_1e-6.py"}
ECHO = "import sys\nsys.stdout.write(sys.stdin.read())\n"

BARE = "check_output"  # today's compare alone, no message: what `tokens` wraps
CHECKERS = [BARE, "tokens", "exact", "float_abs:1e-6", "float_rel:1e-6", "unordered_tokens", "unordered_lines", "yes_no"]


def sample_outputs(path: Path) -> list[list[str]]:
    """Each problem's stored outputs, all test sets."""
    problems = []
    with open(path) as fh:
        for line in fh:
            row = json.loads(line)
            outs = [o for s in ("public_tests", "private_tests", "generated_tests")
                    for o in (row.get(s) or {}).get("output") or []]
            if outs:
                problems.append(outs)
    return problems


def pairs_of(problems: list[list[str]], max_pairs: int) -> dict[str, list[tuple[str, str]]]:
    same, spacing, wrong = [], [], []
    for outs in problems:
        for i, out in enumerate(outs):
            same.append((out, out))
            varied = out[:-1] + " " if out.endswith("\n") else out + " \n"
            spacing.append((varied, out))
            wrong.append((outs[(i + 1) % len(outs)], out))
    return {"same": same[:max_pairs], "spacing": spacing[:max_pairs], "wrong": wrong[:max_pairs]}


def time_once(judge, pairs) -> float:
    start = time.perf_counter()
    for actual, expected in pairs:
        judge(actual, expected)
    return time.perf_counter() - start


def program_costs(outputs: list[str], rounds: int) -> dict[str, dict[str, float]]:
    """Seconds per test of the echo candidate under each of JUDGES (best of `rounds`), and the
    seconds of each judge's one-test loading run (its first: a C++ checker's compile)."""
    from acodium.execute import Job, Limits, Program, get_backend, run_batch

    backend = get_backend("local", workers=1)  # one worker: a judge loaded by the warm-up stays loaded
    echo, limits = Program("python3", ECHO), Limits(time_s=10.0)
    judges = {name: parse_checker(spec) for name, spec in JUDGES.items()}
    best = {name: float("inf") for name in judges}
    loading = {name: [] for name in judges}
    names = list(judges)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            start = time.perf_counter()
            run_batch([Job(echo, outputs[:1], outputs[:1], limits=limits, checker=judges[name])],
                      backend=backend, workers=1, progress=False)
            loading[name].append(time.perf_counter() - start)
            start = time.perf_counter()
            results = run_batch([Job(echo, outputs, outputs, limits=limits, checker=judges[name])],
                                backend=backend, workers=1, progress=False)[0]
            elapsed = time.perf_counter() - start
            if not all(x.passed for x in results):
                bad = next(x for x in results if not x.passed)
                raise SystemExit(f"{name} refused an output equal to its answer: {bad.status} {bad.checker_message}")
            best[name] = min(best[name], elapsed / len(outputs))
    return {name: {"per_test_s": best[name], "load_s": max(loading[name])} for name in judges}


def print_program_costs(costs: dict[str, dict[str, float]], tests: int, rounds: int) -> None:
    base = costs["tokens"]["per_test_s"]
    print(f"\nchecker programs: one echo candidate x {tests} tests on the local backend (1 worker, no cache), "
          f"best of {rounds} rounds")
    print(f"{'judge':18}{'ms/test':>10}{'added ms':>10}{'ratio':>8}{'load ms':>10}")
    for name, c in costs.items():
        print(f"{name:18}{c['per_test_s'] * 1e3:10.2f}{(c['per_test_s'] - base) * 1e3:10.2f}"
              f"{c['per_test_s'] / base:8.2f}{c['load_s'] * 1e3:10.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max_pairs", type=int, default=20000, help="Pairs per kind, at most.")
    parser.add_argument("--data", type=Path, default=None, help="A CodeContests JSONL [default: the train sample].")
    parser.add_argument("--program_tests", type=int, default=200,
                        help="Tests per judge in the checker-program part (0: skip it).")
    args = parser.parse_args()
    path = args.data or SHARED / "code_contests_train_sample.jsonl"
    problems = sample_outputs(path)
    kinds = pairs_of(problems, args.max_pairs)
    checkers = {spec: check_output if spec == BARE else parse_checker(spec).judge for spec in CHECKERS}
    best = {(spec, kind): float("inf") for spec in CHECKERS for kind in kinds}
    for r in range(args.rounds):
        order = CHECKERS[r % len(CHECKERS):] + CHECKERS[:r % len(CHECKERS)]
        for kind, pairs in kinds.items():
            for spec in order:
                best[spec, kind] = min(best[spec, kind], time_once(checkers[spec], pairs))
    sizes = {kind: len(pairs) for kind, pairs in kinds.items()}
    print(f"{path.name}: {', '.join(f'{n} {kind}' for kind, n in sizes.items())} pairs, best of {args.rounds} rounds")
    print(f"{'checker':18}" + "".join(f"{kind + ' us':>12}{'ratio':>7}" for kind in kinds) + f"{'all ratio':>11}")
    for spec in CHECKERS:
        line = f"{spec:18}"
        for kind in kinds:
            us = best[spec, kind] / sizes[kind] * 1e6
            line += f"{us:12.2f}{best[spec, kind] / best['tokens', kind]:7.2f}"
        total = sum(best[spec, k] / sizes[k] for k in kinds) / sum(best["tokens", k] / sizes[k] for k in kinds)
        print(line + f"{total:11.2f}")
    if args.program_tests:
        outputs = [out for outs in problems for out in outs][:args.program_tests]
        print_program_costs(program_costs(outputs, args.rounds), len(outputs), args.rounds)


if __name__ == "__main__":
    main()
