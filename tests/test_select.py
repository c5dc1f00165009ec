"""Filtering, behavioural clustering, and the judgements table (the policies: tests/test_policies.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from acodium.errors import UserError
from acodium.metrics import metrics_table
from acodium.select import (
    cluster_candidates,
    correct_on_hidden,
    filter_public,
    judgements,
    submission_order,
)
from acodium.tables import EXECUTIONS, JUDGEMENTS


def run(problem, cid, test_set, index, *, passed=None, output="o", status="OK"):
    return {"problem": problem, "candidate_id": cid, "program_hash": f"h{cid}", "test_set": test_set,
            "test_index": index, "status": status, "passed": passed, "output_hash": output, "time_s": 0.01}


def frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=EXECUTIONS)


# --------------------------------------------------------------------------- filtering and correctness


def test_filter_public_needs_every_public_test():
    ex = frame([
        run("p", 0, "public", 0, passed=True), run("p", 0, "public", 1, passed=True),
        run("p", 1, "public", 0, passed=True), run("p", 1, "public", 1, passed=False),
        run("p", 2, "public", 0, passed=False, status="TIMEOUT"),  # stopped at its first failure
        run("q", 0, "private", 0, passed=True),  # q has no public test: nothing to filter on
    ])
    passes = filter_public(ex)
    assert passes.to_dict() == {("p", 0): True, ("p", 1): False, ("p", 2): False, ("q", 0): True}


def test_filter_public_refuses_a_candidate_never_run_on_public_tests():
    ex = frame([run("p", 0, "public", 0, passed=True), run("p", 1, "private", 0, passed=True)])
    with pytest.raises(UserError, match="Candidate 1 of problem 'p' has no run on the public tests"):
        filter_public(ex)


def test_correct_means_every_hidden_test_and_public_never_counts():
    ex = frame([
        # 0 fails a public test but passes everything hidden: correct
        run("p", 0, "public", 0, passed=False), run("p", 0, "private", 0, passed=True),
        run("p", 0, "generated", 0, passed=True),
        # 1 passes public and private, fails a generated test: not correct
        run("p", 1, "public", 0, passed=True), run("p", 1, "private", 0, passed=True),
        run("p", 1, "generated", 0, passed=False),
        # 2 fails a mutated test (not hidden by docs/semantics.md): still correct
        run("p", 2, "private", 0, passed=True), run("p", 2, "mutated", 0, passed=False),
    ])
    assert correct_on_hidden(ex).to_dict() == {("p", 0): True, ("p", 1): False, ("p", 2): True}


def test_a_candidate_without_hidden_runs_is_an_error_not_a_verdict():
    ex = frame([run("p", 0, "private", 0, passed=True), run("p", 1, "public", 0, passed=True)])
    with pytest.raises(UserError, match="Candidate 1 of problem 'p' has no run on the hidden tests"):
        correct_on_hidden(ex)


# --------------------------------------------------------------------------- clustering


def test_clusters_follow_outputs_and_statuses_on_clustering_inputs_only():
    rows = []
    behaviours = {  # candidate: (output or status) on mutated 0, mutated 1, ai 0
        0: ("a", "b", "c"),
        1: ("a", "b", "c"),
        2: ("a", "b", "TIMEOUT"),
        3: ("a", "b", "TIMEOUT"),
        4: ("a", "b", "RUNTIME_ERROR"),
        5: ("a", "x", "c"),
    }
    for cid, behaviour in behaviours.items():
        for (test_set, index), b in zip([("mutated", 0), ("mutated", 1), ("ai", 0)], behaviour):
            if b in ("TIMEOUT", "RUNTIME_ERROR"):
                # a timeout's partial output differs from run to run: the status is the behaviour
                rows.append(run("p", cid, test_set, index, status=b, output=f"partial{cid}"))
            else:
                rows.append(run("p", cid, test_set, index, output=b))
        # hidden tests differ for everyone: they must not split clusters
        rows.append(run("p", cid, "private", 0, passed=True, output=f"private{cid}"))
    clusters = cluster_candidates(frame(rows))
    got = {cid: clusters[("p", cid)] for cid in behaviours}
    assert got[0] == got[1] and got[2] == got[3]
    assert len({got[0], got[2], got[4], got[5]}) == 4
    # sizes 2, 2, 1, 1: cluster 0 and 1 are the pairs, ties go to the smaller candidate id
    assert got[0] == 0 and got[2] == 1
    assert {got[4], got[5]} == {2, 3} and got[4] == 2


def test_cluster_ids_rank_by_size_and_missing_runs_are_a_behaviour():
    rows = [run("p", cid, "ai", 0, output="same") for cid in range(5)]
    rows += [run("p", 9, "ai", 1, output="same")]  # ran on another input only
    rows += [run("p", 7, "ai", 0, output="other"), run("p", 8, "ai", 0, output="other")]
    clusters = cluster_candidates(frame(rows))
    assert [clusters[("p", c)] for c in range(5)] == [0] * 5
    assert clusters[("p", 7)] == clusters[("p", 8)] == 1
    assert clusters[("p", 9)] == 2


def test_without_clustering_inputs_every_candidate_shares_cluster_zero():
    rows = [run("p", cid, "private", 0, passed=True, output=str(cid)) for cid in range(4)]
    rows += [run("q", "a", "public", 0, passed=True)]
    clusters = cluster_candidates(frame(rows))
    assert (clusters == 0).all() and len(clusters) == 5


def test_clusters_are_per_problem():
    rows = [run("p", 0, "ai", 0, output="x"), run("q", 0, "ai", 0, output="x"), run("q", 1, "ai", 0, output="y"),
            run("q", 2, "ai", 0, output="y")]
    clusters = cluster_candidates(frame(rows))
    assert clusters[("p", 0)] == 0
    assert clusters[("q", 1)] == clusters[("q", 2)] == 0 and clusters[("q", 0)] == 1


# --------------------------------------------------------------------------- the judgements table


def test_judgements_from_an_executions_table(train_rows):
    # Shaped on a real problem: its name and its numbers of public and private tests.
    row = train_rows[0]
    name = row["name"]
    public = len(row["public_tests"]["input"])
    private = len(row["private_tests"]["input"])
    assert public >= 1 and private >= 1
    plan = {  # candidate: (passes public, passes hidden, behaviour on two mutated inputs)
        "right-a": (True, True, ("1", "2")),
        "right-b": (True, True, ("1", "2")),
        "wrong-same": (True, False, ("1", "3")),
        "wrong-other": (True, False, ("9", "TIMEOUT")),
        "hidden-only": (False, True, ("1", "2")),
        "crash": (False, False, ("RUNTIME_ERROR", "RUNTIME_ERROR")),
    }
    rows = []
    for cid, (pub, hidden, behaviour) in plan.items():
        rows += [run(name, cid, "public", i, passed=pub or i > 0) for i in range(public)]
        rows += [run(name, cid, "private", i, passed=hidden or i < private - 1) for i in range(private)]
        for i, b in enumerate(behaviour):
            status = b if b in ("TIMEOUT", "RUNTIME_ERROR") else "OK"
            rows.append(run(name, cid, "mutated", i, status=status, output=b if status == "OK" else ""))
    candidates = pd.DataFrame({"problem": name, "candidate_id": list(plan)[::-1]})
    table = judgements(frame(rows), candidates, seed=3)
    assert list(table.columns) == JUDGEMENTS
    assert list(table["candidate_id"]) == list(plan)[::-1]  # candidates' order
    t = table.set_index("candidate_id")
    assert t["passes_public"].to_dict() == {c: v[0] for c, v in plan.items()}
    assert t["correct"].to_dict() == {c: v[1] for c, v in plan.items()}
    assert t.loc["right-a", "cluster"] == t.loc["right-b", "cluster"] == t.loc["hidden-only", "cluster"] == 0
    assert len({t.loc[c, "cluster"] for c in ("right-a", "wrong-same", "wrong-other", "crash")}) == 4
    # The clustered order: the agreeing pair's cluster first, failing candidates never.
    assert t["submitted_rank"].isna().to_dict() == {c: not v[0] for c, v in plan.items()}
    assert sorted(t["submitted_rank"].dropna()) == [1, 2, 3, 4]
    assert t.loc[["right-a", "right-b"], "submitted_rank"].min() == 1
    assert t.loc[["right-a", "right-b"], "submitted_rank"].max() == 4  # second round of the cycle
    # The table feeds the metrics: 1@4 with clustering solves it whenever both right ones are drawn... and more.
    metrics = metrics_table(table, ks=[1, 6], ns=[1], trials=500, resamples=50)
    clustered = metrics[(metrics["metric"] == "n@k clustered") & (metrics["problem"] == name)]
    assert clustered.set_index("k").loc[6, "value"] == 1.0  # whole pool: the largest cluster is right
    with pytest.raises(UserError, match="Candidate 'ghost' of problem .* has no executions"):
        judgements(frame(rows), pd.DataFrame({"problem": [name], "candidate_id": ["ghost"]}))
    with pytest.raises(UserError, match="lacks the column"):
        judgements(frame(rows).drop(columns="output_hash"))


def test_submission_order_ranks_every_passing_candidate_once():
    ranks = submission_order(np.array([True, True, False, True]), np.array([3, 3, 3, 8]), seed=0)
    assert ranks[2] is None
    assert sorted(r for r in ranks if r is not None) == [1, 2, 3]
    assert ranks[3] == 2  # cluster 3 (two passing) first, then cluster 8, then back to cluster 3
