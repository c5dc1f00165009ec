"""Program judges (acodium.execute.judges): checker programs and interactors in the sandbox.

Judges here are written for these tests: a permutation checker (several valid
answers), and an interactor for the sample's interactive problem 680_C (Bear and
Prime: its private tests hold the hidden number), against which the problem's
accepted human solutions must pass and wrong programs must not.
"""

from __future__ import annotations

import pandas as pd
import pytest

from acodium.errors import UserError
from acodium.execute import Execution, Job, Limits, Program, Status, run_batch, run_program
from acodium.execute.base import Backend
from acodium.execute.checkers import checker_for_problem, parse_checker
from acodium.execute.judges import ProgramChecker, judge_program, read_judge_exit
from acodium.generate import reference_candidates
from cli_runner import gencode_in_process

PERMUTATION_PY = """import sys
n = int(open(sys.argv[1]).read().split()[0])
out = open(sys.argv[2]).read().split()
try:
    got = sorted(int(x) for x in out)
except ValueError:
    print("the output holds a non-integer", file=sys.stderr); sys.exit(2)
if got != list(range(1, n + 1)):
    print(f"not a permutation of 1..{n}", file=sys.stderr); sys.exit(1)
"""

PERMUTATION_CPP = r"""#include <cstdio>
#include <vector>
#include <algorithm>
int main(int argc, char** argv) {
    FILE* in = std::fopen(argv[1], "r"); FILE* out = std::fopen(argv[2], "r");
    int n; if (std::fscanf(in, "%d", &n) != 1) return 3;
    std::vector<int> v; int x;
    while (std::fscanf(out, "%d", &x) == 1) v.push_back(x);
    std::sort(v.begin(), v.end());
    bool ok = (int)v.size() == n;
    for (int i = 0; ok && i < n; i++) ok = v[i] == i + 1;
    if (!ok) { std::fprintf(stderr, "not a permutation of 1..%d\n", n); return 1; }
    return 0;
}
"""

# 680_C. Bear and Prime: the input file holds the hidden number; at most 20 queries in [2, 100].
BEAR_AND_PRIME = """import sys
x = int(open(sys.argv[1]).read().split()[0])
out = open(sys.argv[2], "w")
queries = 0
for line in sys.stdin:
    word = line.strip()
    if word in ("prime", "composite"):
        truth = "prime" if all(x % d for d in range(2, x)) else "composite"
        out.write(f"{word} {queries}\\n")
        if word != truth:
            print(f"{x} is {truth}, the answer was {word}", file=sys.stderr); sys.exit(1)
        sys.exit(0)
    queries += 1
    if queries > 20 or not word.isdigit() or not 2 <= int(word) <= 100:
        print(f"query {queries} is not allowed: {word!r}", file=sys.stderr); sys.exit(1)
    print("yes" if x % int(word) == 0 else "no", flush=True)
print("no answer", file=sys.stderr)
sys.exit(1)
"""

# A solution of 680_C written for these tests: divisibility by 2, 3, 5, 7, their squares and the primes below 50.
BEAR_CPP = r"""#include <iostream>
#include <string>
int main() {
    int asks[] = {2, 3, 4, 5, 7, 9, 11, 13, 17, 19, 23, 25, 29, 31, 37, 41, 43, 47, 49}, yes = 0;
    for (int a : asks) {
        std::cout << a << std::endl;
        std::string answer; std::cin >> answer;
        if (answer == "yes" && ++yes >= 2) break;
    }
    std::cout << (yes >= 2 ? "composite" : "prime") << std::endl;
}
"""

REVERSED = Program("python3", "n = int(input())\nprint(*range(n, 0, -1))")
ONES = Program("python3", "n = int(input())\nprint(*[1] * n)")


def permutation_checker(language: str) -> ProgramChecker:
    return parse_checker({"language": language, "code": PERMUTATION_PY if language == "python3" else PERMUTATION_CPP})


@pytest.fixture(scope="module")
def bear_and_prime(train_rows):
    row = next(r for r in train_rows if r["name"].startswith("680_C"))
    return {**row, "interactor": {"language": "python3", "code": BEAR_AND_PRIME}}


# -- what a judge's exit means ------------------------------------------------------------

@pytest.mark.parametrize("status, exit_code, signal, passed, start", [
    ("OK", 0, None, True, ""),
    ("RUNTIME_ERROR", 1, None, False, "wrong answer (checker): said"),
    ("RUNTIME_ERROR", 2, None, False, "presentation error (checker): said"),
    ("RUNTIME_ERROR", 7, None, False, "partial (checker): said"),
    ("RUNTIME_ERROR", 3, None, None, "judge error: the checker failed: said"),
    ("RUNTIME_ERROR", 4, None, None, "judge error: the checker exited with 4: said"),
    ("RUNTIME_ERROR", None, 11, None, "judge error: the checker was killed by signal 11: said"),
    ("TIMEOUT", None, 9, None, "judge error: the checker was killed by signal 9"),
    ("MEMORY_LIMIT", 1, None, None, "judge error: the checker ended in MEMORY_LIMIT: said"),
])
def test_testlib_exit_codes(status, exit_code, signal, passed, start):
    said = read_judge_exit("checker", status, exit_code, signal, stdout="", stderr="first\nsaid\n")
    assert said.passed is passed and said.message.startswith(start)
    assert said.judge_error == (passed is None)


def test_judge_programs_from_files_and_mappings(tmp_path):
    (tmp_path / "check.py").write_text(PERMUTATION_PY)
    from_file = judge_program(tmp_path / "check.py")
    assert from_file == judge_program({"language": "python3", "code": PERMUTATION_PY})
    assert parse_checker(str(tmp_path / "check.py")) == ProgramChecker(checker=from_file)
    assert from_file.hash != judge_program({"language": "python3", "code": PERMUTATION_PY + "\n"}).hash
    shipped = judge_program({"language": "cpp", "code": '#include "testlib.h"\nint main(){}', "testlib": "// own"})
    assert shipped.includes == (("testlib.h", "// own"),)  # a dataset's own header wins over any folder
    for bad, words in [({"language": "java", "code": "x"}, "must be in cpp or python3"),
                       ({"language": "cpp", "code": "  "}, "has no code"),
                       (tmp_path / "none.py", "cannot be read")]:
        with pytest.raises(UserError, match=words):
            judge_program(bad)


# -- checker programs ---------------------------------------------------------------------

@pytest.mark.parametrize("language", ["python3", "cpp"])
def test_a_checker_program_accepts_every_valid_answer_and_only_those(language):
    checker = permutation_checker(language)
    inputs, answers = ["3\n", "5\n"], ["1 2 3\n", "1 2 3 4 5\n"]
    good = run_program(REVERSED, inputs, answers, checker=checker)
    assert [(r.status, r.passed, r.checker_message) for r in good] == [(Status.OK, True, "")] * 2
    assert [r.passed for r in run_program(REVERSED, inputs, answers)] == [False, False]  # tokens refuses them
    bad = run_program(ONES, inputs, answers, checker=checker)
    assert [r.passed for r in bad] == [False, False]
    assert bad[0].checker_message == "wrong answer (checker): not a permutation of 1..3"
    crashed = run_program(Program("python3", "raise SystemExit(1)"), inputs, answers, checker=checker)
    assert [(r.status, r.passed, r.checker_message) for r in crashed] == [(Status.RUNTIME_ERROR, False, "")] * 2


@pytest.mark.parametrize("code, language, start", [
    ("int main() { return 3; }", "cpp", "judge error: the checker failed"),
    ("int main() { this is not C++ }", "cpp", "judge error: the checker does not compile"),
    ("import sys\nprint('the checker is confused', file=sys.stderr)\nsys.exit(3)", "python3",
     "judge error: the checker failed: the checker is confused"),
    ("x = bytearray(2 << 30)", "python3", "judge error: the checker ended in MEMORY_LIMIT"),
    ("import os\nos.kill(os.getpid(), 9)", "python3", "judge error: the checker was killed by signal 9"),
])
def test_a_broken_checker_is_a_judge_error_for_its_runs_and_the_batch_goes_on(code, language, start, tmp_path):
    broken = parse_checker({"language": language, "code": code})
    jobs = [Job(REVERSED, ["3\n"], ["1 2 3\n"], checker=broken),
            Job(REVERSED, ["3\n"], ["1 2 3\n"], checker=permutation_checker("python3")),
            Job(Program("python3", "raise SystemExit(2)"), ["3\n"], ["1 2 3\n"], checker=broken)]
    judged, fine, crashed = (results[0] for results in run_batch(jobs, progress=False, cache_dir=tmp_path))
    assert judged.status == Status.JUDGE_ERROR and judged.passed is False
    assert judged.checker_message.startswith(start)
    assert (fine.status, fine.passed) == (Status.OK, True)
    assert (crashed.status, crashed.passed) == (Status.RUNTIME_ERROR, False)  # the checker never ran
    again = run_batch(jobs[:1], progress=False, cache_dir=tmp_path)[0][0]
    assert again.status == Status.JUDGE_ERROR and not again.cached  # a judge's failure is never served from the cache


def test_a_checker_that_includes_testlib_h_is_compiled_beside_the_folders_header(tmp_path, monkeypatch):
    """The header of --testlib_dir / $ACODIUM_TESTLIB_DIR is compiled beside the checker (this one is
    written for the test: two functions of testlib's shape, enough to show the include is the folder's)."""
    monkeypatch.delenv("ACODIUM_TESTLIB_DIR", raising=False)
    (tmp_path / "testlib.h").write_text(
        "#include <cstdio>\n#include <cstdlib>\n"
        "inline void quit_ok() { std::exit(0); }\n"
        "inline void quit_wa(const char* why) { std::fprintf(stderr, \"%s\\n\", why); std::exit(1); }\n")
    code = ('#include "testlib.h"\nint main(int argc, char** argv) {\n'
            '  std::FILE* out = std::fopen(argv[2], "r"); long v = 0;\n'
            '  if (std::fscanf(out, "%ld", &v) == 1 && v % 2 == 0) quit_ok();\n  quit_wa("odd or missing");\n}\n')
    checker = parse_checker({"language": "cpp", "code": code}, testlib_dir=tmp_path)
    results = run_program(Program("python3", "print(int(input()) * 2)"), ["3\n", "4\n"], ["", ""], checker=checker)
    assert [(r.passed, r.checker_message) for r in results] == [(True, ""), (True, "")]
    odd = run_program(Program("python3", "print(7)"), ["3\n"], [""], checker=checker)[0]
    assert (odd.passed, odd.checker_message) == (False, "wrong answer (checker): odd or missing")


def test_a_job_stops_at_the_first_answer_its_checker_refuses():
    checker = permutation_checker("python3")
    program = Program("python3", "n = int(input())\nprint(*range(n, 0, -1) if n < 4 else [1] * n)")
    results = run_program(program, ["2\n", "3\n", "4\n", "5\n"], ["1 2\n", "1 2 3\n", "1 2 3 4\n", "x\n"],
                          stop_on_first_failure=True, checker=checker)
    assert [r.passed for r in results] == [True, True, False]


def test_cached_runs_keep_their_judges_verdicts_and_another_answer_runs_again(tmp_path):
    checker = permutation_checker("cpp")
    job = Job(REVERSED, ["3\n", "4\n"], ["1 2 3\n", "1 2 3 4\n"], checker=checker)
    first = run_batch([job], cache_dir=tmp_path, progress=False)[0]
    again = run_batch([job], cache_dir=tmp_path, progress=False)[0]
    assert [r.passed for r in first] == [True, True] and [(r.cached, r.passed) for r in again] == [(True, True)] * 2
    other = Job(REVERSED, ["3\n", "4\n"], ["1 2 3\n", "9\n"], checker=checker)  # answers change nothing here...
    rerun = run_batch([other], cache_dir=tmp_path, progress=False)[0]
    assert [r.cached for r in rerun] == [True, False]  # ...but a verdict is only reused for its own answer
    builtin = run_batch([Job(REVERSED, ["3\n"], ["3 2 1\n"])], cache_dir=tmp_path, progress=False)[0]
    assert builtin[0].cached is False and builtin[0].passed is True  # nor for another judge


def test_a_backend_without_program_judges_refuses_them_in_one_sentence():
    class Plain(Backend):
        name = "plain"

        def run(self, job):
            raise AssertionError("nothing may run")

    with pytest.raises(UserError, match=r"^The plain backend runs no checker programs or interactors: use the local"):
        run_batch([Job(REVERSED, ["3\n"], ["1 2 3\n"], checker=permutation_checker("python3"))],
                  backend=Plain(), progress=False)


# -- interactors --------------------------------------------------------------------------

def _hidden_number_tests(row):
    tests = row["private_tests"]
    return list(tests["input"]), list(tests["output"])


def test_accepted_solutions_of_an_interactive_problem_pass_with_its_interactor(bear_and_prime):
    judge = checker_for_problem(bear_and_prime)
    assert isinstance(judge, ProgramChecker) and judge.checker is None and judge.interactor.language == "python3"
    inputs, outputs = _hidden_number_tests(bear_and_prime)
    refs = reference_candidates([bear_and_prime])
    assert list(refs["language"]) == ["python3"]  # the sample's one accepted solution
    programs = [Program("python3", refs["code"].iloc[0]), Program("cpp", BEAR_CPP)]
    jobs = [Job(program, inputs, outputs, Limits(time_s=5.0), checker=judge) for program in programs]
    for results in run_batch(jobs, progress=False):
        assert [(r.status, r.passed) for r in results] == [(Status.OK, True)] * len(inputs)
        assert all(r.stdout.split()[0] in ("prime", "composite") for r in results)  # the interactor's output file
    # Under the stored transcript (the token compare) the same programs fail: their queries are not its queries.
    tokens = run_batch([Job(job.program, inputs, outputs, job.limits) for job in jobs[:1]], progress=False)[0]
    assert not all(r.passed for r in tokens)


@pytest.mark.parametrize("code, status, start", [
    ("print('prime', flush=True)", Status.OK, "wrong answer (interactor): "),
    # 21 queries: the interactor says so and leaves; the program then reads EOF (its own end, the message kept)
    ("for q in range(21):\n    print(2, flush=True)\n    input()\nprint('prime', flush=True)",
     Status.RUNTIME_ERROR, "wrong answer (interactor): query 21 is not allowed"),
    ("import sys\nprint(2)\nsys.stdin.readline()", Status.TIMEOUT, ""),  # never flushed: both wait
    ("import time\ntime.sleep(60)", Status.TIMEOUT, ""),
    ("print(1/0)", Status.RUNTIME_ERROR, ""),
])
def test_wrong_or_stuck_programs_fail_an_interactive_problem(bear_and_prime, code, status, start):
    judge = checker_for_problem(bear_and_prime)
    inputs, outputs = _hidden_number_tests(bear_and_prime)
    composite = next(i for i, text in enumerate(inputs) if int(text) % 2 == 0)  # "prime" is wrong there
    result = run_program(Program("python3", code), [inputs[composite]], [outputs[composite]], Limits(time_s=1.0),
                         checker=judge)[0]
    assert (result.status, result.passed) == (status, False)
    assert result.checker_message.startswith(start)


@pytest.mark.parametrize("language, code, start", [
    ("python3", "while True:\n    pass", "judge error: the interactor did not answer"),
    ("python3", "raise SystemExit(3)", "judge error: the interactor failed"),
    ("cpp", "int main() { return *(volatile int*)0; }", "judge error: the interactor was killed by signal 11"),
    ("cpp", "int main() { syntax error }", "judge error: the interactor does not compile"),
])
def test_a_broken_interactor_is_a_judge_error(bear_and_prime, language, code, start):
    judge = ProgramChecker(interactor=judge_program({"language": language, "code": code}))
    accepted = reference_candidates([bear_and_prime])
    program = Program("python3", accepted[accepted["language"] == "python3"]["code"].iloc[0])
    result = run_program(program, ["4\n"], [""], Limits(time_s=1.0), checker=judge)[0]
    assert (result.status, result.passed) == (Status.JUDGE_ERROR, False)
    assert result.checker_message.startswith(start)


SPY = """import os, sys
found = []
for pid in (p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()):
    for what in ("fd/3", "fd/4", "mem", "environ"):
        try:
            with open(f"/proc/{pid}/{what}", "rb") as f:
                found.append(f"{pid}/{what}: {f.read(20)!r}")
        except OSError:
            pass
    try:
        with open(f"/proc/{pid}/fd/4", "w") as f:
            f.write("prime 0")
            found.append(f"{pid}/fd/4 written")
    except OSError:
        pass
print("prime", flush=True)
print(found, file=sys.stderr)
"""


@pytest.mark.parametrize("language", ["python3", "cpp"])
def test_a_program_cannot_read_or_write_its_interactors_files_or_memory(language):
    """The interactor holds the hidden input and its output file: a candidate running beside it as
    the same user must reach neither (a Python interactor is a non-dumpable fork; a C++ one runs
    from an execute-only binary, which the kernel makes non-dumpable)."""
    interactor = {
        "python3": "import sys\nsecret = open(sys.argv[1]).read()\nout = open(sys.argv[2], 'w')\n"
                   "word = input()\nout.write(word)\nsys.exit(0 if word == 'composite' else 1)",
        "cpp": '#include <cstdio>\n#include <cstring>\nint main(int c, char** v) {\n'
               '  char s[64] = {0}, w[64] = {0}; std::FILE* in = std::fopen(v[1], "r"); std::fscanf(in, "%63s", s);\n'
               '  std::FILE* out = std::fopen(v[2], "w"); std::scanf("%63s", w); std::fputs(w, out); std::fclose(out);\n'
               '  return std::strcmp(w, "composite") ? 1 : 0; }',
    }[language]
    judge = ProgramChecker(interactor=judge_program({"language": language, "code": interactor}))
    result = run_program(Program("python3", SPY), ["4 the secret\n"], [""], checker=judge)[0]
    assert result.stderr.strip() == "[]"  # nothing of the interactor's was reachable
    assert (result.status, result.passed, result.stdout) == (Status.OK, False, "prime")


def test_an_interactors_output_is_judged_by_the_problems_checker_program(bear_and_prime):
    """With both, the interactor's verdict comes first, then the checker on its output file."""
    checker = {"language": "python3", "code": "import sys\nwords = open(sys.argv[2]).read().split()\n"
                                              "sys.exit(0 if int(words[1]) <= 5 else 1)"}  # at most 5 queries
    row = {**bear_and_prime, "checker": checker}
    judge = checker_for_problem(row)
    assert judge.checker is not None and judge.interactor is not None
    asks_all = "for d in (2, 3, 5, 7, 11, 13):\n    print(d, flush=True)\n    input()\nprint('composite', flush=True)"
    few = "print(2, flush=True)\ninput()\nprint('composite', flush=True)"
    results = [run_program(Program("python3", code), ["4\n"], [""], checker=judge)[0] for code in (asks_all, few)]
    assert [(r.passed, r.checker_message.split(":")[0]) for r in results] == [
        (False, "wrong answer (checker)"), (True, "")]


# -- through the pipeline and the CLI -------------------------------------------------------

def test_an_interactive_problem_through_run_executions(bear_and_prime, tmp_path):
    from acodium.evaluation import run_executions, verdicts

    refs = reference_candidates([bear_and_prime])
    cands = pd.concat([refs, refs.assign(candidate_id="cpp", language="cpp", code=BEAR_CPP),
                       refs.assign(candidate_id="prime", code="print('prime')")], ignore_index=True)
    table, stats = run_executions([bear_and_prime], cands, test_sets=["private"], run_dir=tmp_path, progress=False,
                                  execution=Execution(time_s=5.0))
    correct = verdicts(table, ["private"]).droplevel(0).to_dict()
    assert stats.jobs_run == 3 and correct == {refs["candidate_id"].iloc[0]: True, "cpp": True, "prime": False}
    assert table["checker"].str.startswith("program(interactor:python3:").all()
    again, stats = run_executions([bear_and_prime], cands, test_sets=["private"], run_dir=tmp_path, progress=False,
                                  execution=Execution(time_s=5.0))
    assert stats.jobs_run == 0 and verdicts(again, ["private"]).droplevel(0).to_dict() == correct


def test_exec_run_with_a_checker_file_and_an_interactor(tmp_path, capsys):
    (tmp_path / "check.cpp").write_text(PERMUTATION_CPP)
    (tmp_path / "rev.py").write_text(REVERSED.code)
    (tmp_path / "bear.py").write_text(BEAR_AND_PRIME)
    (tmp_path / "guess.py").write_text("print(2, flush=True)\nprint('composite' if input() == 'yes' else 'prime')")
    code, out, _ = gencode_in_process(capsys, "exec", "run", tmp_path / "rev.py", "--input", "4", "--expected",
                                      "1 2 3 4", "--checker", tmp_path / "check.cpp", "--json")
    assert code == 0 and '"passed": true' in out
    code, out, _ = gencode_in_process(capsys, "exec", "run", tmp_path / "guess.py", "--input", "8", "--interactor",
                                      tmp_path / "bear.py", "--json")
    assert code == 0 and '"passed": true' in out and '"stdout": "composite 1\\n"' in out


@pytest.mark.parametrize("extra, words", [
    (["--checker", "missing.cpp"], "--checker: the checker file missing.cpp does not exist."),
    (["--interactor", "missing.py"], "The interactor file missing.py does not exist."),
    (["--checker", "bad.cpp"], "The checker does not compile"),
    (["--interactor", "fails.py"], "The interactor failed."),
    (["--checker", "testlib.cpp"], "The checker includes testlib.h: give its folder with --testlib_dir"),
])
def test_exec_run_bad_judges_are_one_sentence(tmp_path, capsys, monkeypatch, extra, words):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACODIUM_TESTLIB_DIR", raising=False)
    (tmp_path / "rev.py").write_text(REVERSED.code)
    (tmp_path / "bad.cpp").write_text("int main() { nope }")
    (tmp_path / "fails.py").write_text("raise SystemExit(3)")
    (tmp_path / "testlib.cpp").write_text('#include "testlib.h"\nint main() {}')
    code, _, err = gencode_in_process(capsys, "exec", "run", "rev.py", "--input", "3", "--expected", "1 2 3", *extra)
    assert code == 2
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
