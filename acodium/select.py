"""Selection: which candidates a contestant would submit, and the verdicts that judge them.

AlphaCode (sections 4.5-4.6) samples many programs, keeps those passing the
example (public) tests, groups the survivors by behaviour on generated inputs
and submits one per group, largest group first. This module does that from
the EXECUTIONS table, using only what a contestant sees (docs/semantics.md):

- `filter_public`: a candidate passes when it passed every public test run.
- `cluster_candidates`: same behaviour on the clustering inputs (test sets
  "mutated" and "ai": inputs made from the public ones), same cluster. The
  behaviour on an input is its exact output (the executor's output_hash), or
  the status when the run did not finish OK: a crash and a timeout are
  outputs too. Cluster 0 is the largest.
- `submission_order`: the rank at which the clustered policy submits each
  candidate of a whole pool. The policies themselves (random, filtered,
  clustered, mbr_exec, codet, largest_clusters, by name in `POLICIES`) live
  in `acodium.policies`, which the library uses (`get_policy("clustered")`);
  the names re-exported here
  (`select.clustered_policy`, `select.random_policy`, ...) are for users'
  code and notebooks that know them so: no other acodium module imports
  them from here.
- `judgements`: the JUDGEMENTS table. "Correct" = passed every hidden test
  (private and generated); public tests never count. "Slow" = not correct,
  but only because of SLOW runs (`slow_only`): AlphaCode's slow positive.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .data import CLUSTERING_TEST_SETS, HIDDEN_TEST_SETS
from .errors import UserError
from .policies import (  # noqa: F401  (re-exported for users only: see the module doc)
    POLICIES,
    Draws,
    Policy,
    clustered_policy,
    filtered_policy,
    get_policy,
    random_policy,
)
from .tables import JUDGEMENTS, require_columns

KEY = ["problem", "candidate_id"]


def _plain(value):
    """A numpy scalar as the Python value it holds, for messages that read like the user's data."""
    return value.item() if isinstance(value, np.generic) else value


def _executions(executions: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    require_columns(executions, list(columns), "executions")
    return executions


# --------------------------------------------------------------------------- filtering


def filter_public(executions: pd.DataFrame) -> pd.Series:
    """Whether each candidate passed every public test it was run on, indexed by (problem, candidate_id).

    Covers every candidate appearing in `executions`. A problem without any
    public test run lets all its candidates through (there is nothing to
    filter on); a candidate with no public run while others of its problem
    have some was not evaluated, and that is an error.
    """
    ex = _executions(executions, KEY + ["test_set", "passed"])
    everyone = ex[KEY].drop_duplicates()
    public = ex[ex["test_set"] == "public"]
    verdict = public["passed"].fillna(False).astype(bool).groupby([public["problem"], public["candidate_id"]]).all()
    result = pd.Series(True, index=pd.MultiIndex.from_frame(everyone), name="passes_public")
    with_public = set(public["problem"].unique())
    missing = [key for key in result.index if key[0] in with_public and key not in verdict.index]
    if missing:
        problem, cid = map(_plain, missing[0])
        raise UserError(f"Candidate {cid!r} of problem {problem!r} has no run on the public tests.")
    common = result.index.intersection(verdict.index)
    result.loc[common] = verdict.loc[common].to_numpy()
    return result


def correct_on_hidden(executions: pd.DataFrame, hidden_sets: Iterable[str] = HIDDEN_TEST_SETS,
                      failing_public: pd.Index | None = None) -> pd.Series:
    """Whether each candidate passed every hidden test (private + generated), by (problem, candidate_id).

    A candidate with no hidden run at all is an error, not a verdict: an
    untested program is not correct, nor is it known to be wrong; except
    the candidates of `failing_public` (they fail the public tests, and the
    "public_first" schedule runs no hidden test for them): not correct.
    """
    ex = _executions(executions, KEY + ["test_set", "passed"])
    hidden_sets = list(hidden_sets)
    everyone = ex[KEY].drop_duplicates()
    hidden = ex[ex["test_set"].isin(hidden_sets)]
    verdict = hidden["passed"].fillna(False).astype(bool).groupby([hidden["problem"], hidden["candidate_id"]]).all()
    index = pd.MultiIndex.from_frame(everyone)
    missing = index.difference(verdict.index)
    if failing_public is not None and len(missing):
        unrun = missing.intersection(failing_public)
        verdict = pd.concat([verdict, pd.Series(False, index=unrun)])
        missing = missing.difference(unrun)
    if len(missing):
        problem, cid = map(_plain, missing[0])
        raise UserError(
            f"Candidate {cid!r} of problem {problem!r} has no run on the hidden tests ({', '.join(hidden_sets)})."
        )
    return verdict.reindex(index).rename("correct")


def slow_only(executions: pd.DataFrame, test_sets: Iterable[str] = HIDDEN_TEST_SETS) -> pd.Series:
    """Whether each candidate failed some test of `test_sets` and every one it failed was SLOW (correct
    output, over the time limit), by (problem, candidate_id): it would pass but for its speed.

    A run that stopped at its first failing test says nothing of the tests after it: there,
    "slow" means the first failure was SLOW. Candidates without runs of these sets are False.
    """
    ex = _executions(executions, KEY + ["test_set", "status", "passed"])
    everyone = pd.MultiIndex.from_frame(ex[KEY].drop_duplicates())
    runs = ex[ex["test_set"].isin(list(test_sets))]
    failed = ~runs["passed"].fillna(False).astype(bool)
    frame = pd.DataFrame({"problem": runs["problem"], "candidate_id": runs["candidate_id"], "failed": failed,
                          "other": failed & (runs["status"].astype(str) != "SLOW")})
    per = frame.groupby(KEY)[["failed", "other"]].any()
    verdict = per["failed"] & ~per["other"]
    return verdict.reindex(everyone, fill_value=False).astype(bool).rename("slow")


# --------------------------------------------------------------------------- clustering


def _behaviour(ex: pd.DataFrame) -> pd.Series:
    """One run's observable behaviour: its output when it finished OK, else its status. A SLOW run is a
    TIMEOUT here: SLOW needs the expected output, which clustering may not see (docs/semantics.md)."""
    status = ex["status"].astype(str).replace("SLOW", "TIMEOUT")
    output = "out:" + ex["output_hash"].fillna("").astype(str)
    return output.where(status == "OK", "status:" + status)


def cluster_candidates(
    executions: pd.DataFrame,
    test_sets: Iterable[str] = CLUSTERING_TEST_SETS,
) -> pd.Series:
    """Cluster id per (problem, candidate_id): same behaviour on every clustering input, same cluster.

    Inputs are the runs of `test_sets` (default: "mutated" and "ai", inputs
    made from the public tests; never the hidden tests). Behaviour compares
    exact outputs (AlphaCode clusters on exact output; the executor's
    output_hash) and statuses (a crash or timeout is an output), with an input
    a candidate was not run on counting as its own behaviour ("missing").
    Within each problem, cluster 0 is the largest; ties go to the cluster
    holding the first candidate in sorted candidate_id order. A problem with
    no clustering run puts all its candidates in cluster 0.
    """
    ex = _executions(executions, KEY + ["test_set", "test_index", "status", "output_hash"])
    everyone = ex[KEY].drop_duplicates()
    runs = ex[ex["test_set"].isin(list(test_sets))]
    runs = pd.DataFrame({
        "problem": runs["problem"], "candidate_id": runs["candidate_id"],
        "item": runs["test_set"].astype(str) + ":" + runs["test_index"].astype(str) + "=" + _behaviour(runs),
    }).sort_values("item", kind="stable")
    # A candidate lacking a run on some input gets a signature of its own: missing is a behaviour too.
    signatures = runs.groupby(KEY, sort=False)["item"].agg("\x1f".join).rename("signature")
    frame = everyone.merge(signatures.reset_index(), on=KEY, how="left")
    frame["signature"] = frame["signature"].fillna("")
    frame["_order"] = frame["candidate_id"].map(_sort_key)
    frame = frame.sort_values(["problem", "_order"], kind="stable").reset_index(drop=True)
    frame["_position"] = np.arange(len(frame))
    by_cluster = frame.groupby(["problem", "signature"], sort=False)["_position"]
    frame["_size"] = by_cluster.transform("size")
    frame["_first"] = by_cluster.transform("min")
    ranked = (frame.drop_duplicates(["problem", "signature"])
              .sort_values(["problem", "_size", "_first"], ascending=[True, False, True], kind="stable"))
    ranked["cluster"] = ranked.groupby("problem", sort=False).cumcount().astype(np.int64)
    frame = frame.merge(ranked[["problem", "signature", "cluster"]], on=["problem", "signature"], how="left")
    clusters = frame.set_index(KEY)["cluster"]
    return clusters.reindex(pd.MultiIndex.from_frame(everyone))


def _sort_key(candidate_id) -> tuple:
    """Numbers in numeric order before strings, so that 2 comes before 10."""
    try:
        return (0, float(candidate_id), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(candidate_id))


# --------------------------------------------------------------------------- judgements


def judgements(
    executions: pd.DataFrame,
    candidates: pd.DataFrame | None = None,
    *,
    hidden_sets: Iterable[str] = HIDDEN_TEST_SETS,
    clustering_sets: Iterable[str] = CLUSTERING_TEST_SETS,
    seed: int = 0,
) -> pd.DataFrame:
    """The JUDGEMENTS table: one row per candidate, from its executions.

    - passes_public: passed every public test run (`filter_public`);
    - correct: passed every hidden test (`correct_on_hidden`);
    - cluster: behavioural cluster on the clustering inputs (`cluster_candidates`);
    - submitted_rank: 1, 2, ... in the order the clustered policy would submit
      the whole pool (seeded), <NA> for candidates failing the public tests;
    - slow: not correct, but only because of SLOW hidden runs (`slow_only`).

    With `candidates`, every candidate must have executions (else a
    UserError), and rows come in the candidates' order.
    """
    ex = _executions(executions, KEY + ["test_set", "test_index", "status", "passed", "output_hash"])
    if ex.empty:
        raise UserError("The executions table is empty.")
    index = pd.MultiIndex.from_frame(ex[KEY].drop_duplicates())
    if candidates is not None:
        require_columns(candidates, KEY, "candidates")
        wanted = pd.MultiIndex.from_frame(candidates[KEY])
        missing = wanted.difference(index)
        if len(missing):
            problem, cid = map(_plain, missing[0])
            raise UserError(f"Candidate {cid!r} of problem {problem!r} has no executions.")
        index = wanted
    table = pd.DataFrame(index=index)
    table["passes_public"] = filter_public(ex).reindex(index).astype(bool)
    failing = index[~table["passes_public"].to_numpy()]
    table["correct"] = correct_on_hidden(ex, hidden_sets, failing).reindex(index).astype(bool)
    clustering_sets = list(clustering_sets)
    # Failing the public tests and not run on any clustering input while others of the problem were
    # (the "public_first" schedule): not clustered, -1; no policy submits it.
    runs = ex[ex["test_set"].isin(clustering_sets)]
    clustered = ex
    if len(runs) and len(failing):
        ran = set(zip(runs["problem"], runs["candidate_id"]))
        problems_run = set(runs["problem"])
        unclustered = {key for key in failing if key not in ran and key[0] in problems_run}
        if unclustered:
            clustered = ex[[key not in unclustered for key in zip(ex["problem"], ex["candidate_id"])]]
    table["cluster"] = cluster_candidates(clustered, clustering_sets).reindex(index).fillna(-1).astype(np.int64)
    table["slow"] = slow_only(ex, hidden_sets).reindex(index, fill_value=False).astype(bool)
    table = table.reset_index()
    table["submitted_rank"] = pd.array([pd.NA] * len(table), dtype="Int64")
    for problem, group in table.groupby("problem", sort=False):
        ranks = submission_order(group["passes_public"].to_numpy(), group["cluster"].to_numpy(), seed=seed)
        table.loc[group.index, "submitted_rank"] = pd.array(ranks, dtype="Int64")
    return table[JUDGEMENTS]


def submission_order(passes_public: np.ndarray, cluster: np.ndarray, *, seed: int = 0) -> list:
    """1-based rank at which the clustered policy submits each candidate of a whole pool (None if never)."""
    passes_public = np.asarray(passes_public, dtype=bool)
    _, labels = np.unique(np.asarray(cluster), return_inverse=True)
    draws = Draws(passes_public[None, :], labels.reshape(1, -1), np.random.default_rng(seed))
    order = clustered_policy(draws, passes_public.size)[0]
    ranks: list = [None] * passes_public.size
    for rank, position in enumerate(order[order >= 0], start=1):
        ranks[int(position)] = rank
    return ranks
