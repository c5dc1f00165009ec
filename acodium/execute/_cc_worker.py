"""Side process that drives DeepMind's code_contests tester (Python 3.9 only).

The PyPI package code-contests-tester ships a compiled module built for
CPython 3.9, so `acodium.execute.code_contests` (Python 3.11) starts this file
under the Python 3.9 environment `.cc-venv` and talks to it over pipes, one
JSON object a line:

  -> {"op": "init", "python": "/usr/bin/python3.11", "libs": ["/usr/lib/python3.11"]}
  <- {"event": "ready", "tester": "0.1.6", "pid": 1234}
  -> {"op": "test", "code": "...", "inputs": ["..."], "ask": false, "expected": ["..."] or absent}
  <- {"event": "test", "index": 0, "stdout": "...", "time_s": 0.03, "tester_passed": true}
     one per test, as it ends; "tester_passed" only when "expected" was sent
     (with "ask": true the worker then waits for {"continue": true|false}:
      false makes the tester stop, i.e. stop_on_first_failure)
  <- {"event": "done", "compile": {...}, "results": [{...}, ...]}  or  {"event": "error", "message": "..."}
  -> {"op": "compare", "pairs": [["output", "expected"], ...]}
  <- {"event": "compare", "matches": [true, ...]}

The tester is given the test indices as "expected outputs" and a compare
function that reports each test's stdout here. Who judges is the main
process's choice: acodium's own `check_output` there, or (when it sends
"expected") the tester's compiled `OutputsMatch`, called here on the same
stdout. The Python binding has no default compare (a callback is required), so
`OutputsMatch` is reached through ctypes: the extension exports it as a C++
symbol taking two std::string_view by value. Tests run one at a time
(num_threads=1), which is what makes the per-test wall time measurable: the
tester's own duration field cannot be read from Python (absl::Duration has no
binding).

stdlib only, and Python 3.9 syntax: this file never imports acodium.
"""

import ctypes
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
# deepmind::code_contests::OutputsMatch(std::string_view output, std::string_view expected)
OUTPUTS_MATCH_SYMBOL = "_ZN8deepmind13code_contests12OutputsMatchESt17basic_string_viewIcSt11char_traitsIcEES4_"
# Pairs whose verdicts are known (docs/semantics.md's rule, the same for both judges): a wrong
# calling convention fails here, at start-up, instead of judging quietly wrong.
OUTPUTS_MATCH_SELF_CHECK = [("1 2\n", "1  2", True), ("YES", "yes", True), ("3", "3.000001", True),
                            ("1", "2", False), ("1 2", "1", False), ("a", "b", False)]


class StringView(ctypes.Structure):
    """libstdc++'s std::string_view (length, then pointer): 16 bytes, passed in two registers."""

    _fields_ = [("length", ctypes.c_size_t), ("data", ctypes.c_char_p)]


def load_outputs_match(module_file):
    """The tester's compiled OutputsMatch, as a function of two str.

    dlopen of the extension's own path returns the copy Python already loaded, so
    this is the very code the tester links against, not a second build.
    """
    function = getattr(ctypes.CDLL(module_file), OUTPUTS_MATCH_SYMBOL)
    function.argtypes = [StringView, StringView]
    function.restype = ctypes.c_bool

    def outputs_match(output, expected):
        a = output.encode("utf-8", "surrogatepass")
        b = expected.encode("utf-8", "surrogatepass")
        return bool(function(StringView(len(a), a), StringView(len(b), b)))

    for output, expected, verdict in OUTPUTS_MATCH_SELF_CHECK:
        if outputs_match(output, expected) != verdict:
            raise RuntimeError("OutputsMatch(%r, %r) is not %s: wrong calling convention?" % (output, expected, verdict))
    return outputs_match


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


def run_tests(tester, options_type, outputs_match, request):
    inputs = request["inputs"]
    expected = request.get("expected")
    ask = bool(request.get("ask"))
    options = options_type()
    options.num_threads = 1
    options.stop_on_first_failure = ask
    state = {"index": 0, "last": 0.0}

    def compare(stdout, marker):
        # Called by the tester's pool thread after each test, in order (num_threads=1).
        now = time.monotonic()
        index = int(marker)
        event = {"event": "test", "index": index, "stdout": stdout, "time_s": now - state["last"]}
        if expected is not None:
            event["tester_passed"] = outputs_match(stdout, expected[index])
        send(event)
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

    from code_contests_tester import Py3TesterSandboxer, TestOptions, py_tester_extention

    try:
        outputs_match, compare_error = load_outputs_match(py_tester_extention.__file__), None
    except (AttributeError, OSError, RuntimeError) as e:  # only judge="tester" needs it
        outputs_match, compare_error = None, "%s: %s" % (type(e).__name__, e)

    try:
        from importlib.metadata import version

        tester_version = version("code-contests-tester")
    except Exception:  # noqa: BLE001 - the version is informational
        tester_version = "unknown"

    init = receive()
    tester = Py3TesterSandboxer(init["python"], list(init["libs"]))
    send({"event": "ready", "tester": tester_version, "pid": os.getpid(), "python": sys.version.split()[0],
          "compare_error": compare_error})
    while True:
        request = receive()
        op = request.get("op")
        if op in ("test", "compare") and outputs_match is None and (op == "compare" or "expected" in request):
            send({"event": "error", "message": "the tester's OutputsMatch is not reachable: %s" % compare_error})
        elif op == "test":
            run_tests(tester, TestOptions, outputs_match, request)
        elif op == "compare":
            send({"event": "compare", "matches": [outputs_match(a, b) for a, b in request["pairs"]]})
        elif op == "exit":
            return
        else:
            send({"event": "error", "message": "unknown request %r" % request.get("op")})


if __name__ == "__main__":
    main()
