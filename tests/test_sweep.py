"""Sweeps: grid expansion, the sweep file, and real papermill runs of small notebooks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from acodium import sweep
from acodium.errors import UserError
from tiny_notebook import write_notebook

REPO = Path(__file__).resolve().parents[1]
GENCODE = [sys.executable, "-m", "acodium"]


def test_expand_grid_is_a_product_in_file_order():
    points = sweep.expand_grid({"k": [1, 10], "seed": [0, 1, 2], "n": 10})
    assert len(points) == 6
    assert points[0] == {"k": 1, "seed": 0, "n": 10}
    assert points[1] == {"k": 1, "seed": 1, "n": 10}
    assert points[-1] == {"k": 10, "seed": 2, "n": 10}
    assert sweep.expand_grid(None) == [{}]
    assert sweep.expand_grid([{"a": 1}, {"a": 2, "b": 3}]) == [{"a": 1}, {"a": 2, "b": 3}]
    with pytest.raises(UserError, match="no values"):
        sweep.expand_grid({"k": []})


def test_parse_assignment_reads_yaml_values():
    assert sweep.parse_assignment("k=10") == ("k", 10)
    assert sweep.parse_assignment("t=[0.2, 0.8]") == ("t", [0.2, 0.8])
    assert sweep.parse_assignment("dataset=starter") == ("dataset", "starter")
    with pytest.raises(UserError):
        sweep.parse_assignment("novalue")


@pytest.fixture
def tiny_sweep(tmp_path):
    """A notebook that saves a table from its parameters and fails when x == 2."""
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    write_notebook(
        nbdir / "square.ipynb",
        "x = 1\nlabel = 'a'\nout_dir = ''\ncache_dir = ''",
        "import pandas as pd, sys\nfrom acodium.notebook import save_tables",
        "assert x != 2, 'two is not allowed'\nsquares = pd.DataFrame({'x': [x], 'square': [x * x], 'label': [label]})",
        "save_tables(out_dir, squares=squares)\nprint(sys.executable)",
    )
    params = tmp_path / "params"
    params.mkdir()
    path = params / "squares.yaml"
    path.write_text(yaml.safe_dump({
        "description": "squares of x",
        "notebooks": ["square"],
        "fixed": {"label": "b"},
        "grid": {"x": [1, 2, 3]},
    }))
    return path


def test_load_sweep_only_and_overrides(tiny_sweep):
    s = sweep.load_sweep(tiny_sweep)
    assert s.name == "squares" and [p["x"] for p in s.grid] == [1, 2, 3]
    assert [Path(n).name for n in s.notebooks] == ["square.ipynb"]
    assert [p["x"] for p in sweep.load_sweep(tiny_sweep, only=["x=3"]).grid] == [3]
    s = sweep.load_sweep(tiny_sweep, overrides={"x": 5, "label": "c"})
    assert s.grid == [{}] and s.fixed == {"label": "c", "x": 5}
    with pytest.raises(UserError, match="matches no grid point"):
        sweep.load_sweep(tiny_sweep, only=["x=7"])
    with pytest.raises(UserError, match="neither a grid nor a fixed"):
        sweep.load_sweep(tiny_sweep, only=["y=1"])
    with pytest.raises(UserError, match="No sweep file"):
        sweep.load_sweep(tiny_sweep.with_name("missing.yaml"))


def test_a_parameter_no_notebook_declares_is_an_error(tiny_sweep, tmp_path):
    s = sweep.load_sweep(tiny_sweep, overrides={"samples": 3})
    with pytest.raises(UserError, match="samples"):
        sweep.plan_runs(s, tmp_path / "out", None)


def test_sweep_runs_every_point_keeps_failures_and_resumes(tiny_sweep, tmp_path):
    out = tmp_path / "outputs"
    cache = tmp_path / "cache"
    result = sweep.run_sweep(tiny_sweep, out=out, cache_dir=cache, run_id="r1", workers=2, progress=False)
    assert result.dir == out / "squares" / "r1"
    status = {r.grid_point["x"]: r.status for r in result.runs}
    assert status == {1: "ok", 2: "failed", 3: "ok"}

    manifest = json.loads((result.dir / "manifest.json").read_text())
    assert manifest["sweep"] == "squares" and manifest["finished"]
    assert manifest["versions"]["papermill"] and manifest["versions"]["acodium"]
    assert manifest["git"] is None or len(manifest["git"]["commit"]) == 40
    by_x = {r["grid_point"]["x"]: r for r in manifest["runs"]}
    failed = by_x[2]
    assert "AssertionError" in failed["error"] and "two is not allowed" in failed["error"]
    failed_dir = Path(failed["dir"])
    executed = nbformat.read(str(failed_dir / "square.ipynb"), as_version=4)
    assert any(o.get("output_type") == "error" for c in executed.cells for o in c.get("outputs", []))
    # the injected parameters: the fixed label, the grid's x, the run's own out_dir, the shared cache
    assert by_x[3]["parameters"] == {"label": "b", "x": 3, "out_dir": by_x[3]["dir"], "cache_dir": str(cache.resolve())}
    table = pd.read_parquet(Path(by_x[3]["dir"]) / "tables" / "squares.parquet")
    assert table.to_dict("records") == [{"x": 3, "square": 9, "label": "b"}]
    assert by_x[3]["tables"] == ["squares.parquet"]
    point_manifest = json.loads((Path(by_x[3]["dir"]) / "manifest.json").read_text())
    assert point_manifest["status"] == "ok" and point_manifest["versions"]["python"]
    # the notebook ran in this very interpreter's environment
    executed_ok = nbformat.read(str(Path(by_x[3]["dir"]) / "square.ipynb"), as_version=4)
    printed = "".join(o.get("text", "") for o in executed_ok.cells[-1].outputs)
    assert Path(printed.strip()).resolve().parent == Path(sys.executable).resolve().parent

    # a re-run into the same folder skips what succeeded and keeps the manifest's other runs
    again = sweep.run_sweep(tiny_sweep, out=out, cache_dir=cache, run_id="r1", only=["x=1"], progress=False)
    assert [(r.grid_point["x"], r.status) for r in again.runs] == [(1, "skipped")]
    manifest = json.loads((result.dir / "manifest.json").read_text())
    assert sorted((r["grid_point"]["x"], r["status"]) for r in manifest["runs"]) == [
        (1, "skipped"), (2, "failed"), (3, "ok")
    ]


def test_cli_runs_one_point_and_reports_failures(tiny_sweep, tmp_path):
    out = tmp_path / "o"
    env = {**__import__("os").environ, "ACODIUM_CACHE": str(tmp_path / "c")}
    ok = subprocess.run(
        GENCODE + ["sweep", str(tiny_sweep), "--out", str(out), "--only", "x=3", "--run_id", "a"],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stderr
    assert "1/1 runs succeeded" in ok.stdout
    assert (out / "squares" / "a" / "square__x=3" / "tables" / "squares.parquet").exists()

    bad = subprocess.run(
        GENCODE + ["sweep", str(tiny_sweep), "--out", str(out), "--only", "x=2", "--run-id", "b"],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )
    assert bad.returncode == 1
    assert "1 run(s) failed" in bad.stderr and "square__x=2" in bad.stderr

    typo = subprocess.run(
        GENCODE + ["sweep", str(tiny_sweep), "--only", "y=2"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert typo.returncode == 2 and "neither a grid nor a fixed" in typo.stderr
    assert "Traceback" not in typo.stderr


def test_demo_settings_become_sweep_overrides():
    from acodium.demo import overrides_for

    assert overrides_for() == {}
    assert overrides_for(dataset="deepmind/code_contests", split="valid") == {
        "dataset": "deepmind/code_contests", "split": "valid", "limit": 20}
    assert overrides_for(limit="5")["limit"] == 5
    llm = overrides_for(model="gpt-4o-mini", base_url="http://127.0.0.1:8000/v1")
    assert llm == {"human_samples": 0, "mutant_samples": 0, "synthetic_samples": 0, "llm_samples": 20,
                   "model": "gpt-4o-mini", "base_url": "http://127.0.0.1:8000/v1"}
    # every override names a parameter of the demo's notebooks
    s = sweep.load_sweep(REPO / "params" / "demo.yaml", overrides={**llm, "dataset": "x", "split": "y", "limit": 1})
    sweep.plan_runs(s, Path("unused"), None)


def test_demo_refuses_bad_settings_in_one_sentence():
    for args, message in ((["COLOUR=red"], "Expected one of DATASET"), (["BASE_URL=http://x"], "MODEL is not"),
                          (["LIMIT=many"], "LIMIT must be a number")):
        proc = subprocess.run([sys.executable, "-m", "acodium.demo", *args], capture_output=True, text=True)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr


def test_only_one_notebook_of_a_sweep_keeps_the_other_notebooks_parameters_legal(tmp_path):
    s = sweep.load_sweep(REPO / "params" / "demo.yaml", only=["notebook=solve_rate_vs_samples"])
    runs = sweep.plan_runs(s, tmp_path, tmp_path / "cache")
    assert [Path(r.notebook).stem for r in runs] == ["solve_rate_vs_samples"]
    assert "clustering_inputs" not in runs[0].parameters  # a parameter of the other notebook only
    assert runs[0].parameters["synthetic_samples"] == 30 and runs[0].parameters["mutant_samples"] == 0
    assert runs[0].parameters["out_dir"] == str(tmp_path / "solve_rate_vs_samples")
    with pytest.raises(UserError, match="matches none"):
        sweep.load_sweep(REPO / "params" / "demo.yaml", only=["notebook=nope"])


def test_every_sweep_file_in_params_plans(tmp_path):
    for path in sorted((REPO / "params").glob("*.yaml")):
        s = sweep.load_sweep(path)
        assert sweep.plan_runs(s, tmp_path, None), path.name


def test_a_grid_key_one_notebook_ignores_does_not_multiply_its_runs(tiny_sweep, tmp_path):
    write_notebook(tiny_sweep.parent.parent / "notebooks" / "other.ipynb", "y = 0\nout_dir = ''", "print(y)")
    tiny_sweep.write_text(yaml.safe_dump({"notebooks": ["square", "other"], "grid": {"x": [1, 2], "y": [5, 6]}}))
    runs = sweep.plan_runs(sweep.load_sweep(tiny_sweep), tmp_path, None)
    by_notebook = {}
    for r in runs:
        by_notebook.setdefault(Path(r.notebook).stem, []).append(r.grid_point)
    assert by_notebook == {"square": [{"x": 1}, {"x": 2}], "other": [{"y": 5}, {"y": 6}]}
    assert len({r.run_id for r in runs}) == 4


def test_a_rerun_skips_only_what_the_same_notebook_and_code_made(tiny_sweep, tmp_path):
    out = tmp_path / "outputs"

    def status():
        return [r.status for r in sweep.run_sweep(tiny_sweep, out=out, run_id="r", only=["x=1"], progress=False).runs]

    first = sweep.run_sweep(tiny_sweep, out=out, run_id="r", only=["x=1"], progress=False)
    assert [r.status for r in first.runs] == ["ok"]
    run = first.runs[0]
    assert run.notebook_sha256 and run.code_sha256 == sweep.code_fingerprint()
    # the notebook changed: its old result must not stand for the new notebook
    nb = nbformat.read(run.notebook, as_version=4)
    nb.cells[2].source = nb.cells[2].source.replace("x * x", "x * x * 10")
    nbformat.write(nb, run.notebook)
    assert status() == ["ok"]
    assert pd.read_parquet(Path(run.dir) / "tables" / "squares.parquet")["square"].tolist() == [10]
    assert status() == ["skipped"]
    assert status() == ["skipped"]  # a run skipped once is still done (it ran again before)
    # a table the manifest lists is gone: run again rather than point at nothing
    (Path(run.dir) / "tables" / "squares.parquet").unlink()
    assert status() == ["ok"]
    assert (Path(run.dir) / "tables" / "squares.parquet").exists()
    assert not list(Path(first.dir).rglob("*.tmp"))


def test_a_second_sweep_into_a_busy_run_id_is_refused(tiny_sweep, tmp_path):
    run_dir = tmp_path / "outputs" / "squares" / "busy"
    hold = "import sys\nfrom acodium.tables import run_folder_lock\nwith run_folder_lock(sys.argv[1]):\n" \
           "    print('held', flush=True)\n    sys.stdin.read()\n"
    holder = subprocess.Popen([sys.executable, "-c", hold, str(run_dir)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UserError, match=rf"in use by another process \(pid {holder.pid}\)"):
            sweep.run_sweep(tiny_sweep, out=tmp_path / "outputs", run_id="busy", only=["x=1"], progress=False)
    finally:
        holder.communicate("")
    assert not (run_dir / "manifest.json").exists()


@pytest.mark.parametrize("args, message", [
    (["--set", "novalue"], "gencode: Expected KEY=VALUE, got 'novalue'."),
    (["--set", "samples=3"], "gencode: The sweep sets samples, which no notebook of it declares as a parameter."),
    (["--only", "x=9"], "gencode: --only x=9 matches no grid point; the grid has x in 1, 2, 3."),
    (["--run_id", "a b"], "gencode: The run id 'a b' may hold only letters, digits, '.', '_' and '-'."),
])
def test_cli_refuses_bad_settings_in_one_sentence_before_any_run(tiny_sweep, tmp_path, capsys, monkeypatch, args,
                                                                 message):
    from acodium.cli import main

    monkeypatch.setenv("ACODIUM_CACHE", str(tmp_path / "cache"))
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", str(tiny_sweep), "--out", str(tmp_path / "o"), *args])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == message + "\n"
    assert not (tmp_path / "o").exists()
