"""Direct sampling from a chat model: the `llm` source, one request per candidate.

Prompts come from TOML (`acodium.prompting`), the program is pulled out of the
reply (`acodium.extract`), and each sample is its own cached request (its sample
index is part of the cache key), so k samples are k independent draws and a
re-run asks nothing.
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import UserError
from ..extract import extract_code
from ..llm import LLMError
from ..prompting import Diversity, ProblemPrompt, messages_hash
from .base import Candidate, ChatModelSource


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
            "endpoint": result.endpoint,  # the server of a pool that answered (None: from the cache)
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
