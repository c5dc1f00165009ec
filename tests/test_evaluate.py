"""Evaluation runs, reference checks and test-suite strength, on the real CodeContests sample."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from acodium.data import problem_rows, problem_tests
from acodium.errors import UserError
from acodium.evaluation import (
    check_candidates,
    load_candidate_set,
    suite_false_positives,
    test_suite_strength,
)
from acodium.execute import Execution
from acodium.generate import mutant_candidates, reference_candidates
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
              program_hash="h", status="OK", output_hash="o", time_s=0.0, checker="tokens", checker_message="")
         for r in rows]
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

from acodium.evaluation import check_references, run_executions, score_candidates  # noqa: E402
from acodium.execute import Execution  # noqa: E402
from acodium.mutate import add_mutated_tests  # noqa: E402

THREE_S = Execution(time_s=3.0)
FAST = dict(execution=THREE_S, max_tests=4, progress=False)


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
    rows = add_mutated_tests(few[:3], 4, seed=1, execution=Execution(time_s=3.0), progress=False, min_agreeing=1,
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
    ex, _ = run_executions(rows, pool, test_sets=("mutated",), execution=THREE_S, progress=False)
    verdict = ex.groupby(["problem", "candidate_id"])["passed"].all()
    assert verdict.xs("correct-0", level=1).all()
    assert not verdict[[c.startswith("mutant") for c in verdict.index.get_level_values(1)]].all()


def test_score_candidates_pass_at_k_matches_the_judgements(few, pool, tmp_path):
    scores = score_candidates(few, pool, ks=[1, 2, 4], n=2, run_dir=tmp_path, bootstrap=200, trials=200,
                              execution=THREE_S, max_tests=4, progress=False)
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


def test_a_problem_without_candidates_counts_as_unsolved_in_score_candidates(few, tmp_path):
    a, b, c = few[:3]
    cands = pd.DataFrame([
        {"problem": a["name"], "candidate_id": "right", "language": "python3", "code": a["solutions"]["solution"][0]},
        {"problem": a["name"], "candidate_id": "wrong", "language": "python3", "code": "print(0)"},
    ])
    scores = score_candidates([a, b], cands, n=1, bootstrap=200, trials=100, **FAST)
    assert scores.summary["problems"] == 2 and scores.summary["problems_with_candidates"] == 1
    assert scores.summary["ks"] == [1, 2]  # the default grid, up to the smallest non-empty pool
    assert scores.summary["metrics"]["pass@k"]["pass@1"]["value"] == pytest.approx(0.25)
    assert scores.summary["metrics"]["n@k filtered"]["1@1"]["value"] == pytest.approx(0.25)
    short = scores.summary["short_pools"]
    assert short["problems"] == 1 and short["empty_pools"] == 1 and short["reasons"] == {"none generated": [b["name"]]}
    overall = scores.metrics[(scores.metrics["problem"] == "ALL") & (scores.metrics["metric"] == "pass@k")]
    assert overall["problems"].tolist() == [2, 2] and overall["short_pools"].tolist() == [1, 1]
    report = scores.report()
    assert "left out of the grid" not in report  # one non-empty pool, of 2: the grid ends there
    assert f"1 of 2 problems had fewer candidates with code than k=2 (1 without any, counted as unsolved at every k): " \
           f"1 with none generated (e.g. {b['name']!r})." in report
    # An empty pool is never "k exceeds the pool"; a non-empty one is, where k was asked for.
    assert score_candidates([a, b], cands, ks=[2], n=1, bootstrap=100, trials=50, **FAST) \
        .summary["metrics"]["pass@k"]["pass@2"]["value"] == pytest.approx(0.5)
    with pytest.raises(UserError, match="k=3 is more than the 2 samples"):
        score_candidates([a, b], cands, ks=[3], **FAST)

    # Failed calls and a reply without code: the reasons; the empty program is never run.
    empty = pd.DataFrame([{"problem": c["name"], "candidate_id": "llm-0000", "language": "python3", "code": ""}])
    failed = [{"problem": b["name"], "candidate_id": "llm-0000", "error": "HTTP 400 after the client's retries: "
                                                                        "context length exceeded."}]
    scores = score_candidates([a, b, c], pd.concat([cands, empty]), failures=failed, n=1,
                              bootstrap=100, trials=50, run_dir=tmp_path, **FAST)
    assert scores.summary["metrics"]["pass@k"]["pass@1"]["value"] == pytest.approx(0.5 / 3)
    short = scores.summary["short_pools"]
    assert short["reasons"] == {"LLM calls failed": [b["name"]], "extraction found no code": [c["name"]]}
    assert short["failed_calls"] == 1 and short["no_code_candidates"] == 1
    assert c["name"] not in set(scores.executions["problem"])
    judged = scores.judgements.set_index("candidate_id")
    assert not judged.loc["llm-0000", "correct"] and not judged.loc["llm-0000", "passes_public"]
    assert "context length exceeded" in scores.report()


def test_notebook_entry_point(few):
    import acodium

    codes = {r["name"]: [r["solutions"]["solution"][0], "print(0)"] for r in few[:2]}
    tests = {r["name"]: {"input": r["public_tests"]["input"], "output": r["public_tests"]["output"]} for r in few[:2]}
    result = acodium.evaluate(codes, tests, k=[1, 2, 10], execution=THREE_S, progress=False)
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
    assert acodium.evaluate(preds, refs, k=[1], execution=THREE_S, progress=False).pass_at_k["pass@1"] == \
        result.pass_at_k["pass@1"]
    with pytest.raises(UserError, match="no tests"):
        acodium.evaluate(codes, {n: {"input": [], "output": []} for n in codes}, progress=False)


def test_the_notebook_entry_point_keeps_problems_without_candidates(few):
    import acodium

    a, b = few[:2]
    tests = {r["name"]: {"input": r["public_tests"]["input"], "output": r["public_tests"]["output"]} for r in (a, b)}
    result = acodium.evaluate({a["name"]: [a["solutions"]["solution"][0], "print(0)"], b["name"]: []}, tests,
                              execution=THREE_S, progress=False)
    assert result.pass_at_k == {"pass@1": pytest.approx(0.25)}  # k=10 and 100 cut at A's 2 samples
    assert result.per_problem.set_index("problem")["n"].to_dict() == {a["name"]: 2, b["name"]: 0}
    assert any("k=10 and above left out" in note for note in result.notes)
    assert any("1 of 2 problems have no candidates" in note for note in result.notes)
    # A candidate without code is not run, and is incorrect; a problem without candidates needs no tests.
    result = acodium.evaluate({a["name"]: ["", a["solutions"]["solution"][0]], b["name"]: []},
                              {a["name"]: tests[a["name"]]}, k=[1, 2], execution=THREE_S, progress=False)
    assert result.pass_at_k == {"pass@1": pytest.approx(0.25), "pass@2": pytest.approx(0.5)}
    assert dict(result.results[a["name"]])[0] == [] and set(result.executions["candidate_id"]) == {"1"}


# --------------------------------------------------------------------------- a run folder that cannot lie

import contextlib  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

from acodium.cli import main as gencode  # noqa: E402
from acodium.evaluation import RunFolderWarning  # noqa: E402
from acodium.execute import registry  # noqa: E402
from acodium.execute.local import LocalBackend  # noqa: E402
from acodium.tables import EXECUTIONS_LOG  # noqa: E402

KEY = ["problem", "candidate_id", "test_set", "test_index"]
SEEN = KEY + ["status", "passed", "output_hash"]


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a[SEEN].reset_index(drop=True), b[SEEN].reset_index(drop=True))


def _log_lines(run: Path) -> list[bytes]:
    return (run / EXECUTIONS_LOG).read_bytes().splitlines(keepends=True)


SPIN = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6:\n    pass\n"


def test_a_run_folder_reused_with_another_time_limit_runs_again(few, tmp_path):
    refs = reference_candidates(few)
    cands = pd.concat([refs, refs.assign(candidate_id="spin", code=SPIN)], ignore_index=True)
    first, _ = run_executions(few, cands, run_dir=tmp_path, execution=Execution(time_s=10), max_tests=2, progress=False)
    assert set(first["status"]) == {"OK"}
    assert (tmp_path / "executions.parquet").exists()
    # a budgeted run under new settings: the old table must not stay beside them
    _, budgeted = run_executions(few, cands, run_dir=tmp_path, execution=Execution(time_s=0.2), max_tests=2, max_jobs=1,
                                 progress=False)
    assert not (tmp_path / "executions.parquet").exists()
    assert "time_limit_s" in budgeted.changed_settings and "time_limit_s" in budgeted.notes(tmp_path)[0]
    tight, stats = run_executions(few, cands, run_dir=tmp_path, execution=Execution(time_s=0.2), max_tests=2, progress=False)
    assert stats.jobs_skipped == 1 and stats.jobs_run == stats.jobs_total - 1  # nothing made at 10 s is reused
    assert set(tight[tight.candidate_id == "spin"]["status"]) == {"TIMEOUT"}
    fresh, _ = run_executions(few, cands, execution=Execution(time_s=0.2), max_tests=2, progress=False)
    _same(tight, fresh)
    settings = json.loads((tmp_path / "settings.json").read_text())
    assert settings["time_limit_s"] == 0.2 and settings["checker"] is None and settings["checkers"] == ["tokens"]
    assert settings["backend"] == "local" and settings["backend_version"]
    assert stats.changed_settings == []  # the budgeted run already recorded these settings
    # back to 10 s: the rows made then are still in the log and still valid
    again, stats = run_executions(few, cands, run_dir=tmp_path, execution=Execution(time_s=10), max_tests=2, progress=False)
    assert stats.jobs_run == 0
    _same(again, first)


def test_fewer_tests_after_more_reports_and_scores_the_same_tests(few, pool, tmp_path):
    three = score_candidates(few, pool, ks=[1], run_dir=tmp_path, bootstrap=50, trials=50, execution=THREE_S,
                             max_tests=3, progress=False)
    one = score_candidates(few, pool, ks=[1], run_dir=tmp_path, bootstrap=50, trials=50, execution=THREE_S,
                           max_tests=1, progress=False)
    fresh = score_candidates(few, pool, ks=[1], bootstrap=50, trials=50, execution=THREE_S, max_tests=1,
                             progress=False)
    assert one.executions.groupby(["problem", "candidate_id", "test_set"]).size().max() == 1
    _same(one.executions, fresh.executions)
    assert one.summary["metrics"] == fresh.summary["metrics"]
    assert one.summary["status_counts"] == fresh.summary["status_counts"]
    assert len(one.executions) < len(three.executions)
    assert one.stats.jobs_run == 0  # the first test of each job was run before, under the same settings
    saved = pd.read_parquet(tmp_path / "executions.parquet")
    _same(saved, one.executions)


def test_a_changed_program_under_the_same_candidate_id_runs_again(few, tmp_path):
    refs = reference_candidates(few)
    run_executions(few, refs, run_dir=tmp_path, **FAST)
    changed = refs.copy()
    changed.loc[0, "code"] = "print('no')"
    table, stats = run_executions(few, changed, run_dir=tmp_path, **FAST)
    per_job = len({s for s in ("public", "private") if problem_tests(few[0], s, 4)})
    assert stats.jobs_run == per_job
    mine = table[table["candidate_id"].eq(changed.loc[0, "candidate_id"]) & table["problem"].eq(few[0]["name"])]
    assert not mine["passed"].any()
    assert set(mine["program_hash"]) != set(run_executions(few, refs, **FAST)[0]["program_hash"][:1])


def _rewrite(run: Path, edit) -> None:
    """Rewrite the log's rows through `edit(number, row) -> bytes | None` (None: leave the line)."""
    out = []
    for number, line in enumerate(_log_lines(run), 1):
        new = edit(number, json.loads(line))
        out.append(line if new is None else new)
    (run / EXECUTIONS_LOG).write_bytes(b"".join(out))


def test_sandbox_errors_and_unreadable_rows_in_the_log_run_again(few, pool, tmp_path):
    good, _ = run_executions(few, pool, run_dir=tmp_path, **FAST)
    total = len(_log_lines(tmp_path))
    damage = {
        2: lambda r: json.dumps(dict(r, status="SANDBOX_ERROR", passed=False)).encode() + b"\n",  # as logged before
        5: lambda r: json.dumps(dict(r, passed=None)).encode() + b"\n",
        9: lambda r: json.dumps(dict(r, status="WINNER")).encode() + b"\n",
        12: lambda r: json.dumps({k: v for k, v in r.items() if k != "output_hash"}).encode() + b"\n",
        15: lambda r: b"\xff\xfe not a row at all\n",
        18: lambda r: b'{"problem": "half a row\n',
    }
    jobs = {(r["problem"], r["candidate_id"], r["test_set"])
            for n, line in enumerate(_log_lines(tmp_path), 1) if n in damage for r in [json.loads(line)]}
    _rewrite(tmp_path, lambda n, r: damage[n](r) if n in damage else None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again, stats = run_executions(few, pool, run_dir=tmp_path, **FAST)
    assert stats.jobs_run == len(jobs)  # exactly the jobs whose rows were not trustworthy
    _same(again, good)
    assert stats.damaged_lines == [5, 9, 12, 15, 18]  # the SANDBOX_ERROR row is no damage, simply not done
    message = str(next(w.message for w in caught if issubclass(w.category, RunFolderWarning)))
    assert str(tmp_path / EXECUTIONS_LOG) in message and "line 5, 9, 12, 15, 18" in message
    assert len(_log_lines(tmp_path)) > total


def test_a_torn_multibyte_last_line_does_not_block_resume(few, tmp_path):
    refs = reference_candidates(few)
    good, _ = run_executions(few, refs, run_dir=tmp_path, **FAST)
    row = json.loads(_log_lines(tmp_path)[0])
    torn = json.dumps(dict(row, problem="Caf\u00e9 \u4e2d"), ensure_ascii=False).encode("utf-8")
    cut = torn.index("\u4e2d".encode()) + 1  # inside the 3-byte character
    with open(tmp_path / EXECUTIONS_LOG, "ab") as fh:
        fh.write(torn[:cut])
    again, stats = run_executions(few, refs, run_dir=tmp_path, **FAST)
    assert stats.jobs_run == 0 and not stats.damaged_lines
    _same(again, good)
    # a run that appends cuts the torn line first
    more = pd.concat([refs, refs.assign(candidate_id="again", code="print(1)")], ignore_index=True)
    run_executions(few, more, run_dir=tmp_path, **FAST)
    lines = _log_lines(tmp_path)
    assert all(line.endswith(b"\n") for line in lines)
    assert [json.loads(line) for line in lines]  # every line is a row again


class FlakyMachine(LocalBackend):
    """The local backend on a machine that fails: the first `failures` runs of a marked program
    come back SANDBOX_ERROR (as when a worker dies)."""

    def __init__(self, failures: int):
        super().__init__()
        self.failures = failures

    def run(self, job):
        from acodium.execute.types import ExecutionResult, Status

        if "# flaky" in job.program.code and self.failures > 0:
            self.failures -= 1
            return [ExecutionResult(status=Status.SANDBOX_ERROR, passed=None, stderr="sandbox error: worker lost",
                                    program_hash=job.program.hash)]
        return super().run(job)


@contextlib.contextmanager
def on_machine(machine):
    """`Execution()` (the local backend) runs on `machine` while the block lasts: it stands in as the
    registry's live local instance, and is closed after."""
    key = ("local", ())
    before = registry._instances.get(key)
    registry._instances[key] = machine
    try:
        yield machine
    finally:
        if before is None:
            registry._instances.pop(key, None)
        else:
            registry._instances[key] = before
        machine.close()


def test_a_machine_failure_is_run_again_and_never_a_verdict(few, tmp_path):
    refs = reference_candidates(few[:2])
    flaky = refs.copy()
    flaky.loc[0, "code"] = flaky.loc[0, "code"] + "\n# flaky\n"
    good, _ = run_executions(few[:2], flaky, **FAST)
    with on_machine(FlakyMachine(failures=2)) as machine:
        table, stats = run_executions(few[:2], flaky, run_dir=tmp_path, **FAST)
    _same(table, good)
    assert stats.retried == 2 and machine.failures == 0
    logged = [json.loads(line) for line in _log_lines(tmp_path)]
    assert [r["passed"] for r in logged if r["status"] == "SANDBOX_ERROR"] == [None, None]

    # a machine that keeps failing: one sentence, the rest kept, a re-run on a sound machine finishes
    other = tmp_path / "other"
    with pytest.raises(UserError, match=r"ended in SANDBOX_ERROR \(the machine failed, not the program\) 3 times"):
        with on_machine(FlakyMachine(failures=100)):
            run_executions(few[:2], flaky, run_dir=other, **FAST)
    assert not (other / "executions.parquet").exists()
    table, stats = run_executions(few[:2], flaky, run_dir=other, **FAST)
    assert stats.jobs_run == len(good[good.candidate_id.eq(flaky.loc[0, "candidate_id"]) & good.problem.eq(
        flaky.loc[0, "problem"])].groupby("test_set"))  # only the jobs the machine failed
    _same(table, good)


HOLD = """
import sys
from acodium.tables import run_folder_lock
with run_folder_lock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_a_second_process_on_a_busy_run_folder_is_refused(few, tmp_path, capsys):
    run = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(run)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UserError, match=rf"The run folder {run} is in use by another process \(pid {holder.pid}\)"):
            run_executions(few, reference_candidates(few), run_dir=run, **FAST)
        data = tmp_path / "few.jsonl"
        data.write_text("".join(json.dumps(r) + "\n" for r in few))
        with pytest.raises(SystemExit) as ended:
            gencode(["eval", "references", "--dataset", str(data), "--max_tests", "2", "--out", str(run),
                     "--no_cache", "--no_progress"])
        assert ended.value.code == 2
        err = capsys.readouterr().err
        said = [line for line in err.splitlines() if not line.startswith("gencode: note: ")]
        assert len(said) == 1 and f"pid {holder.pid}" in said[0] and "Traceback" not in err
    finally:
        holder.communicate("")
    table, stats = run_executions(few, reference_candidates(few), run_dir=run, **FAST)  # free again
    assert stats.jobs_run == stats.jobs_total > 0


def test_two_processes_on_one_run_folder_one_runs_one_is_refused(few, tmp_path):
    data = tmp_path / "few.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in few))
    run = tmp_path / "run"
    cmd = [str(Path(sys.executable).with_name("gencode")), "eval", "references", "--dataset", str(data),
           "--max_tests", "3", "--out", str(run), "--no_cache", "--no_progress"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    ends = [p.communicate(timeout=300) + (p.returncode,) for p in procs]
    codes = sorted(code for _, _, code in ends)
    if codes == [0, 0]:  # one was done before the other began: the second then resumed everything
        assert sorted(json.loads(out)["jobs_run"] > 0 for out, _, _ in ends) == [False, True]
    else:
        assert codes == [0, 2]
        refused = next(err for _, err, code in ends if code == 2)
        assert "is in use by another process (pid " in refused and "Traceback" not in refused
    assert not [p for p in run.iterdir() if p.name.endswith(".tmp")]
    assert json.loads((run / "summary.json").read_text())["executions"] > 0


@pytest.mark.skipif(__import__("shutil").which("bwrap") is None, reason="bubblewrap makes the small disk")
def test_a_full_disk_mid_run_is_one_sentence_and_keeps_the_rows_so_far(few, tmp_path):
    data = tmp_path / "few.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in few))
    disk = tmp_path / "disk"
    disk.mkdir()
    run = disk / "run"
    script = (f"{Path(sys.executable).with_name('gencode')} eval references --dataset {data} --languages python3 "
              f"--max_solutions 5 --max_tests 6 --out {run} --no_cache --no_progress; echo exit=$?; "
              f"{sys.executable} -c 'import sys; from acodium.tables import AppendLog; log = AppendLog(sys.argv[1]); "
              f"print(sum(1 for _ in log.rows()), len(log.damaged))' {run}/executions.jsonl")
    proc = subprocess.run(["bwrap", "--dev-bind", "/", "/", "--size", str(24 * 1024), "--tmpfs", str(disk), "--",
                           "sh", "-c", script], capture_output=True, text=True, timeout=600)
    lines = proc.stdout.strip().splitlines()
    assert lines[-2] == "exit=2", proc.stderr
    said = proc.stderr.splitlines()
    assert said[-1].startswith(f"gencode: There is no room left to write {run}/executions.jsonl")
    assert all(line.startswith("gencode: note: ") for line in said[:-1]) and "Traceback" not in proc.stderr
    kept, damaged = map(int, lines[-1].split())
    assert kept > 10 and damaged == 0


def test_the_notebook_entry_point_runs_machine_failures_again(few):
    import acodium

    codes = {few[0]["name"]: [few[0]["solutions"]["solution"][0] + "\n# flaky\n", "print(0)"]}
    tests = {few[0]["name"]: {"input": few[0]["public_tests"]["input"], "output": few[0]["public_tests"]["output"]}}
    sound = acodium.evaluate(codes, tests, k=[1], execution=THREE_S, progress=False)
    with on_machine(FlakyMachine(failures=1)) as machine:
        flaky = acodium.evaluate(codes, tests, k=[1], execution=THREE_S, progress=False)
    assert machine.failures == 0 and flaky.pass_at_k == sound.pass_at_k == {"pass@1": 0.5}
    with pytest.raises(UserError, match="the machine failed, not the program"), on_machine(FlakyMachine(failures=100)):
        acodium.evaluate(codes, tests, k=[1], execution=THREE_S, progress=False)


def test_candidates_of_an_unfinished_generation_are_read_from_its_log(few, tmp_path):
    data = tmp_path / "few.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in few))
    run = tmp_path / "gen"
    run.mkdir()
    rows = reference_candidates(few).to_dict("records")
    lines = [json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in rows]
    torn = json.dumps(dict(rows[0], candidate_id="9", code="print('\u4e2d')"), ensure_ascii=False).encode()
    (run / "candidates.jsonl").write_bytes(b"".join(lines) + torn[:torn.index("\u4e2d".encode()) + 1])
    _, candidates, _ = load_candidate_set(run, problems=data)
    assert len(candidates) == len(rows)  # the torn candidate is not there yet
    (run / "candidates.jsonl").write_bytes(b"".join(lines[:2]) + b"\xff garbage\n" + b"".join(lines[2:]))
    with pytest.raises(UserError, match=rf"Line 3 of {run / 'candidates.jsonl'} is damaged"):
        load_candidate_set(run, problems=data)
