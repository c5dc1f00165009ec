"""Running a planned sweep: one papermill process per run, a manifest kept current, resume.

`run_sweep` executes every (notebook, grid point) in a process of its own and writes

    outputs/NAME/RUN_ID/
        manifest.json            the sweep: file, grid, versions, git commit, every run's status
        POINT/
            NOTEBOOK.ipynb       the executed notebook (kept when a cell fails)
            parameters.yaml      what papermill injected
            papermill.log        papermill's own output
            tables/*.parquet     what the notebook saved (`acodium.notebook.save_tables`)
            figures/*.png, *.svg (`acodium.plots.save_figure`)
            dataset.json         what the notebook loaded (`acodium.notebook.save_dataset_info`)
            manifest.json        this run: parameters, status, error, seconds, dataset fingerprint

A failed cell marks its run failed (with the error in the manifests) and the
other runs go on. Every run gets the same `cache_dir`, so executions and LLM
replies computed by an earlier run or sweep are reused, and a re-run into an
existing RUN_ID skips the runs that already succeeded with the same
parameters, the same notebook and the same acodium code (hashes kept in each
run's manifest): a run whose notebook or code changed runs again rather than
standing in the manifest beside the new ones. The sweep's manifest is written
after every run, so a sweep stopped half-way (Ctrl-C, a crash) resumes from
what its finished runs left. One process at a time writes a RUN_ID folder
(`RUN_ID/.lock`); a second is refused with the first's pid.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import yaml

from ..errors import UserError
from ..progress import PROGRESS_FILE_ENV, read_progress
from ..tables import DATASET_FILE, FIGURES_DIR, TABLES_DIR, run_folder_lock, write_json
from ..wording import plural
from .checks import check_runs
from .plan import Run, Sweep, load_sweep, plan_runs
from .provenance import environment_info

KERNEL_NAME = "python3"
MANIFEST_FILE = "manifest.json"
PROGRESS_FILE = "progress.json"  # a run's bars, while it runs (removed when it ends)
BATCH_ENV = "ACODIUM_BATCH"
POLL_S = 0.5  # how often a running run's progress is read


@dataclass
class SweepResult:
    """The runs of one sweep invocation and the folder that holds them."""

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


def kernel_env(progress_file: str | os.PathLike | None = None) -> dict[str, str]:
    """The environment of a run: this interpreter's kernel first, a fixed hash seed, batch mode.

    Jupyter looks for the `python3` kernel in JUPYTER_PATH before the user's own
    folders; putting this environment's share/jupyter first means papermill runs
    the notebook in the same virtual environment as the sweep. ACODIUM_BATCH
    tells the notebook no one is there to click (`acodium.notebook.interactive`);
    `progress_file` is where the run's progress bars write their state
    (`acodium.progress`), for the sweep to show; the `datasets` library's own
    bars are off (nobody sees them, and the notebook would keep them frozen).
    """
    env = dict(os.environ)
    env[BATCH_ENV] = "1"
    env.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")  # its widgets would stay at 0% in the executed notebook
    if progress_file is not None:
        env[PROGRESS_FILE_ENV] = str(progress_file)
    share = str(Path(sys.prefix) / "share" / "jupyter")
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (share, env.get("JUPYTER_PATH", "")) if p)
    env["PYTHONHASHSEED"] = "0"
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    return env


def notebook_error(path: str | os.PathLike) -> str | None:
    """The first error an executed notebook holds ("Name: value" of the failing cell), if any."""
    failed = _failed_cell(path)
    return f"{failed[0]} ({failed[1]})" if failed else None


def _failed_cell(path: str | os.PathLike) -> tuple[str, str] | None:
    """("Name: value", "cell I: its first line") of the first error output in an executed notebook."""
    import nbformat  # heavy (jsonschema): only once a run has failed

    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception:
        return None
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                source = cell.get("source", "").strip().splitlines()
                first = source[0] if source else ""
                return f"{out.get('ename')}: {out.get('evalue')}", f"cell {i}: {first[:80]}"
    return None


def run_error(executed: str | os.PathLike, stderr: str, returncode: int) -> str:
    """Why a papermill run failed, in one line: the failing cell's error, or papermill's last words.

    A cell over the timeout shows in the notebook as the KeyboardInterrupt that stopped
    it; the timeout papermill reported is the reason given instead.
    """
    failed = _failed_cell(executed)
    timeout = next((ln.strip().rpartition("exceptions.")[2] for ln in stderr.splitlines()
                    if "CellTimeoutError:" in ln), None)
    if timeout and failed:
        return f"{timeout} ({failed[1]})"
    if failed:
        return f"{failed[0]} ({failed[1]})"
    return timeout or _last_error_line(stderr) or f"papermill exited with {returncode}"


def _last_error_line(stderr: str) -> str | None:
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    return lines[-1][:500] if lines else None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def execute_run(run: Run, *, timeout_s: float | None = None, cwd: str | None = None,
                on_progress: Callable[[dict], Any] | None = None) -> Run:
    """Run one notebook in a process of its own; a failing cell makes the run `failed`.

    `on_progress(state)` gets the state of the run's current progress bar (desc,
    n, total, unit: `acodium.progress`) whenever it changes, while the run runs.
    """
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
    progress_file = out / PROGRESS_FILE
    progress_file.unlink(missing_ok=True)
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=kernel_env(progress_file))
    stdout, stderr = _wait(proc, progress_file, on_progress)
    run.seconds = round(time.monotonic() - started, 2)
    progress_file.unlink(missing_ok=True)
    (out / "papermill.log").write_text(stdout + stderr, encoding="utf-8")
    if proc.returncode == 0:
        run.status, run.error = "ok", None
    else:
        run.status, run.error = "failed", run_error(out_nb, stderr, proc.returncode)
    run.dataset = _read_json(out / DATASET_FILE)
    run.tables = sorted(p.name for p in (out / TABLES_DIR).glob("*.parquet"))
    run.figures = sorted(p.name for p in (out / FIGURES_DIR).glob("*") if p.suffix in (".png", ".svg"))
    write_json({**asdict(run), **environment_info()}, out / MANIFEST_FILE)
    return run


def _wait(proc: subprocess.Popen, progress_file: Path, on_progress) -> tuple[str, str]:
    """papermill's stdout and stderr once it ends, passing on its progress while it runs."""
    seen = None
    while True:
        try:
            out, err = proc.communicate(timeout=POLL_S)  # retried: no output is lost
            break
        except subprocess.TimeoutExpired:
            state = read_progress(progress_file) if on_progress is not None else None
            if state is not None and state != seen:
                seen = state
                on_progress(state)
        except BaseException:  # Ctrl-C or a crash of the sweep: papermill goes with it
            proc.kill()
            proc.communicate()
            raise
    state = read_progress(progress_file) if on_progress is not None else None
    if state is not None and state != seen:  # the bar's last state, written after the last poll
        on_progress(state)
    return out or "", err or ""


def new_run_id() -> str:
    """The default run folder name: the UTC time to the second."""
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
    echo: Callable[[str], Any] | None = None,
) -> SweepResult:
    """Run every (notebook, grid point) of a sweep file, each in its own papermill process.

    Writes outputs/NAME/RUN_ID/ (see the module docstring). Re-running into an
    existing `run_id` skips runs whose own manifest says `ok` with the same
    parameters, notebook and code (and whose files are still there), unless `force`.
    Before any run starts, what would fail late in each run is checked once
    (`acodium.sweep.checks`: datasets reachable, models askable).
    `echo` (a function of one string) reports each run as it ends.
    """
    sweep = load_sweep(path, only=only, overrides=overrides)
    run_id = run_id or new_run_id()
    if not re.fullmatch(r"[A-Za-z0-9._-]+", run_id):
        raise UserError(f"The run id {run_id!r} may hold only letters, digits, '.', '_' and '-'.")
    run_dir = Path(out) / sweep.name / run_id
    cache = Path(cache_dir).resolve() if cache_dir is not None else None
    runs = plan_runs(sweep, run_dir.resolve(), cache)
    check_runs([r for r in runs if force or done_before(r) is None])  # in seconds, before any run starts
    with run_folder_lock(run_dir):
        return _run_sweep(sweep, run_id, run_dir, cache, runs, workers=workers, timeout_s=timeout_s,
                          force=force, progress=progress, echo=echo)


def done_before(run: Run) -> dict[str, Any] | None:
    """The manifest of an earlier run that can stand for `run`: ok, with the same parameters,
    notebook and code, and the files it lists still there."""
    out = Path(run.dir)
    prev = _read_json(out / MANIFEST_FILE)
    if not isinstance(prev, dict) or prev.get("status") != "ok":
        return None
    if any(prev.get(k) != getattr(run, k) for k in ("parameters", "notebook_sha256", "code_sha256")):
        return None
    files = [out / Path(run.notebook).name]
    files += [out / TABLES_DIR / t for t in prev.get("tables") or []]
    files += [out / FIGURES_DIR / f for f in prev.get("figures") or []]
    return prev if all(f.is_file() for f in files) else None


def _run_sweep(sweep: Sweep, run_id: str, run_dir: Path, cache: Path | None, runs: list[Run], *, workers: int,
               timeout_s: float | None, force: bool, progress: bool, echo) -> SweepResult:
    from tqdm.auto import tqdm  # tqdm.auto probes for ipywidgets: only when a sweep runs

    previous = {r["run_id"]: r for r in (_read_json(run_dir / MANIFEST_FILE) or {}).get("runs", [])}
    manifest = {
        "sweep": sweep.name,
        "sweep_file": str(sweep.path),
        "description": sweep.description,
        "run_id": run_id,
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
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
        prev = None if force else done_before(r)
        if prev is not None:
            r.status, r.seconds = "skipped", prev.get("seconds")
            r.dataset, r.tables, r.figures = prev.get("dataset"), prev.get("tables", []), prev.get("figures", [])
        else:
            todo.append(r)

    skipped = [r.run_id for r in runs if r.status == "skipped"]
    if skipped and echo:  # what a resumed sweep leaves alone, said before it starts
        echo(f"resumed {run_dir}: {len(skipped)} of {plural(len(runs), 'run')} succeeded before with the same "
             f"parameters, notebook and code and are skipped (--force, or force=True, runs them again): {', '.join(skipped)}")
    planned = {r.run_id for r in runs}
    kept = [prev for rid, prev in previous.items() if rid not in planned]  # runs an --only left out

    def save_manifest(final: bool = False) -> None:
        manifest["runs"] = kept + [asdict(r) for r in runs]
        fingerprints = {json.dumps(r["dataset"], sort_keys=True) for r in manifest["runs"] if r.get("dataset")}
        manifest["datasets"] = [json.loads(f) for f in sorted(fingerprints)]
        if final:
            manifest["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        write_json(manifest, run_dir / MANIFEST_FILE)  # a temporary name, then a rename: never half a file

    save_manifest()
    cwd = os.getcwd()
    bar = tqdm(total=len(todo), desc=f"sweep {sweep.name}", unit="run", disable=not progress or not todo)
    shown = RunBars(tqdm) if progress else None

    def run_one(r: Run) -> Run:
        try:
            return execute_run(r, timeout_s=timeout_s, cwd=cwd,
                               on_progress=(lambda state: shown.show(r, state)) if shown else None)
        finally:
            if shown:
                shown.close(r)

    try:
        with ThreadPoolExecutor(max(1, workers)) as pool:
            futures = [pool.submit(run_one, r) for r in todo]
            try:
                for fut in futures:
                    r = fut.result()
                    bar.update(1)
                    save_manifest()
                    if echo:
                        tail = f"  ({r.error})" if r.error else ""
                        echo(f"{r.status:7s} {r.seconds:7.1f}s  {r.run_id}{tail}")
            except BaseException:  # Ctrl-C or a crash: start nothing more; the runs not begun stay pending
                for fut in futures:
                    fut.cancel()
                raise
    finally:
        bar.close()
        save_manifest(final=True)
    return SweepResult(name=sweep.name, dir=run_dir, runs=runs)


class RunBars:
    """One progress line per running run, under the sweep's own: the run's current bar as its
    notebook's kernel wrote it (`acodium.progress`), e.g. `solve_rate_vs_samples: executing 120/400`."""

    def __init__(self, tqdm):
        self._tqdm = tqdm
        self._bars: dict[str, Any] = {}
        self._lock = threading.Lock()

    def show(self, run: Run, state: Mapping[str, Any]) -> None:
        desc = f"  {run.run_id}: {state.get('desc') or 'running'}"
        total = state.get("total") or None
        unit = state.get("unit") or "it"
        # the kernel's count and clock, not this bar's (it sees the count jump once a second)
        shape = (f"{{desc}}: {{percentage:3.0f}}%|{{bar}}| {{n_fmt}}/{{total_fmt}} {unit}" if total
                 else f"{{desc}}: {{n_fmt}} {unit}") + f" [{_clock(state.get('elapsed_s'))}]"
        with self._lock:
            bar = self._bars.get(run.run_id)
            if bar is None:
                bar = self._bars[run.run_id] = self._tqdm(total=total, desc=desc, unit=unit, leave=False)
            elif bar.desc != desc or bar.total != total:  # the next stage of the notebook
                bar.reset(total=total)
                bar.set_description_str(desc, refresh=False)
            bar.bar_format = shape
            bar.n = int(state.get("n") or 0)
            bar.refresh()

    def close(self, run: Run) -> None:
        with self._lock:
            bar = self._bars.pop(run.run_id, None)
        if bar is not None:
            bar.close()


def _clock(seconds) -> str:
    seconds = int(seconds or 0)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"
