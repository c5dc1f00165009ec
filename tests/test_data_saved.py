"""acodium.data.saved: what its docstring promises beyond the round trips pinned in test_data.py
and test_data_sources.py: an interrupted save leaves the saved dataset whole, and what an
interrupted save leaves behind is never taken for a dataset."""

from __future__ import annotations

import datasets
import pytest

from acodium import data
from acodium.data.saved import disk_splits, save_problems, saved_names


@pytest.fixture(scope="module")
def sample(train_sample_path):
    return data.load_problems(train_sample_path, languages="all")


def test_an_interrupted_save_leaves_the_saved_dataset_whole(tmp_path, sample, monkeypatch):
    store = tmp_path / "store"
    save_problems(sample.select(range(4)), "mine", store, split="train")
    save_problems(sample.select(range(4, 6)), "mine", store, split="valid")
    real_save = datasets.DatasetDict.save_to_disk

    def interrupted(self, path, **kwargs):
        real_save(self, path, **kwargs)  # everything written to the temporary folder...
        raise KeyboardInterrupt  # ...then Ctrl-C before the rename

    monkeypatch.setattr(datasets.DatasetDict, "save_to_disk", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_problems(sample.select(range(10, 20)), "mine", store, split="train")
    monkeypatch.undo()

    # The old dataset, both splits, as it was.
    assert disk_splits(store / "mine") == ["train", "valid"]
    assert data.load_problems("mine", "train", data_dir=store, languages="all")["name"] == sample["name"][:4]
    assert data.load_problems("mine", "valid", data_dir=store, languages="all")["name"] == sample["name"][4:6]
    # The half-made copy is a hidden folder: never listed, never loadable by name.
    leftovers = [p.name for p in store.iterdir() if p.name != "mine"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".mine.") and leftovers[0].endswith(".tmp")
    assert saved_names(store) == ["mine"]
    # The next save goes through and replaces the train split only.
    save_problems(sample.select(range(10, 20)), "mine", store, split="train")
    assert data.load_problems("mine", "train", data_dir=store, languages="all")["name"] == sample["name"][10:20]
    assert data.load_problems("mine", "valid", data_dir=store, languages="all")["name"] == sample["name"][4:6]


def test_a_selection_is_saved_as_its_rows_only(tmp_path, sample):
    """A filtered table (an indices mapping over the full one) saves the chosen rows, not the table under it."""
    chosen = sample.select([5, 1, 9])
    target = save_problems(chosen, "three", tmp_path)
    on_disk = datasets.load_from_disk(str(target))["train"]
    assert on_disk.num_rows == 3 and on_disk["name"] == [sample["name"][i] for i in (5, 1, 9)]
    assert on_disk.features == sample.features
    assert sum(f.stat().st_size for f in target.rglob("*.arrow")) < \
        sum(len(r["description"]) for r in sample.to_list())  # far less than the whole sample's statements
