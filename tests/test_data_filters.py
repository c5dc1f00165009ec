"""acodium.data.filters on real rows: each filter keeps exactly the rows a plain Python reading of
the same rows keeps (the filters work on Arrow columns for speed, so the reading is the oracle),
and a filter that keeps nothing says which filters were applied."""

from __future__ import annotations

import numpy as np
import pytest

from acodium import data
from acodium.data.filters import has_other_languages, keep_languages, sample_rows, selected_rows
from acodium.errors import UserError

NONE = dict(names=None, min_rating=None, max_rating=None, tags=None, difficulty_ids=None, min_tests={})


@pytest.fixture(scope="module")
def sample(train_sample_path):
    """The real train sample: 230 Codeforces problems, unrated, one Python 3 solution each."""
    return data.load_problems(train_sample_path, languages="all")


@pytest.fixture(scope="module")
def starter():
    """The shipped problems: rated 800-1400, letters A-D, some with a C++ solution besides Python 3."""
    return data.load_problems("starter", languages="all")


def kept(ds, **filters) -> list[str]:
    return [ds["name"][i] for i in selected_rows(ds, "the set", **dict(NONE, **filters))]


def test_no_filter_keeps_every_row_in_order(sample):
    assert list(selected_rows(sample, "s", **NONE)) == list(range(len(sample)))


def test_names_keep_the_tables_order_not_the_lists(sample):
    names = [sample["name"][7], sample["name"][2], sample["name"][7]]
    assert kept(sample, names=names) == [sample["name"][2], sample["name"][7]]
    with pytest.raises(UserError, match=r"^the set has no problem named '9999_Z\. Nowhere'\.$"):
        kept(sample, names=[sample["name"][0], "9999_Z. Nowhere"])


def test_rating_bounds_are_inclusive_and_drop_unrated_problems(starter, sample):
    ratings = dict(zip(starter["name"], starter["cf_rating"]))
    assert kept(starter, min_rating=1000, max_rating=1200) == [n for n, r in ratings.items() if 1000 <= r <= 1200]
    assert kept(starter, min_rating=1300) == [n for n, r in ratings.items() if r >= 1300]
    assert kept(starter, max_rating=800) == [n for n, r in ratings.items() if r <= 800] != []
    # The train sample is unrated (cf_rating 0 = unknown): any rating bound keeps none of it.
    assert set(sample["cf_rating"]) == {0}
    with pytest.raises(UserError, match=r"^The filters \(rating\) select no problem of the set\.$"):
        kept(sample, max_rating=5000)


def test_tags_keep_problems_with_any_of_them(sample):
    rows = sample.to_list()
    for tags in ({"dp"}, {"graphs", "trees"}, {"no such tag", "math"}):
        assert kept(sample, tags=tags) == [r["name"] for r in rows if tags & set(r["cf_tags"])]
    with pytest.raises(UserError, match=r"\(tags\) select no problem"):
        kept(sample, tags={"no such tag"})


def test_difficulty_and_test_counts_on_the_real_sample(sample):
    rows = sample.to_list()
    assert kept(sample, difficulty_ids={8, 9}) == [r["name"] for r in rows if r["difficulty"] in (8, 9)]
    for kind, count in (("public", 2), ("private", 50), ("generated", 0)):
        assert kept(sample, min_tests={kind: count}) == \
            [r["name"] for r in rows if len(r[f"{kind}_tests"]["input"]) >= count]
    both = kept(sample, difficulty_ids={9}, min_tests={"public": 2, "private": 30})
    assert both == [r["name"] for r in rows if r["difficulty"] == 9 and len(r["public_tests"]["input"]) >= 2
                    and len(r["private_tests"]["input"]) >= 30] != []
    with pytest.raises(UserError, match=r"^The filters \(difficulty, generated tests\) select no problem"):
        kept(sample, difficulty_ids={9}, min_tests={"generated": 1})  # the sample has no generated tests


def test_a_sample_is_seeded_sorted_and_never_larger_than_the_rows():
    rows = np.arange(100, 330)
    draws = {tuple(sample_rows(rows, 0.1, None, seed)) for seed in range(5)}
    assert len(draws) == 5 and all(len(d) == 23 and list(d) == sorted(d) for d in draws)
    assert list(sample_rows(rows, 0.1, None, 3)) == list(sample_rows(rows, 0.1, None, 3))
    seven = sample_rows(rows, None, 7, 3)
    assert len(seven) == 7 and list(seven) == list(sample_rows(rows, None, 7, 3))
    assert list(sample_rows(rows, 1.0, None, 0)) == list(rows)
    assert list(sample_rows(rows, None, 1000, 0)) == list(rows)


def test_keep_languages_on_the_shipped_problems(starter):
    rows = starter.to_list()
    assert has_other_languages(starter, [3]) is True  # some have a C++ solution
    assert has_other_languages(starter, [2, 3]) is False
    python = keep_languages(starter, ["python3"])
    for before, after in zip(rows, python.to_list()):
        for column in ("solutions", "incorrect_solutions"):
            pairs = [(lang, code) for lang, code in zip(before[column]["language"], before[column]["solution"])]
            assert list(zip(after[column]["language"], after[column]["solution"])) == [p for p in pairs if p[0] == 3]
        assert {k: v for k, v in after.items() if "solutions" not in k} == \
            {k: v for k, v in before.items() if "solutions" not in k}
    cpp = keep_languages(starter, ["c++"])  # any spelling of a language
    assert sum(len(s["language"]) for s in cpp["solutions"]) == \
        sum(s["language"].count(2) for s in starter["solutions"]) > 0
    assert all(s["language"] == [] for s in cpp["incorrect_solutions"])
