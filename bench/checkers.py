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

    .venv/bin/python bench/checkers.py [--rounds 5] [--max_pairs 20000]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max_pairs", type=int, default=20000, help="Pairs per kind, at most.")
    parser.add_argument("--data", type=Path, default=None, help="A CodeContests JSONL [default: the train sample].")
    args = parser.parse_args()
    path = args.data or SHARED / "code_contests_train_sample.jsonl"
    kinds = pairs_of(sample_outputs(path), args.max_pairs)
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


if __name__ == "__main__":
    main()
