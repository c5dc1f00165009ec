"""Candidate programs for a problem set, from one of five sources, into the CANDIDATES table.

Sources share one interface (`CandidateSource`): `plan` names the candidates a
source would make for a problem (stable ids, so a resumed run knows what is
done), `make` makes one. The sources:

- `llm`: samples from an OpenAI-compatible server (`acodium.llm`), prompts
  from TOML (`acodium.prompting`), code pulled out of replies (`acodium.extract`);
- `flow`: AlphaCodium's multi-stage flow over the same server (`acodium.flow`):
  one candidate per flow run;
- `human`: the dataset's own correct and incorrect solutions, sampled with a
  seed in a chosen mix;
- `mutants`: program mutants of the reference solutions (`acodium.mutate`);
- `file`: a JSONL or parquet of candidates the user brings.

`generate_candidates` runs a source over problems, k per problem, writing each
candidate to `run_dir/candidates.jsonl` as it arrives (an `AppendLog`); a
re-run skips what the log holds, and the LLM cache answers anything asked
before, so a finished sample is never requested twice.
"""

from __future__ import annotations

import asyncio
import json
import numbers
import os
import random
import sys
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd
from tqdm.auto import tqdm

from .data import Problem, problem_rows
from .errors import UserError
from .languages import RUNNABLE_LANGUAGES
from .extract import detect_language, extract_code
from .llm import LLMClient, LLMError, resolve_api_key, resolve_base_url, run_sync
from .prompting import Diversity, ProblemPrompt, messages_hash
from .tables import (CANDIDATES, CANDIDATES_FILE, CANDIDATES_LOG, ERRORS_LOG, GENERATION_CONFIG_FILE, AppendLog,
                     read_table, require_columns, write_table)

SOURCES = ("llm", "flow", "human", "mutants", "file")


@dataclass
class Candidate:
    """One candidate program; `meta` holds how it was made (model, temperature, tokens, cost, ...)."""

    problem: str
    candidate_id: str
    language: str
    code: str
    source: str
    meta: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """A CANDIDATES row: meta as a JSON string."""
        return {
            "problem": self.problem,
            "candidate_id": self.candidate_id,
            "language": self.language,
            "code": self.code,
            "source": self.source,
            "meta": json.dumps(self.meta, sort_keys=True, ensure_ascii=False),
        }


def _solutions(row: Mapping[str, Any], field_name: str, languages: Sequence[str]) -> list[tuple[int, str, str]]:
    """(index in the dataset, language name, code) of a row's solutions in the given languages."""
    problem = Problem(row)
    pairs = problem.solutions() if field_name == "solutions" else problem.incorrect_solutions()
    return [(j, language, code) for j, (language, code) in enumerate(pairs) if language in languages]


class CandidateSource(ABC):
    """The one interface of candidate sources; see the module doc."""

    name: str = "source"
    workers: int = 1  # candidates made at the same time
    # The problem fields a source reads: only these are taken out of a large
    # datasets.Dataset (a full CodeContests split's tests do not fit in memory as dicts).
    columns: tuple[str, ...] = ("name",)
    # The run folder of the current run (set by the generation loop; None when nothing is
    # written): where a source keeps what it makes besides candidates (the flow's traces).
    run_dir: Path | None = None

    @abstractmethod
    def plan(self, problem: Mapping[str, Any], k: int | None) -> list[str]:
        """The ids of the candidates this source makes for a problem (k of them, or all when None)."""

    @abstractmethod
    async def make(self, problem: Mapping[str, Any], candidate_id: str) -> Candidate:
        """Make one planned candidate."""

    def config(self) -> dict[str, Any]:
        """What determines the candidates (saved in the run folder; a resume must match it)."""
        return {"source": self.name}

    async def start(self, todo: list[tuple[Mapping[str, Any], str]]) -> None:
        """Called once before making `todo`: a place to fail fast (an LLM preflight)."""

    def postfix(self) -> dict[str, Any]:
        """What the progress bar shows beside the count."""
        return {}

    async def aclose(self) -> None:
        """Release connections and files."""


class HumanSource(CandidateSource):
    """The dataset's own solutions: `correct_fraction` of k from `solutions`, the rest from `incorrect_solutions`.

    Sampled without replacement with a per-problem seed; when one pool is short
    the other fills in, and a problem with fewer than k solutions gives fewer.
    Only runnable languages are taken by default (python2 and java cannot run here).
    """

    name = "human"
    columns = ("name", "solutions", "incorrect_solutions")

    def __init__(self, correct_fraction: float = 1.0, seed: int = 0,
                 languages: Sequence[str] = RUNNABLE_LANGUAGES):
        if not 0.0 <= correct_fraction <= 1.0:
            raise UserError("The fraction of correct human solutions must be between 0 and 1.")
        self.correct_fraction = correct_fraction
        self.seed = seed
        self.languages = tuple(languages)

    def config(self) -> dict[str, Any]:
        return {"source": self.name, "correct_fraction": self.correct_fraction, "seed": self.seed,
                "languages": list(self.languages)}

    def plan(self, problem, k):
        correct = [f"human-c{j}" for j, _, _ in _solutions(problem, "solutions", self.languages)]
        incorrect = [f"human-i{j}" for j, _, _ in _solutions(problem, "incorrect_solutions", self.languages)]
        if k is None:
            return correct + incorrect
        rng = random.Random(f"{self.seed}|{problem['name']}")
        rng.shuffle(correct)
        rng.shuffle(incorrect)
        n_correct = min(round(k * self.correct_fraction), len(correct))
        n_incorrect = min(k - n_correct, len(incorrect))
        n_correct = min(k - n_incorrect, len(correct))  # the correct pool fills a short incorrect one
        return correct[:n_correct] + incorrect[:n_incorrect]

    async def make(self, problem, candidate_id):
        label, j = candidate_id.removeprefix("human-")[0], int(candidate_id.removeprefix("human-")[1:])
        field_name = "solutions" if label == "c" else "incorrect_solutions"
        language, code = dict((i, (lang, c)) for i, lang, c in _solutions(problem, field_name, self.languages))[j]
        return Candidate(
            problem=problem["name"], candidate_id=candidate_id, language=language,
            code=code, source=self.name,
            meta={"dataset_field": field_name, "dataset_index": j,
                  "label": "correct" if label == "c" else "incorrect"},
        )


class MutantSource(CandidateSource):
    """Program mutants of the dataset's correct solutions (`acodium.mutate.program_mutants`).

    k mutants per problem, taken from the first reference solution and, when it
    yields fewer, from the next ones; deterministic in the seed and the problem.
    The `source` column says `mutant`, as in `acodium.mutate.mutant_candidates`.
    """

    name = "mutants"
    columns = ("name", "solutions")

    def __init__(self, seed: int = 0, languages: Sequence[str] = ("python3",)):
        self.seed = seed
        self.languages = tuple(languages)
        self._made: dict[tuple[str, int | None], dict[str, Candidate]] = {}
        self._by_id: dict[tuple[str, str], Candidate] = {}

    def config(self) -> dict[str, Any]:
        return {"source": self.name, "seed": self.seed, "languages": list(self.languages)}

    def _mutants(self, problem, k: int | None) -> dict[str, Candidate]:
        from .mutate import program_mutants  # the mutation operators live with evaluation

        key = (problem["name"], k)
        if key in self._made:
            return self._made[key]
        made: dict[str, Candidate] = {}
        want = k if k is not None else 10
        for j, language, code in _solutions(problem, "solutions", self.languages):
            if len(made) >= want:
                break
            # the per-solution seed of acodium.mutate.mutant_candidates: the same mutants either way
            seed = random.Random(f"{self.seed}|{problem['name']}|{j}").randrange(2**32)
            for m, mutant in enumerate(program_mutants(code, want - len(made), seed)):
                cid = f"mutant-{j}-{m}"
                made[cid] = Candidate(
                    problem=problem["name"], candidate_id=cid, language=language, code=mutant.code,
                    source="mutant", meta={"solution_index": j, "mutation": mutant.description},
                )
        self._made[key] = made
        self._by_id.update({(problem["name"], cid): c for cid, c in made.items()})
        return made

    def plan(self, problem, k):
        return list(self._mutants(problem, k))

    async def make(self, problem, candidate_id):
        return self._by_id[(problem["name"], candidate_id)]  # make() only follows plan()


class FileSource(CandidateSource):
    """Candidates the user brings: a JSONL or parquet with at least `problem` and `code`.

    Missing `candidate_id`s become `file-N` (order within the problem), a missing
    `language` is detected from the code, `meta` (dict or JSON string) is kept.
    """

    name = "file"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        df = read_table(self.path)
        require_columns(df, ["problem", "code"], f"candidates file {self.path}")
        self._rows: dict[str, dict[str, dict]] = {}
        for record in df.to_dict("records"):
            per_problem = self._rows.setdefault(str(record["problem"]), {})
            cid = record.get("candidate_id")
            cid = f"file-{len(per_problem)}" if cid is None or (isinstance(cid, float) and pd.isna(cid)) else str(cid)
            if cid in per_problem:
                raise UserError(f"The candidates file {self.path} repeats the id {cid!r} for problem {record['problem']!r}.")
            if not isinstance(record["code"], str):  # null or a number: no program to run, refused before any work
                raise UserError(f"The candidates file {self.path} has no program text in 'code' for {cid!r} of "
                                f"problem {record['problem']!r} (it holds {_kind(record['code'])}).")
            per_problem[cid] = record

    def config(self) -> dict[str, Any]:
        return {"source": self.name, "path": str(self.path.resolve())}

    @property
    def problems(self) -> set[str]:
        return set(self._rows)

    def plan(self, problem, k):
        ids = list(self._rows.get(problem["name"], {}))
        return ids if k is None else ids[:k]

    async def make(self, problem, candidate_id):
        record = self._rows[problem["name"]][candidate_id]
        code = record["code"]
        language = record.get("language")
        if not isinstance(language, str) or not language:
            language = detect_language(code) or "python3"
        meta = record.get("meta")
        if isinstance(meta, str):
            try:
                meta = json.loads(meta) if meta else {}
            except json.JSONDecodeError:
                meta = {"note": meta}
        meta = dict(meta) if isinstance(meta, Mapping) else {}
        meta.setdefault("file", str(self.path))
        if isinstance(record.get("source"), str) and record["source"] != self.name:
            meta.setdefault("original_source", record["source"])
        return Candidate(problem=problem["name"], candidate_id=candidate_id, language=language,
                         code=code, source=self.name, meta=meta)


def _kind(value: Any) -> str:
    """What a value that should have been text is, in words."""
    if value is None or (isinstance(value, float) and value != value):
        return "null"
    if isinstance(value, numbers.Number):
        return f"the number {value}"
    return f"a {type(value).__name__}"


class ChatModelSource(CandidateSource):
    """What the sources that ask a chat model share: the client, its options, the preflight.

    The client is created in `start` (inside the running event loop), which in each
    subclass lists the server's models before any work unless the cache answers the
    first request of everything to make, so an unreachable server or a rejected key
    fails with one sentence instead of k x problems errors. A source may be used
    for several runs: each `start` opens a new client.
    """

    columns = ("name", "description", "public_tests", "cf_tags", "cf_rating")

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        concurrency: int = 8,
        rpm: float | None = None,
        max_retries: int = 5,
        timeout: float = 120.0,
        cache_path: str | os.PathLike | None = None,
        prices: Mapping[str, tuple[float, float]] | str | os.PathLike | None = None,
    ):
        self.client_options = dict(
            model=model, base_url=base_url, api_key=api_key, concurrency=concurrency, rpm=rpm,
            max_retries=max_retries, timeout=timeout, cache_path=cache_path, prices=prices,
        )
        self.workers = concurrency
        self.llm: LLMClient | None = None
        # A missing key fails now, before a run folder or a progress bar exists.
        resolve_api_key(api_key, resolve_base_url(base_url))

    def client_config(self) -> dict[str, Any]:
        """The part of `config` that says which model answered."""
        return {"source": self.name, "model": self.client_options["model"],
                "base_url": resolve_base_url(self.client_options["base_url"])}

    def open_client(self) -> LLMClient:
        self.llm = LLMClient(**self.client_options)
        return self.llm

    def postfix(self):
        return self.llm.usage.postfix() if self.llm is not None else {}

    async def aclose(self):
        if self.llm is not None:
            await self.llm.aclose()


class LLMSource(ChatModelSource):
    """Samples from a chat model: k per problem, each its own cached request (`sample_index`).

    Besides the preflight of `ChatModelSource`, `start` makes the first uncached
    request alone, so an unknown model fails once, not k x problems times.

    `seed` is the server's sampling seed (offset by the sample index, where the
    server honours it); `diversity_seed` draws the random tags and ratings
    (`tags`/`rating` = "random").
    """

    name = "llm"

    def __init__(
        self,
        model: str,
        *,
        prompt: str | os.PathLike = "direct",
        language: str = "python3",
        temperature: float | None = 0.7,
        top_p: float | None = None,
        max_tokens: int | None = None,
        seed: int | None = None,
        tags: str = "true",
        rating: str = "true",
        diversity_seed: int = 0,
        **client_options: Any,
    ):
        self.prompt = ProblemPrompt.load(prompt, language)
        self.diversity = Diversity(tags=tags, rating=rating, seed=diversity_seed)
        self.params = {"temperature": temperature, "top_p": top_p, "max_tokens": max_tokens, "seed": seed}
        self._early: dict[tuple[str, str], Candidate | LLMError] = {}
        super().__init__(model, **client_options)

    def config(self) -> dict[str, Any]:
        return {
            **self.client_config(),
            "prompt": self.prompt.name,
            "prompt_system": self.prompt.system,
            "prompt_user": self.prompt.user,
            "language": self.prompt.language,
            "tags": self.diversity.tags,
            "rating": self.diversity.rating,
            "diversity_seed": self.diversity.seed,
            **{k: v for k, v in self.params.items() if v is not None},
        }

    def plan(self, problem, k):
        if k is None:
            raise UserError("Say how many samples to ask the model for per problem (--k).")
        return [f"llm-{i:04d}" for i in range(k)]

    def request(self, problem, candidate_id) -> tuple[list[dict], int, dict[str, Any], list[str], int | None]:
        """One sample's messages, index and sampling parameters, and the tags and rating it is shown.

        A server-side `seed` is offset by the sample index: k samples with one
        seed would otherwise be k copies of one program.
        """
        index = int(candidate_id.removeprefix("llm-"))
        tags, rating = self.diversity.choose(problem, index)
        params = dict(self.params)
        if params.get("seed") is not None:
            params["seed"] = params["seed"] + index
        return self.prompt.messages(problem, tags, rating), index, params, tags, rating

    async def start(self, todo):
        self.open_client()
        uncached = []
        for problem, cid in todo:
            messages, index, params, _, _ = self.request(problem, cid)
            if not self.llm.is_cached(messages, params, index):
                uncached.append((problem, cid))
                break
        if uncached:
            await self.llm.preflight()
            problem, cid = uncached[0]
            try:
                self._early[(problem["name"], cid)] = await self._make(problem, cid)
            except LLMError as e:  # not fatal: the loop records it with the others
                self._early[(problem["name"], cid)] = e

    async def make(self, problem, candidate_id):
        early = self._early.pop((problem["name"], candidate_id), None)
        if isinstance(early, LLMError):
            raise early
        return early if early is not None else await self._make(problem, candidate_id)

    async def _make(self, problem, candidate_id) -> Candidate:
        if self.llm is None:
            raise RuntimeError("LLMSource.start() must run before make()")
        messages, index, params, tags, rating = self.request(problem, candidate_id)
        result = await self.llm.chat(messages, sample_index=index, **params)
        found = extract_code(result.text, self.prompt.language)
        meta = {
            "model": result.model,
            "served_model": result.served_model,
            "base_url": self.llm.base_url,
            "prompt": self.prompt.name,
            "prompt_hash": messages_hash(messages),
            "target_language": self.prompt.language,
            "tags_shown": tags,
            "rating_shown": rating,
            "sample_index": index,
            **{k: v for k, v in params.items() if v is not None},
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
            "cost": result.cost,
            "cached": result.cached,
            "cache_key": result.cache_key,
            "finish_reason": result.finish_reason,
            "extraction": found.reason,
            "fenced_blocks": found.blocks,
        }
        if not found.code:
            meta["reply"] = result.text  # kept to see why nothing was found
        return Candidate(problem=problem["name"], candidate_id=candidate_id,
                         language=found.language or self.prompt.language, code=found.code,
                         source=self.name, meta=meta)


def make_source(name: str, **options: Any) -> CandidateSource:
    """A source by name (`llm`, `flow`, `human`, `mutants`, `file`) with its options."""
    if name == "llm":
        return LLMSource(**options)
    if name == "flow":
        from .flow import FlowSource  # the AlphaCodium flow: LLM calls, executions, traces

        return FlowSource(**options)
    if name == "human":
        return HumanSource(**options)
    if name == "mutants":
        return MutantSource(**options)
    if name == "file":
        if not options.get("path"):
            raise UserError("The file source needs the path of a JSONL or parquet of candidates (--candidates_file).")
        return FileSource(**options)
    raise UserError(f"Unknown candidate source {name!r}: use one of {', '.join(SOURCES)}.")


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
    planned = [(row, cid) for row in rows for cid in source.plan(row, k)]
    todo = [(row, cid) for row, cid in planned if (row["name"], cid) not in done]
    made: list[dict] = []
    failures: list[dict] = []
    bar = tqdm(total=len(planned), initial=len(planned) - len(todo), desc=f"generate ({source.name})",
               unit="cand", disable=not progress, dynamic_ncols=True)
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
    if run_dir is not None:
        write_table(table, run_dir / CANDIDATES_FILE)
    if failures:
        tqdm.write(
            f"acodium: {len(failures)} of {len(planned)} candidates failed ({failures[0]['error']}); "
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
    run_dir/generation_errors.jsonl, and asked for again by the next run.
    """
    return run_sync(agenerate_candidates(problems, source, k, run_dir=run_dir, progress=progress))
