"""The file source: candidates the user brings, checked whole before any work, on real rows."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from acodium.errors import UserError
from acodium.generate import FileSource, generate_candidates, make_source


def test_file_source(train_rows, tmp_path):
    rows = train_rows[:3]
    brought = [
        {"problem": r["name"], "code": r["solutions"]["solution"][0]} for r in rows
    ] + [{"problem": rows[0]["name"], "code": "#include <cstdio>\nint main(){puts(\"1\");}\n",
          "meta": json.dumps({"model": "mine"}), "source": "llm"},
         {"problem": "not in the set", "code": "print(1)"}]
    path = tmp_path / "mine.jsonl"
    path.write_text("".join(json.dumps(b) + "\n" for b in brought))
    table = generate_candidates(rows, FileSource(path), None, progress=False)
    assert len(table) == 4 and set(table["source"]) == {"file"}
    first = table[table["problem"] == rows[0]["name"]]
    assert list(first["candidate_id"]) == ["file-0", "file-1"]
    assert list(first["language"]) == ["python3", "cpp"]
    assert json.loads(first["meta"].iloc[1])["model"] == "mine"
    pd.DataFrame(brought).to_parquet(tmp_path / "mine.parquet")
    assert generate_candidates(rows, FileSource(tmp_path / "mine.parquet"), 1, progress=False)["code"].tolist() \
        == table.groupby("problem", sort=False).head(1)["code"].tolist()
    pd.DataFrame({"problem": ["x"]}).to_parquet(tmp_path / "nocode.parquet")
    with pytest.raises(UserError, match="code"):
        FileSource(tmp_path / "nocode.parquet")
    with pytest.raises(UserError, match="No table"):
        make_source("file", path=tmp_path / "missing.jsonl")


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_ids_meta_and_source_are_kept_or_filled(train_rows, tmp_path):
    row = train_rows[0]
    code = row["solutions"]["solution"][0]
    path = write_jsonl(tmp_path / "c.jsonl", [
        {"problem": row["name"], "candidate_id": "mine-a", "code": code, "language": "python3",
         "meta": {"model": "m", "temperature": 0.1}},
        {"problem": row["name"], "code": code, "meta": "a note, not JSON"},
        {"problem": row["name"], "candidate_id": "mine-b", "code": code, "meta": "", "source": "human"},
    ])
    source = FileSource(path)
    assert source.problems == {row["name"]} and source.plan(row, None) == ["mine-a", "file-1", "mine-b"]
    assert source.plan(row, 2) == ["mine-a", "file-1"] and source.plan({"name": "other"}, None) == []
    table = generate_candidates([row], source, None, progress=False)
    metas = [json.loads(m) for m in table["meta"]]
    assert metas[0] == {"model": "m", "temperature": 0.1, "file": str(path)}
    assert metas[1] == {"note": "a note, not JSON", "file": str(path)}
    assert metas[2] == {"original_source": "human", "file": str(path)}
    assert set(table["source"]) == {"file"} and set(table["code"]) == {code}
    assert source.config() == {"source": "file", "path": str(path.resolve())}


def test_a_parquet_with_missing_ids_fills_them_per_problem(train_rows, tmp_path):
    a, b = train_rows[0], train_rows[1]
    pd.DataFrame({"problem": [a["name"], b["name"], a["name"]], "candidate_id": ["x", None, None],
                  "code": ["print(1)", "print(2)", "print(3)"]}).to_parquet(tmp_path / "c.parquet")
    table = generate_candidates([a, b], FileSource(tmp_path / "c.parquet"), None, progress=False)
    assert table[["problem", "candidate_id", "code"]].values.tolist() == [
        [a["name"], "x", "print(1)"], [a["name"], "file-1", "print(3)"], [b["name"], "file-0", "print(2)"]]


@pytest.mark.parametrize("records, message", [
    ([{"problem": "p", "candidate_id": "c", "code": "print(1)"},
      {"problem": "p", "candidate_id": "c", "code": "print(2)"}], "repeats the id 'c' for problem 'p'"),
    ([{"problem": "p", "code": None}], "no program text in 'code' for 'file-0' of problem 'p' (it holds null)"),
    ([{"problem": "p", "code": 5}], "(it holds the number 5)"),
    ([{"problem": "p", "code": ["print(1)"]}], "(it holds a list)"),
    ([{"problem": "p"}], "code"),
])
def test_a_bad_file_is_one_sentence_before_any_work(tmp_path, records, message):
    path = write_jsonl(tmp_path / "bad.jsonl", records)
    with pytest.raises(UserError, match=re.escape(message)):
        FileSource(path)


def test_the_factory_needs_a_path():
    with pytest.raises(UserError, match="needs the path of a JSONL or parquet"):
        make_source("file")
