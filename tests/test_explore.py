"""Exploring one problem: its statement rendered, its solutions' statuses, a failing test side by side."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

from acodium import data, explore, notebook
from acodium.errors import UserError
from acodium.execute import Execution

sys.path.insert(0, str(Path(__file__).parent))


def test_codecontests_math_becomes_math_and_examples_keep_their_lines(train_rows):
    row = next(r for r in train_rows if "$$$" in r["description"])
    text = explore.statement_markdown(row)
    assert "$$$" not in text
    spans = re.findall(r"\$\$\$(.+?)\$\$\$", row["description"], re.S)
    assert spans and all(f"${span.strip()}$" in text for span in spans)
    # the statement's example is a row of blocks whose lines are the first public test's lines
    assert examples(text)[0] == tuple(t.strip("\n") for t in data.Problem.from_row(row).tests("public")[0])


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip("\n").split("\n")]


def examples(text: str) -> list[tuple[str, str]]:
    """(input, output) of each row of the rendered examples table."""
    rows = re.findall(r"<tr><td><pre[^>]*>(.*?)</pre></td><td><pre[^>]*>(.*?)</pre></td></tr>", text, re.S)
    return [tuple(html.unescape(b) for b in r) for r in rows]


def test_every_sample_statement_with_examples_shows_them_as_blocks(train_rows):
    shown = 0
    for row in train_rows:
        if not re.search(r"^Examples?\s*$", row["description"], re.M):
            continue
        text = explore.statement_markdown(row)
        public = [lines(given) for given, _ in data.Problem.from_row(row).tests("public")]
        shown += any(lines(given) in public for given, _ in examples(text))  # an example keeps its lines
        assert "<image>" not in text and "$$$" not in text
    assert shown > 0.95 * len(train_rows), (shown, len(train_rows))  # the others' examples are not their tests


def test_prose_is_not_misread_as_markdown():
    row = {"name": "x", "description": "costs $5 if a<b\n# not a heading\n<image> here\n\nInput\n\n1\n"}
    text = explore.statement_markdown(row)
    assert r"\$5" in text and "a&lt;b" in text and r"\# not a heading" in text
    assert "**Input**" in text and "picture the dataset does not hold" in text


@pytest.fixture(scope="module")
def exploration(tmp_path_factory):
    problems = data.load_problems("starter", "train")
    chosen = notebook.pick_problem(problems, "")
    execution = Execution(cache_dir=tmp_path_factory.mktemp("cache") / "executions")
    return notebook.explore_solutions(chosen, test_sets=["public", "private"], max_solutions=3,
                                      execution=execution, progress=False)


def test_statuses_are_a_table_of_outcomes_per_solution(exploration):
    table = exploration.statuses()
    ex = exploration.report.executions
    assert table["solution"].tolist() == exploration.candidates["candidate_id"].tolist()
    for row in table.itertuples():
        mine = ex[ex["candidate_id"] == row.solution]
        assert row.tests == len(mine) and row.passed == int(mine["passed"].sum())
        outcomes = [c for c in table.columns if c not in ("solution", "dataset says", "language", "tests", "passed")]
        assert row.tests == row.passed + sum(table.loc[row.Index, outcomes])
    correct = table[table["dataset says"] == "correct"]
    assert (correct["passed"] == correct["tests"]).all()
    assert "wrong answer" in table.columns and table["wrong answer"].sum() > 0


def test_the_failing_test_shows_the_programs_own_output_beside_the_expected_one(exploration):
    failing = exploration.failing()
    assert failing and all(c.startswith("incorrect") for c in failing)
    cid = failing[0]
    code = exploration.candidates.set_index("candidate_id").loc[cid, "code"]
    assert exploration.code(cid).data == code
    shown = exploration.failing_test(cid).data
    ex = exploration.report.executions
    first = ex[(ex["candidate_id"] == cid) & (ex["passed"] != True)]  # noqa: E712
    first = first.sort_values(["test_set", "test_index"], key=lambda c: c.map({"public": 0, "private": 1})
                              if c.name == "test_set" else c).iloc[0]
    tests = {i: (inp, out) for i, inp, out in data.problem_tests(exploration.problem.row, first["test_set"])}
    given, wanted = tests[int(first["test_index"])]
    ran = subprocess.run([sys.executable, "-c", code], input=given, capture_output=True, text=True, timeout=30)
    assert f"on {first['test_set']} test {int(first['test_index'])}: <b>wrong answer</b>" in shown
    blocks = re.findall(r"<pre[^>]*>(.*?)</pre>", shown, re.S)
    assert blocks[0] == given and blocks[1] == wanted
    actual = re.sub(r"<span[^>]*>(.*?)</span>", r"\1", blocks[2])
    assert actual == ran.stdout and actual != wanted
    assert "background" in blocks[2]  # the lines that differ are marked


def test_a_solution_that_passes_says_so(exploration):
    assert "passed every test it ran" in exploration.failing_test("correct-0").data


def test_an_unknown_solution_or_problem_is_one_sentence(exploration):
    with pytest.raises(UserError, match=r"has no solution 'nope' here \(there are correct-0"):
        exploration.code("nope")
    with pytest.raises(UserError, match=r"^There is no problem named 'nope' here \(8 problems"):
        notebook.pick_problem(data.load_problems("starter", "train"), "nope")


def test_no_picker_when_no_one_is_there_to_click(monkeypatch):
    monkeypatch.setenv("ACODIUM_BATCH", "1")
    assert explore.interactive() is False
    assert notebook.problem_picker(data.load_problems("starter", "train"), print) is None
    monkeypatch.delenv("ACODIUM_BATCH")
    assert explore.interactive() is False  # pytest runs this, and no kernel is there


def test_the_picker_shows_the_chosen_problem_and_again_at_each_choice(monkeypatch, capsys):
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(explore, "interactive", lambda: True)  # as in Jupyter
    problems = data.load_problems("starter", "train")
    shown = []
    box = notebook.problem_picker(problems, lambda p: shown.append(p.name), name="acodium_D. Warehouse Robot")
    assert shown == ["acodium_D. Warehouse Robot"]
    assert [name for _, name in box.options] == problems["name"]
    assert box.options[0][0].startswith(f"{problems['name'][0]}  (")  # with its rating and difficulty
    box.value = problems["name"][2]
    assert shown == ["acodium_D. Warehouse Robot", problems["name"][2]]


def test_in_a_kernel_with_someone_there_the_picker_is_a_widget(tmp_path, monkeypatch):
    """papermill's kernel, without the variables that say no one is there: the picker's widget is displayed
    and its output area holds what it showed."""
    import json

    import nbformat
    import papermill

    from tiny_notebook import write_notebook

    monkeypatch.delenv("ACODIUM_BATCH", raising=False)
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)  # the kernel inherits this environment
    write_notebook(tmp_path / "p.ipynb", "x = 1",
                   "from acodium import data, notebook\nproblems = data.load_problems('starter', 'train')\n"
                   "box = notebook.problem_picker(problems, lambda p: print('showing', p.name))")
    # Rarely (1 run of ~40 here) nbclient and ipykernel 7 both sit idle after this cell, each waiting for a
    # message of the other, until pytest's timeout: a cell limit turns that into an error, and the notebook
    # runs once more. The assertions below are unchanged.
    from nbclient.exceptions import CellTimeoutError

    for attempt in (1, 2):
        try:
            papermill.execute_notebook(str(tmp_path / "p.ipynb"), str(tmp_path / "out.ipynb"), kernel_name="python3",
                                       progress_bar=False, execution_timeout=120)
            break
        except CellTimeoutError:
            if attempt == 2:
                raise
    nb = nbformat.read(str(tmp_path / "out.ipynb"), as_version=4)
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    outputs = [m["state"]["outputs"] for m in state.values() if m["model_name"] == "OutputModel"]
    first = data.load_problems("starter", "train")["name"][0]
    assert json.dumps(outputs).count(f"showing {first}") == 1
