"""`gencode exec run` through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GENCODE = Path(sys.executable).with_name("gencode")


def gencode(*args, cwd=None):
    return subprocess.run([str(GENCODE), "exec", "run", *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def test_run_python_with_expected_output(tmp_path):
    prog = tmp_path / "double.py"
    prog.write_text("import sys\nn = int(input())\nprint(n * 2)\nprint('debug', file=sys.stderr)\n")
    p = gencode(prog, "--input", "21", "--expected", "42")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "42\n"
    assert "debug" in p.stderr
    assert "status=OK passed=True exit_code=0" in p.stderr


def test_json_with_files_and_a_wrong_answer(tmp_path):
    prog = tmp_path / "sum.py"
    prog.write_text("print(sum(map(int, open(0).read().split())))\n")
    (tmp_path / "in.txt").write_text("1 2\n3\n")
    (tmp_path / "out.txt").write_text("7\n")
    p = gencode(prog, "--input_file", tmp_path / "in.txt", "--expected-file", tmp_path / "out.txt", "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["status"] == "OK" and data["passed"] is False and data["stdout"] == "6\n"
    assert data["exit_code"] == 0 and data["stderr"] == ""
    assert 0 < data["time_s"] < 10 and data["memory_mb"] > 1
    assert {"status", "passed", "stdout", "stderr", "exit_code", "time_s", "memory_mb"} <= set(data)


def test_json_without_expected_has_null_passed_and_reports_timeouts(tmp_path):
    prog = tmp_path / "loop.py"
    prog.write_text("while True:\n    pass\n")
    p = gencode(prog, "--time-limit", "0.3", "--json")
    assert p.returncode == 0, p.stderr  # the program ran: exit 0 whatever its verdict
    data = json.loads(p.stdout)
    assert data["status"] == "TIMEOUT" and data["passed"] is None


def test_cpp_language_from_the_suffix(tmp_path):
    prog = tmp_path / "hello.cpp"
    prog.write_text("#include <cstdio>\nint main() { int a; scanf(\"%d\", &a); printf(\"%d\\n\", a + 1); }\n")
    p = gencode(prog, "--input", "41", "--expected", "42", "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert (data["status"], data["passed"], data["stdout"]) == ("OK", True, "42\n")
    broken = tmp_path / "broken.cc"
    broken.write_text("int main() { return undefined_name; }\n")
    data = json.loads(gencode(broken, "--json").stdout)
    assert data["status"] == "COMPILE_ERROR" and "undefined_name" in data["stderr"]
    assert data["memory_mb"] is None  # nothing ran: no memory to report
    line = gencode(broken).stderr.splitlines()[-1]
    assert line.startswith("status=COMPILE_ERROR") and line.endswith(" memory=unknown")  # not "NoneMiB"


def test_memory_limit_option(tmp_path):
    prog = tmp_path / "big.py"
    prog.write_text("a = bytearray(200 * 2 ** 20)\nprint(len(a))\n")
    assert json.loads(gencode(prog, "--memory_mb", "64", "--json").stdout)["status"] == "MEMORY_LIMIT"
    assert json.loads(gencode(prog, "--memory_mb", "512", "--json").stdout)["status"] == "OK"


def test_bad_input_exits_2_with_one_sentence(tmp_path):
    p = gencode(tmp_path / "missing.py")
    assert p.returncode == 2 and p.stderr.startswith("gencode: ") and "does not exist" in p.stderr
    assert "Traceback" not in p.stderr
    odd = tmp_path / "prog.rb"
    odd.write_text("puts 1\n")
    p = gencode(odd)
    assert p.returncode == 2 and "--language" in p.stderr
    prog = tmp_path / "p.py"
    prog.write_text("print(1)\n")
    (tmp_path / "in.txt").write_text("1")
    p = gencode(prog, "--input", "1", "--input_file", tmp_path / "in.txt")
    assert p.returncode == 2 and "not both" in p.stderr
    p = gencode(prog, "--language", "cobol")
    assert p.returncode == 2


def test_no_sandbox_runs_and_warns(tmp_path):
    prog = tmp_path / "p.py"
    prog.write_text("print(6 * 7)\n")
    p = gencode(prog, "--no_sandbox", "--expected", "42", cwd=tmp_path)
    assert p.returncode == 0
    assert p.stdout == "42\n" and "WITHOUT a sandbox" in p.stderr


@pytest.mark.parametrize("suffix", [".cxx", ".c++", ".CC"])
def test_every_usual_cpp_suffix_is_cpp(tmp_path, suffix):
    prog = tmp_path / f"inc{suffix}"
    prog.write_text("#include <cstdio>\nint main() { int a; scanf(\"%d\", &a); printf(\"%d\\n\", a + 1); }\n")
    p = gencode(prog, "--input", "41", "--expected", "42", "--json")
    assert p.returncode == 0, p.stderr
    assert (json.loads(p.stdout)["status"], json.loads(p.stdout)["passed"]) == ("OK", True)


@pytest.mark.parametrize("name, sentence", [
    ("prog.txt", "gencode: Cannot tell the language of prog.txt: pass --language python3 or --language cpp or "
                 "--language java or --language python2.\n"),
])
def test_a_suffix_nothing_here_runs_is_one_sentence(tmp_path, name, sentence):
    (tmp_path / name).write_text("class Main { public static void main(String[] a) {} }\n")
    p = gencode(tmp_path / name)
    assert (p.returncode, p.stdout, p.stderr) == (2, "", sentence)
