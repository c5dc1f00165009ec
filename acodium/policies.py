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
`POLICIES`, and `register_policy` for a new one (issue 13's codet, mbr_exec
and largest_clusters land here, beside random, filtered and clustered).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

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
