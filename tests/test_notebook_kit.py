"""The notebook kit: caches, the problems overview, loops over a setting, a model checked before any work,
tables and dataset records in a run folder."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import datasets
import pandas as pd
import pytest

from acodium import notebook, paths
from acodium.errors import UserError
from acodium.data import dataset_fingerprint

sys.path.insert(0, str(Path(__file__).parent))
from chat_server import ChatServer, chat_server  # noqa: E402,F401


def one_sentence(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message and message.endswith("."), message
    return message


# ---- caches -------------------------------------------------------------------------------------


@pytest.mark.parametrize("empty", ["", None])
def test_a_notebook_run_by_hand_caches_where_the_command_line_does(empty, tmp_path, monkeypatch):
    monkeypatch.setenv("ACODIUM_CACHE", str(tmp_path / "env"))
    assert notebook.caches(empty) == paths.caches() == notebook.Caches(
        executions=tmp_path / "env" / "executions", llm=tmp_path / "env" / "llm" / "responses.sqlite")
    monkeypatch.delenv("ACODIUM_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert notebook.caches(empty).executions == tmp_path / "home" / ".cache" / "acodium" / "executions"


def test_false_means_no_caches():
    assert notebook.caches(False) == notebook.Caches(executions=None, llm=None)


def test_an_unwritable_default_cache_is_one_sentence(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("ACODIUM_CACHE", str(tmp_path / "file" / "cache"))
    with pytest.raises(UserError) as error:
        notebook.caches("")
    assert "set ACODIUM_CACHE elsewhere" in one_sentence(error)


def test_a_sweeps_cache_folder_has_the_command_lines_layout(tmp_path):
    found = notebook.caches(str(tmp_path / "cache"))
    assert found == paths.caches(tmp_path / "cache")
    assert found.executions == tmp_path / "cache" / "executions"
    assert found.llm == tmp_path / "cache" / "llm" / "responses.sqlite"
    assert not (tmp_path / "cache").exists()  # naming the caches creates nothing


# ---- the problems overview ----------------------------------------------------------------------


def test_the_overview_has_a_row_per_problem_from_its_own_fields(train_rows):
    rows = train_rows[:4]
    table = notebook.overview(datasets.Dataset.from_list(rows))
    assert list(table.columns) == ["name", "rating", "difficulty", "tags", "public", "private", "generated",
                                   "solutions", "incorrect"]
    assert table["name"].tolist() == [r["name"] for r in rows]
    for record, row in zip(table.to_dict("records"), rows):
        assert record["public"] == len(row["public_tests"]["input"])
        assert record["private"] == len(row["private_tests"]["input"])
        assert record["solutions"] == len(row["solutions"]["solution"])
        assert record["incorrect"] == len(row["incorrect_solutions"]["solution"])
        assert record["tags"] == ", ".join(row["cf_tags"])


def test_the_overview_counts_valid_tests_only_and_reads_unknowns_as_none(train_rows):
    row = dict(train_rows[0], cf_rating=0, cf_tags=[])
    private = dict(row["private_tests"])
    private["is_valid_test"] = [False] + [True] * (len(private["input"]) - 1)
    row["private_tests"] = private
    record = notebook.overview([row]).to_dict("records")[0]
    assert record["private"] == len(private["input"]) - 1  # a refuted test is no test
    assert record["rating"] is None and record["tags"] == ""
    assert notebook.overview([]).empty and "name" in notebook.overview([]).columns


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_model_the_server_lists_says_nothing(capsys, chat_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    assert notebook.model_configured("test-model", chat_server.url) is True
    assert capsys.readouterr().out == ""
    assert chat_server.requests == [("GET", "/v1/models")]  # asked, and nothing sampled


def test_a_missing_key_is_one_sentence_without_a_command_line_flag(chat_server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(UserError) as error:
        notebook.model_configured("test-model", chat_server.url)
    message = one_sentence(error)
    assert message.startswith(f"No API key for {chat_server.url}: set OPENAI_API_KEY")
    assert "--" not in message
    assert chat_server.requests == []


def test_a_model_the_server_does_not_list_is_refused_with_those_it_lists(chat_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    chat_server.models = {"test-model", "other-model"}
    with pytest.raises(UserError) as error:
        notebook.model_configured("gpt-nope", chat_server.url)
    assert one_sentence(error) == (f"The server at {chat_server.url} does not serve the model 'gpt-nope'; "
                                   "it lists other-model, test-model.")


def test_ollamas_latest_tag_is_the_model_without_it(chat_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    chat_server.models = {"llama3:latest"}
    assert notebook.model_configured("llama3", chat_server.url) is True


def test_a_rejected_key_is_one_sentence(chat_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "wrong")
    chat_server.api_key = "right"
    with pytest.raises(UserError) as error:
        notebook.model_configured("test-model", chat_server.url)
    assert one_sentence(error) == f"The server at {chat_server.url} rejected the API key (HTTP 401); check OPENAI_API_KEY."


def test_a_server_that_is_down_is_one_sentence(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(UserError) as error:
        notebook.model_configured("test-model", url)
    assert one_sentence(error) == f"Cannot reach the LLM server at {url}: start it, or correct base_url."


def test_the_recipe_says_a_missing_key_without_a_command_line_flag(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(UserError) as error:
        notebook.recipe([], {"llm": (2, {"model": "m", "base_url": "http://127.0.0.1:9/v1"})})
    assert one_sentence(error).startswith("No API key for http://127.0.0.1:9/v1: set OPENAI_API_KEY in the environment")


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
