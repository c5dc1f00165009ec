"""The samples' length against the human solutions' of the same problem (AlphaCode figure 11).

Per problem and language: the median length (characters and non-empty lines)
of the samples with code, of the correct ones, and of the problem's accepted
human solutions in that language (`acodium.data.dataset_solutions`), and the
ratio of the samples' median to the humans'. A problem without human
solutions in the language has no ratio (NaN).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data import dataset_solutions
from ..evaluation import has_code
from .run import Run

LENGTH_COLUMNS = ["problem", "language", "samples", "sample_chars", "sample_lines", "correct_samples",
                  "correct_chars", "human_solutions", "human_chars", "human_lines", "chars_ratio"]


def lines(code: str) -> int:
    """Non-empty lines of a program."""
    return sum(1 for line in code.splitlines() if line.strip())


def _median(values) -> float:
    values = list(values)
    return float(np.median(values)) if values else float("nan")


def sample_lengths(run: Run) -> pd.DataFrame:
    """One row per problem and language the run sampled in (columns LENGTH_COLUMNS)."""
    cands = run.candidates[[has_code(c) for c in run.candidates["code"]]]
    cands = cands.merge(run.judgements[["problem", "candidate_id", "correct"]], on=["problem", "candidate_id"],
                        how="left")
    rows = []
    for (problem, language), group in cands.groupby(["problem", "language"], sort=False):
        humans = [code for _, _, code in dataset_solutions(run.problems[problem], "solutions", [language]) if code]
        correct = group[group["correct"].fillna(False).astype(bool)]
        sample_chars = _median(len(c) for c in group["code"])
        human_chars = _median(len(c) for c in humans)
        rows.append({"problem": problem, "language": language, "samples": len(group),
                     "sample_chars": sample_chars, "sample_lines": _median(lines(c) for c in group["code"]),
                     "correct_samples": len(correct), "correct_chars": _median(len(c) for c in correct["code"]),
                     "human_solutions": len(humans), "human_chars": human_chars,
                     "human_lines": _median(lines(c) for c in humans),
                     "chars_ratio": sample_chars / human_chars if humans else float("nan")})
    return pd.DataFrame(rows, columns=LENGTH_COLUMNS)
