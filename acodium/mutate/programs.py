"""Program mutants: faulty variants of a correct solution, one small edit of its syntax tree each.

An operator, a comparison, a constant or a loop bound changed: mutants are
plausible wrong candidates, so they measure how many wrong programs a test
suite lets through (`acodium.evaluation.test_suite_strength`). The generate stage
turns them into candidates (`acodium.generate.mutants`).
"""

from __future__ import annotations

import ast
import random
from dataclasses import dataclass




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
