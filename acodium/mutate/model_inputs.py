"""Model-written test inputs: the "ai" test set (AlphaCode's test-input generation, with an LLM).

AlphaCode clusters samples by their behaviour on inputs written by a separate
model. Here a chat model is asked (prompt acodium/prompts/test_inputs.toml)
for `count` new inputs from the statement and the public examples, each
optionally with its expected output. A reply is read robustly
(`test_cases_of`), and an input is kept only when it is new (not a public
example, not written twice) and reads like the examples do (`shape_mismatch`,
on the tokenizer of `shape`). Kept inputs fill the problem's `ai_tests`: the
input; the model's output where it wrote one (its "model tests", which CodeT
ranks by: never a correctness test, so `output_confirmed` is False); "" where
it did not. Every call goes through the reply cache of `acodium.llm`; a call
that fails or a reply without a usable input costs its call and is recorded
(`ModelInputs.records`), never a crash.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from ..data import problem_tests
from ..errors import UserError
from ..prompting import fill, load_prompt_file
from .shape import _tokenize

PROMPT = "test_inputs"
MAX_INPUT_CHARS = 100_000  # a longer "input" is a runaway reply, not a test
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_OUTPUT_LABEL = re.compile(r"\b(output|expected|answer)\b", re.IGNORECASE)


@dataclass(frozen=True)
class ModelInputSettings:
    """How the model is asked: one call per problem, `count` test cases, outputs or not; cached like every call."""

    model: str
    count: int = 10
    outputs: bool = True
    prompt: str = PROMPT
    temperature: float = 0.0
    top_p: float | None = None
    max_tokens: int = 4096
    base_url: str | None = None
    api_key: str | None = None
    cache_path: str | None = None
    concurrency: int = 4
    timeout: float = 120.0
    max_retries: int = 5
    prices: str | None = None

    def __post_init__(self):
        if not isinstance(self.count, int) or self.count < 1:
            raise UserError(f"The number of model-written inputs per problem is a positive whole number, "
                            f"not {self.count!r}.")


@dataclass
class ModelInputs:
    """The problems with their `ai_tests`, and one record per problem of what its call gave."""

    rows: list[dict]
    records: list[dict] = field(default_factory=list)

    @property
    def calls(self) -> int:
        return len(self.records)


# --------------------------------------------------------------------------- reading a reply


def test_cases_of(reply: str | None) -> list[tuple[str, str | None]]:
    """(input, expected output or None) per test case of a reply, in order.

    A fenced block is an input; a block whose label (the text since the
    previous block) names an output, expected output or answer is the output
    of the input before it (a second output for one input is ignored). An
    unclosed last block counts (the reply was cut), text outside blocks does not.
    """
    cases: list[list] = []
    label: list[str] = []
    body: list[str] | None = None
    fence = ""
    for line in (reply or "").replace("\r\n", "\n").split("\n"):
        if body is None:
            m = _FENCE.match(line)
            if m:
                fence, body = m.group(1), []
            else:
                label.append(line)
            continue
        stripped = line.strip()
        if stripped.startswith(fence[0] * 3) and set(stripped) == {fence[0]}:
            _block(cases, "\n".join(label), "\n".join(body))
            body, label = None, []
        else:
            body.append(line)
    if body is not None:
        _block(cases, "\n".join(label), "\n".join(body))
    return [(inp, out) for inp, out in cases]


test_cases_of.__test__ = False  # a library function, not a pytest test


def _block(cases: list[list], label: str, text: str) -> None:
    words = label.strip().splitlines()[-1:] if label.strip() else []
    is_output = bool(words) and bool(_OUTPUT_LABEL.search(words[0])) and not re.search(r"\binput\b", words[0], re.I)
    if is_output:
        if cases and cases[-1][1] is None:
            cases[-1][1] = _tidy(text)
        return
    cases.append([_tidy(text), None])


def _tidy(text: str) -> str:
    """Lines without trailing blanks, no blank lines around, one final newline ("" when nothing is left)."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


# --------------------------------------------------------------------------- does it read like the examples?

_FAMILY = {"int": "int", "bit": "int", "binary": "int", "float": "float", "string": "string"}


def _shape(text: str) -> list[list[str]]:
    """Token kinds per non-empty line, integers and bits one family ("10" reads as both)."""
    return [[_FAMILY[t.kind] for t in line] for line in _tokenize(text)[2]]


def shape_mismatch(text: str, examples: Sequence[str]) -> str | None:
    """Why an input would not parse the way the examples do, or None when it would.

    The examples fix what varies freely in size and what does not: where
    every example has the same lines with the same number of tokens, the
    input must too; in any case its first line has the token count and kinds
    of some example's first line, and every token is of a kind (integer,
    float, other text) the examples use at all (a float where the examples
    only have integers, a word where they have numbers, does not parse).
    No example: nothing to compare with, every non-empty input fits.
    """
    if not text.strip():
        return "empty"
    if len(text) > MAX_INPUT_CHARS:
        return "too long"
    mine = _shape(text)
    shapes = [_shape(e) for e in examples if e.strip()]
    if not shapes:
        return None
    if all([len(line) for line in s] == [len(line) for line in shapes[0]] for s in shapes):
        if len(mine) != len(shapes[0]):
            return "line count"
        if [len(line) for line in mine] != [len(line) for line in shapes[0]]:
            return "tokens per line"
    if not any(_fits(mine[0], s[0]) for s in shapes):
        return "first line"
    kinds = {kind for s in shapes for line in s for kind in line}
    if any(kind not in kinds and not (kind == "int" and "float" in kinds) for line in mine for kind in line):
        return "token type"
    return None


def _fits(line: list[str], example: list[str]) -> bool:
    return len(line) == len(example) and all(a == b or (a == "int" and b == "float") for a, b in zip(line, example))


def _key(text: str) -> tuple:
    """Equal for inputs that differ only in whitespace (what a token reader sees)."""
    return tuple(tuple(line.split()) for line in text.splitlines() if line.strip())


def usable_cases(cases: Iterable[tuple[str, str | None]], examples: Sequence[str],
                 limit: int | None = None) -> tuple[list[tuple[str, str | None]], Counter]:
    """The cases worth keeping (new, shaped like the examples; at most `limit`), and why the others were dropped."""
    seen = {_key(e) for e in examples}
    kept: list[tuple[str, str | None]] = []
    dropped: Counter = Counter()
    for inp, out in cases:
        why = shape_mismatch(inp, examples)
        if why is None and _key(inp) in seen:
            why = "duplicate"
        if why is None and limit is not None and len(kept) >= limit:
            why = "beyond the count asked"
        if why is not None:
            dropped[why] += 1
            continue
        seen.add(_key(inp))
        kept.append((inp, out if out else None))
    return kept, dropped


# --------------------------------------------------------------------------- asking the model


def messages_for(row: Mapping[str, Any], settings: ModelInputSettings) -> list[dict]:
    """The chat messages asking for one problem's test cases (prompt file `settings.prompt`)."""
    pieces = load_prompt_file(settings.prompt)
    for key in ("system", "user", "example", "with_outputs", "without_outputs"):
        if not isinstance(pieces.get(key), str):
            raise UserError(f"The test-input prompt {settings.prompt!r} lacks the text {key!r}.")
    where = f"test-input prompt {settings.prompt!r}"
    public = problem_tests(row, "public")
    examples = ""
    if public:
        examples = pieces.get("examples_header", "\n## Examples\n") + "".join(
            fill(pieces["example"], {"input": inp.strip("\n"), "output": out.strip("\n")}, where)
            for _, inp, out in public)
    variables = {"name": str(row.get("name", "")), "statement": str(row.get("description") or ""),
                 "examples": examples, "count": str(settings.count),
                 "outputs": pieces["with_outputs" if settings.outputs else "without_outputs"].strip()}
    return [{"role": "system", "content": fill(pieces["system"], variables, where).strip()},
            {"role": "user", "content": fill(pieces["user"], variables, where).strip()}]


def add_model_tests(problems: Iterable[Mapping[str, Any]], settings: ModelInputSettings, *,
                    progress: bool = True) -> ModelInputs:
    """The problems with an `ai_tests` field of model-written inputs (and outputs), one call per problem.

    Inputs already in a problem's `ai_tests` are kept and count toward
    `settings.count` (a re-run adds nothing twice). Each record says what
    its problem's call gave: kept, dropped by reason, the call's tokens and
    cost, whether it came from the cache, and the error of a failed call.
    """
    from ..llm.sync import ask_each

    rows = [dict(p) for p in problems]
    if not rows:
        raise UserError("There are no problems to write test inputs for.")
    prompts = [messages_for(row, settings) for row in rows]  # a bad prompt file: one sentence, before any call
    params = {"temperature": settings.temperature, "max_tokens": settings.max_tokens}
    if settings.top_p is not None:
        params["top_p"] = settings.top_p

    replies = ask_each(settings, prompts, params, call="test_inputs", progress=progress, desc="test inputs", unit="problem")
    records = []
    for row, reply in zip(rows, replies):
        before = row.get("ai_tests") or {}
        old = list(zip(before.get("input") or [], before.get("output") or [""] * len(before.get("input") or [])))
        examples = [inp for _, inp, _ in problem_tests(row, "public")]
        record = {"problem": row.get("name"), "kept": 0, "dropped": {}, "model_outputs": 0, "error": None,
                  "cached": False, "prompt_tokens": 0, "completion_tokens": 0, "cost": None}
        if isinstance(reply, Exception):
            record["error"] = str(reply) or type(reply).__name__
            cases: list = []
        else:
            record.update(cached=reply.cached, prompt_tokens=reply.prompt_tokens,
                          completion_tokens=reply.completion_tokens, cost=reply.cost)
            cases = test_cases_of(reply.text)
            if not cases:
                record["dropped"] = {"no test case in the reply": 1}
        kept, dropped = usable_cases(cases, examples + [inp for inp, _ in old], max(0, settings.count - len(old)))
        record["dropped"] = dict(record["dropped"], **dropped)
        record["kept"] = len(kept)
        record["model_outputs"] = sum(out is not None for _, out in kept)
        merged = old + [(inp, out or "") for inp, out in kept]
        row["ai_tests"] = {"input": [i for i, _ in merged], "output": [o for _, o in merged],
                           "output_confirmed": [False] * len(merged)}
        records.append(record)
    return ModelInputs(rows, records)
