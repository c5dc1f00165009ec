"""The human source on real rows of the sample: which solutions it takes, in what mix, and the
candidate each id names."""

from __future__ import annotations

import asyncio
import json

import pytest

from acodium.data import dataset_solutions
from acodium.errors import UserError
from acodium.generate import HumanSource, generate_candidates, make_source
from acodium.generate.human import human_candidate, human_ids
from acodium.languages import RUNNABLE_LANGUAGES

PY_CPP = ("python3", "cpp")  # the languages these tests ask for (java and python2 are in the rows too)
from acodium.tables import CANDIDATES


def with_incorrect(rows):
    """Real rows given other problems' accepted solutions as their incorrect ones (and a python2 one)."""
    out = []
    for i, row in enumerate(rows):
        others = [r["solutions"]["solution"][0] for r in rows if r is not row]
        out.append(dict(row, incorrect_solutions={"language": [3] * len(others) + [1],
                                                  "solution": others + ["print 'python 2'"]}))
    return out


def test_human_source_mix_and_seed(train_rows):
    rows = with_incorrect(train_rows[:6])
    table = generate_candidates(rows, HumanSource(correct_fraction=0.5, seed=1, languages=PY_CPP), 2, progress=False)
    assert len(table) == 12 and set(table["source"]) == {"human"}
    labels = table.groupby("problem")["meta"].apply(lambda m: sorted(json.loads(x)["label"] for x in m))
    assert all(v == ["correct", "incorrect"] for v in labels)
    for _, cand in table.iterrows():
        row = next(r for r in rows if r["name"] == cand["problem"])
        meta = json.loads(cand["meta"])
        assert cand["code"] == row[meta["dataset_field"]]["solution"][meta["dataset_index"]]
    assert "print 'python 2'" not in set(table["code"])  # python2: not asked for
    same = generate_candidates(rows, HumanSource(correct_fraction=0.5, seed=1, languages=PY_CPP), 2, progress=False)
    other = generate_candidates(rows, HumanSource(correct_fraction=0.5, seed=2, languages=PY_CPP), 2, progress=False)
    assert same.equals(table) and not other["candidate_id"].equals(table["candidate_id"])
    # Only one correct solution each: a mix of 4 fills up with incorrect ones; all of them with k=None.
    four = generate_candidates(rows, HumanSource(correct_fraction=1.0, languages=PY_CPP), 4, progress=False)
    assert four.groupby("problem").size().eq(4).all()
    everything = generate_candidates(rows, HumanSource(languages=PY_CPP), None, progress=False)
    assert everything.groupby("problem").size().eq(6).all()
    # by default every language acodium runs, Python 2 included
    assert HumanSource().languages == RUNNABLE_LANGUAGES
    all_of_them = generate_candidates(rows, HumanSource(), None, progress=False)
    assert all_of_them.groupby("problem").size().eq(7).all() and "print 'python 2'" in set(all_of_them["code"])


@pytest.fixture
def mixed(train_rows):
    """A real row whose solutions come in several languages: python2 first, then python3, cpp, java."""
    row = train_rows[0]
    python3 = row["solutions"]["solution"][0]
    return dict(row, solutions={"language": [1, 3, 2, 4, 3], "solution": [
        "print 'old'", python3, "int main() { return 0; }", "class Main {}", python3 + "\n# again\n"]},
        incorrect_solutions={"language": [3, 1], "solution": ["print(0)", "print 0"]})


def test_dataset_solutions_keep_the_datasets_index(mixed):
    assert [(j, lang) for j, lang, _ in dataset_solutions(mixed, "solutions", PY_CPP)] == \
        [(1, "python3"), (2, "cpp"), (4, "python3")]
    assert [j for j, _, _ in dataset_solutions(mixed, "solutions", ("java", "python2"))] == [0, 3]
    assert dataset_solutions(mixed, "incorrect_solutions", ("python3",)) == [(0, "python3", "print(0)")]
    assert dataset_solutions({"name": "empty"}, "solutions", PY_CPP) == []


def test_ids_name_the_candidates_they_make(mixed):
    ids = human_ids(mixed, None, 1.0, 0, PY_CPP)
    assert ids == ["human-c1", "human-c2", "human-c4", "human-i0"]
    made = [human_candidate(mixed, cid, PY_CPP) for cid in ids]
    assert [c.language for c in made] == ["python3", "cpp", "python3", "python3"]
    assert [c.code for c in made] == [mixed["solutions"]["solution"][j] for j in (1, 2, 4)] + ["print(0)"]
    assert made[3].meta == {"dataset_field": "incorrect_solutions", "dataset_index": 0, "label": "incorrect"}
    assert {c.source for c in made} == {"human"} and {c.problem for c in made} == {mixed["name"]}


def test_the_mix_and_its_limits(mixed):
    assert human_ids(mixed, 0, 0.5, 0, PY_CPP) == []
    # all correct asked: three correct exist, then the incorrect one fills in
    assert sorted(human_ids(mixed, 4, 1.0, 0, PY_CPP)) == ["human-c1", "human-c2", "human-c4", "human-i0"]
    # all incorrect asked: one exists, correct ones fill in
    two = human_ids(mixed, 2, 0.0, 0, PY_CPP)
    assert "human-i0" in two and len(two) == 2
    # more than there are: all of them, no repeats
    assert len(human_ids(mixed, 50, 0.5, 0, PY_CPP)) == 4
    # the choice is the seed's and the problem's, not the order of calls
    draws = {tuple(human_ids(mixed, 2, 1.0, seed, PY_CPP)) for seed in range(20)}
    assert len(draws) > 1 and human_ids(mixed, 2, 1.0, 7, PY_CPP) == \
        human_ids(mixed, 2, 1.0, 7, PY_CPP)


@pytest.mark.parametrize("cid, message", [
    ("human-x1", "not a human candidate id"),
    ("human-c", "not a human candidate id"),
    ("llm-0001", "not a human candidate id"),
    ("human-c0", "no solutions entry 0"),  # python2: not in the languages asked for
    ("human-i9", "no incorrect_solutions entry 9"),
])
def test_an_id_that_names_nothing_is_one_sentence(mixed, cid, message):
    with pytest.raises(UserError, match=message):
        human_candidate(mixed, cid, PY_CPP)


def test_the_source_is_the_functions_behind_the_interface(train_rows, mixed):
    rows = with_incorrect(train_rows[1:5]) + [mixed]
    source = HumanSource(correct_fraction=0.5, seed=3, languages=PY_CPP)
    table = generate_candidates(rows, source, 3, progress=False)
    assert list(table.columns) == CANDIDATES
    expected = [human_candidate(row, cid, PY_CPP).row()
                for row in rows for cid in human_ids(row, 3, 0.5, 3, PY_CPP)]
    assert table.to_dict("records") == expected
    assert source.config() == {"source": "human", "correct_fraction": 0.5, "seed": 3,
                               "languages": list(PY_CPP)}
    only_cpp = asyncio.run(HumanSource(languages=("cpp",)).make(mixed, "human-c2"))
    assert only_cpp.language == "cpp" and json.loads(only_cpp.row()["meta"])["label"] == "correct"


@pytest.mark.parametrize("fraction", [-0.1, 1.5])
def test_a_fraction_outside_zero_one_is_one_sentence(fraction):
    with pytest.raises(UserError, match="between 0 and 1"):
        make_source("human", correct_fraction=fraction)
