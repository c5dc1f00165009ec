"""Test-input mutation (acodium.mutate.inputs), on the real CodeContests sample."""

from __future__ import annotations

import random
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from acodium.mutate import mutate_input, mutate_inputs


def _shape(text: str) -> list[int]:
    return [len(line.split()) for line in text.splitlines() if line.strip()]


def test_mutated_inputs_keep_shape_and_first_line_on_real_inputs(train_rows):
    changed = 0
    for row in train_rows[:80]:
        base = row["public_tests"]["input"][0]
        for mutated in mutate_inputs([base], 5, seed=7):
            assert mutated != base
            # whitespace is kept byte for byte: only token texts may differ
            assert re.split(r"\S+", mutated) == re.split(r"\S+", base)
            if len(base.splitlines()) > 1:  # sizes on the first line are never edited
                firsts = zip(mutated.splitlines()[0].split(), base.splitlines()[0].split())
                assert all(a == b for a, b in firsts if re.fullmatch(r"-?\d+", b))
            changed += 1
    assert changed > 200


def test_mutate_inputs_is_deterministic_distinct_and_bounded(train_rows):
    inputs = train_rows[0]["public_tests"]["input"]
    a = mutate_inputs(inputs, 10, seed=3)
    assert a == mutate_inputs(inputs, 10, seed=3)
    assert a != mutate_inputs(inputs, 10, seed=4)
    assert len(a) == 10 and len(set(a)) == 10
    assert not set(a) & set(inputs)
    assert mutate_inputs(inputs, 0, seed=3) == []
    assert mutate_inputs([], 5, seed=3) == []


def test_integers_stay_within_the_range_seen():
    rng = random.Random(0)
    text = "3\n5 9 7\n"
    for _ in range(200):
        out = mutate_input(text, rng)
        first, rest = out.split("\n", 1)
        assert first == "3"  # the size of the next line is never edited
        values = [int(v) for v in rest.split()]
        assert len(values) == 3 and all(3 <= v <= 9 for v in values)


def test_binary_strings_flip_bits_and_strings_keep_their_alphabet():
    rng = random.Random(1)
    seen_flip = seen_swap = False
    for _ in range(300):
        out = mutate_input("2\n0110\nabba\n", rng)
        lines = out.split("\n")
        assert lines[0] == "2"
        assert len(lines[1]) == 4 and set(lines[1]) <= {"0", "1"}
        assert len(lines[2]) == 4 and set(lines[2]) <= {"a", "b"}
        seen_flip |= lines[1] != "0110"
        seen_swap |= lines[2] != "abba"
    assert seen_flip and seen_swap


def test_bit_arrays_are_flipped_not_incremented():
    rng = random.Random(2)
    for _ in range(100):
        out = mutate_input("3\n0 1 0\n", rng)
        assert set(out.split("\n")[1].split()) <= {"0", "1"}


def test_input_without_editable_tokens_is_unchanged():
    assert mutate_input("1.5 2.25\n", random.Random(0)) == "1.5 2.25\n"
    assert mutate_inputs(["1.5 2.25\n"], 3, seed=0) == []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(-50, 10**6), min_size=1, max_size=6), min_size=1, max_size=6),
    st.integers(0, 10**6),
)
def test_mutation_keeps_line_and_token_structure(rows, seed):
    text = "\n".join(" ".join(map(str, r)) for r in rows) + "\n"
    out = mutate_input(text, random.Random(seed))
    assert _shape(out) == _shape(text)
    assert all(re.fullmatch(r"-?\d+", tok) for tok in out.split())


def test_a_tree_stays_a_tree():
    # n = 5 counts n - 1 = 4 edges; endpoints are relabelled (two labels swapped throughout),
    # never edited one by one: no loop, no repeated edge, still connected; weights move in range
    rng = random.Random(4)
    seen = set()
    for _ in range(200):
        out = mutate_input("5\n1 2 7\n2 3 4\n3 4 9\n2 5 1\n", rng)
        lines = [line.split() for line in out.splitlines()]
        assert lines[0] == ["5"] and len(lines) == 5
        edges = [(int(u), int(v)) for u, v, _ in lines[1:]]
        assert all(1 <= u <= 5 and 1 <= v <= 5 and u != v for u, v in edges)
        assert len({frozenset(e) for e in edges}) == 4
        reached, frontier = {1}, [1]
        while frontier:
            x = frontier.pop()
            for u, v in edges:
                for a, b in ((u, v), (v, u)):
                    if a == x and b not in reached:
                        reached.add(b)
                        frontier.append(b)
        assert reached == {1, 2, 3, 4, 5}
        assert all(1 <= int(w) <= 9 for _, _, w in lines[1:])
        seen.add(out)
    assert len(seen) > 10


def test_a_trailing_zero_may_count_absent_lines():
    # `n m k` with m = 0 following lines: m is never edited
    rng = random.Random(5)
    for _ in range(100):
        assert mutate_input("3 0 100\n", rng).split()[1] == "0"


def test_a_single_value_borrows_its_range_from_the_other_tests():
    out = set(mutate_inputs(["7"], 10, seed=1, context=["3", "12"]))
    assert out and all(3 <= int(v) <= 12 for v in out)
    assert mutate_inputs(["7"], 5, seed=1) == []  # nothing says where 7 may go


def test_widen_allows_the_whole_range_seen():
    rng = random.Random(6)
    outs = {mutate_input("3\n5 9 7\n", rng, widen=True, ranges={(3, 2): [20]}) for _ in range(300)}
    assert any(int(v) > 9 for out in outs for v in out.split()[1:])
    assert all(5 <= int(v) <= 9 for _ in range(100) for v in mutate_input("3\n5 9 7\n", rng).split()[1:])


def test_a_permutation_stays_a_permutation():
    rng = random.Random(7)
    outs = {mutate_input("5\n3 1 4 5 2\n", rng) for _ in range(100)}
    assert len(outs) > 10
    for out in outs:
        first, row = out.split("\n")[:2]
        assert first == "5" and sorted(row.split()) == ["1", "2", "3", "4", "5"]  # two values swapped


def test_an_edge_list_is_relabelled_by_one_swap_of_two_vertices():
    original = [(1, 2), (1, 3), (3, 4)]
    rng = random.Random(8)
    for _ in range(100):
        out = mutate_input("4\n1 2\n1 3\n3 4\n", rng)
        lines = out.splitlines()
        assert lines[0] == "4"
        edges = [tuple(map(int, line.split())) for line in lines[1:]]
        assert all(u < v for u, v in edges)  # pairs given as u <= v stay so
        # some swap a <-> b of labels maps the original edge set onto this one
        assert any({tuple(sorted({a: b, b: a}.get(x, x) for x in e)) for e in original} == set(edges)
                   for a in range(1, 5) for b in range(1, 5))


def test_at_most_max_edits_tokens_change():
    text = "2 3\n10 20 30\n40 50 60\n"
    rng = random.Random(9)
    for max_edits in (1, 2):
        for _ in range(100):
            out = mutate_input(text, rng, max_edits=max_edits)
            changed = sum(a != b for a, b in zip(text.split(), out.split()))
            assert 1 <= changed <= max_edits


def test_mutated_inputs_avoid_every_known_input_and_use_every_base():
    out = mutate_inputs(["1 5", "7 3"], 6, seed=0, max_edits=1, context=["2 2", "1 4"])
    assert len(out) == 6 and not set(out) & {"1 5", "7 3", "2 2", "1 4"}
    # one edit each: every output keeps one token of its base, and both bases serve
    bases = [{b for b in ("1 5", "7 3") if any(x == y for x, y in zip(o.split(), b.split()))} for o in out]
    assert all(bases) and set().union(*bases) == {"1 5", "7 3"}
