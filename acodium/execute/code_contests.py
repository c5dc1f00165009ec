"""The code_contests backend: DeepMind's own tester, as a second opinion on the local one.

The PyPI package code-contests-tester wraps DeepMind's C++ tester (sandbox2:
seccomp, namespaces, rlimits) in a module that loads only in CPython 3.9, so it
runs in side processes (`_cc_worker.py`) under the Python 3.9 environment that
`make cc-env` creates (`.cc-venv`); the programs it judges run under
/usr/bin/python3.11. One side process per core; each runs one job at a time,
its tests one after another, and streams each test's stdout back as it ends.

What the tester honours, and what this module adds (details in docs/backends.md):

- Python 3 only: the package binds `Py3TesterSandboxer` and nothing for C++.
- Time: the tester's limit is fixed at 10 s of CPU (RLIMIT_CPU; the option is not
  settable from Python) with a 300 s wall-clock backstop, and a test's CPU time
  cannot be read. acodium applies `limits.time_s` only as local's wall-clock
  cap: a test still running after 5 x time_s + 1 s is cut off by killing the
  side process (the test is TIMEOUT, the job goes on). So a program that needs
  2 s of CPU with time_s=1 is TIMEOUT under local and OK under code_contests;
  a wall-time rule would be stricter but flaky (sandbox start-up and machine
  load count in wall time).
- Memory: fixed at 256 MiB + 32 MiB of address space; `limits.memory_bytes` is not
  applied. A Python MemoryError is reported as MEMORY_LIMIT, as local does.
- Output: no cap in the tester; stdout beyond `limits.output_bytes` is OUTPUT_LIMIT.
- Slow positives (`acodium.execute.slow`): the same rule as local's, on this backend's measure of
  time: wall time against the cap 5 x time_s + 1 s (`time_used`, `time_allowed`). A test cut off
  at the cap runs again with the cap of time_s x slow_cap; one the tester itself stopped (its
  fixed 10 s of CPU) is a TIMEOUT, since a longer cap would not let it finish.
- Verdict, chosen by `judge`: "acodium" (the default) is acodium's `check_output`
  on the stdout, so both backends judge identically; "tester" is the tester's own
  compiled `OutputsMatch` (tester_sandboxer.cc) on that same stdout, reached
  through ctypes in the side process (`_cc_worker.py`): an independent second
  opinion on acodium's port (bench/fidelity.py compares the two, and
  tests/test_check.py runs a differential test). `outputs_match(pairs)` judges
  bare (output, expected) pairs with it. With stop_on_first_failure the tester
  is stopped through its compare callback, on the chosen judge's verdict.
- Status: Success -> OK; a non-zero exit -> RUNTIME_ERROR; a seccomp violation
  (threads: clone3; time.sleep: clock_nanosleep) -> RUNTIME_ERROR with the
  sandbox's message in stderr; the tester reports every death by a signal as
  Timeout, acodium keeps that only for SIGKILL/SIGXCPU (the CPU limit) and
  calls other signals (SIGSEGV, ...) RUNTIME_ERROR; a failed py_compile ->
  COMPILE_ERROR; a side process that dies mid-test (the tester aborts on output
  that is not UTF-8) -> SANDBOX_ERROR for that test, and a fresh one continues.

The backend is in two more modules: `code_contests_env` (finding the tester's
environment and the candidates' standard library) and `code_contests_process` (one
side process); here, the pool of side processes and what their messages mean.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
from pathlib import Path

from ..errors import UserError
from . import code_contests_env, code_contests_process
from .base import Backend
from .code_contests_env import (
    REPO_VENV,
    default_venv,
    installed_tester_version,
    stdlib_folders,
    venv_python,
)
from .code_contests_process import (
    SANDBOX_ENV,
    START_TIMEOUT_S,
    WORKER_FILE,
    SideProcess,
    WorkerLost,
)
from .types import ExecutionResult, Job, Limits, Status, sha256

# Public names of this module before it was split, still importable from here.
__all__ = [
    "CodeContestsBackend", "WorkerLost", "default_venv", "WORKER_FILE", "REPO_VENV", "DEFAULT_PYTHON",
    "PROTOCOL", "START_TIMEOUT_S", "WALL_FACTOR", "COMPILE_GRACE_S", "STDERR_TAIL", "SANDBOX_ENV",
]

DEFAULT_PYTHON = "/usr/bin/python3.11"
PROTOCOL = "1"
# A test still running after WALL_FACTOR x time_s + 1 s is cut off (local's rule: generous,
# a loaded machine stretches wall time); the tester's own backstop is 300 s.
WALL_FACTOR = 5.0
COMPILE_GRACE_S = 2.0  # py_compile in the sandbox, before the first test's clock starts
STDERR_TAIL = 8192
_EXIT = re.compile(r"Exit code: (-?\d+)")
_SIGNAL = re.compile(r"Signal: \S+ \[(\d+)\]")
_CPU_LIMIT_SIGNALS = (signal.SIGKILL, signal.SIGXCPU)
# The backend's code, main and side process: a change to any is a new version (the cache key).
SOURCES = (WORKER_FILE, Path(__file__), Path(code_contests_process.__file__), Path(code_contests_env.__file__))


class CodeContestsBackend(Backend):
    """Runs Python 3 programs with DeepMind's code_contests tester (see the module docstring).

    `venv`: the tester's Python 3.9 environment (default: $ACODIUM_CC_VENV or the
    repository's `.cc-venv`, made by `make cc-env`); `python`: the interpreter that
    runs the programs, `python_lib`: the folders of its standard library that the
    sandbox mounts (default: asked from `python`); `workers`: side processes (cores);
    `judge`: who decides `passed`, "acodium" (the job's checker, `check_output` by default, as the
    local backend) or "tester" (the tester's compiled `OutputsMatch`, for jobs judged by `tokens`; see
    the module docstring).

    `judge` applies to this backend's `run` and `run_many`; `run_batch` and
    `run_program` judge again from stdout with `check_output` (their cache holds no
    verdicts), so a second opinion goes through the backend directly.
    """

    name = "code_contests"
    JUDGES = ("acodium", "tester")

    def __init__(self, venv: str | os.PathLike | None = None, python: str = DEFAULT_PYTHON,
                 python_lib: list[str] | None = None, workers: int | None = None,
                 judge: str = "acodium"):
        if judge not in self.JUDGES:
            raise UserError(f"Unknown judge {judge!r} for the code_contests backend: choose one of {', '.join(self.JUDGES)}.")
        self.judge = judge
        self.venv = Path(venv) if venv is not None else default_venv()
        self.venv_python = venv_python(self.venv)
        if not Path(python).exists():
            raise UserError(f"The Python interpreter for candidate programs, {python}, does not exist: install python3.11 or pass python=PATH.")
        self.python = python
        self._python_lib = list(python_lib) if python_lib else None
        self.max_workers = workers or os.cpu_count() or 1
        self._idle: list[SideProcess] = []
        self._all: list[SideProcess] = []
        self._count = 0
        self._cond = threading.Condition()
        self._closed = False
        self._version: str | None = None

    # -- side processes --------------------------------------------------------------

    def python_lib(self) -> list[str]:
        if self._python_lib is None:
            self._python_lib = stdlib_folders(self.python)
            if not self._python_lib:
                raise UserError(f"Could not find the standard library of {self.python}: pass python_lib=[...].")
        return self._python_lib

    def _acquire(self) -> SideProcess:
        with self._cond:
            while True:
                if self._closed:
                    raise UserError("This execution backend has been closed.")
                if self._idle:
                    return self._idle.pop()
                if self._count < self.max_workers:
                    self._count += 1
                    break
                self._cond.wait()
        try:
            worker = SideProcess(self.venv_python, self.python, self.python_lib())
            if self.judge == "tester" and worker.compare_error:
                worker.kill()
                raise UserError(f"The tester's compiled OutputsMatch is not reachable ({worker.compare_error}): "
                                "use judge='acodium'.")
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise
        with self._cond:
            self._all.append(worker)
        return worker

    def _release(self, worker: SideProcess, lost: bool = False) -> None:
        if lost:
            worker.kill()
        with self._cond:
            if lost:
                self._count -= 1
                if worker in self._all:
                    self._all.remove(worker)
            else:
                self._idle.append(worker)
            self._cond.notify()

    # -- the tester's compare ------------------------------------------------------------

    def outputs_match(self, pairs: list[tuple[str, str]]) -> list[bool]:
        """The tester's compiled OutputsMatch(output, expected) on each pair (no program runs)."""
        pairs = [[output, expected] for output, expected in pairs]
        worker = self._acquire()
        if worker.compare_error:
            self._release(worker)
            raise UserError(f"The tester's compiled OutputsMatch is not reachable ({worker.compare_error}).")
        try:
            worker.send({"op": "compare", "pairs": pairs})
            reply = worker.read(START_TIMEOUT_S + 1e-3 * len(pairs))
        except WorkerLost:
            reply = None
        if not isinstance(reply, dict) or reply.get("event") != "compare":
            log = worker.log_tail(1000)
            self._release(worker, lost=True)
            detail = reply.get("message") if isinstance(reply, dict) else reply
            raise UserError(f"The tester's OutputsMatch gave no answer ({detail}); its log ends: {log[-500:]}")
        self._release(worker)
        return [bool(m) for m in reply["matches"]]

    # -- running ---------------------------------------------------------------------

    def version(self) -> str:
        if self._version is None:
            tester = installed_tester_version(self.venv)
            py = subprocess.run([self.python, "-c", "import sys;print(sys.version.split()[0])"],
                                capture_output=True, text=True, env={}).stdout.strip()
            source = sha256("".join(path.read_text() for path in SOURCES))[:12]
            self._version = f"{PROTOCOL}/{source}/tester{tester}/py{py}"
        return self._version

    def time_used(self, result: ExecutionResult) -> float:
        """Wall seconds: the tester's CPU time cannot be read, and `time_s` is applied as a wall-clock cap."""
        return result.time_s

    def time_allowed(self, limits: Limits) -> float:
        return WALL_FACTOR * limits.time_s + 1.0

    def missing_runtime(self, language: str) -> str | None:
        if language == "python3":
            return None
        return (f"The code_contests backend runs Python 3 programs only (the PyPI tester's bindings have no C++, "
                f"Java or Python 2 tester): run {language} programs with the local backend.")

    def run(self, job: Job) -> list[ExecutionResult]:
        if job.program.language != "python3":
            raise UserError(self.missing_runtime(job.program.language))
        if job.expected is not None and len(job.expected) != len(job.inputs):
            raise UserError(f"A job has {len(job.inputs)} inputs but {len(job.expected)} expected outputs.")
        results: list[ExecutionResult] = []
        start = 0
        while start < len(job.inputs):
            part, stop = self._run_from(job, start)
            results += part
            start += len(part)
            if stop:
                break
        if job.stop_on_first_failure:
            for i, r in enumerate(results):
                if self._failed(r):
                    return results[:i + 1]
        return results

    @staticmethod
    def _failed(result: ExecutionResult) -> bool:
        return not result.passed if result.passed is not None else result.status != Status.OK

    def _run_from(self, job: Job, start: int) -> tuple[list[ExecutionResult], bool]:
        """Run tests start.. on one side process.

        Returns (results, stop): the results of a prefix of those tests (at least one),
        and whether the job is over. When the side process is lost at test k, the tests
        before k are run again (their exit statuses only come at the end of a call), k
        gets TIMEOUT (cut off) or SANDBOX_ERROR (the process died), and the caller goes
        on from k + 1.
        """
        limits = job.limits
        inputs = job.inputs[start:]
        ask = job.stop_on_first_failure and job.expected is not None
        request = {"op": "test", "code": job.program.code, "inputs": inputs, "ask": ask}
        if self.judge == "tester" and job.expected is not None:
            request["expected"] = job.expected[start:]
        wall_cap = WALL_FACTOR * limits.time_s + 1.0
        worker = self._acquire()
        streamed: list[dict] = []
        lost: str | None = None
        try:
            worker.send(request)
            while True:
                budget = wall_cap + (COMPILE_GRACE_S if not streamed else 0.0)
                message = worker.read(budget)
                if message == "timeout":
                    lost = "timeout"
                    break
                if message is None:
                    lost = "died"
                    break
                event = message.get("event")
                if event == "test":
                    streamed.append(message)
                    if ask:
                        i = start + message["index"]
                        worker.send({"continue": self._verdict(message, job.expected[i], job)})
                elif event == "done":
                    break
                elif event == "error":
                    raise WorkerLost(message.get("message", "tester error"))
        except WorkerLost as e:
            lost = f"error: {e}"
        if lost is not None:
            log = worker.log_tail(1500)
            self._release(worker, lost=True)
            done = len(streamed)
            out: list[ExecutionResult] = []
            if done:  # their statuses never arrived: run them again
                out = self._run_prefix(job, start, done)
                if job.stop_on_first_failure and any(self._failed(r) for r in out):
                    return out, True
            if lost == "timeout":
                result = ExecutionResult(
                    status=Status.TIMEOUT, passed=None, time_s=wall_cap, program_hash=job.program.hash,
                    stderr=f"[acodium] cut off after {wall_cap:g} s of wall time (the tester's own backstop is 300 s)")
            else:
                result = ExecutionResult(
                    status=Status.SANDBOX_ERROR, passed=None, program_hash=job.program.hash,
                    stderr=f"[acodium] the code_contests side process {lost}; its log ends: {log[-1000:]}")
            out.append(self._judge(result, job, start + done, None))
            return out, job.stop_on_first_failure and self._failed(result)
        worker.clear_log()
        self._release(worker)
        return self._results(job, start, message, streamed), True

    def _run_prefix(self, job: Job, start: int, count: int) -> list[ExecutionResult]:
        """Tests start..start+count-1 again, as a job of their own (after a lost side process)."""
        sub = Job(program=job.program, inputs=job.inputs[start:start + count],
                  expected=job.expected[start:start + count] if job.expected is not None else None,
                  limits=job.limits, stop_on_first_failure=job.stop_on_first_failure, checker=job.checker)
        return self.run(sub)

    def _results(self, job: Job, start: int, done: dict, streamed: list[dict]) -> list[ExecutionResult]:
        program = job.program
        compiled = done["compile"]
        if compiled["status"] != "Success":
            count = 1 if job.stop_on_first_failure else len(job.inputs) - start
            out = []
            for k in range(count):
                r = ExecutionResult(status=Status.COMPILE_ERROR, passed=None, program_hash=program.hash,
                                    stderr=compiled["stderr"] or compiled["sandbox"])
                out.append(self._judge(r, job, start + k, None))
            return out
        by_index = {m["index"]: m for m in streamed}
        out = []
        for k, raw in enumerate(done["results"]):
            if raw["status"] == "Unknown" or k not in by_index:
                break  # cancelled by stop_on_first_failure
            event = by_index[k]
            out.append(self._judge(self._result(program, job.limits, raw, event), job, start + k, event))
        return out

    def _verdict(self, event: dict, expected: str, job: Job) -> bool:
        """Does a streamed test's stdout match `expected`, by this backend's judge? The tester's
        compare stands for the token compare only: another checker of the job judges itself."""
        if self.judge == "tester" and job.checker.name == "tokens":
            return bool(event["tester_passed"])
        return job.checker.check(event["stdout"], expected)

    def _judge(self, result: ExecutionResult, job: Job, i: int, event: dict | None) -> ExecutionResult:
        """Set `passed`: only an OK run (which always has its streamed event) can pass."""
        if job.expected is not None:
            result.passed = result.status == Status.OK and event is not None and self._verdict(event, job.expected[i], job)
        return result

    @staticmethod
    def _result(program, limits, raw: dict, event: dict) -> ExecutionResult:
        sandbox = raw["sandbox"]
        stderr = raw["stderr"]
        stdout = event["stdout"]
        time_s = float(event["time_s"])
        exit_m, signal_m = _EXIT.search(sandbox), _SIGNAL.search(sandbox)
        exit_code = int(exit_m.group(1)) if exit_m else None
        sig = int(signal_m.group(1)) if signal_m else None
        last_line = stderr.strip().rsplit("\n", 1)[-1]
        tester = raw["status"]
        if tester == "Timeout":
            status = Status.TIMEOUT if sig in (None, *_CPU_LIMIT_SIGNALS) else Status.RUNTIME_ERROR
        elif len(stdout.encode("utf-8", "surrogatepass")) > limits.output_bytes:
            status = Status.OUTPUT_LIMIT
            stdout = stdout.encode("utf-8", "surrogatepass")[:limits.output_bytes].decode("utf-8", "ignore")
        elif tester == "Success":
            status = Status.OK
        elif last_line.startswith("MemoryError"):
            status = Status.MEMORY_LIMIT
        else:
            status = Status.RUNTIME_ERROR
        if tester == "Failed" and exit_m is None:  # a seccomp violation, not an exit
            stderr = (stderr + "\n" if stderr else "") + f"[code_contests sandbox] {sandbox}"
        return ExecutionResult(
            status=status, passed=None, stdout=stdout, stderr=stderr[-STDERR_TAIL:],
            exit_code=exit_code, signal=sig, time_s=time_s, cpu_s=0.0, memory_bytes=None,
            program_hash=program.hash, output_hash=sha256(event["stdout"]))

    def run_many(self, jobs, workers: int = 1):
        return super().run_many(jobs, workers=min(workers or 1, self.max_workers) or 1)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            workers, self._all, self._idle = self._all, [], []
            self._cond.notify_all()
        for w in workers:
            w.close()
