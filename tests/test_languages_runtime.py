"""Every CodeContests language in the local sandbox: Java, Python 2, and PyPy as another Python 3.

The shared sample's accepted solutions are all Python 3, so the Java and Python 2 programs
here are written for this file (never copied from the sample) and judged on the sample's
real tests. Runtimes come from the machine: a test that needs one it lacks skips with the
reason outside CI, and fails in CI (`CI=true`), where `make test` installs them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from acodium.errors import UserError
from acodium.execute import Execution, Job, Limits, Program, Status, run_program
from acodium.execute import runtimes
from acodium.execute.local import LocalBackend

LIMITS = Limits(time_s=5.0, memory_bytes=256 << 20)


def need(runtime, what: str):
    """The runtime, or a skip saying what is missing (a failure in CI, where nothing may be skipped)."""
    if runtime is None:
        message = f"{what} is not installed here"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}, and CI must run these tests (make test installs it)")
        pytest.skip(message)
    return runtime


@pytest.fixture(scope="module")
def backend():
    be = LocalBackend(workers=2)
    yield be
    be.close()


@pytest.fixture(scope="module")
def java(backend):
    return need(backend.runtimes["java"], "a JDK (javac)")


@pytest.fixture(scope="module")
def python2(backend):
    return need(backend.runtimes["python2"], "a Python 2 interpreter")


@pytest.fixture(scope="module")
def pypy3():
    path = need(runtimes._resolve("pypy3"), "pypy3")
    be = LocalBackend(workers=1, python3=path)
    yield be
    be.close()


def problem(rows, name_start: str) -> dict:
    return next(r for r in rows if r["name"].startswith(name_start))


def judged(backend, program: Program, row: dict, test_set: str = "public_tests", limits: Limits = LIMITS):
    tests = row[test_set]
    return run_program(program, tests["input"], tests["output"], limits, backend=backend)


# --- Java ---------------------------------------------------------------------------------------

XOR_MST = """
import java.util.*;

public class XorMst {
    public static void main(String[] args) {
        Scanner in = new Scanner(System.in);
        long n = in.nextLong(), answer = 0;
        for (long cur = 1; cur < n; cur <<= 1)
            answer += (n - cur + 2 * cur - 1) / (2 * cur) * cur;
        System.out.println(answer);
    }
}
"""

MINIMUM_INTEGER = """
import java.io.*;
import java.util.*;

/* Not this one: public class Decoy {} */
public class Solution {
    public static void main(String[] args) throws IOException {
        BufferedReader br = new BufferedReader(new InputStreamReader(System.in));
        int q = Integer.parseInt(br.readLine().trim());
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < q; i++) {
            StringTokenizer st = new StringTokenizer(br.readLine());
            long l = Long.parseLong(st.nextToken()), r = Long.parseLong(st.nextToken());
            long d = Long.parseLong(st.nextToken());
            out.append(d < l || d > r ? d : d * (r / d + 1)).append('\\n');
        }
        System.out.print(out);
    }
}
"""

MINESWEEPER = """
package contest.round;

import java.io.*;

class Helper { public static class NotTheMainClass {} }

public final class Minesweeper {
    static final long MOD = 1_000_000_007L;
    static final String WORD = "public class Fake {";

    public static void main(String[] args) throws IOException {
        String s = new BufferedReader(new InputStreamReader(System.in)).readLine().trim();
        long a = 1, b = 0, c = 0, d = 0;
        for (char ch : s.toCharArray()) {
            long na = 0, nb = 0, nc = 0, nd = 0;
            switch (ch) {
                case '*': nb = a + b + d; break;
                case '?': na = a + b + c; nb = a + b + d; break;
                case '0': nc = a + c; break;
                case '1': nc = b; nd = a + c; break;
                default: nd = b + d;
            }
            a = na % MOD; b = nb % MOD; c = nc % MOD; d = nd % MOD;
        }
        System.out.println((a + b + c) % MOD);
    }
}
"""


@pytest.mark.parametrize("name, code", [("959_E", XOR_MST), ("1101_A", MINIMUM_INTEGER), ("404_D", MINESWEEPER)])
def test_java_solutions_pass_the_real_tests_whatever_their_class_is_called(backend, java, train_rows, name, code):
    row = problem(train_rows, name)
    for test_set in ("public_tests", "private_tests"):
        results = judged(backend, Program("java", code), row, test_set)
        assert [r.status for r in results] == [Status.OK] * len(results)
        assert all(r.passed for r in results), [r.stdout for r in results if not r.passed][:2]


def test_a_java_file_without_a_public_class_is_one_compile_error(backend, java):
    results = run_program(Program("java", "class Main { public static void main(String[] a) {} }"),
                          ["1", "2"], ["1", "2"], LIMITS, backend=backend)
    assert [r.status for r in results] == [Status.COMPILE_ERROR] * 2 and not any(r.passed for r in results)
    assert results[0].stderr == ("A Java program needs a public class (javac names its file after it, and the "
                                 "JVM runs it): none found.\n")
    broken = run_program(Program("java", "public class Broken { void f() { int x = } }"), [""], None, LIMITS,
                         backend=backend)[0]
    assert broken.status == Status.COMPILE_ERROR and "error:" in broken.stderr


ALLOCATE = """
import java.util.*;

public class Allocate {
    public static void main(String[] args) {
        int mb = new Scanner(System.in).nextInt();
        List<int[]> blocks = new ArrayList<>();
        for (int i = 0; i < mb; i++) blocks.add(new int[1 << 18]);
        System.out.println(blocks.size());
    }
}
"""


def test_java_memory_is_its_heap_limit(backend, java):
    """-Xmx is the memory limit: beyond it OutOfMemoryError, MEMORY_LIMIT every time; within it, OK."""
    limits = Limits(time_s=5.0, memory_bytes=64 << 20)
    results = run_program(Program("java", ALLOCATE), ["8", "200", "8", "200", "1000"], None, limits, backend=backend)
    assert [r.status for r in results] == [Status.OK, Status.MEMORY_LIMIT, Status.OK, Status.MEMORY_LIMIT,
                                           Status.MEMORY_LIMIT]
    assert results[0].stdout == "8\n" and "java.lang.OutOfMemoryError" in results[1].stderr
    # what was counted: the JVM's own memory within the documented allowance beyond the heap
    assert all(r.memory_bytes <= (64 << 20) + (128 << 20) for r in results)


OFF_HEAP = """
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.util.*;
import sun.misc.Unsafe;

public class OffHeap {
    public static void main(String[] args) throws Exception {
        String how = new Scanner(System.in).next();
        List<ByteBuffer> kept = new ArrayList<>();
        Field field = Unsafe.class.getDeclaredField("theUnsafe");
        field.setAccessible(true);
        Unsafe unsafe = (Unsafe) field.get(null);
        for (int i = 0; i < 4000; i++) {
            if (how.equals("direct")) {
                ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
                for (int j = 0; j < (1 << 20); j += 4096) b.put(j, (byte) 1);
                kept.add(b);
            } else {
                long at = unsafe.allocateMemory(1 << 20);  // bounded by nothing in the JVM
                unsafe.setMemory(at, 1 << 20, (byte) 1);
            }
        }
        System.out.println("held 4000 MiB");
    }
}
"""


def test_java_off_heap_memory_is_counted_too(backend, java):
    """Memory the heap limit does not bound is held too: direct buffers by the JVM's own limit (as large
    as the heap), native memory by the sandbox, at the memory limit plus the JVM's allowance."""
    limits = Limits(time_s=10.0, memory_bytes=64 << 20)
    direct, native = run_program(Program("java", OFF_HEAP), ["direct", "native"], None, limits, backend=backend)
    assert direct.status == Status.MEMORY_LIMIT and "OutOfMemoryError" in direct.stderr
    assert native.status == Status.MEMORY_LIMIT and native.stdout == ""
    assert native.memory_bytes > (64 << 20) + (128 << 20)  # killed past the allowance, not before


def test_java_time_limit_is_cpu_time(backend, java):
    loop = "public class Spin { public static void main(String[] a) { long x = 0; while (true) x++; } }"
    result = run_program(Program("java", loop), [""], None, Limits(time_s=0.5), backend=backend)[0]
    assert result.status == Status.TIMEOUT and result.cpu_s >= 0.5


def test_java_threads_have_room_but_a_bound(backend, java):
    code = """
public class Threads {
    public static void main(String[] args) throws Exception {
        int started = 0;
        try {
            for (int i = 0; i < 200; i++) {
                Thread t = new Thread(() -> { try { Thread.sleep(3000); } catch (InterruptedException e) {} });
                t.setDaemon(true);
                t.start();
                started++;
            }
        } catch (OutOfMemoryError e) {
            System.out.println("refused after " + started);
            return;
        }
        System.out.println("all " + started);
    }
}
"""
    result = run_program(Program("java", code), [""], None, LIMITS, backend=backend)[0]
    assert result.status == Status.OK and result.stdout.startswith("refused after ")
    assert 30 <= int(result.stdout.split()[-1]) < 64  # the sandbox's 64 processes and threads, the JVM's own among them
    assert "Failed to start thread" in result.stderr  # the JVM's warnings go to stderr, not into the answer


TAMPER = """
import java.io.*;
import java.nio.file.*;

public class Tamper {
    public static void main(String[] args) throws Exception {
        String mode = new BufferedReader(new InputStreamReader(System.in)).readLine().trim();
        String jar = System.getProperty("java.class.path");
        if (mode.equals("attack")) {
            try (FileOutputStream out = new FileOutputStream(jar)) { out.write(1); System.out.println("wrote the jar"); }
            catch (IOException e) { System.out.println("jar not writable"); }
            try (RandomAccessFile f = new RandomAccessFile(jar, "rw")) { f.setLength(0); System.out.println("truncated"); }
            catch (IOException e) { System.out.println("jar not truncatable"); }
            for (String place : new String[] {"/tmp/Tamper.class", "Tamper.class", "/dev/shm/Tamper.class"}) {
                try { Files.write(Paths.get(place), new byte[] {(byte) 0xCA, (byte) 0xFE}); }
                catch (IOException e) { System.out.println("no " + place); }
            }
            System.out.println("attacked");
        } else {
            System.out.println("original " + new File("/tmp").list().length + " " + new File("/dev/shm").list().length);
        }
    }
}
"""


def test_a_java_test_cannot_alter_the_classes_of_the_next(backend, java):
    results = run_program(Program("java", TAMPER), ["attack", "check", "attack", "check"], None, LIMITS,
                          backend=backend)
    assert [r.status for r in results] == [Status.OK] * 4
    attack, check = results[0].stdout.splitlines(), results[1].stdout
    assert attack[:2] == ["jar not writable", "jar not truncatable"] and attack[-1] == "attacked"
    assert check == "original 0 0\n" and results[3].stdout == check  # its own classes, nothing left behind


# --- Python 2 -----------------------------------------------------------------------------------

PY2_SOLUTIONS = {
    "959_E": """
n = int(raw_input())
ans, cur = 0, 1
while cur < n:
    ans += (n - cur + 2 * cur - 1) / (2 * cur) * cur
    cur <<= 1
print ans
""",
    "9_A": """
from fractions import gcd
x, y = map(int, raw_input().split())
ways = 7 - max(x, y)
g = gcd(ways, 6)
print "%d/%d" % (ways / g, 6 / g)
""",
    "327_C": """
MOD = 1000000007
a = raw_input().strip()
k = int(raw_input())
t = len(a)
d = 0
for i in xrange(t):
    if a[i] in '05':
        d = (d + pow(2, i, MOD)) % MOD
q = pow(2, t, MOD)
print d * ((pow(q, k, MOD) - 1) % MOD) % MOD * pow((q - 1) % MOD, MOD - 2, MOD) % MOD
""",
    "404_D": """
import sys
MOD = 1000000007
a, b, c, d = 1, 0, 0, 0
for ch in sys.stdin.readline().strip():
    if ch == '*':
        t = 0, a + b + d, 0, 0
    elif ch == '?':
        t = a + b + c, a + b + d, 0, 0
    elif ch == '0':
        t = 0, 0, a + c, 0
    elif ch == '1':
        t = 0, 0, b, a + c
    else:
        t = 0, 0, 0, b + d
    a, b, c, d = [x % MOD for x in t]
print (a + b + c) % MOD
""",
}


@pytest.mark.parametrize("name", sorted(PY2_SOLUTIONS))
def test_python2_solutions_pass_the_real_tests(backend, python2, train_rows, name):
    row = problem(train_rows, name)
    for test_set in ("public_tests", "private_tests"):
        results = judged(backend, Program("python2", PY2_SOLUTIONS[name]), row, test_set)
        assert [r.status for r in results] == [Status.OK] * len(results)
        assert all(r.passed for r in results)


def test_python2_is_the_interpreter_a_judge_runs(backend, python2):
    code = "import sys\nprint sys.version_info[0], 7 / 2, sys.flags.dont_write_bytecode\nprint 1/0\n"
    result = run_program(Program("python2", code), [""], None, LIMITS, backend=backend)[0]
    assert result.status == Status.RUNTIME_ERROR and result.stdout == "2 3 1\n"
    assert result.stderr.endswith("ZeroDivisionError: integer division or modulo by zero\n")
    syntax = run_program(Program("python2", "print(1"), ["", ""], None, LIMITS, backend=backend)
    assert [r.status for r in syntax] == [Status.COMPILE_ERROR] * 2 and "SyntaxError" in syntax[0].stderr


@pytest.fixture
def no_python2(monkeypatch, tmp_path):
    """An environment where no Python 2 can be found (PATH without pyenv, an empty pyenv root)."""
    monkeypatch.delenv("ACODIUM_PYTHON2", raising=False)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("HOME", str(tmp_path))
    if runtimes.python2_runtime() is not None:
        pytest.skip("a Python 2 is installed under /usr/bin here")
    return dict(os.environ)


def test_without_python2_its_programs_are_not_run_and_never_wrong(no_python2, tmp_path):
    be = LocalBackend(workers=1, cgroups=False)
    try:
        assert be.missing_runtime("python2") == runtimes.PYTHON2_MISSING
        assert be.missing_runtime("python3") is None
        results = run_program(Program("python2", "print 1"), ["", ""], ["1", "1"], LIMITS, backend=be,
                              cache_dir=tmp_path / "cache")
        assert [(r.status, r.passed, r.stderr) for r in results] == \
            [(Status.SANDBOX_ERROR, False, runtimes.PYTHON2_MISSING)] * 2  # a machine failure: never a verdict
        # nothing cached: once Python 2 is there, the same runs are made for real
        again = run_program(Program("python2", "print 1"), [""], ["1"], LIMITS, backend=be,
                            cache_dir=tmp_path / "cache")[0]
        assert not again.cached and again.status == Status.SANDBOX_ERROR
    finally:
        be.close()


def test_without_python2_an_evaluation_makes_no_number_and_says_why(no_python2, train_rows, tmp_path):
    """Python 2 candidates in a pool: the other candidates' runs are logged, no pass@k is made, and the
    one sentence says how to get an interpreter (the run resumes once there is one)."""
    import pandas as pd

    from acodium.evaluation import run_executions
    from acodium.execute import registry

    row = train_rows[0]
    candidates = pd.DataFrame([
        {"problem": row["name"], "candidate_id": "py3", "language": "python3",
         "code": row["solutions"]["solution"][0], "source": "human", "meta": "{}"},
        {"problem": row["name"], "candidate_id": "py2", "language": "python2", "code": "print 1",
         "source": "human", "meta": "{}"}])
    registry._instances.pop(("local", ()), None)  # a backend made without Python 2 (the environment above)
    try:
        with pytest.raises(UserError) as caught:
            run_executions([row], candidates, test_sets=["public"], run_dir=tmp_path / "run", progress=False)
        assert str(caught.value).startswith(runtimes.PYTHON2_MISSING.rstrip("."))
        assert "job(s) of python2 candidates" in str(caught.value)
        logged = (tmp_path / "run" / "executions.jsonl").read_text()
        assert '"candidate_id": "py3"' in logged and '"status": "OK"' in logged
    finally:
        backend = registry._instances.pop(("local", ()), None)
        if backend is not None:
            backend.close()


def test_without_python2_the_command_line_says_how_to_get_one(no_python2, tmp_path):
    prog = tmp_path / "old.py"
    prog.write_text("print 1\n")
    env = dict(no_python2, ACODIUM_CACHE=str(tmp_path / "cache"))
    done = subprocess.run([str(Path(sys.executable).with_name("gencode")), "exec", "run", str(prog),
                           "--language", "python2"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2 and done.stderr == f"gencode: {runtimes.PYTHON2_MISSING}\n"


def test_a_named_python2_that_is_not_one_is_one_sentence(monkeypatch):
    monkeypatch.setenv("ACODIUM_PYTHON2", "/usr/bin/python3.11")
    with pytest.raises(UserError, match=r"^ACODIUM_PYTHON2=/usr/bin/python3.11 is not a working Python 2"):
        runtimes.python2_runtime()


# --- PyPy and other Python 3 ----------------------------------------------------------------------

def test_pypy3_runs_the_samples_python3_solutions(pypy3, train_rows):
    assert pypy3.runtimes["python3"].implementation == "pypy" and not pypy3.runtimes["python3"].warm
    for name in ("959_E", "1060_A", "424_C"):
        row = problem(train_rows, name)
        code = row["solutions"]["solution"][0]
        results = judged(pypy3, Program("python3", code), row)
        assert [r.status for r in results] == [Status.OK] * len(results) and all(r.passed for r in results)
    seen = run_program(Program("python3", "import platform, sys\nprint(platform.python_implementation())"),
                       [""], None, LIMITS, backend=pypy3)[0]
    assert seen.stdout == "PyPy\n"


def test_a_pypy_run_is_not_a_cpython_run_in_the_cache(pypy3, backend, tmp_path):
    program = Program("python3", "import platform\nprint(platform.python_implementation())")
    cpython = run_program(program, [""], None, LIMITS, backend=backend, cache_dir=tmp_path)[0]
    pypy = run_program(program, [""], None, LIMITS, backend=pypy3, cache_dir=tmp_path)[0]
    assert (cpython.stdout, pypy.stdout, pypy.cached) == ("CPython\n", "PyPy\n", False)
    assert pypy3.version() != backend.version() and "pypy" in pypy3.version()
    assert run_program(program, [""], None, LIMITS, backend=pypy3, cache_dir=tmp_path)[0].cached


def test_execution_carries_the_python3_choice(pypy3):
    execution = Execution(python3="pypy3")
    assert execution.get_backend().runtimes["python3"].implementation == "pypy"
    job = Job(Program("python3", "import sys\nprint(sys.implementation.name)"), [""])
    assert execution.run_batch([job], progress=False)[0][0].stdout == "pypy\n"
    with pytest.raises(UserError, match="--python3 applies to the local backend"):
        Execution(backend="code_contests", python3="pypy3")
    with pytest.raises(UserError, match=r"The Python 3 interpreter 'no-such-python' .* was not found"):
        LocalBackend(workers=1, python3="no-such-python")


def test_a_python3_choice_that_is_python2_is_one_sentence(python2):
    with pytest.raises(UserError, match=r"is Python 2\.7\.\d+: give a Python 3"):
        runtimes.python3_runtime(python2.executable)


def _another_cpython() -> str | None:
    """A CPython >= 3.10 other than the default worker's (pyenv's, here and in CI)."""
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    for path in sorted(Path(root).glob("versions/3.1[0-9]*/bin/python3.1[0-9]"), reverse=True):
        info = runtimes.probe(str(path))
        if runtimes._worker_capable(info) and os.path.realpath(path) != os.path.realpath(runtimes.DEFAULT_PYTHON):
            return str(path)
    return None


def test_another_cpython_becomes_the_worker_and_tests_stay_forks(train_rows):
    path = need(_another_cpython(), "a second CPython >= 3.10 (pyenv)")
    be = LocalBackend(workers=1, python3=path)
    try:
        assert be.python == path and be.runtimes["python3"].warm
        version = runtimes.probe(path)["version"]
        seen = run_program(Program("python3", "import sys, platform\nprint(platform.python_version(), sys.argv)"),
                           [""], None, LIMITS, backend=be)[0]
        assert seen.stdout == f"{version} ['solution.py']\n"  # a fork of the warm worker, as with the default
        row = problem(train_rows, "1060_A")
        results = judged(be, Program("python3", row["solutions"]["solution"][0]), row)
        assert all(r.passed for r in results)
    finally:
        be.close()


def test_without_python3_11_the_first_suitable_system_python3_is_said_once(monkeypatch):
    monkeypatch.setattr(runtimes, "DEFAULT_PYTHON", "/nonexistent/python3.11")
    runtimes.default_python3.cache_clear()
    try:
        with pytest.warns(runtimes.RuntimeChoiceWarning, match=r"Python 3 candidates run under /usr/bin/python3\S* "
                                                               r"\(CPython 3\.\d+\.\d+\): /nonexistent/python3.11 is not here"):
            chosen = runtimes.default_python3()
        assert runtimes._worker_capable(runtimes.probe(chosen))
    finally:
        runtimes.default_python3.cache_clear()


# --- interactive problems: every language talks to the interactor -------------------------------

BEAR_JAVA = """
import java.io.*;

public class BearAndPrime {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        int[] asks = {2, 3, 4, 5, 7, 9, 11, 13, 17, 19, 23, 25, 29, 31, 37, 41, 43, 47, 49};
        int yes = 0;
        for (int a : asks) {
            System.out.println(a);
            System.out.flush();
            if (in.readLine().trim().equals("yes") && ++yes >= 2) break;
        }
        System.out.println(yes >= 2 ? "composite" : "prime");
        System.out.flush();
    }
}
"""
BEAR_PY2 = """
import sys
yes = 0
for a in [2, 3, 4, 5, 7, 9, 11, 13, 17, 19, 23, 25, 29, 31, 37, 41, 43, 47, 49]:
    print a
    sys.stdout.flush()
    if raw_input().strip() == "yes":
        yes += 1
        if yes >= 2:
            break
print "composite" if yes >= 2 else "prime"
"""


def test_java_python2_and_pypy_candidates_talk_to_an_interactor(backend, java, python2, pypy3, train_rows):
    from acodium.execute import run_batch
    from acodium.execute.checkers import checker_for_problem
    from test_execute_judges import BEAR_AND_PRIME, _hidden_number_tests

    row = {**problem(train_rows, "680_C"), "interactor": {"language": "python3", "code": BEAR_AND_PRIME}}
    judge = checker_for_problem(row)
    inputs, outputs = _hidden_number_tests(row)
    jobs = [Job(Program("java", BEAR_JAVA), inputs, outputs, LIMITS, checker=judge),
            Job(Program("python2", BEAR_PY2), inputs, outputs, LIMITS, checker=judge)]
    for results in run_batch(jobs, backend=backend, progress=False):
        assert [(r.status, r.passed) for r in results] == [(Status.OK, True)] * len(inputs)
    accepted = Program("python3", row["solutions"]["solution"][0])
    results = run_batch([Job(accepted, inputs, outputs, LIMITS, checker=judge)], backend=pypy3, progress=False)[0]
    assert [(r.status, r.passed) for r in results] == [(Status.OK, True)] * len(inputs)
