"""The shape of a test input: its tokens and lines, what may count something, and whether a mutation kept it.

A mutation must leave the input parseable the way its original is, so the
mutator (`inputs`) and the check (`structure_break`) share one reading of an
input, kept here. The input is split into lines and each line into
whitespace-separated tokens, each of a kind (integer, bit, 0/1 string, float,
other string); whitespace is kept byte for byte. What may be a count
(`_counts`): every integer of the first line when the input has several lines
(sizes, or the number of test cases); a positive integer v equal to the number
of tokens after it on its line (`4 3 9 2 7`), or where v or v - 1 is the token
count of a later line, the number of lines after it, or the run of equally
long lines that follows it (v - 1: a tree's edges, the parents of vertices
2..v), or v is the length of a later line's single token; a 0 on the last line
(it may count absent lines). A coincidence counts too, since nothing in the
input tells them apart, except within a run of equally long lines, where a
real count of the run's own content is the same on every line.
`bench/mutation_validity.py` measures `structure_break` on the shared sample.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_INT = re.compile(r"[+-]?\d+\Z")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+)\Z")
_BINARY = re.compile(r"[01]{2,}\Z")
_POWER_OF_TEN = re.compile(r"10*\Z")


@dataclass
class _Token:
    """One whitespace-free piece of an input, where it stands and what kind of value it reads as."""

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

