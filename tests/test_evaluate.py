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


def test_load_candidate_set_from_a_problems_dataset_and_from_a_table(train_rows, tmp_path):
    source = tmp_path / "twenty.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in train_rows[:20]))
    problems, candidates, run_dir = load_candidate_set(source)
    assert run_dir is None
    assert len(problems) == 20 == candidates["problem"].nunique()
    assert set(candidates["language"]) == {"python3"}
    problems, candidates, _ = load_candidate_set(source, sample_rate=0.25, seed=1)
    assert len(problems) == 5 == len(candidates)
    assert [p["name"] for p in problems] == [r["name"] for r in train_rows[:20] if r["name"] in set(candidates["problem"])]

    table = reference_candidates(train_rows[:4])
    table.to_parquet(tmp_path / "cands.parquet")
    with pytest.raises(UserError, match="give their problems"):
        load_candidate_set(tmp_path / "cands.parquet")
    problems, candidates, _ = load_candidate_set(tmp_path / "cands.parquet", problems=source)
    assert [p["name"] for p in problems] == [r["name"] for r in train_rows[:4]]
    assert len(candidates) == 4
    table.drop(columns=["language"]).to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(UserError, match="lacks the column"):
        load_candidate_set(tmp_path / "bad.parquet", problems=source)

    run = tmp_path / "run"
    run.mkdir()
    with open(run / "candidates.jsonl", "w") as fh:
        for r in table.to_dict("records"):
            fh.write(json.dumps(r) + "\n")
    problems, candidates, run_dir = load_candidate_set(run, problems=source)
    assert run_dir == run and len(candidates) == 4


# --------------------------------------------------------------------------- runs on the real sample

from acodium.evaluate import check_references, run_executions, score_candidates  # noqa: E402
from acodium.mutate import add_mutated_tests, mutant_candidates  # noqa: E402

FAST = dict(time_limit_s=3.0, max_tests=4, progress=False)


@pytest.fixture(scope="module")
def few(train_rows):
    return train_rows[:5]


@pytest.fixture(scope="module")
def pool(few):
    return pd.concat([reference_candidates(few), mutant_candidates(few, 3, seed=2)], ignore_index=True)


def test_a_limited_run_resumes_with_only_the_rest(few, pool, tmp_path):
    first, stats1 = run_executions(few, pool, run_dir=tmp_path, max_jobs=7, **FAST)
    assert stats1.jobs_run == 7 and stats1.stopped_early
    assert len(first) and first.groupby(["problem", "candidate_id", "test_set"]).ngroups == 7
    assert not (tmp_path / "executions.parquet").exists()
    second, stats2 = run_executions(few, pool, run_dir=tmp_path, **FAST)
    assert stats2.jobs_skipped == 7
    assert stats2.jobs_run == stats2.jobs_total - 7 == 2 * len(pool) - 7
    assert (tmp_path / "executions.parquet").exists()
    again, stats3 = run_executions(few, pool, run_dir=tmp_path, **FAST)
    assert stats3.jobs_run == 0 and stats3.jobs_skipped == stats2.jobs_total
    fresh, _ = run_executions(few, pool, **FAST)  # no run folder: nothing read, all executed
    key = ["problem", "candidate_id", "test_set", "test_index"]
    assert not second.duplicated(key).any()
    pd.testing.assert_frame_equal(
        second[key + ["passed", "status", "output_hash"]], fresh[key + ["passed", "status", "output_hash"]]
    )
    assert list(second.columns) == EXECUTIONS


def test_stopping_at_the_first_failing_hidden_test(few, pool):
    full, _ = run_executions(few, pool, **FAST)
    short, _ = run_executions(few, pool, stop_on_first_failure=True, **FAST)
    assert len(short) < len(full)
    hidden_full = full[full.test_set != "public"].groupby(["problem", "candidate_id"])["passed"].all()
    hidden_short = short[short.test_set != "public"].groupby(["problem", "candidate_id"])["passed"].all()
    pd.testing.assert_series_equal(hidden_full, hidden_short)
    # public tests always run in full; a failing job ends with its failure
    assert (short.test_set == "public").sum() == (full.test_set == "public").sum()
    for _, job in short[short.test_set == "private"].groupby(["problem", "candidate_id"]):
        assert job["passed"].iloc[:-1].all()


def test_check_references_on_real_solutions(few, tmp_path):
    report = check_references(few, run_dir=tmp_path, **FAST)
    s = report.summary
    assert s["problems"] == 5 and s["solutions_run"] == {"correct": 5, "incorrect": 0}
    assert s["incorrect_rejected_share"] is None
    assert sum(s["status_counts"].values()) == s["executions"] == len(report.executions)
    assert s["tests_run"] == len(report.tests) == s["executions"]  # one solution per problem
    passed_all = report.solutions.set_index("problem")["passed_all"]
    assert s["correct_passing_all_tests_share"] == pytest.approx(passed_all.mean())
    # one correct solution each: a disagreement is a question (tests/test_cleaning.py), invalid
    # only on a problem that may accept several answers
    t = report.tests
    assert (~t.is_valid_test <= ((t.correct_ok == 1) & (t.correct_passed == 0))).all()
    ds = report.dataset
    assert len(ds) == 5 and "is_valid_problem" in ds.column_names
    for row in ds:
        for s_name in ("public", "private"):
            valid = row[f"{s_name}_tests"]["is_valid_test"]
            assert len(valid) == len(row[f"{s_name}_tests"]["input"])
            bad = set(t[(t.problem == row["name"]) & (t.test_set == s_name) & ~t.is_valid_test].test_index)
            assert {i for i, v in enumerate(valid) if not v} == bad
    # the cleaned rows skip their invalid tests
    cleaned = problem_rows(ds)
    for name, row in cleaned.items():
        kept = {i for i, _, _ in problem_tests(row, "public")}
        bad = set(t[(t.problem == name) & (t.test_set == "public") & ~t.is_valid_test].test_index)
        assert not kept & bad


def test_mutated_tests_agree_with_the_reference(few):
    # one reference per problem here: outputs it alone vouches for, as before issue 14, by explicit choice
    rows = add_mutated_tests(few[:3], 4, seed=1, time_limit_s=3.0, progress=False, min_agreeing=1,
                             filter_with_references=True)
    total = 0
    for before, after in zip(few[:3], rows):
        mutated = after["mutated_tests"]
        assert len(mutated["input"]) == len(mutated["output"]) <= 4
        assert not set(mutated["input"]) & set(before["public_tests"]["input"])
        total += len(mutated["input"])
    assert total >= 6
    assert "mutated_tests" not in few[0]  # the input rows are left alone
    # the human solution passes its own mutated tests; at least one mutant does not
    pool = pd.concat([reference_candidates(rows), mutant_candidates(rows, 4, seed=3)], ignore_index=True)
    ex, _ = run_executions(rows, pool, test_sets=("mutated",), time_limit_s=3.0, progress=False)
    verdict = ex.groupby(["problem", "candidate_id"])["passed"].all()
    assert verdict.xs("correct-0", level=1).all()
    assert not verdict[[c.startswith("mutant") for c in verdict.index.get_level_values(1)]].all()


def test_score_candidates_pass_at_k_matches_the_judgements(few, pool, tmp_path):
    scores = score_candidates(few, pool, ks=[1, 2, 4], n=2, run_dir=tmp_path, bootstrap=200, trials=200,
                              time_limit_s=3.0, max_tests=4, progress=False)
    j = scores.judgements
    assert len(j) == len(pool)
    per = j.groupby("problem")["correct"].mean()
    assert scores.summary["metrics"]["pass@k"]["pass@1"]["value"] == pytest.approx(per.mean())
    for name in ("executions.parquet", "judgements.parquet", "metrics.parquet", "summary.json"):
        assert (tmp_path / name).exists()
    assert "pass@1" in scores.report()
    with pytest.raises(UserError, match="not extrapolated"):
        score_candidates(few, pool, ks=[5], progress=False)
    with pytest.raises(UserError, match="no generated_tests"):
        score_candidates(few, pool, test_sets=["generated"], progress=False)


def test_notebook_entry_point(few):
    import acodium

    codes = {r["name"]: [r["solutions"]["solution"][0], "print(0)"] for r in few[:2]}
    tests = {r["name"]: {"input": r["public_tests"]["input"], "output": r["public_tests"]["output"]} for r in few[:2]}
    result = acodium.evaluate(codes, tests, k=[1, 2, 10], time_limit_s=3.0, progress=False)
    assert set(result.pass_at_k) == {"pass@1", "pass@2"}  # no problem has 10 samples
    assert result.tests == {name: len(t["input"]) for name, t in tests.items()}
    correct = result.per_problem.set_index("problem")["correct"]
    for name in codes:
        runs = dict(result.results[name])
        assert len(runs) == 2 and len(runs[0]) == result.tests[name]
        assert correct[name] == sum(all(r.passed for r in runs[i]) for i in runs)
    assert result.pass_at_k["pass@1"] == pytest.approx((correct / 2).mean())
    # alphaCodium's predictions / references form gives the same numbers
    preds = [{"task_name": n, "solution_candidates": c} for n, c in codes.items()]
    refs = [{"tests_inputs": t["input"], "tests_outputs": t["output"]} for t in tests.values()]
    assert acodium.evaluate(preds, refs, k=[1], time_limit_s=3.0, progress=False).pass_at_k["pass@1"] == \
        result.pass_at_k["pass@1"]
    with pytest.raises(UserError, match="no tests"):
        acodium.evaluate(codes, {n: {"input": [], "output": []} for n in codes}, progress=False)
