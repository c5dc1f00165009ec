"""AlphaCode's analyses of a run folder, on real CodeContests problems with candidates whose fate is known
by hand: the problem's accepted solution (twice, once behind a comment), a syntax error, a crash, a wrong
answer, an endless loop and an empty reply."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from acodium import analyses
from acodium.data import DIFFICULTY_NAMES
from acodium.errors import UserError
from acodium.execute import Execution
from acodium.tables import CANDIDATES

REPO = Path(__file__).resolve().parents[1]

# accepted solutions that pass their problem's tests; difficulties B, B and F
NAMES = ["103_B. Cthulhu", "1068_B. LCM", "1003_F. Abbreviation"]
PREFIX = "# written by a sample\n"
# candidate id -> (code made from the accepted solution, outcome the failure analysis must give)
KINDS = {
    "accepted": (lambda sol: sol, "passes"),
    "prefixed": (lambda sol: PREFIX + sol, "passes"),
    "syntax": (lambda sol: "def f(:\n    pass\n", "compile error"),
    "crash": (lambda sol: "import sys\nsys.exit(3)\n", "runtime error"),
    "wrong": (lambda sol: "print(-1)\n", "wrong answer"),
    "loop": (lambda sol: "while True:\n    pass\n", "timeout"),
    "empty": (lambda sol: "", "no code"),
}
# and in C++, a language the problems have no human solution in: candidate id -> (code, outcome)
CPP = {
    "cpp-syntax": ("int main( {\n", "compile error"),
    "cpp-wrong": ('#include <cstdio>\nint main() { std::puts("-1"); }\n', "wrong answer"),
}
SAMPLES = len(KINDS) + len(CPP)  # per problem


@pytest.fixture(scope="module")
def rows(train_rows):
    by_name = {row["name"]: row for row in train_rows}
    return [by_name[name] for name in NAMES]


def _candidates(rows, kinds=KINDS) -> pd.DataFrame:
    out = []
    for row in rows:
        solution = row["solutions"]["solution"][0]
        for cid, (make, _) in kinds.items():
            out.append({"problem": row["name"], "candidate_id": cid, "language": "python3", "code": make(solution),
                        "source": "file", "meta": "{}"})
        for cid, (code, _) in CPP.items():
            out.append({"problem": row["name"], "candidate_id": cid, "language": "cpp", "code": code,
                        "source": "file", "meta": "{}"})
    return pd.DataFrame(out, columns=CANDIDATES)


@pytest.fixture(scope="module")
def run(rows, train_sample_path, tmp_path_factory):
    folder = tmp_path_factory.mktemp("analyses") / "run"
    return analyses.score_run(folder, rows, dataset=train_sample_path, split="train", candidates=_candidates(rows),
                              execution=Execution(time_s=1.0, slow_cap=1.0, cache_dir=None), progress=False)


def test_the_run_folder_is_read_alone(run, rows):
    again = analyses.read_run(run.folder)
    assert again.names == NAMES
    assert len(again.candidates) == len(NAMES) * SAMPLES
    # executions by candidate: every candidate with code ran the public tests of its problem up to its first
    # failure (the schedule "public_first"), the accepted ones all of them, and the hidden ones too
    ex = again.executions
    public = {row["name"]: len(row["public_tests"]["input"]) for row in rows}
    private = {row["name"]: len(row["private_tests"]["input"]) for row in rows}
    ran = ex.groupby(["problem", "candidate_id", "test_set"]).size()
    assert set(ran.index.get_level_values("candidate_id")) == (set(KINDS) | set(CPP)) - {"empty"}
    for name in NAMES:
        for cid in ("accepted", "prefixed"):
            assert ran[(name, cid, "public")] == public[name] and ran[(name, cid, "private")] == private[name]
        assert ran[(name, "crash", "public")] == 1 and (name, "crash", "private") not in ran.index


def test_failures_by_language_are_the_outcomes_made_by_hand(run):
    outcomes = analyses.sample_outcomes(run)
    assert dict(zip(outcomes["candidate_id"], outcomes["outcome"])) == {cid: o for cid, (_, o) in
                                                                         [*KINDS.items(), *CPP.items()]}
    assert outcomes.groupby("candidate_id")["outcome"].nunique().eq(1).all()  # the same on every problem
    shares = analyses.failure_shares(run).set_index("language")
    assert list(shares.index) == ["cpp", "python3", "all"]
    one = 1 / len(KINDS)
    for outcome in ("no code", "compile error", "runtime error", "timeout", "wrong answer"):
        assert shares.loc["python3", outcome] == pytest.approx(one)
    assert shares.loc["python3", "passes"] == pytest.approx(2 * one)
    assert shares.loc["python3", "fails to compile or crashes"] == pytest.approx(2 * one)
    assert shares.loc["python3", "samples"] == len(NAMES) * len(KINDS)
    assert shares.loc["cpp", ["compile error", "wrong answer", "samples"]].tolist() == [0.5, 0.5, 2 * len(NAMES)]
    assert shares.loc["cpp", "fails to compile or crashes"] == 0.5
    assert shares.loc["all", "samples"] == len(NAMES) * SAMPLES
    assert shares.loc["all", "compile error"] == pytest.approx(2 / SAMPLES)
    assert shares.loc["all", "fails to compile or crashes"] == pytest.approx(3 / SAMPLES)
    assert shares.loc["all", "wrong answer"] == pytest.approx(2 / SAMPLES)


def test_solve_rates_by_problem_tag_rating_and_difficulty(run, rows):
    table = analyses.per_problem(run, n=10)
    assert table["problem"].tolist() == NAMES
    assert table["samples"].tolist() == [SAMPLES] * 3
    assert table["correct"].tolist() == [2] * 3 and table["passes_public"].tolist() == [2] * 3
    assert table["pass@1"].tolist() == pytest.approx([2 / SAMPLES] * 3)
    assert table["solved"].all() and table["n@k filtered"].tolist() == [1.0] * 3
    by_tag = analyses.solve_rate_by_tag(table).set_index("tag")
    tags = [t for row in rows for t in row["cf_tags"]]
    assert by_tag["problems"].to_dict() == {t: tags.count(t) for t in set(tags)}
    assert list(by_tag.index) == sorted(set(tags))  # one problem each: by name
    assert (by_tag["solve_rate"] == 1.0).all() and (by_tag["samples"] == SAMPLES).all()
    # the real sample states no rating (0): one group, "unknown"
    by_rating = analyses.solve_rate_by_rating(table)
    assert by_rating["rating"].tolist() == ["unknown"] and by_rating["problems"].tolist() == [3]
    # intervals over problems: around the rate, never zero-width, wide for a group of one problem
    assert (by_tag["ci_low"] <= by_tag["solve_rate"]).all() and (by_tag["ci_high"] == 1.0).all()
    assert (by_tag["ci_low"] < 0.5).all()
    by_difficulty = analyses.solve_rate_by_difficulty(table)
    assert [DIFFICULTY_NAMES[row["difficulty"]] for row in rows] == ["B", "B", "F"]
    assert by_difficulty["difficulty"].tolist() == ["B", "F"] and by_difficulty["problems"].tolist() == [2, 1]
    assert by_difficulty["samples"].tolist() == [2 * SAMPLES, SAMPLES]


def test_an_unsolved_problem_counts_in_its_groups(run):
    """A problem whose samples are all wrong still counts: 0 solved, beside the solved ones."""
    judged = run.judgements.copy()
    judged.loc[judged["problem"] == NAMES[0], "correct"] = False
    broken = analyses.Run(run.folder, run.problems, run.candidates, {"judgements": judged})
    table = analyses.per_problem(broken)
    assert table["solved"].tolist() == [False, True, True]
    assert table.loc[0, "n@k filtered"] == 0.0
    by_tag = analyses.solve_rate_by_tag(table).set_index("tag")
    assert by_tag.loc["dsu", "solve_rate"] == 0.0  # Cthulhu's alone


def test_sample_lengths_against_the_accepted_solution(run, rows):
    lengths = analyses.sample_lengths(run)
    cpp = lengths[lengths["language"] == "cpp"]
    assert cpp["samples"].tolist() == [2] * 3 and cpp["human_solutions"].tolist() == [0] * 3
    assert cpp["chars_ratio"].isna().all() and cpp["sample_chars"].tolist() == [np.median([len(c) for c, _ in
                                                                                            CPP.values()])] * 3
    lengths = lengths[lengths["language"] == "python3"].set_index("problem")
    for row in rows:
        solution = row["solutions"]["solution"][0]
        codes = [make(solution) for cid, (make, _) in KINDS.items() if cid != "empty"]
        got = lengths.loc[row["name"]]
        assert got["samples"] == 6 and got["human_solutions"] == 1
        assert got["sample_chars"] == np.median([len(c) for c in codes])
        assert got["correct_chars"] == np.median([len(solution), len(PREFIX) + len(solution)])
        assert got["human_chars"] == len(solution)
        assert got["chars_ratio"] == pytest.approx(np.median([len(c) for c in codes]) / len(solution))


def test_copying_finds_the_copied_solution(run, rows):
    copied = analyses.copying(run.candidates, run.judgements, rows, progress=False)
    assert sorted(copied["candidate_id"].unique()) == ["accepted", "prefixed"]  # correct samples only
    for row in rows:
        solution = row["solutions"]["solution"][0]
        mine = copied[copied["problem"] == row["name"]].set_index("candidate_id")
        assert mine.loc["accepted", "lcs_chars"] == len(solution) and mine.loc["accepted", "lcs_share"] == 1.0
        assert mine.loc["prefixed", "lcs_chars"] == len(solution)
        assert mine.loc["prefixed", "lcs_text"] == solution
    distribution = analyses.copying_distribution(copied)
    assert set(copied["of"]) == {"correct samples"}
    assert distribution["quantile"].tolist()[0] == 0.0 and distribution["programs"].iloc[0] == 6
    top = distribution[distribution["quantile"] == 1.0]["lcs_chars"].item()
    assert top == max(len(row["solutions"]["solution"][0]) for row in rows)


def test_copying_from_other_problems_matches_brute_force(run, rows, train_rows):
    """Against a corpus of other problems' solutions, the automaton's answer is the dynamic programme's."""
    others = [row for row in train_rows if row["name"] not in NAMES][:6]
    copied = analyses.copying(run.candidates, run.judgements, others, progress=False)
    corpus = [row["solutions"]["solution"][0] for row in others]
    accepted = copied[copied["candidate_id"] == "accepted"]
    for r in accepted.itertuples():
        code = run.candidates.set_index(["problem", "candidate_id"]).loc[(r.problem, "accepted"), "code"]
        assert r.lcs_chars == analyses.brute_force_lcs(code, corpus)
        assert r.lcs_text in code and any(r.lcs_text in doc for doc in corpus)
        assert r.lcs_chars < len(code)


def test_the_suffix_automaton_against_brute_force_on_small_strings():
    rng = random.Random(13)
    for _ in range(300):
        alphabet = "ab" if rng.random() < 0.5 else "abcd\n "
        docs = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(rng.randint(1, 4))]
        sample = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 15)))
        automaton = analyses.SuffixAutomaton(docs)
        match = automaton.longest_common_substring(sample)
        assert match.length == analyses.brute_force_lcs(sample, docs), (sample, docs)
        assert any(match.text(sample) in doc for doc in docs)
    # by hand: no match runs across two documents, nor from one into the next
    automaton = analyses.SuffixAutomaton(["ab", "cd"])
    assert automaton.longest_common_substring("abcd").length == 2
    assert analyses.SuffixAutomaton(["xxabcdeyy", "zz"]).longest_common_substring("qabcdq").text("qabcdq") == "abcd"
    assert analyses.SuffixAutomaton([]).longest_common_substring("abc").length == 0


def test_the_suffix_automaton_is_linear_on_real_solutions(train_rows):
    """Its size stays within 2N states, and matching costs the sample's length, not the corpus's."""
    docs = [s for row in train_rows for s in row["solutions"]["solution"]]
    automaton = analyses.SuffixAutomaton(docs[:100])
    assert automaton.states <= 2 * (automaton.characters + len(docs[:100]))
    sample = "".join(docs[100:110])
    start = time.perf_counter()
    match = automaton.longest_common_substring(sample)
    elapsed = time.perf_counter() - start
    assert match.length == analyses.brute_force_lcs(docs[100][:400], docs[:3]) or match.length > 0
    assert elapsed < 0.5, f"{len(sample)} characters matched in {elapsed:.2f}s"


def test_bad_input_is_one_sentence(tmp_path, run):
    with pytest.raises(UserError, match="is not a run folder .no such folder"):
        analyses.read_run(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="is not a run folder: it holds no candidates.parquet"):
        analyses.read_run(tmp_path / "empty")
    # candidates alone: which problems they are of is not recorded
    (tmp_path / "bare").mkdir()
    (tmp_path / "bare" / "candidates.parquet").write_bytes((run.folder / "candidates.parquet").read_bytes())
    with pytest.raises(UserError, match=r"does not record the problems it ran on \(no problems.json\): give the "
                                        "dataset it ran on as `problems`"):
        analyses.read_run(tmp_path / "bare")
    # candidates and problems, never scored: the analyses that need the runs say so
    unscored = tmp_path / "unscored"
    unscored.mkdir()
    for name in ("candidates.parquet", "problems.json"):
        (unscored / name).write_bytes((run.folder / name).read_bytes())
    folder = analyses.read_run(unscored)
    with pytest.raises(UserError, match="has no executions .executions.parquet.: score it first"):
        analyses.failure_shares(folder)
    with pytest.raises(UserError, match="has no judgements .judgements.parquet.: score it first"):
        analyses.per_problem(folder)


def test_copying_without_a_reference_in_the_language_is_one_sentence(run, train_rows):
    python2_only = [dict(row, solutions={"language": [1], "solution": ["print 1"]}) for row in train_rows[:2]]
    with pytest.raises(UserError, match="holds no human solution in python3"):
        analyses.copying(run.candidates, run.judgements, python2_only, progress=False)


# --------------------------------------------------------------------------- the prompt's metadata


@pytest.fixture(scope="module")
def metadata_runs(rows, train_sample_path, tmp_path_factory):
    """Two runs of the alphacode prompt against the local server, which answers with the accepted solution
    when the prompt shows the problem's true tags and with a wrong program otherwise: true tags in run a,
    random tags and ratings in run b."""
    from chat_server import ChatServer, wrap

    from acodium.generate import generate_candidates, make_source

    true_lines = {row["description"][:200]: (f"TAGS: {', '.join(row['cf_tags'])}\n", row["solutions"]["solution"][0])
                  for row in rows}

    def responder(body):
        text = "\n".join(str(m.get("content", "")) for m in body["messages"])
        line, solution = next(value for key, value in true_lines.items() if key in text)
        return wrap(solution if line in text else "print(-1)\n", "python_fence")

    server = ChatServer(models=("test-model",)).start()
    server.responder = responder
    root = tmp_path_factory.mktemp("metadata")
    execution = Execution(time_s=2.0, slow_cap=1.0, cache_dir=root / "executions")
    made = {}
    try:
        for label, metadata in (("a", "true"), ("b", "random")):
            source = make_source("llm", model="test-model", base_url=server.url, api_key="sk-test", prompt="alphacode",
                                 tags=metadata, rating=metadata, cache_path=None)
            generate_candidates(rows, source, 4, run_dir=root / label, progress=False)
            made[label] = analyses.score_run(root / label, rows, dataset=train_sample_path, split="train",
                                             execution=execution, progress=False)
    finally:
        server.stop()
    made["requests"] = server.chat_requests
    made["root"], made["execution"] = root, execution
    return made


def test_random_metadata_against_true_metadata_problem_by_problem(metadata_runs, rows):
    a, b = metadata_runs["a"], metadata_runs["b"]
    assert metadata_runs["requests"] == 2 * len(rows) * 4
    result = analyses.metadata_sensitivity(a.folder, b.folder, n=10)
    # what each run's samples were shown, read back from their meta: run a the true tags, run b others
    shown = b.candidates.assign(tags=b.candidates["meta"].map(lambda m: json.loads(m)["tags_shown"]))
    true_tags = {row["name"]: sorted(row["cf_tags"]) for row in rows}
    matches = {name: sum(sorted(t) == true_tags[name] for t in group["tags"])
               for name, group in shown.groupby("problem")}
    assert a.judgements["correct"].all()
    assert b.judgements.groupby("problem")["correct"].sum().to_dict() == matches
    # pass@4 of run b by hand: 1 where some sample was shown the true tags
    expected_b = [1.0 if matches[name] else 0.0 for name in NAMES]
    per = result.per_problem.set_index("problem").loc[NAMES]
    assert per["pass@k a"].tolist() == [1.0, 1.0, 1.0] and per["pass@k b"].tolist() == expected_b
    comparison = result.comparison.set_index("metric")
    ahead = sum(1 for e in expected_b if e < 1.0)
    assert comparison.loc["pass@k", "k"] == 4
    assert comparison.loc["pass@k", "difference"] == pytest.approx(np.mean([1 - e for e in expected_b]))
    assert (comparison.loc["pass@k", "ahead"], comparison.loc["pass@k", "behind"]) == (ahead, 0)
    assert comparison.loc["pass@k", "p_value"] == pytest.approx(min(1.0, 2 * 0.5 ** ahead) if ahead else 1.0)
    assert comparison.loc["n@k filtered", "a"] == 1.0
    assert result.settings.set_index("label")[["prompt", "tags", "rating"]].to_dict("index") == {
        "a": {"prompt": "alphacode", "tags": "true", "rating": "true"},
        "b": {"prompt": "alphacode", "tags": "random", "rating": "random"}}


def test_metadata_runs_on_other_problems_are_one_sentence(metadata_runs, rows, train_sample_path):
    a = metadata_runs["a"]
    fewer = metadata_runs["root"] / "fewer"
    candidates = a.candidates[a.candidates["problem"].isin(NAMES[:2])]
    analyses.score_run(fewer, rows[:2], dataset=train_sample_path, split="train", candidates=candidates,
                       execution=metadata_runs["execution"], progress=False)
    with pytest.raises(UserError, match="were made on different problems .for instance '1003_F. Abbreviation' is in "
                                        "one only.: a paired comparison needs the same problems"):
        analyses.metadata_sensitivity(a.folder, fewer)
    with pytest.raises(UserError, match="k must be between 1 and 4"):
        analyses.metadata_sensitivity(a.folder, metadata_runs["b"].folder, k=5)


def test_analyse_with_a_reference_dataset_by_path(run, rows, train_rows, train_sample_path):
    """Every analysis at once, the copying corpus read from a dataset file with the run's problems left out
    (AlphaCode's copying from other problems), and the human solutions measured the same way."""
    result = analyses.analyse(run, reference=train_sample_path, progress=False)
    assert set(result.tables()) == {"per_problem", "by_tag", "by_rating", "by_difficulty", "failures", "lengths",
                                    "copying", "copying_distribution"}
    assert result.tables()["per_problem"]["tags"].iloc[0] == "dfs and similar, dsu, graphs"
    copied = result.copying
    assert copied.groupby("of").size().to_dict() == {"correct samples": 2 * len(NAMES), "human solutions": len(NAMES)}
    joined = "\x00".join(row["solutions"]["solution"][0] for row in train_rows if row["name"] not in NAMES)
    humans = copied[copied["of"] == "human solutions"].set_index("problem")
    for row in rows:
        solution, found = row["solutions"]["solution"][0], humans.loc[row["name"], "lcs_chars"]
        # the longest: a substring of that length is in the corpus, none longer (C-speed search, exact)
        assert humans.loc[row["name"], "lcs_text"] in joined and len(humans.loc[row["name"], "lcs_text"]) == found
        assert not any(solution[i:i + found + 1] in joined for i in range(len(solution) - found))
        mine = copied[(copied["of"] == "correct samples") & (copied["problem"] == row["name"])]
        # the accepted sample is the human solution: the same longest substring, found again
        assert mine.set_index("candidate_id").loc["accepted", "lcs_chars"] == humans.loc[row["name"], "lcs_chars"]
    distribution = result.copying_distribution
    assert set(distribution["of"]) == {"correct samples", "human solutions"}


def test_the_notebook_on_a_folder_that_is_not_a_run_is_one_sentence(tmp_path):
    import nbformat
    import papermill

    out = tmp_path / "a.ipynb"
    with pytest.raises(papermill.PapermillExecutionError):
        papermill.execute_notebook(str(REPO / "notebooks" / "alphacode_analyses.ipynb"), str(out),
                                   kernel_name="python3", parameters={"run_dir": str(tmp_path)}, progress_bar=False)
    nb = nbformat.read(str(out), as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert len(errors) == 1 and errors[0].ename == "UserError"
    assert errors[0].evalue == f"{tmp_path} is not a run folder: it holds no candidates.parquet or candidates.jsonl."
    assert len(errors[0].traceback) == 1


def test_figures_draw_what_the_tables_hold(run, rows):
    from acodium.analyses import figures

    table = analyses.per_problem(run)
    by_tag = analyses.solve_rate_by_tag(table)
    ax = figures.solve_rate_bars(by_tag, "tag", title="t").axes[0]
    assert [p.get_width() for p in ax.patches] == by_tag["solve_rate"].tolist()
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"{t} (1)" for t in by_tag["tag"]]
    shares = analyses.failure_shares(run)
    ax = figures.failure_bars(shares).axes[0]
    outcomes = [c for c in shares.columns if c not in ("language", "samples", "fails to compile or crashes")]
    assert len(ax.patches) == len(outcomes) * len(shares)
    assert sum(p.get_width() for p in ax.patches) == pytest.approx(len(shares))  # each bar adds up to 100%
    lengths = analyses.sample_lengths(run)
    ax = figures.length_scatter(lengths).axes[0]
    assert len(ax.collections) == 1 and len(ax.collections[0].get_offsets()) == len(NAMES)  # C++ has no human
    copied = analyses.copying(run.candidates, run.judgements, rows, progress=False)
    ax = figures.copying_histogram(copied).axes[0]
    assert sum(p.get_height() * p.get_width() for p in ax.patches) == pytest.approx(1.0)  # a density


def test_an_offline_run_is_made_again_with_other_options_and_resumes(tmp_path):
    """No model: the starter problems' own (correct) solutions and their mutants; a second call with more
    mutants makes the new candidates and runs only their programs."""
    execution = Execution(slow_cap=1.0, cache_dir=None)
    options = dict(limit=2, correct_fraction=1.0, execution=execution, progress=False)
    first = analyses.offline_run(tmp_path / "run", sources={"human": 2, "mutants": 2}, **options)
    assert first.candidates.groupby("source").size().to_dict() == {"human": 4, "mutant": 4}
    assert first.record["dataset"] == "starter" and len(first.names) == 2
    ran = first.summary["jobs_run"]
    second = analyses.offline_run(tmp_path / "run", sources={"human": 2, "mutants": 3}, **options)
    assert second.candidates.groupby("source").size().to_dict() == {"human": 4, "mutant": 6}
    assert set(first.candidates["code"]) < set(second.candidates["code"])
    assert second.summary["jobs_resumed"] == ran and 0 < second.summary["jobs_run"] <= 2
    assert len(analyses.read_run(tmp_path / "run").judgements) == 10


def test_the_notebook_compares_two_metadata_runs(metadata_runs, tmp_path):
    """The notebook on run a with run b as its random-metadata run: the tables it saves are the library's."""
    import papermill

    from acodium import notebook

    a, b = metadata_runs["a"], metadata_runs["b"]
    papermill.execute_notebook(str(REPO / "notebooks" / "alphacode_analyses.ipynb"), str(tmp_path / "m.ipynb"),
                               kernel_name="python3", progress_bar=False,
                               parameters={"run_dir": str(a.folder), "random_metadata_run": str(b.folder),
                                           "out_dir": str(tmp_path / "out")})
    saved = notebook.load_tables(tmp_path / "out")
    direct = analyses.metadata_sensitivity(a.folder, b.folder)
    pd.testing.assert_frame_equal(saved["metadata_comparison"], direct.comparison, check_dtype=False)
    pd.testing.assert_frame_equal(saved["metadata_per_problem"], direct.per_problem, check_dtype=False)
    assert saved["per_problem"]["problem"].tolist() == NAMES
    assert not (tmp_path / "out" / "run").exists()  # the given run was read, none made
