"""Figures for papers: one question per figure, labelled axes, log-scale sample counts, CI bands.

Every function returns a `matplotlib.figure.Figure` built without pyplot (no
global state, nothing leaks between cells); a notebook shows it by leaving it
as the last expression of a cell, and `save_figure` writes it as PNG and SVG
under a run folder. Curves come from metric tables (columns k, value, ci_low,
ci_high; values are fractions of problems solved, drawn as percentages).
"""

from __future__ import annotations

import os
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import (
    FuncFormatter,
    LogLocator,
    MaxNLocator,
    NullFormatter,
    PercentFormatter,
)

from .data import DIFFICULTY_NAMES, TEST_KINDS, problem_tests, test_set_name
from .errors import UserError
from .tables import FIGURES_DIR
from .wording import plural

STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "lines.linewidth": 1.8,
    "lines.markersize": 4.5,
    "savefig.bbox": "tight",
    "svg.hashsalt": "acodium",  # stable ids: the same figure gives the same SVG
}
FIGSIZE = (5.6, 3.8)
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", "-.", ":")  # curves that coincide stay visible


@contextmanager
def _style():
    with matplotlib.rc_context(STYLE):
        yield


def _new_figure(figsize=FIGSIZE) -> tuple[Figure, Any]:
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def save_figure(fig: Figure, out_dir: str | os.PathLike | None, name: str, dpi: int = 200) -> list[Path]:
    """Write OUT_DIR/figures/NAME.png and .svg; no-op without an out_dir (interactive use)."""
    if not out_dir:
        return []
    folder = Path(out_dir) / FIGURES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    with _style():
        for ext, meta in (("png", {"Software": None}), ("svg", {"Date": None, "Creator": None})):
            path = folder / f"{name}.{ext}"
            fig.savefig(path, dpi=dpi, metadata=meta)
            paths.append(path)
    return paths


def _curve(df: pd.DataFrame, label: str, x: str = "k") -> pd.DataFrame:
    missing = [c for c in (x, "value") if c not in df.columns]
    if missing:
        raise UserError(f"The curve {label!r} lacks the column(s) {', '.join(missing)}.")
    if df[x].duplicated().any():
        raise UserError(
            f"The curve {label!r} has several rows per {x}: pass one aggregate row per {x} "
            "(the mean over problems), not the per-problem table."
        )
    return df.sort_values(x)


def _tick_text(v: float) -> str:
    """A tick's number, short: 20, 14.5, 1000 (not 1e+03), 13.3 (not 13.3333)."""
    return f"{v:.0f}" if v >= 100 or float(v).is_integer() else f"{v:.3g}"


def _spaced(values: Sequence[float], ax, font_pt: float) -> list[str]:
    """Labels for ticks at `values` on a log axis, blank where one would overlap the last one labelled.

    Budgets in LLM calls (a flow run's 14.5 beside a direct sample's 15) fall close together:
    each label needs its own width (about 0.6 of the font size per character) on the axis.
    """
    fig = ax.get_figure()
    width_pt = ax.get_position().width * fig.get_figwidth() * 72
    lo, hi = (np.log10(x) for x in ax.get_xlim())
    where = [(np.log10(v) - lo) / (hi - lo) * width_pt for v in values]
    texts = [_tick_text(v) for v in values]

    def apart(i: int, j: int) -> bool:
        return abs(where[j] - where[i]) >= 0.6 * font_pt * ((len(texts[i]) + len(texts[j])) / 2 + 1)

    shown: list[int] = []
    for i in range(len(values)):  # the first and the largest always shown; between, each that has room
        if i == len(values) - 1:
            shown = [j for j in shown if j == 0 or apart(j, i)] + [i]
        elif not shown or apart(shown[-1], i):
            shown.append(i)
    return [texts[i] if i in shown else "" for i in range(len(values))]


def _log_k_axis(ax, ks: Sequence[float]) -> None:
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10))
    ax.xaxis.set_minor_locator(LogLocator(base=10, subs=np.arange(2, 10) * 0.1))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _tick_text(v)))
    lo, hi = min(ks), max(ks)
    ax.set_xlim(lo / 1.25, hi * 1.25)
    distinct = sorted(set(ks))
    if len(distinct) <= 12:  # few values: label each one that has room, the decades alone say too little
        ax.set_xticks(distinct, _spaced(distinct, ax, STYLE["xtick.labelsize"]))


def _draw_curves(ax, curves: Mapping[str, pd.DataFrame], x: str) -> list[float]:
    xs: list[float] = []
    for i, (label, df) in enumerate(curves.items()):
        df = _curve(df, label, x)
        color = f"C{i % 10}"
        xv = df[x].to_numpy(float)
        yv = df["value"].to_numpy(float) * 100
        ax.plot(xv, yv, marker=MARKERS[i % len(MARKERS)], linestyle=LINESTYLES[i % len(LINESTYLES)],
                markersize=6 - 0.8 * (i % 4), color=color, label=label)
        if {"ci_low", "ci_high"} <= set(df.columns) and df["ci_low"].notna().any():
            ax.fill_between(
                xv, df["ci_low"].to_numpy(float) * 100, df["ci_high"].to_numpy(float) * 100,
                color=color, alpha=0.15, linewidth=0,
            )
        xs.extend(xv.tolist())
    return xs


def _percent_axis(ax, label: str) -> None:
    ax.set_ylabel(label)
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    _, hi = ax.get_ylim()
    ax.set_ylim(0, 102 if hi > 90 else max(hi, 5))  # 100% stays labelled when curves reach it


def _title(ax, title: str, note: str | None) -> None:
    """The question as the title; what the reader must know to trust it (n, CI) as a line below."""
    if not note:
        ax.set_title(title)
        return
    ax.set_title(title, pad=15)
    ax.annotate(note, xy=(0.5, 1), xycoords="axes fraction", xytext=(0, 4), textcoords="offset points",
                ha="center", va="bottom", fontsize=8, color="0.35")


def solve_rate_curves(
    curves: Mapping[str, pd.DataFrame],
    *,
    title: str,
    xlabel: str = "Samples per problem, k (log scale)",
    ylabel: str = "Problems solved",
    note: str | None = None,
    x: str = "k",
) -> Figure:
    """Solve rate against the number of samples k, one line per metric or policy, 95% CI bands.

    AlphaCode's scaling figure: with k on a log axis, the solve rate grows
    roughly linearly. `curves` maps a legend label to an aggregate metric table.
    `x` names another column for the axis, e.g. `budget` (LLM calls per problem,
    `acodium.generate.with_budget`) to compare strategies at equal cost.
    """
    if not curves:
        raise UserError("There are no curves to plot.")
    with _style():
        fig, ax = _new_figure()
        ks = _draw_curves(ax, curves, x)
        _log_k_axis(ax, ks)
        ax.set_xlabel(xlabel)
        _percent_axis(ax, ylabel)
        _title(ax, title, note)
        ax.legend(loc="best", frameon=False)
    return fig


def solve_rate_vs_parameter(
    df: pd.DataFrame,
    *,
    x: str,
    title: str,
    xlabel: str,
    ylabel: str = "Problems solved",
    group: str | None = None,
    group_label: str = "{}",
    log_x: bool = False,
) -> Figure:
    """Solve rate against a swept parameter (inputs used for clustering, temperature, ...).

    One line per value of `group` (say k), with 95% CI bands.
    """
    if df.empty:
        raise UserError("There is nothing to plot: the table is empty.")
    groups = [(None, df)] if group is None else list(df.groupby(group, sort=True))
    curves = {("" if g is None else group_label.format(g)): part for g, part in groups}
    with _style():
        fig, ax = _new_figure()
        xs = _draw_curves(ax, curves, x)
        if log_x:
            _log_k_axis(ax, xs)
        elif len(set(xs)) <= 12:
            ax.set_xticks(sorted(set(xs)))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_xlabel(xlabel)
        _percent_axis(ax, ylabel)
        ax.set_title(title)
        if group is not None:
            ax.legend(loc="best", frameon=False)
    return fig


def policy_bars(
    values: pd.DataFrame,
    *,
    title: str,
    label: str = "policy",
    ylabel: str = "Problems solved",
) -> Figure:
    """One bar per selection policy with its 95% CI (the clustering ablation at one k)."""
    if values.empty:
        raise UserError("There is nothing to plot: the table is empty.")
    with _style():
        fig, ax = _new_figure((4.6, 3.4))
        pos = np.arange(len(values))
        v = values["value"].to_numpy(float) * 100
        err = None
        if {"ci_low", "ci_high"} <= set(values.columns):
            err = np.vstack([v - values["ci_low"].to_numpy(float) * 100, values["ci_high"].to_numpy(float) * 100 - v])
        ax.bar(pos, v, yerr=err, capsize=4, color=[f"C{i}" for i in range(len(values))], width=0.6)
        ax.set_xticks(pos, values[label].astype(str).tolist())
        ax.grid(axis="x", visible=False)
        ax.set_ylim(0, min(102, max(5.0, float(np.nanmax(v if err is None else v + err[1])) * 1.15)))
        ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
        ax.set_ylabel(ylabel)
        ax.set_title(title)
    return fig


# --------------------------------------------------------------------------- the data itself


def _empty(ax, message: str) -> None:
    """Say on the figure that there is nothing to draw, instead of failing a notebook cell."""
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)


def tag_counts(problems, top: int = 20) -> Figure:
    """How many problems carry each Codeforces tag (the most common `top`)."""
    counts = Counter(t for tags in problems["cf_tags"] for t in (tags or []) if t)
    items = counts.most_common(top)[::-1]
    with _style():
        fig, ax = _new_figure((5.6, max(2.4, 0.22 * len(items) + 0.8)))
        if not items:
            _empty(ax, "None of these problems has Codeforces tags.")
        ax.barh([t for t, _ in items], [c for _, c in items], color="C0")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="y", visible=False)
        ax.set_xlabel("Problems")
        ax.set_title(f"Codeforces tags ({plural(len(problems), 'problem')})")
    return fig


def rating_histogram(problems) -> Figure:
    """Distribution of Codeforces ratings (0 = unrated, left out and counted in the title)."""
    ratings = np.asarray([r for r in problems["cf_rating"] if r is not None], dtype=float)
    rated = ratings[ratings > 0]
    with _style():
        fig, ax = _new_figure((5.0, 3.2))
        if rated.size == 0:
            _empty(ax, "None of these problems has a Codeforces rating.")
            ax.set_title(f"Ratings ({plural(len(problems), 'problem')}, none rated)")
            return fig
        edges = np.arange(np.floor(rated.min() / 100) * 100 - 50, rated.max() + 150, 100)
        ax.hist(rated, bins=edges, color="C0", edgecolor="white")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("Codeforces rating")
        ax.set_ylabel("Problems")
        unrated = len(problems) - rated.size
        ax.set_title(f"Ratings ({rated.size} rated" + (f", {unrated} unrated)" if unrated else ")"))
    return fig


def tests_per_problem(problems, kinds: Iterable[str] = TEST_KINDS) -> Figure:
    """How many valid tests of each set the problems have (a symmetric-log axis when counts span decades).

    `kinds` are test sets in any spelling (`public`, `public_tests`); a set the table lacks is left out.
    """
    kinds = [k for k in map(test_set_name, kinds) if f"{k}_tests" in problems.column_names]
    with _style():
        fig, ax = _new_figure((5.0, 3.2))
        data = [[len(problem_tests({f"{k}_tests": t}, k)) for t in problems[f"{k}_tests"]] for k in kinds]
        positions = np.arange(len(kinds))
        ax.boxplot([np.asarray(d) for d in data], positions=positions, widths=0.5, showfliers=True)
        if max((max(d) for d in data if d), default=0) > 50:
            ax.set_yscale("symlog", linthresh=1)  # counts span decades; 0 stays visible
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        else:
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylim(bottom=0)
        ax.set_xticks(positions, kinds)
        ax.set_ylabel("Tests per problem")
        ax.set_title(f"Tests per problem ({plural(len(problems), 'problem')})")
    return fig


def difficulty_counts(problems) -> Figure:
    """Problems per difficulty (for Codeforces, the problem's letter in its contest: A easiest)."""
    counts = Counter(int(d or 0) for d in problems["difficulty"])
    order = sorted(counts)
    with _style():
        fig, ax = _new_figure((5.0, 3.2))
        labels = [DIFFICULTY_NAMES[d].replace("_DIFFICULTY", "").lower() if d < 7 else DIFFICULTY_NAMES[d]
                  for d in order]
        ax.bar(labels, [counts[d] for d in order], color="C0", width=0.7)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="x", visible=False)
        ax.set_xlabel("Difficulty (Codeforces: problem letter)")
        ax.set_ylabel("Problems")
        ax.set_title(f"Difficulty ({plural(len(problems), 'problem')})")
    return fig
