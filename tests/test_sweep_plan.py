"""Planning a sweep: grids, KEY=VALUE assignments, sweep files, run folders and the runs' parameters."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from acodium.errors import UserError
from acodium.sweep import plan
from acodium.sweep.plan import expand_grid, load_sweep, notebook_parameters, parse_assignment, plan_runs, point_id
from acodium.sweep.provenance import code_fingerprint
from tiny_notebook import write_notebook

REPO = Path(__file__).resolve().parents[1]


def one_sentence(error: pytest.ExceptionInfo) -> str:
    """The message of a UserError, asserted to be one line ending with a full stop."""
    message = str(error.value)
    assert "\n" not in message and message.endswith("."), message
    return message


# ---- expand_grid ---------------------------------------------------------------------------------


def test_a_mapping_grid_is_a_product_with_the_last_key_fastest():
    points = expand_grid({"a": [1, 2], "b": ["x", "y", "z"]})
    assert points == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "z"},
                      {"a": 2, "b": "x"}, {"a": 2, "b": "y"}, {"a": 2, "b": "z"}]


def test_a_scalar_is_a_one_value_axis_and_a_list_value_needs_its_own_list():
    assert expand_grid({"n": 10, "seed": [0, 1]}) == [{"n": 10, "seed": 0}, {"n": 10, "seed": 1}]
    # an axis whose values are lists: each point gets one whole list
    assert expand_grid({"temperatures": [[0.2, 1.0], [0.5]]}) == [{"temperatures": [0.2, 1.0]},
                                                                  {"temperatures": [0.5]}]
    assert expand_grid({"flag": None}) == [{"flag": None}]


def test_no_grid_and_empty_grids_are_one_run_with_nothing_varied():
    assert expand_grid(None) == [{}]
    assert expand_grid([]) == [{}]
    assert expand_grid({}) == [{}]


def test_explicit_points_are_kept_in_order_and_copied():
    given = [{"a": 1}, {"a": 2, "b": 3}, {"a": 1}]
    points = expand_grid(given)
    assert points == given
    points[0]["a"] = 99
    assert given[0] == {"a": 1}  # the caller's grid is not changed by later edits of the points


@pytest.mark.parametrize("grid, message", [
    ({"k": []}, "The grid axis 'k' has no values."),
    ([{"a": 1}, 5], "Grid point 1 of the sweep is not a mapping of parameter: value."),
    ("k=1", "The sweep's grid must be a mapping of parameter: [values] or a list of points."),
    (7, "The sweep's grid must be a mapping of parameter: [values] or a list of points."),
])
def test_a_malformed_grid_is_one_sentence(grid, message):
    with pytest.raises(UserError) as error:
        expand_grid(grid)
    assert one_sentence(error) == message


# ---- parse_assignment -----------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("k=10", ("k", 10)),
    ("t=[0.2, 0.8]", ("t", [0.2, 0.8])),
    ("dataset=starter", ("dataset", "starter")),
    ("flag=true", ("flag", True)),
    ("model=null", ("model", None)),
    ("model=", ("model", "")),  # an empty value is an empty string, not None
    ("  k =3", ("k", 3)),  # the key is stripped
    ("base_url=http://127.0.0.1:8000/v1?a=b", ("base_url", "http://127.0.0.1:8000/v1?a=b")),  # first '=' splits
    ("ks={1: 2}", ("ks", {1: 2})),
    ("name=[unclosed", ("name", "[unclosed")),  # not YAML: kept as the text given
])
def test_assignments_read_their_value_as_yaml(text, expected):
    assert parse_assignment(text) == expected


@pytest.mark.parametrize("text", ["novalue", "=5", "   =5", ""])
def test_an_assignment_without_a_key_is_one_sentence(text):
    with pytest.raises(UserError) as error:
        parse_assignment(text)
    assert one_sentence(error) == f"Expected KEY=VALUE, got {text!r}."


# ---- the sweep file -------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path):
    """notebooks/a.ipynb (x, label, out_dir, cache_dir) and notebooks/b.ipynb (y, label), params/ empty."""
    write_notebook(tmp_path / "notebooks" / "a.ipynb", "x = 1\nlabel = 'a'\nout_dir = ''\ncache_dir = ''", "x")
    write_notebook(tmp_path / "notebooks" / "b.ipynb", "y = 0\nlabel = 'b'", "y")
    (tmp_path / "params").mkdir()
    return tmp_path


def sweep_file(project: Path, doc, name: str = "s.yaml") -> Path:
    path = project / "params" / name
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.mark.parametrize("doc, message", [
    ("grid: [1, 2", "is not valid YAML: expected ',' or ']', but got '<stream end>' (line 1, column 12)."),
    ("a: b: c", "is not valid YAML: mapping values are not allowed here (line 1, column 5)."),
    ("- a\n- b\n", "must be a mapping with notebooks, fixed and grid."),
    ({"notebooks": ["a"], "grids": {"x": [1]}}, "has unknown key(s): grids."),
    ({"fixed": {"x": 1}}, "names no notebook (key `notebooks`)."),
    ("", "names no notebook (key `notebooks`)."),
    ({"notebooks": ["missing"]}, "The sweep names the notebook 'missing', which is not a file under notebooks/."),
    ({"notebooks": ["a"], "grid": {"x": []}}, "The grid axis 'x' has no values."),
])
def test_a_bad_sweep_file_is_one_sentence(project, doc, message):
    with pytest.raises(UserError) as error:
        load_sweep(sweep_file(project, doc))
    assert message in one_sentence(error)


def test_a_missing_sweep_file_is_one_sentence(tmp_path):
    with pytest.raises(UserError) as error:
        load_sweep(tmp_path / "nope.yaml")
    assert one_sentence(error) == f"No sweep file at {tmp_path / 'nope.yaml'}."


def test_notebooks_may_be_one_name_a_list_or_a_mapping_of_their_own_parameters(project):
    one = load_sweep(sweep_file(project, {"notebook": "a"}))
    assert list(one.notebooks) == [str(project / "notebooks" / "a.ipynb")]
    assert one.name == "s" and one.grid == [{}] and one.fixed == {}
    both = load_sweep(sweep_file(project, {"name": "named", "notebooks": {"a.ipynb": {"label": "A"}, "b": None}}))
    assert both.name == "named"
    assert both.notebooks == {str(project / "notebooks" / "a.ipynb"): {"label": "A"},
                              str(project / "notebooks" / "b.ipynb"): {}}
    # a path relative to the sweep file works as well as a stem under notebooks/
    rel = load_sweep(sweep_file(project, {"notebooks": ["../notebooks/b.ipynb"]}))
    assert list(rel.notebooks) == [str(project / "notebooks" / "b.ipynb")]


def test_overrides_replace_fixed_values_and_collapse_the_grid(project):
    path = sweep_file(project, {"notebooks": ["a"], "fixed": {"label": "f"}, "grid": {"x": [1, 2], "label": ["p", "q"]}})
    s = load_sweep(path)
    assert len(s.grid) == 4 and s.fixed == {"label": "f"}
    s = load_sweep(path, overrides={"label": "o"})
    assert s.fixed == {"label": "o"}
    assert s.grid == [{"x": 1}, {"x": 2}]  # four points, two once label is fixed
    s = load_sweep(path, overrides={"x": 5, "label": "o"})
    assert s.grid == [{}] and s.fixed == {"label": "o", "x": 5}


def test_only_keeps_matching_points_and_checks_fixed_values(project):
    path = sweep_file(project, {"notebooks": ["a", "b"], "fixed": {"label": "f"}, "grid": {"x": [1, 2, 3]}})
    assert load_sweep(path, only=["x=2"]).grid == [{"x": 2}]
    assert load_sweep(path, only=["label=f"]).grid == [{"x": 1}, {"x": 2}, {"x": 3}]  # the fixed value itself
    s = load_sweep(path, only=["notebook=b.ipynb", "x=3"])
    assert [Path(n).stem for n in s.notebooks] == ["b"] and s.grid == [{"x": 3}]
    assert [Path(n).stem for n in s.all_notebooks] == ["a", "b"]
    for only, message in (
        (["x=7"], "--only x=7 matches no grid point; the grid has x in 1, 2, 3."),
        (["label=g"], "--only label=g: s.yaml does not sweep label (it fixes it to 'f'; its grid sweeps x); "
                      "--set label=g runs it with that value."),
        (["y=1"], "--only y=...: 'y' is neither a grid nor a fixed parameter of s.yaml."),
        (["notebook=c"], "--only notebook=c matches none of the sweep's notebooks (a, b)."),
        (["x"], "Expected KEY=VALUE, got 'x'."),
    ):
        with pytest.raises(UserError) as error:
            load_sweep(path, only=only)
        assert one_sentence(error) == message


def test_only_on_the_shipped_sweeps_points_at_set_for_a_fixed_key():
    """The README once ran `--only seed=1` on params/clustering.yaml, which fixes the seed: the sentence
    says what the grid sweeps and how to change the seed; on params/solve_rate.yaml, which sweeps it,
    it picks that grid point."""
    params = Path(__file__).resolve().parents[1] / "params"
    with pytest.raises(UserError) as error:
        load_sweep(params / "clustering.yaml", only=["seed=1"])
    assert one_sentence(error) == ("--only seed=1: clustering.yaml does not sweep seed (it fixes it to 0; its grid "
                                   "sweeps mutant_samples); --set seed=1 runs it with that value.")
    assert load_sweep(params / "clustering.yaml", overrides={"seed": 1}).fixed["seed"] == 1
    assert load_sweep(params / "solve_rate.yaml", only=["seed=1"]).grid == [{"seed": 1}]


# ---- run folders ----------------------------------------------------------------------------------


def test_a_run_folder_names_the_notebook_and_the_grid_values():
    assert point_id("notebooks/a.ipynb", {}) == "a"
    assert point_id("a.ipynb", {"x": 1, "label": "p q/r"}) == "a__x=1__label=p-q-r"
    assert point_id("a.ipynb", {"t": [0.2, 1.0], "m": None, "e": ""}) == "a__t=0.2-1.0__m=null__e=x"


def test_a_long_run_folder_name_is_cut_and_keeps_a_digest_of_the_whole_point():
    long_a = {"model": "m" * 150, "seed": 1}
    long_b = {"model": "m" * 150, "seed": 2}
    a, b = point_id("nb.ipynb", long_a), point_id("nb.ipynb", long_b)
    assert len(a) <= 120 and a.startswith("nb__model=mmm")
    assert a != b  # the same first hundred characters, different points: different folders
    assert a == point_id("nb.ipynb", dict(long_a))  # stable between re-runs


# ---- planning runs ----------------------------------------------------------------------------------


def test_notebook_parameters_are_the_declared_defaults(project, tmp_path):
    assert notebook_parameters(project / "notebooks" / "a.ipynb") == {
        "x": "1", "label": "'a'", "out_dir": "''", "cache_dir": "''"}
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json")
    with pytest.raises(UserError) as error:
        notebook_parameters(broken)
    assert one_sentence(error).startswith(f"Cannot read the parameters of {broken}:")


def test_runs_get_the_fixed_the_notebooks_own_and_the_grid_parameters_they_declare(project, tmp_path):
    path = sweep_file(project, {"notebooks": {"a": {"label": "mine"}, "b": None},
                                "fixed": {"label": "f"}, "grid": {"x": [1, 2], "y": [5]}})
    runs = plan_runs(load_sweep(path), tmp_path / "out", tmp_path / "cache")
    by_id = {r.run_id: r for r in runs}
    assert list(by_id) == ["a__x=1", "a__x=2", "b__y=5"]
    assert by_id["a__x=2"].parameters == {"label": "mine", "x": 2, "out_dir": str(tmp_path / "out" / "a__x=2"),
                                          "cache_dir": str(tmp_path / "cache")}
    # b declares neither out_dir nor cache_dir: nothing is injected, x is not its parameter
    assert by_id["b__y=5"].parameters == {"label": "f", "y": 5}
    assert by_id["b__y=5"].grid_point == {"y": 5}
    assert all(r.status == "pending" and r.error is None for r in runs)
    assert by_id["a__x=1"].dir == str(tmp_path / "out" / "a__x=1")


def test_without_a_cache_folder_the_notebooks_default_stays(project, tmp_path):
    runs = plan_runs(load_sweep(sweep_file(project, {"notebooks": ["a"]})), tmp_path, None)
    assert runs[0].parameters == {"out_dir": str(tmp_path / "a")}


def test_runs_carry_the_notebooks_and_the_codes_hashes(project, tmp_path):
    runs = plan_runs(load_sweep(sweep_file(project, {"notebooks": ["a", "b"]})), tmp_path, None)
    for run in runs:
        assert run.notebook_sha256 == hashlib.sha256(Path(run.notebook).read_bytes()).hexdigest()
        assert run.code_sha256 == code_fingerprint()
    assert runs[0].notebook_sha256 != runs[1].notebook_sha256


@pytest.mark.parametrize("doc", [
    {"notebooks": ["a"], "fixed": {"samples": 3}},
    {"notebooks": ["a"], "grid": {"samples": [1, 2]}},
    {"notebooks": {"a": {"samples": 3}}},
])
def test_a_parameter_no_notebook_declares_is_a_typo(project, tmp_path, doc):
    with pytest.raises(UserError) as error:
        plan_runs(load_sweep(sweep_file(project, doc)), tmp_path, None)
    assert one_sentence(error) == "The sweep sets samples, which no notebook of it declares as a parameter."


def test_the_injected_parameters_are_never_typos(project, tmp_path):
    path = sweep_file(project, {"notebooks": ["b"], "fixed": {"out_dir": "elsewhere", "cache_dir": "c"}})
    (run,) = plan_runs(load_sweep(path), tmp_path, tmp_path / "cache")
    assert run.parameters == {}  # b declares neither; the sweep says nothing about them
    assert set(plan.INJECTED) == {"out_dir", "cache_dir"}


def test_every_sweep_file_of_the_project_plans_a_run_per_notebook_and_point(tmp_path):
    for path in sorted((REPO / "params").glob("*.yaml")):
        s = load_sweep(path)
        runs = plan_runs(s, tmp_path, tmp_path / "cache")
        assert {Path(r.notebook) for r in runs} == {Path(n) for n in s.notebooks}, path.name
        assert len({r.run_id for r in runs}) == len(runs), path.name  # no two runs share a folder


def test_a_sweep_file_that_is_not_utf8_is_one_sentence(project):
    path = project / "params" / "latin1.yaml"
    path.write_bytes("notebooks: [a]\nfixed: {label: caf\u00e9}\n".encode("latin-1"))
    with pytest.raises(UserError) as error:
        load_sweep(path)
    assert one_sentence(error) == f"The sweep file {path} is not UTF-8 text (byte 0xe9 at position 33)."
