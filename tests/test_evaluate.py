"""Evaluation runs, reference checks and test-suite strength, on the real CodeContests sample."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from acodium.errors import UserError
from acodium.evaluate import (
    check_candidates,
    load_candidate_set,
    problem_rows,
    problem_tests,
    reference_candidates,
    suite_false_positives,
    test_suite_strength,
)
from acodium.tables import CANDIDATES, EXECUTIONS


# --------------------------------------------------------------------------- pure parts


def test_problem_tests_skip_invalid_and_keep_dataset_indices(train_rows):
    row = dict(train_rows[0])
    private = row["private_tests"]
    n = len(private["input"])
    assert [i for i, _, _ in problem_tests(row, "private")] == list(range(n))
    row["private_tests"] = dict(private, is_valid_test=[i % 2 == 0 for i in range(n)])
    kept = problem_tests(row, "private")
    assert [i for i, _, _ in kept] == list(range(0, n, 2))
    assert kept[1][1] == private["input"][2] and kept[1][2] == private["output"][2]
    assert [i for i, _, _ in problem_tests(row, "private", max_tests=2)] == [0, 2]
    assert problem_tests(row, "generated") == []
    assert problem_tests(row, "mutated") == []
    with pytest.raises(UserError, match="Unknown test set"):
        problem_tests(row, "secret")


def test_check_candidates_rejects_bad_tables(train_rows):
    rows = problem_rows(train_rows[:3])
    good = reference_candidates(rows.values())
    assert list(good.columns) == CANDIDATES and len(good) == 3
    assert set(good["candidate_id"]) == {"correct-0"}
    check_candidates(good, rows)
    with pytest.raises(UserError, match="lacks the column"):
        check_candidates(good.drop(columns=["code"]), rows)
    stranger = pd.concat([good, good.assign(problem="no such problem")])
    with pytest.raises(UserError, match="not in the dataset"):
        check_candidates(stranger, rows)
    with pytest.raises(UserError, match="duplicate"):
        check_candidates(pd.concat([good, good]), rows)


def _executions(rows):
    return pd.DataFrame(
        [dict(zip(["problem", "candidate_id", "test_set", "test_index", "passed"], r),
              program_hash="h", status="OK", output_hash="o", time_s=0.0) for r in rows]
    )[EXECUTIONS]


def test_suite_false_positives_counts_what_the_strong_suite_rejects():
    ex = _executions([
        # p1/a passes everything; p1/b passes public, fails private; p1/c fails public
        ("p1", "a", "public", 0, True), ("p1", "a", "private", 0, True), ("p1", "a", "mutated", 0, True),
        ("p1", "b", "public", 0, True), ("p1", "b", "private", 0, False),
        ("p1", "c", "public", 0, False), ("p1", "c", "private", 0, False),
        # p2/a passes public and private, but a mutated test rejects it
        ("p2", "a", "public", 0, True), ("p2", "a", "private", 0, True), ("p2", "a", "private", 1, True),
        ("p2", "a", "mutated", 3, False),
    ])
    public = suite_false_positives(ex, ["public"], ["private", "generated"])
    assert public["passing_weak"] == 3 and public["rejected_by_strong"] == 1
    assert public["false_positive_share"] == pytest.approx(1 / 3)
    assert public["false_positive_share_per_problem_mean"] == pytest.approx((0.5 + 0.0) / 2)
    strength = test_suite_strength(ex)
    private = strength["private_vs_all_hidden"]
    assert private["passing_weak"] == 2 and private["rejected_by_strong"] == 1
    assert strength["public_vs_hidden"] == public


def test_load_candidate_set_from_a_problems_dataset_and_from_a_table(train_sample_path, train_rows, tmp_path):
    problems, candidates, run_dir = load_candidate_set(train_sample_path)
    assert run_dir is None
    assert len(problems) == len(train_rows) == candidates["problem"].nunique()
    assert set(candidates["language"]) == {"python3"}
    problems, candidates, _ = load_candidate_set(train_sample_path, sample_rate=0.05, seed=1)
    assert len(problems) == round(len(train_rows) * 0.05) == len(candidates)

    table = reference_candidates(train_rows[:4])
    table.to_parquet(tmp_path / "cands.parquet")
    with pytest.raises(UserError, match="give their problems"):
        load_candidate_set(tmp_path / "cands.parquet")
    problems, candidates, _ = load_candidate_set(tmp_path / "cands.parquet", problems=train_sample_path)
    assert [p["name"] for p in problems] == [r["name"] for r in train_rows[:4]]
    assert len(candidates) == 4
    table.drop(columns=["language"]).to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(UserError, match="lacks the column"):
        load_candidate_set(tmp_path / "bad.parquet", problems=train_sample_path)

    run = tmp_path / "run"
    run.mkdir()
    with open(run / "candidates.jsonl", "w") as fh:
        for r in table.to_dict("records"):
            fh.write(json.dumps(r) + "\n")
    problems, candidates, run_dir = load_candidate_set(run, problems=train_sample_path)
    assert run_dir == run and len(candidates) == 4
