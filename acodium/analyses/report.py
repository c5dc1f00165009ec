"""Every analysis of one run folder, as the notebook calls it (`recipe`): a run folder in, the tables out."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ..data import load_problems
from ..execute import Execution
from .copying import copying, copying_distribution, human_copying
from .failures import failure_shares
from .lengths import sample_lengths
from .run import Run, offline_run, read_run
from .solve_rates import per_problem, solve_rate_by_difficulty, solve_rate_by_rating, solve_rate_by_tag


@dataclass
class Analyses:
    """The tables of AlphaCode's analyses of one run folder."""

    run: Run
    per_problem: pd.DataFrame
    by_tag: pd.DataFrame
    by_rating: pd.DataFrame
    by_difficulty: pd.DataFrame
    failures: pd.DataFrame
    lengths: pd.DataFrame
    copying: pd.DataFrame
    copying_distribution: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name, for `acodium.notebook.save_tables` (tags joined as text, for parquet)."""
        return {"per_problem": self.per_problem.assign(tags=self.per_problem["tags"].map(", ".join)),
                "by_tag": self.by_tag, "by_rating": self.by_rating, "by_difficulty": self.by_difficulty,
                "failures": self.failures, "lengths": self.lengths, "copying": self.copying,
                "copying_distribution": self.copying_distribution}


def analyse(run: str | os.PathLike | Run, *, reference: Any = None, n: int = 10, correct_only: bool = True,
            problems: Any = None, progress: bool = True) -> Analyses:
    """Every analysis of a run folder. reference: the problems whose human solutions make the copying
    corpus (rows, a table, or what `acodium.data.load_problems` loads), the run's own problems left out,
    with the human solutions of the run's problems measured the same way beside the samples (AlphaCode's
    comparison); None: the run's own problems' solutions (did the samples reproduce them?), no baseline."""
    run = read_run(run, problems=problems)
    table = per_problem(run, n=n)
    if reference is None:  # the run's own problems: did the samples reproduce their human solutions?
        copied = copying(run.candidates, run.judgements, list(run.problems.values()), correct_only=correct_only,
                         progress=progress)
    else:  # another dataset, the run's problems left out, and the same measure of their human solutions
        if isinstance(reference, (str, os.PathLike)):
            reference = load_problems(reference, languages="all")
        copied = copying(run.candidates, run.judgements, reference, correct_only=correct_only, exclude=run.names,
                         progress=progress)
        humans = human_copying(list(run.problems.values()), reference, set(copied["language"]), progress=progress)
        copied = pd.concat([copied, humans], ignore_index=True)
    return Analyses(run, table, solve_rate_by_tag(table), solve_rate_by_rating(table), solve_rate_by_difficulty(table),
                    failure_shares(run), sample_lengths(run), copied, copying_distribution(copied))


def recipe(run_dir: str | os.PathLike | None = None, *, out_dir: str | os.PathLike | None = None,
           dataset: str = "starter", split: str = "train", limit: int | None = None,
           sources: Mapping[str, int | None] = (("human", None), ("mutants", 5)), correct_fraction: float = 0.5,
           seed: int = 0, execution: Execution | None = None, reference: Any = None, n: int = 10,
           correct_only: bool = True, problems: Any = None, progress: bool = True) -> Analyses:
    """The analyses of `run_dir` (`problems`: the dataset it ran on, when it records none); without one, of a run made offline (`offline_run`: `sources` on
    `dataset`) in OUT_DIR/run (resumed by a re-run), or in a temporary folder without an out_dir."""
    if not run_dir:
        where = Path(out_dir) / "run" if out_dir else Path(tempfile.mkdtemp(prefix="acodium-analyses-"))
        run_dir = offline_run(where, dataset, split=split, limit=limit, sources=sources,
                              correct_fraction=correct_fraction, seed=seed, execution=execution, progress=progress)
    return analyse(run_dir, reference=reference, n=n, correct_only=correct_only, problems=problems,
                   progress=progress)
