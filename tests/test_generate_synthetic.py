"""The synthetic source: AlphaCode-shaped pools of the dataset's programs, roles decided by running them.

Most tests run the real pools of the eight starter problems once (module fixture, the demo's settings:
pools of 30, 10 clustering inputs, no slow-positive reruns) and check what the demo claims of them:
the roles the source recorded are the evaluation's own verdicts, the pools are labelled synthetic and
deterministic in the seed, and on them filtering and then clustering each help, problem by problem.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pandas as pd
import pytest

from acodium import data, notebook
from acodium.errors import UserError
from acodium.execute import Execution
from acodium.generate import SyntheticSource, generate_candidates, make_source, pool_counts, roles_in_clusters
from acodium.generate.synthetic import CORRECT, FAILS_PUBLIC, FALSE_POSITIVE, compose
from acodium.metrics import compare_metrics
from acodium.tables import TABLES_DIR, write_table

K = 30


@pytest.fixture(scope="module")
def execution(tmp_path_factory):
    return Execution(cache_dir=tmp_path_factory.mktemp("synthetic-cache"), slow_cap=1)


@pytest.fixture(scope="module")
def starter():
    return [dict(r) for r in data.load_problems("starter")]


@pytest.fixture(scope="module")
def pools(starter, execution):
    return notebook.recipe(
        starter, {"synthetic": (K, dict(seed=0, execution=execution, progress=False))}, execution=execution,
        clustering_inputs=10, clustering_execution=execution.replace(time_s=1.0), ns=[1],
        policies=["random", "clustered"], seed=0)


def roles_of(candidates: pd.DataFrame) -> list[str]:
    return [json.loads(m)["role"] for m in candidates["meta"]]


def test_pool_counts_follow_the_shares():
    assert pool_counts(30) == {CORRECT: 2, FALSE_POSITIVE: 7, FAILS_PUBLIC: 21}
    assert pool_counts(100, 0.9, 0.5) == {CORRECT: 5, FALSE_POSITIVE: 5, FAILS_PUBLIC: 90}
    assert sum(pool_counts(37, 0.66, 0.8).values()) == 37
    for bad in (dict(fail_public=1.5), dict(false_positives="most"), dict(mutants_per_solution=-1),
                dict(test_sets=["public", "private"])):
        with pytest.raises(UserError):
            SyntheticSource(**bad)


def test_compose_is_deterministic_and_gives_short_roles_places_to_failing_programs():
    roles = {f"c{i}": CORRECT for i in range(5)} | {f"w{i}": FALSE_POSITIVE for i in range(3)} \
        | {f"f{i}": FAILS_PUBLIC for i in range(40)}
    pool = compose("p", roles, 30, seed=0)
    assert pool == compose("p", roles, 30, seed=0) and len(pool) == 30 == len(set(pool))
    count = {role: sum(roles[c] == role for c in pool) for role in (CORRECT, FALSE_POSITIVE, FAILS_PUBLIC)}
    # 2 correct as asked, the 3 false positives there are (7 asked), the 4 places left go to failing ones
    assert count == {CORRECT: 2, FALSE_POSITIVE: 3, FAILS_PUBLIC: 25}
    assert compose("p", roles, 30, seed=1) != pool and compose("q", roles, 30, seed=0) != pool
    assert len(compose("p", {"c0": CORRECT, "f0": FAILS_PUBLIC}, 30)) == 2  # too few programs: a smaller pool


def test_roles_are_the_evaluations_verdicts_and_the_pools_say_synthetic(pools):
    c = pools.candidates.merge(pools.judgements, on=["problem", "candidate_id"])
    assert set(c["source"]) == {"synthetic"}
    assert all(json.loads(m)["synthetic"] is True for m in c["meta"])
    expected = [CORRECT if p and ok else FALSE_POSITIVE if p else FAILS_PUBLIC
                for p, ok in zip(c["passes_public"], c["correct"])]
    assert roles_of(c) == expected  # what the source chose by running = what the evaluation judged
    sizes = c.groupby("problem").size()
    assert (sizes == K).all() and len(sizes) == 8
    per = c.assign(role=roles_of(c)).groupby("problem")["role"].value_counts().unstack(fill_value=0)
    want = pool_counts(K)
    assert (per[CORRECT] == want[CORRECT]).all()
    assert (per[FALSE_POSITIVE] <= want[FALSE_POSITIVE]).all() and (per[FALSE_POSITIVE] >= 5).all()
    # a short false-positive role gave its places to programs failing the public tests
    assert (per[FAILS_PUBLIC] == K - per[CORRECT] - per[FALSE_POSITIVE]).all()


def test_the_same_seed_gives_the_same_pools(pools, starter, execution):
    def ids(seed):
        table = generate_candidates(starter, make_source("synthetic", seed=seed, execution=execution, progress=False),
                                    K, progress=False)
        return list(zip(table["problem"], table["candidate_id"], table["code"]))

    assert ids(0) == list(zip(pools.candidates["problem"], pools.candidates["candidate_id"], pools.candidates["code"]))
    assert ids(1) != ids(0)


def test_on_the_starter_pools_filtering_then_clustering_each_help(pools):
    rate = pools.policies()
    at = {r.policy: r.value for r in rate[(rate["k"] == K) & (rate["n"] == 1)].itertuples()}
    assert at["random"] < at["filtered"] < at["filtered + clustered"] < 1.0
    ladder = compare_metrics(pools.metrics).set_index("metric")
    assert ladder.loc["n@k filtered", "behind"] == 0 and ladder.loc["n@k filtered", "ahead"] >= 7
    assert ladder.loc["n@k clustered", "behind"] == 0 and ladder.loc["n@k clustered", "ahead"] >= 5
    assert ladder.loc["n@k clustered", "p_value"] < 0.05
    # the clustering inputs (mutated public inputs, never looked at when the pools were built) tell a real
    # share of the false positives apart from the correct programs, not all of them
    roles = roles_in_clusters(pools.candidates, pools.judgements)
    assert len(roles) == 8 and 0.25 < roles["told apart"].sum() / roles[FALSE_POSITIVE].sum() < 0.9
    assert roles_in_clusters(pools.candidates.assign(source="human"), pools.judgements).empty


def test_the_demo_headline_reads_the_runs_tables(pools, tmp_path, capsys):
    from acodium.demo import headline, print_headline

    first, second = tmp_path / "solve_rate_vs_samples", tmp_path / "clustering_ablation"
    write_table(pools.solve_rate, first / TABLES_DIR / "solve_rate.parquet")
    for name, table in {**pools.tables(), "policies": pools.policies()}.items():
        write_table(table, second / TABLES_DIR / f"{name}.parquet")
    head = headline(SimpleNamespace(runs=[SimpleNamespace(status="ok", dir=str(first)),
                                          SimpleNamespace(status="ok", dir=str(second))]))
    labels = [row[0] for row in head.rows]
    assert labels == ["pass@1", f"pass@{K}", f"1@{K} random", f"1@{K} filtered", f"1@{K} filtered + clustered"]
    assert [label for label, _ in head.comparisons] == [f"filtered vs random, 1@{K}:",
                                                         f"filtered + clustered vs filtered, 1@{K}:"]
    assert head.synthetic and head.pools.startswith("8 problems, synthetic pools of 30 programs each")
    print_headline(head)
    out = " ".join(capsys.readouterr().out.split())  # wrapped lines read as one
    assert "n@k: n submissions chosen from k samples" in out
    assert "What this shows:" in out and "What it does not show:" in out and "synthetic" in out
    assert "false positives apart from every correct program" in out


def test_the_real_sample_roles_match_the_evaluation(train_rows, tmp_path):
    rows = train_rows[:3]  # the sample states no time limits: 2 s, not the default 10 s, for mutants that loop
    execution = Execution(cache_dir=tmp_path / "cache", slow_cap=1, time_s=2.0)
    made = notebook.recipe(rows, {"synthetic": (20, dict(seed=0, execution=execution, mutants_per_solution=15,
                                                         progress=False))},
                           execution=execution, ns=[1], policies=[], resamples=50)
    c = made.candidates.merge(made.judgements, on=["problem", "candidate_id"])
    expected = [CORRECT if p and ok else FALSE_POSITIVE if p else FAILS_PUBLIC
                for p, ok in zip(c["passes_public"], c["correct"])]
    assert roles_of(c) == expected and len(c) > 0
    # each pool is 20 programs unless its problem has too few, and never holds more correct ones than asked
    assert (c.groupby("problem").size() <= 20).all()
    correct = c.assign(role=roles_of(c)).query("role == @CORRECT").groupby("problem").size()
    assert (correct <= pool_counts(20)[CORRECT]).all()


def test_a_problem_without_hidden_tests_is_refused_in_one_sentence(starter, execution):
    row = dict(starter[0], private_tests={"input": [], "output": []}, generated_tests={"input": [], "output": []})
    with pytest.raises(UserError, match=r"^The synthetic source chooses programs by their hidden tests, and problem "):
        generate_candidates([row], make_source("synthetic", execution=execution, progress=False), 5, progress=False)
