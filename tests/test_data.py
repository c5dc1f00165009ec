"""acodium.data on the real CodeContests sample: every kind of source, every filter, bad input."""

from __future__ import annotations

import copy
import json
import math
import socket

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from acodium import data
from acodium.errors import UserError


@pytest.fixture(scope="module")
def sample(train_sample_path):
    return data.load_problems(train_sample_path, languages=None)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open an internet connection fails the test."""

    def refuse(self, address, *args):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise AssertionError(f"network access attempted: {address}")
        return real_connect(self, address, *args)

    real_connect = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: refuse(socket.socket(), a[0]))


def assert_same_problems(ds, rows):
    """The loaded table holds exactly these raw JSON rows, in order, field by field."""
    assert ds.features == data.features()
    assert len(ds) == len(rows)
    for got, raw in zip(ds, rows):
        for column in data.COLUMNS:
            if column == "cf_points":
                assert math.isclose(got[column], raw[column], abs_tol=1e-6)
            else:
                assert got[column] == raw[column], (raw["name"], column)


# --------------------------------------------------------------------------- sources


def test_jsonl_source_keeps_every_field_of_every_row(sample, train_rows):
    assert_same_problems(sample, train_rows)


def test_parquet_file_written_from_raw_json_loads_the_same(tmp_path, train_rows):
    # pyarrow infers null / list<null> types for the sample's empty columns: the loader casts them.
    path = tmp_path / "sample.parquet"
    pq.write_table(pa.Table.from_pylist(train_rows), path)
    assert pq.read_schema(path).field("time_limit").type == pa.null()
    ds = data.load_problems(path, languages=None, cache_dir=tmp_path / "cache")
    assert_same_problems(ds, train_rows)


def test_several_parquet_files_by_glob_and_by_list(tmp_path, train_rows):
    for i, part in enumerate((train_rows[:100], train_rows[100:])):
        pq.write_table(pa.Table.from_pylist(part), tmp_path / f"part-{i}.parquet")
    by_glob = data.load_problems(str(tmp_path / "part-*.parquet"), languages=None, cache_dir=tmp_path / "c")
    by_list = data.load_problems(sorted(tmp_path.glob("part-*.parquet")), languages=None, cache_dir=tmp_path / "c")
    assert by_glob["name"] == by_list["name"] == [r["name"] for r in train_rows]


def test_save_to_disk_folders_dict_and_single(tmp_path, sample, train_rows):
    datasets.DatasetDict({"train": sample.select(range(200)), "valid": sample.select(range(200, 230))}).save_to_disk(
        str(tmp_path / "dict")
    )
    sample.save_to_disk(str(tmp_path / "single"))
    valid = data.load_problems(tmp_path / "dict", "valid", languages=None)
    assert_same_problems(valid, train_rows[200:])
    assert len(data.load_problems(tmp_path / "dict", languages=None)) == 200
    assert_same_problems(data.load_problems(tmp_path / "single", languages=None), train_rows)
    assert data.dataset_splits(tmp_path / "dict") == ["train", "valid"]
    with pytest.raises(UserError, match=r"has no split 'test' \(it has train, valid\)"):
        data.load_problems(tmp_path / "dict", "test")
    with pytest.raises(UserError, match="several splits"):
        data.load_problems(tmp_path / "dict", None)


def make_hub_copy(root, rows):
    """A folder laid out like the hub repository: data/{split}-NNNNN-of-NNNNN.parquet in the hub's schema.

    The hub stores time_limit as {seconds, nanos} and a memory limit: the copy does too.
    """
    hub_rows = copy.deepcopy(rows)
    for i, row in enumerate(hub_rows):
        row["time_limit"] = {"seconds": 1 + i % 3, "nanos": 500_000_000 if i % 2 else 0}
        row["memory_limit_bytes"] = 256 * 2**20
    (root / "data").mkdir(parents=True)
    (root / "README.md").write_text("---\npretty_name: CodeContests (local copy for tests)\n---\n")
    feats = data.features()
    datasets.Dataset.from_list(hub_rows[:150], features=feats).to_parquet(
        str(root / "data" / "train-00000-of-00001.parquet")
    )
    datasets.Dataset.from_list(hub_rows[150:], features=feats).to_parquet(
        str(root / "data" / "valid-00000-of-00001.parquet")
    )
    return hub_rows


def test_hub_path_on_a_local_copy_fetches_only_the_split_asked(tmp_path, train_rows, no_network):
    hub = tmp_path / "code_contests"
    hub_rows = make_hub_copy(hub, train_rows)
    assert data.dataset_splits(str(hub)) == ["train", "valid"]
    # Only the requested split is read: a broken train file does not matter for valid.
    (hub / "data" / "train-00000-of-00001.parquet").write_bytes(b"not a parquet file")
    valid = data.load_problems(str(hub), "valid", languages=None, cache_dir=tmp_path / "cache")
    assert_same_problems(valid, hub_rows[150:])
    problem = data.Problem.from_row(valid[1])  # row 151 of the copy: 1 + 151 % 3 = 2 s and a half
    assert problem.time_limit_s == 2.5
    assert problem.memory_limit_bytes == 256 * 2**20
    with pytest.raises(UserError, match=r"no split 'test' \(it has train, valid\)"):
        data.load_problems(str(hub), "test", cache_dir=tmp_path / "cache")
    with pytest.raises(UserError, match="Cannot load split 'train'"):
        data.load_problems(str(hub), "train", cache_dir=tmp_path / "cache")


def test_saved_name_round_trip_keeps_other_splits(tmp_path, sample, train_rows):
    store = tmp_path / "store"
    data.save_problems(sample.select(range(10)), "mini", store, split="train")
    data.save_problems(sample.select(range(10, 15)), "mini", store, split="valid")
    data.save_problems(sample.select(range(20, 23)), "mini", store, split="train")  # replaces train only
    assert data.saved_names(store) == ["mini"]
    assert data.dataset_splits("mini", data_dir=store) == ["train", "valid"]
    assert_same_problems(data.load_problems("mini", "train", data_dir=store, languages=None), train_rows[20:23])
    assert_same_problems(data.load_problems("mini", "valid", data_dir=store, languages=None), train_rows[10:15])
    assert sorted(p.name for p in store.iterdir()) == ["mini"]  # no temporary folders left behind
    for bad in ("", "a/b", ".hidden", "starter"):
        with pytest.raises(UserError, match="cannot name a dataset"):
            data.save_problems(sample, bad, store)


def test_starter_source():
    ds = data.load_problems("starter", languages=None)
    assert len(ds) >= 8 and ds.features == data.features()
    assert ds["name"] == [row["name"] for row in data.starter_rows()]


# --------------------------------------------------------------------------- filters


def names_of(rows):
    return [r["name"] for r in rows]


def test_names_filter(train_sample_path, train_rows):
    wanted = [train_rows[5]["name"], train_rows[77]["name"], train_rows[229]["name"]]
    ds = data.load_problems(train_sample_path, names=wanted)
    assert ds["name"] == wanted
    with pytest.raises(UserError, match="has no problem named 'No Such Problem'"):
        data.load_problems(train_sample_path, names=[wanted[0], "No Such Problem"])


def test_tags_filter_keeps_problems_with_any_tag(train_sample_path, train_rows):
    for tags in (["dp"], ["geometry", "fft"], ["strings", "hashing", "games"]):
        expected = names_of(r for r in train_rows if set(tags) & set(r["cf_tags"]))
        assert data.load_problems(train_sample_path, tags=tags)["name"] == expected
    assert len(data.load_problems(train_sample_path, tags=["dp"])) == 64


def test_difficulty_filter_by_letter_and_id(train_sample_path, train_rows):
    expected = names_of(r for r in train_rows if r["difficulty"] in (7, 8))  # A and B
    assert data.load_problems(train_sample_path, difficulties=["A", "b"])["name"] == expected
    assert data.load_problems(train_sample_path, difficulties=[7, 8])["name"] == expected
    assert len(data.load_problems(train_sample_path, difficulties=["E"])) == sum(
        r["difficulty"] == 11 for r in train_rows
    )
    with pytest.raises(UserError, match="Unknown difficulty 'Z9'"):
        data.load_problems(train_sample_path, difficulties=["Z9"])


def test_min_tests_filter(train_sample_path, train_rows):
    expected = names_of(
        r for r in train_rows if len(r["private_tests"]["input"]) >= 40 and len(r["public_tests"]["input"]) >= 3
    )
    got = data.load_problems(train_sample_path, min_tests={"private": 40, "public_tests": 3})
    assert got["name"] == expected and 0 < len(expected) < 230
    with pytest.raises(UserError, match="select no problem"):
        data.load_problems(train_sample_path, min_tests={"generated": 1})


def test_rating_filter(train_sample_path, train_rows):
    # The sample's ratings are all unknown (0): any bound selects nothing, and says so.
    assert all(r["cf_rating"] == 0 for r in train_rows)
    with pytest.raises(UserError, match=r"filters \(rating\) select no problem"):
        data.load_problems(train_sample_path, max_rating=3500)
    starter = data.starter_rows()
    expected = names_of(r for r in starter if 1000 <= r["cf_rating"] <= 1200)
    assert data.load_problems("starter", min_rating=1000, max_rating=1200)["name"] == expected
    assert 0 < len(expected) < len(starter)
    with pytest.raises(UserError, match="above the maximum"):
        data.load_problems("starter", min_rating=1500, max_rating=1000)


def test_sample_rate_and_limit_are_seeded_samples_in_order(train_sample_path, train_rows):
    order = {r["name"]: i for i, r in enumerate(train_rows)}
    a = data.load_problems(train_sample_path, sample_rate=0.1, seed=0)["name"]
    b = data.load_problems(train_sample_path, sample_rate=0.1, seed=0)["name"]
    c = data.load_problems(train_sample_path, sample_rate=0.1, seed=1)["name"]
    assert len(a) == 23 and a == b and a != c
    assert [order[n] for n in a] == sorted(order[n] for n in a)
    assert len(data.load_problems(train_sample_path, limit=7, seed=3)) == 7
    assert len(data.load_problems(train_sample_path, limit=1000)) == 230
    # Sampling comes after the other filters.
    dp = data.load_problems(train_sample_path, tags=["dp"], sample_rate=0.5, seed=0)
    assert len(dp) == 32 and all("dp" in t for t in dp["cf_tags"])
    with pytest.raises(UserError, match="either a sample rate or a limit"):
        data.load_problems(train_sample_path, sample_rate=0.5, limit=3)
    with pytest.raises(UserError, match="sample rate must be in"):
        data.load_problems(train_sample_path, sample_rate=1.5)


def test_language_filter(train_sample_path, train_rows):
    # The sample holds one Python 3 solution per problem.
    py3 = data.load_problems(train_sample_path)
    assert [s["solution"] for s in py3["solutions"]] == [r["solutions"]["solution"] for r in train_rows]
    cpp = data.load_problems(train_sample_path, languages=["cpp"])
    assert len(cpp) == 230 and all(s == {"language": [], "solution": []} for s in cpp["solutions"])
    # The starter problems mix Python 3 and C++ solutions.
    rows = data.starter_rows()
    every = data.load_problems("starter", languages=None)
    only_cpp = data.load_problems("starter", languages=["c++"])
    default = data.load_problems("starter")
    for row, a, b, c in zip(rows, every, only_cpp, default):
        sol = row["solutions"]
        assert a["solutions"] == sol
        assert b["solutions"]["solution"] == [s for s, l in zip(sol["solution"], sol["language"]) if l == 2]
        assert c["solutions"]["solution"] == [s for s, l in zip(sol["solution"], sol["language"]) if l == 3]
        bad = row["incorrect_solutions"]
        assert c["incorrect_solutions"]["solution"] == [s for s, l in zip(bad["solution"], bad["language"]) if l == 3]
    assert any(len(r["solutions"]["language"]) for r in only_cpp)
    with pytest.raises(UserError, match="'python' is ambiguous"):
        data.load_problems("starter", languages=["python"])


# --------------------------------------------------------------------------- Problem view


def test_problem_view_of_the_sample(sample, train_rows):
    raw = train_rows[0]
    problem = data.Problem.from_row(sample[0])
    assert problem.name == raw["name"] and problem.description == raw["description"]
    assert problem.time_limit_s is None and problem.memory_limit_bytes is None  # null and 0 in the sample
    assert problem.tests("public") == list(zip(raw["public_tests"]["input"], raw["public_tests"]["output"]))
    assert problem.tests("private_tests") == list(zip(raw["private_tests"]["input"], raw["private_tests"]["output"]))
    assert problem.tests("generated") == []
    assert problem.solutions() == [("python3", raw["solutions"]["solution"][0])]
    assert problem.solutions("cpp") == [] and problem.incorrect_solutions() == []
    assert problem.difficulty == data.DIFFICULTY_NAMES[raw["difficulty"]] and problem.source == "CODEFORCES"
    assert problem.rating is None and problem.tags == raw["cf_tags"]
    with pytest.raises(UserError, match="Unknown test set"):
        problem.tests("secret")
    assert data.get_problem(sample, raw["name"]) == problem


def test_time_limit_given_as_seconds_in_jsonl(tmp_path, train_rows):
    rows = copy.deepcopy(train_rows[:3])
    rows[0]["time_limit"], rows[1]["time_limit"] = 2, {"seconds": 0, "nanos": 0}
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ds = data.load_problems(path)
    assert ds[0]["time_limit"] == {"seconds": 2, "nanos": 0}
    assert [data.Problem.from_row(r).time_limit_s for r in ds] == [2.0, None, None]


# --------------------------------------------------------------------------- bad input


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda r: r["private_tests"]["output"].pop(), "Line 4 of .*: field 'private_tests' has 40 inputs but 39 outputs"),
        (lambda r: r.update(cf_tags="dp"), "Line 4 of .*: field 'cf_tags' should be a list of strings, not str"),
        (lambda r: r.pop("name"), "Line 4 of .* lacks the field 'name'"),
        (lambda r: r.update(difficulty=99), "Line 4 of .*: field 'difficulty' should be an id 0-28"),
        (lambda r: r["solutions"]["language"].__setitem__(0, 9), "Line 4 of .*: field 'solutions'.language holds 9"),
        (lambda r: r.update(memory_limit_bytes=-1), "field 'memory_limit_bytes' should be at least 0"),
        (lambda r: r.update(privat_tests={}), "Line 4 of .* has a field 'privat_tests' that is not in the"),
    ],
)
def test_schema_violations_in_jsonl_name_line_and_field(tmp_path, train_rows, change, message):
    rows = copy.deepcopy(train_rows[:6])
    rows[3]["private_tests"] = copy.deepcopy(train_rows[0]["private_tests"])  # 40 tests
    change(rows[3])
    with pytest.raises(UserError, match=message):
        data.load_problems(write_jsonl(tmp_path / "bad.jsonl", rows))


def test_schema_violations_in_parquet_name_row_and_column(tmp_path, train_rows):
    rows = copy.deepcopy(train_rows[:20])
    rows[7]["private_tests"]["output"].pop()
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "counts.parquet")
    with pytest.raises(UserError, match=r"Row 7 \('1037_E. Trips'\) of .*: the field 'private_tests' has inputs and outputs"):
        data.load_problems(tmp_path / "counts.parquet", cache_dir=tmp_path / "c")
    rows = copy.deepcopy(train_rows[:20])
    for r in rows:
        r["cf_rating"] = "unrated"
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "types.parquet")
    with pytest.raises(UserError, match="column 'cf_rating' has type Value\\('string'\\), which does not fit"):
        data.load_problems(tmp_path / "types.parquet", cache_dir=tmp_path / "c")
    for r in rows:
        r["cf_rating"], r["comment"] = 0, "x"
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "extra.parquet")
    with pytest.raises(UserError, match="has a column 'comment' that is not in the code_contests schema"):
        data.load_problems(tmp_path / "extra.parquet", cache_dir=tmp_path / "c")


def test_unreadable_and_unknown_sources(tmp_path, train_sample_path):
    (tmp_path / "binary.jsonl").write_bytes(b'{"name": "\xff\xfe"}\n')
    with pytest.raises(UserError, match="Cannot read .*binary.jsonl"):
        data.load_problems(tmp_path / "binary.jsonl")
    (tmp_path / "broken.jsonl").write_text('{"name": "a", "description": "b"}\n{"name": \n')
    with pytest.raises(UserError, match="Line 2 of .*broken.jsonl is not valid JSON"):
        data.load_problems(tmp_path / "broken.jsonl")
    (tmp_path / "fake.parquet").write_text("hello")
    with pytest.raises(UserError, match="Cannot read .*fake.parquet as parquet"):
        data.load_problems(tmp_path / "fake.parquet")
    (tmp_path / "table.csv").write_text("name\n")
    with pytest.raises(UserError, match="Cannot tell the format"):
        data.load_problems(tmp_path / "table.csv")
    with pytest.raises(UserError, match="No such file: .*missing.jsonl"):
        data.load_problems(tmp_path / "missing.jsonl")
    with pytest.raises(UserError, match="Unknown dataset 'no_such_set'.*saved under"):
        data.load_problems("no_such_set", data_dir=tmp_path)
    with pytest.raises(UserError, match="No file matches"):
        data.load_problems(str(tmp_path / "*.nothing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="neither a saved dataset nor a folder"):
        data.load_problems(tmp_path / "empty")
    with pytest.raises(UserError, match="Unknown language 'cobol'"):
        data.load_problems(train_sample_path, languages=["cobol"])


def test_user_errors_are_one_sentence(tmp_path):
    with pytest.raises(UserError) as info:
        data.load_problems("no_such_set", data_dir=tmp_path)
    text = str(info.value)
    assert "\n" not in text and text.endswith(".")
