"""Progress bars: tqdm's own, or in a sweep's run the state written to the file the sweep reads."""

from __future__ import annotations

import json

import pytest

from acodium import progress
from acodium.evaluation.executions import run_executions
from acodium.execute import Execution
from acodium.generate import reference_candidates


def test_in_a_sweeps_run_a_bar_writes_its_state_instead_of_drawing(tmp_path, monkeypatch, capsys):
    path = tmp_path / "progress.json"
    monkeypatch.setenv(progress.PROGRESS_FILE_ENV, str(path))
    bar = progress.progress_bar(total=0, desc="executing", unit="job")
    progress.grow(bar, 10)
    assert progress.read_progress(path) | {"elapsed_s": 0, "time": 0} == {
        "desc": "executing", "n": 0, "total": 10, "unit": "job", "elapsed_s": 0, "time": 0}
    bar.update(4)
    bar.close()  # the last state is written however soon it comes
    assert (progress.read_progress(path)["n"], progress.read_progress(path)["total"]) == (4, 10)
    captured = capsys.readouterr()
    assert captured.out == captured.err == ""  # nothing drawn: the executed notebook keeps no frozen bar
    assert not path.with_name("progress.json.tmp").exists()


def test_a_silent_bar_writes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "progress.json"
    monkeypatch.setenv(progress.PROGRESS_FILE_ENV, str(path))
    bar = progress.progress_bar(total=3, desc="x", progress=False)
    bar.update(3)
    bar.close()
    assert not path.exists() and progress.read_progress(path) is None


def test_a_damaged_state_reads_as_none(tmp_path):
    (tmp_path / "p.json").write_text("{half")
    assert progress.read_progress(tmp_path / "p.json") is None


def test_a_notebook_widget_made_without_a_total_gets_its_length():
    pytest.importorskip("ipywidgets")
    from tqdm.notebook import tqdm

    bar = tqdm(total=0, desc="executing")
    progress.grow(bar, 8)
    bar.update(2)
    bar.refresh()
    _, widget, _ = bar.container.children
    assert (widget.max, widget.value, widget.bar_style) == (8, 2, "")
    bar.close()


def test_the_executions_of_an_evaluation_report_their_progress(tmp_path, monkeypatch):
    """Real executions of the starter problem's solutions, under a sweep's progress file."""
    from acodium import data

    problem = data.load_problems("starter", "train", limit=1, seed=0)
    candidates = reference_candidates(problem, ("python3",), 1)
    path = tmp_path / "progress.json"
    monkeypatch.setenv(progress.PROGRESS_FILE_ENV, str(path))
    run_executions(problem, candidates, test_sets=["public"], execution=Execution(), progress=True)
    state = json.loads(path.read_text())
    assert (state["desc"], state["n"], state["total"], state["unit"]) == (
        "executing", len(candidates), len(candidates), "job")


def test_a_terminal_bar_made_without_work_draws_nothing_until_it_grows_and_ends_its_line(monkeypatch):
    import io

    monkeypatch.delenv(progress.PROGRESS_FILE_ENV, raising=False)
    idle = io.StringIO()
    bar = progress.progress_bar(total=0, desc="executing", unit="job", file=idle)
    bar.close()
    assert idle.getvalue() == ""  # no 'executing: 0job' left on the terminal
    screen = io.StringIO()
    bar = progress.progress_bar(total=0, desc="executing", unit="job", file=screen)
    assert screen.getvalue() == ""
    progress.grow(bar, 3)
    bar.update(3)
    bar.close()
    assert "executing: 100%" in screen.getvalue() and "3/3" in screen.getvalue()
    assert screen.getvalue().endswith("\n")  # the next line starts on its own
