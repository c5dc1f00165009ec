"""`Execution.executor` and `--executor`: the choices, what is refused in one sentence (Ray not installed
included), and how a run's share of where its jobs ran is counted. The cluster itself: test_ray_executor.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest
from test_packaging import _slim

from acodium.errors import UserError
from acodium.execute import Execution
from acodium.execute.base import merge_usage, usage_since
from acodium.execute.registry import RAY_MISSING


def one_sentence(message: str) -> bool:
    return "\n" not in message and message.endswith(".") and not re.search(r"[.:;]\s+[A-Z][a-z]+ ", message)


def test_the_executor_is_local_unless_asked():
    assert Execution().executor == "local"
    assert Execution().get_backend().usage() == {"kind": "local"}


@pytest.mark.parametrize("executor", ["dask", "", "Ray", None, 2])
def test_an_unknown_executor_is_one_sentence_naming_the_choices(executor):
    with pytest.raises(UserError) as caught:
        Execution(executor=executor)
    assert str(caught.value) == f"Unknown executor {executor!r}: choose one of local, ray."


def test_the_ray_executor_runs_the_local_sandbox_only():
    with pytest.raises(UserError) as caught:
        Execution(backend="code_contests", executor="ray")
    assert one_sentence(str(caught.value)) and "use the local backend with it" in str(caught.value)


def test_without_ray_the_ray_executor_is_one_sentence_in_the_library_and_at_the_cli(tmp_path):
    code = """
from acodium.errors import UserError
from acodium.execute import Execution
try:
    Execution(executor="ray")
except UserError as e:
    print(e)
"""
    done = _slim(code, tmp_path=tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == RAY_MISSING, done.stderr
    assert RAY_MISSING == "The ray executor needs Ray, which is not installed: pip install 'acodium[ray]'."
    run_cli = "import sys; from acodium.cli import main; main(sys.argv[1:])"
    done = _slim(run_cli, "gen", "solve_and_evaluate_set", "--dataset_name", "starter", "--source", "human",
                 "--k", "2", "--executor", "ray", "--out", str(tmp_path / "run"), tmp_path=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"gencode: {RAY_MISSING}"]
    assert not (tmp_path / "run").exists()  # refused before any work


def test_an_unknown_executor_at_the_cli_names_the_choices(tmp_path):
    done = _slim("import sys; from acodium.cli import main; main(sys.argv[1:])", "eval", "pass_at_k",
                 "--dataset_name", "starter", "--executor", "slurm", tmp_path=tmp_path)
    assert done.returncode == 2 and "'slurm' is not one of 'local', 'ray'" in done.stderr


def test_a_runs_share_of_the_usage_is_a_difference_of_counts_and_two_runs_add_up():
    before = {"kind": "ray", "address": "h:1", "resubmitted": 1,
              "nodes": {"a": {"host": "x", "cpus": 2, "jobs": 3, "tests": 30, "compiles": 1}}}
    after = {"kind": "ray", "address": "h:1", "resubmitted": 3,
             "nodes": {"a": {"host": "x", "cpus": 2, "jobs": 5, "tests": 50, "compiles": 2},
                       "b": {"host": "y", "cpus": 4, "jobs": 7, "tests": 70, "compiles": 1}}}
    share = usage_since(before, after)
    assert share == {"kind": "ray", "address": "h:1", "resubmitted": 2,
                     "nodes": {"a": {"host": "x", "cpus": 2, "jobs": 2, "tests": 20, "compiles": 1},
                               "b": {"host": "y", "cpus": 4, "jobs": 7, "tests": 70, "compiles": 1}}}
    both = merge_usage(share, {"kind": "ray", "resubmitted": 0, "nodes": {"b": {"cpus": 4, "jobs": 1, "tests": 9,
                                                                                "compiles": 0}}})
    assert both["nodes"]["b"] == {"host": "y", "cpus": 4, "jobs": 8, "tests": 79, "compiles": 1}
    assert both["resubmitted"] == 2 and json.loads(json.dumps(both)) == both
    assert usage_since({"kind": "local"}, {"kind": "local"}) == {"kind": "local"}
    assert merge_usage({}, {"kind": "local"}) == {"kind": "local"}


RUN_ONE = """
from acodium.execute import Execution, Job, Limits, Program
execution = Execution(executor="ray")
results = execution.run_batch([Job(Program("python3", "print(input()[::-1])"), ["abc"], ["cba"], Limits(time_s=2))],
                              progress=False)
usage = execution.get_backend().usage()
print(results[0][0].status.value, results[0][0].passed, usage["kind"], sum(n["tests"] for n in usage["nodes"].values()))
"""


def _python(code: str, env: dict, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=timeout)


def test_a_ray_address_nothing_answers_on_is_one_sentence_at_once(tmp_path):
    pytest.importorskip("ray", reason="needs Ray: pip install 'acodium[ray]'")
    env = {**os.environ, "RAY_ADDRESS": "127.0.0.1:1", "ACODIUM_CACHE": str(tmp_path / "cache")}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "acodium", "eval", "pass_at_k", "--dataset_name", "starter",
                           "--executor", "ray", "--no_progress"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == ("gencode: Cannot reach the Ray cluster at RAY_ADDRESS=127.0.0.1:1 "
                                                    "(nothing answers at 127.0.0.1:1: Connection refused).")
    assert time.monotonic() - started < 120  # Ray alone keeps trying a dead address for minutes


@pytest.mark.slow
def test_without_a_cluster_the_ray_executor_starts_a_ray_of_its_own(tmp_path):
    pytest.importorskip("ray", reason="needs Ray: pip install 'acodium[ray]'")
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    done = _python(RUN_ONE, env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["OK", "True", "ray", "1"]
