"""What every candidate source is: the `Candidate` it makes and the `CandidateSource` interface.

Each source (one module each beside this one) plans stable candidate ids for a
problem and makes them one at a time; the generation loop (`loop.py`) needs
nothing else from it. `ChatModelSource` holds what the two sources that ask a
chat model share (the direct sampler and the AlphaCodium flow): the client's
options, the usage shown on the progress bar, closing the connection.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..llm import LLMClient, resolve_api_key, resolve_base_url, resolve_base_urls


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


class CandidateSource(ABC):
    """The one interface of candidate sources.

    `plan` names the candidates a source would make for a problem (stable ids,
    so a resumed run knows what is done), `make` makes one.
    """

    name: str = "source"
    workers: int = 1  # candidates made at the same time
    # The problem fields a source reads: only these are taken out of a large
    # datasets.Dataset (a full CodeContests split's tests do not fit in memory as dicts).
    columns: tuple[str, ...] = ("name",)
    # The run folder of the current run (set by the generation loop; None when nothing is
    # written): where a source keeps what it makes besides candidates (the flow's traces).
    run_dir: Path | None = None

    def prepare(self, problems: list[Mapping[str, Any]], k: int | None) -> None:
        """Called once with every problem before any `plan`: work done for all problems at once
        (the synthetic source runs its programs here, one batch for the whole set)."""

    @abstractmethod
    def plan(self, problem: Mapping[str, Any], k: int | None) -> list[str]:
        """The ids of the candidates this source makes for a problem (k of them, or all when None)."""

    @abstractmethod
    async def make(self, problem: Mapping[str, Any], candidate_id: str) -> Candidate:
        """Make one planned candidate."""

    def config(self) -> dict[str, Any]:
        """What determines the candidates (saved in the run folder; a resume must match it)."""
        return {"source": self.name}

    def why_fewer(self, problem: Mapping[str, Any], k: int, planned: list[str]) -> str:
        """Why `plan` named fewer than k candidates for a problem (the loop says so per problem)."""
        return f"the {self.name} source has no more for it"

    async def start(self, todo: list[tuple[Mapping[str, Any], str]]) -> None:
        """Called once before making `todo`: a place to fail fast (an LLM preflight)."""

    def postfix(self) -> dict[str, Any]:
        """What the progress bar shows beside the count."""
        return {}

    async def aclose(self) -> None:
        """Release connections and files."""


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
        self.workers = concurrency * len(resolve_base_urls(base_url))  # `concurrency` per server of a pool
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
