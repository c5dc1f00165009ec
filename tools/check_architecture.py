"""The house rules that no test can see: module sizes, import cycles, the CLI kept on top.

    python tools/check_architecture.py        # exit 1 and one line per breach

- no module of `acodium/` over 450 lines, except `execute/_worker.py` (sent whole to a
  bare interpreter, which cannot import a second file);
- no import cycle between acodium's modules, counting imports inside functions
  (a package's `__init__` is its own node: importing `acodium.data.problem` does not
  count as importing `acodium.data`);
- no library module imports `acodium.cli` (the command line sits on top of the library);
- no library module imports `acodium.notebook` or `acodium.sweep` (they drive the library).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "acodium"
MAX_LINES = 450
SENT_WHOLE = {"acodium.execute._worker"}
ON_TOP = ("acodium.cli", "acodium.demo", "acodium.__main__")
DRIVERS = ("acodium.sweep", "acodium.notebook")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "starter" in path.relative_to(PACKAGE).parts:
            continue  # the starter problems' solutions are data, not the package's code
        found[module_name(path)] = path
    return found


def resolve(current: str, is_package: bool, node: ast.ImportFrom | ast.Import, known: set[str]) -> set[str]:
    """The acodium modules an import statement loads (its target, or target.name when that is a module)."""
    targets: set[str] = set()
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.startswith("acodium"):
                targets.add(alias.name)
        return {t for t in targets if t in known}
    base = current if is_package else current.rpartition(".")[0]
    if node.level:
        for _ in range(node.level - 1):
            base = base.rpartition(".")[0]
        target = f"{base}.{node.module}" if node.module else base
    else:
        target = node.module or ""
    if not target.startswith("acodium"):
        return set()
    for alias in node.names:
        sub = f"{target}.{alias.name}"
        if sub in known:
            targets.add(sub)
        elif target in known:
            targets.add(target)
    return targets


def graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    known = set(mods)
    for name, path in mods.items():
        tree = ast.parse(path.read_text(), str(path))
        out: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                out |= resolve(name, path.name == "__init__.py", node, known)
        out.discard(name)
        edges[name] = out
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def main() -> int:
    mods = modules()
    breaches = []
    for name, path in mods.items():
        lines = len(path.read_text().splitlines())
        if lines > MAX_LINES and name not in SENT_WHOLE:
            breaches.append(f"{path.relative_to(ROOT)}: {lines} lines (at most {MAX_LINES})")
    edges = graph(mods)
    for component in cycles(edges):
        breaches.append("import cycle: " + " <-> ".join(component))
    for name, targets in sorted(edges.items()):
        if name.startswith(ON_TOP):
            continue
        for t in sorted(targets):
            if t.startswith("acodium.cli"):
                breaches.append(f"{name} imports the command line ({t})")
            elif t.startswith(DRIVERS) and not name.startswith(DRIVERS):
                breaches.append(f"{name} imports {t}, which drives the library")
    for line in breaches:
        print(line)
    if not breaches:
        print(f"architecture: {len(mods)} modules, none over {MAX_LINES} lines, no import cycle")
    return 1 if breaches else 0


if __name__ == "__main__":
    sys.exit(main())
