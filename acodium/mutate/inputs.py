"""Mutations: new test inputs from existing ones, and faulty variants of correct programs.

Two tools share this module because both make "near misses":

- **Test-input mutation** (AlphaCode, section 3.2.1): small edits of an input
  (an integer plus or minus one, doubled, halved, set to a bound seen; two
  values of a row of distinct integers swapped; a bit of a binary string
  flipped; two characters of a string swapped or one changed) that keep the
  input's shape, so the edited input still parses. Every mutated input may
  serve clustering, which needs no expected output; it becomes a test only
  where at least two reference solutions agree on its output
  (`add_mutated_tests`, `reference_tests`).
- **Program mutants** of a correct solution (`program_mutants`): one small
  edit of its syntax tree (an operator, a comparison, a constant, a loop
  bound). Mutants are plausible wrong candidates: they measure how many
  wrong programs a test suite lets through (see `acodium.evaluate.test_suite_strength`).

How an input keeps its shape. The input is split into lines and each line
into whitespace-separated tokens; edits replace one token by another of the
same kind, and whitespace is kept byte for byte, so the line and token
structure never changes. A count is never edited, so counts stay consistent
with the lists they count (edit both or neither: here, neither). What may be
a count (`_counts`): every integer of the first line when the input has
several lines (sizes, or the number of test cases); a positive integer v
equal to the number of tokens after it on its line (`4 3 9 2 7`), or where v
or v - 1 is the token count of a later line, the number of lines after it,
or the run of equally long lines that follows it (v - 1: a tree's edges, the
parents of vertices 2..v), or v is the length of a later line's single
token; a 0 on the last line (it may count absent lines). A coincidence
counts too, since nothing in the input tells them apart, except within a
run of equally long lines, where a real count of the run's own content is
the same on every line.

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
`structure_break` says whether a mutated input still parses the way its
original does; `bench/mutation_validity.py` measures it on the shared sample.
"""

from __future__ import annotations

import ast
import json
import random
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

_INT = re.compile(r"[+-]?\d+\Z")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+)\Z")
_BINARY = re.compile(r"[01]{2,}\Z")
_POWER_OF_TEN = re.compile(r"10*\Z")


# --------------------------------------------------------------------------- inputs


@dataclass
class _Token:
    line: int
    index: int  # position among the pieces of the whole text (tokens and whitespace)
    text: str
    kind: str  # "int", "binary", "bit", "string", "float"


def _tokenize(text: str) -> tuple[list[str], list[_Token], list[list[_Token]]]:
    """Pieces of the text (whitespace kept) and its tokens, grouped by line."""
    pieces = re.split(r"(\s+)", text)
    tokens: list[_Token] = []
    lines: list[list[_Token]] = [[]]
    for i, piece in enumerate(pieces):
        if not piece:
            continue
        if piece.isspace():
            for _ in range(piece.count("\n")):
                lines.append([])
            continue
        tok = _Token(len(lines) - 1, i, piece, _kind(piece))
        tokens.append(tok)
        lines[-1].append(tok)
    lines = [line for line in lines if line]
    for n, line in enumerate(lines):
        for tok in line:
            tok.line = n
        # A line of single 0/1 digits (of two or more) is a bit array: flip, never +-1.
        if len(line) >= 2 and all(t.text in ("0", "1") for t in line):
            for tok in line:
                tok.kind = "bit"
    return pieces, tokens, lines


def _kind(token: str) -> str:
    if _BINARY.match(token) and not _POWER_OF_TEN.match(token):
        return "binary"
    if _INT.match(token):
        return "int"
    if _FLOAT.match(token):
        return "float"
    return "string"


def _integer(tok: _Token) -> int | None:
    """The token's value if it reads as an integer ("11" may be a size or a bit string)."""
    if tok.kind in ("int", "bit") or (tok.kind == "binary" and tok.text[0] == "1"):
        return int(tok.text)
    return None


def _counts(lines: list[list[_Token]]) -> dict[int, list[tuple]]:
    """Integers that may count something, by piece index, with what each may count.

    A positive integer v may count: the tokens after it on its own line
    (`4 3 9 2 7`), the tokens of a later line, the characters of a later
    line's single token, the lines after it, or the run of equally long lines
    that follows it (or v - 1 of those tokens or lines: a tree's edges, the
    parents of vertices 2..v); a 0 on the last line may count absent lines.
    Coincidences count too: an integer that merely could be a size is
    treated as one, since nothing in the input tells them apart, except
    inside a run of equally long lines, where a count of what lies within
    the run would be the same on every line.
    """
    out: dict[int, list[tuple]] = {}
    for n, line in enumerate(lines):
        later = lines[n + 1:]
        run = 0
        for nxt in later:
            if len(nxt) != len(later[0]):
                break
            run += 1
        for pos, tok in enumerate(line):
            v = _integer(tok)
            if v is None or v < 0:
                continue
            found = []
            if v == 0:
                # `3 0 100` on the last line: 0 may count the lines (or tokens) that are absent
                if tok.kind == "int" and not later:
                    found.append(("lines", n))
            else:
                if v == len(line) - pos - 1:
                    found.append(("rest", n))
                if later and (v in (len(later), run) or v - 1 in (len(later), run)):
                    found.append(("lines", n))  # v - 1: a tree's edges
                for j, other in enumerate(later, start=n + 1):
                    if (v == len(other) or v - 1 == len(other)) and (j == n + 1 or v >= 2):
                        found.append(("tokens", j))  # v - 1: parents of vertices 2..v
                    if len(other) == 1 and v == len(other[0].text) and (j == n + 1 or v >= 2):
                        found.append(("chars", j))
            if found:
                out[tok.index] = found
    # Inside a run of equally long lines, a count of what lies within the run would take the
    # same value on every line (`k a1..ak` lines): a column that varies holds no count there.
    runs = _runs(lines)
    for n, line in enumerate(lines):
        same = [m for m, r in enumerate(runs) if r == runs[n]]
        if len(same) < 2:
            continue
        for pos, tok in enumerate(line):
            if tok.index not in out or len({lines[m][pos].text for m in same}) == 1:
                continue
            outside = [(kind, j) for kind, j in out[tok.index]
                       if kind in ("tokens", "chars") and j > same[-1] or kind == "lines" and n == same[-1]]
            if outside:
                out[tok.index] = outside
            else:
                del out[tok.index]
    return out


def _structural(lines: list[list[_Token]]) -> set[int]:
    """Piece indices of integers that probably give sizes or counts (never edited).

    Every integer of the first line of a multi-line input (sizes, or the
    number of test cases, which nothing else reveals) and every integer that
    may count something (`_counts`).
    """
    keep: set[int] = set(_counts(lines))
    if len(lines) > 1:
        keep.update(t.index for t in lines[0] if _integer(t) is not None)
    return keep


def _column(line: list[_Token], pos: int) -> tuple:
    """Which values share a range: a position of a short line (an edge `u v w`), or a long row."""
    return ("row",) if len(line) > 3 else (len(line), pos)


def _runs(lines: list[list[_Token]]) -> list[int]:
    """Per line, the id of its run of consecutive equally long lines (one test case's edges, say)."""
    ids, run = [], 0
    for n, line in enumerate(lines):
        if n and len(line) != len(lines[n - 1]):
            run += 1
        ids.append(run)
    return ids


def _ranges(lines: list[list[_Token]], by_run: bool = False) -> dict[tuple, list[int]]:
    """Values seen per column (`_column`, within each run of lines when `by_run`); sizes on the
    first line of a multi-line input left out."""
    seen: dict[tuple, list[int]] = {}
    runs = _runs(lines)
    for n, line in enumerate(lines):
        if n == 0 and len(lines) > 1:
            continue
        for pos, tok in enumerate(line):
            if tok.kind == "int":
                key = ((runs[n],) if by_run else ()) + _column(line, pos)
                seen.setdefault(key, []).append(int(tok.text))
    return seen


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


def _same_type(a: _Token, b: _Token) -> bool:
    """Whether `b` reads as the same type as `a`: an integer, a bit, a 0/1 string or a string of a's length."""
    if a.kind in ("int", "bit"):
        return bool(_INT.match(b.text)) and (a.kind == "int" or b.text in ("0", "1"))
    if a.kind == "float":
        return bool(_FLOAT.match(b.text) or _INT.match(b.text))
    if a.kind == "binary":
        return len(b.text) == len(a.text) and set(b.text) <= {"0", "1"}
    return len(b.text) == len(a.text) and _kind(b.text) == "string"


def structure_break(original: str, mutated: str) -> str | None:
    """Why `mutated` would not parse the way `original` does, or None when it would.

    Checks what a reader of the input relies on: the same lines with the same
    number of tokens, each token of the same type (integer, float, bit, 0/1
    string of the same length, other string of the same length), and every
    integer that may count something in the original (`_counts`: the tokens
    after it, a later line's tokens or characters, the lines after it) still
    counting it. Values within their stated bounds are not checked: the
    statement alone says what those are.
    """
    _, before, lines_before = _tokenize(original)
    _, after, lines_after = _tokenize(mutated)

    if len(lines_before) != len(lines_after):
        return "line count"
    if [len(line) for line in lines_before] != [len(line) for line in lines_after]:
        return "tokens per line"
    for a, b in zip(before, after):
        if a.text == b.text:
            continue
        if not _same_type(a, b):
            return "token type"
    counts = _counts(lines_before)
    if any(a.index in counts and a.text != b.text for a, b in zip(before, after)):
        return "count edited"
    return None


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


def _agreed(inputs: Sequence[str], runs: Sequence[Sequence], min_agreeing: int = 1) -> list[str | None]:
    """Per input, the output at least `min_agreeing` references agree on (every run OK), else None."""
    from .execute import check_output

    outputs: list[str | None] = []
    for i in range(len(inputs)):
        results = [r[i] for r in runs if len(r) > i]
        if len(results) < max(1, min_agreeing) or len(results) < len(runs) or any(
                r.status.value != "OK" for r in results):
            outputs.append(None)
            continue
        first = results[0].stdout
        outputs.append(first if all(check_output(r.stdout, first) for r in results[1:]) else None)
    return outputs


def reference_tests(
    inputs: Sequence[str],
    references: Sequence,
    *,
    min_agreeing: int = 2,
    limits=None,
    backend: str = "local",
    cache_dir=None,
    workers: int | None = None,
    progress: bool = False,
) -> list[tuple[str, str]]:
    """The (input, output) pairs on which at least `min_agreeing` reference programs run OK and agree.

    `references` are `acodium.execute.Program`s believed correct (a problem's
    human solutions); every one must run OK and agree. Agreement uses the
    tester's output check, so outputs that differ only in whitespace or
    float noise agree. One reference alone confirms nothing: its output on an
    input nobody checked may be wrong, or the input may break the statement's
    guarantees, hence the default of two.
    """
    from .execute import Job, Limits, run_batch

    if not inputs or not references:
        return []
    jobs = [Job(program=p, inputs=list(inputs), limits=limits or Limits()) for p in references]
    runs = run_batch(jobs, backend=backend, cache_dir=cache_dir, workers=workers, progress=progress)
    return [(text, out) for text, out in zip(inputs, _agreed(inputs, runs, min_agreeing)) if out is not None]


def add_mutated_tests(
    problems: Iterable[dict],
    count: int,
    seed: int = 0,
    *,
    from_sets: Sequence[str] = ("public",),
    languages: Sequence[str] = ("python3",),
    max_references: int | None = 5,
    min_agreeing: int = 2,
    filter_with_references: bool = False,
    widen: bool = False,
    time_limit_s: float | None = None,
    backend: str = "local",
    cache_dir=None,
    workers: int | None = None,
    progress: bool = True,
) -> list[dict]:
    """The problems with a `mutated_tests` field: up to `count` mutated inputs each.

    Inputs are mutated from the problem's `from_sets` tests (public by
    default: what a contestant sees; `widen` as in `mutate_input`). Every
    mutated input is kept, for clustering, which needs no expected output.
    An input becomes a test only where at least `min_agreeing` of the
    problem's correct solutions in `languages` (at most `max_references`)
    all run OK and agree: `output` holds their output and `output_confirmed`
    is True; elsewhere `output` is "" and `output_confirmed` False, and no
    verdict may use it (`acodium.evaluate.unconfirmed_mutated`).

    `filter_with_references` drops the inputs on which a reference fails or
    the references disagree (what this function did before issue 14). The
    references are the dataset's hidden knowledge, not what a contestant
    has, so it is off by default: n@k with clustering inputs filtered that way
    is not AlphaCode's n@k. All runs go to the executor as one batch.
    """
    import dataclasses

    from .execute import Job, Program, limits_for_problem, run_batch
    from .languages import LANGUAGE_IDS

    rows = [dict(p) for p in problems]
    plan = []  # per problem: (inputs, first job index, number of references)
    jobs = []
    for row in rows:
        inputs = [text for s in from_sets for text in (row.get(f"{s}_tests") or {}).get("input", [])]
        sub_seed = random.Random(f"{seed}|{row['name']}").randrange(2**32)
        mutated = mutate_inputs(inputs, count, sub_seed, widen=widen)
        sols = row.get("solutions") or {"language": [], "solution": []}
        refs = [
            Program(LANGUAGE_IDS.get(lang, lang), code)
            for lang, code in zip(sols["language"], sols["solution"])
            if LANGUAGE_IDS.get(lang, lang) in languages
        ][:max_references]
        start = len(jobs)
        if mutated:
            for program in refs:
                limits = limits_for_problem(row, program.language)
                if time_limit_s is not None:
                    limits = dataclasses.replace(limits, time_s=float(time_limit_s))
                jobs.append(Job(program=program, inputs=mutated, limits=limits))
        plan.append((mutated, start, len(jobs) - start))
    runs = run_batch(jobs, backend=backend, cache_dir=cache_dir, workers=workers, progress=progress) if jobs else []
    for row, (mutated, start, n) in zip(rows, plan):
        mine = runs[start:start + n]
        confirmed = _agreed(mutated, mine, min_agreeing) if n else [None] * len(mutated)
        if filter_with_references:
            clean = _agreed(mutated, mine, 1) if n else [None] * len(mutated)
            keep = [i for i, out in enumerate(clean) if out is not None]
        else:
            keep = list(range(len(mutated)))
        row["mutated_tests"] = {
            "input": [mutated[i] for i in keep],
            "output": [confirmed[i] if confirmed[i] is not None else "" for i in keep],
            "output_confirmed": [confirmed[i] is not None for i in keep],
        }
    return rows


# --------------------------------------------------------------------------- programs


@dataclass(frozen=True)
class Mutant:
    """A program that differs from its original by one small edit, described in words."""

    code: str
    description: str


_BINOP_SWAPS = {
    ast.Add: [ast.Sub], ast.Sub: [ast.Add], ast.Mult: [ast.FloorDiv, ast.Add],
    ast.FloorDiv: [ast.Mult, ast.Mod], ast.Div: [ast.Mult], ast.Mod: [ast.FloorDiv],
    ast.LShift: [ast.RShift], ast.RShift: [ast.LShift], ast.BitAnd: [ast.BitOr],
    ast.BitOr: [ast.BitAnd], ast.BitXor: [ast.BitOr], ast.Pow: [ast.Mult],
}
_CMP_SWAPS = {
    ast.Lt: [ast.LtE], ast.LtE: [ast.Lt], ast.Gt: [ast.GtE], ast.GtE: [ast.Gt],
    ast.Eq: [ast.NotEq], ast.NotEq: [ast.Eq],
}
_BOOL_SWAPS = {ast.And: [ast.Or], ast.Or: [ast.And]}
_SYMBOLS = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//", ast.Div: "/", ast.Mod: "%",
    ast.LShift: "<<", ast.RShift: ">>", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^",
    ast.Pow: "**", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
    ast.NotEq: "!=", ast.And: "and", ast.Or: "or",
}


def _sites(tree: ast.AST) -> list[tuple[int, str, object]]:
    """Every single edit the tree admits: (node position in ast.walk order, kind, argument)."""
    sites = []
    for pos, node in enumerate(ast.walk(tree)):
        if isinstance(node, (ast.BinOp, ast.AugAssign)):
            for new in _BINOP_SWAPS.get(type(node.op), []):
                sites.append((pos, "op", new))
        elif isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                for new in _CMP_SWAPS.get(type(op), []):
                    sites.append((pos, "cmp", (i, new)))
        elif isinstance(node, ast.BoolOp):
            for new in _BOOL_SWAPS.get(type(node.op), []):
                sites.append((pos, "bool", new))
        elif (isinstance(node, ast.Constant) and type(node.value) is int):
            sites.append((pos, "const", +1))
            sites.append((pos, "const", -1))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == "range" and 1 <= len(node.args) <= 3 and not node.keywords):
            stop = 0 if len(node.args) == 1 else 1
            sites.append((pos, "range", (stop, ast.Add)))
            sites.append((pos, "range", (stop, ast.Sub)))
    return sites


def _apply(nodes: list[ast.AST], site: tuple[int, str, object]):
    """Make one edit in place; return its description and a function that undoes it."""
    pos, kind, arg = site
    node = nodes[pos]
    line = getattr(node, "lineno", "?")
    if kind in ("op", "bool"):
        old = node.op
        node.op = arg()
        what = f"'{_SYMBOLS[type(old)]}' -> '{_SYMBOLS[arg]}'"

        def undo():
            node.op = old
    elif kind == "cmp":
        i, new = arg
        old = node.ops[i]
        node.ops[i] = new()
        what = f"'{_SYMBOLS[type(old)]}' -> '{_SYMBOLS[new]}'"

        def undo():
            node.ops[i] = old
    elif kind == "const":
        old = node.value
        node.value = old + arg
        what = f"constant {old} -> {old + arg}"

        def undo():
            node.value = old
    else:  # range bound
        i, op = arg
        old = node.args[i]
        node.args[i] = ast.BinOp(left=old, op=op(), right=ast.Constant(1))
        what = f"range bound {'+' if op is ast.Add else '-'} 1"

        def undo():
            node.args[i] = old
    return f"line {line}: {what}", undo


def program_mutants(code: str, count: int, seed: int = 0) -> list[Mutant]:
    """Up to `count` distinct single-edit mutants of a Python program; the same for the same seed.

    Edits: arithmetic operators (+ <-> -, * -> // or +, // -> * or %, ...),
    comparisons (< <-> <=, > <-> >=, == <-> !=), `and` <-> `or`, integer
    constants plus or minus one, and the stop of `range(...)` plus or minus
    one. Each mutant compiles and differs from the original (both compared
    as `ast.unparse` output, so formatting and comments of the original are
    not kept in the mutant). Code that does not parse as Python 3 (say
    Python 2) has no mutants: the result is empty.
    """
    if count <= 0:
        return []
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    original = ast.unparse(tree)
    sites = _sites(tree)
    random.Random(seed).shuffle(sites)
    mutants: list[Mutant] = []
    seen = {original}
    nodes = list(ast.walk(tree))
    for site in sites:
        description, undo = _apply(nodes, site)
        try:
            text = ast.unparse(tree)
            compile(text, "<mutant>", "exec")
        except (SyntaxError, ValueError, RecursionError):
            continue
        finally:
            undo()
        if text in seen:
            continue
        seen.add(text)
        mutants.append(Mutant(text, description))
        if len(mutants) == count:
            break
    return mutants


def mutant_candidates(
    problems: Iterable[dict],
    per_solution: int,
    seed: int = 0,
    *,
    max_solutions: int | None = None,
    include_originals: bool = False,
):
    """A candidates table of program mutants of each problem's correct Python 3 solutions.

    candidate_id is `mutant-<solution index>-<mutant index>` (and `human-<i>`
    for the originals when `include_originals`); meta records the solution
    index and the edit. Seeds differ per problem and solution but are fixed by `seed`.
    """
    import pandas as pd

    from .languages import LANGUAGE_IDS
    from .tables import CANDIDATES

    rows = []
    for problem in problems:
        sols = problem.get("solutions") or {"language": [], "solution": []}
        python = [
            (i, code)
            for i, (lang, code) in enumerate(zip(sols["language"], sols["solution"]))
            if LANGUAGE_IDS.get(lang, lang) == "python3"
        ][:max_solutions]
        for i, code in python:
            if include_originals:
                rows.append({
                    "problem": problem["name"], "candidate_id": f"human-{i}", "language": "python3",
                    "code": code, "source": "human", "meta": json.dumps({"solution_index": i}),
                })
            sub_seed = random.Random(f"{seed}|{problem['name']}|{i}").randrange(2**32)
            for j, mutant in enumerate(program_mutants(code, per_solution, sub_seed)):
                rows.append({
                    "problem": problem["name"], "candidate_id": f"mutant-{i}-{j}", "language": "python3",
                    "code": mutant.code, "source": "mutant",
                    "meta": json.dumps({"solution_index": i, "mutation": mutant.description}),
                })
    return pd.DataFrame(rows, columns=CANDIDATES)
