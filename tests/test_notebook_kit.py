"""The notebook kit: caches, the k axis, loops over a setting, tables and dataset records in a run folder."""

from __future__ import annotations

import json

import datasets
import pandas as pd
import pytest

from acodium import notebook, paths
from acodium.errors import UserError
from acodium.sweep.provenance import dataset_fingerprint


def one_sentence(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message and message.endswith("."), message
    return message


# ---- caches -------------------------------------------------------------------------------------


@pytest.mark.parametrize("empty", ["", None])
def test_a_notebook_run_by_hand_has_no_caches(empty):
    assert notebook.caches(empty) == notebook.Caches(executions=None, llm=None)


def test_a_sweeps_cache_folder_has_the_command_lines_layout(tmp_path):
    found = notebook.caches(str(tmp_path / "cache"))
    assert found == paths.caches(tmp_path / "cache")
    assert found.executions == tmp_path / "cache" / "executions"
    assert found.llm == tmp_path / "cache" / "llm" / "responses.sqlite"
    assert not (tmp_path / "cache").exists()  # naming the caches creates nothing


# ---- the k axis ---------------------------------------------------------------------------------


@pytest.mark.parametrize("upto, grid", [
    (1, [1]),
    (2, [1, 2]),
    (7, [1, 2, 5, 7]),
    (10, [1, 2, 5, 10]),
    (34, [1, 2, 5, 10, 20, 34]),
    (100, [1, 2, 5, 10, 20, 50, 100]),
    (1000, [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]),
])
def test_the_log_grid_is_one_two_five_per_decade_and_ends_at_its_bound(upto, grid):
    assert notebook.log_grid(upto) == grid


@pytest.mark.parametrize("upto", [0, -5])
def test_a_log_grid_without_samples_is_one_sentence(upto):
    with pytest.raises(UserError) as error:
        notebook.log_grid(upto)
    assert one_sentence(error) == "A k grid needs at least one sample per problem."


def test_k_grid_is_bounded_by_non_empty_pools_only():
    # A categorical problem column keeps the benchmark's problems, those without candidates too:
    # an empty pool scores 0 at every k and bounds nothing.
    cands = pd.DataFrame({"problem": pd.Categorical(["A"] * 12 + ["B"] * 5, categories=["A", "B", "C"]),
                          "candidate_id": [str(i) for i in range(17)]})
    assert notebook.k_grid(cands) == [1, 2, 5]
    assert notebook.k_grid(cands, [3, 1]) == [1, 3]
    with pytest.raises(UserError, match="no candidates"):
        notebook.k_grid(cands.iloc[:0])


def test_k_grid_takes_given_ks_sorted_once_each_and_only_those_the_pools_hold():
    cands = pd.DataFrame({"problem": ["A"] * 3, "candidate_id": ["0", "1", "2"]})
    assert notebook.k_grid(cands, [10, 2, 2, 1]) == [1, 2]  # 10 > the 3 samples: never extrapolated
    assert notebook.k_grid(cands, []) == [1, 2, 3]  # an empty list asks for the default


def test_k_grid_of_categories_without_rows_is_one_sentence():
    empty = pd.DataFrame({"problem": pd.Categorical([], categories=["A", "B"]), "candidate_id": []})
    with pytest.raises(UserError) as error:
        notebook.k_grid(empty)
    assert one_sentence(error) == "There are no candidates, so there is no k to report."


# ---- a loop over one setting ----------------------------------------------------------------------


def test_over_stacks_one_table_per_value_with_a_column_naming_it():
    table = notebook.over([0.2, 1.0], lambda t: pd.DataFrame({"k": [1, 2], "value": [t, 2 * t]}), "temperature")
    assert table.to_dict("records") == [
        {"k": 1, "value": 0.2, "temperature": 0.2}, {"k": 2, "value": 0.4, "temperature": 0.2},
        {"k": 1, "value": 1.0, "temperature": 1.0}, {"k": 2, "value": 2.0, "temperature": 1.0},
    ]
    assert list(table.index) == [0, 1, 2, 3]


def test_over_stacks_dicts_of_tables_key_by_key():
    def run(n):
        return {"metrics": pd.DataFrame({"v": [n]}), "spend": pd.DataFrame({"calls": [n, n]})}

    tables = notebook.over(iter(["a", "b"]), run, "strategy")  # any iterable, taken once
    assert set(tables) == {"metrics", "spend"}
    assert tables["metrics"].to_dict("records") == [{"v": "a", "strategy": "a"}, {"v": "b", "strategy": "b"}]
    assert tables["spend"]["strategy"].tolist() == ["a", "a", "b", "b"]


def test_over_nothing_is_one_sentence_and_runs_nothing():
    calls = []
    with pytest.raises(UserError) as error:
        notebook.over([], calls.append, "temperature")
    assert one_sentence(error) == "There are no values of temperature to sweep over."
    assert calls == []


# ---- a model, or a clean stop ---------------------------------------------------------------------


def test_a_configured_model_says_nothing(capsys):
    assert notebook.model_configured("gpt-4o-mini") is True
    assert notebook.model_configured("llama3", "http://127.0.0.1:8000/v1") is True
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("model", ["", None])
def test_without_a_model_the_notebook_is_told_what_to_set(capsys, model):
    assert notebook.model_configured(model, "http://127.0.0.1:8000/v1") is False
    out = capsys.readouterr().out
    assert out.startswith("No model is configured, so this notebook stops here.")
    assert "--set model=" in out and "OPENAI_API_KEY" in out


# ---- tables in a run folder -----------------------------------------------------------------------


def test_tables_saved_in_a_run_folder_load_back_by_name(tmp_path):
    metrics = pd.DataFrame({"metric": ["pass@k"] * 2, "k": [1, 10], "value": [0.1, 0.7]})
    spend = pd.DataFrame({"stage": ["a"], "tokens": [12]})
    saved = notebook.save_tables(str(tmp_path / "run"), metrics=metrics, spend=spend)
    assert saved == {"metrics": tmp_path / "run" / "tables" / "metrics.parquet",
                     "spend": tmp_path / "run" / "tables" / "spend.parquet"}
    loaded = notebook.load_tables(tmp_path / "run")
    assert list(loaded) == ["metrics", "spend"]
    pd.testing.assert_frame_equal(loaded["metrics"], metrics)
    pd.testing.assert_frame_equal(loaded["spend"], spend)
    assert not list((tmp_path / "run").rglob("*.tmp"))


def test_saving_again_replaces_a_table(tmp_path):
    notebook.save_tables(tmp_path, t=pd.DataFrame({"x": [1]}))
    notebook.save_tables(tmp_path, t=pd.DataFrame({"x": [2, 3]}))
    assert notebook.load_tables(tmp_path)["t"]["x"].tolist() == [2, 3]


@pytest.mark.parametrize("empty", ["", None])
def test_without_an_out_dir_nothing_is_saved(tmp_path, monkeypatch, empty):
    monkeypatch.chdir(tmp_path)
    assert notebook.save_tables(empty, t=pd.DataFrame({"x": [1]})) == {}
    assert list(tmp_path.iterdir()) == []


def test_a_run_without_tables_loads_none(tmp_path):
    assert notebook.load_tables(tmp_path) == {}
    assert notebook.load_tables(tmp_path / "never-ran") == {}


def test_a_damaged_table_is_one_sentence(tmp_path):
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "metrics.parquet").write_bytes(b"not parquet")
    with pytest.raises(UserError) as error:
        notebook.load_tables(tmp_path)
    assert one_sentence(error).startswith(f"Cannot read the table {tmp_path / 'tables' / 'metrics.parquet'}:")


# ---- what a notebook loaded -----------------------------------------------------------------------


def test_the_dataset_record_names_the_source_the_size_and_the_contents(tmp_path, train_rows):
    problems = datasets.Dataset.from_list(train_rows[:4])
    info = notebook.save_dataset_info(str(tmp_path), problems, source="code_contests_train_sample.jsonl",
                                      split="train")
    assert info == {"source": "code_contests_train_sample.jsonl", "split": "train", "problems": 4,
                    "fingerprint": dataset_fingerprint(problems)}
    assert json.loads((tmp_path / "dataset.json").read_text()) == info


def test_without_an_out_dir_the_dataset_record_is_only_returned(tmp_path, monkeypatch, train_rows):
    monkeypatch.chdir(tmp_path)
    problems = datasets.Dataset.from_list(train_rows[:2])
    info = notebook.save_dataset_info("", problems, source=tmp_path / "x.jsonl", split="valid")
    assert info["source"] == str(tmp_path / "x.jsonl") and info["split"] == "valid" and info["problems"] == 2
    assert list(tmp_path.iterdir()) == []
