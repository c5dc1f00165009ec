"""The local backend compiles a candidate's C++ and Java once for all its workers (`local_compiled.py`):
the first worker sends the binary or jar back, the others are given it compiled, sealed as if compiled
there; results are the same as compiling everywhere, and a compile error is given again as it was said."""

from __future__ import annotations

import pytest
from test_languages_runtime import LIMITS, TAMPER, need

from acodium.execute import Job, Program, Status, run_program
from acodium.execute.local import LocalBackend
from acodium.execute.local_compiled import CompiledPrograms

DOUBLE = "#include <iostream>\nint main(){long long a; std::cin >> a; std::cout << 2 * a << std::endl;}\n"
# A test that tries to change its own binary for the next test, then says what it found.
CPP_TAMPER = r"""
#include <cstdio>
#include <iostream>
#include <string>
int main() {
    std::string mode; std::cin >> mode;
    FILE *self = std::fopen("/proc/self/exe", "r+");
    std::cout << (self ? "binary writable" : "binary not writable") << std::endl;
    if (self) { std::fputs("garbage", self); std::fclose(self); }
    std::cout << mode << " ran" << std::endl;
}
"""


@pytest.fixture
def backend():
    be = LocalBackend(workers=2)
    yield be
    be.close()


def test_a_cpp_program_is_compiled_once_for_every_worker(backend):
    jobs = [Job(Program("cpp", DOUBLE), [str(i), str(i + 1)], None, LIMITS) for i in range(0, 12, 2)]
    results = dict(backend.run_many(jobs, workers=2))
    assert [[r.stdout for r in results[i]] for i in range(6)] == [[f"{2 * i}\n", f"{2 * i + 2}\n"]
                                                                  for i in range(0, 12, 2)]
    assert backend.compiled.compiles == 1 and backend.compiled.reused >= 1
    assert len(backend._all) == 2  # both workers ran it: one compiled, the other was given the binary


def test_a_compile_error_is_compiled_once_and_said_alike(backend):
    bad = Program("cpp", "int main() { return undefined_name; }\n")
    jobs = [Job(bad, [str(i)], [str(i)], LIMITS) for i in range(5)]
    results = dict(backend.run_many(jobs, workers=2))
    assert {r.status for rs in results.values() for r in rs} == {Status.COMPILE_ERROR}
    assert len({rs[0].stderr for rs in results.values()}) == 1 and "undefined_name" in results[0][0].stderr
    assert backend.compiled.compiles == 1


def given_compiled(backend: LocalBackend) -> LocalBackend:
    """A backend of one fresh worker sharing `backend`'s kept programs: every C++ or Java program it runs
    that `backend` compiled is given to its worker compiled."""
    other = LocalBackend(workers=1)
    other.compiled = backend.compiled
    return other


def test_a_binary_given_compiled_is_sealed_as_one_compiled_there(backend):
    program = Program("cpp", CPP_TAMPER)
    compiled_here = run_program(program, ["first", "second"], None, LIMITS, backend=backend)
    other = given_compiled(backend)
    try:
        given = run_program(program, ["first", "second"], None, LIMITS, backend=other)
    finally:
        other.close()
    assert backend.compiled.compiles == 1 and backend.compiled.reused == 1
    for results in (compiled_here, given):
        assert [r.status for r in results] == [Status.OK] * 2
        assert [r.stdout for r in results] == ["binary not writable\nfirst ran\n", "binary not writable\nsecond ran\n"]


def test_java_is_compiled_once_and_its_jar_stays_sealed(backend):
    need(backend.runtimes["java"], "a JDK (javac)")
    program = Program("java", TAMPER)
    other = given_compiled(backend)
    try:
        for be in (backend, other):
            results = run_program(program, ["attack", "check", "attack", "check"], None, LIMITS, backend=be)
            assert [r.status for r in results] == [Status.OK] * 4
            attack = results[0].stdout.splitlines()
            assert attack[:2] == ["jar not writable", "jar not truncatable"] and attack[-1] == "attacked"
            assert results[1].stdout == results[3].stdout == "original 0 0\n"
    finally:
        other.close()
    assert backend.compiled.compiles == 1 and backend.compiled.reused == 1


def test_the_kept_programs_stay_within_their_bytes_oldest_first_out():
    kept = CompiledPrograms(max_bytes=2500)
    for name in "abc":
        with kept.loading("cpp", name, "program") as plan:
            assert plan.header == {"export_max": 32 << 20} and plan.blob is None
            plan.done({"ok": True}, [name.encode() * 1000])
    assert kept.compiles == 3
    with kept.loading("cpp", "a", "program") as plan:  # the oldest went to make room
        assert "export_max" in plan.header
        plan.done({"ok": True}, [b"a" * 1000])
    with kept.loading("cpp", "c", "program") as plan:
        assert plan.header == {"prebuilt": {}} and plan.blob == b"c" * 1000
    with kept.loading("java", "j", "program") as plan:
        plan.done({"ok": True, "artifact": {"main_class": "pkg.Main", "other": 1}}, [b"jar"])
    with kept.loading("java", "j", "program") as plan:
        assert plan.header == {"prebuilt": {"main_class": "pkg.Main"}} and plan.blob == b"jar"
    with kept.loading("cpp", "slow", "program") as plan:  # stopped by a limit: compiled again next time
        plan.done({"compile_error": True, "stderr": "compilation stopped at its time limit (60 s of CPU)"}, [b"x"])
    with kept.loading("cpp", "slow", "program") as plan:
        assert "export_max" in plan.header
    for language, role in (("python3", "program"), ("cpp", "checker")):  # neither is kept
        with kept.loading(language, "z", role) as plan:
            assert plan.header == {} and plan.reply is None
