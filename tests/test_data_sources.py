"""acodium.data.sources and saved: every kind of source found from its text, the same problems read back
from JSONL, parquet, save_to_disk folders and saved names, and every failure one sentence."""

from __future__ import annotations

import copy
import json
import os

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from acodium.data import load_problems, schema
from acodium.data.saved import disk_splits, save_problems, saved_names
from acodium.data.sources import HUB_ID, dataset_splits, first_line, locate, read_source
from acodium.data.starter import STARTER_DIR
from acodium.errors import UserError


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def few(train_rows):
    return copy.deepcopy(train_rows[:20])


# --------------------------------------------------------------------------- finding


def test_locate_tells_each_kind_from_its_text(tmp_path, few):
    jsonl = write_jsonl(tmp_path / "a.jsonl", few)
    pq.write_table(pa.Table.from_pylist(few), tmp_path / "b.parquet")
    datasets.Dataset.from_list(few).save_to_disk(str(tmp_path / "disk"))
    (tmp_path / "hubcopy" / "data").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(few), tmp_path / "hubcopy" / "data" / "train-0.parquet")
    assert locate("starter", None) == ("starter", STARTER_DIR)
    assert locate(jsonl, None) == ("jsonl", [jsonl])
    assert locate(str(tmp_path / "*.parquet"), None) == ("parquet", [tmp_path / "b.parquet"])
    assert locate([jsonl, jsonl], None) == ("jsonl", [jsonl, jsonl])
    assert locate(tmp_path / "disk", None) == ("disk", tmp_path / "disk")
    assert locate(tmp_path / "hubcopy", None) == ("hub", str(tmp_path / "hubcopy"))
    assert locate("disk", tmp_path) == ("disk", tmp_path / "disk")  # a name under data_dir
    assert locate(HUB_ID, tmp_path) == ("hub", HUB_ID)
    assert locate("someone/else-set_1", None) == ("hub", "someone/else-set_1")


@pytest.mark.parametrize("source, message", [
    ([], "The list of files to load is empty"),
    (3, "A source is a name, a path or a list of paths, not int"),
    ("nothing/here.jsonl", "No such file: nothing/here.jsonl"),
    ("./relative/folder", "No such file"),
    ("plain_name", "Unknown dataset 'plain_name': not a file or folder, not a saved name .saved under .*: none."),
])
def test_locate_refuses_what_it_cannot_find(tmp_path, source, message):
    with pytest.raises(UserError, match=message):
        locate(source, tmp_path)


def test_files_of_two_formats_or_an_unknown_one(tmp_path, few):
    jsonl = write_jsonl(tmp_path / "a.jsonl", few)
    pq.write_table(pa.Table.from_pylist(few), tmp_path / "b.parquet")
    with pytest.raises(UserError, match="either JSONL or parquet files, not both"):
        locate([jsonl, tmp_path / "b.parquet"], None)
    with pytest.raises(UserError, match="No such file: .*gone.jsonl"):
        locate([jsonl, tmp_path / "gone.jsonl"], None)
    (tmp_path / "c.txt").write_text("{}")
    with pytest.raises(UserError, match="Cannot tell the format of .*c.txt"):
        locate(str(tmp_path / "c.*"), None)


def test_saved_names_lists_only_saved_datasets(tmp_path, few):
    assert saved_names(None) == [] and saved_names(tmp_path / "absent") == []
    ds = datasets.Dataset.from_list(few, features=schema.features())
    save_problems(ds, "b_set", tmp_path)
    ds.save_to_disk(str(tmp_path / "a_single"))
    (tmp_path / "not_a_dataset").mkdir()
    (tmp_path / "notes.txt").write_text("")
    assert saved_names(tmp_path) == ["a_single", "b_set"]
    assert disk_splits(tmp_path / "b_set") == ["train"] and disk_splits(tmp_path / "a_single") == []
    assert disk_splits(tmp_path / "not_a_dataset") is None
    (tmp_path / "b_set" / "dataset_dict.json").write_text("{not json")
    with pytest.raises(UserError, match="dataset_dict.json is unreadable"):
        disk_splits(tmp_path / "b_set")


# --------------------------------------------------------------------------- round trips


def test_the_same_problems_through_every_kind_of_source(tmp_path, train_rows):
    """JSONL -> save_to_disk -> parquet -> saved name -> JSONL again: the rows never change."""
    rows = copy.deepcopy(train_rows[:30])
    first = load_problems(write_jsonl(tmp_path / "a.jsonl", rows), languages="all")
    first.save_to_disk(str(tmp_path / "disk"))
    second = load_problems(tmp_path / "disk", languages="all")
    second.to_parquet(str(tmp_path / "b.parquet"))
    third = load_problems(tmp_path / "b.parquet", languages="all", cache_dir=tmp_path / "cache")
    save_problems(third, "named", tmp_path / "store")
    fourth = load_problems("named", data_dir=tmp_path / "store", languages="all")
    write_jsonl(tmp_path / "c.jsonl", fourth.to_list())
    fifth = load_problems(tmp_path / "c.jsonl", languages="all")
    for ds in (first, second, third, fourth, fifth):
        assert ds.features == schema.features()
        assert ds.to_list() == first.to_list()
    assert [r["name"] for r in first] == [r["name"] for r in rows]


def test_a_cleaned_dataset_round_trips_with_its_extra_fields(tmp_path, train_rows):
    rows = copy.deepcopy(train_rows[:6])
    for i, r in enumerate(rows):
        r["private_tests"]["is_valid_test"] = [j % 3 != 0 for j in range(len(r["private_tests"]["input"]))]
        r["is_valid_problem"] = i != 4
    rows[2]["mutated_tests"] = {"input": ["1\n"], "output": ["2\n"], "output_confirmed": [True]}
    first = load_problems(write_jsonl(tmp_path / "a.jsonl", rows), languages="all")
    assert first[0]["mutated_tests"] is None and first[2]["mutated_tests"] == rows[2]["mutated_tests"]
    first.to_parquet(str(tmp_path / "a.parquet"))
    save_problems(first, "cleaned", tmp_path / "store", split="valid")
    write_jsonl(tmp_path / "b.jsonl", first.to_list())
    for source, data_dir in ((tmp_path / "a.parquet", None), ("cleaned", tmp_path / "store"),
                             (tmp_path / "b.jsonl", None)):
        again = load_problems(source, "valid", data_dir=data_dir, languages="all", cache_dir=tmp_path / "cache")
        assert again.features == first.features and again.to_list() == first.to_list(), source


def test_jsonl_blank_lines_several_files_and_empty_files(tmp_path, few):
    a = tmp_path / "a.jsonl"
    a.write_text("\n" + json.dumps(few[0]) + "\n\n" + json.dumps(few[1]) + "\n   \n")
    b = write_jsonl(tmp_path / "b.ndjson", few[2:4])
    ds, label = read_source([a, b], "train", None, None)
    assert ds["name"] == [r["name"] for r in few[:4]]
    assert label == f"{a} and 1 more files"
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(UserError, match="empty.jsonl holds no problems"):
        load_problems(tmp_path / "empty.jsonl")
    (tmp_path / "list.jsonl").write_text("[1, 2]\n")
    with pytest.raises(UserError, match="Line 1 of .*list.jsonl is not a JSON object"):
        load_problems(tmp_path / "list.jsonl")


def test_splits_of_each_kind(tmp_path, few):
    ds = datasets.Dataset.from_list(few, features=schema.features())
    datasets.DatasetDict({"test": ds, "valid": ds}).save_to_disk(str(tmp_path / "dict"))
    ds.save_to_disk(str(tmp_path / "single"))
    assert dataset_splits(tmp_path / "dict") == ["test", "valid"]
    assert dataset_splits(tmp_path / "single") == ["train"]
    assert dataset_splits("starter") == ["train"]
    assert dataset_splits(write_jsonl(tmp_path / "a.jsonl", few)) == ["train"]
    # A single saved Dataset has no splits: whatever split is asked names what it holds.
    assert load_problems(tmp_path / "single", "anything", languages="all")["name"] == [r["name"] for r in few]
    assert len(load_problems(tmp_path / "dict", "valid", languages="all")) == 20


def test_an_unreadable_saved_dataset_is_one_sentence(tmp_path, few):
    datasets.Dataset.from_list(few).save_to_disk(str(tmp_path / "single"))
    (tmp_path / "single" / "state.json").write_text("{broken")
    with pytest.raises(UserError, match="Cannot read the saved dataset .*single: "):
        load_problems(tmp_path / "single")


def test_first_line():
    assert first_line(ValueError("bad thing.\nmore detail")) == "bad thing"
    assert first_line(KeyError()) == "KeyError"


# --------------------------------------------------------------------------- saving


def test_save_replaces_one_split_and_refuses_foreign_folders(tmp_path, few):
    ds = datasets.Dataset.from_list(few, features=schema.features())
    store = tmp_path / "store"
    save_problems(ds.select(range(5)), "set", store, split="train")
    save_problems(ds.select(range(5, 8)), "set", store, split="test")
    target = save_problems(ds.select([9]), "set", store, split="train")
    assert target == store / "set" and disk_splits(target) == ["train", "test"]
    assert load_problems("set", "train", data_dir=store, languages="all")["name"] == [few[9]["name"]]
    assert len(load_problems("set", "test", data_dir=store, languages="all")) == 3
    assert os.listdir(store) == ["set"]  # no temporary folder left
    (store / "mine").mkdir()
    (store / "mine" / "keep.txt").write_text("my notes")
    with pytest.raises(UserError, match="mine exists and is not a dataset saved by acodium"):
        save_problems(ds, "mine", store)
    assert (store / "mine" / "keep.txt").read_text() == "my notes"
    for bad in ("a b/c", ""):
        with pytest.raises(UserError, match="cannot name a split"):
            save_problems(ds, "other", store, split=bad)
