"""CodeContests-O (caijanfeng/CodeContests-O) onto the problems table, from fixture files in its schema."""

from __future__ import annotations

import json

import pytest

from acodium import data
from acodium.errors import UserError

CHECKER = '#include "testlib.h"\nint main(int argc, char* argv[]) { registerTestlibCmd(argc, argv); quitf(_ok, "ok"); }\n'


def cc_o_row(name="1003_E. Tree Constructing", checker=CHECKER, **over):
    """One row in the card's schema: corner cases as {input: {stdin}, output: {stdout}}, a testlib checker."""
    row = {
        "name": name, "description": "Build a tree.",
        "corner_cases": [{"input": {"stdin": "6 3 3\n"}, "output": {"stdout": "YES\n"}},
                         {"input": {"stdin": "1 1 1\n"}, "output": {"stdout": "NO\n"}}],
        "commands": ["./gen 5"], "generator": "int main() {}", "checker": checker,
        "input_constraints_summary": "1 <= n <= 4e5",
        "results": [{"corner_cases": [], "generate_commands": [], "commands_add": [], "commands_replace": [],
                     "generate_case_inputs": [], "improved_generator": "", "search_replace_generator_blocks": [],
                     "unmatched_blocks": []}],
    }
    row.update(over)
    return row


def test_corner_cases_become_generated_tests_and_the_checker_a_cpp_program(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps(cc_o_row()) + "\n" + json.dumps(cc_o_row("1A. Theatre Square", checker=None)) + "\n")
    ds = data.load_problems(path)
    problem = data.Problem.from_row(ds[0])
    assert ds["name"] == ["1003_E. Tree Constructing", "1A. Theatre Square"]
    assert problem.tests("generated") == [("6 3 3\n", "YES\n"), ("1 1 1\n", "NO\n")]
    assert problem.tests("private") == [] and problem.time_limit_s is None
    assert data.checker_spec(ds[0]) == {"language": "cpp", "code": CHECKER}
    assert data.checker_spec(ds[1]) is None


def test_a_parquet_fixture_with_large_strings_loads(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist([cc_o_row()])
    table = table.cast(pa.schema([f.with_type(pa.large_string()) if f.type == pa.string() else f for f in table.schema]))
    pq.write_table(table, tmp_path / "train-00000-of-00001.parquet")
    ds = data.load_problems(tmp_path / "train-00000-of-00001.parquet")
    assert data.checker_spec(ds[0])["code"] == CHECKER


def test_a_corner_case_without_stdout_is_named(tmp_path):
    row = cc_o_row(corner_cases=[{"input": {"stdin": "1\n"}, "output": {}}])
    (tmp_path / "bad.jsonl").write_text(json.dumps(row) + "\n")
    with pytest.raises(UserError, match=r"^Row 0 of .*bad\.jsonl: test 0 should hold text input and output\.$"):
        data.load_problems(tmp_path / "bad.jsonl")


def test_a_row_without_its_name_is_one_sentence(tmp_path):
    row = cc_o_row()
    del row["name"]
    (tmp_path / "bad.jsonl").write_text(json.dumps(row) + "\n")
    with pytest.raises(UserError, match=r"^Row 0 of .*bad\.jsonl lacks the field 'name'\.$"):
        data.load_problems(tmp_path / "bad.jsonl")


def test_a_local_copy_laid_out_like_the_hub_repository_loads_by_split(tmp_path):
    """The card's layout: data/train-*, data/test-*, data/valid-* parquet files."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "CodeContests-O" / "data").mkdir(parents=True)
    for split, names in (("train", ["1003_E. Tree Constructing", "1A. Theatre Square"]), ("valid", ["1B. X"])):
        table = pa.Table.from_pylist([cc_o_row(n) for n in names])
        pq.write_table(table, tmp_path / "CodeContests-O" / "data" / f"{split}-00000-of-00001.parquet")
    root = tmp_path / "CodeContests-O"
    assert data.load_problems(root, "train", cache_dir=tmp_path / "hf")["name"] == [
        "1003_E. Tree Constructing", "1A. Theatre Square"]
    valid = data.load_problems(root, "valid", cache_dir=tmp_path / "hf")
    assert valid["name"] == ["1B. X"] and data.checker_spec(valid[0])["language"] == "cpp"
    assert sorted(data.dataset_splits(root)) == ["train", "valid"]
