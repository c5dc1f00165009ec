"""An AlphaCode-shaped pool of samples for one problem, for bench/scale.py.

The problem is the starter problem "Divisible Pair Sums" (acodium/starter/03_pair_sums:
2 public tests, 9 private ones, the largest 2 * 10^4 numbers), with inputs mutated
from its public tests as clustering inputs. The samples are Python 3 programs in
the proportions of a problem a model solves now and then (AlphaCode, section 4.5:
most samples fail the examples), each textually distinct:

- correct: the two accepted approaches, written in a few ways;
- wrong, passing the public tests: the classic slips that the examples miss (the
  k/2 residue forgotten, pairs counted twice for r = 0, ...), each a behaviour of
  its own on the clustering inputs;
- wrong, failing the public tests: answers off by a formula;
- crashes: a syntax error, an exception at the first line, reading past the input.

Every sample gets a comment and a variable name of its own, so that no two are
the same text (identical programs would be run once and say nothing of scale).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Iterator

PROBLEM_DIR = "03_pair_sums"

# Shares of each kind (they sum to 1).
SHARES = {"correct": 0.04, "wrong_passing_public": 0.06, "wrong_failing_public": 0.65, "crash": 0.25}

READ = "n, k = map(int, input().split())\n{v} = list(map(int, input().split()))\n"

CORRECT = [
    # residues counted, pairs formed per residue class
    READ + "from collections import Counter\ncount = Counter(x % k for x in {v})\npairs = 0\n"
    "for r, c in count.items():\n    s = (k - r) % k\n    if r == s:\n        pairs += c * (c - 1) // 2\n"
    "    elif r < s:\n        pairs += c * count.get(s, 0)\nprint(pairs)\n",
    # one pass: each number pairs with the earlier ones of the complementary residue
    READ + "seen = {{}}\npairs = 0\nfor x in {v}:\n    r = x % k\n    pairs += seen.get((k - r) % k, 0)\n"
    "    seen[r] = seen.get(r, 0) + 1\nprint(pairs)\n",
    "import sys\ndata = sys.stdin.buffer.read().split()\nn, k = int(data[0]), int(data[1])\n"
    "{v} = [int(x) % k for x in data[2:2 + n]]\nfrom collections import Counter\nseen = Counter()\ntotal = 0\n"
    "for r in {v}:\n    total += seen[(k - r) % k]\n    seen[r] += 1\nprint(total)\n",
]

WRONG_PASSING_PUBLIC = [
    # forgets that residue k/2 pairs with itself when k is even
    READ + "from collections import Counter\ncount = Counter(x % k for x in {v})\n"
    "pairs = count[0] * (count[0] - 1) // 2\nfor r, c in count.items():\n"
    "    if 0 < r < k - r:\n        pairs += c * count.get(k - r, 0)\nprint(pairs)\n",
    # pairs an element with itself for residue 0
    READ + "from collections import Counter\ncount = Counter(x % k for x in {v})\npairs = 0\n"
    "for r, c in count.items():\n    s = (k - r) % k\n    if r == s:\n        pairs += c * (c - 1) // 2 + (r == 0 and c > 2)\n"
    "    elif r < s:\n        pairs += c * count.get(s, 0)\nprint(pairs)\n",
    # answers modulo 10^9 + 7, which the statement never asks for
    READ + "seen = {{}}\npairs = 0\nfor x in {v}:\n    r = x % k\n    pairs += seen.get((k - r) % k, 0)\n"
    "    seen[r] = seen.get(r, 0) + 1\nprint(pairs % 1000007)\n",
    # an array indexed by residue: fine for the examples' small k, out of memory for k = 10^9
    READ + "cnt = [0] * k\npairs = 0\nfor x in {v}:\n    r = x % k\n    pairs += cnt[(k - r) % k]\n"
    "    cnt[r] += 1\nprint(pairs)\n",
    # ignores numbers beyond the first thousand
    READ + "seen = {{}}\npairs = 0\nfor x in {v}[:1000]:\n    r = x % k\n    pairs += seen.get((k - r) % k, 0)\n"
    "    seen[r] = seen.get(r, 0) + 1\nprint(pairs)\n",
]

WRONG_FAILING_PUBLIC = [
    READ + "print(n * (n - 1) // 2)\n",
    READ + "print(sum(1 for x in {v} if x % k == 0))\n",
    READ + "from collections import Counter\ncount = Counter(x % k for x in {v})\n"
    "print(sum(c * c for c in count.values()))\n",
    READ + "print(len({v}) // 2)\n",
    READ + "pairs = 0\nfor i in range(len({v}) - 1):\n    pairs += ({v}[i] + {v}[i + 1]) % k == 0\nprint(pairs)\n",
    READ + "print(sum({v}) % k)\n",
    READ + "print(0)\n",
    READ + "seen = {{}}\npairs = 0\nfor x in {v}:\n    r = x % k\n    pairs += seen.get(r, 0)\n"
    "    seen[r] = seen.get(r, 0) + 1\nprint(pairs)\n",
]

CRASH = [
    READ + "print(pairs)\n",  # NameError
    READ + "print({v}[n])\n",  # IndexError
    READ + "extra = input()\nprint(0)\n",  # EOFError: reads past the input
    READ + "print(sum({v}) // (k - k))\n",  # ZeroDivisionError
    "n, k = map(int, input().split()\nprint(n)\n",  # SyntaxError
    READ + "print(int('{v}'))\n",  # ValueError
]

TEMPLATES = {"correct": CORRECT, "wrong_passing_public": WRONG_PASSING_PUBLIC,
             "wrong_failing_public": WRONG_FAILING_PUBLIC, "crash": CRASH}
NAMES = ("a", "arr", "nums", "values", "xs", "items", "data_list", "seq", "numbers", "lst")


def problem_row() -> dict:
    """The problem's row (the deepmind/code_contests schema), as `load_problems("starter")` makes it."""
    from acodium.data import load_problems

    rows = [r for r in load_problems("starter") if r["name"] == "acodium_C. Divisible Pair Sums"]
    if len(rows) != 1:
        raise SystemExit("bench/scale_pool.py: the starter problem 03_pair_sums is missing.")
    return dict(rows[0])


def with_clustering_inputs(row: dict, count: int, seed: int = 0) -> dict:
    """The row with `count` inputs mutated from its public tests (`mutated_tests`), run under the local backend."""
    from acodium.execute import Execution
    from acodium.mutate import add_mutated_tests

    return add_mutated_tests([row], count, seed=seed, execution=Execution(workers=2), progress=False)[0]


def kinds(n: int, seed: int) -> list[str]:
    """The kind of each of n samples: counts by SHARES (the remainder to the largest), in a seeded order."""
    counts = {kind: int(n * share) for kind, share in SHARES.items()}
    counts["wrong_failing_public"] += n - sum(counts.values())
    out = [kind for kind, c in counts.items() for _ in range(c)]
    random.Random(seed).shuffle(out)
    return out


def samples(problem: str, n: int, seed: int = 0) -> Iterator[dict]:
    """n candidates (problem, candidate_id, language, code, source, kind), each textually distinct."""
    rng = random.Random(seed + 1)
    for i, kind in enumerate(kinds(n, seed)):
        template = rng.choice(TEMPLATES[kind])
        name = f"{rng.choice(NAMES)}_{i}"
        code = f"# sample {i}\n" + template.format(v=name)
        yield {"problem": problem, "candidate_id": f"s{i}", "language": "python3", "code": code,
               "source": "file", "kind": kind}


def write_pool(path: Path, problem: str, n: int, seed: int = 0) -> Path:
    """The pool as JSONL (what `--source file --candidates_file` reads), written line by line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for row in samples(problem, n, seed):
            fh.write(json.dumps(row) + "\n")
    return path


def write_problem(path: Path, row: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    return path
