"""The local backend: candidate programs in a bubblewrap sandbox, one forking worker per core.

Each worker is `/usr/bin/python3.11` running `_worker.py` inside bubblewrap with every
namespace unshared (no network, its own PID/IPC/UTS/user space), a read-only view of
/usr, a private size-bounded tmpfs /tmp, an empty environment and a non-root user.
When we are root, bubblewrap itself is started as `nobody`, so the sandbox is built
exactly as for an ordinary user (unprivileged user namespace) and per-sandbox process
limits apply (the kernel exempts root from RLIMIT_NPROC). The worker forks per test,
so there is no interpreter start per test; it kills everything a test started when
the test ends. A worker that dies (a program killed it) is replaced; its test is
reported as SANDBOX_ERROR.

Differences from a judge: the time limit is CPU time (as in DeepMind's tester and on
Codeforces). Programs that sleep or block are stopped at a wall-clock cap of
`wall_factor` x limit + 1 s (default 5x); one still computing at the cap (starved by a
loaded machine) runs on to its CPU limit, up to 30 x limit + 1 s (the tester's wall limit).
Memory is the peak resident set (ru_maxrss; for Python it includes the interpreter,
~12 MB, and for C++ the forking worker's own ~12 MB, as ru_maxrss survives exec); the
address space is capped at limit + 1 GiB for Python (thread stacks reserve more than
they use) and limit + 64 MiB for C++. A Python program's main thread may recurse
through a 1 GiB stack, a C++ program's through a stack as large as its memory limit.

The backend is in three more modules, one job each: `local_sandbox` (the bubblewrap
command line), `local_channel` (the host's end of a worker: framed replies checked
against their request) and `local_pool` (starting, lending and replacing workers);
here, what a job runs on a worker and what the worker's replies mean.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import warnings
from pathlib import Path

from ..errors import UserError
from . import runtimes
from ..languages import RUNNABLE_LANGUAGES
from .base import Backend
from .cgroups import NoCgroupsWarning
from .local_channel import MAX_BLOB, Worker, WorkerLost
from .local_compiled import CompiledPrograms
from .local_pool import START_TIMEOUT_S, WorkerPool
from .local_sandbox import DEFAULT_TMP_BYTES, SANDBOX_UID, bwrap_command
from .judges import (CHECKER_ARGV, JUDGE_MEMORY_BYTES, JUDGE_OUTPUT_BYTES, JUDGE_TIME_S, JudgeProgram,
                     ProgramChecker, read_judge_exit)
from .types import ExecutionResult, Job, Program, Status, sha256

# Public names of this module before it was split, still importable from here.
__all__ = [
    "LocalBackend", "UnsandboxedExecutionWarning", "NoCgroupsWarning", "WorkerLost", "Worker",
    "bwrap_command", "WORKER_SOURCE", "PROTOCOL", "DEFAULT_PYTHON", "DEFAULT_TMP_BYTES", "SANDBOX_UID",
    "HOST_GRACE_S", "HARD_WALL_FACTOR", "START_TIMEOUT_S", "MAX_BLOB",
]

WORKER_SOURCE = Path(__file__).with_name("_worker.py")
PROTOCOL = "2"
DEFAULT_PYTHON = "/usr/bin/python3.11"
# Beyond the worker's own limits, how long the host waits for an answer before
# it declares the worker lost and kills its sandbox.
HOST_GRACE_S = 10.0
# A program still computing at the wall-clock cap (starved by a loaded machine, not
# sleeping) runs on to its CPU limit, but never past this many times its time limit
# (the wall limit of DeepMind's tester).
HARD_WALL_FACTOR = 30.0
# An interactor stopped at the wall cap with more than this share of the wall time in CPU was
# computing, not waiting for the program: it did not answer (a judge error).
BUSY_SHARE = 0.2


def interact_header(run: dict) -> dict:
    """The request of an interactive test, from the candidate's "run" request."""
    limits = {k: run[k] for k in ("time_s", "memory_bytes", "output_bytes")}
    return {"op": "interact", "wall_s": run["wall_s"], "program": limits,
            "interactor": {"time_s": max(JUDGE_TIME_S, run["hard_wall_s"]), "memory_bytes": JUDGE_MEMORY_BYTES,
                           "output_bytes": JUDGE_OUTPUT_BYTES}}


class UnsandboxedExecutionWarning(UserWarning):
    """Candidate programs run on the host, without isolation."""


warnings.simplefilter("always", UnsandboxedExecutionWarning)


class LocalBackend(WorkerPool, Backend):
    """Runs programs in sandboxed forking workers (see the module docstring).

    `sandbox=False` runs the workers directly on the host with an empty environment
    and a private scratch directory as cwd: no isolation from the file system, the
    network or your processes, no process-count limit, and a process that leaves the
    test's process group (setsid) survives it. It must be asked for explicitly and
    warns on every run.

    Options: `workers` (default: all cores), `python` (the interpreter for candidate
    programs, default /usr/bin/python3.11, never the caller's venv), `tmp_bytes` (size
    of the sandbox's /tmp, 256 MiB), `wall_factor` (wall-clock cap = factor x time + 1 s),
    `compile_time_s` (CPU seconds a compilation may take, 60; 1.5x that of wall time),
    `cgroups` (None: a cgroup per worker where the machine allows it, else strict
    per-process limits, said once; True: required; False: per-process limits).
    """

    name = "local"
    runs_program_judges = True

    def __init__(self, sandbox: bool = True, python: str | None = None,
                 workers: int | None = None, tmp_bytes: int = DEFAULT_TMP_BYTES,
                 bwrap: str | None = None, wall_factor: float = 5.0, compile_time_s: int = 60,
                 cgroups: bool | None = None, python3: str | None = None):
        self.sandbox = sandbox
        self.compile_time_s = max(1, int(compile_time_s))
        self.wall_factor = float(wall_factor)
        choice = python3 or os.environ.get("ACODIUM_PYTHON3") or None
        chosen = runtimes.python3_runtime(choice) if choice else None
        if chosen is not None and chosen.warm:
            python = chosen.executable  # a CPython the worker can be: tests stay forks of it
        self.python = python or runtimes.default_python3()
        self.max_workers = workers or os.cpu_count() or 1
        self.tmp_bytes = tmp_bytes
        self.bwrap = bwrap or shutil.which("bwrap") or "/usr/bin/bwrap"
        if not Path(self.python).exists():
            raise UserError(f"The Python interpreter for candidate programs, {self.python}, does not exist: install python3.11 or pass python=PATH.")
        worker = runtimes.worker_runtime(self.python)
        # What each language runs under here (None: nothing found, `missing_runtime` says how to get it).
        self.runtimes = {"python3": chosen if chosen is not None and not chosen.warm else worker,
                         "python2": runtimes.python2_runtime(), "java": runtimes.java_runtime()}
        self._binds = tuple(dict.fromkeys(b for r in (worker, *self.runtimes.values()) if r is not None
                                          for b in r.binds)) if sandbox else ()
        self._cgroups = self._cgroup_support(cgroups) if sandbox else None
        if sandbox and not Path(self.bwrap).exists():
            raise UserError("bubblewrap (bwrap) is needed to sandbox candidate programs: run `make sandbox` (or install the bubblewrap package), or choose the unsandboxed mode explicitly with sandbox=False / --no_sandbox.")
        self._source = WORKER_SOURCE.read_text()
        self.compiled = CompiledPrograms()  # C++ and Java compiled once for all workers
        self._version: str | None = None
        self._start_pool()
        if self._cgroups is not None:
            self._first_worker(cgroups)

    # -- running -------------------------------------------------------------------

    def version(self) -> str:
        if self._version is None:
            py = subprocess.run([self.python, "-c", "import sys;print(sys.version.split()[0])"],
                                capture_output=True, text=True, env={}).stdout.strip()
            gxx = subprocess.run(["g++", "-dumpfullversion"], capture_output=True,
                                 text=True).stdout.strip() if shutil.which("g++") else "none"
            mode = "sandbox" if self.sandbox else "host"
            mode += f"-cgroup{self._cgroups.kind}" if self._cgroups is not None else "-rlimits"
            # Each language's runtime (a PyPy run is not a CPython run; Java, Python 2 where found).
            others = "/".join(f"{lang}={r.identity if r is not None else 'none'}" for lang, r in
                              sorted(self.runtimes.items()) if r is None or not (lang == "python3" and r.warm))
            self._version = (f"{PROTOCOL}/{sha256(self._source)[:12]}/py{py}@{self.python}/g++{gxx}/{others}/{mode}"
                             f"/cc{self.compile_time_s}/wall{self.wall_factor:g}-{HARD_WALL_FACTOR:g}")
        return self._version

    def missing_runtime(self, language: str) -> str | None:
        """Why `language` cannot run here (one sentence saying how to get its runtime), or None."""
        if language == "cpp":
            return runtimes.CPP_MISSING if runtimes.cpp_compiler() is None else None
        if language in ("python2", "java") and self.runtimes.get(language) is None:
            return runtimes.PYTHON2_MISSING if language == "python2" else runtimes.JAVA_MISSING
        return None

    def _unavailable(self, program: Program, job: Job, why: str) -> list[ExecutionResult]:
        """Results of a job whose language has no runtime here: SANDBOX_ERROR (a fact about the
        machine: never cached, never a verdict), the sentence that says how to get one as stderr."""
        count = min(len(job.inputs), 1) if job.stop_on_first_failure else len(job.inputs)
        return [ExecutionResult(status=Status.SANDBOX_ERROR, passed=None, stderr=why, program_hash=program.hash)
                for _ in range(count)]

    def run(self, job: Job) -> list[ExecutionResult]:
        if not self.sandbox:
            warnings.warn("Running candidate programs WITHOUT a sandbox: they can read your "
                          "files and environment and use the network.",
                          UnsandboxedExecutionWarning, stacklevel=2)
        if job.program.language not in RUNNABLE_LANGUAGES:
            raise UserError(f"Cannot run programs in {job.program.language!r}: the local backend runs "
                            f"{', '.join(RUNNABLE_LANGUAGES)}.")
        if job.expected is not None and len(job.expected) != len(job.inputs):
            raise UserError(f"A job has {len(job.inputs)} inputs but {len(job.expected)} expected outputs.")
        why = self.missing_runtime(job.program.language)
        if why is not None:
            return self._unavailable(job.program, job, why)
        # The job may replace its worker (lost, or dirty); `held` always names the live one.
        held = [self._acquire()]
        try:
            return self._run_on(held, job)
        finally:
            self._release(held[0])

    def _load(self, worker: Worker, program: Program | JudgeProgram, role: str = "program") -> dict:
        """Give the worker `program` in `role` ("program": the candidate; "checker", "interactor")."""
        if worker.loaded.get(role) == program.hash:
            return {"ok": True}
        worker.loaded.pop(role, None)
        includes = getattr(program, "includes", ())
        # A candidate's C++ or Java compiled by another worker is given compiled (local_compiled.py).
        with self.compiled.loading(program.language, program.hash, role) as plan:
            if plan.reply is not None:  # a compile error, as its compilation said
                return plan.reply
            reply, blobs = worker.request(
                {"op": "load", "language": program.language, "hash": program.hash, "role": role,
                 "includes": [name for name, _ in includes], "compile_time_s": self.compile_time_s,
                 **(self._runtime_header(program.language) if role == "program" else {}), **plan.header},
                [plan.blob] if plan.blob is not None else [program.code.encode("utf-8", "surrogatepass")]
                + [text.encode("utf-8", "surrogateescape") for _, text in includes], timeout=120.0,
                max_blob=max(MAX_BLOB, plan.max_blob))
            if reply.get("ok"):
                worker.loaded[role] = program.hash
            elif blobs:  # the compiler's messages
                reply = dict(reply, stderr=blobs[0].decode("utf-8", "replace"))
            plan.done(reply, blobs)
        return reply

    def _runtime_header(self, language: str) -> dict:
        """What a load request says of the program's runtime: the JDK, or an interpreter to exec
        (Python 2, a Python 3 that is not the worker's own); nothing for the worker's own Python 3 and C++."""
        runtime = self.runtimes.get(language)
        if runtime is None or runtime.warm:
            return {}
        if language == "java":
            return {"runtime": {"java": runtime.executable, "javac": runtime.compiler}}
        return {"runtime": runtime.executable}

    def _run_on(self, held: list[Worker], job: Job) -> list[ExecutionResult]:
        program = job.program
        limits = job.limits
        results: list[ExecutionResult] = []
        try:
            loaded = self._load(held[0], program)
        except WorkerLost:  # died while idle, or while compiling: one more try in a fresh sandbox
            held[0] = self._replace(held[0])
            try:
                loaded = self._load(held[0], program)
            except WorkerLost as e:
                held[0] = self._replace(held[0])
                loaded = {"error": f"sandbox error while loading the program: {e}"}
        if not loaded.get("ok"):
            return self._not_loaded(program, loaded, job, len(job.inputs))
        wall_s = self.wall_factor * limits.time_s + 1.0
        hard_wall_s = max(wall_s, HARD_WALL_FACTOR * limits.time_s + 1.0)
        header = {"op": "run", "time_s": float(limits.time_s), "wall_s": wall_s, "hard_wall_s": hard_wall_s,
                  "memory_bytes": int(limits.memory_bytes), "output_bytes": int(limits.output_bytes)}
        judge = job.checker if isinstance(job.checker, ProgramChecker) else None
        if judge is not None and judge.interactor is not None:
            header = interact_header(header)
        wait = hard_wall_s + HOST_GRACE_S
        most = max(int(limits.output_bytes), MAX_BLOB)  # stdout is cut at the output limit (1 MiB shown past it)
        for i, text in enumerate(job.inputs):
            try:
                stdin = [text.encode("utf-8", "surrogatepass")]
                result, loaded = self._one_test(held, program, judge, header, stdin, wait, most)
            except WorkerLost as e:
                result = ExecutionResult(status=Status.SANDBOX_ERROR, passed=None,
                                         stderr=f"sandbox error: {e}", program_hash=program.hash)
                loaded = self._fresh(held, program)
            if result is None:  # the test did not run: the program no longer loads
                return results + self._not_loaded(program, loaded, job, len(job.inputs) - i)
            if job.expected is not None and judge is None:
                result.passed = result.status == Status.OK and job.checker.check(result.stdout, job.expected[i])
            elif job.expected is not None and result.status != Status.SANDBOX_ERROR:
                self._judged(held, program, judge, text, job.expected[i], result)
            results.append(result)
            if job.stop_on_first_failure and not (
                    result.passed if job.expected is not None else result.status == Status.OK):
                break
            if not loaded.get("ok"):  # the program no longer loads: its remaining tests say why
                return results + self._not_loaded(program, loaded, job, len(job.inputs) - i - 1)
        return results

    def _one_test(self, held: list[Worker], program: Program, judge: ProgramChecker | None, header: dict,
                  stdin: list[bytes], wait: float, most: int) -> tuple[ExecutionResult | None, dict]:
        """One test's run (with its interactor, for an interactive job): (result, the program's load
        state after it). The result is None if the program could not be loaded again to run it."""
        loaded = {"ok": True}
        for attempt in range(2):
            if header["op"] == "interact":
                trouble = self._load_judge(held[0], judge.interactor, "interactor")
                if trouble:
                    return self._judge_error(program, trouble), loaded
            # An interactor's output file (the run's stdout) may hold more than the program's output limit.
            bound = max(most, header["interactor"]["output_bytes"]) if header["op"] == "interact" else most
            reply, blobs = held[0].request(header, stdin, wait, bound)
            if not reply.get("retry") or attempt:
                break
            # The worker found itself altered before forking: the test never ran. Once more, afresh.
            loaded = self._fresh(held, program)
            if not loaded.get("ok"):
                return None, loaded
        if header["op"] == "interact":
            result = self._interaction(program, reply, blobs, header["program"]["time_s"])
        else:
            result = self._result(program, reply, blobs)
        if reply.get("restart"):  # the worker could not clean up after this test
            loaded = self._fresh(held, program)
        return result, loaded

    # -- program judges (judges.py): checkers and interactors, by testlib's protocols ------------

    def _load_judge(self, worker: Worker, program: JudgeProgram, role: str) -> str:
        """Load a checker or interactor into the worker: "" when ready, else why it is not (a judge error)."""
        try:
            reply = self._load(worker, program, role)
        except WorkerLost as e:
            raise WorkerLost(f"while loading the {role}: {e}") from e
        if reply.get("ok"):
            return ""
        if reply.get("compile_error"):
            first = next((line for line in str(reply.get("stderr", "")).splitlines() if "error" in line), "")
            return f"judge error: the {role} does not compile{': ' + first.strip() if first else ''}"
        return f"judge error: the {role} could not be loaded ({reply.get('error', 'no reason given')})"

    @staticmethod
    def _judge_error(program: Program, message: str) -> ExecutionResult:
        return ExecutionResult(status=Status.JUDGE_ERROR, passed=False, checker_message=message[:2000],
                               program_hash=program.hash)

    def _interaction(self, program: Program, reply: dict, blobs: list[bytes], time_s: float) -> ExecutionResult:
        """An interactive test's reply as a result: the candidate's status, the interactor's output
        file as stdout, and (passed, message) from the interactor's exit (`read_judge_exit`).

        An interactor that fails (exit 3, a crash, its limits) is a judge error whatever the
        program did, except when both were stopped at the wall cap: then the one that waited
        is the program's fault (it forgot to flush, say), unless the interactor was computing
        (over a fifth of the wall time in CPU: a busy loop gets more on a loaded machine, a
        process waiting to read next to nothing) while the program waited under its CPU limit."""
        judge = reply.get("judge")
        if len(blobs) != 3 or not isinstance(judge, dict):
            raise WorkerLost(str(reply.get("error", "malformed reply to an interactive test")))
        result = self._result(program, reply, blobs[:2])
        said = read_judge_exit("interactor", str(judge.get("status")), judge.get("exit_code"), judge.get("signal"),
                               stderr=blobs[2].decode("utf-8", "replace"))
        judge_cpu = float(judge.get("cpu_s") or 0.0)
        both_stopped = result.status == Status.TIMEOUT and judge.get("status") == "TIMEOUT"
        # The OOM killer takes the candidate first; an interactor it took too, while the candidate's
        # memory was still being freed, went with the candidate.
        both_out_of_memory = result.status == Status.MEMORY_LIMIT and judge.get("status") == "MEMORY_LIMIT"
        if both_stopped and result.cpu_s <= time_s and judge_cpu > BUSY_SHARE * result.time_s:
            result.status, result.checker_message = Status.JUDGE_ERROR, (
                f"judge error: the interactor did not answer (it computed for {judge_cpu:.1f} s while the program waited)")
        elif said.judge_error and not (both_stopped or both_out_of_memory):  # its own failure, whatever came after
            result.status, result.checker_message = Status.JUDGE_ERROR, said.message
        elif result.status != Status.OK:  # the program's own end (an interactor then sees EOF)
            result.checker_message = said.message if said.passed is False else ""
        else:
            result.passed, result.checker_message = said.passed, said.message
        return result

    def _judged(self, held: list[Worker], program: Program, judge: ProgramChecker, text: str, expected: str,
                result: ExecutionResult) -> None:
        """Set a run's verdict from its program judge: the interactor's (already in the result),
        then the checker program's on (input, output, answer), run in the same worker."""
        if result.status != Status.OK or (judge.interactor is not None and not result.passed):
            result.passed = False
            return
        if judge.checker is None:
            result.passed = True
            return
        try:
            self._run_checker(held, program, judge, text, expected, result)
        except WorkerLost as e:  # the sandbox failed, not the checker (it cannot end the worker): run again
            self._fresh(held, program)
            result.status, result.passed, result.checker_message = Status.SANDBOX_ERROR, None, ""
            result.stderr = f"sandbox error while judging: {e}"

    def _run_checker(self, held: list[Worker], program: Program, judge: ProgramChecker, text: str, expected: str,
                     result: ExecutionResult) -> None:
        """The checker program's run on (input, output, answer): its verdict into `result`
        (WorkerLost when the sandbox fails)."""
        trouble = self._load_judge(held[0], judge.checker, "checker")
        if trouble:
            result.status, result.passed, result.checker_message = Status.JUDGE_ERROR, False, trouble
            return
        wall_s = self.wall_factor * JUDGE_TIME_S + 1.0
        header = {"op": "run", "role": "checker", "argv": list(CHECKER_ARGV), "time_s": JUDGE_TIME_S,
                  "wall_s": wall_s, "hard_wall_s": HARD_WALL_FACTOR * JUDGE_TIME_S, "memory_bytes": JUDGE_MEMORY_BYTES,
                  "output_bytes": JUDGE_OUTPUT_BYTES}
        files = [b"", text.encode("utf-8", "surrogatepass"), result.stdout.encode("utf-8", "surrogatepass"),
                 expected.encode("utf-8", "surrogatepass")]
        reply, blobs = held[0].request(header, files, HARD_WALL_FACTOR * JUDGE_TIME_S + HOST_GRACE_S,
                                       max(JUDGE_OUTPUT_BYTES, MAX_BLOB))  # its stdout, up to its output limit
        if reply.get("restart") or reply.get("retry"):
            self._fresh(held, program)
        if "status" not in reply or len(blobs) != 2:
            result.status, result.passed = Status.JUDGE_ERROR, False
            result.checker_message = f"judge error: the checker's sandbox failed ({reply.get('error', 'no reply')})"
            return
        said = read_judge_exit("checker", str(reply["status"]), reply.get("exit_code"), reply.get("signal"),
                               blobs[0].decode("utf-8", "replace"), blobs[1].decode("utf-8", "replace"))
        if said.judge_error:
            result.status, result.passed = Status.JUDGE_ERROR, False
        else:
            result.passed = said.passed
        result.checker_message = said.message

    def _fresh(self, held: list[Worker], program: Program) -> dict:
        """Replace a lost or dirty worker (held[0]) and give the new one the current program:
        the load's reply. A program can compile once and not the next time (its code may
        look at the clock): that is its result for the tests left, never an exception."""
        held[0] = self._replace(held[0])
        try:
            return self._load(held[0], program)
        except WorkerLost as e:
            held[0] = self._replace(held[0])
            return {"error": f"sandbox error while loading the program again: {e}"}

    @staticmethod
    def _not_loaded(program: Program, loaded: dict, job: Job, count: int) -> list[ExecutionResult]:
        """Results for `count` tests of a program that could not be loaded (one if the job
        stops at its first failure)."""
        status = Status.COMPILE_ERROR if loaded.get("compile_error") else Status.SANDBOX_ERROR
        result = dict(status=status, passed=False if job.expected is not None and status == Status.COMPILE_ERROR
                      else None, stderr=str(loaded.get("stderr", loaded.get("error", "")))[-8192:],
                      program_hash=program.hash)
        return [ExecutionResult(**result) for _ in range(min(count, 1) if job.stop_on_first_failure else count)]

    @staticmethod
    def _result(program: Program, reply: dict, blobs: list[bytes]) -> ExecutionResult:
        """The worker's reply as a result; WorkerLost for anything that is not a well-formed one."""
        if "status" not in reply or len(blobs) != 2 or reply.get("retry"):
            raise WorkerLost(str(reply.get("error", "malformed reply")))
        stdout, stderr = blobs
        try:
            status = Status(reply["status"])
            times = [float(reply.get(k, 0.0)) for k in ("time_s", "cpu_s")]
            memory = reply.get("memory_bytes")
            numbers = times + ([float(memory)] if memory is not None else [])
            if status in (Status.SANDBOX_ERROR, Status.SLOW) or not all(math.isfinite(x) and x >= 0 for x in numbers):
                raise ValueError
        except (TypeError, ValueError) as e:
            raise WorkerLost("a malformed reply from the worker") from e
        return ExecutionResult(
            status=status,
            passed=None,
            stdout=stdout.decode("utf-8", "replace"),
            stderr=stderr.decode("utf-8", "replace"),
            exit_code=reply.get("exit_code"),
            signal=reply.get("signal"),
            time_s=times[0],
            cpu_s=times[1],
            memory_bytes=memory,
            program_hash=program.hash,
            output_hash=sha256(stdout),
        )

    def run_many(self, jobs, workers: int = 1):
        return super().run_many(jobs, workers=min(workers, self.max_workers) or 1)
