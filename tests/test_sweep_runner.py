"""Running sweeps with papermill: failures kept and retried, success reused, Ctrl-C and crashes resumed.

The notebook is written into tmp_path and run by papermill with the project's
kernel, as `gencode sweep` runs the real ones. It logs each start and end to a
file (what ran, how often, in which process), fails at x == 2 while a gate file
is missing, and waits at x == hold until a release file appears, so a test can
interrupt a sweep in the middle of a run.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from acodium.errors import UserError
from acodium.sweep import runner
from acodium.sweep.plan import Run
from acodium.sweep.runner import (
    SweepResult,
    done_before,
    execute_run,
    kernel_env,
    notebook_error,
    run_error,
    run_sweep,
)
from tiny_notebook import write_notebook

GENCODE = [sys.executable, "-m", "acodium"]

PARAMETERS = "x = 1\nout_dir = ''\ncache_dir = ''\nlog = ''\ngate = ''\nhold = 0\nrelease = ''"
CELLS = (
    "import os, time\nfrom pathlib import Path\nimport pandas as pd\nfrom acodium.notebook import save_tables\n"
    "open(log, 'a').write(f'start {x} {os.getpid()}\\n')",
    "if gate and x == 2 and not Path(gate).exists():\n    raise RuntimeError('the gate is closed')",
    "deadline = time.time() + 90\n"
    "while x == hold and not Path(release).exists() and time.time() < deadline:\n    time.sleep(0.1)",
    "save_tables(out_dir, result=pd.DataFrame({'x': [x], 'square': [x * x]}))\n"
    "if out_dir:\n    (Path(out_dir) / 'figures').mkdir(exist_ok=True)\n"
    "    (Path(out_dir) / 'figures' / 'curve.svg').write_text('<svg/>')\n"
    "open(log, 'a').write(f'end {x}\\n')",
)


@pytest.fixture
def project(tmp_path):
    """notebooks/count.ipynb and params/count.yaml (x in 1, 2, 3), with the log, gate and release files."""
    write_notebook(tmp_path / "notebooks" / "count.ipynb", PARAMETERS, *CELLS)
    (tmp_path / "params").mkdir()
    return tmp_path


def sweep_file(project: Path, xs=(1, 2, 3), **fixed) -> Path:
    fixed = {"log": str(project / "log.txt"), **fixed}
    path = project / "params" / "count.yaml"
    path.write_text(yaml.safe_dump({"notebooks": ["count"], "fixed": fixed, "grid": {"x": list(xs)}}))
    return path


def log_lines(project: Path) -> list[str]:
    """The log without pids: 'start 1', 'end 1', ..."""
    path = project / "log.txt"
    return [" ".join(line.split()[:2]) for line in path.read_text().splitlines()] if path.exists() else []


def statuses(manifest_path: Path) -> dict[int, str]:
    manifest = json.loads(manifest_path.read_text())
    return {r["grid_point"]["x"]: r["status"] for r in manifest["runs"]}


# ---- papermill runs -----------------------------------------------------------------------------


def test_a_failing_notebook_keeps_its_error_and_the_next_run_retries_only_it(project):
    path = sweep_file(project, xs=(1, 2), gate=str(project / "gate"))
    out, said = project / "outputs", []
    first = run_sweep(path, out=out, run_id="r", cache_dir=project / "cache", progress=False, echo=said.append)
    assert [(r.grid_point["x"], r.status) for r in first.runs] == [(1, "ok"), (2, "failed")]
    assert [r.run_id for r in first.failed] == ["count__x=2"]
    failed = first.failed[0]
    # the cell as numbered in the executed notebook (papermill adds its own cells), and its first line
    assert re.fullmatch(r"RuntimeError: the gate is closed \(cell \d: if gate and x == 2 and not .*\)", failed.error)
    assert said[0].startswith("ok ") and said[0].endswith("count__x=1")
    assert said[1].endswith("count__x=2  (" + failed.error + ")")
    # what the failed run leaves: the executed notebook with its error, its parameters, its manifest, the log
    run_dir = Path(failed.dir)
    executed = nbformat.read(str(run_dir / "count.ipynb"), as_version=4)
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert [e["evalue"] for e in errors] == ["the gate is closed"]
    assert yaml.safe_load((run_dir / "parameters.yaml").read_text())["x"] == 2
    own = json.loads((run_dir / "manifest.json").read_text())
    assert own["status"] == "failed" and own["error"] == failed.error and own["tables"] == []
    assert "the gate is closed" in (run_dir / "papermill.log").read_text()
    ok = first.runs[0]
    assert ok.tables == ["result.parquet"] and ok.figures == ["curve.svg"]
    assert pd.read_parquet(Path(ok.dir) / "tables" / "result.parquet").to_dict("records") == [{"x": 1, "square": 1}]

    (project / "gate").touch()
    told: list[str] = []
    again = run_sweep(path, out=out, run_id="r", cache_dir=project / "cache", progress=False, echo=told.append)
    assert [(r.grid_point["x"], r.status) for r in again.runs] == [(1, "skipped"), (2, "ok")]
    # the resume says what it leaves alone, before it starts
    assert told[0].startswith(f"resumed {again.dir}: 1 of 2 runs succeeded before with the same parameters, "
                              "notebook and code and are skipped") and told[0].endswith(again.runs[0].run_id)
    assert log_lines(project) == ["start 1", "end 1", "start 2", "start 2", "end 2"]
    skipped = again.runs[0]
    assert skipped.tables == ["result.parquet"] and skipped.figures == ["curve.svg"] and skipped.seconds == ok.seconds
    manifest = json.loads((again.dir / "manifest.json").read_text())
    assert statuses(again.dir / "manifest.json") == {1: "skipped", 2: "ok"} and manifest["finished"]
    assert json.loads((Path(again.runs[1].dir) / "manifest.json").read_text())["error"] is None

    forced = run_sweep(path, out=out, run_id="r", cache_dir=project / "cache", only=["x=1"], force=True, progress=False)
    assert [r.status for r in forced.runs] == ["ok"]
    assert log_lines(project).count("start 1") == 2


def test_ctrl_c_mid_sweep_stops_at_once_and_the_next_run_resumes(project):
    path = sweep_file(project, hold=2, release=str(project / "release"))
    out = project / "outputs"
    env = {**os.environ, "ACODIUM_CACHE": str(project / "cache")}
    # SIGINT as a terminal leaves it (a suite started in the background by a script, `make test &`, has it
    # ignored, and an ignored signal stays ignored across exec: the sweep would never see the Ctrl-C).
    sweep = subprocess.Popen(GENCODE + ["sweep", str(path), "--out", str(out), "--run_id", "r"], cwd=project,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        kernel = wait_for_start(project, 2, sweep)
        os.killpg(sweep.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
        stdout, stderr = sweep.communicate(timeout=120)
    finally:
        stop(sweep)
    assert sweep.returncode == 130, stderr
    assert stderr.strip().endswith("gencode: interrupted; finished results are kept.") and "Traceback" not in stderr
    assert stdout.startswith("ok ")  # the run that ended before Ctrl-C was reported
    wait_gone(kernel)
    assert log_lines(project) == ["start 1", "end 1", "start 2"]  # the third run never started
    done = statuses(out / "count" / "r" / "manifest.json")
    assert done[1] == "ok" and done[2] in ("failed", "pending") and done[3] == "pending"

    (project / "release").touch()
    resumed = run_sweep(path, out=out, run_id="r", cache_dir=project / "cache", progress=False)
    assert [(r.grid_point["x"], r.status) for r in resumed.runs] == [(1, "skipped"), (2, "ok"), (3, "ok")]
    assert log_lines(project)[3:] == ["start 2", "end 2", "start 3", "end 3"]
    assert statuses(resumed.dir / "manifest.json") == {1: "skipped", 2: "ok", 3: "ok"}


def test_a_crash_mid_sweep_loses_only_the_run_it_was_in(project):
    path = sweep_file(project, xs=(1, 2), hold=2, release=str(project / "release"))
    out = project / "outputs"
    script = f"from acodium.sweep import run_sweep\nrun_sweep({str(path)!r}, out={str(out)!r}, run_id='r', progress=False)"
    sweep = subprocess.Popen([sys.executable, "-c", script], cwd=project, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        kernel = wait_for_start(project, 2, sweep)
        os.killpg(sweep.pid, signal.SIGKILL)  # no finally, no manifest written on the way out
        sweep.wait(timeout=60)
    finally:
        stop(sweep)
    wait_gone(kernel)  # the kernel notices its papermill is gone and ends too
    manifest = json.loads((out / "count" / "r" / "manifest.json").read_text())
    assert manifest["finished"] is None
    assert statuses(out / "count" / "r" / "manifest.json") == {1: "ok", 2: "pending"}
    assert not (out / "count" / "r" / "count__x=2" / "manifest.json").exists()

    (project / "release").touch()
    resumed = run_sweep(path, out=out, run_id="r", progress=False)  # the dead sweep's lock is gone with it
    assert [(r.grid_point["x"], r.status) for r in resumed.runs] == [(1, "skipped"), (2, "ok")]
    assert log_lines(project) == ["start 1", "end 1", "start 2", "start 2", "end 2"]
    assert pd.read_parquet(out / "count" / "r" / "count__x=2" / "tables" / "result.parquet")["square"].tolist() == [4]


def test_a_cell_over_the_timeout_fails_its_run_with_the_timeout_as_its_error(project):
    write_notebook(project / "notebooks" / "sleepy.ipynb", "sleep_s = 0", "import time", "time.sleep(sleep_s)")
    path = project / "params" / "sleepy.yaml"
    path.write_text(yaml.safe_dump({"notebooks": ["sleepy"], "fixed": {"sleep_s": 60}}))
    (run,) = run_sweep(path, out=project / "outputs", run_id="t", timeout_s=2, progress=False).runs
    assert run.status == "failed" and run.seconds < 60
    assert re.fullmatch(r"CellTimeoutError: A cell timed out while it was being executed, after 2 seconds\. "
                        r"\(cell \d: time\.sleep\(sleep_s\)\)", run.error), run.error


def test_a_notebook_papermill_cannot_read_fails_with_papermills_last_words(tmp_path):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json")
    run = Run(run_id="broken", notebook=str(broken), parameters={"x": 1}, grid_point={}, dir=str(tmp_path / "run"))
    assert execute_run(run) is run
    assert run.status == "failed" and run.error and "\n" not in run.error
    own = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert own["status"] == "failed" and own["error"] == run.error and own["versions"]["papermill"]


def test_a_bad_run_id_is_refused_before_anything_runs(project):
    with pytest.raises(UserError) as error:
        run_sweep(sweep_file(project), out=project / "outputs", run_id="../escape", progress=False)
    assert str(error.value) == "The run id '../escape' may hold only letters, digits, '.', '_' and '-'."
    assert not (project / "outputs").exists()


def wait_for_start(project: Path, x: int, proc: subprocess.Popen, timeout_s: float = 240) -> int:
    """Wait until run x has started; the pid of its kernel."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        path = project / "log.txt"
        for line in path.read_text().splitlines() if path.exists() else []:
            parts = line.split()
            if parts[:2] == ["start", str(x)] and len(parts) == 3:
                return int(parts[2])
        assert proc.poll() is None, "the sweep ended before the run started"
        time.sleep(0.2)
    raise AssertionError(f"run x={x} did not start within {timeout_s} s")


def wait_gone(pid: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    raise AssertionError(f"the kernel {pid} outlived its sweep")


def stop(proc: subprocess.Popen) -> None:
    """Kill what is left of a sweep this test started (its own process group)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# ---- resume decisions without papermill ---------------------------------------------------------


def finished_run(tmp_path: Path, **manifest) -> Run:
    """A run whose folder holds what a successful run left, and a manifest with `manifest` over it."""
    run = Run(run_id="nb__x=1", notebook=str(tmp_path / "nb.ipynb"), parameters={"x": 1}, grid_point={"x": 1},
              dir=str(tmp_path / "run"), notebook_sha256="n" * 64, code_sha256="c" * 64)
    out = Path(run.dir)
    (out / "tables").mkdir(parents=True)
    (out / "figures").mkdir()
    (out / "nb.ipynb").write_text("{}")
    (out / "tables" / "t.parquet").write_bytes(b"")
    (out / "figures" / "f.png").write_bytes(b"")
    record = {"status": "ok", "parameters": {"x": 1}, "notebook_sha256": "n" * 64, "code_sha256": "c" * 64,
              "tables": ["t.parquet"], "figures": ["f.png"], "seconds": 3.5, **manifest}
    (out / "manifest.json").write_text(json.dumps(record))
    return run


def test_a_run_that_succeeded_with_the_same_everything_stands(tmp_path):
    run = finished_run(tmp_path)
    prev = done_before(run)
    assert prev is not None and prev["seconds"] == 3.5


@pytest.mark.parametrize("change", [
    {"status": "failed"},
    {"status": "pending"},
    {"parameters": {"x": 2}},
    {"parameters": {"x": 1, "extra": 0}},
    {"notebook_sha256": "m" * 64},
    {"code_sha256": "d" * 64},
])
def test_a_run_that_failed_or_ran_other_parameters_notebook_or_code_runs_again(tmp_path, change):
    assert done_before(finished_run(tmp_path, **change)) is None


@pytest.mark.parametrize("missing", ["nb.ipynb", "tables/t.parquet", "figures/f.png", "manifest.json"])
def test_a_run_whose_files_are_gone_runs_again(tmp_path, missing):
    run = finished_run(tmp_path)
    (Path(run.dir) / missing).unlink()
    assert done_before(run) is None


def test_a_damaged_manifest_means_run_again(tmp_path):
    run = finished_run(tmp_path)
    (Path(run.dir) / "manifest.json").write_text('{"status": "ok", ')
    assert done_before(run) is None
    (Path(run.dir) / "manifest.json").write_text('["ok"]')
    assert done_before(run) is None


# ---- helpers --------------------------------------------------------------------------------------


def test_an_executed_notebooks_first_error_names_the_cell(tmp_path):
    nb = nbformat.v4.new_notebook()
    ok_cell = nbformat.v4.new_code_cell("x = 1")
    bad = nbformat.v4.new_code_cell("   \nresult = 1 / 0\nprint(result)")
    bad.outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                          traceback=[])]
    later = nbformat.v4.new_code_cell("raise KeyError('k')")
    later.outputs = [nbformat.v4.new_output("error", ename="KeyError", evalue="'k'", traceback=[])]
    nb.cells = [ok_cell, bad, later]
    nbformat.write(nb, str(tmp_path / "run.ipynb"))
    assert notebook_error(tmp_path / "run.ipynb") == "ZeroDivisionError: division by zero (cell 1: result = 1 / 0)"
    nb.cells = [ok_cell]
    nbformat.write(nb, str(tmp_path / "clean.ipynb"))
    assert notebook_error(tmp_path / "clean.ipynb") is None
    assert notebook_error(tmp_path / "never-written.ipynb") is None


def test_a_failed_runs_error_is_the_cells_the_timeout_or_papermills_last_line(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("while True:\n    pass")
    cell.outputs = [nbformat.v4.new_output("error", ename="KeyboardInterrupt", evalue="", traceback=[])]
    nb.cells = [cell]
    nbformat.write(nb, str(tmp_path / "run.ipynb"))
    timed_out = "Traceback ...\nnbclient.exceptions.CellTimeoutError: A cell timed out while it was being executed, " \
                "after 5 seconds.\nThe message was: Cell execution timed out.\n"
    assert run_error(tmp_path / "run.ipynb", timed_out, 1) == (
        "CellTimeoutError: A cell timed out while it was being executed, after 5 seconds. (cell 0: while True:)")
    assert run_error(tmp_path / "run.ipynb", "", 1) == "KeyboardInterrupt:  (cell 0: while True:)"
    missing = tmp_path / "missing.ipynb"
    assert run_error(missing, timed_out, 1).startswith("CellTimeoutError: A cell timed out")
    assert run_error(missing, "Input notebook does not exist\n  \nFileNotFoundError: nb.ipynb\n\n", 1) == \
        "FileNotFoundError: nb.ipynb"
    assert run_error(missing, "", -9) == "papermill exited with -9"


def test_runs_use_this_environments_kernel_and_a_fixed_hash_seed(monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", "/elsewhere")
    monkeypatch.setenv("PYTHONHASHSEED", "random")
    monkeypatch.setenv("MPLBACKEND", "agg")
    env = kernel_env()
    assert env["JUPYTER_PATH"].split(os.pathsep) == [str(Path(sys.prefix) / "share" / "jupyter"), "/elsewhere"]
    assert env["PYTHONHASHSEED"] == "0" and env["MPLBACKEND"] == "agg"
    monkeypatch.delenv("JUPYTER_PATH")
    monkeypatch.delenv("MPLBACKEND")
    env = kernel_env()
    assert env["JUPYTER_PATH"] == str(Path(sys.prefix) / "share" / "jupyter")
    assert env["MPLBACKEND"] == "module://matplotlib_inline.backend_inline"
    assert (Path(sys.prefix) / "share" / "jupyter" / "kernels" / runner.KERNEL_NAME).is_dir()


def test_a_sweep_result_finds_runs_by_notebook():
    runs = [Run(run_id=f"{nb}__x={x}", notebook=f"/n/{nb}.ipynb", parameters={}, grid_point={"x": x}, status=s)
            for nb, x, s in (("a", 1, "ok"), ("a", 2, "failed"), ("b", 1, "skipped"))]
    result = SweepResult(name="s", dir=Path("/o/s/r"), runs=runs)
    assert result.run("a") is runs[0] and result.run("b") is runs[2]
    assert result.failed == [runs[1]]
    with pytest.raises(KeyError):
        result.run("c")


def test_a_new_run_id_is_the_utc_time_and_a_valid_folder_name():
    rid = runner.new_run_id()
    assert len(rid) == len("20250101-120000") and rid[8] == "-" and rid.replace("-", "").isdigit()
