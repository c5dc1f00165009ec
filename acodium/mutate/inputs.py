"""Test-input mutation (AlphaCode, section 3.2.1): new inputs from a problem's own, shape kept.

Small edits of an input (an integer plus or minus one, doubled, halved, set to
a bound seen; two values of a row of distinct integers swapped; a bit of a
binary string flipped; two characters of a string swapped or one changed)
replace one token by another of the same kind, so the line and token
structure never changes (`shape`). A count is never edited, so counts stay
consistent with the lists they count (edit both or neither: here, neither).

An edge list (lines `u v` or `u v w` whose endpoints lie in 1..V, V a size
given before it) gets two vertex labels swapped throughout instead of
endpoint edits: a tree stays a tree, and no loop or repeated edge appears.
Other integers stay within the range their column takes in their run of
equally long lines (the same position of short lines, such as one test
case's edge weights, or a whole long row), else within their line's, so a
1-based index does not become 0; only an input of a single value borrows
its range from the problem's other tests (their sizes differ, so their
indices may not exist here). `widen` lifts that to the smallest and largest
integer seen. Floats are left alone.
"""

from __future__ import annotations

import random
from typing import Sequence

from .shape import _column, _integer, _ranges, _runs, _structural, _Token, _tokenize


def _mutate_token(tok: _Token, lo: int, hi: int, alphabet: str, rng: random.Random) -> str:
    text = tok.text
    if tok.kind == "bit":
        return "1" if text == "0" else "0"
    if tok.kind == "binary":
        i = rng.randrange(len(text))
        return text[:i] + ("1" if text[i] == "0" else "0") + text[i + 1:]
    if tok.kind == "int":
        v = int(text)
        options = {v + 1, v - 1, 2 * v, v // 2, 0, 1, lo, hi}
        options = sorted(o for o in options if lo <= o <= hi and o != v)
        return str(rng.choice(options)) if options else text
    # string: swap two characters, or change one to another character of the input's alphabet
    if len(text) >= 2 and len(set(text)) >= 2 and rng.random() < 0.5:
        while True:
            i, j = rng.sample(range(len(text)), 2)
            if text[i] != text[j]:
                break
        chars = list(text)
        chars[i], chars[j] = chars[j], chars[i]
        return "".join(chars)
    i = rng.randrange(len(text))
    others = [c for c in alphabet if c != text[i]]
    if not others:
        return text
    return text[:i] + rng.choice(others) + text[i + 1:]


def _range(own: list[int], line: list[_Token], problem: list[int]) -> tuple[int, int] | None:
    """The range an integer may take: the values of its column in its run of lines, else of its
    line, else `problem` (the column in the problem's other tests); None when none holds two values.

    Runs first: in an input of several test cases, another case's vertices may not exist in this one.
    """
    values = [int(t.text) for t in line if t.kind == "int"]
    for seen in (own, values, problem):
        if seen and min(seen) < max(seen):
            return min(seen), max(seen)
    return None


def _edge_runs(lines: list[list[_Token]], keep: set[int]) -> list[tuple[list[list[_Token]], int]]:
    """Runs of lines `u v` or `u v w` whose endpoints are vertices 1..V, V a size on an earlier line.

    V is the smallest integer on the nearest earlier line that is at least every endpoint.
    """
    runs = _runs(lines)
    out = []
    for r in sorted(set(runs)):
        members = [lines[n] for n, x in enumerate(runs) if x == r]
        first = runs.index(r)
        if first == 0 or len(members[0]) not in (2, 3):
            continue
        ends = [t for line in members for t in line[:2]]
        if not all(t.kind == "int" and int(t.text) >= 1 for t in ends):
            continue
        top = max(int(t.text) for t in ends)
        for earlier in reversed(lines[:first]):
            sizes = [v for t in earlier if (v := _integer(t)) is not None and v >= top]
            if sizes:
                out.append((members, min(sizes)))
                break
    return out


def _relabel(pieces: list[str], members: list[list[_Token]], vertices: int, keep: set[int],
             rng: random.Random) -> bool:
    """Swap two vertex labels throughout an edge list: the same graph, relabelled.

    A tree stays a tree, and no loop or repeated edge appears. Pairs all given
    as u <= v stay so. Labels held by a count are left alone. False when no swap is possible.
    """
    ends = [t for line in members for t in line[:2]]
    fixed = {t.text for t in ends if t.index in keep}
    used = sorted({t.text for t in ends} - fixed)
    if not used:
        return False
    a = rng.choice(used)
    for _ in range(20):  # V may be large: draw rather than list
        b = str(rng.randint(1, vertices))
        if b != a and b not in fixed:
            break
    else:
        return False
    swap = {a: b, b: a}
    ordered = all(int(line[0].text) <= int(line[1].text) for line in members)
    new = []
    for line in members:
        u, v = (swap.get(pieces[t.index], pieces[t.index]) for t in line[:2])
        if ordered and int(u) > int(v):
            if line[0].index in keep or line[1].index in keep:
                return False  # reordering would move a count
            u, v = v, u
        new.append((line, u, v))
    for line, u, v in new:
        pieces[line[0].index], pieces[line[1].index] = u, v
    return True


def mutate_input(
    text: str,
    rng: random.Random,
    max_edits: int = 3,
    *,
    ranges: dict[tuple, list[int]] | None = None,
    widen: bool = False,
) -> str:
    """One mutated copy of an input: 1..max_edits token edits, shape kept (see module doc).

    An integer moves within the values its column takes in its run of equally
    long lines (one test case's edges, say), else within its line's values,
    else (an input holding one value) within the values of `ranges`, the
    columns of the problem's other tests, so a 1-based index stays one and an
    edge stays between vertices that exist;
    `widen` allows anything between the smallest and largest integer of the
    input and `ranges`. A row of distinct integers (a permutation, a set) has
    two of its values swapped rather than one changed; an edge list (`u v`
    lines whose endpoints lie in 1..V, V a size given before it) has two
    vertex labels swapped throughout rather than one endpoint changed.
    Returns the input unchanged when nothing may be edited.
    """
    pieces, tokens, lines = _tokenize(text)
    keep = _structural(lines)
    own = _ranges(lines, by_run=True)
    runs = _runs(lines)
    ints = [int(t.text) for t in tokens if t.kind in ("int", "bit")]
    ints += [v for values in (ranges or {}).values() for v in values]
    wide = (min(ints, default=0), max(ints, default=1))
    swaps: dict[int, list[_Token]] = {}  # an integer of a long row of distinct values: swap partners
    bounds: dict[int, tuple[int, int] | None] = {}
    for line in lines:
        row = [t for t in line if t.kind == "int" and t.index not in keep]
        distinct = len(line) > 3 and len(row) >= 2 and len({t.text for t in row}) == len(row)
        for pos, tok in enumerate(line):
            if tok.kind == "int" and distinct:
                swaps[tok.index] = [t for t in row if t is not tok]
            elif tok.kind == "int":
                key = _column(line, pos)
                problem = (ranges or {}).get(key, []) if len(tokens) == 1 else []
                bounds[tok.index] = wide if widen else _range(own.get((runs[tok.line],) + key, []), line, problem)
    # Endpoints of an edge list are only relabelled (a value edit would break a tree or add a loop).
    edges = _edge_runs(lines, keep)
    endpoint = {t.index for members, _ in edges for line in members for t in line[:2]}
    # an integer no two values seen bound (nor a row to swap within) stays as it is
    editable: list = [t for t in tokens if t.kind != "float" and t.index not in keep and t.index not in endpoint
                      and (t.kind != "int" or t.index in swaps or bounds.get(t.index) is not None)]
    editable += edges
    if not editable:
        return text
    alphabet = "".join(sorted({c for t in tokens if t.kind == "string" for c in t.text}))
    edits = rng.randint(1, min(max_edits, len(editable)))
    for tok in rng.sample(editable, edits):
        if isinstance(tok, tuple):
            _relabel(pieces, tok[0], tok[1], keep, rng)
            continue
        if tok.index in swaps:
            other = rng.choice(swaps[tok.index])
            pieces[tok.index], pieces[other.index] = pieces[other.index], pieces[tok.index]
            continue
        lo, hi = bounds.get(tok.index) or wide
        pieces[tok.index] = _mutate_token(tok, lo, hi, alphabet, rng)
    return "".join(pieces)



def mutate_inputs(
    inputs: Sequence[str],
    count: int,
    seed: int = 0,
    max_edits: int = 3,
    *,
    context: Sequence[str] = (),
    widen: bool = False,
) -> list[str]:
    """Up to `count` distinct mutated inputs, none equal to an original; the same for the same seed.

    Bases are taken round-robin from `inputs`; they and `context` (other
    inputs of the same problem) give values their ranges (`mutate_input`).
    Fewer than `count` come back when the inputs offer too few distinct edits.
    """
    if count <= 0 or not inputs:
        return []
    rng = random.Random(seed)
    ranges: dict[tuple, list[int]] = {}
    for text in list(inputs) + list(context):
        _, _, lines = _tokenize(text)
        for key, values in _ranges(lines).items():
            ranges.setdefault(key, []).extend(values)
    originals = set(inputs) | set(context)
    out: list[str] = []
    seen: set[str] = set()
    for attempt in range(count * 20):
        mutated = mutate_input(inputs[attempt % len(inputs)], rng, max_edits, ranges=ranges, widen=widen)
        if mutated in originals or mutated in seen:
            continue
        seen.add(mutated)
        out.append(mutated)
        if len(out) == count:
            break
    return out
