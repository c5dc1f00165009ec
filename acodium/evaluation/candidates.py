"""What an evaluation judges: a candidates table checked against its problems, and where it comes from.

A candidates table (CANDIDATES: problem, candidate_id, language, code, ...)
comes from a generation run folder (candidates.parquet, or the log of an
unfinished one), a table file, or a problems dataset carrying candidates in
its rows (the dataset's own solutions, as alphaCodium's original command).
The problems are the benchmark: those without candidates stay and count as
unsolved, so the failures a generation recorded travel with the table
(`candidates.attrs["failures"]`) to say why a pool is short.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..data import load_problems, problem_rows
from ..errors import UserError
from ..languages import RUNNABLE_LANGUAGES, language_name
from ..tables import CANDIDATES, CANDIDATES_FILE, CANDIDATES_LOG, ERRORS_LOG, AppendLog, read_table, require_columns
from .problem_record import read_problem_record, recorded_problems


def check_candidates(candidates: pd.DataFrame, problems: Mapping[str, dict]) -> pd.DataFrame:
    """The candidates table, checked against the problems (one clear sentence when it is wrong).

    Returns a copy with language names normalised (`language_name`) and
    candidate ids as text.
    """
    require_columns(candidates, ["problem", "candidate_id", "language", "code"], "candidates")
    unknown = sorted(set(candidates["problem"]) - set(problems))
    if unknown:
        raise UserError(
            f"{len(unknown)} problem(s) of the candidates table are not in the dataset, "
            f"for instance {unknown[0]!r}."
        )
    candidates = candidates.copy()
    candidates["language"] = candidates["language"].map(language_name)
    candidates["candidate_id"] = candidates["candidate_id"].astype(str)  # 1 and "1" are one candidate
    dup = candidates.duplicated(["problem", "candidate_id"])
    if dup.any():
        first = candidates[dup].iloc[0]
        raise UserError(
            f"The candidates table has {int(dup.sum())} duplicate (problem, candidate_id) pair(s), "
            f"for instance ({first['problem']!r}, {first['candidate_id']!r})."
        )
    return candidates


def has_code(code: Any) -> bool:
    """Whether a candidate holds a program: empty text (extraction found none) is judged without running."""
    return isinstance(code, str) and bool(code.strip())


def generation_failures(run_dir: str | os.PathLike) -> list[dict]:
    """The failed samples a generation run folder recorded (its generation_errors.jsonl), oldest first."""
    path = Path(run_dir) / ERRORS_LOG
    return list(AppendLog(path).rows()) if path.exists() else []


def _candidates_from_rows(rows: Mapping[str, dict], solutions_column: str, name_column: str) -> pd.DataFrame:
    """Candidates carried by the problems' rows, at a dotted path such as `solutions.solution`.

    Candidates in languages that cannot run here (java, python2) are left out;
    candidate_id is the position in the row's list.
    """
    parts = solutions_column.split(".")
    out = []
    for row in rows.values():
        if name_column not in row:
            raise UserError(f"The problems have no column {name_column!r} to name them.")
        value: Any = row
        languages: Any = None
        for depth, part in enumerate(parts):
            if not isinstance(value, Mapping) or part not in value:
                raise UserError(f"The problems have no field {solutions_column!r} holding candidates.")
            if depth == len(parts) - 1 and "language" in value:
                languages = value["language"]
            value = value[part]
        if isinstance(value, str):
            value = [value]
        for i, code in enumerate(value or []):
            language = language_name(languages[i]) if languages is not None else "python3"
            if language not in RUNNABLE_LANGUAGES:
                continue  # an unknown language (0): nothing runs it
            out.append({"problem": row[name_column], "candidate_id": str(i), "language": language,
                        "code": code, "source": "dataset", "meta": json.dumps({"column": solutions_column})})
    return pd.DataFrame(out, columns=CANDIDATES)


def _candidates_log(run_dir: Path) -> pd.DataFrame:
    """The candidates of an unfinished generation, from its log: a torn last line is a candidate
    not yet written, a damaged line elsewhere is one sentence (a candidate silently missing
    would change every pass@k)."""
    log = AppendLog(run_dir / CANDIDATES_LOG)
    table = pd.DataFrame(list(log.rows()))
    if log.damaged:
        raise UserError(f"Line {', '.join(map(str, log.damaged[:5]))} of {log.path} is damaged: run the generation "
                        f"into {run_dir} again (it redoes those candidates and writes candidates.parquet), "
                        "or delete the line.")
    return table if len(table) else pd.DataFrame(columns=CANDIDATES)


def load_candidate_set(
    dataset_name: str | os.PathLike,
    *,
    split: str | None = "train",
    problems: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
    solutions_column: str = "solutions.solution",
    name_column: str = "name",
    sample_rate: float | None = None,
    seed: int = 0,
    valid_only: bool = False,
):
    """What `gencode eval pass_at_k` evaluates: (problems, candidates, run folder or None).

    `dataset_name` is a run folder (with candidates.parquet or .jsonl), a
    candidates table, or a problems dataset carrying candidates at
    `solutions_column` (by default the dataset's own solutions, as the
    original command). The problems are the benchmark, those without
    candidates included (they count as unsolved): every problem of a
    problems dataset; the problems a run folder recorded (`problems.json`,
    `problem_record`: loaded from its dataset, or from `problems` when
    given, and checked against the record); for a candidates table, or a
    run folder from before records, the problems it names and, in a run
    folder, those whose generation failed (`generation_failures`, also left
    in `candidates.attrs["failures"]`), since `--problems` may be a larger
    set than the one generated for. With `valid_only`, problems a
    `check_references` marked invalid are left out; `sample_rate` then keeps
    a seeded fraction.
    """
    path = Path(dataset_name)
    run_dir = None
    table = None
    failures: list[dict] = []
    if path.is_dir() and ((path / CANDIDATES_FILE).exists() or (path / CANDIDATES_LOG).exists()):
        run_dir = path
        table = read_table(path / CANDIDATES_FILE) if (path / CANDIDATES_FILE).exists() else _candidates_log(path)
    elif path.is_file() and path.suffix in (".parquet", ".jsonl", ".json"):
        peek = read_table(path)
        if "name" not in peek.columns or "problem" in peek.columns or "candidate_id" in peek.columns:
            table = peek
    record = read_problem_record(run_dir) if run_dir is not None else None
    if table is not None and record is not None:  # the run folder says what it was run on
        rows = recorded_problems(run_dir, record, problems=problems, data_dir=data_dir)
        require_columns(table, ["problem", "candidate_id", "language", "code"], "candidates")
        candidates = check_candidates(table, rows)
        failures = [f for f in generation_failures(run_dir) if f.get("problem") in rows]
        generated = set(rows)
    elif table is not None:
        require_columns(table, ["problem", "candidate_id", "language", "code"], "candidates")
        if problems is None:
            raise UserError(f"{dataset_name} holds candidates only; give their problems with --problems.")
        rows = problem_rows(load_problems(problems, split, data_dir=data_dir, languages="all"))
        candidates = check_candidates(table, rows)
        if run_dir is not None:
            failures = [f for f in generation_failures(run_dir) if f.get("problem") in rows]
        generated = set(candidates["problem"]) | {f["problem"] for f in failures}
    else:
        rows = problem_rows(load_problems(dataset_name, split, data_dir=data_dir, languages="all"))
        candidates = check_candidates(_candidates_from_rows(rows, solutions_column, name_column), rows)
        generated = set(rows)
    if candidates.empty:
        raise UserError(f"{dataset_name} holds no candidates for any problem.")
    names = [name for name in rows if name in generated
             and not (valid_only and rows[name].get("is_valid_problem") is False)]
    if not names:
        raise UserError(f"{dataset_name} holds no problem that a reference check left valid (--valid_only).")
    if sample_rate is not None:
        size = max(1, round(len(names) * sample_rate))
        chosen = np.random.default_rng(seed).choice(len(names), size=size, replace=False)
        names = [names[i] for i in sorted(chosen)]
    keep = set(names)
    candidates = candidates[candidates["problem"].isin(keep)].reset_index(drop=True)
    candidates.attrs["failures"] = [f for f in failures if f["problem"] in keep]
    return [rows[name] for name in names], candidates, run_dir
