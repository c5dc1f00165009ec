"""The generation loop: a source run over problems, k candidates each, resumable.

`generate_candidates` writes each candidate to `run_dir/candidates.jsonl` as it
arrives (an `AppendLog`); a re-run skips what the log holds, and the LLM cache
answers anything asked before, so a finished sample is never requested twice.
A run folder belongs to one source configuration (`generation.json`): resuming
it with other settings is refused rather than mixing candidates.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd
from tqdm.auto import tqdm  # tqdm.write

from ..data import problem_rows
from ..errors import UserError
from ..llm import LLMError, run_sync
from ..progress import progress_bar
from ..tables import (CANDIDATES, CANDIDATES_FILE, CANDIDATES_LOG, ERRORS_LOG, GENERATION_CONFIG_FILE, AppendLog,
                      write_table)
from ..wording import plural
from .base import CandidateSource


def _saved_config(run_dir: Path, config: dict[str, Any]) -> bool:
    """Whether the run folder already holds these settings; other settings are a UserError.

    A run folder belongs to one configuration: resuming it with another would mix candidates.
    """
    path = run_dir / GENERATION_CONFIG_FILE
    if not path.exists():
        return False
    try:
        saved = json.loads(path.read_text())
    except json.JSONDecodeError:
        return False
    config = json.loads(json.dumps(config, default=str))
    if saved != config:
        differ = sorted(k for k in set(saved) | set(config) if saved.get(k) != config.get(k))
        raise UserError(
            f"The run folder {run_dir} was generated with other settings ({', '.join(differ)}); "
            "use a new folder or the same settings."
        )
    return True


MAX_FEWER_LINES = 20  # problems listed by name in the note on short plans; the rest are counted


def fewer_note(source: CandidateSource, rows: list[Mapping[str, Any]], plans: Mapping[str, list[str]],
               k: int) -> str:
    """What a source that plans fewer than k candidates says: a line per problem it is short for, and why."""
    short = [row for row in rows if len(plans[row["name"]]) < k]
    lines = [f"acodium: the {source.name} source makes fewer than k={k} candidates for {len(short)} of "
             f"{plural(len(rows), 'problem')}:"]
    for row in short[:MAX_FEWER_LINES]:
        lines.append(f"  {row['name']}: {len(plans[row['name']])} of {k}, "
                     f"{source.why_fewer(row, k, plans[row['name']])}")
    if len(short) > MAX_FEWER_LINES:
        lines.append(f"  and {plural(len(short) - MAX_FEWER_LINES, 'more problem')}")
    return "\n".join(lines)


async def agenerate_candidates(
    problems: Iterable[Mapping[str, Any]],
    source: CandidateSource,
    k: int | None,
    *,
    run_dir: str | os.PathLike | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """The async body of `generate_candidates` (call it from code that already runs a loop)."""
    rows = list(problem_rows(problems, source.columns).values())
    run_dir = Path(run_dir) if run_dir is not None else None
    log = errors = None
    done: set[tuple] = set()
    if run_dir is not None:
        config_saved = _saved_config(run_dir, source.config())
        if (run_dir / CANDIDATES_LOG).exists():
            done = AppendLog(run_dir / CANDIDATES_LOG).keys("problem", "candidate_id")
    source.prepare(rows, k)
    plans = {row["name"]: source.plan(row, k) for row in rows}
    planned = [(row, cid) for row in rows for cid in plans[row["name"]]]
    todo = [(row, cid) for row, cid in planned if (row["name"], cid) not in done]
    fewer = {row["name"]: len(plans[row["name"]]) for row in rows if k is not None and len(plans[row["name"]]) < k}
    if fewer:
        tqdm.write(fewer_note(source, rows, plans, k), file=sys.stderr)
    made: list[dict] = []
    failures: list[dict] = []
    if len(todo) < len(planned):  # what a resumed run skips, said once
        tqdm.write(f"acodium: resumed {run_dir}: {len(planned) - len(todo)} of {plural(len(planned), 'candidate')} "
                   f"were made before ({CANDIDATES_LOG}) and are not asked again; "
                   + (f"making the other {len(todo)}." if todo else "nothing left to make."), file=sys.stderr)
    bar = progress_bar(total=len(planned), initial=len(planned) - len(todo), desc=f"generate ({source.name})",
                       unit="cand", progress=progress and bool(todo), dynamic_ncols=True)
    try:
        source.run_dir = run_dir
        if todo:
            await source.start(todo)  # fails fast (bad server, key, model) before anything is written
        if run_dir is not None:
            if not config_saved:
                run_dir.mkdir(parents=True, exist_ok=True)
                (run_dir / GENERATION_CONFIG_FILE).write_text(json.dumps(source.config(), indent=2, sort_keys=True, default=str))
            log = AppendLog(run_dir / CANDIDATES_LOG)
            errors = AppendLog(run_dir / ERRORS_LOG)
        pending = iter(todo)

        async def worker() -> None:
            for row, cid in pending:
                try:
                    candidate = await source.make(row, cid)
                except LLMError as e:
                    failure = {"problem": row["name"], "candidate_id": cid, "error": str(e), "time": time.time()}
                    failures.append(failure)
                    if errors is not None:
                        errors.append([failure])
                else:
                    record = candidate.row()
                    made.append(record)
                    if log is not None:
                        log.append([record])
                bar.update(1)
                postfix = source.postfix()
                if postfix:
                    bar.set_postfix(postfix, refresh=False)

        tasks = [asyncio.create_task(worker()) for _ in range(max(1, min(source.workers, len(todo))))]
        try:
            finished, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in finished:
                if task.exception() is not None:
                    raise task.exception()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        bar.close()
        await source.aclose()
        if log is not None:
            log.close()
            errors.close()

    if run_dir is not None:
        by_key = {(r["problem"], r["candidate_id"]): r for r in AppendLog(run_dir / CANDIDATES_LOG).rows()}
    else:
        by_key = {(r["problem"], r["candidate_id"]): r for r in made}
    table = pd.DataFrame(
        [by_key[(row["name"], cid)] for row, cid in planned if (row["name"], cid) in by_key],
        columns=CANDIDATES,
    )
    table.attrs["failures"] = failures
    table.attrs["fewer"] = fewer  # problem -> candidates planned, where fewer than k
    table.attrs["resumed"] = len(planned) - len(todo)  # candidates a run folder already held
    if run_dir is not None:
        write_table(table, run_dir / CANDIDATES_FILE)
    if failures:
        tqdm.write(
            f"acodium: {len(failures)} of {plural(len(planned), 'candidate')} failed ({failures[0]['error']}); "
            "run again to retry them.",
            file=sys.stderr,
        )
    return table


def generate_candidates(
    problems: Iterable[Mapping[str, Any]],
    source: CandidateSource,
    k: int | None,
    *,
    run_dir: str | os.PathLike | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """k candidates per problem from `source`, as the CANDIDATES table.

    With `run_dir`, each candidate is appended to run_dir/candidates.jsonl as it
    arrives and the whole table is saved as run_dir/candidates.parquet at the
    end; a re-run skips what is there. Candidates that failed (an LLM error
    after retries) are left out, listed in `table.attrs["failures"]` and
    run_dir/generation_errors.jsonl, and asked for again by the next run. A source
    that has fewer than k for a problem (the human source's solutions, a file) makes
    fewer and says so on stderr, a line per problem (`table.attrs["fewer"]`);
    `table.attrs["resumed"]` counts the candidates a run folder already held.
    """
    return run_sync(agenerate_candidates(problems, source, k, run_dir=run_dir, progress=progress))
