"""acodium.evaluation.schedule: a scoring run by program, public tests first, chunked, resumable, on real problems."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest

from acodium import select
from acodium.errors import UserError
from acodium.evaluation import CandidatePool, candidate_executions, run_executions, score_candidates
from acodium.execute import Execution
from acodium.generate import reference_candidates
from acodium.tables import EXECUTIONS

QUICK = Execution(time_s=3.0)
CHEAP = dict(execution=QUICK, max_tests=3, bootstrap=50, trials=50, progress=False)
SEEN = ["problem", "candidate_id", "test_set", "test_index", "status", "passed", "output_hash"]


class Interrupted(Exception):
    """The process went away mid-run (as a kill would)."""


@dataclasses.dataclass(frozen=True)
class InterruptedAfter(Execution):
    """An Execution whose batch dies after `jobs` jobs have finished (and been stored)."""

    jobs: int = 3

    def run_batch(self, jobs, *, progress=True, on_result=None):
        finished = []

        def then_die(i, results):
            on_result(i, results)
            finished.append(i)
            if len(finished) == self.jobs:
                raise Interrupted()

        return super().run_batch(jobs, progress=progress, on_result=then_die)


def _hides_from_public(row: dict) -> str:
    """The human solution, except on the problem's first public input, where it prints a wrong answer:
    it fails the public tests and passes every hidden one (correct, by docs/semantics.md's rule)."""
    first = row["public_tests"]["input"][0]
    return (f"import io, sys\n_data = sys.stdin.buffer.read()\nif _data == {first.encode()!r}:\n    print('wrong')\n"
            "    raise SystemExit\nsys.stdin = io.TextIOWrapper(io.BytesIO(_data))\n" + row["solutions"]["solution"][0])


@pytest.fixture(scope="module")
def two(train_rows):
    return [train_rows[0], train_rows[2]]


@pytest.fixture(scope="module")
def pool(two):
    """Per problem: its human solution twice (two ids, one program), one that hides from the public tests,
    and a wrong program; with clustering inputs (the public inputs again) on each problem."""
    refs = reference_candidates(two)
    rows = []
    for row in two:
        public = row["public_tests"]["input"]
        rows.append(dict(row, mutated_tests={"input": list(public), "output": [""] * len(public),
                                             "output_confirmed": [False] * len(public)}))
    hiding = pd.DataFrame([{"problem": r["name"], "candidate_id": "hiding", "language": "python3",
                            "code": _hides_from_public(r)} for r in two])
    cands = pd.concat([refs, refs.assign(candidate_id="copy"), hiding, refs.assign(candidate_id="zero", code="print(0)")],
                      ignore_index=True)[["problem", "candidate_id", "language", "code"]]
    return rows, cands


def test_identical_programs_run_once_and_count_as_two_candidates(pool):
    rows, cands = pool
    scores = score_candidates(rows, cands, ks=[1], n=1, **CHEAP)
    programs = scores.programs
    assert len(programs) == len(cands) and scores.summary["programs"] == 3 * len(rows)
    mapped = programs.set_index(["problem", "candidate_id"])["program_hash"]
    for row in rows:
        assert mapped[(row["name"], "correct-0")] == mapped[(row["name"], "copy")]
    by_program = scores.program_executions
    assert not by_program.duplicated(["problem", "program_hash", "test_set", "test_index"]).any()
    assert "candidate_id" not in by_program.columns
    # the per-candidate view holds the shared program's rows under both candidates
    view = scores.executions
    assert list(view.columns) == EXECUTIONS
    one = view[view["candidate_id"] == "correct-0"].drop(columns="candidate_id").reset_index(drop=True)
    other = view[view["candidate_id"] == "copy"].drop(columns="candidate_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(one, other)
    judged = scores.judgements.set_index(["problem", "candidate_id"])
    for row in rows:  # one cluster of two members: the largest, 0
        assert judged.loc[(row["name"], "correct-0"), "cluster"] == judged.loc[(row["name"], "copy"), "cluster"] == 0


def test_public_first_runs_hidden_and_clustering_only_for_programs_passing_the_public_tests(pool, tmp_path):
    rows, cands = pool
    first = score_candidates(rows, cands, ks=[1, 4], n=1, run_dir=tmp_path / "first", **CHEAP)
    full = score_candidates(rows, cands, ks=[1, 4], n=1, run_dir=tmp_path / "full", schedule="full", **CHEAP)
    ex = first.executions
    failing = set(first.judgements.loc[~first.judgements["passes_public"], "candidate_id"])
    assert failing == {"hiding", "zero"}
    assert set(ex.loc[ex["candidate_id"].isin(failing), "test_set"]) == {"public"}  # nothing else ran for them
    assert (ex.loc[ex["candidate_id"].isin(failing)].groupby(["problem", "candidate_id"]).size() == 1).all()  # stopped
    assert set(full.executions.loc[full.executions["candidate_id"] == "hiding", "test_set"]) == {
        "public", "private", "mutated"}
    # the program hiding from the public tests is correct by the rule (hidden tests only): counted under full only
    judged = full.judgements.set_index(["problem", "candidate_id"])
    assert all(judged.loc[(r["name"], "hiding"), "correct"] for r in rows)
    assert not first.judgements.set_index("candidate_id").loc["hiding", "correct"].any()
    assert first.summary["metrics"]["pass@k"]["pass@4"]["value"] <= full.summary["metrics"]["pass@k"]["pass@4"]["value"]
    assert first.summary["metrics"]["pass@k"]["pass@1"]["value"] == pytest.approx(0.5)  # 2 of 4: the human one twice
    assert full.summary["metrics"]["pass@k"]["pass@1"]["value"] == pytest.approx(0.75)
    # what the filter and the clustering submit ran in full: their n@k is the same under both schedules
    for metric in ("n@k filtered", "n@k clustered"):
        assert first.summary["metrics"][metric] == full.summary["metrics"][metric]
    assert first.summary["schedule"] == "public_first" and full.summary["schedule"] == "full"
    assert any("lower bounds" in note for note in first.summary["notes"])
    assert not any("lower bounds" in note for note in full.summary["notes"])
    assert json.loads((tmp_path / "first" / "summary.json").read_text())["schedule"] == "public_first"
    # not run on the clustering inputs: not clustered; every candidate is clustered under full
    assert set(first.judgements.loc[~first.judgements["passes_public"], "cluster"]) == {-1}
    assert (full.judgements["cluster"] >= 0).all()
    # the judgements are acodium.select's of the per-candidate executions, under both schedules
    for scores in (first, full):
        redone = select.judgements(scores.executions, cands[["problem", "candidate_id"]])
        pd.testing.assert_frame_equal(redone.reset_index(drop=True), scores.judgements)
    with pytest.raises(UserError, match=r"^The run folder .* was run under the public_first schedule: run it again "
                                        r"without --full, or use a new folder\.$"):
        score_candidates(rows, cands, ks=[4], n=1, run_dir=tmp_path / "first", schedule="full", **CHEAP)


def test_a_killed_run_resumes_every_phase_without_running_again_what_finished(pool, tmp_path):
    rows, cands = pool
    fresh = score_candidates(rows, cands, ks=[4], n=1, **CHEAP)
    with pytest.raises(Interrupted):
        score_candidates(rows, cands, ks=[4], n=1, run_dir=tmp_path, **dict(CHEAP, execution=InterruptedAfter(
            time_s=3.0, workers=1, jobs=5)))
    assert not (tmp_path / "executions.parquet").exists() and not (tmp_path / "summary.json").exists()
    again = score_candidates(rows, cands, ks=[4], n=1, run_dir=tmp_path, **CHEAP)
    assert again.stats.jobs_skipped == 5 and again.stats.jobs_run == fresh.stats.jobs_run - 5
    pd.testing.assert_frame_equal(again.judgements, fresh.judgements)
    assert again.summary["metrics"] == fresh.summary["metrics"]
    pd.testing.assert_frame_equal(again.executions[SEEN], fresh.executions[SEEN])
    done = score_candidates(rows, cands, ks=[4], n=1, run_dir=tmp_path, **CHEAP)
    assert done.stats.jobs_run == 0 and done.stats.jobs_skipped == fresh.stats.jobs_run


def test_a_pool_read_in_small_chunks_or_from_a_file_is_judged_alike(pool, tmp_path):
    rows, cands = pool
    whole = score_candidates(rows, cands, ks=[4], n=1, **CHEAP)
    cands.to_parquet(tmp_path / "cands.parquet")
    for source in (CandidatePool(cands, chunk=2), CandidatePool(tmp_path / "cands.parquet", chunk=3)):
        scores = score_candidates(rows, source, ks=[4], n=1, **CHEAP)
        pd.testing.assert_frame_equal(scores.judgements, whole.judgements)
        assert scores.summary["metrics"] == whole.summary["metrics"]


def test_an_older_run_folder_is_read_and_resumed(pool, tmp_path):
    rows, cands = pool
    # a folder whose executions an earlier acodium logged per candidate (executions.jsonl)
    old, _ = run_executions(rows, cands, test_sets=["public", "private", "generated", "mutated"], run_dir=tmp_path,
                            execution=QUICK, max_tests=3, progress=False)
    assert "candidate_id" in pd.read_parquet(tmp_path / "executions.parquet").columns
    assert candidate_executions(pd.read_parquet(tmp_path / "executions.parquet"), pd.DataFrame()).equals(
        pd.read_parquet(tmp_path / "executions.parquet"))  # read as it is
    scores = score_candidates(rows, cands, ks=[4], n=1, run_dir=tmp_path, schedule="full", **CHEAP)
    assert scores.stats.jobs_run == 0  # every row came from the old log (same keys)
    pd.testing.assert_frame_equal(scores.executions[SEEN], old[SEEN].reset_index(drop=True))
