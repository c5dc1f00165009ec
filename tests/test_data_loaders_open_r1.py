"""open-r1/codeforces onto the problems table, from fixture files in its schema."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from acodium import data
from acodium.data.adapters import OPEN_R1_ARGV_SHIM, adapt_rows
from acodium.errors import UserError

# A generated checker in open-r1's order: input, correct output, solution output.
CHECKER = (
    "import sys\n"
    "inp, answer, output = (open(p).read().split() for p in sys.argv[1:4])\n"
    "sys.exit(0 if sorted(answer) == sorted(output) else 1)\n"
)


def open_r1_row(contest="1003", index="E", title="Tree Constructing", **over):
    """One row in the card's schema: limits in seconds and MB, examples and official tests, a Python checker."""
    row = {
        "id": f"{contest}/{index}", "aliases": [], "contest_id": contest, "contest_name": "Round 494",
        "contest_type": "CF", "contest_start": 1530628500, "contest_start_year": 2018, "index": index,
        "time_limit": 4.0, "memory_limit": 256.0, "title": title, "description": "Build a tree.",
        "input_format": "n, d and k.", "output_format": "YES and the edges, or NO.",
        "interaction_format": None, "note": "Any tree will do.",
        "examples": [{"input": "6 3 3\n", "output": "YES\n3 1\n"}],
        "editorial": None, "rating": 2100, "tags": ["constructive algorithms", "graphs"], "testset_size": 2,
        "official_tests": [{"input": "6 3 3\n", "output": "YES\n3 1\n"}, {"input": "6 2 3\n", "output": "NO\n"}],
        "official_tests_complete": True, "input_mode": "stdio", "generated_checker": CHECKER,
        "executable": True, "generated_tests": 0,
    }
    row.update(over)
    return row


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_fields_map_onto_the_problems_table(tmp_path):
    ds = data.load_problems(write_jsonl(tmp_path / "cf.jsonl", [open_r1_row(), open_r1_row("1", "A", "Theatre Square",
                                                                                          generated_checker=None)]))
    problem = data.Problem.from_row(ds[0])
    assert ds["name"] == ["1003_E. Tree Constructing", "1_A. Theatre Square"]
    assert problem.tests("public") == [("6 3 3\n", "YES\n3 1\n")]
    assert problem.tests("private") == [("6 3 3\n", "YES\n3 1\n"), ("6 2 3\n", "NO\n")]
    assert (problem.time_limit_s, problem.memory_limit_bytes, problem.rating) == (4.0, 256 * 2**20, 2100)
    assert problem.tags == ["constructive algorithms", "graphs"] and problem.source == "CODEFORCES"
    assert ds[0]["cf_contest_id"] == 1003 and ds[0]["cf_index"] == "E"
    assert "Input\n\nn, d and k." in problem.description and "Note\n\nAny tree will do." in problem.description
    assert data.checker_spec(ds[0]) == {"language": "python3", "code": OPEN_R1_ARGV_SHIM + CHECKER}
    assert data.checker_spec(ds[1]) is None
    assert data.problem_key(ds["name"][0]) == "1003E"


def test_the_stored_checker_follows_testlibs_argument_order(tmp_path):
    """testlib calls `checker input output answer`; the shim hands open-r1's checker (input, answer, output)."""
    ds = data.load_problems(write_jsonl(tmp_path / "cf.jsonl", [open_r1_row()]))
    checker = tmp_path / "checker.py"
    checker.write_text(data.checker_spec(ds[0])["code"])
    (tmp_path / "in").write_text("3\n")
    (tmp_path / "answer").write_text("1 2 3\n")
    (tmp_path / "output").write_text("3 2 1\n")
    (tmp_path / "wrong").write_text("3 2 2\n")
    args = [sys.executable, str(checker), str(tmp_path / "in")]
    assert subprocess.run([*args, str(tmp_path / "output"), str(tmp_path / "answer")]).returncode == 0
    assert subprocess.run([*args, str(tmp_path / "wrong"), str(tmp_path / "answer")]).returncode == 1


def test_interactive_problems_are_dropped_unless_kept():
    rows = [open_r1_row(), open_r1_row("1167", "B", "Lost Numbers", interaction_format="Ask ? i j.")]
    assert [r["name"] for r in adapt_rows(rows, data.OPEN_R1_CODEFORCES, "here")] == ["1003_E. Tree Constructing"]
    kept = adapt_rows(rows, data.OPEN_R1_CODEFORCES, "here", interactive="keep")
    assert "Interaction\n\nAsk ? i j." in kept[1]["description"]
    with pytest.raises(UserError, match=r"^interactive is 'drop' or 'keep', not 'all'\.$"):
        adapt_rows(rows, data.OPEN_R1_CODEFORCES, "here", interactive="all")


def test_a_file_of_only_interactive_problems_says_so(tmp_path):
    path = write_jsonl(tmp_path / "cf.jsonl", [open_r1_row(interaction_format="Ask.")])
    with pytest.raises(UserError, match=r"holds no problems acodium can judge\.$"):
        data.load_problems(path)


def test_a_parquet_fixture_loads_like_jsonl(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [open_r1_row(), open_r1_row("1", "A", "Theatre Square", generated_checker=None)]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "train-00000-of-00011.parquet")
    assert (data.load_problems(tmp_path / "train-00000-of-00011.parquet").to_list()
            == data.load_problems(write_jsonl(tmp_path / "cf.jsonl", rows)).to_list())


def test_a_row_missing_its_index_is_one_sentence(tmp_path):
    row = open_r1_row()
    del row["index"]
    with pytest.raises(UserError, match=r"^Row 0 of .*cf\.jsonl lacks the field 'index'\.$"):
        data.load_problems(write_jsonl(tmp_path / "cf.jsonl", [row]))


def test_the_hub_id_fails_in_seconds_in_one_sentence(tmp_path):
    """The hub is unreachable here: offline or not, the answer comes in seconds, not after a minute of retries."""
    import time

    start = time.monotonic()
    with pytest.raises(UserError, match=r"^Cannot load the dataset 'open-r1/codeforces'[^\n]*\.$"):
        data.load_problems(data.OPEN_R1_CODEFORCES, cache_dir=tmp_path / "hf")
    assert time.monotonic() - start < 10
