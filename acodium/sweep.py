"""Parameter sweeps: papermill over a grid, one run folder per sweep, a manifest of what ran.

A sweep file (`params/NAME.yaml`) names the notebooks to run, the parameters
fixed for every run and a grid (a mapping of lists, expanded as a cartesian
product, or a list of explicit points). `run_sweep` executes every
(notebook, grid point) in a process of its own through papermill and writes

    outputs/NAME/RUN_ID/
        manifest.json            the sweep: file, grid, versions, git commit, every run's status
        POINT/
            NOTEBOOK.ipynb       the executed notebook (kept when a cell fails)
            parameters.yaml      what papermill injected
            tables/*.parquet     what the notebook saved (`save_tables`)
            figures/*.png, *.svg (`acodium.plots.save_figure`)
            dataset.json         what the notebook loaded (`save_dataset_info`)
            manifest.json        this run: parameters, status, error, seconds, dataset fingerprint

A failed cell marks its run failed (with the error in the manifests) and the
other runs go on. Every run gets the same `cache_dir`, so executions and LLM
replies computed by an earlier run or sweep are reused, and a re-run into an
existing RUN_ID skips the runs that already succeeded with the same
parameters, the same notebook and the same acodium code (hashes kept in each
run's manifest): a run whose notebook or code changed runs again rather than
standing in the manifest beside the new ones. One process at a time writes a
RUN_ID folder (`RUN_ID/.lock`); a second is refused with the first's pid.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml

from .errors import UserError
from .metrics import reported_ks
from .tables import run_folder_lock, write_json, write_table

# Parameters the sweep fills in itself when a notebook declares them.
INJECTED = ("out_dir", "cache_dir")
KERNEL_NAME = "python3"
PACKAGES = (
    "acodium", "datasets", "pandas", "numpy", "pyarrow", "matplotlib", "papermill",
    "nbformat", "nbclient", "ipykernel", "openai", "click", "pyyaml",
)


# --------------------------------------------------------------------------- the sweep file


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


def load_sweep(
    path: str | os.PathLike,
    *,
    only: Iterable[str] = (),
    overrides: Mapping[str, Any] | None = None,
) -> Sweep:
    """Read a sweep file, apply `overrides` (fixed values that replace the file's) and keep
    only the grid points matching every `only` KEY=VALUE."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"No sweep file at {path}.")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise UserError(f"The sweep file {path} is not valid YAML: {e}.") from None
    if not isinstance(doc, Mapping):
        raise UserError(f"The sweep file {path} must be a mapping with notebooks, fixed and grid.")
    unknown = set(doc) - {"name", "description", "notebook", "notebooks", "fixed", "grid"}
    if unknown:
        raise UserError(f"The sweep file {path} has unknown key(s): {', '.join(sorted(unknown))}.")
    raw_notebooks = doc.get("notebooks", doc.get("notebook"))
    if not raw_notebooks:
        raise UserError(f"The sweep file {path} names no notebook (key `notebooks`).")
    if isinstance(raw_notebooks, str):
        raw_notebooks = [raw_notebooks]
    if isinstance(raw_notebooks, list):
        raw_notebooks = {n: {} for n in raw_notebooks}
    notebooks = {}
    for name, extra in raw_notebooks.items():
        notebooks[str(_notebook_path(str(name), path.parent))] = dict(extra or {})

    all_notebooks = list(notebooks)
    fixed = dict(doc.get("fixed") or {})
    grid_doc = doc.get("grid")
    points = expand_grid(grid_doc)
    for key, value in (overrides or {}).items():
        fixed[key] = value
        for p in points:
            p.pop(key, None)
        # points that became identical once the key is fixed collapse into one
    unique = []
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
        known = any(key in p for p in points) or key in fixed
        if not known:
            raise UserError(f"--only {key}=...: {key!r} is neither a grid nor a fixed parameter of {path.name}.")
        if key in fixed and not any(key in p for p in points):
            if fixed[key] != value:
                raise UserError(f"--only {key}={value!r}: the sweep fixes {key} to {fixed[key]!r}.")
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


# --------------------------------------------------------------------------- the runs


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
    import papermill

    try:
        declared = papermill.inspect_notebook(str(notebook))
    except Exception as e:  # papermill raises plain exceptions for unreadable notebooks
        raise UserError(f"Cannot read the parameters of {notebook}: {e}.") from None
    return {name: info.get("default") for name, info in declared.items()}


def _file_sha256(path: str | os.PathLike) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def code_fingerprint() -> str:
    """A hash of acodium's own source (every .py and .toml of the package): what a run's code was."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".toml") and p.is_file()):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def plan_runs(sweep: Sweep, run_dir: Path, cache_dir: Path | None) -> list[Run]:
    """Expand a sweep into runs; a parameter no notebook declares is a typo and an error."""
    runs = []
    declared_any: set[str] = set()
    code = code_fingerprint()
    for notebook, extra in sweep.notebooks.items():
        declared = notebook_parameters(notebook)
        notebook_hash = _file_sha256(notebook)
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


def kernel_env() -> dict[str, str]:
    """The environment of a run: this interpreter's kernel first, a fixed hash seed.

    Jupyter looks for the `python3` kernel in JUPYTER_PATH before the user's own
    folders; putting this environment's share/jupyter first means papermill runs
    the notebook in the same virtual environment as the sweep.
    """
    env = dict(os.environ)
    share = str(Path(sys.prefix) / "share" / "jupyter")
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (share, env.get("JUPYTER_PATH", "")) if p)
    env["PYTHONHASHSEED"] = "0"
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    return env


def notebook_error(path: str | os.PathLike) -> str | None:
    """The first error an executed notebook holds ("Name: value" of the failing cell), if any."""
    import nbformat

    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception:
        return None
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                source = cell.get("source", "").strip().splitlines()
                first = source[0] if source else ""
                return f"{out.get('ename')}: {out.get('evalue')} (cell {i}: {first[:80]})"
    return None


def execute_run(run: Run, *, timeout_s: float | None = None, cwd: str | None = None) -> Run:
    """Run one notebook in a process of its own; a failing cell makes the run `failed`."""
    out = Path(run.dir)
    out.mkdir(parents=True, exist_ok=True)
    params_file = out / "parameters.yaml"
    params_file.write_text(yaml.safe_dump(run.parameters, sort_keys=False), encoding="utf-8")
    out_nb = out / Path(run.notebook).name
    cmd = [
        sys.executable, "-m", "papermill", run.notebook, str(out_nb),
        "-f", str(params_file), "-k", KERNEL_NAME, "--cwd", cwd or os.getcwd(),
        "--no-progress-bar", "--no-log-output",
    ]
    if timeout_s:
        cmd += ["--execution-timeout", str(int(timeout_s))]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=kernel_env())
    run.seconds = round(time.monotonic() - started, 2)
    (out / "papermill.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if proc.returncode == 0:
        run.status, run.error = "ok", None
    else:
        run.status = "failed"
        run.error = notebook_error(out_nb) or _last_error_line(proc.stderr) or f"papermill exited with {proc.returncode}"
    run.dataset = _read_json(out / "dataset.json")
    run.tables = sorted(p.name for p in (out / "tables").glob("*.parquet"))
    run.figures = sorted(p.name for p in (out / "figures").glob("*") if p.suffix in (".png", ".svg"))
    _write_json(out / "manifest.json", {**asdict(run), **environment_info()})
    return run


def _last_error_line(stderr: str) -> str | None:
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    return lines[-1][:500] if lines else None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _write_json(path: Path, obj: Any) -> None:
    write_json(obj, path)  # a unique temporary name, then a rename: writers never share a file


# --------------------------------------------------------------------------- provenance


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": sys.version.split()[0]}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_commit(path: str | os.PathLike = ".") -> dict[str, Any] | None:
    """The commit the code ran at, and whether the working tree had changes (read-only git)."""
    try:
        head = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return None
        status = subprocess.run(
            ["git", "-C", str(path), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return {"commit": head.stdout.strip(), "dirty": bool(status.stdout.strip())}


def environment_info() -> dict[str, Any]:
    repo = Path(__file__).resolve().parents[1]
    return {"versions": package_versions(), "git": git_commit(repo)}


def dataset_fingerprint(problems) -> str:
    """A content hash of a problems table: names and every test, so any change to them shows."""
    h = hashlib.sha256()
    columns = [c for c in ("name", "public_tests", "private_tests", "generated_tests") if c in problems.column_names]
    for row in problems.select_columns(columns):
        h.update(json.dumps(row, sort_keys=True, default=str).encode("utf-8"))
    return h.hexdigest()


# --------------------------------------------------------------------------- notebook side


def save_tables(out_dir: str | os.PathLike | None, **tables) -> dict[str, Path]:
    """Save a notebook's tables as OUT_DIR/tables/NAME.parquet; no-op without an out_dir.

    Notebooks run interactively (or under nbval) leave out_dir empty and save nothing.
    """
    if not out_dir:
        return {}
    saved = {}
    for name, df in tables.items():
        saved[name] = write_table(df, Path(out_dir) / "tables" / f"{name}.parquet")
    return saved


def save_dataset_info(out_dir: str | os.PathLike | None, problems, *, source: str, split: str) -> dict | None:
    """Record what a notebook loaded (source, split, size, content fingerprint) for the manifest."""
    info = {
        "source": str(source),
        "split": str(split),
        "problems": len(problems),
        "fingerprint": dataset_fingerprint(problems),
    }
    if out_dir:
        _write_json(Path(out_dir) / "dataset.json", info)
    return info


def load_tables(run_dir: str | os.PathLike) -> dict[str, "Any"]:
    """The tables one run saved, by name (for reading results back after a sweep)."""
    import pandas as pd

    return {p.stem: pd.read_parquet(p) for p in sorted((Path(run_dir) / "tables").glob("*.parquet"))}


# --------------------------------------------------------------------------- the sweep


@dataclass
class SweepResult:
    name: str
    dir: Path
    runs: list[Run]

    @property
    def failed(self) -> list[Run]:
        return [r for r in self.runs if r.status == "failed"]

    def run(self, notebook_stem: str) -> Run:
        """The first run of a notebook (by stem), for sweeps with one grid point."""
        for r in self.runs:
            if Path(r.notebook).stem == notebook_stem:
                return r
        raise KeyError(notebook_stem)


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")


def run_sweep(
    path: str | os.PathLike,
    *,
    out: str | os.PathLike = "outputs",
    only: Iterable[str] = (),
    overrides: Mapping[str, Any] | None = None,
    cache_dir: str | os.PathLike | None = None,
    run_id: str | None = None,
    workers: int = 1,
    timeout_s: float | None = None,
    force: bool = False,
    progress: bool = True,
    echo=None,
) -> SweepResult:
    """Run every (notebook, grid point) of a sweep file, each in its own papermill process.

    Writes outputs/NAME/RUN_ID/ (see the module docstring). Re-running into an
    existing `run_id` skips runs whose own manifest says `ok` with the same
    parameters, notebook and code (and whose files are still there), unless `force`.
    `echo` (a function of one string) reports each run as it ends.
    """
    sweep = load_sweep(path, only=only, overrides=overrides)
    run_id = run_id or new_run_id()
    if not re.fullmatch(r"[A-Za-z0-9._-]+", run_id):
        raise UserError(f"The run id {run_id!r} may hold only letters, digits, '.', '_' and '-'.")
    run_dir = Path(out) / sweep.name / run_id
    cache = Path(cache_dir).resolve() if cache_dir is not None else None
    runs = plan_runs(sweep, run_dir.resolve(), cache)
    with run_folder_lock(run_dir):
        return _run_sweep(sweep, run_id, run_dir, cache, runs, workers=workers, timeout_s=timeout_s,
                          force=force, progress=progress, echo=echo)


def _done_before(run: Run) -> dict[str, Any] | None:
    """The manifest of an earlier run that can stand for `run`: ok, with the same parameters,
    notebook and code, and the files it lists still there."""
    out = Path(run.dir)
    prev = _read_json(out / "manifest.json")
    if not isinstance(prev, dict) or prev.get("status") != "ok":
        return None
    if any(prev.get(k) != getattr(run, k) for k in ("parameters", "notebook_sha256", "code_sha256")):
        return None
    files = [out / Path(run.notebook).name]
    files += [out / "tables" / t for t in prev.get("tables") or []]
    files += [out / "figures" / f for f in prev.get("figures") or []]
    return prev if all(f.is_file() for f in files) else None


def _run_sweep(sweep: Sweep, run_id: str, run_dir: Path, cache: Path | None, runs: list[Run], *, workers: int,
               timeout_s: float | None, force: bool, progress: bool, echo) -> SweepResult:
    from tqdm.auto import tqdm

    previous = {r["run_id"]: r for r in (_read_json(run_dir / "manifest.json") or {}).get("runs", [])}
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    manifest = {
        "sweep": sweep.name,
        "sweep_file": str(sweep.path),
        "description": sweep.description,
        "run_id": run_id,
        "started": started_at,
        "finished": None,
        "notebooks": [str(Path(n)) for n in sweep.notebooks],
        "fixed": sweep.fixed,
        "grid": sweep.grid,
        "cache_dir": str(cache) if cache else None,
        "command": sys.argv,
        **environment_info(),
        "runs": [asdict(r) for r in runs],
    }

    todo = []
    for r in runs:
        prev = None if force else _done_before(r)
        if prev is not None:
            r.status, r.seconds = "skipped", prev.get("seconds")
            r.dataset, r.tables, r.figures = prev.get("dataset"), prev.get("tables", []), prev.get("figures", [])
        else:
            todo.append(r)

    planned = {r.run_id for r in runs}
    kept = [prev for rid, prev in previous.items() if rid not in planned]  # runs an --only left out

    def save_manifest(final: bool = False) -> None:
        manifest["runs"] = kept + [asdict(r) for r in runs]
        fingerprints = {json.dumps(r["dataset"], sort_keys=True) for r in manifest["runs"] if r.get("dataset")}
        manifest["datasets"] = [json.loads(f) for f in sorted(fingerprints)]
        if final:
            manifest["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        _write_json(run_dir / "manifest.json", manifest)

    save_manifest()
    cwd = os.getcwd()
    bar = tqdm(total=len(todo), desc=f"sweep {sweep.name}", unit="run", disable=not progress)
    try:
        with ThreadPoolExecutor(max(1, workers)) as pool:
            futures = [pool.submit(execute_run, r, timeout_s=timeout_s, cwd=cwd) for r in todo]
            for fut in futures:
                r = fut.result()
                bar.update(1)
                save_manifest()
                if echo:
                    tail = f"  ({r.error})" if r.error else ""
                    echo(f"{r.status:7s} {r.seconds:7.1f}s  {r.run_id}{tail}")
    finally:
        bar.close()
        save_manifest(final=True)
    return SweepResult(name=sweep.name, dir=run_dir, runs=runs)


def model_configured(model: str | None, base_url: str | None = None) -> bool:
    """Whether a notebook that needs an LLM has one; if not, say what to set (and do no work).

    Lets a notebook without a configured model end cleanly under papermill and
    nbval instead of failing in its first request.
    """
    if model:
        return True
    print(
        "No model is configured, so this notebook stops here.\n"
        "Set the parameter `model` (and `base_url` for a server other than OpenAI's), with the key in\n"
        "OPENAI_API_KEY (any non-empty string for a local server), for instance:\n"
        "  gencode sweep params/temperature.yaml --set model=gpt-4o-mini\n"
        "  papermill notebooks/temperature_ablation.ipynb out.ipynb -p model llama3 -p base_url http://127.0.0.1:8000/v1"
    )
    return False


# --------------------------------------------------------------------------- inside a notebook


@dataclass(frozen=True)
class Caches:
    """Where a run keeps what it can reuse: the layout of the CLI (`gencode gen`, `gencode eval`)."""

    executions: Path | None
    llm: Path | None


def caches(cache_dir: str | os.PathLike | None) -> Caches:
    """The execution cache folder and LLM response cache file under a sweep's shared cache_dir."""
    if not cache_dir:
        return Caches(None, None)
    root = Path(cache_dir)
    return Caches(executions=root / "executions", llm=root / "llm" / "responses.sqlite")


def log_grid(upto: int, steps: Sequence[int] = (1, 2, 5)) -> list[int]:
    """1, 2, 5, 10, 20, 50, ... up to `upto`, and `upto` itself: the k axis of a scaling curve."""
    if upto < 1:
        raise UserError("A k grid needs at least one sample per problem.")
    grid, scale = [], 1
    while scale <= upto:
        grid += [s * scale for s in steps if s * scale <= upto]
        scale *= 10
    return sorted(set(grid) | {int(upto)})


def k_grid(candidates, ks: Sequence[int] | None = None) -> list[int]:
    """The k values to report for these candidates: `acodium.metrics.reported_ks` of their pools.

    ks given: those that every non-empty pool has samples for (metrics never
    extrapolate); none given: 1, 2, 5, 10, ... up to the smallest non-empty
    pool, and that pool's size. An empty pool (a problem without candidates,
    or a category of the problem column with no row) bounds nothing: it
    scores 0 at every k (`metrics.metrics_table(problems=...)`).
    """
    sizes = candidates.groupby("problem", observed=True).size() if len(candidates) else None
    if sizes is None and not ks:
        raise UserError("There are no candidates, so there is no k to report.")
    if sizes is None:
        return reported_ks([], ks).ks  # every pool empty: any k asked for is 0, and reported
    return reported_ks(sizes.to_numpy(), ks or None, problems=[str(p) for p in sizes.index]).ks


def over(values: Iterable, run, name: str):
    """A sweep inside a notebook: `run(value)` for each value, tables concatenated with a `name` column.

    `run` returns a DataFrame (or a dict of DataFrames, concatenated key by key).
    """
    import pandas as pd

    values = list(values)
    if not values:
        raise UserError(f"There are no values of {name} to sweep over.")
    results = [(v, run(v)) for v in values]
    first = results[0][1]
    if isinstance(first, Mapping):
        return {
            key: pd.concat([r[key].assign(**{name: v}) for v, r in results], ignore_index=True)
            for key in first
        }
    return pd.concat([r.assign(**{name: v}) for v, r in results], ignore_index=True)
