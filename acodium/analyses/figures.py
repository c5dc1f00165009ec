"""The analyses' figures, one question each, built without pyplot like `acodium.plots` (save with
`acodium.plots.save_figure`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from ..plots import _new_figure, _style


def solve_rate_bars(table: pd.DataFrame, by: str, *, title: str, top: int = 20) -> Figure:
    """A `solve_rate_by_*` table as horizontal bars: the share of problems solved per group, its
    number of problems in the label."""
    table = table.head(top)
    with _style():
        fig, ax = _new_figure((5.6, max(2.0, 0.28 * len(table) + 1.0)))
        labels = [f"{g} ({p})" for g, p in zip(table[by], table["problems"])]
        y = np.arange(len(table))[::-1]
        ax.barh(y, table["solve_rate"], color="C0", label="solved (any sample correct), 95% interval")
        ax.errorbar(table["solve_rate"], y, xerr=[table["solve_rate"] - table["ci_low"],
                                                  table["ci_high"] - table["solve_rate"]],
                    fmt="none", ecolor="black", elinewidth=1, capsize=2)
        ax.plot(table["pass@1"], y, "o", color="C1", label="pass@1")
        ax.set_yticks(y, labels)
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xlabel("Problems solved (number of problems in brackets)")
        ax.set_title(title)
        fig.legend(loc="outside lower center", ncol=2)
    return fig


def failure_bars(shares: pd.DataFrame) -> Figure:
    """`failure_shares` as one stacked bar per language: how its samples end."""
    outcomes = [c for c in shares.columns if c not in ("language", "samples", "fails to compile or crashes")]
    with _style():
        fig, ax = _new_figure()
        left = np.zeros(len(shares))
        y = np.arange(len(shares))[::-1]
        for i, outcome in enumerate(outcomes):
            ax.barh(y, shares[outcome], left=left, color=f"C{i}", label=outcome)
            left += shares[outcome].to_numpy()
        ax.set_yticks(y, [f"{lang} ({n})" for lang, n in zip(shares["language"], shares["samples"])])
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xlabel("Samples (number in brackets)")
        ax.set_title("How samples end, by language")
        fig.legend(loc="outside lower center", ncol=3, fontsize=8)
    return fig


def length_scatter(lengths: pd.DataFrame) -> Figure:
    """Median sample length against the median human solution's, one point per problem and language."""
    known = lengths.dropna(subset=["human_chars"])
    with _style():
        fig, ax = _new_figure()
        for i, (language, group) in enumerate(known.groupby("language")):
            ax.scatter(group["human_chars"], group["sample_chars"], color=f"C{i}", label=language)
        if len(known):
            top = float(max(known["human_chars"].max(), known["sample_chars"].max())) * 1.05
            ax.plot([0, top], [0, top], color="grey", linestyle="--", linewidth=1, label="same length")
        ax.set_xlabel("Human solutions, median characters")
        ax.set_ylabel("Samples, median characters")
        ax.set_title("Sample length against human solutions, per problem")
        ax.legend()
    return fig


def copying_histogram(copied: pd.DataFrame) -> Figure:
    """The distribution of the longest substring each program shares with the reference corpus: correct
    samples, and human solutions when measured (`human_copying`)."""
    with _style():
        fig, ax = _new_figure()
        if len(copied):
            bins = np.histogram_bin_edges(copied["lcs_chars"], bins=min(30, max(5, len(copied) // 2)))
            for i, (of, group) in enumerate(copied.groupby("of", sort=True)):
                ax.hist(group["lcs_chars"], bins=bins, color=f"C{i}", alpha=0.6, density=True, label=of)
                ax.axvline(float(group["lcs_chars"].median()), color=f"C{i}", linestyle="--")
            ax.legend(title="median dashed")
        ax.set_xlabel("Longest common substring with the reference corpus (characters)")
        ax.set_ylabel("Density")
        ax.set_title("How much of each program is copied")
    return fig
