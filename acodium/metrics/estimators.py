"""pass@k and AlphaCode's filtered n@k, exactly, from counts per problem.

- `pass_at_k(n, c, k)`: the unbiased estimator of the Codex paper,
  1 - C(n-c, k) / C(n, k), from the product form prod_{i<k} (1 - c/(n-i)),
  one cumulative product per distinct (n, c) giving every k at once
  (1,000 problems x every k up to 10,000 in about 0.1 s of CPU).
- `n_at_k_filtered(K, P, C, n, k)`: AlphaCode's n@k, exactly, for the policy
  "submit up to n of the drawn samples that pass the public tests, chosen
  uniformly" (P pass public, C of those are also correct).

An empty pool (n = 0) scores 0 at every k; a k beyond a non-empty pool is a
UserError, never an extrapolation (`acodium.metrics.ks`).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import numpy as np

from ..errors import UserError
from .ks import _check_k_fits, _counts, _ks, _problem_name

# Elements of a float64 scratch array worked on at once: small enough to stay in cache.
_CHUNK_ELEMENTS = 1 << 16


# --------------------------------------------------------------------------- pass@k


def _pass_and_miss(n: np.ndarray, c: np.ndarray, kmax: int, out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """pass@k and miss@k = C(n-c, k) / C(n, k) for rows (n, c) and every k = 1..kmax (kmax <= min n).

    miss@k is the product form prod_{j<k} (1 - c/(n-j)), a cumulative product
    over j. pass@k is taken as the sum of the positive terms
    miss@j * c/(n-j) (j < k), which telescopes to 1 - miss@k without the
    cancellation of that difference: tiny pass@k keep their relative
    precision (about k ulps), whatever n is. `out` receives pass@k.
    """
    rows = n.size
    j = np.arange(kmax, dtype=np.float64)
    share = np.empty((rows, kmax)) if out is None else out
    if rows and np.all(n == n[0]):
        np.multiply(c[:, None].astype(np.float64), 1.0 / (float(n[0]) - j), out=share)
    else:
        np.divide(c[:, None], n[:, None].astype(np.float64) - j, out=share)  # c / (n - j); n - j >= 1
    miss = np.subtract(1.0, share)
    for r in np.flatnonzero(n - c < kmax):  # no sample left but correct ones: exactly zero
        miss[r, n[r] - c[r]:] = 0.0
    np.cumprod(miss, axis=1, out=miss)
    share[:, 1:] *= miss[:, :-1]
    np.cumsum(share, axis=1, out=share)
    np.minimum(share, 1.0, out=share)
    return share, miss


def _row_chunks(rows: int, kmax: int):
    """Row ranges whose [rows x kmax] scratch arrays stay cache-sized."""
    step = max(1, _CHUNK_ELEMENTS // max(kmax, 1))
    for start in range(0, rows, step):
        yield slice(start, min(rows, start + step))


def _unique_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Distinct rows of integer columns and the inverse map: work once per distinct pool.

    The inverse is None when fewer than half the rows repeat (the rows are then
    kept as they are, sparing a gather of the whole result).
    """
    stacked = np.stack(columns, axis=1)
    uniq, inverse = np.unique(stacked, axis=0, return_inverse=True)
    if 2 * len(uniq) > len(stacked):  # too few repeats to pay for gathering the result
        return list(columns), None
    return [uniq[:, i] for i in range(len(columns))], inverse.reshape(-1)


def _pass_unique(n: np.ndarray, c: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """pass@k for rows (n, c) and columns ks (ks <= n checked by the caller), once per distinct (n, c)."""
    (un, uc), inverse = _unique_rows(n, c)
    kmax = int(ks.max())
    full = ks.size == kmax and np.array_equal(ks, np.arange(1, kmax + 1))
    out = np.empty((un.size, ks.size))
    for rows in _row_chunks(un.size, kmax):
        if full:
            _pass_and_miss(un[rows], uc[rows], kmax, out=out[rows])
        else:
            out[rows] = _pass_and_miss(un[rows], uc[rows], kmax)[0][:, ks - 1]
    return out if inverse is None else out[inverse]


def pass_at_k(n, c, k, problems: Sequence | None = None) -> np.ndarray | float:
    """Unbiased pass@k of the Codex paper: the chance that k of the n samples hold a correct one.

    n: samples per problem, c: correct samples per problem (arrays over
    problems, or scalars); k: a number or a list of numbers. Returns an array
    [problems] for a single k, [problems x ks] for a list, a float when n, c
    and k are all scalars. `problems` (names) only improves error messages.

    A problem with n = 0 (no candidate at all) scores 0 at every k: it is
    an unsolved problem, never an error and never dropped (docs/semantics.md).
    Raises UserError when a k exceeds some problem's n > 0: pass@k is not
    defined there, and extrapolating would be a guess.
    """
    scalar_pool = np.ndim(n) == 0 and np.ndim(c) == 0
    scalar_k = np.ndim(k) == 0
    n_arr, c_arr = np.broadcast_arrays(_counts("n", n), _counts("c", c))
    if np.any(c_arr > n_arr):
        i = int(np.flatnonzero(c_arr > n_arr)[0])
        raise UserError(
            f"c={int(c_arr[i])} correct exceeds the n={int(n_arr[i])} sample{'' if n_arr[i] == 1 else 's'} of problem {_problem_name(problems, i)}."
        )
    ks = _ks(k)
    _check_k_fits(n_arr, ks, problems)
    values = np.zeros((n_arr.size, ks.size))
    pooled = n_arr > 0
    if pooled.all():
        values = _pass_unique(n_arr, c_arr, ks)
    elif pooled.any():
        values[pooled] = _pass_unique(n_arr[pooled], c_arr[pooled], ks)
    if scalar_k:
        values = values[:, 0]
    if scalar_pool:
        return float(values[0]) if scalar_k else values[0]
    return values


# --------------------------------------------------------------------------- exact n@k of the filtered policy


def _log_factorials(upto: int) -> np.ndarray:
    """log(m!) for m = 0..upto, each from lgamma (accurate to an ulp, no summed rounding)."""
    return np.array([math.lgamma(m + 1.0) for m in range(upto + 1)])


def _pass_small(P: np.ndarray, C: np.ndarray, mmax: int) -> np.ndarray:
    """pass@m of pools (P, C) for m = 0..mmax, m capped at P (all passing samples submitted)."""
    out = np.zeros((P.size, mmax + 1))
    if mmax == 0:
        return out
    big = P >= mmax
    if big.any():
        out[big, 1:], _ = _pass_and_miss(P[big], C[big], mmax)
    for r in np.flatnonzero(~big & (P > 0)):
        values, _ = _pass_and_miss(P[r:r + 1], C[r:r + 1], int(P[r]))
        out[r, 1:P[r] + 1] = values[0]
        out[r, P[r] + 1:] = values[0, -1]
    return out


def _n_at_k_rows(K, P, C, ns: np.ndarray, kmax: int, lf: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Exact n@k for rows (K, P, C), every n of ns (ascending) and k = 1..kmax: [rows x ns x kmax].

    With p ~ hypergeometric(K, P, k) the passing samples drawn, and pass(m)
    the pass@m of the pool (P, C):

        n@k = sum_{1<=p<n} h(p) pass(p) + S(n) pass(n),  S(n) = P(p >= n) = S(1) - sum_{1<=p<n} h(p)

    S(1) = pass@k of (K, P) and h(0) = miss@k of (K, P) come from the product
    form, and h(p) from h(p-1) by the ratio (P-p+1)/p * (k-p+1)/(F-k+p),
    F = K - P; no cancellation of large log-factorials. Where k > F the
    recurrence cannot start (h(0) = 0): those few columns (k - F < n) are
    summed directly from log-factorials, the rest are pass(n).
    """
    rows = K.size
    F = K - P
    nmax = int(ns.max())
    pass_m = _pass_small(P, C, nmax)
    out = np.empty((rows, ns.size, kmax)) if out is None else out
    S, h = _pass_and_miss(K, P, kmax)  # S(1) and h(0)
    k = np.arange(1, kmax + 1, dtype=np.float64)
    if nmax > 1:
        acc = np.zeros((rows, kmax))
        ratio = np.empty((rows, kmax))
        denominator = F[:, None] - k[None, :]  # F - k (+ p below)
    else:
        acc = 0.0
    wanted = {int(n): i for i, n in enumerate(ns)}
    with np.errstate(divide="ignore", invalid="ignore"):
        for p in range(1, nmax + 1):
            if p in wanted:  # everything below p is summed: record n = p
                np.multiply(np.maximum(S, 0.0), pass_m[:, p, None], out=out[:, wanted[p]])
                out[:, wanted[p]] += acc
            if p == nmax:
                break
            np.add(denominator, p, out=ratio)
            np.divide(k - (p - 1), ratio, out=ratio)  # (k-p+1) / (F-k+p)
            ratio *= ((P - p + 1) / p)[:, None]
            h *= ratio  # exactly 0 once p > k or p > P; columns k > F are garbage, rewritten below
            acc += np.multiply(h, pass_m[:, p, None], out=ratio)
            S -= h
    # Columns where fewer samples fail the public tests than are drawn (k > F).
    for r in np.flatnonzero(F < kmax):
        Kr, Pr, Fr = int(K[r]), int(P[r]), int(F[r])
        out[r, :, Fr:] = pass_m[r, ns, None]  # k - F >= n: at least n passing samples drawn
        for kk in range(Fr + 1, min(kmax, Fr + nmax - 1) + 1):
            p = np.arange(kk - Fr, min(kk, Pr) + 1)
            log_h = (lf[Pr] - lf[p] - lf[Pr - p] + lf[Fr] - lf[kk - p] - lf[Fr - kk + p]
                     - (lf[Kr] - lf[kk] - lf[Kr - kk]))
            h_direct = np.exp(log_h)
            for i, n in enumerate(ns):
                below = p < n
                if below.any():
                    tail = max(0.0, 1.0 - h_direct[below].sum())
                    out[r, i, kk - 1] = (h_direct[below] * pass_m[r, p[below]]).sum() + tail * pass_m[r, n]
    return np.clip(out, 0.0, 1.0, out=out)


def n_at_k_filtered(samples, passing, passing_correct, n, k, problems: Sequence | None = None):
    """Exact n@k of "submit up to n of the drawn samples that pass the public tests, chosen uniformly".

    For a problem with K = `samples`, of which P = `passing` pass the public
    tests and C = `passing_correct` of those are also correct (a correct sample
    failing the public tests is never submitted): draw k of the K; the number p
    of drawn samples passing public is hypergeometric(K, P, k); the min(n, p)
    submitted ones are a uniform subset of the P passing samples, so they hold a
    correct one with probability pass@min(n, p) of the pool (P, C). Hence

        n@k = sum_p h_k(p) pass_{P,C}(min(n, p))
            = sum_{p<n} h_k(p) pass_{P,C}(p) + P(p >= n) pass_{P,C}(n),

    n terms per (problem, k) whatever k is (see `_n_at_k_rows`); relative
    accuracy about 1e-15 on pools of 10^4 (no sum of large log-factorials).
    Shapes: [problems], then [ns] if n is a list, then [ks] if k is a list.
    An empty pool (K = 0) scores 0 for every n and k; k > K > 0 is an error.
    """
    scalar_pool = all(np.ndim(x) == 0 for x in (samples, passing, passing_correct))
    scalar_n, scalar_k = np.ndim(n) == 0, np.ndim(k) == 0
    K, P, C = np.broadcast_arrays(
        _counts("samples", samples), _counts("passing", passing), _counts("passing_correct", passing_correct)
    )
    bad = np.flatnonzero((P > K) | (C > P))
    if bad.size:
        i = int(bad[0])
        raise UserError(
            f"Problem {_problem_name(problems, i)} needs passing_correct <= passing <= samples, "
            f"not {int(C[i])}, {int(P[i])}, {int(K[i])}."
        )
    ns, ks = _ks(n, "n"), _ks(k, "k")
    _check_k_fits(K, ks, problems)
    ns_sorted, ns_back = np.unique(ns, return_inverse=True)
    kmax = int(ks.max())
    full = ks.size == kmax and np.array_equal(ks, np.arange(1, kmax + 1))
    pooled = K > 0
    if not pooled.all():  # empty pools: unsolved, 0 everywhere; the others as usual
        values = np.zeros((K.size, ns.size, ks.size))
        if pooled.any():
            values[pooled] = n_at_k_filtered(K[pooled], P[pooled], C[pooled], ns, ks)
        values = values[:, :, 0] if scalar_k else values
        values = values[:, 0] if scalar_n else values
        return values[0] if scalar_pool else values
    (uK, uP, uC), inverse = _unique_rows(K, P, C)
    lf = _log_factorials(int(K.max()) if np.any(K - P < kmax) else 0)  # only where k > K - P occurs
    values = np.empty((uK.size, ns_sorted.size, ks.size))
    def fill(rows: slice) -> None:
        if full:
            _n_at_k_rows(uK[rows], uP[rows], uC[rows], ns_sorted, kmax, lf, out=values[rows])
        else:
            values[rows] = _n_at_k_rows(uK[rows], uP[rows], uC[rows], ns_sorted, kmax, lf)[:, :, ks - 1]

    chunks = list(_row_chunks(uK.size, kmax))
    if len(chunks) > 1 and (os.cpu_count() or 1) > 1:
        # numpy releases the GIL in these loops; chunks write disjoint rows of `values`.
        with ThreadPoolExecutor(os.cpu_count()) as pool:
            list(pool.map(fill, chunks))
    else:
        for rows in chunks:
            fill(rows)
    if inverse is not None:
        values = values[inverse]
    ns_back = ns_back.reshape(-1)
    if not np.array_equal(ns_back, np.arange(ns_sorted.size)):
        values = values[:, ns_back]
    if scalar_k:
        values = values[:, :, 0]
    if scalar_n:
        values = values[:, 0]
    return values[0] if scalar_pool else values
