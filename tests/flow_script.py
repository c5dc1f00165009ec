"""What the flow tests share: a real problem of the sample, programs for it, and a scripted model.

The problem is 1060_A. Phone Numbers (the answer is min(n // 11, number of 8s)); the
scripted model (`full_script`) makes the mistakes the flow exists for: unreadable
YAML, a first program failing a public test, a "fix" that breaks a test already
passed, a model test whose expected output is wrong.
"""

from __future__ import annotations

import pytest

from acodium.execute import Execution, Program, run_program
from acodium.generate import FlowSource
from chat_server import FlowScript, wrap

PROBLEM = "1060_A. Phone Numbers"
CORRECT = "n = int(input())\ns = input()\nprint(min(n // 11, s.count('8')))\n"
COUNTS_EIGHTS = "n = int(input())\ns = input()\nprint(s.count('8'))\n"  # fails public test 0 (4, not 2)
COUNTS_CARDS = "n = int(input())\ns = input()\nprint(n // 11)\n"  # passes test 0, breaks test 2 (1, not 0)
MODEL_TESTS = """Here are the tests:

```yaml
tests:
- input: |
    11
    88888888888
  output: |
    1
  explanation: |
    Eleven eights make one phone number.
- input: |
    22
    8888888888888888888888
  output: |
    22
  explanation: |
    Every card is an eight.
- input: |
    5
    88888
  output: |
    0
  explanation: Too few cards: no number.
```
"""


def fix_reply(code: str, why: str = "The count was wrong.") -> str:
    return f"what_went_wrong: |\n  {why}\nfixed_approach: |\n  Count both limits.\n\n" + wrap(code, "python_fence")


def flow_source(server, tmp_path, **options):
    options.setdefault("cache_path", tmp_path / "cache" / "llm.sqlite")
    options.setdefault("max_retries", 0)
    options.setdefault("timeout", 10.0)
    options.setdefault("concurrency", 1)
    options.setdefault("execution", Execution(cache_dir=tmp_path / "exec"))
    return FlowSource("test-model", base_url=server.url, api_key="sk-test", prices={"test-model": (1.0, 2.0)},
                      **options)


def full_script() -> FlowScript:
    return FlowScript(
        reflect=[
            "I cannot answer that in YAML, sorry.",  # unreadable: re-asked
            "Sure! Here is my reflection:\n```yaml\nself_reflection:\n- A phone number: 11 cards, the first an 8.\n"
            "- Answer: min(n // 11, count of 8s).\n```\nLet me know if you need more.",
        ],
        # wrong indentation under a block scalar, and `: ` inside plain text: repaired, not re-asked
        explain_tests="tests_explanations: |\nExample 1: 22 cards, four 8s: two numbers.\nNote: all examples agree.\n",
        model_tests=MODEL_TESTS,
        initial_code=[wrap(COUNTS_EIGHTS, "prose")],
        fix=[
            fix_reply(COUNTS_CARDS, "Only the number of cards limits it."),  # breaks public test 2: reverted
            fix_reply(CORRECT),  # fixes public test 0: kept
            fix_reply(COUNTS_EIGHTS, "The model test says 22."),  # passes the wrong model test, breaks anchors
        ],
    )


@pytest.fixture
def problem(train_rows):
    row = next(r for r in train_rows if r["name"] == PROBLEM)
    assert row["public_tests"]["output"] == ["2", "1", "0", "0"]
    return row


def private_pass(problem, code, language="python3") -> bool:
    tests = problem["private_tests"]
    results = run_program(Program(language, code), tests["input"], tests["output"])
    return all(r.passed for r in results)
