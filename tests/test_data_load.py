"""acodium.data.load and filters: a dataset cleaned by a real reference check loads through the one
loader, keeps AlphaCodium's fields and filters like any other; the filters and their bad arguments."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from acodium import data
from acodium.data.filters import has_other_languages, keep_languages, sample_rows, selected_rows
from acodium.errors import UserError

ALL = {"languages": "all"}


@pytest.fixture(scope="module")
def cleaned_dir(tmp_path_factory, train_rows):
    """What `gencode eval references` writes as dataset/: mutated tests, then a reference check.

    One problem has its stored outputs overwritten and two agreeing references: the check refutes
    its tests and marks the problem invalid.
    """
    from acodium.evaluation import check_references
    from acodium.execute import Execution
    from acodium.mutate import add_mutated_tests

    root = tmp_path_factory.mktemp("cleaned")
    bad = dict(copy.deepcopy(train_rows[3]),
               solutions={"language": [3, 3], "solution": train_rows[3]["solutions"]["solution"] * 2})
    for s in ("public_tests", "private_tests"):
        bad[s] = dict(bad[s], output=["wrong"] * len(bad[s]["output"]))
    rows = [copy.deepcopy(train_rows[1]), copy.deepcopy(train_rows[2]), bad]
    execution = Execution(time_s=3.0, cache_dir=root / "cache")
    rows = add_mutated_tests(rows, 2, seed=1, execution=execution, progress=False, min_agreeing=1)
    report = check_references(rows, max_tests=3, execution=execution, progress=False)
    report.dataset.save_to_disk(str(root / "dataset"))
    return root / "dataset"


def test_a_cleaned_dataset_loads_with_its_fields(cleaned_dir, train_rows):
    ds = data.load_problems(cleaned_dir, **ALL)
    assert set(data.EXTRA_COLUMNS) - {"ai_tests", "checker", "interactor"} <= set(ds.column_names)
    assert ds.column_names[:len(data.COLUMNS)] == data.COLUMNS
    valid = dict(zip(ds["name"], ds["is_valid_problem"]))
    assert valid == {train_rows[1]["name"]: True, train_rows[2]["name"]: True, train_rows[3]["name"]: False}
    bad = data.get_problem(ds, train_rows[3]["name"])
    flags = bad.row["private_tests"]["is_valid_test"]
    assert len(flags) == len(train_rows[3]["private_tests"]["input"]) and not all(flags[:3])
    # the reader skips what the check refuted, and only that
    kept = data.problem_tests(bad.row, "private")
    assert [i for i, _, _ in kept] == [i for i, ok in enumerate(flags) if ok]
    mutated = ds[0]["mutated_tests"]
    assert len(mutated["input"]) == len(mutated["is_valid_test"]) == len(mutated["output_confirmed"])
    assert ds[0]["reference_check"] and bad.row["reference_check"] != ds[0]["reference_check"]


def test_a_cleaned_dataset_filters_like_any_other(cleaned_dir, train_rows):
    every = data.load_problems(cleaned_dir, **ALL)
    one = data.load_problems(cleaned_dir, names=[train_rows[2]["name"]], **ALL)
    assert one.to_list() == [every[1]]
    # Dropping solutions of other languages keeps the extra fields.
    cpp = data.load_problems(cleaned_dir, languages=["cpp"])
    assert cpp.features == every.features
    assert all(s == {"language": [], "solution": []} for s in cpp["solutions"])
    assert cpp["private_tests"] == every["private_tests"] and cpp["is_valid_problem"] == every["is_valid_problem"]
    # The seeded sample of a cleaned dataset is `data.filters.sample_rows`' draw, as for any other.
    sampled = data.load_problems(cleaned_dir, sample_rate=0.5, seed=3, **ALL)
    chosen = np.random.default_rng(3).choice(3, size=2, replace=False)
    assert sampled["name"] == [every["name"][i] for i in sorted(chosen)]


def test_the_pass_at_k_loader_takes_a_cleaned_dataset(cleaned_dir, train_rows):
    from acodium.evaluation import load_candidate_set

    problems, candidates, run_dir = load_candidate_set(cleaned_dir, valid_only=True)
    assert run_dir is None
    names = [row["name"] for row in problems]
    assert names == [r["name"] for r in train_rows[1:3]]  # the invalid problem is left out
    assert all(row["is_valid_problem"] for row in problems)
    assert set(candidates["problem"]) == set(names) and set(candidates["source"]) == {"dataset"}


def test_a_cleaned_jsonl_export_loads_the_same(cleaned_dir, tmp_path):
    ds = data.load_problems(cleaned_dir, **ALL)
    path = tmp_path / "cleaned.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ds.to_list()))
    again = data.load_problems(path, **ALL)
    assert again.features == ds.features and again.to_list() == ds.to_list()


# --------------------------------------------------------------------------- filters


@pytest.fixture(scope="module")
def sample(train_sample_path):
    return data.load_problems(train_sample_path, **ALL)


def test_selected_rows_combine_filters(sample, train_rows):
    none = dict(names=None, min_rating=None, max_rating=None, tags=None, difficulty_ids=None, min_tests={})
    assert list(selected_rows(sample, "s", **none)) == list(range(230))
    got = selected_rows(sample, "s", **dict(none, tags={"dp"}, min_tests={"private": 30}))
    expected = [i for i, r in enumerate(train_rows)
                if "dp" in r["cf_tags"] and len(r["private_tests"]["input"]) >= 30]
    assert list(got) == expected and 0 < len(expected) < 64
    with pytest.raises(UserError, match=r"The filters \(tags, difficulty\) select no problem of s"):
        selected_rows(sample, "s", **dict(none, tags={"dp"}, difficulty_ids={1}))


def test_sample_rows_is_seeded_ordered_and_bounded():
    indices = np.arange(10, 30)
    assert sample_rows(indices, None, None, 0) is indices
    a = sample_rows(indices, 0.25, None, 5)
    assert len(a) == 5 and list(a) == sorted(a) and set(a) <= set(indices)
    assert list(sample_rows(indices, 0.25, None, 5)) == list(a)
    assert list(sample_rows(indices, None, 50, 5)) == list(indices)
    assert len(sample_rows(indices, 0.001, None, 0)) == 1  # at least one problem


def test_keep_languages_filters_both_solution_columns(tmp_path, train_rows):
    rows = copy.deepcopy(train_rows[:3])
    rows[0]["solutions"] = {"language": [3, 2, 4, 2], "solution": ["p", "c1", "j", "c2"]}
    rows[1]["incorrect_solutions"] = {"language": [2, 1], "solution": ["bad c", "bad p2"]}
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ds = data.load_problems(path, **ALL)
    assert has_other_languages(ds, [1, 2, 3, 4]) is False and has_other_languages(ds, [2, 3]) is True
    cpp = keep_languages(ds, ["cpp"])
    assert cpp[0]["solutions"] == {"language": [2, 2], "solution": ["c1", "c2"]}
    assert cpp[1]["incorrect_solutions"] == {"language": [2], "solution": ["bad c"]}
    assert cpp[2]["solutions"] == {"language": [], "solution": []}
    both = keep_languages(ds, ["python3", "java"])
    assert both[0]["solutions"] == {"language": [3, 4], "solution": ["p", "j"]}
    assert both["name"] == ds["name"] and both["private_tests"] == ds["private_tests"]


@pytest.mark.parametrize("kwargs, message", [
    ({"limit": 0}, "The limit must be a positive number of problems, not 0"),
    ({"sample_rate": 0}, r"The sample rate must be in \(0, 1\], not 0"),
    ({"min_tests": {"private": -1}}, "The minimum number of private tests must be a whole number, not -1"),
    ({"min_tests": {"public": True}}, "must be a whole number, not True"),
    ({"min_tests": {"hidden": 1}}, r"Unknown test set 'hidden'; choose among public, private, generated\.$"),
    ({"languages": []}, "Give at least one language, or 'all'"),
    ({"names": "Nope"}, "has no problem named 'Nope'"),
])
def test_bad_arguments_are_one_sentence(kwargs, message):
    with pytest.raises(UserError, match=message) as info:
        data.load_problems("starter", **kwargs)
    assert "\n" not in str(info.value)


def test_every_spelling_of_all_languages(train_rows):
    starter = data.load_problems("starter", languages=None)
    for spelling in ("all", ["all"], ("all",)):
        assert data.load_problems("starter", languages=spelling).to_list() == starter.to_list()
    assert data.load_problems("starter", languages="cpp").to_list() == data.load_problems(
        "starter", languages=[2]).to_list()
    assert data.load_problems("starter", names=data.starter_rows()[1]["name"], **ALL).to_list() == [starter[1]]
