"""Readers of the flow's replies: each stage's YAML, and the program of a coding stage.

Models answer loosely (a mapping where a list was asked, a list where text was,
prose around the block), so each parser takes what it can and raises
`ReplyFormatError` with one clause saying what is missing; the run re-asks with
that clause. Pure functions of the reply text: testable without a model.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

from ...extract import ReplyFormatError, extract_code, extract_yaml


def _text(value: Any) -> str:
    """A YAML value as text: models answer `key: value` where text was asked."""
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "\n".join(_text(v) for v in value)
    return str(value).strip()


def _entries(doc: Mapping, key: str) -> list:
    """A list the stage asked for; one text or a mapping is taken as its entries."""
    value = doc[key]
    if isinstance(value, Mapping):
        value = list(value.values())
    elif isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ReplyFormatError(f"'{key}' should be a non-empty list")
    return value


def parse_reflection(reply: str) -> list[str]:
    bullets = [b for b in (_text(v) for v in _entries(extract_yaml(reply, ("self_reflection",)), "self_reflection")) if b]
    if not bullets:
        raise ReplyFormatError("'self_reflection' holds no text")
    return bullets


def parse_test_explanations(reply: str) -> list[str]:
    out = []
    for entry in _entries(extract_yaml(reply, ("tests_explanations",)), "tests_explanations"):
        out.append(_text(entry.get("explanation", entry)) if isinstance(entry, Mapping) else _text(entry))
    if not any(out):
        raise ReplyFormatError("'tests_explanations' holds no explanation")
    return out


def parse_solutions(reply: str) -> list[dict[str, Any]]:
    out = []
    for entry in _entries(extract_yaml(reply, ("possible_solutions",)), "possible_solutions"):
        if not isinstance(entry, Mapping) or not _text(entry.get("content")):
            continue
        brute = entry.get("is_brute_force")
        labels = _text(entry.get("labels")).lower()
        out.append({
            "name": _text(entry.get("name")) or f"solution {len(out) + 1}",
            "content": _text(entry.get("content")),
            "why_it_works": _text(entry.get("why_it_works")),
            "complexity": _text(entry.get("complexity")),
            "is_brute_force": brute is True or str(brute).lower() in ("true", "yes") or "brute" in labels,
        })
    if not out:
        raise ReplyFormatError("no entry of 'possible_solutions' has a 'content'")
    return out


def parse_choice(reply: str) -> dict[str, str]:
    doc = extract_yaml(reply, ("name", "content"))
    choice = {"name": _text(doc["name"]), "content": _text(doc["content"]), "why": _text(doc.get("why"))}
    if not choice["content"]:
        raise ReplyFormatError("the chosen solution has no 'content'")
    return choice


def parse_tests(reply: str) -> list[dict[str, str]]:
    out = []
    for entry in _entries(extract_yaml(reply, ("tests",)), "tests"):
        if not isinstance(entry, Mapping) or entry.get("input") is None or entry.get("output") is None:
            continue  # a test cut short, or without an answer
        test_in, test_out = _value_text(entry["input"]), _value_text(entry["output"])
        if test_in.strip() and test_out.strip():
            out.append({"input": test_in, "output": test_out, "explanation": _text(entry.get("explanation"))})
    if not out:
        raise ReplyFormatError("no entry of 'tests' has both an 'input' and an 'output'")
    return out


def _value_text(value: Any) -> str:
    """A test's input or output as program text: lists are lines, a final newline added."""
    if isinstance(value, list):
        value = "\n".join(" ".join(map(str, v)) if isinstance(v, list) else str(v) for v in value)
    text = str(value)
    return text if text.endswith("\n") else text + "\n"


# A fenced block tagged with anything but YAML (the program, not the analysis).
_CODE_BLOCK = re.compile(r"^[ \t]*```(?!ya?ml[ \t]*$)[^\n`]+\n.*?^[ \t]*```[ \t]*$", re.DOTALL | re.MULTILINE)


def code_parser(language: str) -> Callable[[str], tuple[str, str, str]]:
    """A parser of coding replies: (code, language, analysis) or ReplyFormatError."""

    def parse(reply: str) -> tuple[str, str, str]:
        found = extract_code(reply, language)
        if not found.code:
            raise ReplyFormatError(f"it holds no complete {language} program ({found.reason})")
        try:  # the analysis before the program, best effort: the program is what counts
            analysis = _text(extract_yaml(_CODE_BLOCK.sub("", reply), ("what_went_wrong",))["what_went_wrong"])
        except ReplyFormatError:
            analysis = ""
        return found.code, found.language or language, analysis

    return parse
