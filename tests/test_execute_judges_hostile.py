"""Hostile programs against program judges (acodium.execute.judges): a candidate is a policy
trained on our verdicts, and a judge (checker, interactor) is code from a dataset.

A candidate must not get passed=True on a test it does not solve, nor turn its failure into a
judge error (which a training pipeline may drop instead of penalizing); a judge must not reach
beyond its own test. Each attack here ran against the code before its fix and worked there,
except the last group (regression guards: they never worked). The interactive problem is the
sample's 680_C (Bear and Prime, hidden number in its private tests), judged by the interactor
of tests/test_execute_judges.py.
"""

from __future__ import annotations

import platform

import pytest

from acodium.execute import Job, Limits, Program, Status, cgroups, run_batch
from acodium.execute.judges import ProgramChecker, judge_program
from acodium.execute.local import LocalBackend
from acodium.generate import reference_candidates
from test_execute_judges import BEAR_AND_PRIME


@pytest.fixture(scope="module")
def backends():
    """One one-worker backend per way of counting resources, made when first asked for."""
    made = {}

    def get(mode: str = "auto") -> LocalBackend:
        if mode == "cgroup" and cgroups.probe() is None:
            pytest.skip("this machine gives no cgroup to a sandbox")
        if mode not in made:
            made[mode] = LocalBackend(workers=1, cgroups={"auto": None, "cgroup": True, "rlimits": False}[mode])
        return made[mode]

    yield get
    for backend in made.values():
        backend.close()


@pytest.fixture(scope="module")
def bear(train_rows):
    """680_C: its hidden numbers, its accepted Python solution, its interactor."""
    row = next(r for r in train_rows if r["name"].startswith("680_C"))
    refs = reference_candidates([row])
    return {"inputs": list(row["private_tests"]["input"]), "accepted": refs["code"].iloc[0],
            "judge": ProgramChecker(interactor=judge_program({"language": "python3", "code": BEAR_AND_PRIME}))}


def interact(backend, code, inputs, judge, limits=Limits(time_s=1.0), language="python3"):
    job = Job(Program(language, code), list(inputs), [""] * len(inputs), limits, checker=judge)
    return run_batch([job], backend=backend, progress=False)[0]


def composite(bear) -> str:
    return next(x for x in bear["inputs"] if int(x) % 2 == 0)  # "prime" is a wrong answer there


# -- a candidate reaching its interactor while that one is set up -----------------------------

STEAL_WHILE_IT_STARTS = r"""import os, sys, time
me, got = str(os.getpid()), []
end = time.monotonic() + 0.01
while time.monotonic() < end and not got:
    for pid in os.listdir('/proc'):
        if pid.isdigit() and pid not in (me, '1'):
            for k in range(3, 40):
                try:
                    got.append(os.open(f'/proc/{pid}/fd/{k}', os.O_RDONLY))
                except OSError:
                    pass
found = {}
for fd in got:
    try:
        found[os.readlink(f'/proc/self/fd/{fd}')] = os.pread(fd, 40, 0)
    except OSError:
        found[os.readlink(f'/proc/self/fd/{fd}')] = b''
print(found, file=sys.stderr)
x = [int(v.split()[0]) for k, v in found.items() if 'blob' in k and v.split() and v.split()[0].isdigit()]
print(('prime' if all(x[0] % d for d in range(2, x[0])) else 'composite') if x else 'nothing', flush=True)
"""


def test_a_candidate_cannot_open_its_interactors_files_while_that_one_starts(backends, bear):
    """The interactor was forked non-dumpable, made itself dumpable to volunteer for the OOM killer,
    then not dumpable again: in that window (wider with a cgroup) the candidate, forked just after,
    opened its fds: the hidden input (and the output file, writable). It passed ~7% of tests so."""
    results = interact(backends(), STEAL_WHILE_IT_STARTS, bear["inputs"] * 8, bear["judge"])
    assert [r.stderr.strip() for r in results if r.stderr.strip() != "{}"] == []
    assert not any(r.passed for r in results)


# -- the candidate's processes: all of them are the candidate --------------------------------

BURN = """import os, signal, time
def burn(seconds):
    t = time.process_time()
    while time.process_time() - t < seconds:
        pass
"""
# CPU in children the kernel reaps (SIGCHLD ignored): no rusage of the program ever shows it.
REAPED_CHILDREN_BURN = BURN + """signal.signal(signal.SIGCHLD, signal.SIG_IGN)
r, w = os.pipe()
for _ in range(3):
    if os.fork() == 0:
        burn(0.4)
        os.write(w, b'x')
        os._exit(0)
done = b''
while len(done) < 3:
    done += os.read(r, 3)
"""
# The program's first process ends at once; its child does the work and the talking.
CHILD_TALKS_ON = BURN + """if os.fork():
    os._exit(0)
burn(1.0)
"""
MEMORY_IN_A_CHILD = """import os
r, w = os.pipe()
if os.fork() == 0:
    hoard = bytearray(200 << 20)
    for i in range(0, len(hoard), 4096):
        hoard[i] = 1
    os.write(w, b'x')
    import time
    time.sleep(1.0)
    os._exit(0)
os.read(r, 1)
"""


@pytest.mark.parametrize("mode", ["auto", "rlimits"])
@pytest.mark.parametrize("prefix, limits, status", [
    (REAPED_CHILDREN_BURN, Limits(time_s=0.5, slow_cap=1), Status.TIMEOUT),  # (no slow-positive rerun: 1.2 s would be SLOW)
    (CHILD_TALKS_ON, Limits(time_s=0.5), Status.OK),  # the child dies with the program: no answer
    (MEMORY_IN_A_CHILD, Limits(time_s=2.0, memory_bytes=64 << 20), Status.MEMORY_LIMIT),
], ids=["cpu-in-reaped-children", "child-talks-after-the-program-ends", "memory-in-a-child"])
def test_an_interactive_candidates_children_are_held_to_its_limits(backends, bear, mode, prefix, limits, status):
    """Only the candidate's first process was metered (its own CPU and memory, and its children's once
    waited for): the accepted solution run after 1.2 s of CPU in children (limit 0.5 s), or by a child
    once the program had exited, or beside a child holding 200 MiB (limit 64 MiB), passed."""
    result = interact(backends(mode), prefix + bear["accepted"], [composite(bear)], bear["judge"], limits)[0]
    assert (result.status, result.passed) == (status, False), (result.status, result.cpu_s, result.memory_bytes)
    if status == Status.OK:
        assert result.checker_message == "wrong answer (interactor): no answer"


SHORT_CHILDREN_CPP = r"""#include <csignal>
#include <ctime>
#include <unistd.h>
static double cpu() { timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int burn_in_children() {  // 600 children of 2 ms each, reaped by the kernel: 1.2 s in all
    std::signal(SIGCHLD, SIG_IGN);
    for (int i = 0; i < 600; i++) {
        pid_t p = fork();
        if (p == 0) { double t = cpu(); while (cpu() - t < 0.002) {} _exit(0); }
        timespec pause{0, 2500000}; nanosleep(&pause, nullptr);
    }
    return 0;
}
static int burned = burn_in_children();
"""


def test_short_lived_children_of_an_interactive_candidate_count_with_a_cgroup(backends, bear):
    """Polling /proc misses what a process uses after the last poll before it ends (at most 5 ms
    each): 600 children of 2 ms passed with 0.08 s of 1.2 s counted. With a cgroup the candidate's
    CPU is the group's counter less ours and the interactor's, as for a test without one."""
    from test_execute_judges import BEAR_CPP
    result = interact(backends("cgroup"), SHORT_CHILDREN_CPP + BEAR_CPP, [composite(bear)], bear["judge"],
                      Limits(time_s=0.5), language="cpp")[0]
    assert (result.status, result.passed) == (Status.TIMEOUT, False), result.cpu_s


@pytest.mark.parametrize("mode", ["auto", "rlimits"])
def test_an_interactors_cpu_is_not_its_candidates(backends, mode):
    """The other way round: an interactor computing 1.5 s while the candidate (limit 0.5 s) waits."""
    slow = ProgramChecker(interactor=judge_program({"language": "python3", "code": (
        "import sys, time\nx = int(open(sys.argv[1]).read())\nfor _ in range(2):\n    q = int(input())\n"
        "    t = time.process_time()\n    while time.process_time() - t < 0.75:\n        pass\n"
        "    print('yes' if x % q == 0 else 'no', flush=True)\nword = input()\n"
        "sys.exit(0 if word == 'composite' else 1)\n")}))
    asks = "print(2, flush=True)\na = input()\nprint(3, flush=True)\nb = input()\n" \
           "print('composite' if 'yes' in (a, b) else 'prime', flush=True)\n"
    result = interact(backends(mode), asks, ["4\n"], slow, Limits(time_s=0.5))[0]
    assert (result.status, result.passed) == (Status.OK, True) and result.cpu_s < 0.25, result.cpu_s


# -- a candidate turning its wrong answer into a judge error --------------------------------

OTHERS = "import os, signal, sys, ctypes\nothers = [int(p) for p in os.listdir('/proc') if p.isdigit() and int(p) not in (1, os.getpid())]\n"
NUMBERS = {"x86_64": {"tkill": 200, "tgkill": 234, "rt_tgsigqueueinfo": 297},
           "aarch64": {"tkill": 130, "tgkill": 131, "rt_tgsigqueueinfo": 240}}.get(platform.machine(), {})
SIGNALS = {
    "kill": "for p in others: os.kill(p, signal.SIGKILL)",
    "kill-everyone": "os.kill(-1, signal.SIGKILL)",
    "killpg": "for p in others: os.killpg(p, signal.SIGKILL)",
    "fake-crash": "for p in others: os.kill(p, signal.SIGSEGV)",
    "stop": "for p in others: os.kill(p, signal.SIGSTOP)",
    "pidfd": "for p in others: signal.pidfd_send_signal(os.pidfd_open(p), signal.SIGKILL)",
    "sigqueue": "libc = ctypes.CDLL(None, use_errno=True)\nfor p in others:\n"
                "    if libc.sigqueue(p, 9, ctypes.c_void_p(0)): raise OSError(ctypes.get_errno(), 'sigqueue')",
    "tkill": f"libc = ctypes.CDLL(None, use_errno=True)\nfor p in others:\n"
             f"    if libc.syscall({NUMBERS.get('tkill', -1)}, p, 9): raise OSError(ctypes.get_errno(), 'tkill')",
    "tgkill": f"libc = ctypes.CDLL(None, use_errno=True)\nfor p in others:\n"
              f"    if libc.syscall({NUMBERS.get('tgkill', -1)}, p, p, 9): raise OSError(ctypes.get_errno(), 'tgkill')",
    "rt_tgsigqueueinfo": "libc = ctypes.CDLL(None, use_errno=True)\ninfo = (ctypes.c_int * 32)(9, 0, -1)\n"
                         f"for p in others:\n    if libc.syscall({NUMBERS.get('rt_tgsigqueueinfo', -1)}, p, p, 9, info):"
                         " raise OSError(ctypes.get_errno(), 'rt_tgsigqueueinfo')",
    # SIGIO to the owner of the candidate's stdin when the interactor answers (default action: terminate)
    "sigio-owner": "import fcntl\nfcntl.fcntl(0, fcntl.F_SETOWN, others[0])\n"
                   "fcntl.fcntl(0, fcntl.F_SETFL, fcntl.fcntl(0, fcntl.F_GETFL) | os.O_ASYNC)",
    "sigio-owner-ex": "import fcntl, struct\nfcntl.fcntl(0, 15, struct.pack('ii', 1, others[0]))\n"
                      "fcntl.fcntl(0, fcntl.F_SETFL, fcntl.fcntl(0, fcntl.F_GETFL) | os.O_ASYNC)",
}


@pytest.mark.parametrize("mode", ["auto", "rlimits"])
@pytest.mark.parametrize("how", sorted(SIGNALS))
def test_a_candidate_cannot_signal_its_interactor(backends, bear, mode, how):
    """A candidate with no answer killed, stopped or faked a crash of its interactor (same user,
    same PID namespace): a judge error instead of its wrong answer. Now a filter refuses every
    signal aimed at the interactor (its pid, its group, everyone), by any system call."""
    attack = OTHERS + "try:\n" + "".join("    " + line + "\n" for line in SIGNALS[how].splitlines()) + \
        "except (OSError, ValueError, IndexError) as e:\n    print('refused:', e, file=sys.stderr)\n" \
        "print(2, flush=True)\ninput()\nprint('prime', flush=True)\n"
    result = interact(backends(mode), attack, [composite(bear)], bear["judge"], Limits(time_s=0.25))[0]
    assert (result.status, result.passed) == (Status.OK, False), (result.checker_message, result.stderr)
    assert result.checker_message.startswith("wrong answer (interactor)")
    assert result.stderr.startswith("refused:")


def test_the_oom_killer_takes_the_candidate_not_its_interactor(backends, bear):
    """With a cgroup, memory no process maps (memfds) is only seen by the group's limit; at it, the
    OOM killer took the process with the largest resident set among those that volunteered: the
    Python interactor, beside a small C++ candidate (a judge error). Now the interactor is the second
    choice: a second OOM kill, while the candidate's memfds are still being freed, takes it, not the
    worker (on 7% of runs the worker went: a sandbox error), and it went with its candidate."""
    hoard = r"""#include <sys/mman.h>
#include <unistd.h>
#include <cstring>
#include <iostream>
int main() {
    static char page[1 << 20]; std::memset(page, 1, sizeof page);
    for (int f = 0; f < 60; f++) { int fd = memfd_create("x", 0); for (int i = 0; i < 30; i++) write(fd, page, sizeof page); }
    std::cout << "prime" << std::endl;
}"""
    result = interact(backends("cgroup"), hoard, [composite(bear)], bear["judge"],
                      Limits(time_s=5.0, memory_bytes=64 << 20), language="cpp")[0]
    assert (result.status, result.passed) == (Status.MEMORY_LIMIT, False), result.checker_message


# -- an interactor that writes to a program that has ended ----------------------------------

# 680_C's interactor in C++, confirming the final answer to the program (as multi-test interactors do).
BEAR_CONFIRMS_CPP = r"""#include <cstdio>
#include <iostream>
#include <string>
int main(int argc, char** argv) {
    int x; std::FILE* in = std::fopen(argv[1], "r"); std::fscanf(in, "%d", &x);
    bool prime = x > 1; for (int d = 2; d < x; d++) if (x % d == 0) prime = false;
    std::string word; int queries = 0;
    while (std::cin >> word) {
        if (word == "prime" || word == "composite") {
            bool right = (word == "prime") == prime;
            std::FILE* out = std::fopen(argv[2], "w"); std::fprintf(out, "%s %d\n", word.c_str(), queries); std::fclose(out);
            std::cout << (right ? 1 : -1) << std::endl;
            return right ? 0 : 1;
        }
        int q = std::stoi(word);
        if (++queries > 20 || q < 2 || q > 100) return 1;
        std::cout << (x % q == 0 ? "yes" : "no") << std::endl;
    }
    return 1;
}"""


def test_an_interactor_writing_to_a_program_that_has_ended_is_no_judge_error(backends, bear):
    """A C++ interactor's last write after the program's (correct) last word, when the program has
    already exited, killed it with SIGPIPE: a judge error for an accepted solution, in most tests.
    The interactor now ignores SIGPIPE (the write fails), as on the judges' machines."""
    judge = ProgramChecker(interactor=judge_program({"language": "cpp", "code": BEAR_CONFIRMS_CPP}))
    results = interact(backends(), bear["accepted"], bear["inputs"][:20], judge, Limits(time_s=2.0))
    assert [(r.status, r.passed) for r in results] == [(Status.OK, True)] * 20, \
        sorted({r.checker_message for r in results})


# -- judges whose output is large -----------------------------------------------------------

def test_a_checker_printing_megabytes_is_read_and_the_next_job_runs(backends):
    """A checker that printed 2 MiB (more than a reply part's default bound) made the host raise out of
    run_batch, and left the worker's channel out of step: the next job's first test was a sandbox error."""
    verbose = ProgramChecker(checker=judge_program({"language": "python3", "code": (
        "import sys\nsys.stdout.write('x' * (2 << 20))\n"
        "sys.exit(0 if open(sys.argv[2]).read() == open(sys.argv[3]).read() else 1)\n")}))
    jobs = [Job(Program("python3", "print(input())"), ["1\n", "2\n"], ["1\n", "3\n"], checker=verbose),
            Job(Program("python3", "print(int(input()) + 1)"), ["1\n", "2\n"], ["2\n", "3\n"])]
    judged, next_job = run_batch(jobs, backend=backends(), progress=False)
    assert [(r.status, r.passed) for r in judged] == [(Status.OK, True), (Status.OK, False)]
    assert [(r.status, r.passed) for r in next_job] == [(Status.OK, True)] * 2


def test_an_interactors_output_file_beyond_the_programs_output_limit_is_the_runs_output(backends):
    """The interactor's output file may hold JUDGE_OUTPUT_BYTES; the host took at most the program's
    output limit, so a longer one was a lost worker (SANDBOX_ERROR, run again, and again)."""
    writes = ProgramChecker(interactor=judge_program({"language": "python3", "code": (
        "import sys\nword = input()\nopen(sys.argv[2], 'w').write(word * (2 << 20))\n")}))
    result = interact(backends(), "print('y')", ["1\n"], writes, Limits(time_s=1.0, output_bytes=1 << 20))[0]
    assert (result.status, result.passed, len(result.stdout)) == (Status.OK, True, 2 << 20)


# -- regression guards: attacks that never worked --------------------------------------------

LEAVE_DAEMONS = r"""import os, sys, time, signal
def tamper():
    end = time.monotonic() + 3
    while time.monotonic() < end:
        for p in os.listdir('/proc'):
            if p.isdigit() and int(p) not in (1, os.getpid()):
                try:  # the checker's answer (/dev/fd/5) over the output it judges (/dev/fd/4)
                    answer = open(f'/proc/{p}/fd/5', 'rb').read()
                    with open(f'/proc/{p}/fd/4', 'r+b') as out:
                        out.write(answer)
                        out.truncate()
                except OSError:
                    pass
for how in ('plain', 'stopped', 'forking'):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            if how == 'stopped':
                os.kill(os.getpid(), signal.SIGSTOP)
            if how == 'forking' and os.fork():
                os._exit(0)
            tamper()
            os._exit(0)
        os._exit(0)
for place in ('/tmp', '/dev/shm'):
    open(f'{place}/answer', 'w').write('right\n')
print('wrong')
"""
# A checker that says what it finds of the candidate: another process, or files it left.
INSPECTING_CHECKER = """import os, sys
others = [p for p in os.listdir('/proc') if p.isdigit() and p not in ('1', str(os.getpid()))]
left = os.listdir('/tmp') + os.listdir('/dev/shm')
if others or left:
    print(f'found processes {others} and files {left}', file=sys.stderr)
    sys.exit(3)
sys.exit(0 if open(sys.argv[2]).read() == open(sys.argv[3]).read() else 1)
"""


def test_nothing_of_the_candidate_is_left_when_its_checker_runs(backends):
    checker = ProgramChecker(checker=judge_program({"language": "python3", "code": INSPECTING_CHECKER}))
    job = Job(Program("python3", LEAVE_DAEMONS), ["1\n"] * 2, ["right\n"] * 2, Limits(time_s=1.0), checker=checker)
    results = run_batch([job], backend=backends(), progress=False)[0]
    assert [(r.status, r.passed, r.checker_message) for r in results] == [(Status.OK, False, "wrong answer (checker)")] * 2


SCAN_OWN_MEMORY = r"""import re, sys
found = set()
with open('/proc/self/maps') as maps, open('/proc/self/mem', 'rb', 0) as mem:
    for line in maps:
        span, perms = line.split()[:2]
        if 'r' not in perms or '[v' in line:
            continue
        lo, hi = (int(x, 16) for x in span.split('-'))
        try:
            mem.seek(lo)
            found.update(re.findall(rb'ANSWER[0-9]{6}', mem.read(hi - lo)))
        except (OSError, ValueError, OverflowError):
            pass
print(sorted(found), file=sys.stderr)
print(input())
"""


def test_a_candidate_finds_no_earlier_answer_in_the_memory_it_inherits(backends):
    """A Python test is a fork of the worker: nothing of an earlier test's answer, which the checker
    printed in its message, may be in that memory."""
    says = ProgramChecker(checker=judge_program({"language": "python3", "code": (
        "import sys\nanswer = open(sys.argv[3]).read().strip()\n"
        "print(f'expected {answer}, found ' + open(sys.argv[2]).read().strip(), file=sys.stderr)\nsys.exit(1)\n")}))
    job = Job(Program("python3", SCAN_OWN_MEMORY), [f"{i}\n" for i in range(3)],
              [f"ANSWER{100000 + i}\n" for i in range(3)], Limits(time_s=2.0), checker=says)
    results = run_batch([job], backend=backends(), progress=False)[0]
    assert [r.stderr.strip() for r in results] == ["[]"] * 3
    assert results[0].checker_message == "wrong answer (checker): expected ANSWER100000, found 0"


def test_an_interactor_leaves_nothing_for_the_next_candidate(backends, bear):
    """An interactor (dataset code) leaves processes that would kill, or answer for, whatever
    runs next in its sandbox; the next candidate, with 680_C's interactor, is unharmed."""
    lingering = ProgramChecker(interactor=judge_program({"language": "python3", "code": (
        "import os, sys, time, signal\nif os.fork() == 0:\n    os.setsid()\n    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "    end = time.monotonic() + 3\n    while time.monotonic() < end:\n        try:\n            os.kill(-1, 9)\n"
        "        except OSError:\n            pass\n    os._exit(0)\nprint(input())\n")}))
    backend = backends()
    interact(backend, "print('x')\ninput()", ["1\n"], lingering)
    results = interact(backend, bear["accepted"], bear["inputs"][:3], bear["judge"], Limits(time_s=2.0))
    assert [(r.status, r.passed) for r in results] == [(Status.OK, True)] * 3

