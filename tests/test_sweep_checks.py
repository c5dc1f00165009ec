"""What would fail late in every run is refused once, in seconds, before any run starts; a running run's
progress reaches the sweep.

The notebook is written into tmp_path and run by papermill with the project's
kernel, as `gencode sweep` runs the real ones; it logs each start, so a test
can tell that no run began.
"""

from __future__ import annotations

import re
import socket
import sys
import time
from pathlib import Path

import datasets
import pytest
import yaml

from acodium.errors import UserError
from acodium.sweep import run_sweep
from acodium.sweep.checks import asks_model, check_dataset
from acodium.sweep.plan import Run
from acodium.sweep.runner import PROGRESS_FILE, execute_run

sys.path.insert(0, str(Path(__file__).parent))
from chat_server import ChatServer  # noqa: E402
from tiny_notebook import write_notebook  # noqa: E402

PARAMETERS = "dataset = 'starter'\nmodel = ''\nbase_url = ''\nllm_samples = 0\nlog = ''\nout_dir = ''\ncache_dir = ''"
LOG_START = "open(log, 'a').write('start\\n')"
COUNT = ("import time\nfrom acodium.progress import progress_bar\n"
         "bar = progress_bar(total=3, desc='counting', unit='step')\n"
         "for _ in range(3):\n    time.sleep(1.2)\n    bar.update(1)\nbar.close()")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sweep_file(tmp_path: Path, *cells: str, **fixed) -> Path:
    write_notebook(tmp_path / "notebooks" / "n.ipynb", PARAMETERS, LOG_START, *cells)
    path = tmp_path / "params" / "n.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump({"notebooks": ["n"], "fixed": {"log": str(tmp_path / "log.txt"), **fixed}}))
    return path


def refused(tmp_path: Path, path: Path, **options) -> tuple[str, float]:
    started = time.monotonic()
    with pytest.raises(UserError) as error:
        run_sweep(path, out=tmp_path / "out", cache_dir=tmp_path / "cache", progress=False, **options)
    seconds = time.monotonic() - started
    assert not (tmp_path / "log.txt").exists(), "a run started"
    assert not (tmp_path / "out").exists(), "a run folder was made"
    message = str(error.value)
    assert "\n" not in message and message.endswith("."), message
    return message, seconds


def test_an_unreachable_hub_is_said_in_seconds_before_any_run(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    message, seconds = refused(tmp_path, sweep_file(tmp_path, dataset="deepmind/code_contests"))
    assert message == ("Cannot load the dataset 'deepmind/code_contests': the hub (127.0.0.1) is unreachable; "
                       "give local files, or set HF_HUB_OFFLINE=1 to read a cached copy.")
    assert seconds < 30  # papermill's parameters and the probe; each run used to spend minutes in retries


def test_offline_mode_leaves_the_hub_alone(monkeypatch):
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    check_dataset("deepmind/code_contests")  # datasets reads its cache, and says at once when it has none


def test_a_missing_file_is_said_before_any_run(tmp_path):
    message, _ = refused(tmp_path, sweep_file(tmp_path, dataset=str(tmp_path / "nope.jsonl")))
    assert message == f"No such file: {tmp_path / 'nope.jsonl'}."


def test_a_missing_key_is_said_before_any_run(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    message, _ = refused(tmp_path, sweep_file(tmp_path, model="m", base_url="http://127.0.0.1:9/v1", llm_samples=4))
    assert message.startswith("No API key for http://127.0.0.1:9/v1: set OPENAI_API_KEY")


def test_a_model_the_server_does_not_serve_is_said_before_any_run(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    server = ChatServer(models=("test-model",)).start()
    try:
        message, _ = refused(tmp_path, sweep_file(tmp_path, model="gpt-nope", base_url=server.url, llm_samples=4))
    finally:
        server.stop()
    assert message == f"The server at {server.url} does not serve the model 'gpt-nope'; it lists test-model."
    assert server.chat_requests == 0


@pytest.mark.parametrize("role", ["test_input_model", "scorer_model"])
def test_the_model_writing_test_inputs_or_rating_programs_is_checked_before_any_run(tmp_path, monkeypatch, role):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    path = sweep_file(tmp_path, **{role: "m"}, base_url="http://127.0.0.1:9/v1")
    write_notebook(tmp_path / "notebooks" / "n.ipynb", PARAMETERS + f"\n{role} = ''", LOG_START)
    message, _ = refused(tmp_path, path)
    assert message.startswith("No API key for http://127.0.0.1:9/v1: set OPENAI_API_KEY")


def test_a_model_is_checked_only_where_it_is_asked():
    assert asks_model({"model": "m"}) and asks_model({"model": "m", "llm_samples": 3})
    assert not asks_model({"model": "m", "llm_samples": 0}) and not asks_model({"model": "", "llm_samples": 3})


def test_a_running_runs_progress_reaches_the_sweep(tmp_path):
    path = sweep_file(tmp_path, COUNT)
    out = tmp_path / "run"
    run = Run(run_id="n", notebook=str(tmp_path / "notebooks" / "n.ipynb"),
              parameters={"log": str(tmp_path / "log.txt"), "out_dir": str(out)}, grid_point={}, dir=str(out))
    seen = []
    execute_run(run, on_progress=seen.append)
    assert run.status == "ok", run.error
    counting = [(s["desc"], s["n"], s["total"], s["unit"]) for s in seen]
    assert counting[0][0] == "counting" and counting[-1] == ("counting", 3, 3, "step"), counting
    assert [n for _, n, _, _ in counting] == sorted(n for _, n, _, _ in counting)
    assert len(counting) >= 3  # seen while the cell ran, not only at its end
    assert not (out / PROGRESS_FILE).exists()  # a run's progress is gone once it ends
    assert path.exists()


def test_the_sweep_shows_each_running_runs_line(tmp_path, capfd):
    run_sweep(sweep_file(tmp_path, COUNT), out=tmp_path / "out", cache_dir=tmp_path / "cache", progress=True)
    err = capfd.readouterr().err
    # the kernel's count and clock: "  n: counting:  67%|######6   | 2/3 step [00:02]"
    assert re.search(r"  n: counting: +\d+%\|.*\| [0-3]/3 step \[00:0\d\]", err), err[-2000:]
