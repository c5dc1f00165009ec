"""The notebooks' one recipe: problems and sources in, every stage's table out, as the stages make them."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from acodium import data, evaluation, generate, metrics, mutate, notebook, select
from acodium.errors import UserError
from acodium.execute import Execution


@pytest.fixture(scope="module")
def starter():
    return list(data.load_problems("starter", "train", limit=2, seed=0))


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("recipe-cache")


def _sources():
    return {"human": (None, dict(seed=0)), "mutants": (3, dict(seed=0))}


@pytest.fixture(scope="module")
def made(starter, cache):
    return notebook.recipe(starter, _sources(), execution=Execution(cache_dir=cache), ns=[2], policies=["random"],
                           trials=200, resamples=200)


def test_the_recipe_is_the_stages_wired_by_hand(starter, cache, made):
    candidates = pd.concat([
        generate.generate_candidates(starter, generate.make_source("human", seed=0), None, progress=False),
        generate.generate_candidates(starter, generate.make_source("mutants", seed=0), 3, progress=False),
    ], ignore_index=True)
    assert made.candidates[["problem", "candidate_id", "code"]].equals(candidates[["problem", "candidate_id", "code"]])
    executions, _ = evaluation.run_executions(starter, candidates, test_sets=["public", "private", "generated"],
                                              stop_on_first_failure=True, execution=Execution(cache_dir=cache),
                                              progress=False)
    judged = select.judgements(executions, candidates[["problem", "candidate_id"]])
    mine = made.judgements.set_index(["problem", "candidate_id"]).sort_index()
    theirs = judged.set_index(["problem", "candidate_id"]).sort_index()
    assert mine["correct"].equals(theirs["correct"]) and mine["passes_public"].equals(theirs["passes_public"])
    ks = notebook.k_grid(candidates)
    table = metrics.metrics_table(made.judgements, ks=ks, ns=[2], policies={"random": select.random_policy},
                                  trials=200, resamples=200)
    overall = table[table["problem"] == "ALL"].drop(columns="problem").reset_index(drop=True)
    key = ["metric", "n", "k"]
    pd.testing.assert_frame_equal(made.solve_rate.sort_values(key).reset_index(drop=True)[key + ["value"]],
                                  overall.sort_values(key).reset_index(drop=True)[key + ["value"]])
    assert set(made.solve_rate["metric"]) == {"pass@k", "n@k filtered", "n@k random"}


def test_pass_at_1_is_the_share_of_correct_samples(made):
    pass1 = made.solve_rate.query("metric == 'pass@k' and k == 1")["value"].item()
    assert pass1 == pytest.approx(made.judgements.groupby("problem")["correct"].mean().mean())


def test_tables_are_what_a_sweep_saves_and_over_concatenates(starter, cache, made):
    assert set(made.tables()) == {"candidates", "executions", "judgements", "metrics", "solve_rate"}
    both = notebook.over([1, 2], lambda k: notebook.recipe(
        starter, {"mutants": (k, dict(seed=0))}, execution=Execution(cache_dir=cache), ns=[], resamples=50),
        name="samples")
    assert set(both) == set(made.tables())
    assert both["candidates"].groupby("samples").size().to_dict() == {1: 2, 2: 4}
    assert set(both["solve_rate"]["samples"]) == {1, 2}


def test_a_source_asked_for_nothing_is_skipped_and_nothing_at_all_is_one_sentence(starter):
    with pytest.raises(UserError, match=r"^No source was asked for candidates: every k is 0\.$"):
        notebook.recipe(starter, {"human": (0, {}), "mutants": (0, {})})
    with pytest.raises(UserError, match=r"must be given as \(k, source options\)"):
        notebook.recipe(starter, {"human": {"seed": 0}})
    with pytest.raises(UserError, match="Unknown selection policy 'best'"):
        notebook.recipe(starter, {"mutants": (1, {})}, policies=["best"])


def test_a_source_object_and_a_named_source_under_another_label(starter, cache):
    made = notebook.recipe(starter, {"refs": (2, {"source": "human", "seed": 1}),
                                     "mine": (1, generate.make_source("mutants", seed=2))},
                           execution=Execution(cache_dir=cache), ns=[], resamples=50)
    assert made.candidates.groupby("source").size().to_dict() == {"human": 4, "mutant": 2}


def test_a_run_folder_resumes_without_running_again(starter, cache, tmp_path):
    first = notebook.recipe(starter, _sources(), execution=Execution(cache_dir=cache), ns=[2], resamples=50,
                            run_dir=tmp_path)
    assert first.summary["jobs_run"] > 0
    assert (tmp_path / "candidates" / "human" / "candidates.jsonl").exists()
    again = notebook.recipe(starter, _sources(), execution=Execution(cache_dir=cache), ns=[2], resamples=50,
                            run_dir=tmp_path)
    assert again.summary["jobs_run"] == 0 and again.summary["jobs_resumed"] == first.summary["jobs_run"]
    pd.testing.assert_frame_equal(first.metrics, again.metrics)


def test_clustering_inputs_run_under_their_own_settings_and_cluster_the_pool(starter, cache, tmp_path):
    made = notebook.recipe(starter, _sources(), execution=Execution(cache_dir=cache), clustering_inputs=3,
                           clustering_execution=Execution(cache_dir=cache, time_s=1.0), ns=[2],
                           policies=["clustered"], trials=100, resamples=50, run_dir=tmp_path)
    assert all(len(p["mutated_tests"]["input"]) == 3 for p in made.problems)
    mutated = made.executions[made.executions["test_set"] == "mutated"]
    assert len(mutated) == 3 * len(made.candidates)  # every candidate, every input: no early stop
    settings = json.loads((tmp_path / "clustering" / "settings.json").read_text())
    assert settings["time_limit_s"] == 1.0
    assert json.loads((tmp_path / "settings.json").read_text())["time_limit_s"] is None
    # the clusters are acodium.select's on those runs, and not all candidates share one
    redone = select.judgements(made.executions, made.candidates[["problem", "candidate_id"]])
    assert made.judgements["cluster"].tolist() == redone["cluster"].tolist()
    assert made.judgements.groupby("problem")["cluster"].nunique().min() > 1
    assert "n@k clustered" in set(made.solve_rate["metric"])


def test_the_clustering_inputs_ablation_reuses_the_runs(starter, cache):
    rows = mutate.add_mutated_tests(starter, 3, seed=0, execution=Execution(cache_dir=cache), progress=False)
    made = notebook.recipe(rows, _sources(), execution=Execution(cache_dir=cache), ns=[2], policies=["clustered"],
                           trials=100, resamples=50)  # the problems already carry mutated tests: they are used
    assert (made.executions["test_set"] == "mutated").any()
    table = notebook.clustering_inputs_ablation(made, [3, 0, 3], n=2, trials=100, resamples=50)
    assert table["inputs"].tolist() == [0, 3]
    top = made.solve_rate.query("metric == 'n@k clustered'")
    top = top[top["k"] == top["k"].max()]["value"].item()
    assert table.iloc[-1]["value"] == pytest.approx(top)
    # with no input, the clusters are those of the runs without the mutated rows, scored the same way
    plain = made.executions[made.executions["test_set"] != "mutated"]
    judged = select.judgements(plain, made.candidates[["problem", "candidate_id"]])
    direct = metrics.metrics_table(judged, ks=[int(made.metrics["k"].max())], ns=[2],
                                   policies={"clustered": select.clustered_policy}, trials=100, resamples=50,
                                   per_problem=False)
    assert table.iloc[0]["value"] == pytest.approx(direct.query("metric == 'n@k clustered'")["value"].item())
