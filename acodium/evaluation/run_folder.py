"""What an evaluation run folder trusts: the executions log's rows, their keys, settings.json.

A run folder's `executions.jsonl` holds one row per (candidate, test) as each
job finishes. Each row carries a `key`: the hash of everything that decides
it (program hash, input, expected output, limits and slow cap, backend and its
version, checker and its version), and a resumed run reuses only rows whose key is the
one it would make now, so a folder re-used with other settings runs again what
they change and never reports old rows under new settings. A row whose status
says the machine failed (SANDBOX_ERROR), made by an older acodium (no key), or
with a missing or bogus field is not reusable: its test runs again.

`settings.json` records what decided the rows (for people, and to say what
changed since the folder's last run); the keys, not that file, decide reuse.
This module reads and writes those two records; `executions.run_executions`
drives the runs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..data import TEST_SETS
from ..execute import Execution, check, checkers
from ..execute.cache import MACHINE_FAILURES
from ..execute.checkers import Checker
from ..execute.types import Limits, Program, Status, sha256
from ..tables import AppendLog

# Each row's key holds the checker that judged it (the problem's own, or a run's --checker:
# `Checker.spec`) and the version of the checkers' source, so rows judged by another
# checker, or an earlier version of the rules, are never reused (a logged row keeps its verdict).
CHECKER = checkers.DEFAULT  # the checker of a problem without its own
CHECKER_VERSION = sha256(Path(check.__file__).read_bytes() + Path(checkers.__file__).read_bytes())[:16]
MACHINE_STATUSES = {s.value for s in MACHINE_FAILURES}
_STATUSES = {s.value for s in Status}

# (problem, candidate_id, test_set, test_index, key) -> the logged row
Index = dict[tuple[str, str, str, int, str], dict]


@dataclass
class JobSpec:
    """One candidate on one test set of its problem: what is run, and the key of each test's row."""

    problem: str
    candidate_id: str
    test_set: str
    program: Program
    tests: list[tuple[int, str, str]]  # (dataset index, input, expected output)
    limits: Limits
    stop: bool  # stop at the first failing test
    keys: list[str]  # per test: the row key (`row_key`)
    checker: Checker = checkers.TOKENS  # judges its outputs


def row_key(program: Program, input_hash: str, expected_hash: str, limits: Limits, backend: str,
            version: str, checker: Checker) -> str:
    """Everything that decides one row: a logged row is reused only under the same key (the limits
    with their slow cap: under another cap a test over its limit may be SLOW or TIMEOUT)."""
    return sha256("\0".join([program.hash, input_hash, expected_hash, limits.verdict_key(), backend, version,
                             checker.spec, CHECKER_VERSION]))


def valid_row(r: dict) -> bool:
    """Whether a logged row is whole and a verdict: a row that is not is run again."""
    return (isinstance(r.get("problem"), str) and isinstance(r.get("candidate_id"), (str, int))
            and r.get("test_set") in TEST_SETS
            and isinstance(r.get("test_index"), int) and not isinstance(r.get("test_index"), bool)
            and isinstance(r.get("key"), str) and isinstance(r.get("program_hash"), str)
            and r.get("status") in _STATUSES and isinstance(r.get("passed"), bool)
            and (r["status"] == "OK" or not r["passed"])  # only an OK run can pass
            and isinstance(r.get("output_hash"), str)
            and isinstance(r.get("time_s"), (int, float)) and not isinstance(r.get("time_s"), bool))


def read_log(log: AppendLog) -> tuple[Index, list[int]]:
    """The log's reusable rows by (problem, candidate_id, test_set, test_index, key), the last winning,
    and the numbers of damaged lines.

    A row made by an older acodium (no key), a machine failure, or a row with
    a missing or bogus field (`passed: null` included) is not reusable: its
    test runs again. Lines that are not rows at all are reported as damaged.
    """
    index: Index = {}
    damaged: list[int] = []
    for number, r in log.numbered_rows():
        if r.get("status") in MACHINE_STATUSES:
            continue  # the machine failed: run it again
        if not valid_row(r):
            if "key" in r:  # a row of ours, damaged; rows of older versions simply run again
                damaged.append(number)
            continue
        index[(r["problem"], str(r["candidate_id"]), r["test_set"], r["test_index"], r["key"])] = r
    return index, sorted(log.damaged + damaged)


def job_rows(spec: JobSpec, index: Index) -> tuple[list[dict], bool]:
    """The logged rows of a job made under its settings, in test order, and whether the job is done.

    Done: every test has its row, or (stopping) the rows reach a failure.
    """
    return stored_rows(spec, lambda i, key: index.get((spec.problem, spec.candidate_id, spec.test_set, i, key)))


def stored_rows(spec: JobSpec, row_of: Callable[[int, str], dict | None]) -> tuple[list[dict], bool]:
    """A job's stored rows in test order (`row_of(test index, row key)`, None where absent), and whether
    the job is done: every test has its row, or (stopping) the rows reach a failure."""
    rows = []
    for (i, _, _), key in zip(spec.tests, spec.keys):
        row = row_of(i, key)
        if row is None:
            return rows, False
        rows.append(row)
        if spec.stop and not row["passed"]:
            return rows, True
    return rows, True


def result_rows(spec: JobSpec, results) -> list[dict]:
    """The EXECUTIONS rows (with their keys) of a job's results; a machine failure has no verdict."""
    out = []
    for (index, _, _), key, result in zip(spec.tests, spec.keys, results):
        status = result.status.value if hasattr(result.status, "value") else str(result.status)
        machine = status in MACHINE_STATUSES
        out.append({
            "problem": spec.problem,
            "candidate_id": spec.candidate_id,
            "program_hash": spec.program.hash,
            "test_set": spec.test_set,
            "test_index": index,
            "status": status,
            "passed": None if machine else bool(result.passed),  # a machine failure is no verdict
            "output_hash": result.output_hash,
            "time_s": float(result.time_s),
            "checker": spec.checker.spec,
            "checker_message": "" if machine else str(getattr(result, "checker_message", "") or ""),
            "key": key,
        })
    return out


def fingerprint(items) -> str:
    """One hash of a sequence of JSON-able items, in order."""
    h = hashlib.sha256()
    for item in items:
        h.update(json.dumps(item, sort_keys=True, default=str).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def run_settings(rows_by_name, cands, tests_of: Callable, execution: Execution, **settings) -> dict[str, Any]:
    """What decides the rows of a run, for settings.json (the rows' keys are what resuming trusts).

    `cands` are candidate tuples (problem, candidate_id, language, code, ...);
    `tests_of(problem, test_set)` gives (index, input, expected, input hash, expected hash).
    """
    test_sets = settings["test_sets"]
    tests = [(name, s, i, hi, he) for name in sorted({c.problem for c in cands})
             for s in test_sets for i, _, _, hi, he in tests_of(name, s)]
    programs = sorted((c.problem, c.candidate_id, Program(c.language, c.code).hash) for c in cands)
    limits = sorted({execution.limits(rows_by_name[c.problem], c.language).key() for c in cands})
    used = sorted({execution.checker_for(rows_by_name[name]).spec for name in {c.problem for c in cands}})
    return {
        **settings,
        "checker": execution.checker,  # None: each problem's own
        "checkers": used,
        "checker_version": CHECKER_VERSION,
        "limits": limits,
        "slow_cap": execution.slow_cap,  # 1: no slow positives
        "tests": len(tests),
        "tests_fingerprint": fingerprint(tests),
        "candidates": len(programs),
        "programs_fingerprint": fingerprint(programs),
        "row_key": "sha256 of program hash, input hash, expected output hash, limits and slow cap, backend, "
                   "backend version, checker and its version",
    }


def previous_settings(path: Path) -> dict[str, Any]:
    """The settings.json a folder holds, or {} when absent or damaged (it only feeds the notes)."""
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return old if isinstance(old, dict) else {}


def changed_settings(new: dict[str, Any], old: dict[str, Any]) -> list[str]:
    """The settings that differ from a folder's previous run (counts of tests and candidates aside)."""
    return [k for k, v in new.items() if k in old and k not in ("tests", "candidates")
            and old[k] != json.loads(json.dumps(v, default=str))]
