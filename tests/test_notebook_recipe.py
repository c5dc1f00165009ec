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
    ks = metrics.reported_ks(candidates.groupby("problem").size().to_numpy()).ks
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


@pytest.mark.parametrize("test_sets", [["public"], ["public", "private"], ("private", "public")])
def test_public_tests_deciding_correctness_is_refused_before_any_work(starter, tmp_path, test_sets):
    with pytest.raises(UserError) as caught:
        notebook.recipe(starter, {"mutants": (1, {})}, test_sets=test_sets, run_dir=tmp_path / "run")
    assert str(caught.value) == ("Public tests never count toward correctness (they always run, for the n@k filter): "
                                 "leave \"public\" out of test_sets.")
    assert not (tmp_path / "run").exists()
    with pytest.raises(UserError, match=r"^test_sets is a list of test set names, not the text 'private'\.$"):
        notebook.recipe(starter, {"mutants": (1, {})}, test_sets="private")


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


def test_without_policies_the_recipe_reports_the_clustered_one_only_when_there_are_clustering_inputs(starter, cache,
                                                                                                      made):
    plain = notebook.recipe(starter, {"mutants": (2, dict(seed=0))}, execution=Execution(cache_dir=cache), ns=[1],
                            resamples=20)
    assert set(plain.solve_rate["metric"]) == {"pass@k", "n@k filtered"}
    clustered = notebook.recipe(starter, {"mutants": (2, dict(seed=0))}, execution=Execution(cache_dir=cache),
                                clustering_inputs=2, ns=[1], trials=50, resamples=20)
    assert set(clustered.solve_rate["metric"]) == {"pass@k", "n@k filtered", "n@k clustered"}
    assert clustered.summary["clustering_sets"] == ["mutated"]


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


# ---- a pool with a reply without code, and a problem without candidates -----------------------------


@pytest.fixture(scope="module")
def uneven(starter, cache, tmp_path_factory):
    """The first problem's candidates from a file: a correct and an incorrect human solution and a reply
    without code; the second problem has none. Clustered on three mutated inputs."""
    first = data.Problem.from_row(starter[0])
    path = tmp_path_factory.mktemp("uneven") / "candidates.jsonl"
    rows = [{"problem": first.name, "candidate_id": "good", "code": first.solutions("python3")[0][1]},
            {"problem": first.name, "candidate_id": "none", "code": ""},
            {"problem": first.name, "candidate_id": "bad", "code": first.incorrect_solutions("python3")[0][1]}]
    path.write_text("".join(json.dumps(dict(r, language="python3")) + "\n" for r in rows))
    return notebook.recipe(starter, {"mine": (None, {"source": "file", "path": path})},
                           execution=Execution(cache_dir=cache), clustering_inputs=3, ns=[2], trials=100, resamples=50)


def test_the_ablation_judges_a_reply_without_code_unrun_and_counts_a_problem_without_candidates(uneven, starter):
    names = [p["name"] for p in starter]
    assert set(uneven.candidates["problem"]) == {names[0]}
    with pytest.raises(UserError, match="Candidate 'none' .* has no executions"):  # why judging needs the kit's step
        select.judgements(uneven.executions, uneven.candidates[["problem", "candidate_id"]])
    table = notebook.clustering_inputs_ablation(uneven, n=2, trials=100, resamples=50)
    assert table["inputs"].tolist() == [0, 1, 2, 3]  # 0, then 1, 2, 5, ... up to the three inputs made
    assert (table["problems"] == 2).all() and (table["k"] == 3).all()
    top = uneven.solve_rate.query("metric == 'n@k clustered' and k == 3")
    assert table.iloc[-1][["value", "ci_low", "ci_high"]].tolist() == pytest.approx(
        top[["value", "ci_low", "ci_high"]].iloc[0].tolist())
    # by hand: the empty pool is unsolved, so the mean over both problems is half the first one's
    judged = evaluation.judge_candidates(uneven.executions, uneven.candidates, clustering_sets=["mutated"])
    alone = metrics.metrics_table(judged, ks=[3], ns=[2], policies={"clustered": select.clustered_policy},
                                  trials=100, resamples=50, per_problem=False)
    alone = alone.query("metric == 'n@k clustered'")["value"].item()
    assert alone > 0 and table.iloc[-1]["value"] == pytest.approx(alone / 2)


def test_the_ablation_keeps_the_recipes_interval_level(uneven):
    narrow = dict(uneven.summary, level=0.5)
    at_half = notebook.RecipeTables(uneven.problems, uneven.candidates, uneven.executions, uneven.judgements,
                                    uneven.metrics, narrow)
    wide = notebook.clustering_inputs_ablation(uneven, [3], n=2, trials=100, resamples=50)
    half = notebook.clustering_inputs_ablation(at_half, [3], n=2, trials=100, resamples=50)
    assert half["value"].item() == wide["value"].item()
    assert half["ci_high"].item() - half["ci_low"].item() < wide["ci_high"].item() - wide["ci_low"].item()
    with pytest.raises(UserError, match=r"^There are no clustering input counts to compare\.$"):
        notebook.clustering_inputs_ablation(uneven, [], n=2)


def test_pools_have_a_row_per_problem_with_zeros_for_one_without_candidates(uneven, starter):
    pools = uneven.pools()
    assert list(pools.columns) == ["problem", "candidates", "from file", "no code", "passes_public", "correct",
                                   "clustering_inputs", "clusters"]
    first, second = pools.to_dict("records")
    assert first["problem"] == starter[0]["name"] and second["problem"] == starter[1]["name"]
    assert (first["candidates"], first["from file"], first["correct"], first["clustering_inputs"]) == (3, 3, 1, 3)
    assert first["no code"] == 1  # the reply without code: counted, never run
    assert first["passes_public"] == int(uneven.judgements["passes_public"].sum()) >= 1
    assert first["clusters"] == uneven.judgements["cluster"].nunique() == 3  # the reply without code apart
    assert {k: v for k, v in second.items() if k != "problem"} == {
        "candidates": 0, "from file": 0, "no code": 0, "passes_public": 0, "correct": 0, "clustering_inputs": 3, "clusters": 0}


def test_pools_of_an_unclustered_recipe_count_each_source(made, starter):
    pools = made.pools()
    assert list(pools.columns) == ["problem", "candidates", "from human", "from mutant", "no code", "passes_public",
                                   "correct"]
    assert (pools["no code"] == 0).all()
    assert pools["problem"].tolist() == [p["name"] for p in starter]
    assert (pools["candidates"] == pools["from human"] + pools["from mutant"]).all()
    assert (pools["from mutant"] == 3).all()
    assert pools["correct"].tolist() == made.judgements.groupby("problem", sort=False)["correct"].sum().tolist()


def test_policies_name_each_metric_by_how_submissions_are_chosen(uneven, made):
    named = uneven.policies()
    assert named.drop(columns="policy").equals(uneven.solve_rate)
    assert dict(zip(named["metric"], named["policy"])) == {
        "pass@k": "pass@k (oracle)", "n@k filtered": "filtered", "n@k clustered": "filtered + clustered"}
    assert set(made.policies()["policy"]) == {"pass@k (oracle)", "filtered", "random"}
    renamed = uneven.metrics.assign(metric=uneven.metrics["metric"].replace({"n@k clustered": "n@k codet"}))
    other = notebook.RecipeTables(uneven.problems, uneven.candidates, uneven.executions, uneven.judgements, renamed,
                                  uneven.summary)
    assert "codet" in set(other.policies()["policy"])  # a policy without a label keeps its own name
