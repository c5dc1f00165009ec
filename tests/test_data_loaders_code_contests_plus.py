"""CodeContests+ (ByteDance-Seed/Code-Contests-Plus) onto the problems table, from fixture files in its schema."""

from __future__ import annotations

import json

import pytest

from acodium import data
from acodium.data.adapters import from_code_contests_plus
from acodium.errors import UserError

CHECKER = '#include "testlib.h"\nint main(int argc, char* argv[]) { registerTestlibCmd(argc, argv); quitf(_ok, "ok"); }\n'
INTERACTOR = '#include "testlib.h"\nint main(int argc, char* argv[]) { registerInteraction(argc, argv); }\n'


def cc_plus_row(ident="1003E", title="Tree Constructing", **over):
    """One row in the card's schema: limits in ms and MB, submissions as {code, language}."""
    row = {
        "id": ident, "title": title, "source": "Codeforces",
        "description": "Build a tree with n vertices, diameter d and degrees at most k.",
        "time_limit": 4000, "memory_limit": 256,
        "validator": "int main() {}", "generator": "int main() {}", "generator_cmd": "./gen 1",
        "checker": CHECKER,
        "test_cases": [{"input": "6 3 3\n", "output": "YES\n3 1\n4 1\n1 2\n5 2\n2 6\n"},
                       {"input": "6 2 3\n", "output": "NO\n"}],
        "correct_submissions": [{"code": "print('NO')", "language": "PYTHON3"},
                                {"code": "int main(){}", "language": 2},
                                {"code": "fun main() {}", "language": "KOTLIN"}],
        "incorrect_submissions": [{"code": "print('YES')", "language": "python3", "result": "WA"}],
        "true_positive_rate": 1.0, "true_negative_rate": 0.98,
    }
    row.update(over)
    return row


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_a_jsonl_fixture_maps_tests_limits_checker_and_solutions(tmp_path):
    rows = [cc_plus_row(), cc_plus_row("1004A", "Sonya and Hotels", checker="", interactor=INTERACTOR)]
    ds = data.load_problems(write_jsonl(tmp_path / "ccplus.jsonl", rows), languages=None)
    first, second = (data.Problem.from_row(r) for r in ds)
    assert ds["name"] == ["1003E. Tree Constructing", "1004A. Sonya and Hotels"]
    assert first.time_limit_s == 4.0 and first.memory_limit_bytes == 256 * 2**20
    assert first.tests("private") == [("6 3 3\n", rows[0]["test_cases"][0]["output"]), ("6 2 3\n", "NO\n")]
    assert first.tests("public") == [] and first.source == "CODEFORCES"
    assert first.solutions() == [("python3", "print('NO')"), ("cpp", "int main(){}")]  # Kotlin has no id
    assert first.incorrect_solutions() == [("python3", "print('YES')")]
    assert data.checker_spec(ds[0]) == {"language": "cpp", "code": CHECKER}
    assert data.checker_spec(ds[0], "interactor") is None
    assert data.checker_spec(ds[1]) is None  # an empty checker is the default
    assert data.checker_spec(ds[1], "interactor") == {"language": "cpp", "code": INTERACTOR}


def test_a_parquet_fixture_loads_the_same_as_jsonl(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    one_type = [{"code": "print('NO')", "language": "PYTHON3"}, {"code": "int main(){}", "language": "CPP"}]
    rows = [cc_plus_row(correct_submissions=one_type),
            cc_plus_row("1010B", "Rocket", time_limit=None, memory_limit=None, correct_submissions=one_type)]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "part-0.parquet")
    from_parquet = data.load_problems(tmp_path / "part-0.parquet", languages=None)
    from_jsonl = data.load_problems(write_jsonl(tmp_path / "p.jsonl", rows), languages=None)
    assert from_parquet.to_list() == from_jsonl.to_list()
    assert data.Problem.from_row(from_parquet[1]).time_limit_s is None  # unknown stays unknown
    assert data.Problem.from_row(from_parquet[0]).solutions() == [("python3", "print('NO')"), ("cpp", "int main(){}")]


def test_a_row_missing_a_required_field_is_one_sentence(tmp_path):
    row = cc_plus_row()
    del row["description"]
    path = write_jsonl(tmp_path / "bad.jsonl", [cc_plus_row("1A", "Theatre Square"), row])
    with pytest.raises(UserError, match=rf"^Row 1 of {tmp_path / 'bad.jsonl'} lacks the field 'description'\.$"):
        data.load_problems(path)


def test_a_test_without_output_is_named(tmp_path):
    with pytest.raises(UserError, match=r"^Row 0 of here: test 1 should be an object with 'input' and 'output'\.$"):
        from_code_contests_plus(cc_plus_row(test_cases=[{"input": "1", "output": "1"}, {"input": "2"}]), "Row 0 of here")


def test_the_hub_id_fails_in_one_sentence_when_the_hub_is_unreachable(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(UserError, match=r"^Cannot load the dataset 'ByteDance-Seed/Code-Contests-Plus': the hub "
                                        r"\(127\.0\.0\.1\) is unreachable; .*\.$"):
        data.load_problems(data.CODE_CONTESTS_PLUS)
