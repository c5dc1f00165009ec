"""The METRICS table (`acodium.metrics.table`): its rows and columns, problems without candidates, real programs."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from acodium.errors import UserError
from acodium.execute import Execution
from acodium.execute.types import Job, Program
from acodium.metrics import TABLE_EXTRAS, metrics_table, n_at_k_sampled
from acodium.policies import clustered_policy, random_policy
from acodium.select import judgements
from acodium.tables import EXECUTIONS, METRICS
from metrics_pools import POOLS, judgements_of


def test_metrics_table_columns_and_values():
    judgements = judgements_of(POOLS)
    table = metrics_table(judgements, ks=[1, 4, 8], ns=[1, 2], trials=500, resamples=300)
    assert list(table.columns) == METRICS + TABLE_EXTRAS
    assert set(table["metric"]) == {"pass@k", "n@k filtered", "n@k clustered"}
    everyone = table[table["problem"] == "ALL"]
    assert len(everyone) == 3 + 2 * 3 + 2 * 3
    assert (everyone["ci_low"] <= everyone["value"]).all() and (everyone["value"] <= everyone["ci_high"]).all()
    per_problem = table[table["problem"] != "ALL"]
    assert set(per_problem["problem"]) == {"a", "b", "c"}
    assert per_problem["ci_low"].isna().all()
    # ALL is the mean of the per-problem rows
    means = per_problem.groupby(["metric", "n", "k"])["value"].mean()
    for _, row in everyone.iterrows():
        assert row["value"] == pytest.approx(means[(row["metric"], row["n"], row["k"])])
    p1 = table[(table["metric"] == "pass@k") & (table["k"] == 1) & (table["problem"] == "b")]["value"].item()
    assert p1 == pytest.approx(2 / 8)
    with pytest.raises(UserError, match="k=9 is more than the 8 samples of problem .a."):
        metrics_table(judgements, ks=[9])


def test_a_problem_without_candidates_stays_in_the_mean():
    # A: 2 candidates, 1 correct; B: none. pass@1 = (0.5 + 0) / 2, not 0.5.
    judgements = judgements_of({"A": [(True, True, 0), (True, False, 1)]})
    table = metrics_table(judgements, ks=[1, 2], ns=[1], problems=["A", "B"], trials=200, resamples=200)
    everyone = table[(table["problem"] == "ALL") & (table["metric"] == "pass@k")].set_index("k")
    assert everyone.loc[1, "value"] == pytest.approx(0.25)
    assert everyone.loc[1, "problems"] == 2 and everyone.loc[1, "short_pools"] == 1
    b = table[table["problem"] == "B"]
    assert len(b) == len(table[table["problem"] == "A"]) and (b["value"] == 0).all()
    assert (b["short_pools"] == 1).all() and (b["mc_se"] == 0).all()
    names, values = n_at_k_sampled(judgements, clustered_policy, 1, 2, trials=50, problems=["A", "B"])
    assert names == ["A", "B"] and values[1] == 0
    # Every problem without candidates: all 0, still a table.
    nothing = metrics_table(judgements.iloc[:0], ks=[1, 5], problems=["A", "B"], policies={})
    assert (nothing["value"] == 0).all()
    with pytest.raises(UserError, match="not in the list of problems"):
        metrics_table(judgements, ks=[1], problems=["B"])


def test_k_beyond_a_pool_is_left_out_and_refused_only_when_nothing_is_left():
    judgements = judgements_of(POOLS)  # pools of 8
    with pytest.raises(UserError, match=r"^k=9 is more than the 8 samples of problem 'a', and pass@k is not "
                                        r"extrapolated: choose k <= 8\.$"):
        metrics_table(judgements, ks=[9], problems=["a", "b", "c", "empty"])
    asked = metrics_table(judgements, ks=[2, 9], problems=["a", "b", "c", "empty"], policies={})
    assert sorted(set(asked["k"])) == [2]
    assert asked.attrs["notes"] == ["k=9 and above left out: problem 'a' has only 8 samples, "
                                    "and pass@k is not extrapolated."]
    table = metrics_table(judgements, ks=None, problems=["a", "b", "c", "empty"], policies={})
    assert sorted(set(table["k"])) == [1, 2, 5, 8]  # the grid, and the whole pool
    assert table.attrs["notes"] == []  # pools all of 8: the grid ends there, nothing left out to say
    whole = table[(table["problem"] != "ALL") & (table["k"] == 8)].set_index("problem")["value"]
    assert whole.to_dict() == pytest.approx({"a": 1.0, "b": 1.0, "c": 0.0, "empty": 0.0})  # every sample drawn


def test_mc_error_is_reported_and_shrinks_with_trials():
    judgements = judgements_of(POOLS)
    errors = []
    for trials in (100, 1600):
        table = metrics_table(judgements, ks=[3, 8], ns=[1], trials=trials, resamples=50)
        sampled = table[table["metric"] == "n@k clustered"]
        exact = table[table["metric"] != "n@k clustered"]
        assert (exact["mc_se"] == 0).all()
        assert (sampled[sampled["problem"] == "c"]["mc_se"] == 0).all()  # no correct candidate: exactly 0
        errors.append(sampled[sampled["problem"] == "ALL"]["mc_se"].to_numpy())
    assert np.all(errors[0] > 0)
    assert np.all(errors[1] < errors[0] / 2.5)  # 1 / sqrt(trials), faster where a value sits at 0 or 1
    assert errors[1][0] == pytest.approx(errors[0][0] / 4, rel=0.35)  # k = 3: an intermediate value
    _, values, mc_se = n_at_k_sampled(judgements, clustered_policy, 1, 3, trials=400, return_mc_se=True)
    assert mc_se.shape == values.shape and np.all(mc_se <= 0.5 / np.sqrt(400) + 1e-12)


def test_the_rows_a_table_holds():
    judged = judgements_of(POOLS)
    only_pass = metrics_table(judged, ks=[1, 2], resamples=20)
    assert set(only_pass["metric"]) == {"pass@k"} and len(only_pass) == 2 * (1 + 3)  # no n: no n@k
    summary = metrics_table(judged, ks=[1, 2], ns=[2, 1, 2], per_problem=False, resamples=20, trials=50,
                            policies={"random": random_policy})
    assert set(summary["problem"]) == {"ALL"}
    assert sorted(set(summary["metric"])) == ["n@k filtered", "n@k random", "pass@k"]
    assert sorted(set(summary[summary["metric"] == "n@k random"]["n"])) == [1, 2]  # each n once
    for column in ("n", "k", "problems", "short_pools"):
        assert summary[column].dtype == np.int64
    assert (summary["problems"] == 3).all() and (summary["short_pools"] == 0).all()


@pytest.mark.parametrize("kwargs, message", [
    (dict(ci_method="normal"), 'The interval method must be "auto", "bootstrap" or "score", not \'normal\'.'),
    (dict(resamples=0), "resamples must be at least 1."),
    (dict(level=1.5), "The confidence level must be between 0 and 1, not 1.5."),
    (dict(ns=[0]), "n must be at least 1."),
    (dict(ks=[1, 1.5]), "k must be whole numbers."),
])
def test_bad_settings_are_one_sentence(kwargs, message):
    with pytest.raises(UserError) as caught:
        metrics_table(judgements_of(POOLS), **{"ks": [1], **kwargs})
    assert str(caught.value) == message


def test_a_problem_named_all_is_refused():
    with pytest.raises(UserError, match=r'^A problem is named "ALL", the name the metrics table keeps'):
        metrics_table(judgements_of({"ALL": POOLS["a"]}), ks=[1])


# --------------------------------------------------------------------------- real programs on real problems


def overfit(row: dict) -> str:
    """A program printing the expected output of each public example: passes the public tests, nothing else."""
    answers = {i.strip(): o for i, o in zip(row["public_tests"]["input"], row["public_tests"]["output"])}
    return f"import sys\nprint({answers!r}.get(sys.stdin.read().strip(), '0'))\n"


def run_candidates(rows: list[dict], candidates: pd.DataFrame) -> pd.DataFrame:
    """The EXECUTIONS table of every candidate on its problem's public and private tests."""
    execution = Execution(time_s=5.0)
    by_name = {r["name"]: r for r in rows}
    jobs, where = [], []
    for c in candidates.itertuples(index=False):
        row = by_name[c.problem]
        for test_set in ("public", "private"):
            tests = row[f"{test_set}_tests"]
            jobs.append(Job(Program("python3", c.code), tests["input"], tests["output"],
                            execution.limits(row, "python3")))
            where.append((c.problem, c.candidate_id, test_set, jobs[-1].program.hash))
    out = []
    for (problem, cid, test_set, program_hash), results in zip(where, execution.run_batch(jobs, progress=False)):
        for index, r in enumerate(results):
            out.append({"problem": problem, "candidate_id": cid, "program_hash": program_hash, "test_set": test_set,
                        "test_index": index, "status": r.status.value, "passed": bool(r.passed),
                        "output_hash": r.output_hash, "time_s": r.time_s})
    return pd.DataFrame(out, columns=EXECUTIONS)


def test_metrics_of_real_programs_on_real_problems(train_rows):
    a, b = (next(r for r in train_rows if r["name"] == name) for name in ("1037_E. Trips", "25_C. Roads in Berland"))
    plan = {  # A: 5 samples, 3 pass public, 2 of them correct; B: 3 samples, 2 pass public, 1 correct.
        a["name"]: {"accepted": a["solutions"]["solution"][0], "copy": a["solutions"]["solution"][0] + "\n# again\n",
                    "overfit": overfit(a), "zero": "print(0)\n", "crash": "import sys\nsys.exit(3)\n"},
        b["name"]: {"accepted": b["solutions"]["solution"][0], "overfit": overfit(b), "zero": "print(0)\n"},
    }
    candidates = pd.DataFrame([{"problem": p, "candidate_id": cid, "code": code}
                               for p, programs in plan.items() for cid, code in programs.items()])
    judged = judgements(run_candidates([a, b], candidates), candidates[["problem", "candidate_id"]],
                        clustering_sets=["public"])  # clustered on the public examples' outputs
    verdicts = judged.set_index(["problem", "candidate_id"])
    assert verdicts["passes_public"].to_dict() == {
        (p, c): c in ("accepted", "copy", "overfit") for p, programs in plan.items() for c in programs}
    assert verdicts["correct"].to_dict() == {(p, c): c in ("accepted", "copy") for p, programs in plan.items()
                                             for c in programs}
    # The accepted program, its copy and the overfit one print the same public outputs: one cluster.
    assert verdicts.loc[a["name"]].loc[["accepted", "copy", "overfit"], "cluster"].nunique() == 1

    table = metrics_table(judged, ns=[1], trials=3000, resamples=100)
    assert sorted(set(table["k"])) == [1, 2, 3]  # the default grid, stopped by B's 3 samples
    assert table.attrs["notes"] == [f"k=5 and above left out of the grid: problem {b['name']!r} has only 3 samples."]
    value = table.set_index(["problem", "metric", "k"])["value"]
    by_hand = {  # pass@k = 1 - C(K-c, k)/C(K, k); 1@k filtered = sum_p h(p) pass@min(1, p) of the passing ones
        (a["name"], "pass@k"): [Fraction(2, 5), Fraction(7, 10), Fraction(9, 10)],
        (b["name"], "pass@k"): [Fraction(1, 3), Fraction(2, 3), Fraction(1)],
        (a["name"], "n@k filtered"): [Fraction(2, 5), Fraction(9, 10) * Fraction(2, 3), Fraction(2, 3)],
        (b["name"], "n@k filtered"): [Fraction(1, 3), Fraction(1, 2), Fraction(1, 2)],
    }
    for (problem, metric), values in by_hand.items():
        for k, want in zip([1, 2, 3], values):
            assert value[(problem, metric, k)] == pytest.approx(float(want), abs=1e-12), (problem, metric, k)
            assert value[("ALL", metric, k)] == pytest.approx(
                float((by_hand[(a["name"], metric)][k - 1] + by_hand[(b["name"], metric)][k - 1]) / 2), abs=1e-12)
    # Drawing all of B: its one passing cluster holds the accepted and the overfit program, one submission each half.
    _, clustered = n_at_k_sampled(judged, clustered_policy, 1, 3, trials=3000, problems=[a["name"], b["name"]])
    assert clustered[1] == pytest.approx(0.5, abs=5 * 0.5 / np.sqrt(3000))
    assert value[(b["name"], "n@k clustered", 3)] == pytest.approx(0.5, abs=5 * 0.5 / np.sqrt(3000))
