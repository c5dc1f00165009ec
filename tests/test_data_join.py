"""attach_checkers and `gencode data etl --checkers_from`: other datasets' checkers onto real CodeContests rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from acodium import data
from acodium.data.adapters import OPEN_R1_ARGV_SHIM
from acodium.errors import UserError

GENCODE = Path(sys.executable).with_name("gencode")
CHECKER = '#include "testlib.h"\nint main(int argc, char* argv[]) { registerTestlibCmd(argc, argv); quitf(_ok, "ok"); }\n'
INTERACTOR = '#include "testlib.h"\nint main(int argc, char* argv[]) { registerInteraction(argc, argv); }\n'


def gencode(*args, data_dir: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, ACODIUM_DATA=str(data_dir), HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1",
               HF_DATASETS_CACHE=str(data_dir.parent / "hf-cache"))
    return subprocess.run([str(GENCODE), *map(str, args)], capture_output=True, text=True, env=env, timeout=300)


def cc_o_file(path: Path, names: list[str]) -> Path:
    """A CodeContests-O fixture (its own schema) for these problem names, each with a checker."""
    rows = [{"name": name, "description": "d", "checker": f"// checker of {name}\n" + CHECKER,
             "corner_cases": [{"input": {"stdin": "1\n"}, "output": {"stdout": "1\n"}}]} for name in names]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize("name, key", [
    ("1003_E. Tree Constructing", "1003E"),
    ("1003E", "1003E"),
    ("1003/e", "1003E"),
    ("Codeforces/1003E. Tree Constructing", "1003E"),
    ("1141_F2. Same Sum Blocks (Hard)", "1141F2"),
    ("  p02345   Range  Minimum ", "p02345 range minimum"),
    ("ABC123", "abc123"),
])
def test_problem_key_reduces_every_spelling_of_a_codeforces_problem(name, key):
    assert data.problem_key(name) == key


def test_codecontests_o_checkers_attach_to_the_real_sample_by_name(tmp_path, train_sample_path, train_rows):
    problems = data.load_problems(train_sample_path, languages=None)
    names = problems["name"]
    other = data.load_problems(cc_o_file(tmp_path / "cco.jsonl", names[:3] + ["9999_Z. Not In The Sample"]))
    joined, counts = data.attach_checkers(problems, other)
    assert counts == {"problems": len(names), "checker": 3, "interactor": 0}
    assert data.join_report(counts) == f"3 of {len(names)} problems got a checker (0 an interactor)."
    assert [data.checker_spec(r) for r in joined.select(range(3))] == [
        {"language": "cpp", "code": f"// checker of {n}\n" + CHECKER} for n in names[:3]]
    assert all(data.checker_spec(r) is None for r in joined.select(range(3, len(names))))
    assert joined["name"] == names and joined["private_tests"] == problems["private_tests"]
    # the joined table saves and loads back with its checkers
    data.save_problems(joined, "joined", tmp_path)
    again = data.load_problems("joined", data_dir=tmp_path, languages=None)
    assert [data.checker_spec(r) for r in again] == [data.checker_spec(r) for r in joined]


def test_open_r1_ids_match_codecontests_names_and_own_checkers_are_kept(train_rows):
    """open-r1 spells the problem by contest id and index; a problem's own checker wins unless overwrite."""
    named = [r["name"] for r in train_rows[:2]]
    contest, rest = named[0].split("_", 1)
    other = [{"name": f"{contest}{rest.split('.')[0]}", "description": "",
              "checker": {"language": "python3", "code": OPEN_R1_ARGV_SHIM + "pass\n"},
              "interactor": {"language": "cpp", "code": INTERACTOR}},
             {"name": named[1], "description": "", "checker": "float_rel:1e-6"}]
    import datasets as hf

    rows = [dict(train_rows[0], checker="yes_no"), dict(train_rows[1])]
    problems = hf.Dataset.from_list([data.normalise_row(r, "fixture") for r in rows],
                                    features=data.features({"checker"}))
    kept, counts = data.attach_checkers(problems, other)
    assert [data.checker_spec(r) for r in kept] == ["yes_no", "float_rel:1e-6"]
    assert data.checker_spec(kept[0], "interactor") == {"language": "cpp", "code": INTERACTOR}
    assert counts == {"problems": 2, "checker": 2, "interactor": 1}
    replaced, _ = data.attach_checkers(problems, other, overwrite=True)
    assert data.checker_spec(replaced[0]) == {"language": "python3", "code": OPEN_R1_ARGV_SHIM + "pass\n"}


def test_a_malformed_checker_in_the_other_dataset_is_one_sentence(train_rows):
    problems = data.load_problems("starter")
    with pytest.raises(UserError, match=r"^The field 'checker' of 'x' is in 'java'"):
        data.attach_checkers(problems, [{"name": "x", "checker": {"language": "java", "code": "class A {}"}}])


def test_etl_checkers_from_local_files_reports_one_line_and_saves_them(tmp_path, train_sample_path, train_rows):
    store = tmp_path / "datasets"
    names = [r["name"] for r in train_rows]
    other = cc_o_file(tmp_path / "cco.jsonl", names[::5])
    done = gencode("data", "etl", "--source", train_sample_path, "--checkers_from", other,
                   "--output_dataset_name", "with_checkers", data_dir=store)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0] == f"{len(names[::5])} of {len(names)} problems got a checker (0 an interactor)."
    assert lines[1].startswith(f"Saved {len(names)} problems")
    saved = data.load_problems("with_checkers", data_dir=store, languages=None)
    with_checker = [r["name"] for r in saved if data.checker_spec(r) is not None]
    assert with_checker == names[::5]
    shown = gencode("data", "show", "with_checkers", data_dir=store)
    assert f"  checkers: {len(with_checker)} problems ({len(names) - len(with_checker)} token compare), " \
           "interactors: 0" in shown.stdout.splitlines()
    one = gencode("data", "show", "with_checkers", "--problem", names[0], data_dir=store)
    assert f"checker a cpp program ({len(CHECKER.splitlines()) + 1} lines), interactor none" in one.stdout
    plain = gencode("data", "show", "with_checkers", "--problem", names[1], data_dir=store)
    assert "checker tokens (default), interactor none" in plain.stdout


def test_etl_checkers_from_an_unreachable_hub_id_is_one_sentence(tmp_path, train_sample_path):
    done = gencode("data", "etl", "--source", train_sample_path, "--checkers_from", data.CODE_CONTESTS_O,
                   "--output_dataset_name", "x", data_dir=tmp_path / "datasets")
    assert done.returncode == 2
    message = done.stderr.strip().splitlines()[-1]
    assert "Cannot load the dataset 'caijanfeng/CodeContests-O'" in message and message.endswith(".")
    assert not (tmp_path / "datasets" / "x").exists()


def test_a_hub_join_streams_only_the_columns_it_needs(monkeypatch):
    """The real code path, with the hub replaced: CodeContests-O's train split is 325 GB, a join reads two columns."""
    import datasets as hf

    from acodium.data import join

    calls = []

    def fake_load_dataset(path, **kwargs):
        calls.append((path, kwargs))
        return iter([{"name": "1003_E. Tree Constructing", "checker": CHECKER}, {"name": "1A. X", "checker": None}])

    monkeypatch.setattr(join, "check_hub_reachable", lambda source: None)
    monkeypatch.setattr(hf, "load_dataset", fake_load_dataset)
    rows = data.checkers_of(data.CODE_CONTESTS_O, "valid")
    assert calls == [(data.CODE_CONTESTS_O, {"split": "valid", "streaming": True, "columns": ["name", "checker"],
                                              "cache_dir": None})]
    assert rows == [{"name": "1003_E. Tree Constructing", "checker": {"language": "cpp", "code": CHECKER},
                     "interactor": None}, {"name": "1A. X", "checker": None, "interactor": None}]


def test_open_r1_join_rows_skip_interactive_problems_and_need_no_statement(monkeypatch):
    import datasets as hf

    from acodium.data import join

    monkeypatch.setattr(join, "check_hub_reachable", lambda source: None)
    monkeypatch.setattr(hf, "load_dataset", lambda path, **kw: [
        {"contest_id": "1003", "index": "E", "title": "Tree Constructing", "generated_checker": "pass\n",
         "interaction_format": None},
        {"contest_id": "1167", "index": "B", "title": "Lost Numbers", "generated_checker": None,
         "interaction_format": "Ask."}])
    rows = data.checkers_of(data.OPEN_R1_CODEFORCES)
    assert rows == [{"name": "1003_E. Tree Constructing", "interactor": None,
                     "checker": {"language": "python3", "code": OPEN_R1_ARGV_SHIM + "pass\n"}}]


def test_a_hub_join_failure_is_one_sentence(monkeypatch):
    import datasets as hf

    from acodium.data import join

    def broken(path, **kwargs):
        raise ConnectionError("Couldn't reach the hub\nmore detail")

    monkeypatch.setattr(join, "check_hub_reachable", lambda source: None)
    monkeypatch.setattr(hf, "load_dataset", broken)
    with pytest.raises(UserError, match=r"^Cannot load the dataset 'caijanfeng/CodeContests-O' \(train\): "
                                        r"Couldn't reach the hub\.$"):
        data.checkers_of(data.CODE_CONTESTS_O)
