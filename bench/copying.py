"""Speed and size of the copying analysis' suffix automaton on the real solutions of the shared sample.

`acodium.analyses.copying` indexes a corpus of human solutions once and matches
each correct sample in time linear in the sample. This measures both on the
sample's accepted solutions (230 problems, one Python 3 solution each): the
automaton is built on all but the last `--held_out` solutions, which are then
matched against it (each shares at least its imports with the corpus); the
build's memory is traced (tracemalloc). Prints characters per second for both,
states and bytes per corpus character, and checks the first few matches
against the quadratic dynamic programme (`brute_force_lcs`) on a prefix of the
corpus.

    .venv/bin/python bench/copying.py [--held_out 30] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import tracemalloc
from pathlib import Path

from acodium.analyses import SuffixAutomaton, brute_force_lcs

SAMPLE = Path(os.environ.get("ACODIUM_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
TRAIN = SAMPLE / "code_contests_train_sample.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--held_out", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    docs = [s for line in TRAIN.open() for s in json.loads(line)["solutions"]["solution"]]
    corpus, queries = docs[:-args.held_out], docs[-args.held_out:]
    chars, query_chars = sum(map(len, corpus)), sum(map(len, queries))
    build, match = [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        automaton = SuffixAutomaton(corpus)
        build.append(time.perf_counter() - start)
        start = time.perf_counter()
        lengths = [automaton.longest_common_substring(q).length for q in queries]
        match.append(time.perf_counter() - start)
    tracemalloc.start()
    traced = SuffixAutomaton(corpus)  # kept alive while its memory is read
    memory = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del traced
    print(f"corpus: {len(corpus)} solutions, {chars:,} characters; {automaton.states:,} states "
          f"({automaton.states / chars:.2f} per character), {memory / chars:.0f} bytes per character")
    print(f"build:  {min(build):.2f} s, {chars / min(build) / 1e3:.0f}K characters/s (best of {args.rounds})")
    print(f"match:  {len(queries)} samples, {query_chars:,} characters in {min(match) * 1e3:.1f} ms, "
          f"{query_chars / min(match) / 1e6:.2f}M characters/s; longest common substrings: median "
          f"{sorted(lengths)[len(lengths) // 2]}, max {max(lengths)}")
    small = SuffixAutomaton(corpus[:5])
    start = time.perf_counter()
    for q in queries[:3]:
        assert small.longest_common_substring(q).length == brute_force_lcs(q, corpus[:5])
    print(f"check:  3 samples against 5 solutions agree with the dynamic programme "
          f"({time.perf_counter() - start:.2f} s for it)")


if __name__ == "__main__":
    main()
