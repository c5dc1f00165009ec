"""The built-in checkers (acodium.execute.checkers): each rule on hand-made cases, parsing, the per-problem
choice, and a real sample problem whose float answers `tokens` misjudges and `float_rel` does not."""

from __future__ import annotations

import math

import pytest

from acodium.errors import UserError
from acodium.execute import Execution, Job, Limits, Program, check_output, run_batch
from acodium.execute.checkers import (BUILTINS, TOKENS, Checker, checker_for_problem, double_compare,
                                      parse_checker)


def judge(spec: str, actual: str, expected: str) -> tuple[bool, str]:
    return parse_checker(spec).judge(actual, expected)


# ---- tokens: today's check_output, unchanged ---------------------------------------------

@pytest.mark.parametrize("actual, expected", [
    ("1 2 3\n", "1 2 3"), ("YES", "yes"), ("3.000001", "3"), ("1\n\n2", "1 2"), ("0.5", "0.500009"),
    ("1 2", "1 2 3"), ("1.0001", "1"), ("abc", "abd"), ("", ""), ("", "0"), ("nan", "nan"),
    ("1000000000000000000", "1000000000000000001"),
])
def test_tokens_gives_check_outputs_verdicts(actual, expected):
    passed, message = judge("tokens", actual, expected)
    assert passed == check_output(actual, expected)
    assert (message == "") == passed


def test_tokens_messages_say_where_an_output_went_wrong():
    assert judge("tokens", "1 2 4", "1 2 3") == (False, "token 3: expected 3, got 4")
    assert judge("tokens", "1 2", "1 2 3") == (False, "expected 3 tokens, got 2")
    assert judge("tokens", "", "7") == (False, "expected 1 token, got 0")
    long = "x" * 100
    assert judge("tokens", long, "y")[1] == f"token 1: expected y, got {'x' * 40}..."


# ---- exact -------------------------------------------------------------------------------

@pytest.mark.parametrize("actual, expected, passed", [
    ("a b\nc\n", "a b\nc", True),
    ("a b  \t\nc\r\n\n\n", "a b\nc\n", True),          # trailing spaces, CRLF, trailing empty lines
    ("a  b\nc", "a b\nc", False),                      # inside a line, spacing counts
    ("A b\nc", "a b\nc", False),                       # case counts
    ("a b\n\nc", "a b\nc", False),                     # an empty line inside counts
    (" a b\nc", "a b\nc", False),                      # leading space counts
    ("", "\n\n", True),
])
def test_exact(actual, expected, passed):
    assert judge("exact", actual, expected)[0] is passed


def test_exact_messages():
    assert judge("exact", "a\nb b\n", "a\nb\n") == (False, "line 2: expected b, got b b")
    assert judge("exact", "a\n", "a\nb\n") == (False, "expected 2 lines, got 1")


# ---- float_abs / float_rel: testlib's doubleCompare ---------------------------------------

@pytest.mark.parametrize("spec, actual, expected, passed", [
    ("float_abs:1e-6", "0.3333333", "0.333333333", True),
    ("float_abs:1e-6", "0.333", "0.333333333", False),
    ("float_abs:1e-6", "1.000001", "1", True),                     # exactly EPS (testlib's 1e-15 slack)
    ("float_abs:1e-6", "1.0000011", "1", False),
    ("float_abs:1e-6", "282842.71", "282842.705403551", False),   # relative 1.6e-8 is not enough here
    ("float_rel:1e-6", "282842.71", "282842.705403551", True),
    ("float_rel:1e-6", "282843", "282842.705403551", False),      # relative 1.04e-6
    ("float_rel:1e-6", "1e9", "1000000000.0000000000", True),     # exponent notation is a number
    ("float_rel:1e-6", "-2.5e-9", "0", True),                     # near zero the absolute error decides
    ("float_rel:1e-6", "1000000001", "1000000000", True),         # integers are numbers too (as in testlib)
    ("tokens", "1000000001", "1000000000", False),
    ("float_abs:1e-2", "YES 1.001", "yes 1", True),               # other tokens as tokens: case-insensitive
    ("float_abs:1e-2", "NO 1.001", "yes 1", False),
    ("float_abs:1e-2", "1.001", "1 2", False),                    # counts must agree
    ("float_abs:1e-6", "nan", "nan", True),
    ("float_abs:1e-6", "1", "nan", False),
    ("float_abs:1e-6", "inf", "inf", True),
    ("float_abs:1e-6", "-inf", "inf", False),
    ("float_abs:1e-6", "inf", "1e300", False),
    ("float_abs:1e-6", "abc", "1", False),
])
def test_float_rules(spec, actual, expected, passed):
    assert judge(spec, actual, expected)[0] is passed


def test_float_message_names_the_token():
    assert judge("float_abs:1e-6", "1 1.5 1.6", "1 1.5 1.5") == (False, "token 3: expected 1.5, got 1.6")


def test_double_compare_is_testlibs():
    assert double_compare(100.0, 100.00009, 1e-6, relative=True)
    assert not double_compare(100.0, 100.0002, 1e-6, relative=True)
    assert not double_compare(100.0, 100.0001, 1e-6, relative=False)
    assert double_compare(-100.0, -100.00009, 1e-6, relative=True)   # negative expected: bounds swap
    assert double_compare(math.nan, math.nan, 1e-6, relative=False)
    assert not double_compare(math.inf, math.nan, 1e-6, relative=True)


# ---- unordered -----------------------------------------------------------------------------

@pytest.mark.parametrize("spec, actual, expected, passed", [
    ("unordered_tokens", "3 1 2", "1 2 3", True),
    ("unordered_tokens", "3\n1\n2\n", "1 2 3", True),
    ("unordered_tokens", "3 1 1", "1 3 3", False),                # a multiset, not a set
    ("unordered_tokens", "1 2", "1 2 3", False),
    ("unordered_tokens", "1.50 2", "1.5 2", False),               # numbers as strings
    ("unordered_tokens", "B a", "A b", True),                     # lowercased, as tokens
    ("unordered_lines", "1 2\n3 4\n", "3 4\n1 2", True),
    ("unordered_lines", "1  2\n\n3 4", "3 4\n1 2\n", True),       # spacing in a line and empty lines do not count
    ("unordered_lines", "2 1\n3 4", "1 2\n3 4", False),           # order inside a line does
    ("unordered_lines", "1 2 3 4", "1 2\n3 4", False),            # line breaks do
    ("unordered_lines", "1 2\n1 2", "1 2\n3 4", False),
])
def test_unordered_rules(spec, actual, expected, passed):
    assert judge(spec, actual, expected)[0] is passed


def test_unordered_messages():
    assert judge("unordered_tokens", "1 1", "1 2") == (False, "expected token 2 is missing")
    assert judge("unordered_lines", "1 2\n1 2", "1 2\n3 4") == (False, "expected line '3 4' is missing")
    assert judge("unordered_lines", "1 2", "1 2\n3 4") == (False, "expected 2 non-empty lines, got 1")


# ---- yes_no ---------------------------------------------------------------------------------

@pytest.mark.parametrize("actual, expected, passed", [
    ("YES", "yes", True), ("yEs\nNo", "YES\nNO", True), ("NO", "YES", False), ("YES 3", "yes 3", True),
    ("Y", "YES", False), ("YES YES", "YES", False),
])
def test_yes_no(actual, expected, passed):
    assert judge("yes_no", actual, expected)[0] is passed
    assert check_output(actual, expected) is passed  # the token compare already ignores case


def test_yes_no_messages():
    assert judge("yes_no", "Y", "YES") == (False, "token 1: expected YES, got y, not YES or NO")
    assert judge("yes_no", "yes no", "YES YES") == (False, "token 2: expected YES, got no")
    assert judge("yes_no", "yes 4", "YES 3") == (False, "token 2: expected 3, got 4")


# ---- parsing and choosing ------------------------------------------------------------------

def test_parse_round_trips_every_builtin():
    for name in BUILTINS:
        spec = f"{name}:1e-06" if name.startswith("float") else name
        checker = parse_checker(spec)
        assert parse_checker(checker.spec) == checker and str(checker) == checker.spec
    assert parse_checker(None) is TOKENS and parse_checker("  ") is TOKENS
    assert parse_checker(" float_rel:0.001 ") == Checker("float_rel", 0.001)


@pytest.mark.parametrize("text, words", [
    ("token", "Unknown checker 'token': choose one of tokens, exact, float_abs:EPS"),
    ("float_abs", "needs a tolerance EPS"),
    ("float_abs:", "needs a tolerance EPS"),
    ("float_rel:abc", "not 'float_rel:abc'"),
    ("float_rel:nan", "0 < EPS < 1"),
    ("float_rel:-1e-6", "0 < EPS < 1"),
    ("float_abs:2", "0 < EPS < 1"),
    ("exact:1e-6", "takes no parameter"),
    ({"language": "java", "code": "class A {}"}, "must be in cpp or python3"),
    ("checker.java", "or give a .cpp or .py file"),
    ("missing_checker.cpp", "cannot be read"),
    (3, "not int 3"),
])
def test_bad_checkers_are_one_sentence(text, words):
    with pytest.raises(UserError) as e:
        parse_checker(text)
    message = str(e.value)
    assert words in message and message.count(". ") == 0 and message.endswith(".")


def test_checker_value_is_checked_too():
    with pytest.raises(UserError, match="Unknown checker"):
        Checker("nope")
    with pytest.raises(UserError, match="takes no tolerance"):
        Checker("exact", 0.1)
    with pytest.raises(UserError, match="needs a tolerance"):
        Checker("float_abs")


def test_a_problems_checker_and_the_override():
    row = {"name": "p", "checker": "float_rel:1e-6"}
    assert checker_for_problem(row) == Checker("float_rel", 1e-6)
    assert checker_for_problem(row, "tokens") is TOKENS
    for missing in ({"name": "p"}, {"name": "p", "checker": None}, {"name": "p", "checker": ""},
                    {"name": "p", "checker": float("nan")}):
        assert checker_for_problem(missing) is TOKENS
    assert Execution().checker_for(row) == Checker("float_rel", 1e-6)
    assert Execution(checker="exact").checker_for(row) == Checker("exact")
    with pytest.raises(UserError, match=r"^The field 'checker' of 'p' names no built-in checker \('nope'\); choose among tokens, exact, float_abs:EPS"):
        checker_for_problem({"name": "p", "checker": "nope"})


def test_a_program_checker_needs_its_testlib_unless_overridden(tmp_path, monkeypatch):
    monkeypatch.delenv("ACODIUM_TESTLIB_DIR", raising=False)
    row = {"name": "p", "checker": {"language": "cpp", "code": '#include "testlib.h"\nint main() {}'}}
    with pytest.raises(UserError, match=r"^Problem 'p': The checker includes testlib.h: give its folder with --testlib_dir"):
        checker_for_problem(row)
    assert checker_for_problem(row, "tokens") is TOKENS
    (tmp_path / "testlib.h").write_text("// the header of this test\n")
    by_dir = checker_for_problem(row, testlib_dir=tmp_path)
    assert by_dir.checker.includes == (("testlib.h", "// the header of this test\n"),) and by_dir.interactor is None
    monkeypatch.setenv("ACODIUM_TESTLIB_DIR", str(tmp_path))
    assert checker_for_problem(row) == by_dir  # the environment names the same folder: the same judge
    (tmp_path / "testlib.h").write_text("// another header\n")
    assert checker_for_problem(row).spec != by_dir.spec  # another header is another judge (and cache key)
    with pytest.raises(UserError, match="should be a built-in name or a program"):
        checker_for_problem({"name": "p", "checker": 5})


def test_execution_keeps_the_override_as_its_text():
    assert Execution(checker="float_rel:0.000001").checker == "float_rel:1e-06"
    assert Execution().checker is None
    with pytest.raises(UserError, match="Unknown checker"):
        Execution(checker="floats")


def test_a_job_parses_its_checker():
    job = Job(Program("python3", "print(1)"), ["\n"], ["1"], checker="unordered_tokens")
    assert job.checker == Checker("unordered_tokens")
    assert Job(Program("python3", "print(1)"), ["\n"]).checker is TOKENS
    with pytest.raises(UserError, match="Unknown checker"):
        Job(Program("python3", "print(1)"), ["\n"], checker="x")


# ---- a real problem: float answers "with absolute or relative error at most 1e-6" -----------

def test_float_rel_accepts_a_real_solution_tokens_rejects(train_rows):
    """598_F (Cut Length) accepts absolute or relative error 1e-6. Its accepted Python solution answers
    282842.7052553788 to private test 11, stored as 282842.705403551...: 1.5e-4 off, 5e-10 relative."""
    row = next(r for r in train_rows if r["name"].startswith("598_F"))
    code = next(c for c, lang in zip(row["solutions"]["solution"], row["solutions"]["language"]) if lang == 3)
    tests = row["private_tests"]
    program = Program("python3", code)

    def verdicts(checker):
        job = Job(program, tests["input"], tests["output"], Limits(time_s=10), checker=checker)
        return run_batch([job], progress=False)[0]

    by_tokens = verdicts(Execution().checker_for(row))
    by_float = verdicts(Execution(checker="float_rel:1e-6").checker_for(row))
    assert [i for i, r in enumerate(by_tokens) if not r.passed] == [11]
    assert by_tokens[11].checker_message == "token 1: expected 282842.705403551284689456, got 282842.7052553788"
    assert all(r.passed and r.checker_message == "" for r in by_float) and len(by_float) == len(tests["input"])
    assert not all(r.passed for r in verdicts("float_abs:1e-6"))  # the absolute error alone is too big
    # the problem's own column decides when there is no override
    assert all(r.passed for r in verdicts(checker_for_problem({**row, "checker": "float_rel:1e-6"})))


def test_tokens_agrees_with_check_output_on_random_pairs():
    import random

    rng = random.Random(16)
    pool = ["1", "01", "-0", "3.0", "3.000001", "2.99999", "nan", "inf", "-inf", "YES", "yes", "1e5", "100000",
            "0x10", "16", "a", "\f5", "5"]
    for _ in range(3000):
        a = " ".join(rng.choice(pool) for _ in range(rng.randint(0, 3)))
        b = " ".join(rng.choice(pool) for _ in range(rng.randint(0, 3)))
        for spec in ("tokens", "yes_no"):
            assert judge(spec, a, b)[0] == check_output(a, b), (spec, a, b)


def test_unordered_lines_form_feed_is_a_token():
    assert judge("unordered_lines", "x\n\f", "x")[0] is False
    assert judge("unordered_lines", "x \t\n\n", "x")[0] is True


def test_identical_jobs_with_other_checkers_run_once_and_are_judged_each_by_its_own(tmp_path):
    program = Program("python3", "x = int(input())\nprint(x + 0.001)")
    inputs, expected = ["1\n", "2\n", "3\n"], ["1", "2", "3"]
    jobs = [Job(program, inputs, expected, Limits(time_s=5), checker=spec)
            for spec in ("tokens", "float_abs:1e-2", "float_abs:1e-4")]
    stopping = [Job(program, inputs, expected, Limits(time_s=5), stop_on_first_failure=True, checker=spec)
                for spec in ("tokens", "float_abs:1e-2")]
    results = run_batch(jobs + stopping, cache_dir=tmp_path, workers=1, progress=False)
    assert [[r.passed for r in res] for res in results] == [
        [False] * 3, [True] * 3, [False] * 3, [False], [True] * 3]
    assert results[0][0].checker_message == "token 1: expected 1, got 1.001"
    # the cache holds raw runs: served from it, another checker judges them afresh
    again = run_batch([Job(program, inputs, expected, Limits(time_s=5), checker="float_rel:1e-2")],
                      cache_dir=tmp_path, progress=False)[0]
    assert all(r.cached and r.passed for r in again)


def test_unordered_tokens_accepts_a_real_solution_printing_another_order(train_rows):
    """576_A (Vasya and Petya's Game): the minimum set of questions is unique (the prime powers up to n), its
    order is free ("print any of them"). The accepted Python solution prints them ascending, the stored
    answers do not: the token compare rejects it, the multiset of tokens is the problem's real rule."""
    row = next(r for r in train_rows if r["name"].startswith("576_A"))
    code = next(c for c, lang in zip(row["solutions"]["solution"], row["solutions"]["language"]) if lang == 3)
    inputs = row["public_tests"]["input"] + row["private_tests"]["input"]
    expected = row["public_tests"]["output"] + row["private_tests"]["output"]

    def verdicts(checker):
        return run_batch([Job(Program("python3", code), inputs, expected, Limits(time_s=10), checker=checker)],
                         progress=False)[0]

    by_tokens = verdicts("tokens")
    assert not by_tokens[0].passed and by_tokens[0].stdout == "3\n2 3 4\n"
    assert by_tokens[0].checker_message == "token 3: expected 4, got 3"
    assert all(r.passed for r in verdicts("unordered_tokens")) and len(by_tokens) == 25
    assert not all(r.passed for r in verdicts("unordered_lines"))  # the numbers share one line: order counts
