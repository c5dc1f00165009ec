"""acodium.evaluation.scoring: score_candidates on real problems; why pools are short, said in one line."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from acodium import select
from acodium.errors import UserError
from acodium.evaluation import (
    CALLS_FAILED,
    FEWER_GENERATED,
    NO_CODE,
    NONE_GENERATED,
    judge_candidates,
    score_candidates,
    short_pools,
    short_pools_note,
)
from acodium.execute import Execution
from acodium.generate import reference_candidates
from acodium.tables import JUDGEMENTS

QUICK = Execution(time_s=3.0)
CHEAP = dict(execution=QUICK, max_tests=3, bootstrap=100, trials=100, progress=False)


def _cands(*rows):
    return pd.DataFrame([{"problem": p, "candidate_id": c, "language": "python3", "code": code} for p, c, code in rows])


# --------------------------------------------------------------------------- short pools


def test_short_pools_give_every_reason_that_applies():
    cands = _cands(("a", "0", "print(1)"), ("a", "1", "print(2)"),
                   ("b", "0", "print(1)"), ("b", "1", ""),
                   ("e", "0", "print(1)"))
    failures = [{"problem": "c", "candidate_id": "0", "error": "HTTP 400: context length exceeded."},
                {"problem": "c", "candidate_id": "1", "error": "HTTP 500"},
                {"problem": "a", "candidate_id": "1", "error": "timeout"},  # made later: not a failure now
                {"problem": "e", "candidate_id": "1", "error": "HTTP 429"}]
    short = short_pools(["a", "b", "c", "d", "e"], cands, 2, failures)
    assert short["reasons"] == {NO_CODE: ["b"], CALLS_FAILED: ["c", "e"], NONE_GENERATED: ["d"]}
    assert short["problems"] == 4 and short["empty_pools"] == 2 and short["k"] == 2
    assert short["failed_calls"] == 3 and short["no_code_candidates"] == 1
    assert short["first_error"] == {"c": "HTTP 400: context length exceeded.", "e": "HTTP 429"}
    fewer = short_pools(["a", "e"], cands, 3)
    assert fewer["reasons"] == {FEWER_GENERATED: ["a", "e"]} and fewer["empty_pools"] == 0
    assert short_pools(["a"], cands, 2)["problems"] == 0


def test_the_short_pools_note_is_one_line_with_an_example_per_reason():
    cands = _cands(("b", "0", ""))
    failures = [{"problem": "c", "candidate_id": "0", "error": "HTTP 400: context length exceeded."}]
    short = short_pools(["b", "c", "d"], cands, 1, failures)
    note = short_pools_note(short, 3)
    assert note == ("3 of 3 problems had fewer candidates with code than k=1 (2 without any, counted as unsolved at "
                    "every k): 1 where extraction found no code (1 candidate judged incorrect without running); "
                    "1 whose LLM calls failed (1 call; 'c': HTTP 400: context length exceeded); "
                    "1 with none generated (e.g. 'd').")
    assert short_pools_note(short_pools(["b"], _cands(("b", "0", "x")), 1), 1) is None


# --------------------------------------------------------------------------- score_candidates on real problems


@pytest.fixture(scope="module")
def four(train_rows):
    """Four real problems whose human solution passes its first tests (1003_E's prints another valid
    tree than the stored one: it is a multi-answer problem, left out here)."""
    return [train_rows[i] for i in (0, 2, 3, 4)]


def test_candidates_without_code_are_scored_without_running_anything(four):
    a, b = four[:2]
    scores = score_candidates([a, b], _cands((a["name"], "0", ""), (a["name"], "1", "  \n")), ks=[1, 2], n=1, **CHEAP)
    assert scores.executions.empty and scores.stats.jobs_total == 0
    assert list(scores.judgements.columns) == JUDGEMENTS
    assert not scores.judgements["correct"].any() and scores.judgements["submitted_rank"].isna().all()
    assert scores.judgements["cluster"].nunique() == 2  # each its own behaviour
    assert scores.summary["metrics"]["pass@k"]["pass@2"]["value"] == 0.0
    assert scores.summary["short_pools"]["reasons"] == {NO_CODE: [a["name"]], NONE_GENERATED: [b["name"]]}


def test_bad_requests_are_refused_before_anything_runs(four, tmp_path):
    a = four[0]
    with pytest.raises(UserError, match=r"^There are no candidates to evaluate\.$"):
        score_candidates(four, _cands(("x", "0", "print(1)")).iloc[:0], **CHEAP)
    with pytest.raises(UserError, match=r"not in the dataset"):
        score_candidates(four, _cands(("elsewhere", "0", "print(1)")), **CHEAP)
    with pytest.raises(UserError, match=r"^execution must be an acodium.execute.Execution, not dict\.$"):
        score_candidates(four, _cands((a["name"], "0", "print(1)")), execution={"time_s": 3})
    with pytest.raises(UserError, match=rf"^The problem {a['name']!r} has no mutated_tests to decide correctness\.$"):
        score_candidates([a], _cands((a["name"], "0", "print(1)")), test_sets=["mutated"], run_dir=tmp_path / "r",
                         **CHEAP)
    with pytest.raises(UserError, match=r'^The "ai" tests are model-written: .* never decide correctness'):
        score_candidates([a], _cands((a["name"], "0", "print(1)")), test_sets=["private", "ai"],
                         run_dir=tmp_path / "r", **CHEAP)
    assert not (tmp_path / "r").exists()  # refused before the run folder is made


def test_a_scored_run_folder_resumes_to_the_same_numbers(four, tmp_path):
    pool = pd.concat([reference_candidates(four), reference_candidates(four).assign(candidate_id="zero",
                                                                                     code="print(0)")])
    first = score_candidates(four, pool, ks=[1, 2], n=1, run_dir=tmp_path, **CHEAP)
    assert first.summary["metrics"]["pass@k"]["pass@1"]["value"] == pytest.approx(0.5)
    assert first.summary["metrics"]["pass@k"]["pass@2"]["value"] == pytest.approx(1.0)
    # the human solution passes the public tests, "print(0)" does not: the filter submits the right one
    assert first.summary["metrics"]["n@k filtered"]["1@2"]["value"] == pytest.approx(1.0)
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["metrics"] == first.summary["metrics"] and saved["time_limit_s"] == 3.0
    assert saved["backend"] == "local" and saved["test_sets"] == ["private", "generated"]
    again = score_candidates(four, pool, ks=[1, 2], n=1, run_dir=tmp_path, **CHEAP)
    assert again.stats.jobs_run == 0 and again.summary["jobs_resumed"] == first.summary["jobs_run"]
    assert again.summary["metrics"] == first.summary["metrics"]
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "judgements.parquet"), again.judgements)
    lines = again.report().splitlines()
    assert lines[0] == ("4 problems (4 with candidates), 8 candidates; correct = passes every test of private, "
                        "generated (95% intervals over problems)")
    assert any(line.split()[:3] == ["pass@k", "pass@1", "0.5000"] for line in lines)


def test_clustering_inputs_run_in_full_and_add_the_clustered_policy(four):
    rows = []
    for row in four[:2]:
        public = row["public_tests"]["input"]
        rows.append(dict(row, mutated_tests={"input": list(public), "output": [""] * len(public),
                                             "output_confirmed": [False] * len(public)}))
    pool = pd.concat([reference_candidates(rows), reference_candidates(rows).assign(candidate_id="zero",
                                                                                     code="print(0)")])
    scores = score_candidates(rows, pool, ks=[2], n=1, **CHEAP)
    assert scores.summary["clustering_sets"] == ["mutated"]
    assert list(scores.summary["metrics"]) == ["pass@k", "n@k filtered", "n@k clustered"]
    assert scores.summary["metrics"]["n@k clustered"]["1@2"]["value"] == 1.0  # the right one is a cluster of its own
    mutated = scores.executions[scores.executions.test_set == "mutated"]
    assert set(mutated["candidate_id"]) == {"correct-0"}  # only the programs passing the public tests
    assert scores.judgements.groupby("problem")["cluster"].nunique().tolist() == [2, 2]
    assert scores.judgements.set_index("candidate_id").loc["zero", "cluster"].tolist() == [-1, -1]  # not clustered
    full = score_candidates(rows, pool, ks=[2], n=1, schedule="full", **CHEAP)
    mutated = full.executions[full.executions.test_set == "mutated"]
    assert set(mutated["candidate_id"]) == {"correct-0", "zero"}  # every candidate, the failing ones too
    assert full.summary["metrics"]["n@k clustered"] == scores.summary["metrics"]["n@k clustered"]
    assert (full.judgements["cluster"] >= 0).all() and full.summary["schedule"] == "full"
    # asked to decide correctness too, the mutated inputs whose output nobody confirmed are no tests
    both = score_candidates(rows, pool, test_sets=["private", "mutated"], ks=[2], n=1, **CHEAP)
    assert both.judgements["correct"].tolist() == scores.judgements["correct"].tolist() == [True, True, False, False]
    assert both.summary["clustering_sets"] == []


def test_model_written_inputs_cluster_by_default_as_mutated_ones_do(four):
    rows = [dict(row, ai_tests={"input": list(row["public_tests"]["input"]),
                                "output": [""] * len(row["public_tests"]["input"])}) for row in four[:2]]
    pool = pd.concat([reference_candidates(rows), reference_candidates(rows).assign(candidate_id="zero",
                                                                                     code="print(0)")])
    scores = score_candidates(rows, pool, ks=[2], n=1, **CHEAP)
    assert scores.summary["clustering_sets"] == ["ai"]  # the default is data's CLUSTERING_TEST_SETS
    ai = scores.executions[scores.executions["test_set"] == "ai"]
    assert len(ai) == sum(len(r["ai_tests"]["input"]) for r in rows)  # every input, for the one passing the public tests
    assert "n@k clustered" in scores.summary["metrics"]


# --------------------------------------------------------------------------- judging a pool


@pytest.fixture(scope="module")
def mixed(four):
    """Two problems' human solutions and a wrong program, a reply without code between them, and their runs."""
    a, b = four[:2]
    pool = pd.concat([reference_candidates([a, b]),
                      _cands((a["name"], "empty", "   "), (b["name"], "wrong", "print(0)"))], ignore_index=True)
    pool = pool.iloc[[0, 2, 1, 3]].reset_index(drop=True)  # the reply without code in the middle
    return pool, score_candidates([a, b], pool, ks=[1], n=1, **CHEAP)


def test_judging_keeps_the_pool_order_and_judges_replies_without_code_unrun(mixed):
    pool, scores = mixed
    judged = judge_candidates(scores.executions, pool)
    assert list(judged.columns) == JUDGEMENTS
    assert list(zip(judged["problem"], judged["candidate_id"])) == list(zip(pool["problem"], pool["candidate_id"]))
    pd.testing.assert_frame_equal(judged, scores.judgements)  # what score_candidates judged
    empty = judged[judged["candidate_id"] == "empty"].iloc[0]
    assert not empty["passes_public"] and not empty["correct"] and pd.isna(empty["submitted_rank"])
    assert empty["cluster"] < 0  # a behaviour of its own, never a cluster of run candidates
    # those with code are exactly acodium.select's judgements of their runs
    coded = pool[pool["candidate_id"] != "empty"]
    direct = select.judgements(scores.executions, coded[["problem", "candidate_id"]])
    direct = direct.set_index(["problem", "candidate_id"])
    mine = judged.set_index(["problem", "candidate_id"]).loc[direct.index]
    pd.testing.assert_frame_equal(mine, direct)
    assert judged["correct"].tolist() == [True, False, True, False]


def test_judging_needs_runs_for_every_candidate_with_code(mixed):
    pool, scores = mixed
    unrun = scores.executions[scores.executions["candidate_id"] != "wrong"]
    with pytest.raises(UserError, match=r"^Candidate 'wrong' of problem .* has no executions\.$"):
        judge_candidates(unrun, pool)
    # without a code column every candidate is taken to have code
    with pytest.raises(UserError, match=r"^Candidate 'empty' of problem .* has no executions\.$"):
        judge_candidates(scores.executions, pool.drop(columns="code"))
    only_empty = judge_candidates(scores.executions.iloc[:0], pool[pool["candidate_id"] == "empty"])
    assert only_empty[["passes_public", "correct"]].values.tolist() == [[False, False]]


def test_agreement_policies_see_model_tests_behaviour_and_scores(four, tmp_path):
    # The model wrote the public inputs with their right outputs (first problem) and with wrong ones (second).
    rows = []
    for i, row in enumerate(four[:2]):
        public = row["public_tests"]
        outputs = list(public["output"]) if i == 0 else ["no such answer\n"] * len(public["input"])
        rows.append(dict(row, ai_tests={"input": list(public["input"]), "output": outputs}))
    pool = pd.concat([reference_candidates(rows), reference_candidates(rows).assign(candidate_id="zero",
                                                                                     code="print(0)")])
    scores = score_candidates(rows, pool, ks=[2], n=1, policies=["codet", "mbr_exec", "largest_clusters"],
                              run_dir=tmp_path, **CHEAP)
    judged = scores.judgements.set_index(["problem", "candidate_id"])
    saved = pd.read_parquet(tmp_path / "judgements.parquet")  # the run folder keeps what the policies saw
    assert {"behaviour", "model_set", "model_tests_passed", "score"} <= set(saved.columns)
    first, second = (r["name"] for r in rows)
    tests = [min(3, len(r["public_tests"]["input"])) for r in rows]  # max_tests=3
    assert judged.loc[(first, "correct-0"), "model_tests_passed"] == tests[0]
    assert judged.loc[(second, "correct-0"), "model_tests_passed"] == 0  # the model's outputs contradict the reference
    assert judged.loc[(first, "zero"), "model_tests_passed"] == 0 and judged.loc[(first, "zero"), "model_set"] == -1
    assert len(judged.loc[(first, "correct-0"), "behaviour"]) == tests[0] and judged.loc[(first, "zero"), "behaviour"] is None
    assert judged.loc[(first, "zero"), "score"] > judged.loc[(first, "correct-0"), "score"]  # shorter: scored higher
    metrics = scores.summary["metrics"]
    assert {"n@k codet", "n@k mbr_exec", "n@k largest_clusters"} <= set(metrics)
    for name in ("n@k codet", "n@k mbr_exec", "n@k largest_clusters"):  # the one program passing public is correct
        assert metrics[name]["1@2"]["value"] == 1.0


def test_codet_without_model_tests_is_refused_before_anything_runs(four):
    rows = [dict(row, ai_tests={"input": list(row["public_tests"]["input"]),
                                "output": [""] * len(row["public_tests"]["input"])}) for row in four[:2]]
    with pytest.raises(UserError, match=r"^The codet policy needs model-written tests \(ai_tests with expected "
                                        r"outputs.*any\.$"):
        score_candidates(rows, reference_candidates(rows), ks=[1], n=1, policies=["codet"], **CHEAP)
    with pytest.raises(UserError, match=r"^Unknown scorer 'tokens'"):
        score_candidates(rows, reference_candidates(rows), ks=[1], n=1, scorer="tokens", **CHEAP)
