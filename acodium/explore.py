"""What exploring one problem's solutions needs in a notebook (`notebooks/explore_problems.ipynb`).

The statement rendered as the contest shows it (CodeContests' `$$$...$$$` math
as math, each example's input and output keeping their lines), the problem's
own solutions run on its tests with their statuses as a table, a solution's
code, and its first failing test with the expected and the actual output side
by side. `problem_picker` lets a person choose the problem from a list when
someone is there to click (`interactive`); under papermill or nbval the
notebook shows its `problem` parameter's problem instead.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass
from typing import Any, Callable

import pandas as pd

from .data import TEST_KINDS, Problem, problem_rows, problem_tests
from .data import problems as as_problems
from .errors import UserError
from .evaluation import check_references
from .evaluation.references import ReferenceReport
from .execute import Execution
from .execute.types import Job, Program
from .generate import reference_candidates

BATCH_ENV = "ACODIUM_BATCH"  # set by the sweep's runner and the test suite: no one is there to click

# A test's outcome in words, from its status and whether its output was right.
OUTCOMES = {"OK": "wrong answer", "TIMEOUT": "time limit", "SLOW": "slow (over the time limit)",
            "MEMORY_LIMIT": "memory limit", "OUTPUT_LIMIT": "output limit", "RUNTIME_ERROR": "runtime error",
            "COMPILE_ERROR": "compile error", "SANDBOX_ERROR": "machine failure", "JUDGE_ERROR": "judge failure"}


def interactive() -> bool:
    """Whether a person runs this notebook (Jupyter, VS Code), rather than papermill in a sweep or nbval
    in the tests (each sets ACODIUM_BATCH; pytest's own variable counts too): widgets only then."""
    if os.environ.get(BATCH_ENV) or os.environ.get("PYTEST_CURRENT_TEST"):
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def outcome(status: str, passed: Any) -> str:
    """A test's outcome in words: "passed", "wrong answer", "time limit", ..."""
    if passed is True or (status == "OK" and passed is None):
        return "passed"
    return OUTCOMES.get(str(status), str(status).lower().replace("_", " "))


# --------------------------------------------------------------------------- the statement

_MATH = re.compile(r"\$\$\$\$\$\$(.+?)\$\$\$\$\$\$|\$\$\$(.+?)\$\$\$", re.S)
_LABEL = re.compile(r"^(Input|Output)\s*$", re.M)
_EXAMPLES = re.compile(r"^Examples?\s*$", re.M)
_NOTE = re.compile(r"^Notes?\s*$", re.M)
_SECTION = re.compile(r"^(Input|Output|Examples?|Notes?|Interaction|Scoring)[ \t]*$", re.M)


def statement_markdown(problem: Any) -> str:
    """A problem's statement (a `Problem`, a row, or the text) as Markdown: math between `$$$` as math (`$$$$$$` as display math),
    `<image>` (a picture the dataset lost) said, and the examples as a table of input and output
    blocks that keep their lines."""
    if isinstance(problem, Problem):
        text = problem.description or ""
    else:
        text = problem if isinstance(problem, str) else (problem.get("description") or "")
    examples = ""
    found = _EXAMPLES.search(text)
    if found:
        rest = text[found.end():]
        note = ([None] + list(_NOTE.finditer(rest)))[-1]  # the last: an example's input may hold a line "Note"
        pairs = _example_pairs(rest[:note.start()] if note else rest)
        if pairs:
            examples = _examples_html(pairs)
            text = text[:found.start()] + "\n\n" + found.group(0).strip() + "\n\n{examples}\n\n" + (
                rest[note.start():] if note else "")
    body = _text_markdown(text)
    return body.replace("{examples}", examples) if examples else body


def _example_pairs(section: str) -> list[tuple[str, str]]:
    """(input, output) of each example, from the lines after "Input" and "Output"."""
    marks = list(_LABEL.finditer(section))
    blocks = [(m.group(1), section[m.end():marks[i + 1].start() if i + 1 < len(marks) else len(section)].strip("\n"))
              for i, m in enumerate(marks)]
    pairs = []
    for (first, given), (second, wanted) in zip(blocks[::2], blocks[1::2]):
        if (first, second) != ("Input", "Output"):
            return []
        pairs.append((given, wanted))
    return pairs


def _examples_html(pairs: list[tuple[str, str]]) -> str:
    rows = "".join(f"<tr><td>{_pre(i)}</td><td>{_pre(o)}</td></tr>" for i, o in pairs)
    return f"<table><tr><th>Input</th><th>Output</th></tr>{rows}</table>"


def _text_markdown(text: str) -> str:
    """Prose to Markdown: math kept for MathJax, everything else escaped where Markdown would misread it."""
    out, last = [], 0
    for m in _MATH.finditer(text):
        out.append(_escape_prose(text[last:m.start()]))
        out.append(f"$${m.group(1).strip()}$$" if m.group(1) is not None else f"${m.group(2).strip()}$")
        last = m.end()
    out.append(_escape_prose(text[last:]))
    return "".join(out)


def _escape_prose(text: str) -> str:
    text = text.replace("<image>", "*(a picture the dataset does not hold)*")
    text = text.replace("$", r"\$").replace("<", "&lt;")
    text = re.sub(r"^(\s*)([>#])", r"\1\\\2", text, flags=re.M)  # not a quote or a heading
    return _SECTION.sub(r"**\1**", text)  # Input, Output, Note, ... as the contest sets them apart


def _pre(text: str, marked: set[int] = frozenset()) -> str:
    """A block that keeps its lines; lines numbered in `marked` highlighted."""
    lines = [html.escape(line) for line in str(text).split("\n")]
    lines = [f'<span style="background:#f8d7da">{line or " "}</span>' if i in marked else line
             for i, line in enumerate(lines)]
    return ('<pre style="margin:0;max-height:24em;overflow:auto;text-align:left">' + "\n".join(lines) + "</pre>")


def statement(problem: Any):
    """The statement, for display in a notebook, under a line of what the problem is and its limits."""
    from IPython.display import Markdown

    p = problem if isinstance(problem, Problem) else Problem.from_row(problem)
    limit = f"{p.time_limit_s:g} s" if p.time_limit_s else "none stated"
    memory = f"{p.memory_limit_bytes / 2**20:g} MiB" if p.memory_limit_bytes else "none stated"
    facts = [f"rating {p.rating}" if p.rating else None, p.difficulty if p.difficulty != "UNKNOWN_DIFFICULTY" else None,
             ", ".join(p.tags) or None, f"time limit {limit}", f"memory limit {memory}"]
    head = f"### {p.name}\n\n*{' · '.join(f for f in facts if f)}*\n\n"
    return Markdown(head + statement_markdown(p))


# --------------------------------------------------------------------------- its solutions


@dataclass
class Exploration:
    """A problem's own solutions run on its tests (`check_references`), and what to look at in them."""

    problem: Problem
    report: ReferenceReport
    candidates: pd.DataFrame  # the solutions run: problem, candidate_id, language, code, ...
    execution: Execution

    def statuses(self) -> pd.DataFrame:
        """One row per solution: what the dataset calls it, its language, how many tests it passed,
        and how many ended in each outcome (wrong answer, time limit, ...), as columns."""
        ex = self.report.executions
        rows = []
        for c in self.candidates.itertuples():
            mine = ex[ex["candidate_id"] == c.candidate_id]
            counts = pd.Series([outcome(s, p) for s, p in zip(mine["status"], mine["passed"])]).value_counts()
            rows.append({"solution": c.candidate_id, "dataset says": c.candidate_id.split("-")[0],
                         "language": c.language, "tests": len(mine), "passed": int(counts.get("passed", 0)),
                         **{k: int(v) for k, v in counts.items() if k != "passed"}})
        table = pd.DataFrame(rows)
        outcomes = [c for c in table.columns if c not in ("solution", "dataset says", "language", "tests", "passed")]
        return table.fillna({c: 0 for c in outcomes}).astype({c: int for c in outcomes})

    def failing(self) -> list[str]:
        """The solutions that failed some test, in the table's order."""
        ex = self.report.executions
        failed = set(ex.loc[ex["passed"] != True, "candidate_id"])  # noqa: E712 (None is a failure too)
        return [c for c in self.candidates["candidate_id"] if c in failed]

    def _candidate(self, candidate_id: str | None):
        if candidate_id is None:
            failing = self.failing()
            candidate_id = failing[0] if failing else self.candidates["candidate_id"].iloc[0]
        hit = self.candidates[self.candidates["candidate_id"] == candidate_id]
        if hit.empty:
            raise UserError(f"{self.problem.name!r} has no solution {candidate_id!r} here "
                            f"(there are {', '.join(self.candidates['candidate_id'])}).")
        return hit.iloc[0]

    def code(self, candidate_id: str | None = None):
        """A solution's code, highlighted (default: the first that failed a test)."""
        from IPython.display import Code

        c = self._candidate(candidate_id)
        return Code(c["code"], language={"python3": "python", "python2": "python"}.get(c["language"], c["language"]))

    def failing_test(self, candidate_id: str | None = None):
        """A solution's first failing test: its input, the expected and the actual output side by side
        (lines that differ marked), the outcome and the checker's words (default: the first failing solution).
        The test runs again for its output (the tables keep hashes only; the cache answers it)."""
        from IPython.display import HTML, Markdown

        c = self._candidate(candidate_id)
        ex = self.report.executions
        mine = ex[(ex["candidate_id"] == c["candidate_id"]) & (ex["passed"] != True)]  # noqa: E712
        order = {s: i for i, s in enumerate(TEST_KINDS)}  # the public tests first: those a contestant sees
        mine = mine.sort_values(["test_set", "test_index"], key=lambda col: col.map(order).fillna(len(order))
                                if col.name == "test_set" else col, kind="stable")
        if mine.empty:
            return Markdown(f"`{c['candidate_id']}` passed every test it ran.")
        first = mine.iloc[0]
        tests = {i: (inp, out) for i, inp, out in problem_tests(self.problem.row, first["test_set"])}
        given, wanted = tests[int(first["test_index"])]
        job = Job(Program(c["language"], c["code"]), [given], [wanted], self.execution.limits(self.problem, c["language"]),
                  checker=self.execution.checker_for(self.problem))
        result = self.execution.run_batch([job], progress=False)[0][0]
        got = result.stdout
        expected_lines, got_lines = wanted.rstrip("\n").split("\n"), got.rstrip("\n").split("\n")
        differ = {i for i, line in enumerate(got_lines)
                  if i >= len(expected_lines) or line.split() != expected_lines[i].split()}
        said = outcome(result.status.value, result.passed)
        why = f": {html.escape(result.checker_message)}" if result.checker_message else ""
        stderr = (f"<p>stderr (its end):</p>{_pre(result.stderr[-2000:])}" if result.stderr.strip() else "")
        return HTML(
            f"<p><b>{html.escape(c['candidate_id'])}</b> on {html.escape(first['test_set'])} test "
            f"{int(first['test_index'])}: <b>{said}</b>{why} ({result.time_s:.2f} s)</p>"
            "<table><tr><th>Input</th><th>Expected output</th><th>Actual output</th></tr>"
            f"<tr><td>{_pre(given)}</td><td>{_pre(wanted)}</td><td>{_pre(got, differ)}</td></tr></table>{stderr}")

    def show(self) -> None:
        """Everything at once (what the picker shows): statement, statuses, the first failing solution."""
        from IPython.display import Markdown, display

        display(statement(self.problem), self.statuses())
        failing = self.failing()
        if failing:
            display(Markdown(f"**{failing[0]}**, the first solution that fails a test:"), self.code(failing[0]),
                    self.failing_test(failing[0]))


def explore_solutions(problem: Any, *, test_sets=("public", "private"), max_solutions: int | None = 3,
                      execution: Execution | None = None, progress: bool = True) -> Exploration:
    """Run a problem's own correct and incorrect solutions (up to `max_solutions` of each, in every
    language `execution` runs here) on its tests, keeping what `Exploration` shows."""
    p = problem if isinstance(problem, Problem) else Problem.from_row(problem)
    execution = execution or Execution()
    report = check_references([p.row], test_sets=test_sets, max_solutions=max_solutions, execution=execution,
                              progress=progress)
    candidates = reference_candidates([p.row], execution.runnable_languages(), max_solutions)
    return Exploration(p, report, candidates, execution)


def pick_problem(problems: Any, name: str = "") -> Problem:
    """The problem named `name` among `problems`, or the first one when the name is empty."""
    rows = problem_rows(problems)
    if not rows:
        raise UserError("There are no problems to choose from.")
    if not name:
        return Problem.from_row(next(iter(rows.values())))
    if name not in rows:
        raise UserError(f"There is no problem named {name!r} here ({len(rows)} problems, e.g. {next(iter(rows))!r}).")
    return Problem.from_row(rows[name])


def problem_picker(problems: Any, show: Callable[[Problem], Any], name: str = ""):
    """A drop-down of the problems (name, rating, difficulty) and what `show(problem)` displays for
    the one chosen, shown again at each choice. None when no one is there to click (`interactive`)."""
    if not interactive():
        return None
    import ipywidgets as widgets
    from IPython.display import display

    chosen = list(as_problems(problems))
    labels = [(f"{p.name}  ({', '.join(str(x) for x in (p.rating, p.difficulty) if x)})", p.name) for p in chosen]
    box = widgets.Dropdown(options=labels, value=name or chosen[0].name, description="Problem",
                           layout=widgets.Layout(width="60%"))
    out = widgets.Output()
    by_name = {p.name: p for p in chosen}

    def render(change=None):
        out.clear_output()
        with out:
            try:
                show(by_name[box.value])
            except UserError as e:
                print(e)

    box.observe(render, names="value")
    render()
    display(widgets.VBox([box, out]))
    return box

