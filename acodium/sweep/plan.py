"""From a sweep file to the list of runs: which notebook, with which parameters, into which folder.

A sweep file (`params/NAME.yaml`) names the notebooks to run, the parameters
fixed for every run and a grid (a mapping of lists, expanded as a cartesian
product, or a list of explicit points). Planning checks every parameter
against what the notebooks declare, so a typo is refused before anything runs,
and gives each run a stable, readable folder name.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from ..errors import UserError
from .provenance import code_fingerprint, file_sha256

# Parameters the sweep fills in itself when a notebook declares them.
INJECTED = ("out_dir", "cache_dir")
SWEEP_KEYS = {"name", "description", "notebook", "notebooks", "fixed", "grid"}


@dataclass
class Sweep:
    """A parsed sweep file: which notebooks, what is fixed, what varies."""

    name: str
    path: Path | None
    notebooks: dict[str, dict[str, Any]]  # notebook path -> parameters fixed for it alone
    fixed: dict[str, Any]
    grid: list[dict[str, Any]]  # the expanded points, in order
    description: str = ""
    all_notebooks: list[str] = field(default_factory=list)  # before --only notebook=...: what may be set


@dataclass
class Run:
    """One notebook at one grid point."""

    run_id: str  # folder name under the sweep's RUN_ID
    notebook: str
    parameters: dict[str, Any]  # everything injected, out_dir and cache_dir included
    grid_point: dict[str, Any]
    status: str = "pending"  # pending, ok, failed, skipped
    error: str | None = None
    seconds: float | None = None
    dir: str = ""
    dataset: dict[str, Any] | None = None
    tables: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    notebook_sha256: str = ""  # the notebook as it was run: a changed notebook runs again
    code_sha256: str = ""  # acodium's own source (`code_fingerprint`): changed code runs again


def _notebook_path(name: str, base: Path) -> Path:
    """Resolve a notebook named in a sweep file: a path, or a stem under notebooks/."""
    candidates = [Path(name), base / name, base.parent / "notebooks" / name, Path("notebooks") / name]
    for c in list(candidates):
        if c.suffix != ".ipynb":
            candidates.append(c.with_name(c.name + ".ipynb"))
    for c in candidates:
        if c.is_file():
            return c.resolve()
    raise UserError(f"The sweep names the notebook {name!r}, which is not a file under notebooks/.")


def expand_grid(grid: Mapping[str, Iterable] | list[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """All points of a grid: the product of a mapping of lists, or a list of explicit points.

    A scalar in the mapping is a one-value axis. The order is the file's order,
    last key varying fastest, so run numbers are stable between re-runs.
    """
    if grid is None:
        return [{}]
    if isinstance(grid, list):
        points = []
        for i, point in enumerate(grid):
            if not isinstance(point, Mapping):
                raise UserError(f"Grid point {i} of the sweep is not a mapping of parameter: value.")
            points.append(dict(point))
        return points or [{}]
    if not isinstance(grid, Mapping):
        raise UserError("The sweep's grid must be a mapping of parameter: [values] or a list of points.")
    keys = list(grid)
    axes = []
    for key in keys:
        values = grid[key]
        if not isinstance(values, list):
            values = [values]
        if not values:
            raise UserError(f"The grid axis {key!r} has no values.")
        axes.append(values)
    return [dict(zip(keys, combo)) for combo in itertools.product(*axes)]


def parse_assignment(text: str) -> tuple[str, Any]:
    """`KEY=VALUE` with VALUE read as YAML (`k=10` is an int, `t=[0.2,0.8]` a list)."""
    if "=" not in text:
        raise UserError(f"Expected KEY=VALUE, got {text!r}.")
    key, _, raw = text.partition("=")
    key = key.strip()
    if not key:
        raise UserError(f"Expected KEY=VALUE, got {text!r}.")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key, value


def _yaml_problem(error: yaml.YAMLError) -> str:
    """What the YAML parser found wrong, and where, on one line."""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    mark = getattr(error, "problem_mark", None)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else problem


def _read_sweep_file(path: Path) -> Mapping[str, Any]:
    if not path.is_file():
        raise UserError(f"No sweep file at {path}.")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as e:
        raise UserError(f"The sweep file {path} is not UTF-8 text (byte {e.object[e.start]:#04x} "
                        f"at position {e.start}).") from None
    except yaml.YAMLError as e:
        raise UserError(f"The sweep file {path} is not valid YAML: {_yaml_problem(e)}.") from None
    if not isinstance(doc, Mapping):
        raise UserError(f"The sweep file {path} must be a mapping with notebooks, fixed and grid.")
    unknown = set(doc) - SWEEP_KEYS
    if unknown:
        raise UserError(f"The sweep file {path} has unknown key(s): {', '.join(sorted(unknown))}.")
    return doc


def _named_notebooks(doc: Mapping[str, Any], path: Path) -> dict[str, dict[str, Any]]:
    raw = doc.get("notebooks", doc.get("notebook"))
    if not raw:
        raise UserError(f"The sweep file {path} names no notebook (key `notebooks`).")
    if isinstance(raw, str):
        raw = [raw]
    if isinstance(raw, list):
        raw = {n: {} for n in raw}
    return {str(_notebook_path(str(name), path.parent)): dict(extra or {}) for name, extra in raw.items()}


def load_sweep(
    path: str | os.PathLike,
    *,
    only: Iterable[str] = (),
    overrides: Mapping[str, Any] | None = None,
) -> Sweep:
    """Read a sweep file, apply `overrides` (fixed values that replace the file's) and keep
    only the grid points matching every `only` KEY=VALUE."""
    path = Path(path)
    doc = _read_sweep_file(path)
    notebooks = _named_notebooks(doc, path)
    all_notebooks = list(notebooks)
    fixed = dict(doc.get("fixed") or {})
    points = expand_grid(doc.get("grid"))
    for key, value in (overrides or {}).items():
        fixed[key] = value
        for p in points:
            p.pop(key, None)
    unique = []  # points that became identical once a key is fixed collapse into one
    for p in points:
        if p not in unique:
            unique.append(p)
    points = unique

    for item in only:
        key, value = parse_assignment(item)
        if key == "notebook":
            kept = {nb: v for nb, v in notebooks.items() if Path(nb).stem == Path(str(value)).stem}
            if not kept:
                names = ", ".join(Path(n).stem for n in notebooks)
                raise UserError(f"--only notebook={value} matches none of the sweep's notebooks ({names}).")
            notebooks = kept
            continue
        in_grid = any(key in p for p in points)
        if not in_grid and key not in fixed:
            raise UserError(f"--only {key}=...: {key!r} is neither a grid nor a fixed parameter of {path.name}.")
        if not in_grid:
            if fixed[key] != value:  # --only picks grid points; a fixed value is changed with --set
                swept = sorted({k for p in points for k in p})
                grid = f"its grid sweeps {', '.join(swept)}" if swept else "it has no grid"
                raise UserError(f"--only {key}={item.partition('=')[2]}: {path.name} does not sweep {key} (it fixes "
                                f"it to {fixed[key]!r}; {grid}); --set {key}={item.partition('=')[2]} runs it "
                                f"with that value.")
            continue
        matched = [p for p in points if p.get(key) == value]
        if not matched:
            values = sorted({repr(p.get(key)) for p in points})
            raise UserError(f"--only {key}={value!r} matches no grid point; the grid has {key} in {', '.join(values)}.")
        points = matched

    return Sweep(
        name=str(doc.get("name") or path.stem),
        path=path.resolve(),
        notebooks=notebooks,
        fixed=fixed,
        grid=points,
        description=str(doc.get("description") or ""),
        all_notebooks=all_notebooks,
    )


def _slug(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    text = re.sub(r"[^A-Za-z0-9.+-]+", "-", text).strip("-")
    return text or "x"


def point_id(notebook: str, point: Mapping[str, Any]) -> str:
    """A readable, file-safe folder name for a run: the notebook stem and the grid values."""
    parts = [Path(notebook).stem] + [f"{_slug(k)}={_slug(v)}" for k, v in point.items()]
    name = "__".join(parts)
    if len(name) > 120:
        digest = hashlib.sha256(json.dumps(point, sort_keys=True, default=str).encode()).hexdigest()[:10]
        name = name[:100].rstrip("_-=") + "__" + digest
    return name


def notebook_parameters(notebook: str | os.PathLike) -> dict[str, Any]:
    """The parameters a notebook declares in its cell tagged `parameters`, with defaults."""
    try:
        import papermill  # heavy (nbclient, jupyter_client): only when a sweep is planned
    except ModuleNotFoundError as e:  # the slim core: `pip install acodium` without [notebooks]
        raise UserError(f"Sweeps run notebooks through papermill, which is not installed ({e.name} is missing): "
                        "pip install 'acodium[notebooks]'.") from None
    try:
        declared = papermill.inspect_notebook(str(notebook))
    except Exception as e:  # papermill raises plain exceptions for unreadable notebooks
        raise UserError(f"Cannot read the parameters of {notebook}: {e}.") from None
    return {name: info.get("default") for name, info in declared.items()}


def plan_runs(sweep: Sweep, run_dir: Path, cache_dir: Path | None) -> list[Run]:
    """Expand a sweep into runs; a parameter no notebook declares is a typo and an error."""
    runs = []
    declared_any: set[str] = set()
    code = code_fingerprint()
    for notebook, extra in sweep.notebooks.items():
        declared = notebook_parameters(notebook)
        notebook_hash = file_sha256(notebook)
        declared_any |= set(declared)
        seen: list[dict] = []
        for point in sweep.grid:
            # grid keys this notebook does not declare do not multiply its runs
            point = {k: v for k, v in point.items() if k in declared}
            if point in seen:
                continue
            seen.append(point)
            params = {**sweep.fixed, **extra, **point}
            params = {k: v for k, v in params.items() if k in declared}
            rid = point_id(notebook, point)
            out = run_dir / rid
            if "out_dir" in declared:
                params["out_dir"] = str(out)
            if "cache_dir" in declared and cache_dir is not None:
                params["cache_dir"] = str(cache_dir)
            runs.append(Run(run_id=rid, notebook=notebook, parameters=params, grid_point=dict(point), dir=str(out),
                            notebook_sha256=notebook_hash, code_sha256=code))
    for notebook in set(sweep.all_notebooks) - set(sweep.notebooks):  # left out by --only notebook=...
        declared_any |= set(notebook_parameters(notebook))
    used = set(sweep.fixed) | {k for p in sweep.grid for k in p}
    for extra in sweep.notebooks.values():
        used |= set(extra)
    unknown = used - declared_any - set(INJECTED)
    if unknown:
        raise UserError(
            f"The sweep sets {', '.join(sorted(unknown))}, which no notebook of it declares as a parameter."
        )
    return runs
