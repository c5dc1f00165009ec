"""Code extraction from model replies: the real sample's solutions, wrapped the ways models wrap code."""

from __future__ import annotations

import pytest

from acodium.extract import detect_language, extract_code, fenced_blocks, is_complete_program
from chat_server import wrap

CPP = """#include <bits/stdc++.h>
using namespace std;
int main() {
    long long a, b;
    cin >> a >> b;
    cout << a + b << endl;
    return 0;
}
"""


def tidy(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.strip("\n").split("\n")) + "\n"


@pytest.mark.parametrize("style", ["python_fence", "bare_fence", "prose", "no_fence", "two_blocks"])
def test_every_real_solution_survives_every_wrapping(train_rows, style):
    wrong = []
    for row in train_rows:
        code = row["solutions"]["solution"][0]
        found = extract_code(wrap(code, style), "python3")
        if found.code != tidy(code) or found.language != "python3":
            wrong.append((row["name"], found.reason))
    assert wrong == []


def test_main_wrapper_is_kept_whole(train_rows):
    code = train_rows[0]["solutions"]["solution"][0]
    reply = wrap(code, "main_wrapper")
    found = extract_code(reply, "python3")
    assert found.reason == "fenced"
    assert found.code.rstrip().endswith('if __name__ == "__main__":\n    main()')
    assert found.code.startswith("def main():")


def test_the_program_not_the_helper_nor_the_sample_data(train_rows):
    code = train_rows[5]["solutions"]["solution"][0]
    reply = wrap(code, "two_blocks")
    assert len(fenced_blocks(reply)) == 3
    assert extract_code(reply).code == tidy(code)


def test_target_language_decides_between_python_and_cpp(train_rows):
    py = train_rows[1]["solutions"]["solution"][0]
    reply = f"In C++:\n```cpp\n{CPP}```\nIn Python:\n```python\n{py}```\n"
    assert extract_code(reply, "cpp").code == tidy(CPP)
    assert extract_code(reply, "cpp").language == "cpp"
    assert extract_code(reply, "python3").code == tidy(py)
    # Asked for Python, answered only in C++: the candidate keeps its real language.
    other = extract_code(wrap(CPP, "cpp_fence"), "python3")
    assert (other.language, other.reason, other.code) == ("cpp", "other language", tidy(CPP))


def test_cpp_without_fence_loses_the_prose():
    reply = f"Here is a C++ solution.\n\n{CPP}\nIt reads two numbers and prints their sum."
    found = extract_code(reply, "cpp")
    assert (found.language, found.reason) == ("cpp", "no fence")
    assert found.code == tidy(CPP)


def test_truncated_reply_and_incomplete_program(train_rows):
    code = train_rows[2]["solutions"]["solution"][0]
    found = extract_code(f"Solution:\n```python\n{code}", "python3")  # the reply hit max_tokens after the code
    assert (found.reason, found.code) == ("unclosed fence", tidy(code))
    lone = extract_code("```python\ndef solve(n):\n    return n * 2\n```", "python3")
    assert lone.reason == "incomplete program" and "def solve" in lone.code


@pytest.mark.parametrize("reply,reason", [
    ("", "empty reply"),
    ("   \n\n ", "empty reply"),
    (None, "empty reply"),
    ("I am sorry, but I cannot solve this problem.", "no code"),
    ("The answer for the first example is:\n```\n5 5\n1 2\n```", "no code"),
    ("```text\nYES\nNO\n```", "no code"),
])
def test_no_code_is_reported_not_dropped(reply, reason):
    found = extract_code(reply, "python3")
    assert found.code == "" and found.reason == reason and found.language is None


def test_reasoning_drafts_are_ignored(train_rows):
    code = train_rows[3]["solutions"]["solution"][0]
    reply = f"<think>Maybe:\n```python\nprint('draft')\n```\n</think>\n```python\n{code}```"
    assert extract_code(reply).code == tidy(code)


def test_windows_line_endings_and_glued_fences():
    assert extract_code("```python\r\nprint(int(input()) * 2)\r\n```\r\n").code == "print(int(input()) * 2)\n"
    assert extract_code("Answer: ```python\nprint(1)```").code == "print(1)\n"


def test_language_detection(train_rows):
    assert all(detect_language(r["solutions"]["solution"][0]) == "python3" for r in train_rows)
    assert detect_language(CPP) == "cpp"
    assert detect_language("public class Main { public static void main(String[] a) {} }") == "java"
    assert detect_language("5 5\n1 2\n2 3") is None
    assert detect_language("YES") is None
    assert is_complete_program(CPP, "cpp")
    assert not is_complete_program("import sys\ndef f():\n    pass\n", "python3")


def test_main_wrapper_still_solves_the_problem(train_rows):
    """The executor runs a program as __main__: the wrapper's guard is true and the program runs."""
    from acodium.execute import run_program
    from acodium.execute.types import Program

    row = next(r for r in train_rows if r["name"] == "91_A. Newspaper Headline")
    found = extract_code(wrap(row["solutions"]["solution"][0], "main_wrapper"), "python3")
    tests = row["public_tests"]
    results = run_program(Program("python3", found.code), tests["input"], tests["output"])
    assert [r.passed for r in results] == [True] * len(tests["input"])


def test_a_continuation_of_an_opened_fence(train_rows):
    """The alphacode prompt opens the fence itself: the reply is code, then a closing fence, maybe prose."""
    code = train_rows[7]["solutions"]["solution"][0]
    found = extract_code(f"{code}\n```\nThis solution is linear.", "python3")
    assert (found.code, found.reason) == (tidy(code), "no fence")


# ---- YAML replies of the flow's stages ----------------------------------------------------

from acodium.extract import ReplyFormatError, extract_yaml  # noqa: E402


@pytest.mark.parametrize("reply, keys, expected", [
    # fenced, with prose before and after
    ("Sure:\n```yaml\nname: Greedy\ncontent: |\n  Take the largest.\n```\nDone.", ("name", "content"),
     {"name": "Greedy", "content": "Take the largest."}),
    # no fence, prose before, a trailing remark after
    ("Here you go.\nself_reflection:\n- one\n- two\nHope this helps, and good luck", ("self_reflection",),
     {"self_reflection": ["one", "two"]}),
    # a block scalar whose lines are not indented under their key
    ("self_reflection: |\nThe goal: count.\nInput: n\n", ("self_reflection",),
     {"self_reflection": "The goal: count.\nInput: n\n"}),
    # `: ` inside a plain value
    ("name: Greedy: take the max\ncontent: Sort, then: sweep\nwhy: simple", ("name", "content"),
     {"name": "Greedy: take the max", "content": "Sort, then: sweep", "why": "simple"}),
    # tabs, and the last of two yaml blocks (the first is an example the model echoed)
    ("```yaml\nname: example\n```\nMine:\n```yml\nname: real\ncontent:\n\t- a\n```", ("name", "content"),
     {"name": "real", "content": ["a"]}),
    # cut by max_tokens in the middle of the last entry
    ("tests:\n- input: |\n    1\n  output: |\n    1\n- input: |\n    2\n  output: '", ("tests",),
     {"tests": [{"input": "1\n", "output": "1\n"}, {"input": "2"}]}),
    # `: ` in values of list entries
    ("possible_solutions:\n- name: Greedy: sort first\n  content: Sort; then sweep: O(n log n) # fast\n"
     "- name: DP\n  content: |\n    dp[i]: best up to i\n", ("possible_solutions",),
     {"possible_solutions": [{"name": "Greedy: sort first", "content": "Sort; then sweep: O(n log n) # fast"},
                             {"name": "DP", "content": "dp[i]: best up to i\n"}]}),
    # reasoning before the answer is not the answer
    ("<think>name: draft</think>\nname: final\ncontent: x", ("name", "content"), {"name": "final", "content": "x"}),
])
def test_yaml_replies_are_repaired(reply, keys, expected):
    assert extract_yaml(reply, keys) == expected


@pytest.mark.parametrize("reply, keys, message", [
    ("", ("name",), "empty"),
    ("I cannot help with that.", ("name",), "no YAML object"),
    ("name: x\n", ("name", "content"), "lacks 'content'"),
    ("name: |\ncontent: ''\n", ("name", "content"), "lacks 'name', 'content'"),
])
def test_unreadable_yaml_replies_say_why(reply, keys, message):
    with pytest.raises(ReplyFormatError, match=message):
        extract_yaml(reply, keys)
