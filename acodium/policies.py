"""Selection policies: which of k drawn candidates a contestant submits, and in what order.

A contestant holding k samples of a problem may submit only n of them
(AlphaCode, section 4.5). A policy makes that choice from what a contestant
sees: whether each sample passed the public tests and its behavioural
cluster, never the verdict on hidden tests. Both sides use this module:
`acodium.select` ranks a whole pool (`submission_order`), and
`acodium.metrics` estimates n@k of any policy by drawing k of the pool many
times (`n_at_k_sampled`).

Every policy has one signature, `Policy`:

    policy(draws: Draws, n: int) -> int array [draws.trials x n]

row t lists the columns (0..k-1) of draw t it submits, best first, each at
most once, then -1 where it submits nothing more. A policy is vectorised
over the trials; `per_draw_policy` turns a function written for one draw
into one. Policies are chosen by name through the registry: `get_policy`,
`POLICIES`, and `register_policy` for a new one. Beside AlphaCode's random,
filtered and clustered: `mbr_exec` (Shi et al. 2022), `codet` (Chen et al.
2022) and `largest_clusters` (AlphaCode 2), which see more of what a
contestant sees (`Draws`' optional fields; `NEEDS` says which field each
needs). `largest_clusters` ranks with a scorer's value per candidate, made
before any draw by a scorer chosen by name (`SCORERS`, `get_scorer`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .errors import UserError


@dataclass(frozen=True)
class Draws:
    """What a selection policy sees: `trials` draws of k candidates from one problem's pool.

    Arrays are [trials x k]: whether each drawn candidate passes the public
    tests, and its behavioural cluster (label in the whole pool, >= 0). The
    verdict on hidden tests is deliberately absent: selection may use only
    what a contestant sees. A policy that needs more of what a contestant
    sees (agreement with model-written tests, say) gets it as a new field
    here, gathered per draw by `acodium.metrics.solve_rate_sampled`.
    """

    passes_public: np.ndarray
    cluster: np.ndarray
    rng: np.random.Generator
    # Optional, for the policies that need them (None when the judgements carry none):
    # behaviour: [trials x k x inputs] int, per clustering input a label of the candidate's behaviour there
    #   (equal labels: the same output, or the same failing status), -1 where it was not run (mbr_exec);
    # model_set: [trials x k] int, CodeT's consensus set: equal exactly when the same model tests pass (codet);
    # model_passed: [trials x k] int, how many model-written tests (model inputs with model outputs) it passes;
    # score: [trials x k] float, a scorer's value, higher is better (largest_clusters).
    behaviour: np.ndarray | None = None
    model_set: np.ndarray | None = None
    model_passed: np.ndarray | None = None
    score: np.ndarray | None = None

    @property
    def trials(self) -> int:
        return self.passes_public.shape[0]

    @property
    def k(self) -> int:
        return self.passes_public.shape[1]


# A policy orders submissions: (draws, n) -> int array [trials x n] of column
# positions into the draw, best first, -1 where it submits nothing more.
Policy = Callable[[Draws, int], np.ndarray]


def per_draw_policy(choose: Callable[[np.ndarray, np.ndarray, np.random.Generator], Sequence[int]]) -> Policy:
    """A Policy from a function written for one draw (simpler to write, slower to run).

    `choose(passes_public, cluster, rng)` gets the arrays of one draw of k
    candidates and returns the positions (0..k-1) it submits, best first;
    only the first n count.
    """

    def policy(draws: Draws, n: int) -> np.ndarray:
        chosen = np.full((draws.trials, n), -1, dtype=np.int64)
        for t in range(draws.trials):
            order = [int(i) for i in choose(draws.passes_public[t], draws.cluster[t], draws.rng)][:n]
            if any(not 0 <= i < draws.k for i in order) or len(set(order)) != len(order):
                raise ValueError(f"A policy must submit distinct positions among 0..{draws.k - 1}, not {order}.")
            chosen[t, :len(order)] = order
        return chosen

    policy.__doc__ = choose.__doc__
    return policy


# --------------------------------------------------------------------------- the registry

# Policies by name: what `get_policy`, the CLI and sweep files choose among.
POLICIES: dict[str, Policy] = {}
_NAME = re.compile(r"[a-z][a-z0-9_]*")


def register_policy(name: str) -> Callable[[Policy], Policy]:
    """Decorator making a Policy selectable by `name` (lower case, digits and _, as in a sweep file).

    A name already taken by another function is refused: two policies under
    one name would make tables that cannot be told apart.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise UserError(f"A policy name is lower-case letters, digits and _, starting with a letter, not {name!r}.")

    def add(policy: Policy) -> Policy:
        if not callable(policy):
            raise UserError(f"The policy {name!r} must be a function (draws, n) -> positions.")
        if POLICIES.get(name, policy) is not policy:
            raise UserError(f"A selection policy is already registered as {name!r}.")
        POLICIES[name] = policy
        return policy

    return add


def get_policy(name: str) -> Policy:
    """A registered policy by name ("random", "filtered", "clustered", ...)."""
    try:
        return POLICIES[name]
    except (KeyError, TypeError):
        raise UserError(f"Unknown selection policy {name!r}; choose among {', '.join(POLICIES)}.") from None


# --------------------------------------------------------------------------- the policies


@register_policy("random")
def random_policy(draws: Draws, n: int) -> np.ndarray:
    """Submit n of the k drawn candidates uniformly at random, public tests ignored (the baseline)."""
    keys = draws.rng.random(draws.passes_public.shape)
    return _smallest(keys, np.ones(draws.passes_public.shape, dtype=bool), n)


@register_policy("filtered")
def filtered_policy(draws: Draws, n: int) -> np.ndarray:
    """Submit up to n of the drawn candidates passing the public tests, uniformly at random."""
    keys = draws.rng.random(draws.passes_public.shape) + ~draws.passes_public  # failing ones last
    return _smallest(keys, draws.passes_public, n)


@register_policy("clustered")
def clustered_policy(draws: Draws, n: int) -> np.ndarray:
    """AlphaCode's selection: filter on public tests, then one per cluster, largest cluster first.

    Cluster sizes are counted within the draw, among the drawn candidates that
    pass the public tests (a contestant holding k samples knows only those).
    Submissions go round the clusters from largest to smallest, one random
    member each, and cycle back to the largest while submissions remain and
    members are left. Equal sizes are ordered at random.
    """
    passes, cluster, rng = draws.passes_public, draws.cluster, draws.rng
    trials, k = passes.shape
    labels = int(cluster.max(initial=0)) + 1
    failing = ~passes
    group = np.arange(trials)[:, None] * labels + cluster  # (trial, cluster) pairs
    size = np.bincount(group[passes], minlength=trials * labels)[group]
    tie_break = rng.random(trials * labels)[group]
    # The round each candidate is submitted in: its rank within its cluster, in random
    # order, passing members first. Rows sorted by (cluster, failing, random) list each
    # cluster's members consecutively; the rank is the distance to the cluster's first.
    by_cluster = np.argsort(cluster * 2.0 + failing + rng.random((trials, k)), axis=1)
    sorted_cluster = np.take_along_axis(cluster, by_cluster, axis=1)
    column = np.broadcast_to(np.arange(k), (trials, k))
    first = np.where(np.diff(sorted_cluster, axis=1, prepend=-1) != 0, column, 0)
    np.maximum.accumulate(first, axis=1, out=first)
    round_ = np.empty((trials, k), dtype=np.int64)
    np.put_along_axis(round_, by_cluster, column - first, axis=1)
    # Order: passing first, then by round, then larger cluster, then the cluster's random tie-break.
    key = (failing * (k + 1.0) + round_) * (k + 1.0) + (k - size) + tie_break
    return _smallest(key, passes, n)


# The optional Draws fields each policy needs, and the judgements columns they come from.
NEEDS = {"mbr_exec": ("behaviour",), "codet": ("model_set", "model_passed"), "largest_clusters": ("score",)}
WHY = {
    "behaviour": "per-input behaviour on the clustering inputs (a `behaviour` column: run with clustering inputs)",
    "model_set": "model-written tests (ai tests with expected outputs: `model_set` and `model_tests_passed` columns)",
    "model_passed": "model-written tests (ai tests with expected outputs: a `model_tests_passed` column)",
    "score": "a scorer's value per candidate (a `score` column, from a scorer of SCORERS)",
}


def _need(draws: Draws, policy: str, field: str) -> np.ndarray:
    value = getattr(draws, field)
    if value is None:
        raise UserError(f"The {policy} policy needs {WHY[field]}, which these judgements do not carry.")
    return value


def _round_robin(group: np.ndarray, member_key: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """[trials x k] the round in which each eligible candidate is reached going round its group: 0 for the
    group's first member by `member_key` (smallest first), 1 for the second... (ineligible ones: k)."""
    trials, k = group.shape
    by_group = np.lexsort((member_key, ~eligible, group), axis=1)
    sorted_group = np.take_along_axis(group, by_group, axis=1)
    column = np.broadcast_to(np.arange(k), (trials, k))
    first = np.where(np.diff(sorted_group, axis=1, prepend=np.iinfo(np.int64).min) != 0, column, 0)
    np.maximum.accumulate(first, axis=1, out=first)
    round_ = np.empty((trials, k), dtype=np.int64)
    np.put_along_axis(round_, by_group, column - first, axis=1)
    return np.where(eligible, round_, k)


def _group_ids(group: np.ndarray) -> tuple[np.ndarray, int]:
    """(trial, label) pairs numbered 0.. over the draws, and how many numbers there are."""
    trials = group.shape[0]
    _, labels = np.unique(group, return_inverse=True)
    labels = labels.reshape(group.shape)
    width = int(labels.max(initial=0)) + 1
    return np.arange(trials)[:, None] * width + labels, trials * width


def _rounds_by_group_score(draws: Draws, group: np.ndarray, group_score: np.ndarray, n: int) -> np.ndarray:
    """Passing candidates round their groups, groups by `group_score` (higher first, ties at random), one
    random member per group and round, cycling back while submissions remain (as `clustered` does)."""
    eligible = draws.passes_public
    ids, count = _group_ids(group)
    group_tie = draws.rng.random(count)[ids]
    round_ = _round_robin(group, draws.rng.random(group.shape), eligible)
    order = np.lexsort((group_tie, -group_score, round_), axis=1)
    return _ordered(order, eligible, n)


def _ordered(order: np.ndarray, eligible: np.ndarray, n: int) -> np.ndarray:
    """The first n positions of each row's `order`, -1 where not eligible or past k."""
    trials, k = order.shape
    chosen = np.where(np.take_along_axis(eligible, order, axis=1), order, -1)[:, :n]
    if n > k:
        chosen = np.concatenate([chosen, np.full((trials, n - k), -1)], axis=1)
    return chosen


@register_policy("mbr_exec")
def mbr_exec_policy(draws: Draws, n: int) -> np.ndarray:
    """MBR-exec (Shi et al. 2022): submit the passing candidate whose outputs agree most with the others'.

    Minimum Bayes risk over the draw's passing candidates, with the loss
    counted per input: a candidate's agreement is, summed over the
    clustering inputs, how many of the other passing candidates of the draw
    behave the same there (the same output, or the same failing status; an
    input a candidate did not run agrees with none). Shi et al.'s loss is 1
    when two programs' outputs differ on any input: its risk counts
    agreement in whole behaviours, the size of a candidate's cluster, and
    minimising it is exactly `clustered`'s first submission. Counting per
    input is the choice here, and what sets mbr_exec apart: two candidates
    differing on one input of ten still support each other. Members of a
    cluster share their agreement; later submissions go round the clusters
    in agreement order (one random member each, cycling back as `clustered`
    does); equal agreement is ordered at random. Candidates failing the
    public tests are never submitted.
    """
    behaviour = _need(draws, "mbr_exec", "behaviour")
    eligible = draws.passes_public
    trials, k, inputs = behaviour.shape
    agreement = np.zeros((trials, k))
    row = np.arange(trials)[:, None]
    for t in range(inputs):  # per input: how many passing candidates of the draw share each label
        label = behaviour[:, :, t]
        width = int(label.max(initial=0)) + 1
        counted = eligible & (label >= 0)
        at = row * width + np.maximum(label, 0)
        counts = np.bincount(at[counted], minlength=trials * width)
        agreement += np.where(counted, counts[at] - 1, 0)
    return _rounds_by_group_score(draws, draws.cluster, agreement.astype(np.float64), n)


@register_policy("codet")
def codet_policy(draws: Draws, n: int) -> np.ndarray:
    """CodeT's dual agreement (Chen et al. 2022), among the candidates passing the public tests.

    A consensus set is the passing candidates of the draw that pass the same
    model-written tests (model inputs with the model's expected outputs;
    never a hidden test), as in the paper; its score is the number of its
    candidates times the number of model tests they pass. Representatives
    (one random member) of the best sets are submitted first, going round
    the sets in score order and cycling back while submissions remain;
    equal scores are ordered at random. A problem without model tests is
    one set of score 0: `filtered`.
    """
    model_set = _need(draws, "codet", "model_set")
    passed = _need(draws, "codet", "model_passed")
    ids, count = _group_ids(model_set)
    size = np.bincount(ids[draws.passes_public], minlength=count)[ids]
    return _rounds_by_group_score(draws, model_set, (size * passed).astype(np.float64), n)


@register_policy("largest_clusters")
def largest_clusters_policy(draws: Draws, n: int) -> np.ndarray:
    """AlphaCode 2's selection: the n largest clusters, the best-scored member of each, in score order.

    Clusters are counted among the draw's candidates passing the public
    tests (equal sizes ordered at random); only the n largest are kept.
    Each keeps its member of the highest score (a scorer's value, made
    before the draw: `SCORERS`) as its representative; the representatives
    are submitted best score first. With fewer clusters than n, the next
    best members follow, round by round. Equal scores are ordered at random.
    """
    score = _need(draws, "largest_clusters", "score").astype(np.float64)
    eligible = draws.passes_public
    ids, count = _group_ids(draws.cluster)
    size = np.bincount(ids[eligible], minlength=count)
    # Rank the clusters of each draw by size, ties at random: keep the n largest.
    trials, k = eligible.shape
    tie = draws.rng.random(count)
    cluster_key = np.where(size > 0, -size + tie, np.inf)  # empty (no passing member) last
    width = count // trials
    per_trial = cluster_key.reshape(trials, width)
    rank = np.empty_like(per_trial, dtype=np.int64)
    np.put_along_axis(rank, np.argsort(per_trial, axis=1), np.broadcast_to(np.arange(width), per_trial.shape),
                      axis=1)
    kept = eligible & (rank.reshape(-1)[ids] < n)
    member_tie = draws.rng.random((trials, k))
    round_ = _round_robin(draws.cluster, np.lexsort((member_tie, -score), axis=1).argsort(axis=1), kept)
    order = np.lexsort((member_tie, -score, round_), axis=1)
    return _ordered(order, kept, n)


def _smallest(key: np.ndarray, eligible: np.ndarray, n: int) -> np.ndarray:
    """Positions of the n smallest keys of each row, ascending, -1 where not eligible or past k."""
    trials, k = key.shape
    if n < k:
        part = np.argpartition(key, n - 1, axis=1)[:, :n]
        order = np.take_along_axis(part, np.argsort(np.take_along_axis(key, part, axis=1), axis=1), axis=1)
    else:
        order = np.argsort(key, axis=1)
    chosen = np.where(np.take_along_axis(eligible, order, axis=1), order, -1)
    if n > k:
        chosen = np.concatenate([chosen, np.full((trials, n - k), -1)], axis=1)
    return chosen


# --------------------------------------------------------------------------- scorers (largest_clusters)

# A scorer gives each candidate a value, higher is better, from what a contestant has: the program
# (and what the generator said of it). `largest_clusters` submits by it. Scorers by name:
Scorer = Callable[[Sequence[str], Sequence[Any]], np.ndarray]  # (code, meta) -> float per candidate
SCORERS: dict[str, Scorer] = {}


def register_scorer(name: str) -> Callable[[Scorer], Scorer]:
    """Decorator making a scorer selectable by `name` (as `register_policy`); a model's scorer lands here too."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise UserError(f"A scorer name is lower-case letters, digits and _, starting with a letter, not {name!r}.")

    def add(scorer: Scorer) -> Scorer:
        if SCORERS.get(name, scorer) is not scorer:
            raise UserError(f"A scorer is already registered as {name!r}.")
        SCORERS[name] = scorer
        return scorer

    return add


def get_scorer(name: str) -> Scorer:
    if name == "model":
        raise UserError("The model scorer asks an LLM: give its settings, acodium.model_scorer.ModelScorer(model=...) "
                        "(at the command line: --scorer model --scorer_model NAME).")
    try:
        return SCORERS[name]
    except (KeyError, TypeError):
        raise UserError(f"Unknown scorer {name!r}; choose among {', '.join(SCORERS)}, or model (an LLM's "
                        "rating).") from None


@register_scorer("length")
def shorter_first(code: Sequence[str], meta: Sequence[Any]) -> np.ndarray:
    """The offline default: shorter programs first (fewer non-blank characters score higher)."""
    return -np.array([len("".join(str(c or "").split())) for c in code], dtype=np.float64)


@register_scorer("likelihood")
def mean_likelihood(code: Sequence[str], meta: Sequence[Any]) -> np.ndarray:
    """The mean token log-probability the generator reported (meta["mean_logprob"]); shorter first where none."""
    fallback = shorter_first(code, meta)
    values = []
    for m, f in zip(meta, fallback):
        m = _meta_dict(m)
        value = m.get("mean_logprob") if isinstance(m, dict) else None
        values.append(float(value) if isinstance(value, (int, float)) else -1e9 + f * 1e-6)
    return np.array(values, dtype=np.float64)


def _meta_dict(meta: Any) -> dict:
    if isinstance(meta, dict):
        return meta
    if isinstance(meta, str) and meta.strip().startswith("{"):
        import json

        try:
            value = json.loads(meta)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}
    return {}
