"""acodium.data.starter: problem folders assembled into schema rows, and a broken folder named in one sentence."""

from __future__ import annotations

import shutil

import pytest

from acodium.data import load_problems, schema
from acodium.data.starter import STARTER_DIR, starter_dataset, starter_rows
from acodium.errors import UserError

TOML = """name = "acodium_B. Tiny Sum"
cf_index = "B"
difficulty = "B"
cf_rating = 1000
cf_tags = ["math"]
time_limit_s = 1.5
memory_limit_mb = 64
"""


def make_problem(root, folder="01_tiny", toml=TOML):
    """A one-problem folder as the starter problems are laid out."""
    base = root / folder
    for kind in ("public", "private"):
        (base / "tests" / kind).mkdir(parents=True)
    (base / "solutions").mkdir()
    (base / "problem.toml").write_text(toml)
    (base / "problem.md").write_text("Add two numbers.\n")
    (base / "tests" / "public" / "01.in").write_text("1 2\n")
    (base / "tests" / "public" / "01.out").write_text("3\n")
    for i, (a, b) in enumerate([(5, 5), (0, 7)], 2):
        (base / "tests" / "private" / f"{i:02d}.in").write_text(f"{a} {b}\n")
        (base / "tests" / "private" / f"{i:02d}.out").write_text(f"{a + b}\n")
    (base / "solutions" / "correct_sum.py").write_text("print(sum(map(int, input().split())))\n")
    (base / "solutions" / "correct_sum.cpp").write_text("int main() {}\n")
    (base / "solutions" / "incorrect_first.py").write_text("print(input().split()[0])\n")
    (base / "solutions" / "notes.md").write_text("not a solution")
    (base / "solutions" / "correct_old.java").write_text("class A {}")
    return base


def test_a_folder_becomes_one_schema_row(tmp_path):
    make_problem(tmp_path)
    (tmp_path / "README.md").write_text("not a problem")
    (tmp_path / "empty_folder").mkdir()
    [row] = starter_rows(tmp_path)
    assert list(row) == schema.COLUMNS
    assert row["name"] == "acodium_B. Tiny Sum" and row["description"] == "Add two numbers.\n"
    assert row["public_tests"] == {"input": ["1 2\n"], "output": ["3\n"]}
    assert row["private_tests"] == {"input": ["5 5\n", "0 7\n"], "output": ["10\n", "7\n"]}
    assert row["generated_tests"] == {"input": [], "output": []}
    # Languages by suffix (cpp is 2, python3 3, java 4), in file name order; other files are not solutions.
    assert row["solutions"]["language"] == [4, 2, 3]  # correct_old.java, correct_sum.cpp, correct_sum.py
    assert row["solutions"]["solution"][2].startswith("print(sum(")
    assert row["incorrect_solutions"] == {"language": [3], "solution": ["print(input().split()[0])\n"]}
    assert (row["difficulty"], row["cf_index"], row["cf_rating"], row["cf_tags"]) == (8, "B", 1000, ["math"])
    assert row["time_limit"] == {"seconds": 1, "nanos": 500_000_000}
    assert row["memory_limit_bytes"] == 64 * 2**20
    assert row["source"] == 0 and row["cf_contest_id"] == 0


def test_problems_come_in_folder_order(tmp_path):
    make_problem(tmp_path, "02_second", TOML.replace("Tiny Sum", "Second"))
    make_problem(tmp_path, "01_first", TOML.replace("Tiny Sum", "First"))
    assert [r["name"] for r in starter_rows(tmp_path)] == ["acodium_B. First", "acodium_B. Second"]


def test_the_shipped_problems_load_as_the_starter_source():
    rows = starter_rows()
    assert len(rows) >= 8 and len({r["name"] for r in rows}) == len(rows)
    ds = starter_dataset()
    assert ds.features == schema.features() and ds.to_list() == rows
    assert load_problems("starter", languages="all").to_list() == rows
    assert STARTER_DIR.name == "starter" and (STARTER_DIR / "README.md").is_file()


@pytest.mark.parametrize("damage, message", [
    (lambda b: (b / "problem.toml").write_text(TOML.replace("cf_rating = 1000\n", "")),
     "Starter problem 01_tiny: problem.toml lacks 'cf_rating'"),
    (lambda b: (b / "problem.toml").write_text(TOML + "oops = \n"),
     "Starter problem 01_tiny: problem.toml is not valid TOML"),
    (lambda b: (b / "problem.md").unlink(), "Starter problem 01_tiny has no problem.md"),
    (lambda b: (b / "tests" / "private" / "03.out").unlink(),
     "Starter problem 01_tiny: private/03.in has no 03.out"),
    (lambda b: (b / "problem.toml").write_text(TOML.replace('difficulty = "B"', 'difficulty = "Z"')),
     "Starter problem 01_tiny: field 'difficulty' should be an id 0-28 or a name"),
    (lambda b: (b / "problem.toml").write_text(TOML.replace("memory_limit_mb = 64", 'memory_limit_mb = "64"')),
     "Starter problem 01_tiny: field 'memory_limit_bytes' should be an integer, not str"),
])
def test_a_broken_folder_is_one_sentence(tmp_path, damage, message):
    damage(make_problem(tmp_path))
    with pytest.raises(UserError, match=message) as info:
        starter_rows(tmp_path)
    assert "\n" not in str(info.value)


def test_a_problem_without_solutions_or_private_tests(tmp_path):
    base = make_problem(tmp_path)
    shutil.rmtree(base / "solutions")
    shutil.rmtree(base / "tests" / "private")
    [row] = starter_rows(tmp_path)
    assert row["solutions"] == row["incorrect_solutions"] == {"language": [], "solution": []}
    assert row["private_tests"] == {"input": [], "output": []} and len(row["public_tests"]["input"]) == 1
