"""The local backend and the public execution API, on small programs and on the real sample."""

from __future__ import annotations

import dataclasses
import warnings

import pytest

from acodium.errors import UserError
from acodium.execute import (
    Job,
    Limits,
    Program,
    Status,
    get_backend,
    limits_for_problem,
    run_batch,
    run_program,
)
from acodium.execute.local import LocalBackend, UnsandboxedExecutionWarning

FAST = Limits(time_s=1.0, memory_bytes=256 << 20)


def py(code: str) -> Program:
    return Program("python3", code)


def run1(code: str, stdin: str = "", expected: str | None = None, limits: Limits = FAST, language="python3"):
    return run_program(Program(language, code), [stdin], [expected] if expected is not None else None, limits)[0]


# --- statuses and verdicts -----------------------------------------------------------------

def test_ok_and_passed_are_separate():
    prog = py("print(int(input()) * 2)")
    good, bad = run_program(prog, ["21\n", "5\n"], ["42", "11"], FAST)
    assert (good.status, good.passed) == (Status.OK, True)
    assert (bad.status, bad.passed) == (Status.OK, False)
    assert good.stdout == "42\n" and bad.stdout == "10\n"
    assert good.program_hash == prog.hash and good.output_hash != bad.output_hash


def test_passed_is_none_without_expected_output():
    r = run1("print(1)")
    assert r.status == Status.OK and r.passed is None


def test_runtime_error_keeps_stderr_tail_and_exit_code():
    r = run1("print('partial')\n1/0", expected="partial")
    assert r.status == Status.RUNTIME_ERROR and r.passed is False
    assert r.exit_code == 1
    assert r.stderr.endswith("ZeroDivisionError: division by zero\n")
    assert 'File "solution.py", line 2' in r.stderr
    assert r.stdout == "partial\n"  # flushed before the error, as the interpreter does


def test_exit_codes_follow_the_interpreter():
    assert run1("import sys; sys.exit(0)").status == Status.OK
    r = run1("raise SystemExit(3)")
    assert (r.status, r.exit_code) == (Status.RUNTIME_ERROR, 3)
    r = run1("import sys; sys.exit('bye')")
    assert (r.status, r.exit_code, r.stderr) == (Status.RUNTIME_ERROR, 1, "bye\n")


def test_syntax_error_is_a_compile_error_for_every_test():
    results = run_program(py("def f(:\n pass"), ["1", "2"], ["1", "2"], FAST)
    assert [r.status for r in results] == [Status.COMPILE_ERROR] * 2
    assert all(r.passed is False for r in results)
    assert "SyntaxError" in results[0].stderr


def test_timeout_on_busy_loop_is_bounded():
    r = run1("while True: pass", limits=Limits(time_s=0.5))
    assert r.status == Status.TIMEOUT
    assert 0.4 <= r.cpu_s < 2.5
    assert r.time_s < 0.5 * 5 + 1 + 1


def test_sleeping_program_hits_the_wall_clock_cap():
    r = run1("import time; time.sleep(60)", limits=Limits(time_s=0.3))
    assert r.status == Status.TIMEOUT
    assert r.time_s < 0.3 * 5 + 1 + 1
    assert r.cpu_s < 0.3


def test_a_program_still_computing_at_the_wall_cap_runs_on():
    # 11% of a CPU for ~4 s: past the 3.5 s wall cap of a 0.5 s limit, but busy, and
    # under its CPU limit: it finishes (a starved program on a loaded machine looks so).
    code = ("import time\nfor _ in range(14):\n    t = time.process_time()\n"
            "    while time.process_time() - t < 0.03:\n        pass\n    time.sleep(0.25)\nprint('done')")
    r = run1(code, limits=Limits(time_s=0.5))
    assert (r.status, r.stdout) == (Status.OK, "done\n"), (r.status, r.time_s, r.cpu_s)
    assert r.time_s > 0.5 * 5 + 1


def test_memory_limit_from_resident_memory_and_from_memory_error():
    grow = run1("a = []\nwhile True: a.append(bytearray(1 << 20))", limits=Limits(time_s=5, memory_bytes=64 << 20))
    assert grow.status == Status.MEMORY_LIMIT
    huge = run1("a = [0] * (10 ** 10)", limits=Limits(time_s=5, memory_bytes=64 << 20))
    assert huge.status == Status.MEMORY_LIMIT
    assert "MemoryError" in huge.stderr
    fits = run1("a = bytearray(40 << 20)\nprint(len(a))", limits=Limits(time_s=5, memory_bytes=96 << 20))
    assert fits.status == Status.OK and fits.memory_bytes > 40 << 20


def test_output_limit():
    r = run1("import sys\nwhile True: sys.stdout.write('x' * 65536)",
             limits=Limits(time_s=5, output_bytes=1 << 20))
    assert r.status == Status.OUTPUT_LIMIT and r.passed is None
    r = run1("print('y' * 1000)", limits=Limits(time_s=5, output_bytes=1000))
    assert r.status == Status.OUTPUT_LIMIT
    r = run1("print('y' * 998)", limits=Limits(time_s=5, output_bytes=1000))
    assert r.status == Status.OK


# --- Python as a judge runs it -------------------------------------------------------------

def test_script_semantics():
    r = run1("import sys\nprint(__name__, sys.argv[0], __file__)\n"
             "if __name__ == '__main__':\n    print('main')")
    assert r.stdout == "__main__ solution.py solution.py\nmain\n"


@pytest.mark.parametrize("reader", [
    "print(sum(map(int, input().split())))",
    "import sys\nprint(sum(map(int, sys.stdin.read().split())))",
    "import sys\nprint(sum(map(int, sys.stdin.buffer.read().split())))",
    "print(sum(map(int, open(0).read().split())))",
    "print(sum(map(int, open('/dev/stdin').read().split())))",
    "import os, io\ninput = io.BytesIO(os.read(0, os.fstat(0).st_size)).readline\n"
    "print(sum(map(int, input().split())))",
])
def test_every_usual_way_of_reading_stdin(reader):
    assert run1(reader, "1 2 3\n", "6").passed


def test_program_closing_stdout_itself():
    r = run1("import sys\nwith sys.stdout as out:\n    print(7, file=out)", expected="7")
    assert r.status == Status.OK and r.passed


def test_deep_recursion_after_setrecursionlimit():
    r = run1("import sys, functools\nsys.setrecursionlimit(10 ** 6)\n"
             "@functools.lru_cache(None)\ndef f(n): return 0 if n == 0 else f(n - 1) + 1\n"
             "print(f(100000))", expected="100000", limits=Limits(time_s=5, memory_bytes=512 << 20))
    assert r.status == Status.OK and r.passed, r.stderr


def test_threads_with_a_big_stack():
    code = ("import sys, threading\nsys.setrecursionlimit(10 ** 6)\nthreading.stack_size(2 ** 27)\n"
            "def f(n): return 0 if n == 0 else f(n - 1) + 1\n"
            "def main():\n    print(f(50000))\n"
            "t = threading.Thread(target=main)\nt.start()\nt.join()")
    r = run1(code, expected="50000", limits=Limits(time_s=5))
    assert r.status == Status.OK and r.passed, r.stderr
    # A thread left running when the script ends is waited for, as at interpreter exit.
    r = run1("import threading, time\nthreading.stack_size(10 ** 8)\n"
             "threading.Thread(target=lambda: (time.sleep(0.2), print('late'))).start()", expected="late")
    assert r.passed, r.stderr


@pytest.mark.parametrize("code, out", [
    ("class W:\n    def __del__(self):\n        print('bye')\nw = W()\nprint('main')", "main\nbye\n"),
    ("out = open(1, 'w')\nout.write('never flushed')", "never flushed"),
    ("import io, os, sys\nclass Fast(io.IOBase):\n    def __init__(self): self.b = []\n"
     "    def write(self, s): self.b.append(s)\n    def flush(self): os.write(1, ''.join(self.b).encode()); self.b = []\n"
     "stdout = Fast()\nstdout.write('kept\\n')", "kept\n"),
])
def test_objects_are_finalized_at_exit_as_by_the_interpreter(code, out):
    # Fast-IO templates leave output in a wrapper that only IOBase.__del__ flushes.
    r = run1(code)
    assert (r.status, r.stdout) == (Status.OK, out), r.stderr


@pytest.mark.parametrize("work", [0, 300_000])
def test_objects_in_cycles_are_finalized_at_exit(work):
    # Without `work` the program's objects are all young when it ends; with it they have
    # been through collections of the older generations: both are collected at exit.
    code = ("import sys\nclass W:\n    def __del__(self):\n        sys.stdout.write('bye\\n')\n"
            "w = W()\nw.self = w\ndef f(): return w\n"
            f"keep = [[i] for i in range({work})]\nprint('main')")
    r = run1(code)
    assert (r.status, r.stdout) == (Status.OK, "main\nbye\n"), r.stderr


def test_every_test_starts_with_fresh_std_streams_and_random_state():
    # A test that leaves its streams buffered, closed or replaced changes nothing for the
    # next one; `random` is reseeded for every test (as after os.fork()).
    prog = py("import os, random, sys\ncmd = input()\n"
              "if cmd == 'swap':\n    sys.stdout = sys.stderr\n"
              "print(cmd, random.getrandbits(64))\n"
              "if cmd == 'close':\n    sys.stdout.flush(); sys.stdout.close(); sys.stdin.close()\n"
              "elif cmd == 'lost':\n    sys.stdout.write('unflushed'); os._exit(0)\n")
    cmds = ["close", "next", "lost", "next", "swap", "next", "next"]
    results = run_program(prog, [c + "\n" for c in cmds], None, FAST)
    assert [r.status for r in results] == [Status.OK] * len(cmds)
    outs = [r.stdout.split() for r in results]
    assert [o[:1] for o in outs] == [["close"], ["next"], [], ["next"], [], ["next"], ["next"]]
    assert results[4].stderr.split()[0] == "swap"
    seeds = [o[1] for o in outs if o] + [results[4].stderr.split()[1]]
    assert len(set(seeds)) == len(seeds)


def test_real_solution_that_relies_on_finalization(train_rows):
    row = next(r for r in train_rows if r["name"].startswith("288_C."))
    t = row["public_tests"]
    results = run_program(py(row["solutions"]["solution"][0]), t["input"], t["output"], FAST)
    assert all(r.passed for r in results), [r.stdout for r in results]


def test_each_test_is_a_fresh_process():
    prog = py("import sys\nsys.modules.setdefault('seen', []).append(1)\n"
              "print(len(sys.modules['seen']))\nopen('/tmp/state', 'a').write('x')\n"
              "print(len(open('/tmp/state').read()))")
    results = run_program(prog, ["", "", ""], None, FAST)
    assert [r.stdout for r in results] == ["1\n1\n"] * 3


# --- C++ -----------------------------------------------------------------------------------

CPP_SUM = """#include <iostream>
using namespace std;
int main() { long long a, s = 0; while (cin >> a) s += a; cout << s << endl; return 0; }
"""


def test_cpp_compiled_once_and_run():
    results = run_program(Program("cpp", CPP_SUM), ["1 2 3", "10 20"], ["6", "30"], Limits(time_s=2))
    assert [(r.status, r.passed) for r in results] == [(Status.OK, True)] * 2


def test_cpp_compile_error_for_every_test():
    results = run_program(Program("cpp", "int main() { return x; }"), ["1", "2"], None, Limits(time_s=2))
    assert [r.status for r in results] == [Status.COMPILE_ERROR] * 2
    assert "error" in results[0].stderr


def test_cpp_crashes_and_limits():
    assert run1("int main() { return 4; }", language="cpp").status == Status.RUNTIME_ERROR
    segv = run1("int main() { volatile int *p = 0; return *p; }", language="cpp")
    assert segv.status == Status.RUNTIME_ERROR and segv.signal == 11
    loop = run1("int main() { for (;;); }", language="cpp", limits=Limits(time_s=0.3))
    assert loop.status == Status.TIMEOUT
    mem = run1("#include <vector>\nint main() { std::vector<int> v; for (;;) v.push_back(1); }",
               language="cpp", limits=Limits(time_s=5, memory_bytes=64 << 20))
    assert mem.status == Status.MEMORY_LIMIT


def test_cpp_deep_recursion_uses_a_big_stack():
    code = ("#include <cstdio>\nint f(int n) { volatile char pad[64]; pad[0] = 0; return n ? f(n - 1) + 1 + pad[0] : 0; }\n"
            "int main() { printf(\"%d\\n\", f(1000000)); }")
    r = run1(code, expected="1000000", language="cpp", limits=Limits(time_s=2))
    assert r.status == Status.OK and r.passed, r.stderr


# --- batches, cache, early stop ------------------------------------------------------------

class CountingBackend(LocalBackend):
    """The real local backend, counting the programs it is asked to run."""

    def __init__(self):
        super().__init__(workers=2)
        self.runs = []

    def run(self, job):
        self.runs.append((job.program.hash, len(job.inputs)))
        return super().run(job)


@pytest.fixture(scope="module")
def counting():
    backend = CountingBackend()
    yield backend
    backend.close()


def test_results_in_job_order_and_identical_jobs_run_once(counting):
    progs = [py(f"print({i} + int(input()))") for i in range(5)]
    jobs = [Job(p, ["1\n"], [str(i + 1)], FAST) for i, p in enumerate(progs)]
    jobs.append(Job(progs[2], ["1\n"], ["wrong"], FAST))  # same run, other expected output
    results = run_batch(jobs, backend=counting, progress=False)
    assert [r[0].stdout for r in results] == ["1\n", "2\n", "3\n", "4\n", "5\n", "3\n"]
    assert [r[0].passed for r in results] == [True] * 5 + [False]
    assert len(counting.runs) == 5


def test_on_result_reports_each_job_once_as_it_completes(tmp_path, counting):
    prog = py("print(int(input()) + 1)")
    run_batch([Job(prog, ["1"], ["2"], FAST)], backend=counting, cache_dir=tmp_path, progress=False)
    other = py("print(int(input()) * 3)")
    jobs = [
        Job(prog, ["1"], ["2"], FAST),  # served whole from the cache
        Job(other, ["1", "2", "3", "4"], ["3", "6", "9", "12"], FAST),  # split over workers
        Job(other, ["1", "2", "3", "4"], ["3", "6", "0", "12"], FAST),  # same run, other verdicts
    ]
    seen = []
    results = run_batch(jobs, backend=counting, cache_dir=tmp_path, progress=False,
                        on_result=lambda i, r: seen.append((i, [x.passed for x in r])))
    assert seen[0] == (0, [True])  # before anything ran
    assert sorted(seen) == [(0, [True]), (1, [True] * 4), (2, [True, True, False, True])]
    assert [[x.passed for x in r] for r in results] == [v for _, v in sorted(seen)]


def test_stop_on_first_failure():
    prog = py("x = int(input())\nprint(x)")
    results = run_program(prog, ["1", "2", "3", "4"], ["1", "9", "3", "4"], FAST, stop_on_first_failure=True)
    assert [r.passed for r in results] == [True, False]
    results = run_program(prog, ["1", "oops", "3"], None, FAST, stop_on_first_failure=True)
    assert [r.status for r in results] == [Status.OK, Status.RUNTIME_ERROR]


def test_cache_serves_reruns_and_other_expected_outputs(tmp_path, counting):
    prog = py("print(int(input()) ** 2)")
    job = Job(prog, ["2", "3"], ["4", "9"], FAST)
    first = run_batch([job], backend=counting, cache_dir=tmp_path, progress=False)[0]
    before = len(counting.runs)
    again = run_batch([job], backend=counting, cache_dir=tmp_path, progress=False)[0]
    assert len(first) == len(again) == 2
    assert len(counting.runs) == before  # nothing executed
    assert all(r.cached for r in again) and not any(r.cached for r in first)
    assert [(r.status, r.stdout, r.passed) for r in again] == [(r.status, r.stdout, r.passed) for r in first]
    # No expected outputs (clustering), then different ones: same cache entries, verdicts recomputed.
    bare = run_batch([Job(prog, ["2", "3"], None, FAST)], backend=counting, cache_dir=tmp_path, progress=False)[0]
    assert [r.passed for r in bare] == [None, None] and all(r.cached for r in bare)
    other = run_batch([Job(prog, ["2", "3"], ["4", "10"], FAST)], backend=counting, cache_dir=tmp_path,
                      progress=False)[0]
    assert [r.passed for r in other] == [True, False]
    assert len(counting.runs) == before
    # Other limits are another key.
    run_batch([Job(prog, ["2"], ["4"], Limits(time_s=2))], backend=counting, cache_dir=tmp_path, progress=False)
    assert len(counting.runs) == before + 1


def test_cache_resumes_only_missing_tests(tmp_path, counting):
    prog = py("print(input())")
    run_batch([Job(prog, ["a", "b"], None, FAST)], backend=counting, cache_dir=tmp_path, progress=False)
    before = len(counting.runs)
    res = run_batch([Job(prog, ["a", "b", "c"], None, FAST)], backend=counting, cache_dir=tmp_path,
                    progress=False)[0]
    assert [r.stdout for r in res] == ["a\n", "b\n", "c\n"]
    assert [r.cached for r in res] == [True, True, False]
    assert counting.runs[before:] == [(prog.hash, 1)]


def test_bad_jobs_are_user_errors():
    with pytest.raises(UserError):
        run_program(py("print(1)"), ["1", "2"], ["1"], FAST)
    with pytest.raises(UserError):
        run_program(Program("unknown", "class A {}"), ["1"], None, FAST)
    with pytest.raises(UserError):
        get_backend("nonsense")


def test_get_backend_reuses_instances():
    assert get_backend("local") is get_backend("local")


def test_unsandboxed_mode_warns_on_every_run():
    backend = LocalBackend(sandbox=False, workers=1)
    try:
        for _ in range(2):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("default")
                r = run_program(py("print(6 * 7)"), [""], ["42"], FAST, backend=backend)[0]
            assert r.passed
            assert any(issubclass(w.category, UnsandboxedExecutionWarning) for w in caught)
    finally:
        backend.close()


# --- limits ----------------------------------------------------------------------------------

def test_limits_for_problem_defaults_and_hub_values(train_rows):
    row = train_rows[0]  # the sample has no limits: defaults apply
    assert row["time_limit"] is None and row["memory_limit_bytes"] == 0
    assert limits_for_problem(row, "python3") == Limits(time_s=10.0, memory_bytes=256 << 20)
    hub = dict(row, time_limit={"seconds": 2, "nanos": 500_000_000}, memory_limit_bytes=512 << 20)
    assert limits_for_problem(hub, "cpp") == Limits(time_s=2.5, memory_bytes=512 << 20)
    assert limits_for_problem(hub, "python3").time_s == 5.0
    assert limits_for_problem(hub, "python3", time_multiplier=1).time_s == 2.5
    assert limits_for_problem(hub, "python3", time_multiplier={"python3": 3}).time_s == 7.5
    assert limits_for_problem(row, "cpp", default_time_s=3, default_memory_bytes=1 << 30) == Limits(3, 1 << 30)


def test_limits_for_problem_view(train_rows):
    from acodium.data import Problem

    hub = dict(train_rows[0], time_limit={"seconds": 1, "nanos": 0}, memory_limit_bytes=64 << 20)
    assert limits_for_problem(Problem.from_row(hub), "cpp") == Limits(1.0, 64 << 20)


# --- real data ---------------------------------------------------------------------------------

def test_real_solutions_pass_their_public_tests(train_rows):
    """A dozen accepted Codeforces solutions, each on its public tests: all must pass."""
    from acodium.execute.check import check_output

    chosen = []
    for row in train_rows:
        # Problems with a single valid answer only (several valid answers can fail a correct program).
        if row["name"].split(".")[0].endswith(("A", "B")) and len(chosen) < 12:
            chosen.append(row)
    jobs = [Job(Program("python3", r["solutions"]["solution"][0]), r["public_tests"]["input"],
                r["public_tests"]["output"], limits_for_problem(r, "python3")) for r in chosen]
    results = run_batch(jobs, progress=False)
    assert len(results) == 12
    for row, res in zip(chosen, results):
        assert len(res) == len(row["public_tests"]["input"])
        for r, exp in zip(res, row["public_tests"]["output"]):
            assert r.status == Status.OK, (row["name"], r.stderr)
            assert r.passed is check_output(r.stdout, exp) is True, row["name"]
    # The same jobs again, with a wrong expected output for one test: only that verdict flips.
    broken = dataclasses.replace(jobs[0], expected=["definitely wrong"] + jobs[0].expected[1:])
    again = run_batch([broken], progress=False)[0]
    assert [r.passed for r in again] == [False] + [True] * (len(again) - 1)
