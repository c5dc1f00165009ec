"""A problem's `checker` and `interactor`: every form round-trips through JSONL, parquet and save_to_disk,
a malformed value is one sentence naming the row and the field, and tables without them load as before."""

from __future__ import annotations

import json

import pytest

from acodium import data
from acodium.data.checkers import is_builtin_name, stored_check
from acodium.errors import UserError

CPP = "#include \"testlib.h\"\nint main(int argc, char* argv[]) { registerTestlibCmd(argc, argv); quitf(_ok, \"ok\"); }\n"
PY = "import sys\nsys.exit(0)\n"

FORMS = [
    ("tokens", None),
    ("float_rel:1e-6", {"language": "cpp", "code": CPP}),
    ({"language": "cpp", "code": CPP}, {"language": "python3", "code": PY}),
    ({"language": "python3", "code": PY}, None),
    (None, None),
]


def _rows(train_rows):
    rows = []
    for row, (checker, interactor) in zip(train_rows, FORMS):
        row = dict(row)
        if checker is not None:
            row["checker"] = checker
        if interactor is not None:
            row["interactor"] = interactor
        rows.append(row)
    return rows


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _specs(ds):
    return [(data.checker_spec(r), data.checker_spec(r, "interactor")) for r in ds]


def test_every_form_round_trips_through_jsonl_parquet_and_disk(tmp_path, train_rows):
    rows = _rows(train_rows)
    ds = data.load_problems(_write_jsonl(tmp_path / "p.jsonl", rows), languages=None)
    assert _specs(ds) == FORMS
    assert [(p.checker, p.interactor) for p in map(data.Problem.from_row, ds)] == FORMS
    ds.to_parquet(str(tmp_path / "p.parquet"))
    from_parquet = data.load_problems(tmp_path / "p.parquet", languages=None, cache_dir=tmp_path / "hf")
    assert _specs(from_parquet) == FORMS
    data.save_problems(from_parquet, "with_checkers", tmp_path)
    from_disk = data.load_problems("with_checkers", data_dir=tmp_path, languages=None)
    assert _specs(from_disk) == FORMS
    # the JSONL written back from a loaded table reads again (the stored struct is an accepted spelling)
    again = data.load_problems(_write_jsonl(tmp_path / "back.jsonl", [dict(r) for r in from_disk]), languages=None)
    assert _specs(again) == FORMS
    assert from_disk["name"] == [r["name"] for r in rows]


def test_tables_without_checkers_load_as_before(tmp_path, train_sample_path):
    ds = data.load_problems(train_sample_path, languages=None)
    assert "checker" not in ds.column_names and "interactor" not in ds.column_names
    assert data.checker_spec(ds[0]) is None and data.checker_spec(ds[0], "interactor") is None
    starter = data.load_problems("starter")
    assert "checker" not in starter.column_names


def test_a_filter_keeps_the_checker_of_the_problems_it_keeps(tmp_path, train_rows):
    rows = _rows(train_rows)
    ds = data.load_problems(_write_jsonl(tmp_path / "p.jsonl", rows), names=[rows[2]["name"]])
    assert _specs(ds) == [FORMS[2]]


@pytest.mark.parametrize("value", ["tokens", "exact", "unordered_tokens", "unordered_lines", "yes_no",
                                   "float_abs:0.5", "float_rel:1e-9", " tokens "])
def test_builtin_names_are_accepted(value):
    assert stored_check(value, "here") == {"name": value.strip(), "language": None, "code": None}


@pytest.mark.parametrize("name", ["token", "float_rel", "float_rel:", "float_rel:-1", "float_abs:nan",
                                  "float_abs:inf", "float_rel:abc", "TOKENS"])
def test_bad_builtin_names_are_refused(name):
    assert not is_builtin_name(name)


@pytest.mark.parametrize("field, value, words", [
    ("checker", "tokenz", "names no built-in checker ('tokenz')"),
    ("checker", {"language": "java", "code": "class A {}"}, "is in 'java'"),
    ("checker", {"language": "cpp"}, "without its 'code'"),
    ("checker", {"code": "x"}, "without its 'language'"),
    ("checker", {"language": "cpp", "code": "   "}, "has no code"),
    ("checker", {"language": "cpp", "code": "x", "args": "-O2"}, "has a field 'args'"),
    ("checker", 7, "not int"),
    ("interactor", "tokens", "should be a program"),
])
def test_a_malformed_value_in_jsonl_names_the_line_and_field(tmp_path, train_rows, field, value, words):
    rows = [dict(train_rows[0]), dict(train_rows[1], **{field: value})]
    with pytest.raises(UserError) as err:
        data.load_problems(_write_jsonl(tmp_path / "bad.jsonl", rows))
    message = str(err.value)
    assert message.startswith(f"Line 2 of {tmp_path / 'bad.jsonl'}: field {field!r}")
    assert words in message and message.count(". ") == 0 and message.endswith(".")


def test_a_malformed_value_in_parquet_names_the_row_and_problem(tmp_path, train_rows):
    import pyarrow as pa
    import pyarrow.parquet as pq

    struct = pa.struct([("name", pa.string()), ("language", pa.string()), ("code", pa.string())])
    table = pa.table({
        "name": [train_rows[0]["name"], train_rows[1]["name"]],
        "description": ["a", "b"],
        "checker": pa.array([None, {"name": None, "language": "rust", "code": "fn main(){}"}], type=struct),
    })
    pq.write_table(table, tmp_path / "bad.parquet")
    with pytest.raises(UserError, match=rf"^Row 1 \({train_rows[1]['name']!r}\) of .*bad.parquet: the field "
                                        r"'checker' is in 'rust'"):
        data.load_problems(tmp_path / "bad.parquet", cache_dir=tmp_path / "hf")


def test_checker_spec_reads_hand_written_rows_and_refuses_unknown_fields():
    assert data.checker_spec({"name": "x", "checker": "  "}) is None
    assert data.checker_spec({"name": "x", "checker": {"name": "yes_no", "language": None, "code": None}}) == "yes_no"
    assert data.checker_spec({"name": "x", "interactor": {"language": "cpp", "code": CPP}}, "interactor") == {
        "language": "cpp", "code": CPP}
    with pytest.raises(ValueError):
        data.checker_spec({"name": "x"}, "validator")
    with pytest.raises(UserError, match=r"^The field 'checker' of 'x' names no built-in"):
        data.checker_spec({"name": "x", "checker": "diff"})


def test_a_parquet_checker_column_of_plain_names_reads_as_builtins(tmp_path, train_rows):
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = [r["name"] for r in train_rows[:3]]
    pq.write_table(pa.table({"name": names, "description": ["a", "b", "c"],
                             "checker": ["yes_no", None, "float_abs:1e-4"]}), tmp_path / "names.parquet")
    ds = data.load_problems(tmp_path / "names.parquet", cache_dir=tmp_path / "hf")
    assert [data.checker_spec(r) for r in ds] == ["yes_no", None, "float_abs:1e-4"]
    pq.write_table(pa.table({"name": names[:2], "description": ["a", "b"], "checker": ["tokens", "diff"]}),
                   tmp_path / "bad.parquet")
    with pytest.raises(UserError, match=rf"^Row 1 \({names[1]!r}\) of .*bad.parquet: the field 'checker' names no "):
        data.load_problems(tmp_path / "bad.parquet", cache_dir=tmp_path / "hf")
