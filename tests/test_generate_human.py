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
    # Only one correct solution each: all correct asked of 4 gives that one, never filled with incorrect ones.
    four = generate_candidates(rows, HumanSource(correct_fraction=1.0, languages=PY_CPP), 4, progress=False)
    assert four.groupby("problem").size().eq(1).all()
    assert {json.loads(m)["label"] for m in four["meta"]} == {"correct"}
    assert four.attrs["fewer"] == {row["name"]: 1 for row in rows}
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
    # all correct asked: the three correct ones, the incorrect one never fills in
    assert sorted(human_ids(mixed, 4, 1.0, 0, PY_CPP)) == ["human-c1", "human-c2", "human-c4"]
    # all incorrect asked: the one there is, no correct one fills in
    assert human_ids(mixed, 2, 0.0, 0, PY_CPP) == ["human-i0"]
    # half and half of 4: two of the three correct, the one incorrect (of two asked)
    half = human_ids(mixed, 4, 0.5, 0, PY_CPP)
    assert len(half) == 3 and sum(c.startswith("human-c") for c in half) == 2 and "human-i0" in half
    # more than there are: each pool gives what it has, no repeats
    assert sorted(human_ids(mixed, 50, 0.5, 0, PY_CPP)) == ["human-c1", "human-c2", "human-c4", "human-i0"]
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


def test_the_starter_problems_give_what_they_have_and_say_so(capsys):
    """`--source human --k 10` on the starter problems (2-3 correct, 2-3 incorrect solutions each):
    correct ones only at the default fraction, a line per problem saying how many of 10 and why."""
    from acodium.data import load_problems

    rows = [dict(r) for r in load_problems("starter", languages="all")]
    correct = {r["name"]: len(dataset_solutions(r, "solutions", RUNNABLE_LANGUAGES)) for r in rows}
    incorrect = {r["name"]: len(dataset_solutions(r, "incorrect_solutions", RUNNABLE_LANGUAGES)) for r in rows}
    assert set(correct.values()) == {2, 3} and set(incorrect.values()) == {2, 3}
    table = generate_candidates(rows, HumanSource(), 10, progress=False)
    assert table.groupby("problem").size().to_dict() == correct
    assert {json.loads(m)["label"] for m in table["meta"]} == {"correct"}
    err = capsys.readouterr().err
    assert "the human source makes fewer than k=10 candidates for 8 of 8 problems" in err
    for name, count in correct.items():
        assert f"  {name}: {count} of 10, only {count} correct solutions; correct_fraction 1 takes no " \
               "incorrect ones" in err
    # a mix asks each kind for its share: 2 + 2 of 4 exist in every starter problem, so nothing is said
    mix = generate_candidates(rows, HumanSource(correct_fraction=0.5), 4, progress=False)
    labels = mix.groupby("problem")["meta"].apply(lambda m: sorted(json.loads(x)["label"] for x in m))
    assert all(v == ["correct", "correct", "incorrect", "incorrect"] for v in labels)
    assert mix.attrs["fewer"] == {} and "fewer" not in capsys.readouterr().err
    # 0.5 of 8: four of each asked, the pools give 2-3 each
    eight = generate_candidates(rows, HumanSource(correct_fraction=0.5, languages=PY_CPP), 8, progress=False)
    err = capsys.readouterr().err
    for name in correct:
        c = len(dataset_solutions(next(r for r in rows if r["name"] == name), "solutions", PY_CPP))
        i = len(dataset_solutions(next(r for r in rows if r["name"] == name), "incorrect_solutions", PY_CPP))
        assert (eight["problem"] == name).sum() == min(c, 4) + min(i, 4)
        assert f"  {name}: {min(c, 4) + min(i, 4)} of 8, {min(c, 4)} of the 4 correct and {min(i, 4)} of the 4 " \
               "incorrect solutions asked in python3/cpp (correct_fraction 0.5)" in err


def test_a_short_plan_is_said_on_the_real_sample(train_rows, capsys):
    """The real sample has one correct solution per problem: k=3 makes one each and names every problem."""
    rows = train_rows[:25]
    table = generate_candidates(rows, HumanSource(languages=PY_CPP), 3, progress=False)
    assert len(table) == 25 and table.groupby("problem").size().eq(1).all()
    err = capsys.readouterr().err
    assert "the human source makes fewer than k=3 candidates for 25 of 25 problems" in err
    named = [row["name"] for row in rows if f"  {row['name']}: 1 of 3, only 1 correct solution in python3/cpp" in err]
    assert len(named) == 20 and "  and 5 more problems" in err  # a line per problem, up to 20
