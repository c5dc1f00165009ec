"""Mutations: new test inputs from existing ones, and faulty variants of correct programs.

Two tools share this module because both make "near misses":

- **Test-input mutation** (AlphaCode, section 3.2.1): small edits of an input
  (an integer plus or minus one, doubled, halved, set to a bound seen in the
  input; a bit of a binary string flipped; two characters of a string
  swapped or one changed) that keep the input's shape, so the edited input
  still parses. Outputs come from reference solutions, and only inputs on
  which all references agree are kept (`reference_tests`).
- **Program mutants** of a correct solution (`program_mutants`): one small
  edit of its syntax tree (an operator, a comparison, a constant, a loop
  bound). Mutants are plausible wrong candidates: they measure how many
  wrong programs a test suite lets through (see `acodium.evaluate.test_suite_strength`).

How an input keeps its shape. The input is split into lines and each line
into whitespace-separated tokens; edits replace one token by another of the
same kind, and whitespace is kept byte for byte, so the line and token
structure never changes. Integers that probably describe the structure are
never edited: every integer of the first line when the input has several
lines (sizes such as `n m`, or the number of test cases), and any integer
whose value equals the token count of the next line, the character length
of the next line's single token, or the number of lines that follow it (or
follow it with the next line's token count). This is a heuristic: a size
that coincides with none of these may still be edited, and then reference
solutions that disagree or fail filter the input out. Other integers stay
within the range [smallest, largest] of the integers seen in the input, so
an edit is unlikely to break a stated bound (a 1-based index does not become
0 unless 0 already occurs). Floats are left alone.
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


def _structural(lines: list[list[_Token]]) -> set[int]:
    """Piece indices of integers that probably give sizes or counts (never edited)."""
    keep: set[int] = set()
    if len(lines) > 1:
        keep.update(t.index for t in lines[0] if _integer(t) is not None)
    for n, line in enumerate(lines[:-1]):
        nxt = lines[n + 1]
        sizes = {len(nxt), len(lines) - n - 1}
        if len(nxt) == 1:
            sizes.add(len(nxt[0].text))
        run = 0
        for later in lines[n + 1:]:
            if len(later) != len(nxt):
                break
            run += 1
        sizes.add(run)
        for tok in line:
            if _integer(tok) in sizes:
                keep.add(tok.index)
    return keep


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


def mutate_input(text: str, rng: random.Random, max_edits: int = 3) -> str:
    """One mutated copy of an input: 1..max_edits token edits, shape kept (see module doc).

    Returns the input unchanged when it has nothing that may be edited.
    """
    pieces, tokens, lines = _tokenize(text)
    keep = _structural(lines)
    editable = [t for t in tokens if t.kind != "float" and t.index not in keep]
    if not editable:
        return text
    ints = [int(t.text) for t in tokens if t.kind in ("int", "bit")]
    lo = min(ints, default=0)
    hi = max(ints, default=1)
    alphabet = "".join(sorted({c for t in tokens if t.kind == "string" for c in t.text}))
    edits = rng.randint(1, min(max_edits, len(editable)))
    for tok in rng.sample(editable, edits):
        pieces[tok.index] = _mutate_token(tok, lo, hi, alphabet, rng)
    return "".join(pieces)


def mutate_inputs(inputs: Sequence[str], count: int, seed: int = 0, max_edits: int = 3) -> list[str]:
    """Up to `count` distinct mutated inputs, none equal to an original; the same for the same seed.

    Bases are taken round-robin from `inputs`; fewer than `count` come back
    when the inputs offer too few distinct edits.
    """
    if count <= 0 or not inputs:
        return []
    rng = random.Random(seed)
    originals = set(inputs)
    out: list[str] = []
    seen: set[str] = set()
    for attempt in range(count * 20):
        mutated = mutate_input(inputs[attempt % len(inputs)], rng, max_edits)
        if mutated in originals or mutated in seen:
            continue
        seen.add(mutated)
        out.append(mutated)
        if len(out) == count:
            break
    return out


def _agreed(inputs: Sequence[str], runs: Sequence[Sequence]) -> list[tuple[str, str]]:
    """The (input, output) pairs on which every reference run is OK and the outputs agree."""
    from .execute import check_output

    tests = []
    for i, text in enumerate(inputs):
        results = [r[i] for r in runs]
        if not results or any(len(r) <= i for r in runs) or any(r.status.value != "OK" for r in results):
            continue
        first = results[0].stdout
        if all(check_output(r.stdout, first) for r in results[1:]):
            tests.append((text, first))
    return tests


def reference_tests(
    inputs: Sequence[str],
    references: Sequence,
    *,
    limits=None,
    backend: str = "local",
    cache_dir=None,
    workers: int | None = None,
    progress: bool = False,
) -> list[tuple[str, str]]:
    """The (input, output) pairs on which every reference program runs OK and agrees.

    `references` are `acodium.execute.Program`s believed correct (a problem's
    human solutions). Agreement uses the tester's output check, so outputs
    that differ only in whitespace or float noise agree. An input on which
    any reference fails (crash, timeout) is dropped: its validity is unknown.
    """
    from .execute import Job, Limits, run_batch

    if not inputs or not references:
        return []
    jobs = [Job(program=p, inputs=list(inputs), limits=limits or Limits()) for p in references]
    runs = run_batch(jobs, backend=backend, cache_dir=cache_dir, workers=workers, progress=progress)
    return _agreed(inputs, runs)


def add_mutated_tests(
    problems: Iterable[dict],
    count: int,
    seed: int = 0,
    *,
    from_sets: Sequence[str] = ("public",),
    languages: Sequence[str] = ("python3",),
    max_references: int | None = 5,
    time_limit_s: float | None = None,
    backend: str = "local",
    cache_dir=None,
    workers: int | None = None,
    progress: bool = True,
) -> list[dict]:
    """The problems with a `mutated_tests` field: up to `count` mutated inputs each, with outputs.

    Inputs are mutated from the problem's `from_sets` tests (public by
    default: what a contestant sees); outputs come from its correct
    solutions in `languages` (at most `max_references`), keeping only inputs
    on which they all run OK and agree. A problem without such solutions gets
    no mutated tests. All runs go to the executor as one batch.
    """
    import dataclasses

    from .execute import Job, Program, limits_for_problem, run_batch
    from .execute.types import LANGUAGE_IDS

    rows = [dict(p) for p in problems]
    plan = []  # per problem: (inputs, first job index, number of references)
    jobs = []
    for row in rows:
        inputs = [text for s in from_sets for text in (row.get(f"{s}_tests") or {}).get("input", [])]
        sub_seed = random.Random(f"{seed}|{row['name']}").randrange(2**32)
        mutated = mutate_inputs(inputs, count, sub_seed)
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
        tests = _agreed(mutated, runs[start:start + n]) if n else []
        row["mutated_tests"] = {"input": [t[0] for t in tests], "output": [t[1] for t in tests]}
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

    from .execute.types import LANGUAGE_IDS
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
