"""What the execution-agreement policies see, from a run's executions: the judgements' optional columns.

`acodium.policies` has policies that look beyond the public-test filter and
the clusters (mbr_exec, codet, largest_clusters). Their inputs are made here,
from what a contestant can see or make, never from a hidden test:

- `behaviour`: per clustering input, a label of the candidate's behaviour
  there (its output when it ended OK, else its status; a SLOW run is a
  TIMEOUT, as in clustering), -1 where it did not run (mbr_exec);
- `model_set`, `model_tests_passed`: CodeT's consensus set (the same model
  tests passed) and how many model tests pass. A model test is an input of
  the "ai" set that carries the model's expected output (`model_tests`); it
  is never a correctness test;
- `score`: a scorer's value (`acodium.policies.SCORERS`, or a model's: `acodium.model_scorer`) per candidate.

Executions come by program (the run folder's executions.parquet, with
programs.parquet saying which program each candidate is) or by candidate
(an executions table whose `candidate_id` stands for the program).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..data import CLUSTERING_TEST_SETS, problem_tests
from ..errors import UserError
from ..model_scorer import ModelScorer, score_programs
from ..policies import NEEDS, POLICIES, Policy, get_scorer
from .candidates import has_code

MODEL_TEST_SET = "ai"
COLUMNS = ["behaviour", "model_set", "model_tests_passed"]


def model_tests(row: Mapping[str, Any], max_tests: int | None = None) -> list[int]:
    """Indices of the problem's model tests: "ai" inputs for which the model wrote an expected output."""
    return [i for i, _, out in problem_tests(row, MODEL_TEST_SET, max_tests) if str(out or "").strip()]


def needed_columns(policies: Iterable[str] | Mapping[str, Policy]) -> set[str]:
    """The `Draws` fields these policies need (`acodium.policies.NEEDS`), by name or by function."""
    pairs = policies.items() if isinstance(policies, Mapping) else ((name, None) for name in policies)
    return {field for name, fn in pairs for known, fields in NEEDS.items()
            if name == known or fn is POLICIES.get(known) for field in fields}


def refuse_model_tests_as_correctness(test_sets: Sequence[str]) -> None:
    """Correctness is decided by the dataset's tests only (docs/semantics.md), never by a model's outputs."""
    if MODEL_TEST_SET in test_sets:
        raise UserError(f'The "{MODEL_TEST_SET}" tests are model-written: they cluster samples and feed codet, '
                        "but never decide correctness; judge on public, private, generated or mutated tests.")


def check_model_tests(policy_names: Iterable[str], rows: Mapping[str, Mapping[str, Any]], test_sets: Sequence[str],
                      max_tests: int | None = None) -> None:
    """Refuse, before anything runs, a codet asked of problems none of which carries a model test."""
    refuse_model_tests_as_correctness(test_sets)
    if "model_set" not in needed_columns(policy_names):
        return
    if not any(model_tests(row, max_tests) for row in rows.values()):
        raise UserError("The codet policy needs model-written tests (ai_tests with expected outputs, from "
                        "`gencode gen test_inputs`), and no problem here has any.")


def _behaviour(ex: pd.DataFrame) -> pd.Series:
    status = ex["status"].astype(str).replace("SLOW", "TIMEOUT")
    return ("out:" + ex["output_hash"].fillna("").astype(str)).where(status == "OK", "status:" + status)


def agreement_columns(executions: pd.DataFrame, rows: Mapping[str, Mapping[str, Any]], *, key: str = "program_hash",
                      clustering_sets: Sequence[str] = CLUSTERING_TEST_SETS,
                      max_tests: int | None = None) -> pd.DataFrame:
    """Per (problem, `key`): behaviour (a list over the problem's clustering inputs), model_set, model_tests_passed.

    `executions` holds runs with problem, `key`, test_set, test_index, status,
    passed and output_hash (runs of other sets are ignored). A program with no
    clustering run has no row: the caller fills behaviour with None, model_set
    -1 and model_tests_passed 0 (such programs failed the public tests).
    """
    runs = executions[executions["test_set"].isin(list(clustering_sets))]
    out = []
    for problem, mine in runs.groupby("problem", sort=False):
        mine = mine.assign(_input=mine["test_set"].astype(str) + ":" + mine["test_index"].astype(str),
                           _behaviour=_behaviour(mine))
        inputs = sorted(mine["_input"].unique())
        programs = list(mine[key].drop_duplicates())
        at_program = {p: i for i, p in enumerate(programs)}
        at_input = {t: j for j, t in enumerate(inputs)}
        labels = np.full((len(programs), len(inputs)), -1, dtype=np.int64)
        codes = mine.groupby("_input", sort=False)["_behaviour"].transform(lambda s: pd.factorize(s)[0])
        labels[mine[key].map(at_program).to_numpy(), mine["_input"].map(at_input).to_numpy()] = codes.to_numpy()
        wanted = set(model_tests(rows[problem], max_tests)) if problem in rows else set()
        model = mine[(mine["test_set"] == MODEL_TEST_SET) & mine["test_index"].isin(wanted)]
        passed = model[model["passed"].fillna(False).astype(bool)]
        passed_sets = passed.groupby(key, sort=False)["test_index"].agg(lambda s: ",".join(map(str, sorted(s))))
        passed_count = passed.groupby(key, sort=False).size()
        passed_sets = passed_sets.to_dict()
        set_text = pd.Series([passed_sets.get(p, "") for p in programs], dtype=object)
        out.append(pd.DataFrame({
            "problem": problem, key: programs,
            "behaviour": list(labels),
            "model_set": pd.factorize(set_text)[0].astype(np.int64),
            "model_tests_passed": pd.Series(programs).map(passed_count).fillna(0).astype(np.int64).to_numpy(),
        }))
    if not out:
        return pd.DataFrame(columns=["problem", key, *COLUMNS])
    return pd.concat(out, ignore_index=True)


def with_agreement(judged: pd.DataFrame, agreement: pd.DataFrame, program_of: pd.DataFrame | None = None,
                   key: str = "program_hash") -> pd.DataFrame:
    """The judgements with the agreement columns, candidates joined to their program through `program_of`
    (problem, candidate_id, `key`; None: the key is the candidate_id)."""
    table = judged.copy()
    ids = table["candidate_id"].astype(str)
    if program_of is None:
        link = pd.DataFrame({"problem": table["problem"].astype(str), "_cid": ids, key: ids})
    else:
        link = pd.DataFrame({"problem": program_of["problem"].astype(str),
                             "_cid": program_of["candidate_id"].astype(str), key: program_of[key].astype(str)})
    agreement = agreement.assign(problem=agreement["problem"].astype(str), **{key: agreement[key].astype(str)})
    merged = (pd.DataFrame({"problem": table["problem"].astype(str).to_numpy(), "_cid": ids.to_numpy()})
              .merge(link.drop_duplicates(["problem", "_cid"]), on=["problem", "_cid"], how="left")
              .merge(agreement, on=["problem", key], how="left"))
    table["behaviour"] = [v if isinstance(v, np.ndarray) else None for v in merged["behaviour"]]
    table["model_set"] = merged["model_set"].fillna(-1).astype(np.int64).to_numpy()
    table["model_tests_passed"] = merged["model_tests_passed"].fillna(0).astype(np.int64).to_numpy()
    return table


def with_scores(judged: pd.DataFrame, scorer: "str | ModelScorer", code: pd.DataFrame,
                rows: Mapping[str, Mapping[str, Any]] | None = None, *, progress: bool = False,
                calls: list[dict] | None = None) -> pd.DataFrame:
    """The judgements with a `score` column: the scorer's value of each candidate's program (`code`: problem,
    candidate_id, code, and meta and language where there are); a candidate without code scores -inf.

    A scorer is a name (`acodium.policies.SCORERS`) or a `ModelScorer`: the model is asked only about the
    candidates passing the public tests (the others, never submitted, score -inf without a call), each with
    its problem's statement from `rows`; its calls' records are appended to `calls` when given.
    """
    index = pd.MultiIndex.from_arrays([code["problem"].astype(str), code["candidate_id"].astype(str)])
    if isinstance(scorer, ModelScorer):
        if rows is None:
            raise UserError("The model scorer needs the problems, for their statements.")
        at = pd.MultiIndex.from_arrays([judged["problem"].astype(str), judged["candidate_id"].astype(str)])
        passing = set(at[judged["passes_public"].fillna(False).astype(bool).to_numpy()])
        asked = np.array([key in passing and has_code(c) for key, c in zip(index, code["code"])], dtype=bool)
        language = code["language"] if "language" in code.columns else [""] * len(code)
        picked = [(str(p), str(c), str(lang or "")) for p, c, lang, a in
                  zip(code["problem"], code["code"], language, asked) if a]
        made = score_programs(rows, picked, scorer, progress=progress)
        if calls is not None:
            calls.extend(made.records)
        scores = np.full(len(code), -np.inf)
        scores[asked] = made.scores
    else:
        score_of = get_scorer(scorer)
        meta = code["meta"] if "meta" in code.columns else [None] * len(code)
        scores = score_of(list(code["code"]), list(meta))
    values = pd.Series(scores, index=index)
    at = pd.MultiIndex.from_arrays([judged["problem"].astype(str), judged["candidate_id"].astype(str)])
    return judged.assign(score=values[~values.index.duplicated()].reindex(at).fillna(-np.inf).to_numpy())


def selection_columns(judged: pd.DataFrame, policies: Mapping[str, Policy], *, executions_path, programs_path,
                      rows: Mapping[str, Mapping[str, Any]], pool, scorer: "str | ModelScorer" = "length",
                      clustering_sets: Sequence[str] = CLUSTERING_TEST_SETS,
                      max_tests: int | None = None, progress: bool = False,
                      calls: list[dict] | None = None) -> pd.DataFrame:
    """The judgements of a scoring run with the columns its policies need (none: unchanged).

    Reads the run's executions by program (only the clustering sets' rows) and
    which program each candidate is; the scores read the pool's programs again (a model scorer's calls'
    records are appended to `calls`).
    """
    needed = needed_columns(policies)
    if needed & {"behaviour", "model_set", "model_passed"}:
        import pyarrow.parquet as pq

        runs = pq.read_table(executions_path, filters=[("test_set", "in", list(clustering_sets))]).to_pandas() \
            if clustering_sets else pd.DataFrame(columns=["problem", "program_hash", "test_set", "test_index",
                                                           "status", "passed", "output_hash"])
        programs = pq.read_table(programs_path).to_pandas()
        judged = with_agreement(judged, agreement_columns(runs, rows, clustering_sets=clustering_sets,
                                                          max_tests=max_tests), programs)
    if "score" in needed:
        frame = getattr(pool, "frame", None)
        if frame is not None:  # a table in memory: its meta too (a likelihood scorer reads it)
            code = frame[[c for c in ("problem", "candidate_id", "code", "meta", "language") if c in frame.columns]]
        else:
            code = pd.concat([c[[k for k in ("problem", "candidate_id", "code", "language") if k in c.columns]]
                              for c in pool.chunks(rows)], ignore_index=True)
        judged = with_scores(judged, scorer, code, rows, progress=progress, calls=calls)
    return judged


def check_scorer(scorer: "str | ModelScorer") -> None:
    """A scorer's name known, or a model scorer's settings given; refused in one sentence before anything runs."""
    if not isinstance(scorer, ModelScorer):
        get_scorer(scorer)


def write_scorer_calls(calls: Sequence[Mapping[str, Any]], run_dir) -> None:
    """A model scorer's records, one per call, in the run folder (what each call cost and gave)."""
    from pathlib import Path

    from ..tables import SCORER_CALLS_FILE, write_json

    write_json([dict(r) for r in calls], Path(run_dir) / SCORER_CALLS_FILE)
