"""The generation loop on real rows with a source it can watch: resume after interruption and after
a torn write, failures left for the next run, one configuration per run folder, workers at once,
the table in plan order whatever the order of arrival."""

from __future__ import annotations

import asyncio
import json

import pandas as pd
import pytest

from acodium.errors import UserError
from acodium.generate import Candidate, CandidateSource, HumanSource, agenerate_candidates, generate_candidates
from acodium.llm import LLMError
from acodium.tables import (CANDIDATES, CANDIDATES_FILE, CANDIDATES_LOG, ERRORS_LOG, GENERATION_CONFIG_FILE,
                            AppendLog)


class WatchedSource(CandidateSource):
    """k candidates per problem, the problem's first solution with the sample index appended.

    `fail` holds ids that raise an LLMError (a failed sample), `crash` an id that raises
    another error (a bug: the run stops); `delays` how long a make of an id takes.
    """

    name = "watched"
    columns = ("name", "solutions")

    def __init__(self, setting: str = "a", workers: int = 1, fail=(), crash=None, delays=None):
        self.setting, self.workers = setting, workers
        self.fail, self.crash, self.delays = set(fail), crash, delays or {}
        self.made: list[tuple[str, str]] = []
        self.started: list[int] = []
        self.closed = 0
        self.running = self.most_running = 0
        self.seen_run_dir = None

    def config(self):
        return {"source": self.name, "setting": self.setting}

    def plan(self, problem, k):
        return [f"w-{i}" for i in range(k if k is not None else 2)]

    async def start(self, todo):
        self.started.append(len(todo))
        self.seen_run_dir = self.run_dir

    async def make(self, problem, candidate_id):
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await asyncio.sleep(self.delays.get(candidate_id, 0.0))
            if candidate_id == self.crash:
                raise RuntimeError("a bug in the source")
            if candidate_id in self.fail:
                raise LLMError(f"HTTP 500 for {candidate_id}")
            self.made.append((problem["name"], candidate_id))
            code = problem["solutions"]["solution"][0] + f"\n# {candidate_id}\n"
            return Candidate(problem["name"], candidate_id, "python3", code, self.name, {"index": candidate_id})
        finally:
            self.running -= 1

    async def aclose(self):
        self.closed += 1


@pytest.fixture
def rows(train_rows):
    return train_rows[20:24]


def test_a_run_folder_holds_the_log_the_table_and_the_settings(rows, tmp_path):
    source = WatchedSource()
    run = tmp_path / "run"
    table = generate_candidates(rows, source, 3, run_dir=run, progress=False)
    assert list(table.columns) == CANDIDATES and len(table) == 12
    assert table[["problem", "candidate_id"]].values.tolist() == [[r["name"], f"w-{i}"] for r in rows for i in range(3)]
    assert json.loads(table["meta"].iloc[0]) == {"index": "w-0"}
    assert [(r["problem"], r["candidate_id"]) for r in AppendLog(run / CANDIDATES_LOG).rows()] == source.made
    assert pd.read_parquet(run / CANDIDATES_FILE).equals(table)
    assert json.loads((run / GENERATION_CONFIG_FILE).read_text()) == {"source": "watched", "setting": "a"}
    assert source.seen_run_dir == run and source.started == [12] and source.closed == 1


def test_a_rerun_makes_nothing_and_does_not_start_the_source(rows, tmp_path):
    run = tmp_path / "run"
    first = generate_candidates(rows, WatchedSource(), 2, run_dir=run, progress=False)
    again_source = WatchedSource()
    again = generate_candidates(rows, again_source, 2, run_dir=run, progress=False)
    assert again.equals(first)
    assert again_source.made == [] and again_source.started == []  # no preflight for finished work
    assert again_source.closed == 1
    # more per problem: only the new ones
    more_source = WatchedSource()
    more = generate_candidates(rows, more_source, 3, run_dir=run, progress=False)
    assert len(more) == 12 and sorted(more_source.made) == sorted((r["name"], "w-2") for r in rows)
    # fewer per problem: the table is what is asked for, the log keeps the rest
    assert len(generate_candidates(rows, WatchedSource(), 1, run_dir=run, progress=False)) == 4


def test_resume_after_interruption_makes_only_what_is_missing(rows, tmp_path):
    run = tmp_path / "run"
    log = run / CANDIDATES_LOG
    source = WatchedSource(workers=2, delays={f"w-{i}": 0.02 for i in range(4)})

    async def interrupted():
        task = asyncio.create_task(agenerate_candidates(rows, source, 4, run_dir=run, progress=False))
        while not log.exists() or len(list(AppendLog(log).rows())) < 5:
            await asyncio.sleep(0.005)
        task.cancel()  # what Ctrl-C does to the running loop
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(interrupted())
    kept = {(r["problem"], r["candidate_id"]) for r in AppendLog(log).rows()}
    assert 5 <= len(kept) < 16 and source.closed == 1  # closed on the way out
    assert not (run / CANDIDATES_FILE).exists()  # the table is written only when the run ends
    resumed = WatchedSource()
    table = generate_candidates(rows, resumed, 4, run_dir=run, progress=False)
    assert len(table) == 16 and not kept & set(resumed.made) and len(resumed.made) == 16 - len(kept)


def test_a_torn_last_write_is_made_again(rows, tmp_path):
    run = tmp_path / "run"
    generate_candidates(rows[:1], WatchedSource(), 2, run_dir=run, progress=False)
    log = run / CANDIDATES_LOG
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(lines[0] + lines[1][: len(lines[1]) // 2])  # the process died mid-write
    source = WatchedSource()
    table = generate_candidates(rows[:1], source, 2, run_dir=run, progress=False)
    assert source.made == [(rows[0]["name"], "w-1")] and len(table) == 2
    assert len(list(AppendLog(log).rows())) == 2 and log.read_bytes().endswith(b"\n")


def test_failed_samples_are_listed_and_made_by_the_next_run(rows, tmp_path, capsys):
    run = tmp_path / "run"
    table = generate_candidates(rows, WatchedSource(fail={"w-1"}), 2, run_dir=run, progress=False)
    assert table["candidate_id"].tolist() == ["w-0"] * 4
    failures = table.attrs["failures"]
    assert [(f["problem"], f["candidate_id"]) for f in failures] == [(r["name"], "w-1") for r in rows]
    assert failures[0]["error"] == "HTTP 500 for w-1" and failures[0]["time"] > 0
    assert len(list(AppendLog(run / ERRORS_LOG).rows())) == 4
    assert "4 of 8 candidates failed (HTTP 500 for w-1); run again to retry them." in capsys.readouterr().err
    retry = WatchedSource()
    table = generate_candidates(rows, retry, 2, run_dir=run, progress=False)
    assert len(table) == 8 and not table.attrs["failures"] and {cid for _, cid in retry.made} == {"w-1"}


def test_a_bug_in_the_source_stops_the_run_and_keeps_what_was_made(rows, tmp_path):
    run = tmp_path / "run"
    source = WatchedSource(crash="w-2")
    with pytest.raises(RuntimeError, match="a bug in the source"):
        generate_candidates(rows[:1], source, 4, run_dir=run, progress=False)
    assert [r["candidate_id"] for r in AppendLog(run / CANDIDATES_LOG).rows()] == ["w-0", "w-1"]
    assert source.closed == 1 and not (run / CANDIDATES_FILE).exists()


def test_workers_run_at_once_and_the_table_keeps_plan_order(rows, tmp_path):
    # later ids finish first: arrival order is the reverse of the plan
    source = WatchedSource(workers=3, delays={"w-0": 0.06, "w-1": 0.03, "w-2": 0.0})
    table = generate_candidates(rows[:2], source, 3, run_dir=tmp_path / "run", progress=False)
    assert source.most_running == 3
    assert source.made[:3] != [(rows[0]["name"], f"w-{i}") for i in range(3)]
    assert table["candidate_id"].tolist() == ["w-0", "w-1", "w-2"] * 2
    assert [r["candidate_id"] for r in AppendLog(tmp_path / "run" / CANDIDATES_LOG).rows()] != \
        table["candidate_id"].tolist()


def test_a_run_folder_belongs_to_one_configuration(rows, tmp_path):
    run = tmp_path / "run"
    generate_candidates(rows[:1], WatchedSource("a"), 1, run_dir=run, progress=False)
    other = WatchedSource("b")
    with pytest.raises(UserError, match=r"was generated with other settings \(setting\); use a new folder"):
        generate_candidates(rows[:1], other, 2, run_dir=run, progress=False)
    assert other.made == [] and other.started == []  # refused before any work
    with pytest.raises(UserError, match=r"other settings \(correct_fraction, languages, seed, setting, source\)"):
        generate_candidates(rows[:1], HumanSource(), 1, run_dir=run, progress=False)
    # an unreadable settings file (a crash while writing it) is written again
    (run / GENERATION_CONFIG_FILE).write_text('{"source": "watch')
    generate_candidates(rows[:1], WatchedSource("b"), 1, run_dir=run, progress=False)
    assert json.loads((run / GENERATION_CONFIG_FILE).read_text())["setting"] == "b"


def test_without_a_run_folder_nothing_is_written(rows, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = WatchedSource()
    table = generate_candidates(rows, source, 2, progress=False)
    assert len(table) == 8 and list(tmp_path.iterdir()) == [] and source.seen_run_dir is None


def test_problem_sets_the_loop_refuses_or_skips(rows):
    with pytest.raises(UserError, match="appears twice in the problem set"):
        generate_candidates([rows[0], rows[0]], WatchedSource(), 1, progress=False)
    with pytest.raises(UserError, match="need a 'name' field"):
        generate_candidates([{"description": "no name"}], WatchedSource(), 1, progress=False)
    empty = generate_candidates([], WatchedSource(), 3, progress=False)
    assert empty.empty and list(empty.columns) == CANDIDATES
    # a DataFrame of problems and one problem alone are problem sets too
    assert len(generate_candidates(pd.DataFrame(rows), WatchedSource(), 1, progress=False)) == 4
    assert len(generate_candidates(rows[0], WatchedSource(), 2, progress=False)) == 2


def test_the_progress_bar_counts_what_was_there(rows, tmp_path, capsys):
    run = tmp_path / "run"
    generate_candidates(rows[:2], WatchedSource(), 1, run_dir=run, progress=False)
    generate_candidates(rows[:2], WatchedSource(), 2, run_dir=run, progress=True)
    err = capsys.readouterr().err
    assert "generate (watched)" in err and "4/4" in err
