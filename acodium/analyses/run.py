"""A run folder read whole for the analyses: its problems, candidates, executions by candidate and judgements.

A run folder (`gencode run`, `gencode gen solve_and_evaluate_set`, `offline_run`)
records the problems it ran on (problems.json), so it is read alone: the
problems are loaded from the recorded dataset (or from `problems` when given)
and checked against the record, as `gencode eval pass_at_k` does
(`acodium.evaluation.load_candidate_set`). Executions are read by candidate
from a scoring run's executions by program (executions.parquet and
programs.parquet) or an older run's log (executions.jsonl). What a folder
lacks is one sentence when an analysis asks for it, not when it is opened.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ..data import load_problems, problem_rows
from ..errors import UserError
from ..evaluation import (candidate_executions, load_candidate_set, problem_record, read_problem_record,
                          save_problem_record, score_candidates)
from ..execute import Execution
from ..generate import generate_candidates, make_source
from ..tables import (CANDIDATES_FILE, CANDIDATES_LOG, EXECUTIONS_FILE, EXECUTIONS_LOG, GENERATION_CONFIG_FILE,
                      JUDGEMENTS_FILE, PROBLEMS_RECORD_FILE, PROGRAMS_FILE, SUMMARY_FILE, read_table,
                      require_columns, write_table)


@dataclass
class Run:
    """One run folder: its problems (rows by name, in the record's order) and candidates, read at once;
    its executions and judgements read when an analysis first asks for them."""

    folder: Path
    problems: dict[str, dict]
    candidates: pd.DataFrame
    _tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def judgements(self) -> pd.DataFrame:
        if "judgements" not in self._tables:
            path = self.folder / JUDGEMENTS_FILE
            if not path.exists():
                raise UserError(f"The run folder {self.folder} has no judgements ({JUDGEMENTS_FILE}): score it "
                                f"first (gencode eval pass_at_k --dataset_name {self.folder}).")
            table = read_table(path)
            require_columns(table, ["problem", "candidate_id", "passes_public", "correct"], "judgements")
            self._tables["judgements"] = table.astype({"candidate_id": str})
        return self._tables["judgements"]

    @property
    def executions(self) -> pd.DataFrame:
        """The EXECUTIONS table, one row per candidate and test run."""
        if "executions" not in self._tables:
            by_program, programs = self.folder / EXECUTIONS_FILE, self.folder / PROGRAMS_FILE
            if by_program.exists():
                table = read_table(by_program)
                if "candidate_id" not in table.columns:
                    if not programs.exists():
                        raise UserError(f"The run folder {self.folder} has executions by program but no "
                                        f"{PROGRAMS_FILE} saying which program each candidate is.")
                    table = candidate_executions(table, read_table(programs).astype({"candidate_id": str}))
            elif (self.folder / EXECUTIONS_LOG).exists():
                table = read_table(self.folder / EXECUTIONS_LOG)
            else:
                raise UserError(f"The run folder {self.folder} has no executions ({EXECUTIONS_FILE}): score it "
                                f"first (gencode eval pass_at_k --dataset_name {self.folder}).")
            require_columns(table, ["problem", "candidate_id", "test_set", "status"], "executions")
            self._tables["executions"] = table.astype({"candidate_id": str})
        return self._tables["executions"]

    @property
    def generation(self) -> dict[str, Any]:
        """The source's settings the run was made with (generation.json), {} when it has none."""
        path = self.folder / GENERATION_CONFIG_FILE
        try:
            return json.loads(path.read_text()) if path.exists() else {}
        except (OSError, json.JSONDecodeError):
            return {}

    @property
    def record(self) -> dict[str, Any]:
        """What the run was made on (problems.json: dataset, split, problems, fingerprint), {} when unrecorded."""
        return read_problem_record(self.folder) or {}

    @property
    def summary(self) -> dict[str, Any]:
        path = self.folder / SUMMARY_FILE
        try:
            return json.loads(path.read_text()) if path.exists() else {}
        except (OSError, json.JSONDecodeError):
            return {}

    @property
    def names(self) -> list[str]:
        return list(self.problems)


def read_run(folder: str | os.PathLike | Run, *, problems: Any = None,
             data_dir: str | os.PathLike | None = None) -> Run:
    """The run folder at `folder` (a `Run` passes through); `problems` the dataset it ran on when its
    record's dataset cannot be loaded here. A folder without candidates is one sentence."""
    if isinstance(folder, Run):
        return folder
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise UserError(f"{path} is not a run folder (no such folder).")
    if not ((path / CANDIDATES_FILE).exists() or (path / CANDIDATES_LOG).exists()):
        raise UserError(f"{path} is not a run folder: it holds no {CANDIDATES_FILE} or {CANDIDATES_LOG}.")
    if problems is None and read_problem_record(path) is None:
        raise UserError(f"{path} does not record the problems it ran on (no {PROBLEMS_RECORD_FILE}): give the "
                        "dataset it ran on as `problems`.")
    rows, candidates, _ = load_candidate_set(path, problems=problems, data_dir=data_dir)
    candidates = candidates.astype({"candidate_id": str}).reset_index(drop=True)
    return Run(path, {row["name"]: row for row in rows}, candidates)


def offline_run(out: str | os.PathLike, dataset: str = "starter", *, split: str = "train", limit: int | None = None,
                sources: Mapping[str, int | None] = (("human", None), ("mutants", 5)), correct_fraction: float = 0.5,
                seed: int = 0, execution: Execution | None = None, progress: bool = True) -> Run:
    """A run folder made without any model: candidates of offline sources ({name: k per problem}: human,
    mutants) on `dataset`, executed (public tests first, as `gencode run`), judged and scored into `out`.

    The offline sources are deterministic and quick: a re-run into the same
    folder makes the candidates again (other options, other candidates) and
    runs only the programs the folder's executions lack.
    """
    out = Path(out).expanduser()
    sources = dict(sources)
    rows = list(problem_rows(load_problems(dataset, split, limit=limit, seed=seed)).values())
    problem_record(out, rows, dataset=dataset, split=split)  # a folder of a run on another dataset is refused
    made = []
    for name, k in sources.items():
        options = {"seed": seed, **({"correct_fraction": correct_fraction} if name == "human" else {})}
        if k != 0:
            made.append(generate_candidates(rows, make_source(name, **options), k, progress=progress))
    if not made:
        raise UserError("No source was asked for candidates: every k is 0.")
    return score_run(out, rows, dataset=dataset, split=split, candidates=pd.concat(made, ignore_index=True),
                     execution=execution, seed=seed, progress=progress)


def score_run(out: str | os.PathLike, problems: Any, *, dataset: str | os.PathLike, split: str | None,
              candidates: pd.DataFrame | None = None, execution: Execution | None = None, seed: int = 0,
              progress: bool = True) -> Run:
    """Make `out` a run folder of `problems` (from `dataset`, `split`): their record written, the candidates
    (`candidates`, written to OUT/candidates.parquet, or those a generation left there) executed,
    public tests first, judged and scored there, as `gencode run` does after generating."""
    out = Path(out).expanduser()
    rows = list(problem_rows(problems).values())
    record = problem_record(out, rows, dataset=dataset, split=split)
    if candidates is not None:
        write_table(candidates, out / CANDIDATES_FILE)
    elif not (out / CANDIDATES_FILE).exists():
        raise UserError(f"{out} holds no {CANDIDATES_FILE} to score.")
    save_problem_record(out, record)
    score_candidates(rows, read_table(out / CANDIDATES_FILE), run_dir=out, execution=execution, seed=seed,
                     progress=progress)
    return read_run(out)
