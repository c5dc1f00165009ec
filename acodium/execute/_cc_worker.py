"""Side process that drives DeepMind's code_contests tester (Python 3.9 only).

The PyPI package code-contests-tester ships a compiled module built for
CPython 3.9, so `acodium.execute.code_contests` (Python 3.11) starts this file
under the Python 3.9 environment `.cc-venv` and talks to it over pipes, one
JSON object a line:

  -> {"op": "init", "python": "/usr/bin/python3.11", "libs": ["/usr/lib/python3.11"]}
  <- {"event": "ready", "tester": "0.1.6", "pid": 1234}
  -> {"op": "test", "code": "...", "inputs": ["..."], "ask": false}
  <- {"event": "test", "index": 0, "stdout": "...", "time_s": 0.03}    one per test, as it ends
     (with "ask": true the worker then waits for {"continue": true|false}:
      false makes the tester stop, i.e. stop_on_first_failure)
  <- {"event": "done", "compile": {...}, "results": [{...}, ...]}  or  {"event": "error", "message": "..."}

The tester is given the test indices as "expected outputs" and a compare
function that reports each test's stdout here: the verdict itself is computed
by acodium's own `check_output` in the main process, so both backends judge
identically. Tests run one at a time (num_threads=1), which is what makes the
per-test wall time measurable: the tester's own duration field cannot be read
from Python (absl::Duration has no binding).

stdlib only, and Python 3.9 syntax: this file never imports acodium.
"""

import glob
import json
import os
import shutil
import sys
import time

PROTOCOL_OUT = None  # file object for replies (a private copy of fd 1)
PROTOCOL_IN = None  # file object for requests (a private copy of fd 0)
STDERR_TAIL = 8192
SANDBOX_RESULT_CHARS = 300


def send(message):
    PROTOCOL_OUT.write(json.dumps(message) + "\n")
    PROTOCOL_OUT.flush()


def receive():
    line = PROTOCOL_IN.readline()
    if not line:
        sys.exit(0)  # the main process went away
    return json.loads(line)


def safe_text(get):
    """A string field of a tester result; its bytes may not be UTF-8, which pybind11 refuses."""
    try:
        return get()
    except UnicodeDecodeError:
        return "<output is not valid UTF-8>"


def describe(result):
    return {
        "status": result.program_status.name,  # Unknown / Success / Failed / Timeout
        "stderr": safe_text(lambda: result.stderr)[-STDERR_TAIL:],
        # e.g. "OK - Exit code: 1", "SYSCALL VIOLATION - Violating Syscall [X86-64][435/...]",
        # "Process terminated with a SIGNAL - Signal: SIGKILL [9]"; the stack dump is dropped.
        "sandbox": safe_text(lambda: result.sandbox_result).split(" Stack:")[0][:SANDBOX_RESULT_CHARS],
    }


def remove_temp_dirs():
    """The tester leaves one /tmp/<ms>-<pid>-<rand> folder per call (TempPath never deletes)."""
    for path in glob.glob("/tmp/*-%d-*" % os.getpid()):
        shutil.rmtree(path, ignore_errors=True)


def run_tests(tester, options_type, request):
    inputs = request["inputs"]
    ask = bool(request.get("ask"))
    options = options_type()
    options.num_threads = 1
    options.stop_on_first_failure = ask
    state = {"index": 0, "last": 0.0}

    def compare(stdout, marker):
        # Called by the tester's pool thread after each test, in order (num_threads=1).
        now = time.monotonic()
        index = int(marker)
        send({"event": "test", "index": index, "stdout": stdout, "time_s": now - state["last"]})
        state["last"] = now
        if ask:
            return bool(receive().get("continue", True))
        return True

    state["last"] = time.monotonic()
    try:
        multi = tester.test(request["code"], inputs, options, [str(i) for i in range(len(inputs))], compare)
    except Exception as e:  # the tester's own failure (absl status), not the program's
        send({"event": "error", "message": "%s: %s" % (type(e).__name__, e)})
        return
    finally:
        remove_temp_dirs()
    send({
        "event": "done",
        "compile": describe(multi.compilation_result),
        "results": [describe(r) for r in multi.test_results],
    })


def main():
    global PROTOCOL_IN, PROTOCOL_OUT
    # The protocol moves off fds 0/1 (copies are close-on-exec), so neither the
    # tester's fork server nor its logging can write into it.
    PROTOCOL_IN = os.fdopen(os.dup(0), "r", encoding="utf-8")
    PROTOCOL_OUT = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)
    os.close(null)

    from code_contests_tester import Py3TesterSandboxer, TestOptions

    try:
        from importlib.metadata import version

        tester_version = version("code-contests-tester")
    except Exception:  # noqa: BLE001 - the version is informational
        tester_version = "unknown"

    init = receive()
    tester = Py3TesterSandboxer(init["python"], list(init["libs"]))
    send({"event": "ready", "tester": tester_version, "pid": os.getpid(), "python": sys.version.split()[0]})
    while True:
        request = receive()
        if request.get("op") == "test":
            run_tests(tester, TestOptions, request)
        elif request.get("op") == "exit":
            return
        else:
            send({"event": "error", "message": "unknown request %r" % request.get("op")})


if __name__ == "__main__":
    main()
