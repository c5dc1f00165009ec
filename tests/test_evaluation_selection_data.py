"""acodium.evaluation.selection_data: what mbr_exec, codet and largest_clusters see, from executions by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from acodium.errors import UserError
from acodium.evaluation.selection_data import (
    agreement_columns,
    check_model_tests,
    model_tests,
    needed_columns,
    with_agreement,
    with_scores,
)
from acodium.policies import codet_policy

ROW = {"name": "p", "ai_tests": {"input": ["1\n", "2\n", "3\n"], "output": ["1\n", "", "9\n"]},
       "mutated_tests": {"input": ["4\n"], "output": [""]}}


def run(cid, test_set, index, status="OK", out="h", passed=True):
    return {"problem": "p", "candidate_id": cid, "test_set": test_set, "test_index": index, "status": status,
            "output_hash": out, "passed": passed}


def test_behaviour_model_sets_and_passes_from_the_runs():
    # ai 0 and ai 2 are model tests (they carry the model's output); ai 1 is an input only.
    ex = pd.DataFrame([
        run("a", "ai", 0, out="x"), run("a", "ai", 1, out="y"), run("a", "ai", 2, out="z", passed=False),
        run("a", "mutated", 0, out="m"),
        run("b", "ai", 0, out="x"), run("b", "ai", 1, out="q"), run("b", "ai", 2, out="w", passed=False),
        run("b", "mutated", 0, status="SLOW", passed=False),
        run("c", "ai", 0, status="TIMEOUT", passed=False), run("c", "ai", 1, out="y"),
        run("c", "ai", 2, out="9", passed=True),
        run("c", "mutated", 0, status="TIMEOUT", passed=False),
        run("public", "public", 0),  # another set: ignored
    ])
    got = agreement_columns(ex, {"p": ROW}, key="candidate_id").set_index("candidate_id")
    assert model_tests(ROW) == [0, 2]
    behaviour = np.stack(got.loc[["a", "b", "c"], "behaviour"].to_numpy())  # inputs ai:0, ai:1, ai:2, mutated:0
    assert behaviour[0, 0] == behaviour[1, 0] != behaviour[2, 0]  # a and b print the same on ai 0
    assert behaviour[0, 1] == behaviour[2, 1] != behaviour[1, 1]  # a and c on ai 1
    assert behaviour[1, 3] == behaviour[2, 3] != behaviour[0, 3]  # SLOW reads as TIMEOUT: b and c alike
    assert got.loc[["a", "b", "c"], "model_tests_passed"].tolist() == [1, 1, 1]
    sets = got.loc[["a", "b", "c"], "model_set"].tolist()
    assert sets[0] == sets[1] != sets[2]  # a and b pass model test 0, c passes model test 2


def test_candidates_without_clustering_runs_see_nothing_and_codet_never_submits_them():
    judged = pd.DataFrame({"problem": "p", "candidate_id": ["a", "z"], "passes_public": [True, False],
                           "correct": [True, False], "cluster": [0, -1]})
    ex = pd.DataFrame([run("a", "ai", 0)])
    table = with_agreement(judged, agreement_columns(ex, {"p": ROW}, key="candidate_id"), key="candidate_id")
    assert table["behaviour"].iloc[1] is None and table["model_set"].tolist()[1] == -1
    assert table["model_tests_passed"].tolist() == [1, 0]


def test_scores_and_what_each_policy_needs():
    judged = pd.DataFrame({"problem": "p", "candidate_id": [1, 2], "passes_public": True, "correct": False,
                           "cluster": 0})
    code = pd.DataFrame({"problem": "p", "candidate_id": ["1", "2"], "code": ["print( 1 )", "x=1\nprint(x)"]})
    assert with_scores(judged, "length", code)["score"].tolist() == [-8.0, -11.0]
    assert needed_columns(["codet", "random"]) == {"model_set", "model_passed"}
    assert needed_columns({"mine": codet_policy}) == {"model_set", "model_passed"}
    check_model_tests(["codet"], {"p": ROW}, ["private"])  # has model tests: fine
    for policies in (["codet"], ["clustered"]):  # model outputs never decide correctness, whatever the policy
        with pytest.raises(UserError, match="model-written: they cluster samples and feed codet, but never decide"):
            check_model_tests(policies, {"p": ROW}, ["private", "ai"])
    with pytest.raises(UserError, match="no problem here has any"):
        check_model_tests(["codet"], {"p": {"name": "p"}}, ["private"])
