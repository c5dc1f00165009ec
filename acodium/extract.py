"""Programs and YAML objects out of model replies: fences or none, prose around them.

Models wrap code in many ways: a ```python fence, a bare ``` fence, several
blocks (a draft, the program, then the sample input), a fence left open when
the reply hit max_tokens, or no fence at all with prose before and after. The
rule, in order:

1. the last *complete* program in the target language inside a closed fence
   (complete = Python that parses and executes something at top level, or C++
   with a `main`); blocks holding sample data or a lone function are passed over;
2. else the same inside a fence left open (a truncated reply);
3. else the last block in the target language, even if incomplete;
4. else the last complete program in the other runnable language (the model
   answered in C++ when asked for Python: the candidate keeps its real language);
5. else, with no usable fence, the largest region of the bare reply that is a
   complete program (prose before and after is cut).

A reply with no code gives `code=""` and a `reason` ("empty reply", "no code"):
the generation loop records it as a candidate, it is never dropped.
`if __name__ == "__main__":` wrappers are kept as written: the executor runs
the program as `__main__`, so they work.
"""

from __future__ import annotations

import ast
import functools
import json
import re
import warnings
from dataclasses import dataclass

import yaml

RUNNABLE = ("python3", "cpp", "java")  # what a reply's program may be in (Python 2 is not told from 3)

# Fence info strings -> language names of acodium (others are kept as written).
TAG_LANGUAGES = {
    "python": "python3", "python3": "python3", "py": "python3", "py3": "python3",
    "cpp": "cpp", "c++": "cpp", "cc": "cpp", "cxx": "cpp", "hpp": "cpp", "c++17": "cpp",
    "cpp17": "cpp", "c++20": "cpp", "cpp20": "cpp", "c++14": "cpp", "cpp14": "cpp",
    "java": "java",
}
# Tags that never hold the program: a block under them is data or commands.
DATA_TAGS = {"text", "txt", "plaintext", "plain", "input", "output", "console", "shell",
             "bash", "sh", "json", "yaml", "yml", "csv", "math", "latex", "markdown", "md"}

# An opening fence: at the start of a line with an info string, or ending a
# line of prose ("Answer: ```python").
_OPEN = re.compile(r"^\s*(?P<fence>`{3,}|~{3,})\s*(?P<tag>[^\s`]*)[^`]*$|^.*?(?P<fence2>`{3,})(?P<tag2>[^\s`]*)\s*$")
_THINK = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)
_CPP_MARKERS = re.compile(r"#\s*include\s*[<\"]|\bint\s+main\s*\(|\bstd::|using\s+namespace\s+std")
_JAVA_MARKERS = re.compile(r"\bpublic\s+static\s+void\s+main\s*\(|\bpublic\s+class\s+\w+")
_PY_START = re.compile(
    r"^(#!|import\s|from\s+[\w.]+\s+import\s|def\s|class\s|async\s+def\s|if\s+__name__|@|for\s|while\s|"
    r"print\(|[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*=[^=])"
)
_CPP_START = re.compile(r"^\s*(#\s*include|#\s*define|using\s|template\s*<|typedef\s|int\s+main\s*\()")


@dataclass(frozen=True)
class Block:
    """One fenced block of a reply."""

    tag: str  # the fence's info string, lowercased ("" for a bare fence)
    code: str
    closed: bool


@dataclass(frozen=True)
class Extraction:
    """The program found in a reply (code "" when none) and how it was found."""

    code: str
    language: str | None
    reason: str  # fenced | unclosed fence | incomplete program | other language | no fence | no code | empty reply
    blocks: int  # fenced blocks in the reply


def fenced_blocks(reply: str) -> list[Block]:
    """The fenced blocks of a reply, in order; a fence still open at the end is `closed=False`."""
    blocks: list[Block] = []
    fence = tag = None
    body: list[str] = []
    for line in reply.split("\n"):
        if fence is None:
            m = _OPEN.match(line)
            if m:
                fence = m.group("fence") or m.group("fence2")
                tag, body = (m.group("tag") if m.group("fence") else m.group("tag2")).lower(), []
            continue
        stripped = line.strip()
        if stripped.startswith(fence[0] * 3) and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
            blocks.append(Block(tag, "\n".join(body), True))
            fence = None
        elif fence[0] == "`" and stripped.endswith(fence) and not stripped.startswith("`"):
            # closing fence glued to the last line of code: `print(x)```
            body.append(line.rstrip()[: -len(fence)])
            blocks.append(Block(tag, "\n".join(body), True))
            fence = None
        else:
            body.append(line)
    if fence is not None:
        blocks.append(Block(tag, "\n".join(body), False))
    return blocks


@functools.lru_cache(maxsize=64)  # one block is parsed by detection, then by the completeness check
def _python_tree(code: str) -> ast.Module | None:
    """The syntax tree of Python code, or None (shared between callers: never mutate it)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning on odd escapes in model code
            return ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


def _python_executes(tree: ast.Module) -> bool:
    """A module that does something when run, not just definitions or a bare value."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, (ast.Constant, ast.Name, ast.Attribute)):
            continue  # a docstring, a number or a word: data or prose, not a program
        return True
    return False


def _is_python_code(code: str) -> bool:
    """Python source (parses, and holds at least one statement beyond a bare value)."""
    tree = _python_tree(code)
    if tree is None:
        return False
    return any(
        not (isinstance(n, ast.Expr) and isinstance(n.value, (ast.Constant, ast.Name, ast.Attribute)))
        for n in tree.body
    )


def detect_language(code: str) -> str | None:
    """`cpp`, `python3`, `java`, or None when the text is not recognisably a program."""
    if not code.strip():
        return None
    if _CPP_MARKERS.search(code):
        return "cpp"
    if _JAVA_MARKERS.search(code):
        return "java"
    if _is_python_code(code):
        return "python3"
    return None


def is_complete_program(code: str, language: str) -> bool:
    """A whole program, not a fragment: Python that runs something, C++ with a main."""
    if language == "python3":
        tree = _python_tree(code)
        return tree is not None and _python_executes(tree)
    if language == "cpp":
        return re.search(r"\bmain\s*\(", code) is not None
    if language == "java":
        return _JAVA_MARKERS.search(code) is not None and "main" in code
    return False


def _block_language(block: Block) -> str | None:
    if block.tag in DATA_TAGS:
        return None
    if block.tag in TAG_LANGUAGES:
        return TAG_LANGUAGES[block.tag]
    if block.tag.startswith("python"):
        return "python3"
    return detect_language(block.code)


def _tidy(code: str) -> str:
    lines = [line.rstrip() for line in code.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


def _unfenced_python(lines: list[str], budget: int = 3000) -> str | None:
    """The largest run of lines that is a complete Python program, earliest start first."""
    starts = [i for i, line in enumerate(lines) if _PY_START.match(line)][:8]
    for i in starts:
        for j in range(len(lines), i, -1):
            if not lines[j - 1].strip():
                continue
            budget -= 1
            if budget < 0:
                return None
            code = "\n".join(lines[i:j])
            tree = _python_tree(code)
            if tree is not None and _python_executes(tree):
                return code
    return None


def _unfenced_cpp(lines: list[str]) -> str | None:
    start = next((i for i, line in enumerate(lines) if _CPP_START.match(line)), None)
    if start is None:
        return None
    end = max((j for j in range(start, len(lines)) if "}" in lines[j]), default=None)
    if end is None:
        return None
    code = "\n".join(lines[start:end + 1])
    return code if is_complete_program(code, "cpp") else None


def extract_code(reply: str | None, language: str = "python3") -> Extraction:
    """The program in a model's reply, preferring the target language (see the module doc)."""
    if reply is None or not reply.strip():
        return Extraction("", None, "empty reply", 0)
    text = _THINK.sub("", reply.replace("\r\n", "\n"))  # reasoning models' drafts are not the answer
    blocks = fenced_blocks(text)
    labelled = [(b, _block_language(b)) for b in blocks]

    def last(pred) -> tuple[Block, str] | None:
        for block, lang in reversed(labelled):
            if lang is not None and block.code.strip() and pred(block, lang):
                return block, lang
        return None

    choices = [
        ("fenced", lambda b, lang: lang == language and b.closed and is_complete_program(b.code, lang)),
        ("unclosed fence", lambda b, lang: lang == language and is_complete_program(b.code, lang)),
        ("incomplete program", lambda b, lang: lang == language),
        ("other language", lambda b, lang: lang in RUNNABLE and is_complete_program(b.code, lang)),
    ]
    for reason, pred in choices:
        found = last(pred)
        if found is not None:
            return Extraction(_tidy(found[0].code), found[1], reason, len(blocks))

    # No usable fence: the bare reply, or the program inside its prose.
    whole = _tidy(text)
    if is_complete_program(whole, "python3"):  # it parses: no prose around it
        return Extraction(whole, "python3", "no fence", len(blocks))
    lines = [line.rstrip() for line in text.split("\n")]
    order = (_unfenced_cpp, _unfenced_python) if language == "cpp" else (_unfenced_python, _unfenced_cpp)
    for find in order:
        code = find(lines)
        if code is not None:
            return Extraction(_tidy(code), "cpp" if find is _unfenced_cpp else "python3", "no fence", len(blocks))
    return Extraction("", None, "no code", len(blocks))


# ---- structured replies (the AlphaCodium flow's stages answer in YAML) ----------------

YAML_TAGS = {"yaml", "yml", ""}


class ReplyFormatError(ValueError):
    """A reply that no repair turns into the YAML object a stage asked for (the message says why)."""


def extract_yaml(reply: str | None, keys: tuple[str, ...] | list[str]) -> dict:
    """The YAML mapping with all of `keys` (top level) in a model's reply.

    Models wrap YAML in fences, put prose before and after it, indent block
    text wrongly, write `key: text with: colons`, or stop mid-reply. Tried in
    order, first success wins: each ```yaml (or bare) block from the last, then
    the whole reply; each as written, then repaired (`_repair_yaml`), then with
    trailing lines dropped one by one (prose after the YAML, a torn last line).
    Raises ReplyFormatError naming what was missing or the parser's complaint.
    """
    if reply is None or not reply.strip():
        raise ReplyFormatError("the reply is empty")
    text = _THINK.sub("", reply.replace("\r\n", "\n")).replace("\t", "    ")
    sources = [b.code for b in reversed(fenced_blocks(text)) if b.tag in YAML_TAGS and b.code.strip()]
    sources.append(text)
    problem = "no YAML object in the reply"
    for source in sources:
        start = _yaml_start(source, keys)
        if start is None:
            continue
        body = source.split("\n")[start:]
        repaired = _repair_yaml(body, keys)
        # as written, repaired, then without trailing lines (prose after the YAML, a line cut short)
        attempts = [body, repaired] + [lines[:end] for lines in (body, repaired)
                                       for end in range(len(lines) - 1, max(0, len(lines) - 40), -1)]
        for number, attempt in enumerate(attempts):
            try:
                doc = yaml.safe_load("\n".join(attempt))
            except yaml.YAMLError as e:
                if number == 0:
                    problem = f"the YAML does not parse ({str(e).splitlines()[0]})"
                continue
            if isinstance(doc, dict):
                missing = [k for k in keys if doc.get(k) in (None, "", [], {})]
                if not missing:
                    return doc
                problem = f"the YAML lacks {', '.join(repr(k) for k in missing)}"
    raise ReplyFormatError(problem)


def _yaml_start(text: str, keys) -> int | None:
    """The line where the YAML object starts: the first `key:` of a wanted key (prose before is cut)."""
    wanted = re.compile(r"^(%s)\s*:" % "|".join(re.escape(k) for k in keys))
    for i, line in enumerate(text.split("\n")):
        if wanted.match(line):
            return i
    return None


_BLOCK_INDICATOR = re.compile(r"^[|>][-+]?\d?\s*$")


def _repair_yaml(lines: list[str], keys) -> list[str]:
    """Fix what models get wrong at the top level of a YAML object.

    Under each top-level key: text on the key's own line that YAML would misread
    (`: ` inside, a leading quote or brace) becomes a block scalar; lines of a
    block scalar not indented under their key are indented; prose that is
    neither a list nor a mapping under a key with no value becomes a block scalar;
    in a list or mapping under the key, `key: text with: colons` is quoted.
    """
    # Sections start at a wanted key or any snake_case key (`why:`); "Input: 3" in prose is not one.
    key_line = re.compile(r"^(%s|[a-z][a-z0-9_]*)\s*:(\s.*|)$" % "|".join(re.escape(k) for k in keys))
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = key_line.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not key_line.match(lines[j]):
            j += 1
        key, value, body = m.group(1), m.group(2).strip(), lines[i + 1:j]
        filled = [b for b in body if b.strip()]
        indent = min((len(b) - len(b.lstrip()) for b in filled), default=2)
        structured = bool(filled) and re.match(r"^\s*(- |-$|[\w\"' ]+:(\s|$))", filled[0]) is not None
        if _BLOCK_INDICATOR.match(value) or (not value and filled and not structured):
            out.append(f"{key}: {value or '|-'}")
            out += ["  " + b if indent == 0 else b for b in body]
        elif value and not (value[0] in "\"'" and value[-1:] == value[0]) and (
                ": " in value or " #" in value or value[0] in "{[&*!%@`\"'"):
            out.append(f"{key}: |-")
            out += ["  " + value] + ["  " + b.strip() if b.strip() else b for b in body]
        else:
            out += [lines[i]] + [_quote_nested(b) for b in body]
        i = j
    return out


_NESTED_KEY = re.compile(r"^(\s*(?:- )?)([a-z][a-z0-9_]*):[ ]+(\S.*)$")


def _quote_nested(line: str) -> str:
    """`  - name: Greedy: sort first` inside a list: the value quoted, as YAML needs."""
    m = _NESTED_KEY.match(line)
    if m is None:
        return line
    prefix, key, value = m.groups()
    value = value.rstrip()
    if value[0] in "\"'|>[{" or not (": " in value or " #" in value):
        return line
    return f"{prefix}{key}: {json.dumps(value, ensure_ascii=False)}"
