"""The ray executor on a real Ray cluster of two nodes on this machine (`ray.cluster_utils.Cluster`: a head
and a worker node, one CPU each, each its own raylet, object store and worker processes), started once for
the module: verdicts equal to the local executor's on the real sample, both nodes used, a node removed
mid-run, a driver killed mid-run resumed, C++ compiled once per node, and nothing of the driver's or Ray's
environment reaching a candidate.

The driver's OPENAI_API_KEY is set to a secret before the cluster starts, so every Ray process here (raylets,
actors) inherits it, as on a head node started from a user's shell.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest

ray = pytest.importorskip("ray", reason="the ray executor's tests need Ray: pip install 'acodium[ray]'")

from ray_cluster import add_node, start_cluster, stop_cluster  # noqa: E402

from acodium.evaluation import run_executions  # noqa: E402
from acodium.execute import Execution, Job, Limits, Program, registry  # noqa: E402
from acodium.execute.ray_executor import RayExecutorWarning  # noqa: E402
from acodium.generate import reference_candidates  # noqa: E402

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SECRET = "sk-acodium-driver-secret-7f3a9c"
SEEN = ["problem", "candidate_id", "test_set", "test_index", "status", "passed", "output_hash"]
LOCAL = Execution(time_s=2.0)
RAY = Execution(time_s=2.0, executor="ray")
# One C++ program for every problem (one hash): it prints the input's first token (wrong, but it runs).
CPP_FIRST_TOKEN = "#include <iostream>\n#include <string>\nint main(){std::string s; std::cin >> s; std::cout << s << std::endl;}\n"
SPY = r"""
import os, socket, sys
print("ENV", sorted(os.environ.items()))
print("WHO", os.getuid(), socket.gethostname(), os.getpid() < 100)
for path in ("/proc/self/environ", "/proc/1/environ"):
    try:
        print(path, open(path, "rb").read())
    except OSError as e:
        print(path, "unreadable", type(e).__name__)
host, port = sys.stdin.read().split()
try:
    socket.create_connection((host, int(port)), timeout=2)
    print("CONNECTED to the Ray GCS")
except OSError as e:
    print("no connection:", type(e).__name__)
"""


def close_ray_executors() -> None:
    """The ray executor of this process closed (its actors hold every node's CPU), so that another driver
    or a new executor can take them."""
    for key in [k for k in registry._instances if k[0].startswith("executor:")]:
        registry._instances.pop(key).close()


@pytest.fixture(scope="module")
def cluster():
    saved = os.environ.get("OPENAI_API_KEY")
    os.environ["OPENAI_API_KEY"] = SECRET  # the driver's key, inherited by every Ray process started here
    running, workers, seconds = start_cluster(nodes=2, cpus=1)
    print(f"two-node Ray cluster started in {seconds:.0f} s")
    try:
        yield running
    finally:
        close_ray_executors()
        stop_cluster(running)
        if saved is None:
            os.environ.pop("OPENAI_API_KEY", None)
        else:
            os.environ["OPENAI_API_KEY"] = saved


@pytest.fixture(scope="module")
def problems(train_rows):
    return train_rows[:4]


@pytest.fixture(scope="module")
def pool(problems):
    """Per problem: its human solution (correct), print(0) (wrong), one C++ program shared by all
    problems (compiled once per node), and for two problems the solution sleeping 0.3 s per test
    (long jobs: a node removed mid-run is mid-job)."""
    refs = reference_candidates(problems)
    sleepy = refs.head(2).assign(candidate_id="sleepy", code="import time\ntime.sleep(0.3)\n" + refs.head(2)["code"])
    return pd.concat([refs, refs.assign(candidate_id="zero", code="print(0)"),
                      refs.assign(candidate_id="cpp", language="cpp", code=CPP_FIRST_TOKEN), sleepy],
                     ignore_index=True)


@pytest.fixture(scope="module")
def local_table(problems, pool):
    table, _ = run_executions(problems, pool, execution=LOCAL, max_tests=4, progress=False)
    return table


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a[SEEN].reset_index(drop=True), b[SEEN].reset_index(drop=True))


def test_verdicts_equal_the_local_executors_and_both_nodes_run_tests(cluster, problems, pool, local_table):
    table, stats = run_executions(problems, pool, execution=RAY, max_tests=4, progress=False)
    _same(table, local_table)
    assert set(local_table["status"]) >= {"OK"} and not local_table["passed"].all()  # right and wrong alike
    used = stats.executor
    assert used["kind"] == "ray" and len(used["nodes"]) == 2
    assert all(node["tests"] > 0 for node in used["nodes"].values()), used
    assert sum(node["tests"] for node in used["nodes"].values()) == stats.tests_run == len(table)
    cpp_jobs = (table[table["candidate_id"] == "cpp"].groupby(["problem", "test_set"]).ngroups)
    compiles = sum(node["compiles"] for node in used["nodes"].values())
    assert cpp_jobs >= 8 and 1 <= compiles <= 2, (cpp_jobs, used)  # one C++ program: once per node at most


def test_the_executor_uses_the_local_sandbox_and_its_cache_keys(cluster):
    be = RAY.get_backend()
    assert be.name == "local" and be.version() == LOCAL.get_backend().version()  # same sandbox, same keys
    assert be.default_workers() == 2
    assert RAY.runnable_languages() == LOCAL.runnable_languages()
    results = RAY.run_batch([Job(Program("python3", "print(int(input()) * 2)"), [str(i) for i in range(30)],
                                 [str(2 * i) for i in range(30)], Limits(time_s=2.0))], progress=False)[0]
    assert [r.stdout for r in results] == [f"{2 * i}\n" for i in range(30)] and all(r.passed for r in results)


def test_a_candidate_under_ray_sees_nothing_of_the_driver_or_of_ray(cluster):
    @ray.remote(num_cpus=0)
    def environment():
        return {k: v for k, v in os.environ.items() if k == "OPENAI_API_KEY" or k.startswith("RAY_")}

    # The Ray processes on the nodes hold the driver's key and Ray's own variables (the test is not empty) ...
    seen = ray.get(environment.remote())
    assert seen.get("OPENAI_API_KEY") == SECRET and any(k.startswith("RAY_") for k in seen)
    address = RAY.get_backend().usage()["address"]
    host, port = address.rsplit(":", 1)
    jobs = [Job(Program("python3", SPY), [f"{host} {port}"], None, Limits(time_s=2.0)) for _ in range(4)]
    jobs += [Job(Program("python3", SPY + f"\n# {i}\n"), [f"{host} {port}"], None, Limits(time_s=2.0))
             for i in range(4)]  # distinct programs: both nodes run some
    before = RAY.get_backend().usage()["nodes"]
    results = RAY.run_batch(jobs, progress=False)
    after = RAY.get_backend().usage()["nodes"]
    assert all(after[n]["tests"] > before.get(n, {}).get("tests", 0) for n in after)  # on both nodes
    for (result,) in results:
        # ... and a candidate sees none of it: the sandbox's own few variables, no way to the cluster.
        assert result.status.value == "OK", result.stderr
        assert SECRET not in result.stdout and "RAY_" not in result.stdout and "OPENAI" not in result.stdout
        env_line = result.stdout.splitlines()[0]
        assert env_line == ("ENV [('HOME', '/tmp'), ('LANG', 'C.UTF-8'), ('PATH', '/usr/bin:/bin'), "
                            "('PWD', '/tmp'), ('PYTHONINTMAXSTRDIGITS', '0')]"), env_line
        assert result.stdout.splitlines()[1] == "WHO 65534 sandbox True"  # bubblewrap's: nobody, its own namespaces
        assert "no connection:" in result.stdout and "CONNECTED" not in result.stdout


def test_a_node_removed_mid_run_loses_nothing(cluster, problems, pool, local_table):
    be = RAY.get_backend()
    extra = add_node(cluster, cpus=1)
    be.refresh()
    assert be.default_workers() == 3
    extra_id = extra.node_id
    removed = []

    def remove_when_busy(i, results):
        """After the first job, the third node is removed the moment it runs one (as a machine dies)."""
        node = be._nodes.get(extra_id)
        if not removed and node is not None and node.in_flight:
            cluster.remove_node(extra)
            removed.append(time.monotonic())

    class RemovingNode(Execution):
        def run_batch(self, jobs, *, progress=True, on_result=None):
            def both(i, results):
                on_result(i, results)
                remove_when_busy(i, results)
            return super().run_batch(jobs, progress=progress, on_result=both)

    resubmitted = be.usage()["resubmitted"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table, stats = run_executions(problems, pool, execution=RemovingNode(time_s=2.0, executor="ray"),
                                      max_tests=4, progress=False)
    assert removed, "the third node never had a job in flight"
    _same(table, local_table)
    assert stats.executor["resubmitted"] >= 1 and be.usage()["resubmitted"] > resubmitted
    assert any(issubclass(w.category, RayExecutorWarning) and "was lost" in str(w.message) for w in caught)
    assert extra_id not in be._nodes and be.default_workers() == 2
    assert stats.executor["nodes"][extra_id]["tests"] >= 0  # counted while it lived


def _cli(args: list[str], env: dict, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "acodium", *map(str, args)], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def test_a_driver_killed_mid_run_resumes_from_its_run_folder(cluster, problems, pool, tmp_path):
    close_ray_executors()  # the nodes' CPUs go to the command's driver
    data = tmp_path / "problems.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in problems))
    many = pd.concat([pool.assign(candidate_id=pool["candidate_id"] + f"-{i}", code=pool["code"] + f"\n# {i}\n")
                      for i in range(3)])
    many.loc[many["language"] == "cpp", "code"] = CPP_FIRST_TOKEN  # one C++ program still
    candidates = tmp_path / "pool.jsonl"
    many[["problem", "candidate_id", "language", "code"]].to_json(candidates, orient="records", lines=True)
    k = int(many.groupby("problem").size().min())
    args = ["gen", "solve_and_evaluate_set", "--dataset_name", data, "--source", "file", "--candidates_file",
            candidates, "--k", k, "--max_tests", 4, "--time_limit", 2, "--no_cache", "--no_progress"]
    env = {**os.environ, "RAY_ADDRESS": cluster.address, "ACODIUM_CACHE": str(tmp_path / "cache")}

    run = tmp_path / "run"
    driver = _cli(args + ["--executor", "ray", "--out", run], env)
    store = run / "executions.sqlite"  # the run's executions, by program, as they finish

    def stored() -> int:
        try:
            with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
                return db.execute("SELECT count(*) FROM runs").fetchone()[0]
        except sqlite3.Error:
            return 0

    deadline = time.monotonic() + 600
    while driver.poll() is None and time.monotonic() < deadline:
        if store.exists() and stored() >= 20:
            break
        time.sleep(0.2)
    assert driver.poll() is None, driver.communicate()[1][-3000:]  # still running: killed mid-run
    driver.send_signal(signal.SIGKILL)
    driver.communicate()
    logged = stored()
    assert not (run / "summary.json").exists()

    resumed = _cli(args + ["--executor", "ray", "--out", run], env)
    out, err = resumed.communicate(timeout=900)
    assert resumed.returncode == 0, err[-3000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["jobs_resumed"] > 0 and summary["jobs_run"] > 0, summary
    assert summary["executor"]["kind"] == "ray" and summary["executor"]["nodes"], summary["executor"]
    assert sum(n["tests"] for n in summary["executor"]["nodes"].values()) < stored()  # the rest were resumed
    assert stored() > logged

    local_run = tmp_path / "local"
    here = _cli(args + ["--executor", "local", "--out", local_run], env)
    _, err = here.communicate(timeout=900)
    assert here.returncode == 0, err[-3000:]
    assert json.loads((local_run / "summary.json").read_text())["executor"] == {"kind": "local"}
    for name in ("executions.parquet", "judgements.parquet", "metrics.parquet"):
        ours, theirs = pd.read_parquet(run / name), pd.read_parquet(local_run / name)
        columns = [c for c in ours.columns if c not in ("time_s", "cpu_s", "memory_bytes", "key")]
        pd.testing.assert_frame_equal(ours[columns], theirs[columns])
