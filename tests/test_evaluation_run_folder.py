"""acodium.evaluation.run_folder: which logged rows a resumed run may trust, and what settings.json says."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from acodium.data import problem_rows, problem_tests
from acodium.evaluation.run_folder import (
    CHECKER,
    JobSpec,
    changed_settings,
    job_rows,
    previous_settings,
    read_log,
    result_rows,
    row_key,
    run_settings,
    valid_row,
)
from acodium.execute import Execution, parse_checker
from acodium.execute.types import ExecutionResult, Limits, Program, Status, sha256
from acodium.tables import AppendLog

PROGRAM = Program("python3", "print(int(input()) * 2)")
LIMITS = Limits(time_s=2.0)


def _row(**changes):
    row = {"problem": "p", "candidate_id": "c", "program_hash": PROGRAM.hash, "test_set": "private",
           "test_index": 0, "status": "OK", "passed": True, "output_hash": "o", "time_s": 0.01, "key": "k0"}
    return {**row, **changes}


def test_a_row_key_changes_with_everything_that_decides_the_row():
    base = dict(program=PROGRAM, input_hash=sha256("1\n"), expected_hash=sha256("2"), limits=LIMITS,
                backend="local", version="v1", checker=parse_checker("tokens"))
    key = row_key(**base)
    assert key == row_key(**base)
    changes = [dict(program=Program("python3", "print(2)")), dict(input_hash=sha256("2\n")),
               dict(expected_hash=sha256("3")), dict(limits=Limits(time_s=3.0)),
               dict(limits=Limits(time_s=2.0, memory_bytes=1 << 20)), dict(backend="code_contests"),
               dict(version="v2"), dict(checker=parse_checker("exact")),
               dict(checker=parse_checker("float_rel:1e-6")), dict(checker=parse_checker("float_rel:1e-5")),
               dict(checker=parse_checker("float_abs:1e-6"))]
    keys = {row_key(**{**base, **change}) for change in changes}
    assert key not in keys and len(keys) == len(changes)


def test_only_whole_rows_that_are_verdicts_are_valid():
    assert valid_row(_row()) and valid_row(_row(candidate_id=3)) and valid_row(_row(status="TIMEOUT", passed=False))
    bad = [_row(test_index=True), _row(test_index="0"), _row(status="TIMEOUT", passed=True),
           _row(status="WINNER"), _row(test_set="secret"), _row(passed=None), _row(time_s=True),
           _row(time_s="slow"), _row(key=None), _row(program_hash=7), {k: v for k, v in _row().items()
                                                                       if k != "output_hash"}]
    assert not any(valid_row(r) for r in bad)


def test_the_log_gives_reusable_rows_and_names_damaged_lines(tmp_path):
    with AppendLog(tmp_path / "executions.jsonl") as log:
        log.append([
            _row(),                                                   # 1: reusable
            _row(test_index=1, status="SANDBOX_ERROR", passed=None),  # 2: the machine failed: not done, no damage
            {k: v for k, v in _row(test_index=2).items() if k != "key"},  # 3: an older acodium's row: runs again
            _row(test_index=3, passed=None),                          # 4: ours, damaged
            _row(passed=False, output_hash="o2"),                     # 5: the same test again: the last wins
        ])
    with open(tmp_path / "executions.jsonl", "ab") as fh:
        fh.write(b"not json\n")                                       # 6: not a row at all
    index, damaged = read_log(AppendLog(tmp_path / "executions.jsonl"))
    assert list(index) == [("p", "c", "private", 0, "k0")]
    assert index[("p", "c", "private", 0, "k0")]["output_hash"] == "o2"
    assert damaged == [4, 6]


def test_a_job_is_done_when_every_test_has_its_row_or_a_stopping_job_reached_a_failure():
    tests = [(0, "1\n", "2"), (1, "2\n", "4"), (2, "3\n", "6")]
    spec = JobSpec("p", "c", "private", PROGRAM, tests, LIMITS, stop=False, keys=["k0", "k1", "k2"])
    index = {("p", "c", "private", 0, "k0"): _row(), ("p", "c", "private", 1, "k1"): _row(test_index=1, passed=False)}
    rows, done = job_rows(spec, index)
    assert len(rows) == 2 and not done
    stopping = JobSpec(**{**spec.__dict__, "stop": True})
    rows, done = job_rows(stopping, index)
    assert [r["test_index"] for r in rows] == [0, 1] and done
    # a row made under other settings (another key) is not this job's
    assert job_rows(JobSpec(**{**spec.__dict__, "keys": ["x0", "k1", "k2"]}), index) == ([], False)


def test_result_rows_keep_status_apart_from_the_verdict():
    tests = [(4, "1\n", "2"), (7, "2\n", "4")]
    spec = JobSpec("p", "c", "public", PROGRAM, tests, LIMITS, stop=False, keys=["a", "b"])
    results = [ExecutionResult(status=Status.OK, passed=True, stdout="2\n", time_s=0.5),
               ExecutionResult(status=Status.SANDBOX_ERROR, passed=False, time_s=0.0)]
    rows = result_rows(spec, results)
    assert [(r["test_index"], r["status"], r["passed"], r["key"]) for r in rows] == \
        [(4, "OK", True, "a"), (7, "SANDBOX_ERROR", None, "b")]  # a machine failure is no verdict
    assert all(r["program_hash"] == PROGRAM.hash for r in rows)
    assert valid_row(rows[0]) and not valid_row(rows[1])


def _settings(rows, cands, execution, max_tests=None):
    by_name = problem_rows(rows)

    def tests_of(problem, test_set):
        return [(i, inp, exp, sha256(inp), sha256(exp)) for i, inp, exp in
                problem_tests(by_name[problem], test_set, max_tests)]

    return run_settings(by_name, list(cands.itertuples(index=False)), tests_of, execution,
                        test_sets=["public", "private"], max_tests=max_tests, time_limit_s=execution.time_s,
                        backend=execution.backend)


def test_settings_json_fingerprints_the_tests_programs_and_limits(train_rows):
    rows = train_rows[:3]
    cands = pd.DataFrame([{"problem": r["name"], "candidate_id": "0", "language": "python3",
                           "code": r["solutions"]["solution"][0]} for r in rows])
    base = _settings(rows, cands, Execution())
    assert base["checker"] is None and base["checkers"] == [CHECKER] and base["candidates"] == 3 and base["time_limit_s"] is None
    assert base["tests"] == sum(len(r["public_tests"]["input"]) + len(r["private_tests"]["input"]) for r in rows)
    assert base["limits"] == ["10s/268435456b/33554432o"]  # the sample states no limits: the tester's defaults
    fewer = _settings(rows, cands, Execution(), max_tests=1)
    assert fewer["tests"] == 6 and fewer["tests_fingerprint"] != base["tests_fingerprint"]
    assert fewer["programs_fingerprint"] == base["programs_fingerprint"]
    edited = _settings(rows, cands.assign(code=cands["code"] + "\n"), Execution())
    assert edited["programs_fingerprint"] != base["programs_fingerprint"]
    tight = _settings(rows, cands, Execution(time_s=0.5))
    assert tight["limits"] == ["0.5s/268435456b/33554432o"]
    # what a reader is told changed: never the counts, which follow from the rest
    old = json.loads(json.dumps(base))
    assert changed_settings(fewer, old) == ["max_tests", "tests_fingerprint"]
    assert changed_settings(tight, old) == ["time_limit_s", "limits"]
    assert changed_settings(base, old) == [] and changed_settings(base, {}) == []


@pytest.mark.parametrize("content", [None, b"{not json", b"\xff\xfe", b"[1, 2]"])
def test_a_missing_or_damaged_settings_file_is_no_previous_settings(tmp_path, content):
    path = tmp_path / "settings.json"
    if content is not None:
        path.write_bytes(content)
    assert previous_settings(path) == {}
    path.write_text(json.dumps({"time_limit_s": 2.0}))
    assert previous_settings(path) == {"time_limit_s": 2.0}


def test_settings_json_names_the_checker_override_and_the_problems_checkers(train_rows):
    rows = [{**train_rows[0], "checker": "float_rel:1e-6"}, train_rows[1]]
    cands = pd.DataFrame([{"problem": r["name"], "candidate_id": "0", "language": "python3",
                           "code": "print(1)"} for r in rows])
    own = _settings(rows, cands, Execution())
    assert own["checker"] is None and own["checkers"] == ["float_rel:1e-06", "tokens"]
    forced = _settings(rows, cands, Execution(checker="exact"))
    assert forced["checker"] == "exact" and forced["checkers"] == ["exact"]
    assert set(changed_settings(forced, json.loads(json.dumps(own)))) == {"checker", "checkers"}


def test_result_rows_carry_the_checker_and_its_message():
    spec = JobSpec("p", "c", "private", PROGRAM, [(0, "1\n", "2")], LIMITS, False, ["k"],
                   parse_checker("float_abs:1e-6"))
    ok = ExecutionResult(status=Status.OK, passed=False, checker_message="token 1: expected 2, got 3")
    lost = ExecutionResult(status=Status.SANDBOX_ERROR, passed=None, checker_message="")
    row, = result_rows(spec, [ok])
    assert row["checker"] == "float_abs:1e-06" and row["checker_message"] == "token 1: expected 2, got 3"
    assert result_rows(spec, [lost])[0]["passed"] is None
