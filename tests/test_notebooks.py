"""The notebooks, run by papermill through the tiny sweep, checked against acodium computed directly.

One sweep (params/tiny.yaml) runs every notebook on two starter problems, two
runs at a time; the temperature notebook samples from the local
chat-completions server of tests/chat_server.py. Each check recomputes what a
notebook stored from the library (and, for the verdicts, from the programs'
own runs), so a notebook that drifts from acodium fails here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from acodium import data, evaluation, generate, metrics, notebook, select, sweep
from acodium.execute import Execution, run_batch
from acodium.execute.types import Job, Program

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from chat_server import ChatServer, FlowScript, wrap  # noqa: E402

TINY = REPO / "params" / "tiny.yaml"
MODEL = "test-model"


@pytest.fixture(scope="module")
def starter():
    return data.load_problems("starter", "train", limit=2, seed=0)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, starter):
    """Every notebook of params/tiny.yaml, executed once for the whole module."""
    server = ChatServer(models=(MODEL,)).start()
    for problem in data.problems(starter):
        (_, good), (_, bad) = problem.solutions("python3")[0], problem.incorrect_solutions("python3")[0]
        # replies alternate between a correct program and an incorrect one, wrapped as models do
        server.reply_for(problem.description, wrap(good, "python_fence"), wrap(bad, "prose"))
    return _sweep_against(server, TINY, tmp_path_factory.mktemp("sweep"), workers=2)


def _sweep_against(server, path, root, workers=1, **overrides):
    """Run a sweep file with the model of the local server; the server is stopped after."""
    mp = pytest.MonkeyPatch()
    mp.setenv("OPENAI_API_KEY", "test-key")
    try:
        result = sweep.run_sweep(
            path, out=root / "outputs", cache_dir=root / "cache", run_id="t", workers=workers, progress=False,
            overrides={"model": MODEL, "base_url": server.url, **overrides},
        )
    finally:
        mp.undo()
        server.stop()
    result.server_requests = server.chat_requests
    result.cache = root / "cache"
    return result


def _run(result, stem):
    run = result.run(stem)
    assert run.status == "ok", f"{stem}: {run.error} (see {run.dir})"
    return run, notebook.load_tables(run.dir)


def _same_metrics(stored: pd.DataFrame, direct: pd.DataFrame) -> None:
    key = ["metric", "n", "k"]
    stored = stored.sort_values(key).reset_index(drop=True)
    direct = direct.sort_values(key).reset_index(drop=True)
    assert stored[key].values.tolist() == direct[key].values.tolist()
    for column in ("value", "ci_low", "ci_high"):
        np.testing.assert_allclose(stored[column].to_numpy(float), direct[column].to_numpy(float), atol=1e-12)


def _reported_ks(candidates: pd.DataFrame) -> list[int]:
    """The k the notebooks report for these pools: the one rule of acodium.metrics."""
    return metrics.reported_ks(candidates.groupby("problem").size().to_numpy()).ks


def _verdicts_by_running(problems, candidates, cache_dir) -> dict[tuple[str, str], bool]:
    """Correct = passes every private and generated test, from the programs' own runs."""
    rows = {p.name: p for p in data.problems(problems)}
    jobs, keys = [], []
    for c in candidates.itertuples():
        p = rows[c.problem]
        tests = p.tests("private") + p.tests("generated")
        from acodium.execute import limits_for_problem

        jobs.append(Job(Program(c.language, c.code), [t[0] for t in tests], [t[1] for t in tests],
                        limits_for_problem(p, c.language)))
        keys.append((c.problem, c.candidate_id))
    results = run_batch(jobs, cache_dir=cache_dir / "executions", progress=False)
    return {key: len(res) == len(job.inputs) and all(r.passed for r in res)
            for key, job, res in zip(keys, jobs, results)}


def test_every_run_is_recorded_in_the_manifest(tiny_run, starter):
    manifest = json.loads((tiny_run.dir / "manifest.json").read_text())
    assert {Path(r["notebook"]).stem for r in manifest["runs"]} == {
        "explore_problems", "solve_rate_vs_samples", "clustering_ablation", "temperature_ablation",
        "alphacode_analyses"}
    assert all(r["status"] == "ok" for r in manifest["runs"]), [r["error"] for r in manifest["runs"]]
    assert manifest["datasets"] == [{
        "source": "starter", "split": "train", "problems": 2, "fingerprint": sweep.dataset_fingerprint(starter),
    }]
    for run in tiny_run.runs:
        executed = nbformat.read(str(Path(run.dir) / Path(run.notebook).name), as_version=4)
        assert executed.metadata["papermill"]["parameters"]["limit"] == 2
        # no progress bar frozen in the executed notebook (the sweep showed them while the run ran)
        outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
        assert not [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
        assert not [o for o in outputs if o.get("output_type") == "stream" and "%|" in o.get("text", "")]
        pngs = [f for f in run.figures if f.endswith(".png")]
        assert pngs and all(f.replace(".png", ".svg") in run.figures for f in pngs)


def test_solve_rate_notebook_matches_acodium(tiny_run, starter):
    run, tables = _run(tiny_run, "solve_rate_vs_samples")
    params = run.parameters
    # the same pool, made directly
    direct = pd.concat([
        generate.generate_candidates(starter, generate.make_source("human", seed=0), None, progress=False),
        generate.generate_candidates(starter, generate.make_source("mutants", seed=0), params["mutant_samples"],
                                     progress=False),
    ], ignore_index=True)
    stored = tables["candidates"]
    assert sorted(zip(stored["problem"], stored["candidate_id"], stored["code"])) == sorted(
        zip(direct["problem"], direct["candidate_id"], direct["code"]))
    # the verdicts, from running the programs on the hidden tests
    truth = _verdicts_by_running(starter, stored, tiny_run.cache)
    judged = tables["judgements"]
    assert {(r.problem, r.candidate_id): bool(r.correct) for r in judged.itertuples()} == truth
    # the metrics, from the stored judgements through acodium.metrics
    ks = _reported_ks(stored)
    recomputed = metrics.metrics_table(judged, ks=ks, ns=[params["n"]], policies={}, trials=params["trials"],
                                       resamples=params["resamples"], seed=0)
    _same_metrics(tables["solve_rate"], recomputed[recomputed["problem"] == "ALL"])
    # pass@1 is the mean share of correct samples, by hand
    per_problem = judged.groupby("problem")["correct"].mean()
    pass1 = tables["solve_rate"].query("metric == 'pass@k' and k == 1")["value"].item()
    assert pass1 == pytest.approx(per_problem.mean())


def test_clustering_notebook_matches_acodium(tiny_run, starter):
    run, tables = _run(tiny_run, "clustering_ablation")
    params = run.parameters
    judged, executions = tables["judgements"], tables["executions"]
    # clusters come from the clustering inputs only, and are what acodium.select makes of the runs
    assert set(executions["test_set"]) == {"public", "private", "mutated"}
    assert judged["cluster"].tolist() == select.judgements(executions, tables["candidates"], seed=0)["cluster"].tolist()
    ks = _reported_ks(tables["candidates"])
    recomputed = metrics.metrics_table(judged, ks=ks, ns=[params["n"]], trials=params["trials"],
                                       resamples=params["resamples"], seed=0,
                                       policies={"random": select.random_policy, "clustered": select.clustered_policy})
    _same_metrics(tables["policies"], recomputed[recomputed["problem"] == "ALL"])
    assert set(tables["policies"]["policy"]) == {"random", "filtered", "filtered + clustered", "pass@k (oracle)"}
    # clustering on every input is the clustered policy of the first table, at the largest k
    by_inputs = tables["by_inputs"]
    assert by_inputs["inputs"].tolist() == [0] + metrics.log_grid(params["clustering_inputs"])
    policies = tables["policies"]
    top = policies[(policies["policy"] == "filtered + clustered") & (policies["k"] == max(ks))]["value"].item()
    assert by_inputs.iloc[-1]["value"] == pytest.approx(top)


def test_temperature_notebook_samples_the_local_server(tiny_run, starter):
    run, tables = _run(tiny_run, "temperature_ablation")
    params = run.parameters
    candidates = tables["candidates"]
    assert sorted(candidates["temperature"].unique()) == params["temperatures"]
    assert candidates.groupby(["temperature", "problem"]).size().tolist() == [params["samples"]] * 4
    assert tiny_run.server_requests == 2 * params["samples"] * len(params["temperatures"])
    meta = candidates["meta"].map(json.loads)
    assert (meta.map(lambda m: m["temperature"]) == candidates["temperature"]).all()
    # verdicts from the programs' own runs, per temperature (candidate ids repeat across temperatures)
    judged = tables["judgements"]
    for t in params["temperatures"]:
        cands = candidates[candidates["temperature"] == t]
        truth = _verdicts_by_running(starter, cands, tiny_run.cache)
        mine = judged[judged["temperature"] == t]
        assert {(r.problem, r.candidate_id): bool(r.correct) for r in mine.itertuples()} == truth
        # the server alternates a correct and an incorrect program: half of each problem's samples
        assert mine.groupby("problem")["correct"].mean().tolist() == [0.5, 0.5]
        stored = tables["solve_rate"][tables["solve_rate"]["temperature"] == t].drop(columns="temperature")
        direct = metrics.metrics_table(mine.drop(columns="temperature"), ks=_reported_ks(cands), policies={},
                                       resamples=params["resamples"], seed=0)
        _same_metrics(stored, direct[direct["problem"] == "ALL"])


def test_analyses_notebook_matches_acodium(tiny_run, starter):
    """The notebook's run folder (made offline in its run's folder), analysed again by the library, and its
    counts read from the folder's own judgements."""
    from acodium import analyses

    run, tables = _run(tiny_run, "alphacode_analyses")
    folder = Path(run.dir) / "run"
    direct = analyses.analyse(folder, n=run.parameters["n"], progress=False).tables()
    assert set(tables) == set(direct)
    for name, table in direct.items():
        pd.testing.assert_frame_equal(tables[name].reset_index(drop=True), table.reset_index(drop=True),
                                      check_dtype=False, obj=name)
    judged = pd.read_parquet(folder / "judgements.parquet")
    per_problem = tables["per_problem"].set_index("problem")
    assert per_problem.index.tolist() == starter["name"]
    assert per_problem["correct"].to_dict() == judged.groupby("problem")["correct"].sum().to_dict()
    candidates = pd.read_parquet(folder / "candidates.parquet")
    assert set(candidates["source"]) == {"human", "mutant"}
    assert tables["failures"].set_index("language").loc["all", "samples"] == len(candidates)
    assert (Path(run.dir) / "figures" / "copying.png").exists()


@pytest.fixture(scope="module")
def flow_run(tmp_path_factory, starter):
    """params/flow.yaml at its smallest, against a server that plays a model for every stage.

    Direct samples alternate a correct and an incorrect program. A flow run's first program
    is the incorrect one (it passes the examples); its tests include a private test that
    program fails, with the right answer, so the fix stage turns it into the correct one.
    Without model tests the flow keeps the incorrect program.
    """
    server = ChatServer(models=(MODEL,)).start()
    programs, exposing = {}, {}
    for problem in data.problems(starter):
        (_, good), (_, bad) = problem.solutions("python3")[0], problem.incorrect_solutions("python3")[0]
        server.reply_for(problem.description, wrap(good, "python_fence"), wrap(bad, "prose"))
        tests = problem.tests("private")
        results = run_batch([Job(Program("python3", bad), [t[0] for t in tests], [t[1] for t in tests])],
                            progress=False)[0]
        test_in, test_out = next(t for t, r in zip(tests, results) if not r.passed)
        key = problem.description.strip()[:200]
        programs[key] = (good, bad)
        exposing[key] = "tests:\n- input: |\n" + "".join(f"    {line}\n" for line in test_in.strip().split("\n")) + \
            "  output: |\n" + "".join(f"    {line}\n" for line in test_out.strip().split("\n"))

    def of_problem(body, table):
        text = next(m["content"] for m in body["messages"] if m["role"] == "user")
        return next(value for key, value in table.items() if key in text)

    server.responder = FlowScript(
        model_tests=lambda body: of_problem(body, exposing),
        initial_code=lambda body: wrap(of_problem(body, programs)[1], "python_fence"),
        fix=lambda body: "what_went_wrong: |\n  An edge case.\n\n" + wrap(of_problem(body, programs)[0], "python_fence"),
    )
    return _sweep_against(server, REPO / "params" / "flow.yaml", tmp_path_factory.mktemp("flow-sweep"), limit=2,
                          direct_samples=4, flow_runs=2, variants=["full", "no_model_tests"], resamples=200)


def test_flow_notebook_compares_strategies_at_equal_calls(flow_run, starter):
    run, tables = _run(flow_run, "flow_vs_direct")
    candidates, judged = tables["candidates"], tables["judgements"]
    assert candidates.groupby("strategy").size().to_dict() == {"direct": 8, "full": 4, "no_model_tests": 4}
    # verdicts from the programs' own runs, per strategy
    for strategy in ("direct", "full", "no_model_tests"):
        cands = candidates[candidates["strategy"] == strategy]
        mine = judged[judged["strategy"] == strategy]
        truth = _verdicts_by_running(starter, cands, flow_run.cache)
        assert {(r.problem, r.candidate_id): bool(r.correct) for r in mine.itertuples()} == truth
    rate = judged.groupby("strategy")["correct"].mean().to_dict()
    # the model's test exposes the incorrect program and the fix makes it correct; without it, it stays
    assert rate == {"direct": 0.5, "full": 1.0, "no_model_tests": 0.0}
    meta = candidates["meta"].map(json.loads)
    calls = meta.map(lambda m: m.get("calls", 1)).groupby(candidates["strategy"]).mean().to_dict()
    # reflect, explain, 2 approaches, model tests, code, 1 fix; without model tests no fix is needed
    assert calls == {"direct": 1, "full": 7, "no_model_tests": 5}
    # the ablation's calls are the full flow's first 5 (same prompts, sample indices and call ids):
    # answered by the cache, so the two variants differ only where their stages do (paired runs)
    assert flow_run.server_requests == 8 + 4 * 7
    assert meta[candidates["strategy"] == "no_model_tests"].map(lambda m: m["cached_calls"]).tolist() == [5] * 4
    # budget = k x mean calls per sample of the strategy
    solve_rate = tables["solve_rate"]
    assert (solve_rate["budget"] == solve_rate["k"] * solve_rate["strategy"].map(calls)).all()
    stored = solve_rate[solve_rate["strategy"] == "full"].drop(columns=["strategy", "budget"])
    full = judged[judged["strategy"] == "full"].drop(columns="strategy")
    direct = metrics.metrics_table(full, ks=[1, 2], policies={}, resamples=200, seed=0)
    _same_metrics(stored, direct[direct["problem"] == "ALL"])
    spend = tables["stage_spend"]
    assert spend[spend["strategy"] == "full"]["calls_per_run"].sum() == 7
    # the trace shown is the run's own, written under the run folder
    trace = tables["trace"]
    assert trace["stage"].iloc[0] == "reflect" and "accepted" in " ".join(trace["summary"])
    first = starter[0]["name"]
    events = generate.load_trace(Path(run.dir) / "runs" / "full" / "candidates" / "full", first, "flow-0000")
    assert len(events) == len(trace)
    assert (Path(run.dir) / "figures" / "solve_rate_by_calls.png").exists()


def test_flow_notebook_without_a_model_stops_cleanly(tmp_path):
    import papermill

    out = tmp_path / "f.ipynb"
    papermill.execute_notebook(str(REPO / "notebooks" / "flow_vs_direct.ipynb"), str(out), kernel_name="python3",
                               parameters={"out_dir": str(tmp_path / "run")}, progress_bar=False)
    nb = nbformat.read(str(out), as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "No model is configured" in text
    assert not (tmp_path / "run").exists()


def test_explore_notebook_runs_the_problem_solutions(tiny_run, starter):
    run, tables = _run(tiny_run, "explore_problems")
    assert tables["overview"]["name"].tolist() == starter["name"]
    first = data.Problem.from_row(starter[0])
    sols = tables["solutions"]
    assert set(sols["problem"]) == {first.name}
    assert sorted(sols["candidate_id"]) == ["correct-0", "correct-1", "incorrect-0", "incorrect-1"]
    report = evaluation.check_references([first.row], test_sets=["public", "private"], max_solutions=2,
                                         execution=Execution(cache_dir=tiny_run.cache / "executions"), progress=False)
    assert sols.sort_values("candidate_id")["passed_all"].tolist() == \
        report.solutions.sort_values("candidate_id")["passed_all"].tolist()


def test_temperature_notebook_without_a_model_stops_cleanly(tmp_path):
    """The default parameters (as nbval runs them): no model, a message, no error, nothing saved."""
    import papermill

    out = tmp_path / "t.ipynb"
    papermill.execute_notebook(
        str(REPO / "notebooks" / "temperature_ablation.ipynb"), str(out), kernel_name="python3",
        parameters={"out_dir": str(tmp_path / "run")}, progress_bar=False,
    )
    nb = nbformat.read(str(out), as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "No model is configured" in text and "model" in text
    assert not any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
    assert not (tmp_path / "run").exists()


def test_notebooks_are_committed_without_outputs():
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{path.name} needs one cell tagged parameters"
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path.name} holds outputs"
        assert nb.metadata["kernelspec"]["name"] == "python3"


def test_a_missing_key_is_one_sentence_in_the_notebook(tmp_path, monkeypatch):
    """A model named without OPENAI_API_KEY: the cell fails with the sentence alone, no frames."""
    import papermill

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    out = tmp_path / "t.ipynb"
    with pytest.raises(papermill.PapermillExecutionError):
        papermill.execute_notebook(
            str(REPO / "notebooks" / "temperature_ablation.ipynb"), str(out), kernel_name="python3",
            parameters={"model": MODEL, "base_url": "http://127.0.0.1:9/v1", "out_dir": str(tmp_path / "run")},
            progress_bar=False)
    nb = nbformat.read(str(out), as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert len(errors) == 1 and errors[0].ename == "UserError"
    assert errors[0].evalue.startswith("No API key for http://127.0.0.1:9/v1: set OPENAI_API_KEY")
    assert len(errors[0].traceback) == 1 and errors[0].evalue in errors[0].traceback[0]
    assert not (tmp_path / "run").exists()


def test_opening_a_notebook_leaves_no_diff(tmp_path):
    """What Jupyter writes on opening (language_info) is stripped on commit with the keys `make install` sets."""
    import re
    import subprocess

    pytest.importorskip("nbstripout")
    keys = re.search(r"^NB_STRIP_KEYS := (.+)$", (REPO / "Makefile").read_text(), re.M).group(1)
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        committed = path.read_text()
        nb = json.loads(committed)
        assert "language_info" not in nb["metadata"], path.name
        nb["metadata"]["language_info"] = {  # as JupyterLab writes it
            "codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
            "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
            "pygments_lexer": "ipython3", "version": "3.11.2"}
        opened = tmp_path / path.name
        opened.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        stripped = subprocess.run([sys.executable, "-m", "nbstripout", "--extra-keys", keys, "-t", str(opened)],
                                  capture_output=True, text=True, check=True).stdout
        assert stripped == committed, path.name


def test_selection_notebook_matches_acodium_with_model_written_tests(tmp_path, starter):
    """The selection ablation with the local server writing each problem's tests (their outputs the reference's)
    and rating each program passing the public tests for largest_clusters (its calls counted in the budget)."""
    import papermill

    from acodium import mutate
    from acodium.execute import limits_for_problem

    server = ChatServer(models=(MODEL,)).start()
    server.responder = lambda body: "Score: 70" if "Score: N" in body["messages"][-1]["content"] else None
    try:
        for problem in data.problems(starter):
            inputs = mutate.mutate_inputs([t[0] for t in problem.tests("public")], 3, seed=1)
            _, good = problem.solutions("python3")[0]
            runs = run_batch([Job(Program("python3", good), inputs, None, limits_for_problem(problem, "python3"))],
                             progress=False)[0]
            server.reply_for(problem.description, "".join(
                f"Input:\n```\n{i}```\nOutput:\n```\n{r.stdout}```\n" for i, r in zip(inputs, runs)))
        mp = pytest.MonkeyPatch()
        mp.setenv("OPENAI_API_KEY", "test-key")
        try:
            papermill.execute_notebook(
                str(REPO / "notebooks" / "selection_ablation.ipynb"), str(tmp_path / "out.ipynb"),
                kernel_name="python3", progress_bar=False,
                parameters={"test_input_model": MODEL, "scorer_model": MODEL, "base_url": server.url,
                            "out_dir": str(tmp_path / "run"),
                            "cache_dir": str(tmp_path / "cache"), "trials": 200, "resamples": 200})
        finally:
            mp.undo()
    finally:
        server.stop()
    tables = notebook.load_tables(tmp_path / "run")
    by_policy, judged = tables["by_policy"], tables["judgements"]
    passing = judged[judged["passes_public"]]
    # one test-input call per problem, one scoring call per distinct program passing the public tests, no sample
    codes = tables["candidates"].astype({"candidate_id": str}).set_index(["problem", "candidate_id"])["code"]
    asked = {(p, codes[(p, str(c))]) for p, c in zip(passing["problem"], passing["candidate_id"])}
    assert server.chat_requests == len(data.problems(starter)) + len(asked)
    assert (passing["score"] == 70.0).all() and (judged.loc[~judged["passes_public"], "score"] == -np.inf).all()
    assert set(by_policy["policy"]) == {"pass@k (oracle)", "filtered", "random", "filtered + clustered", "mbr_exec",
                                        "codet", "largest_clusters"}
    assert (tables["test_inputs"]["kept"] > 0).all()
    passing = judged[judged["passes_public"]]
    assert (passing["model_tests_passed"] >= 0).all() and passing["model_tests_passed"].max() > 0
    # the test-input call is counted for the policies that look at the clustering inputs, never for the others
    extra = by_policy["llm_calls"] - by_policy["k"]
    assert set(extra[by_policy["policy"].isin(["codet", "mbr_exec"])]) == {1.0}
    assert set(extra[by_policy["policy"].isin(["random", "filtered"])]) == {0.0}
    # largest_clusters also pays its scoring calls: k x the share of a pool passing the public tests, per problem
    share = judged.groupby("problem")["passes_public"].mean().mean()
    mine = by_policy[by_policy["policy"] == "largest_clusters"]
    assert np.allclose(mine["llm_calls"] - mine["k"], 1.0 + mine["k"] * share) and share > 0
    ks = _reported_ks(tables["candidates"])
    names = list(dict.fromkeys(tables["candidates"]["problem"]))
    recomputed = metrics.metrics_table(judged, ks=ks, ns=[1], trials=200, resamples=200, seed=0, problems=names,
                                       policies={name: select.get_policy(name) for name in
                                                 ("random", "clustered", "mbr_exec", "codet", "largest_clusters")})
    stored = tables["by_policy"].drop(columns=["policy", "samples_calls", "test_input_calls", "scorer_calls",
                                               "llm_calls"])
    _same_metrics(stored, recomputed[recomputed["problem"] == "ALL"])
