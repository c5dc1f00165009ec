"""Which k: the checks every estimator makes on counts and k, and the one rule for the k reported.

A metric "at k" averages over uniform draws of k of a problem's K samples,
so it exists only for k <= K. The estimators (`pass_at_k`, ...) refuse a k
beyond a non-empty pool (`_check_k_fits`). What to *report* is a separate
question, answered once here by `reported_ks` for every caller: the METRICS
table, `gencode eval pass_at_k` and `gencode gen solve_and_evaluate_set`,
`acodium.evaluate(...)` and the notebooks (`acodium.notebook.recipe`), all through `reported_ks`.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from ..errors import UserError
from ..wording import plural

# --------------------------------------------------------------------------- argument checks


def _counts(name: str, values) -> np.ndarray:
    """An integer array from counts given as ints (or integral floats)."""
    arr = np.atleast_1d(np.asarray(values))
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise UserError(f"{name} must be whole numbers, not {arr.dtype}.")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise UserError(f"{name} must be whole numbers.")
    arr = arr.astype(np.int64)
    if np.any(arr < 0):
        raise UserError(f"{name} must not be negative.")
    return arr


def _ks(k, what: str = "k") -> np.ndarray:
    ks = _counts(what, k)
    if ks.ndim != 1:
        raise UserError(f"{what} must be a number or a list of numbers.")
    if ks.size == 0:
        raise UserError(f"Give at least one {what}.")
    if np.any(ks < 1):
        raise UserError(f"{what} must be at least 1.")
    return ks


def _problem_name(problems: Sequence | None, i: int) -> str:
    return repr(problems[i]) if problems is not None else f"#{i}"


def _check_k_fits(samples: np.ndarray, ks: np.ndarray, problems: Sequence | None) -> None:
    """k > samples of a non-empty pool is an error: the estimator is undefined there, and we do not extrapolate.

    An empty pool is exempt: it is an unsolved problem, 0 at every k (docs/semantics.md).
    """
    kmax = int(ks.max())
    short = np.flatnonzero((samples > 0) & (samples < kmax))
    if short.size:
        i = int(short[0])
        raise UserError(
            f"k={kmax} exceeds the n={int(samples[i])} sample{'' if samples[i] == 1 else 's'} of problem {_problem_name(problems, i)}."
        )


# --------------------------------------------------------------------------- the k reported


def log_grid(upto: int) -> list[int]:
    """1, 2, 5, 10, 20, 50, ... up to `upto`, and `upto` itself: the k axis of a scaling curve."""
    if int(upto) < 1:
        raise UserError("A k grid needs at least one sample per problem.")
    grid, scale = {int(upto)}, 1
    while scale <= upto:
        grid.update(step * scale for step in (1, 2, 5) if step * scale <= upto)
        scale *= 10
    return sorted(grid)


def _next_on_grid(upto: int) -> int:
    """The first k of the unbounded grid 1, 2, 5, 10, ... above `upto`."""
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale > upto:
                return step * scale
        scale *= 10


class ReportedKs(NamedTuple):
    """The k to report, and one line for the reader when some k were left out (else None)."""

    ks: list[int]
    note: str | None


def reported_ks(samples, ks=None, *, problems: Sequence | None = None) -> ReportedKs:
    """The k to report for problems with these pool sizes (samples per problem): the one rule.

    - By default (ks=None): 1, 2, 5, 10, 20, 50, ... up to the smallest
      non-empty pool, and that pool's size itself (`log_grid`): every k that
      every problem with candidates has samples for, ending at the largest.
      Where pools differ in size, the note names the first k of the grid left
      out and the problem whose pool stopped it (pools all of one size: no note).
    - Asked for (ks = a number or a list): the distinct k, ascending; those
      above the smallest non-empty pool are left out, with a note naming
      them and that problem, since pass@k there is not defined and is never
      extrapolated. When none is left, a UserError says which k would fit.
    - Empty pools (problems without candidates) bound nothing: they score 0
      at every k. When every pool is empty, the k asked for are all kept,
      and the default is k=1 alone, with a note.

    `problems` (names, in the order of `samples`) makes the notes name the
    problem. Returns ReportedKs(ks, note).
    """
    sizes = _counts("samples", samples)
    if sizes.ndim != 1:
        raise UserError("samples must be one pool size per problem.")
    asked = None
    if ks is not None:
        try:
            values = list(ks)
        except TypeError:
            values = [ks]
        asked = [int(k) for k in np.unique(_ks(values, "k"))]
    pooled = np.flatnonzero(sizes > 0)
    if pooled.size == 0:
        if asked is not None:
            return ReportedKs(asked, None)
        return ReportedKs([1], "Every problem has an empty pool: only k=1 is reported (all 0).")
    i = int(pooled[np.argmin(sizes[pooled])])
    fewest, name = int(sizes[i]), _problem_name(problems, i)
    if asked is None:
        if int(sizes[pooled].max()) == fewest:  # pools all of one size: the grid ends where they do, nothing to say
            return ReportedKs(log_grid(fewest), None)
        return ReportedKs(log_grid(fewest), f"k={_next_on_grid(fewest)} and above left out of the grid: "
                                            f"problem {name} has only {plural(fewest, 'sample')}.")
    kept = [k for k in asked if k <= fewest]
    dropped = [k for k in asked if k > fewest]
    if not kept:
        raise UserError(f"k={dropped[0]} is more than the {plural(fewest, 'sample')} of problem {name}, "
                        f"and pass@k is not extrapolated: choose k <= {fewest}.")
    note = None
    if dropped:
        note = (f"k={dropped[0]} and above left out: problem {name} has only {plural(fewest, 'sample')}, "
                "and pass@k is not extrapolated.")
    return ReportedKs(kept, note)
