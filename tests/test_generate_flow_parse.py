"""The flow's reply parsers on hand-written replies, well-formed and not, the ways models write them.

A parser either returns what the next stage needs or raises ReplyFormatError with
the clause the re-ask shows the model; nothing in between (a half-read reply that
would send the run on with an empty plan).
"""

from __future__ import annotations

import pytest

from acodium.extract import ReplyFormatError
from acodium.generate.flow.parse import (code_parser, parse_choice, parse_reflection, parse_solutions,
                                         parse_test_explanations, parse_tests)


@pytest.mark.parametrize("reply, bullets", [
    ("self_reflection:\n- The goal: count phone numbers.\n- Input: n, then n digits.\n",
     ["The goal: count phone numbers.", "Input: n, then n digits."]),
    # one text where a list was asked: one bullet
    ("self_reflection: The input is one line.", ["The input is one line."]),
    # a mapping where a list was asked: its values, in order
    ("self_reflection:\n  goal: count\n  input: two lines\n", ["count", "two lines"]),
    # fenced, with prose around it
    ("Sure!\n```yaml\nself_reflection:\n- Read n.\n```\nAnything else?", ["Read n."]),
    # a reasoning model's thinking is not the answer
    ("<think>self_reflection: wrong</think>\nself_reflection:\n- Right.\n", ["Right."]),
])
def test_reflection_takes_bullets_in_any_shape(reply, bullets):
    assert parse_reflection(reply) == bullets


@pytest.mark.parametrize("reply, problem", [
    ("", "the reply is empty"),
    ("I would rather explain in prose: the goal is to count.", "no YAML object"),
    ("self_reflection:\n- ''\n- ''\n", "'self_reflection' holds no text"),
    ("reflection:\n- wrong key\n", "no YAML object"),
])
def test_reflection_refuses_replies_without_bullets(reply, problem):
    with pytest.raises(ReplyFormatError, match=problem):
        parse_reflection(reply)


def test_test_explanations_take_the_explanation_or_the_whole_entry():
    reply = ("tests_explanations:\n- input: '1'\n  output: '2'\n  explanation: because one doubled is two\n"
             "- plain text for the second example\n- input: '3'\n  output: '6'\n")
    assert parse_test_explanations(reply) == [
        "because one doubled is two", "plain text for the second example", "input: 3; output: 6"]
    with pytest.raises(ReplyFormatError, match="holds no explanation"):
        parse_test_explanations("tests_explanations:\n- explanation: ''\n")


def test_solutions_skip_entries_without_content_and_read_brute_force_three_ways():
    reply = """possible_solutions:
- name: Count
  content: min(n // 11, number of 8s)
  why_it_works: each number needs one 8 and 11 cards
  complexity: O(n)
- name: Empty
  content: ''
- content: Try every split of the cards.
  is_brute_force: 'yes'
- name: Labelled
  content: Enumerate subsets.
  labels: [brute force, slow]
- a bare sentence is not an approach
"""
    solutions = parse_solutions(reply)
    assert [s["name"] for s in solutions] == ["Count", "solution 2", "Labelled"]
    assert [s["is_brute_force"] for s in solutions] == [False, True, True]
    assert solutions[0]["complexity"] == "O(n)" and solutions[0]["why_it_works"].startswith("each number")
    assert solutions[1]["why_it_works"] == "" and solutions[1]["complexity"] == ""
    with pytest.raises(ReplyFormatError, match="no entry of 'possible_solutions' has a 'content'"):
        parse_solutions("possible_solutions:\n- name: A\n- name: B\n")
    with pytest.raises(ReplyFormatError, match="non-empty list"):
        parse_solutions("possible_solutions: 3\n")


def test_choice_needs_a_content():
    assert parse_choice("name: Count\ncontent: min of two counts\nwhy: simplest\n") == {
        "name": "Count", "content": "min of two counts", "why": "simplest"}
    assert parse_choice("content: min of two counts\nname: Count\n")["why"] == ""
    for reply in ("name: Count\ncontent:\n", "name: Count\nwhy: simplest\n"):
        with pytest.raises(ReplyFormatError, match="'content'"):
            parse_choice(reply)


def test_tests_become_program_text_and_half_tests_are_dropped():
    reply = """tests:
- input:
  - [11, 2]
  - 88888888888
  output: 1
  explanation: lists are lines, numbers are text
- input: |
    5
    88888
  output: |
    0
- input: '1'
- input: '   '
  output: '1'
- output: '7'
"""
    tests = parse_tests(reply)
    assert tests == [
        {"input": "11 2\n88888888888\n", "output": "1\n", "explanation": "lists are lines, numbers are text"},
        {"input": "5\n88888\n", "output": "0\n", "explanation": ""},
    ]
    with pytest.raises(ReplyFormatError, match="both an 'input' and an 'output'"):
        parse_tests("tests:\n- input: '1'\n- output: '2'\n")
    with pytest.raises(ReplyFormatError):
        parse_tests("tests: []\n")


def test_a_test_cut_off_by_max_tokens_leaves_the_complete_ones():
    reply = "tests:\n- input: |\n    1\n  output: |\n    1\n- input: |\n    2\n  outp"
    assert [t["input"] for t in parse_tests(reply)] == ["1\n"]


PROGRAM = "n = int(input())\nprint(n * 2)\n"


@pytest.mark.parametrize("reply, analysis", [
    (f"what_went_wrong: |\n  It printed n, not 2n.\nfixed_approach: double it\n\n```python\n{PROGRAM}```",
     "It printed n, not 2n."),
    (f"```yaml\nwhat_went_wrong: off by one\n```\nThe program:\n```python\n{PROGRAM}```", "off by one"),
    (f"```python\n{PROGRAM}```", ""),  # no analysis: the program is what counts
    (f"what_went_wrong:\n```python\n{PROGRAM}```", ""),  # an empty analysis is no analysis
    # a flow-style list left open is repaired into text, not lost
    (f"what_went_wrong: [unclosed\n```python\n{PROGRAM}```", "[unclosed"),
])
def test_code_parser_takes_the_program_and_the_analysis_when_there_is_one(reply, analysis):
    assert code_parser("python3")(reply) == (PROGRAM, "python3", analysis)


def test_code_parser_keeps_the_language_the_model_answered_in():
    cpp = '#include <cstdio>\nint main() { puts("1"); }\n'
    assert code_parser("python3")(f"```cpp\n{cpp}```") == (cpp, "cpp", "")


@pytest.mark.parametrize("language, reply", [
    ("python3", "I cannot write this program."),
    ("python3", ""),
    ("cpp", "```python\ndef helper(x):\n    return x\n```"),  # a lone function, and in another language
])
def test_code_parser_refuses_replies_without_a_program(language, reply):
    with pytest.raises(ReplyFormatError, match=f"no complete {language} program"):
        code_parser(language)(reply)
