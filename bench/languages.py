"""What each language costs in the local sandbox: Java's compile, and the per-test overhead of
every runtime (Python 3 forked from the warm worker, C++, Java, Python 2 and PyPy exec'd per test).

One worker, caches off, the machine as it is (shared: compare the ratios of one run):

(a) compile/load: the time to load a program (javac + the jar for Java, g++ for C++, the
    syntax check of an exec'd interpreter), --repeat programs each (distinct by a comment);
(b) per test, trivial work: an echo program on --inputs inputs, wall and CPU per test;
(c) per test, a real problem: 959_E (xor-MST) of the shared sample, its public and private
    tests, by its accepted Python 3 solution (CPython and PyPy) and by a solution written
    here in each other language;
(d) the sample's accepted Python 2 and Java solutions on their public tests (n/N passing;
    the shared sample holds Python 3 solutions only, so N may be 0).

    .venv/bin/python bench/languages.py [--inputs 100] [--repeat 3] [--out bench/results/languages.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from pathlib import Path

from acodium.execute import Limits, Program, run_program
from acodium.execute.local import LocalBackend

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ACODIUM_SHARED_DATA", REPO.parent / "shared" / "data"))

ECHO = {
    "python3": "print(input())\n",
    "python2": "print raw_input()\n",
    "cpp": "#include <iostream>\n#include <string>\nint main() { std::string s; std::getline(std::cin, s); "
           "std::cout << s << std::endl; }\n",
    "java": "import java.io.*;\npublic class Echo { public static void main(String[] a) throws IOException { "
            "System.out.println(new BufferedReader(new InputStreamReader(System.in)).readLine()); } }\n",
}
XOR_MST = {
    "cpp": "#include <cstdio>\nint main() { long long n, a = 0; scanf(\"%lld\", &n); "
           "for (long long c = 1; c < n; c <<= 1) a += (n - c + 2 * c - 1) / (2 * c) * c; printf(\"%lld\\n\", a); }\n",
    "java": "import java.util.*;\npublic class XorMst { public static void main(String[] x) { long n = new "
            "Scanner(System.in).nextLong(), a = 0; for (long c = 1; c < n; c <<= 1) a += (n - c + 2 * c - 1) / "
            "(2 * c) * c; System.out.println(a); } }\n",
    "python2": "n = int(raw_input())\na, c = 0, 1\nwhile c < n:\n    a += (n - c + 2 * c - 1) / (2 * c) * c\n"
               "    c <<= 1\nprint a\n",
}
LIMITS = Limits(time_s=10.0)


def load_time(backend: LocalBackend, program: Program) -> float:
    """Seconds to load `program` on a warm worker (compile, jar, syntax check)."""
    worker = backend._acquire()
    try:
        started = time.perf_counter()
        reply = backend._load(worker, program)
        elapsed = time.perf_counter() - started
        assert reply.get("ok"), reply
        return elapsed
    finally:
        backend._release(worker)


def per_test(backend: LocalBackend, program: Program, inputs: list[str], expected: list[str] | None = None) -> dict:
    run_program(program, inputs[:1], None, LIMITS, backend=backend)  # loaded before the clock
    started = time.perf_counter()
    results = run_program(program, inputs, expected, LIMITS, backend=backend)
    elapsed = time.perf_counter() - started
    return {"tests": len(results), "wall_per_test_ms": round(1000 * elapsed / len(results), 2),
            "cpu_per_test_ms": round(1000 * statistics.mean(r.cpu_s for r in results), 2),
            "memory_mib": round(max(r.memory_bytes or 0 for r in results) / 2**20, 1),
            "passed": sum(bool(r.passed) for r in results) if expected is not None else None,
            "statuses": sorted({r.status.value for r in results})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    rows = [json.loads(line) for line in open(SHARED / "code_contests_train_sample.jsonl")]
    out: dict = {"load_s": {}, "echo": {}, "959_E": {}, "sample": {}}
    backends = {"cpython": LocalBackend(workers=1)}
    if shutil.which("pypy3"):
        backends["pypy3"] = LocalBackend(workers=1, python3="pypy3")
    local = backends["cpython"]
    languages = [lang for lang in ("python3", "cpp", "java", "python2") if local.missing_runtime(lang) is None]
    out["runtimes"] = {lang: (r.describe() if r is not None else None) for lang, r in local.runtimes.items()}

    for lang in languages:
        times = [load_time(local, Program(lang, ECHO[lang] + ("\n" if lang != "python2" else "") +
                                          ("// " if lang in ("cpp", "java") else "# ") + f"{time.time_ns()} {i}\n"))
                 for i in range(args.repeat)]
        out["load_s"][lang] = [round(t, 3) for t in times]
    inputs = [f"line {i}" for i in range(args.inputs)]
    for lang in languages:
        out["echo"][lang] = per_test(local, Program(lang, ECHO[lang]), inputs)
    if "pypy3" in backends:
        out["echo"]["pypy3"] = per_test(backends["pypy3"], Program("python3", ECHO["python3"]), inputs)

    row = next(r for r in rows if r["name"].startswith("959_E"))
    tests_in = row["public_tests"]["input"] + row["private_tests"]["input"]
    tests_out = row["public_tests"]["output"] + row["private_tests"]["output"]
    python3 = Program("python3", row["solutions"]["solution"][0])
    out["959_E"]["python3"] = per_test(local, python3, tests_in, tests_out)
    if "pypy3" in backends:
        out["959_E"]["pypy3"] = per_test(backends["pypy3"], python3, tests_in, tests_out)
    for lang in (lang for lang in languages if lang in XOR_MST):
        out["959_E"][lang] = per_test(local, Program(lang, XOR_MST[lang]), tests_in, tests_out)

    for lang, lang_id in (("python2", 1), ("java", 4)):
        solutions = [(r, code) for r in rows for code, language in
                     zip(r["solutions"]["solution"], r["solutions"]["language"]) if language == lang_id]
        passing = 0
        for r, code in solutions:
            results = run_program(Program(lang, code), r["public_tests"]["input"], r["public_tests"]["output"],
                                  LIMITS, backend=local)
            passing += all(x.passed for x in results)
        out["sample"][lang] = f"{passing}/{len(solutions)}"
    for backend in backends.values():
        backend.close()
    print(json.dumps(out, indent=2))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
