"""acodium.evaluation.candidates: the candidates table checked, and loaded from wherever it lives."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from acodium.data import load_problems, problem_rows
from acodium.errors import UserError
from acodium.evaluation import (
    check_candidates,
    generation_failures,
    has_code,
    load_candidate_set,
)
from acodium.evaluation.candidates import _candidates_from_rows
from acodium.tables import CANDIDATES, CANDIDATES_FILE, ERRORS_LOG, AppendLog


@pytest.fixture
def five(train_rows, tmp_path):
    """Five real problems as a JSONL dataset, and their rows."""
    path = tmp_path / "five.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in train_rows[:5]))
    return path, train_rows[:5]


def _candidate(problem, candidate_id, code="print(1)", language="python3"):
    return {"problem": problem, "candidate_id": candidate_id, "language": language, "code": code,
            "source": "test", "meta": "{}"}


# --------------------------------------------------------------------------- check_candidates


def test_check_candidates_names_languages_and_makes_ids_text(train_rows):
    rows = problem_rows(train_rows[:2])
    a, b = list(rows)
    table = pd.DataFrame([_candidate(a, 0, language=3), _candidate(a, 1, language=2), _candidate(b, 0)])
    checked = check_candidates(table, rows)
    assert checked["language"].tolist() == ["python3", "cpp", "python3"]
    assert checked["candidate_id"].tolist() == ["0", "1", "0"]
    assert table["candidate_id"].tolist() == [0, 1, 0]  # the caller's table is left alone


def test_check_candidates_one_sentence_per_fault(train_rows):
    rows = problem_rows(train_rows[:2])
    a = next(iter(rows))
    good = pd.DataFrame([_candidate(a, "x")])
    with pytest.raises(UserError, match=r"lacks the column") as caught:
        check_candidates(good.drop(columns=["language"]), rows)
    assert "\n" not in str(caught.value)
    with pytest.raises(UserError, match=r"2 problem\(s\) of the candidates table are not in the dataset, "
                                        r"for instance 'nowhere'"):
        check_candidates(pd.concat([good, pd.DataFrame([_candidate("nowhere", "1"), _candidate("zz", "1")])]), rows)
    # ids 1 and "1" are the same candidate once made text
    twice = pd.DataFrame([_candidate(a, 1), _candidate(a, 2), _candidate(a, "1")])
    with pytest.raises(UserError, match=rf"1 duplicate \(problem, candidate_id\) pair\(s\), for instance \({a!r}, '1'\)"):
        check_candidates(twice, rows)


def test_has_code_is_false_for_empty_text_and_non_text():
    assert has_code("print(1)") and has_code("  x = 1\n")
    assert not has_code("") and not has_code("  \n\t") and not has_code(None) and not has_code(float("nan"))


# --------------------------------------------------------------------------- candidates carried by problems


def test_candidates_from_rows_follow_the_dotted_path_and_skip_what_cannot_run(train_rows):
    row = dict(train_rows[0])
    row["solutions"] = {"language": [3, 2, 4, 1, 0], "solution": ["print(1)", "int main(){}", "class A{}", "print 1",
                                                                  "?"]}
    out = _candidates_from_rows({row["name"]: row}, "solutions.solution", "name")
    assert list(out.columns) == CANDIDATES
    # every language of the dataset runs (python2 and java where their runtime is found); UNKNOWN (0) does not
    assert out[["candidate_id", "language"]].values.tolist() == [["0", "python3"], ["1", "cpp"], ["2", "java"],
                                                                  ["3", "python2"]]
    assert json.loads(out.loc[0, "meta"]) == {"column": "solutions.solution"}
    # a single string without languages: one python3 candidate
    plain = {"name": "p", "answer": {"code": "print(2)"}}
    out = _candidates_from_rows({"p": plain}, "answer.code", "name")
    assert out[["problem", "candidate_id", "language", "code"]].values.tolist() == [["p", "0", "python3", "print(2)"]]


def test_candidates_from_rows_refuse_a_missing_field_or_name(train_rows):
    rows = problem_rows(train_rows[:1])
    with pytest.raises(UserError, match=r"no field 'solutions.code' holding candidates"):
        _candidates_from_rows(rows, "solutions.code", "name")
    with pytest.raises(UserError, match=r"no column 'task_name' to name them"):
        _candidates_from_rows(rows, "solutions.solution", "task_name")


# --------------------------------------------------------------------------- load_candidate_set


def test_a_run_folder_keeps_problems_whose_generation_failed(five, tmp_path):
    path, rows = five
    run = tmp_path / "run"
    run.mkdir()
    table = pd.DataFrame([_candidate(rows[0]["name"], "llm-0000", rows[0]["solutions"]["solution"][0]),
                          _candidate(rows[1]["name"], "llm-0000", "")])
    table.to_parquet(run / CANDIDATES_FILE)
    with AppendLog(run / ERRORS_LOG) as log:
        log.append([{"problem": rows[2]["name"], "candidate_id": "llm-0000", "error": "HTTP 400"},
                    {"problem": "not in the problems", "candidate_id": "llm-0000", "error": "HTTP 500"}])
    problems, candidates, run_dir = load_candidate_set(run, problems=path)
    assert run_dir == run
    # the two with candidates and the one whose calls failed; the two never asked for are not the benchmark
    assert [p["name"] for p in problems] == [r["name"] for r in rows[:3]]
    assert candidates.attrs["failures"] == [{"problem": rows[2]["name"], "candidate_id": "llm-0000",
                                             "error": "HTTP 400"}]
    assert candidates["code"].tolist()[1] == ""  # a reply without code stays: it counts as incorrect
    assert len(generation_failures(run)) == 2  # the folder's record, unfiltered
    assert generation_failures(tmp_path / "never made") == []


def test_a_problems_dataset_is_its_own_candidate_set_and_every_problem_counts(five):
    path, rows = five
    problems, candidates, run_dir = load_candidate_set(path)
    assert run_dir is None and len(problems) == 5
    assert candidates["candidate_id"].tolist() == ["0"] * 5
    assert candidates.attrs["failures"] == []
    again = load_candidate_set(path, sample_rate=0.4, seed=3)
    assert len(again[0]) == 2 and again[0] == load_candidate_set(path, sample_rate=0.4, seed=3)[0]
    assert [p["name"] for p in again[0]] == [r["name"] for r in rows if r["name"] in set(again[1]["problem"])]


def test_load_candidate_set_refuses_what_holds_nothing(five, tmp_path):
    path, _ = five
    empty = tmp_path / "empty.parquet"
    pd.DataFrame(columns=CANDIDATES).to_parquet(empty)
    with pytest.raises(UserError, match=r"holds no candidates for any problem"):
        load_candidate_set(empty, problems=path)
    with pytest.raises(UserError, match=r"no field 'answers.code'"):
        load_candidate_set(path, solutions_column="answers.code")


def test_valid_only_leaves_out_problems_a_reference_check_marked_invalid(five, tmp_path):
    import datasets

    _, rows = five
    marked = [dict(r, is_valid_problem=i != 1) for i, r in enumerate(rows)]
    datasets.Dataset.from_list(marked).save_to_disk(str(tmp_path / "cleaned"))
    problems, candidates, _ = load_candidate_set(tmp_path / "cleaned", valid_only=True)
    assert [p["name"] for p in problems] == [r["name"] for i, r in enumerate(rows) if i != 1]
    assert rows[1]["name"] not in set(candidates["problem"])
    all_invalid = [dict(r, is_valid_problem=False) for r in rows]
    datasets.Dataset.from_list(all_invalid).save_to_disk(str(tmp_path / "none"))
    with pytest.raises(UserError, match=r"holds no problem that a reference check left valid"):
        load_candidate_set(tmp_path / "none", valid_only=True)


def test_a_cleaned_folder_loads_through_load_problems_and_samples(five, tmp_path):
    import datasets

    _, rows = five
    cleaned = [dict(r, is_valid_problem=True) for r in rows]
    datasets.DatasetDict({"train": datasets.Dataset.from_list(cleaned)}).save_to_disk(str(tmp_path / "dd"))
    ds = load_problems(tmp_path / "dd", "train", languages="all")
    assert len(ds) == 5 and "is_valid_problem" in ds.column_names
    assert len(load_problems(tmp_path / "dd", "train", sample_rate=0.4, seed=1, languages="all")) == 2
    with pytest.raises(UserError, match=r"valid"):
        load_problems(tmp_path / "dd", "valid", languages="all")
