"""The executions of a scoring run, by program and in the order a careful researcher runs them.

`run_schedule` takes a pool (`pool.CandidatePool`) chunk by chunk. Identical
programs of a problem run once (a candidate points at its program: the
PROGRAMS table). Under the default schedule, "public_first":

1. every program runs its problem's public tests, stopping at the first that
   fails (the filter needs no more);
2. only the programs that pass them run the hidden tests (private, then
   generated: each set only while every hidden test so far passed, stopping at
   the first failure), since a program failing the public tests is never
   submitted;
3. only those run the clustering inputs (mutated, ai), in full: clustering
   orders the submissions of the programs that pass the public tests.

Under "full", every program runs every set in full: the whole per-test picture,
and pass@k exactly as docs/semantics.md defines it (under "public_first" a
program failing the public tests is not known correct and counts as not
correct: see `acodium.evaluation.scoring`).

Rows go to the run folder's store (`program_store`, keyed like the executions
log: a killed run resumes any phase without running again what finished) and,
chunk by chunk, to executions.parquet (by program) and programs.parquet (which
program each candidate is). In memory stay only the current chunk and a few
bytes per program (`ProgramVerdicts`): the cost is flat in the pool's size.
"""

from __future__ import annotations

import array
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import UserError
from ..progress import progress_bar
from ..execute.types import Job, Program, sha256
from ..execute.base import merge_usage, usage_since
from .executions import MACHINE_RETRIES, RunStats
from .pool import CandidatePool
from ..tables import EXECUTIONS_FILE, PROGRAM_EXECUTIONS, PROGRAMS, PROGRAMS_FILE
from .program_store import Phase
from .run_folder import JobSpec, result_rows, row_key, stored_rows
from .suite_strength import unconfirmed_mutated

SCHEDULES = ("public_first", "full")
_SCHEMA = pa.schema([("problem", pa.string()), ("program_hash", pa.string()), ("test_set", pa.string()),
                     ("test_index", pa.int64()), ("status", pa.string()), ("passed", pa.bool_()),
                     ("output_hash", pa.string()), ("time_s", pa.float64()), ("checker", pa.string()),
                     ("checker_message", pa.string())])
_PROGRAMS_SCHEMA = pa.schema([(c, pa.string()) for c in PROGRAMS])


def schedule_name(schedule: str) -> str:
    if schedule not in SCHEDULES:
        raise UserError(f"The schedule is one of {', '.join(SCHEDULES)}, not {schedule!r}.")
    return schedule


class ProgramVerdicts:
    """A few bytes per distinct program: what judging its candidates needs (filled chunk by chunk).

    Programs are numbered as first met; `number_of` finds the numbers of a chunk's programs by their
    64-bit digests (a sorted numpy array, not a dict: 16 bytes a program, not ~100).
    """

    def __init__(self) -> None:
        self._keys = np.zeros(0, dtype=np.uint64)  # sorted digests
        self._numbers = np.zeros(0, dtype=np.int64)  # the number of each digest in _keys
        self.passes_public = array.array("b")
        self.correct = array.array("b")
        self.slow = array.array("b")
        self.signature = array.array("q")  # behaviour on the clustering inputs; -1: not clustered

    def __len__(self) -> int:
        return len(self.passes_public)

    def number_of(self, digests: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each digest's program number, numbering new ones; and which of them are new (first occurrences)."""
        where = np.searchsorted(self._keys, digests)
        known = (where < self._keys.size) & (self._keys[np.minimum(where, max(self._keys.size - 1, 0))] == digests) \
            if self._keys.size else np.zeros(digests.size, dtype=bool)
        numbers = np.full(digests.size, -1, dtype=np.int64)
        numbers[known] = self._numbers[where[known]]
        fresh, first, inverse = np.unique(digests[~known], return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")  # numbered in the order they are met
        rank = np.empty(order.size, dtype=np.int64)
        rank[order] = np.arange(order.size)
        start = len(self)
        numbers[~known] = start + rank[inverse.reshape(-1)]
        new = np.zeros(digests.size, dtype=bool)
        new[np.flatnonzero(~known)[first]] = True
        for column, fill in ((self.passes_public, 0), (self.correct, 0), (self.slow, 0), (self.signature, -1)):
            column.extend([fill] * fresh.size)
        keys = np.concatenate([self._keys, fresh])
        values = np.concatenate([self._numbers, start + rank])
        by_key = np.argsort(keys, kind="stable")
        self._keys, self._numbers = keys[by_key], values[by_key]
        return numbers, new


def digest(problem: str, program_hash: str) -> int:
    """64 bits naming a (problem, program): two of 10^6 programs share them with odds of 3 in 10^8."""
    return int.from_bytes(hashlib.blake2b(f"{problem}\0{program_hash}".encode("utf-8", "surrogatepass"),
                                          digest_size=8).digest(), "big")


class _Tests:
    """Each problem's tests of each set, with the hashes of inputs and outputs, made once."""

    def __init__(self, rows_by_name, max_tests, correctness_sets):
        self.rows, self.max_tests, self.cache = rows_by_name, max_tests, {}
        self.unconfirmed = unconfirmed_mutated(list(rows_by_name.values())) if "mutated" in correctness_sets else set()

    def __call__(self, problem: str, test_set: str) -> list[tuple[int, str, str, str, str]]:
        if (problem, test_set) not in self.cache:
            from ..data import problem_tests

            self.cache[(problem, test_set)] = [
                (i, inp, exp, sha256(inp), sha256(exp)) for i, inp, exp in
                problem_tests(self.rows[problem], test_set, self.max_tests)
                if (problem, test_set, i) not in self.unconfirmed]
        return self.cache[(problem, test_set)]


def _specs(programs, test_set: str, stop: bool, tests: _Tests, phase: Phase, limits_of, checker_of) -> list[JobSpec]:
    out = []
    for problem, program in programs:
        cases = tests(problem, test_set)
        if cases:
            limits, checker = limits_of(problem, program.language), checker_of[problem]
            keys = [row_key(program, hi, he, limits, phase.backend_name, phase.version, checker)
                    for _, _, _, hi, he in cases]
            out.append(JobSpec(problem, "", test_set, program, [c[:3] for c in cases], limits, stop, keys, checker))
    return out


def run_phase(specs: list[JobSpec], phase: Phase, bar) -> list[list[dict]]:
    """Every job's rows (stored ones reused, the rest run now and stored), in the jobs' order."""
    found = phase.store.find([k for spec in specs for k in spec.keys])
    out: list[list[dict]] = []
    todo: list[int] = []
    for n, spec in enumerate(specs):
        rows, done = stored_rows(spec, lambda i, key, spec=spec: found.get((key, spec.problem, spec.test_set, i)))
        out.append(rows)
        if done:
            phase.stats.jobs_skipped += 1
        else:
            todo.append(n)
    phase.stats.jobs_total += len(specs)
    be = phase.execution.get_backend()
    before = be.usage()
    try:
        return _run_todo(specs, phase, bar, out, todo)
    finally:  # where the jobs ran, this phase's share (summary.json's "executor")
        phase.stats.executor = merge_usage(phase.stats.executor, usage_since(before, be.usage()))


def _run_todo(specs: list[JobSpec], phase: Phase, bar, out: list[list[dict]], todo: list[int]) -> list[list[dict]]:
    """Run the jobs not stored yet, again where the machine failed (not the program), storing each."""
    for attempt in range(1 + MACHINE_RETRIES):
        hit: list[tuple[int, dict]] = []

        def write(i: int, results: list, todo=todo, hit=hit, attempt=attempt) -> None:
            spec = specs[todo[i]]
            if not results:
                raise RuntimeError(f"The executor returned no result for a program of {spec.problem!r} on its "
                                   f"{spec.test_set} tests.")
            rows = result_rows(spec, results)
            phase.store.add(rows)
            phase.stats.tests_run += len(rows)
            failed = [r for r in rows if r["passed"] is None]
            if failed:
                hit.append((todo[i], failed[0]))
            else:
                out[todo[i]] = rows
            if attempt == 0:
                phase.stats.jobs_run += 1
            else:
                phase.stats.retried += 1
            if bar is not None:
                bar.set_postfix(tests=phase.stats.tests_run, refresh=False)

        jobs = [Job(specs[n].program, [t[1] for t in specs[n].tests], [t[2] for t in specs[n].tests],
                    specs[n].limits, specs[n].stop, specs[n].checker) for n in todo]
        if jobs:
            phase.execution.run_batch(jobs, progress=False, on_result=write)
        if not hit:
            phase.store.flush()
            return out
        missing = [(specs[n], phase.execution.missing_runtime(specs[n].program.language)) for n, _ in hit]
        missing = [(spec, why) for spec, why in missing if why is not None]
        if missing:
            spec, why = missing[0]
            raise UserError(f"{why.rstrip('.')} ({len(missing)} job(s) of {spec.program.language} programs of "
                            f"{spec.problem!r} were not run: no verdict is made without them).")
        todo = [n for n, _ in hit]
    spec, row = specs[hit[0][0]], hit[0][1]
    raise UserError(
        f"{len(hit)} job(s) ended in {row['status']} (the machine failed, not the program) {1 + MACHINE_RETRIES} "
        f"times, for instance a program of {spec.problem!r} on {spec.test_set} test {row['test_index']}: no verdict "
        f"is made without them; {phase.store.path} keeps the other results and a re-run tries them again.")


def _passed_all(rows: list[dict], spec: JobSpec) -> bool:
    return len(rows) == len(spec.tests) and all(r["passed"] for r in rows)


def _behaviour(row: dict) -> str:
    """As `acodium.select` reads a run: its output when it ended OK, else its status (SLOW as TIMEOUT)."""
    status = "TIMEOUT" if row["status"] == "SLOW" else row["status"]
    return f"out:{row['output_hash'] or ''}" if status == "OK" else f"status:{status}"


def signature(rows: list[dict]) -> int:
    """One number per behaviour on the clustering inputs: equal exactly when every input's behaviour is."""
    items = sorted(f"{r['test_set']}:{r['test_index']}={_behaviour(r)}" for r in rows)
    return int.from_bytes(hashlib.blake2b("\x1f".join(items).encode(), digest_size=8).digest(), "big") >> 1


@dataclass
class ScheduleResult:
    """What `run_schedule` made: per candidate its program number (-1 without code), per program its verdicts."""

    problem_names: list[str]
    problem_of: np.ndarray  # int32 per candidate, in pool order: its problem's position in problem_names
    candidate_ids: pa.ChunkedArray
    program_of: np.ndarray  # int64 per candidate, -1 without code
    verdicts: ProgramVerdicts
    stats: RunStats
    clustering_stats: RunStats | None
    executions_path: Path
    programs_path: Path
    tests_run_by_status: dict[str, int]


class _Writer:
    """A parquet file written chunk by chunk, moved into place when complete (never half a table)."""

    def __init__(self, path: Path, schema: pa.Schema):
        self.path, self.tmp = path, path.with_name(f".{path.name}.writing")
        self.writer = pq.ParquetWriter(self.tmp, schema)
        self.schema = schema

    def write(self, columns: dict[str, list]) -> None:
        if columns and len(next(iter(columns.values()))):
            self.writer.write_table(pa.table(columns, schema=self.schema))

    def close(self, keep: bool) -> None:
        self.writer.close()
        if keep:
            self.tmp.replace(self.path)
        else:
            self.tmp.unlink(missing_ok=True)


def run_schedule(rows_by_name: dict[str, dict], pool: CandidatePool, *, out_dir: Path, schedule: str,
                 correctness_sets: Sequence[str], clustering_sets: Sequence[str], main: Phase,
                 clustering: Phase | None, max_tests: int | None, limits_of: Callable, checker_of: dict[str, Any],
                 progress: bool, public_counts: bool = False) -> ScheduleResult:
    """Run the pool's programs phase by phase, chunk by chunk (see the module docstring)."""
    tests = _Tests(rows_by_name, max_tests, correctness_sets)
    verdicts = ProgramVerdicts()
    names = list(rows_by_name)
    position = {name: i for i, name in enumerate(names)}
    problem_of: list[np.ndarray] = []
    ids: list[pa.Array] = []
    program_of: list[np.ndarray] = []
    by_status: dict[str, int] = {}
    executions = _Writer(out_dir / EXECUTIONS_FILE, _SCHEMA)
    programs_out = _Writer(out_dir / PROGRAMS_FILE, _PROGRAMS_SCHEMA)
    where = clustering or main
    bar = progress_bar(progress=progress, total=len(pool), desc="evaluate", unit="sample", dynamic_ncols=True)
    kept = False
    try:
        for chunk in pool.chunks(rows_by_name):
            mine = np.full(len(chunk), -1, dtype=np.int64)
            coded = np.array([bool(h) for h in chunk["program_hash"]], dtype=bool)
            at = np.flatnonzero(coded)
            digests = np.array([digest(chunk["problem"].iat[n], chunk["program_hash"].iat[n]) for n in at],
                               dtype=np.uint64)
            numbers, fresh = verdicts.number_of(digests)
            mine[at] = numbers
            new = [(int(numbers[j]), chunk["problem"].iat[n], Program(chunk["language"].iat[n], chunk["code"].iat[n]))
                   for j, n in enumerate(at) if fresh[j]]
            rows = _run_chunk(new, schedule, correctness_sets, clustering_sets, tests, main, where, limits_of,
                              checker_of, verdicts, bar, public_counts)
            for r in rows:
                by_status[r["status"]] = by_status.get(r["status"], 0) + 1
            executions.write({c: [r[c] for r in rows] for c in PROGRAM_EXECUTIONS})
            programs_out.write({"problem": list(chunk["problem"][coded]),
                                "candidate_id": list(chunk["candidate_id"][coded]),
                                "program_hash": list(chunk["program_hash"][coded])})
            problem_of.append(np.array([position[p] for p in chunk["problem"]], dtype=np.int32))
            ids.append(pa.array(chunk["candidate_id"].astype(str), type=pa.string()))  # compact, not a str each
            program_of.append(mine)
            bar.update(len(chunk))
        kept = True
    finally:
        bar.close()
        executions.close(kept)
        programs_out.close(kept)
        for phase in {id(p): p for p in (main, clustering) if p is not None}.values():
            phase.store.flush()
    return ScheduleResult(names, np.concatenate(problem_of) if problem_of else np.zeros(0, np.int32),
                          pa.chunked_array(ids, type=pa.string()),
                          np.concatenate(program_of) if program_of else np.zeros(0, np.int64),
                          verdicts, main.stats, clustering.stats if clustering is not None else None,
                          executions.path, programs_out.path, by_status)


def _run_chunk(new, schedule, correctness_sets, clustering_sets, tests, main: Phase, where: Phase, limits_of,
               checker_of, verdicts: ProgramVerdicts, bar, public_counts: bool) -> list[dict]:
    """The phases of one chunk's new programs; their rows (stored or run), and their verdicts set."""
    programs = [(problem, program) for _, problem, program in new]
    numbers = [number for number, _, _ in new]
    out: list[dict] = []

    def phase(subset: list[int], test_set: str, stop: bool, runner: Phase) -> dict[int, tuple[list[dict], JobSpec]]:
        """Run one set for the programs at these positions of `new`: position -> (rows, spec)."""
        with_tests = [p for p in subset if tests(programs[p][0], test_set)]
        specs = _specs([programs[p] for p in with_tests], test_set, stop, tests, runner, limits_of, checker_of)
        results = run_phase(specs, runner, bar) if specs else []
        for rows in results:
            out.extend(rows)
        return {p: (rows, spec) for p, rows, spec in zip(with_tests, results, specs)}

    everyone = list(range(len(new)))
    stop = schedule == "public_first"
    public = phase(everyone, "public", stop, main)
    passing = [p for p in everyone if p not in public or _passed_all(*public[p])]
    for p in passing:
        verdicts.passes_public[numbers[p]] = True
    # Correctness: each set in turn, each program going on only while it passed every hidden test so far.
    going = passing if stop else everyone
    failed_runs: dict[int, list[dict]] = {p: [] for p in everyone}
    correct = set(going)
    if public_counts:  # public tests asked to decide correctness too
        correct &= set(passing)
        for p, (rows, _) in public.items():
            failed_runs[p] += [r for r in rows if not r["passed"]]
    for test_set in correctness_sets:
        done = phase(sorted(correct) if stop else going, test_set, stop, main)
        for p, (rows, spec) in done.items():
            failed_runs[p] += [r for r in rows if not r["passed"]]
            if not _passed_all(rows, spec):
                correct.discard(p)
    for p in everyone:
        verdicts.correct[numbers[p]] = p in correct
        failed = failed_runs[p]
        verdicts.slow[numbers[p]] = bool(failed) and all(r["status"] == "SLOW" for r in failed)
    # Clustering inputs, in full, for the programs a policy may submit (every program under "full").
    clustered = passing if stop else everyone
    behaviour: dict[int, list[dict]] = {p: [] for p in clustered}
    for test_set in clustering_sets:
        for p, (rows, _) in phase(clustered, test_set, False, where).items():
            behaviour[p] += rows
    for p in clustered:
        verdicts.signature[numbers[p]] = signature(behaviour[p])
    for p in everyone:  # a problem without clustering inputs: one cluster, as `acodium.select` has it
        if not any(tests(programs[p][0], s) for s in clustering_sets):
            verdicts.signature[numbers[p]] = signature([])
    return out
