"""What one call gives back (`ChatResult`), what a client spent (`Usage`), and how a call fails (`LLMError`).

Kept apart from the client so that code reading replies (the AlphaCodium flow's
traces, spend reports) names these types without reaching into the HTTP client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..wording import cost_text


class LLMError(Exception):
    """One call failed after the client's retries (timeout, 5xx, malformed body, a dropped connection).

    Not the user's fault and not fatal to a run: the sample is left undone (and
    uncached) so that a re-run asks for it again.
    """


@dataclass
class ChatResult:
    """One reply: its text, what it cost, and whether it came from the cache."""

    text: str
    finish_reason: str | None
    model: str  # the model asked for (the cache key's)
    served_model: str | None  # the model the server says answered
    prompt_tokens: int
    completion_tokens: int
    cost: float | None  # USD when the call was made; None when the model has no price
    cached: bool
    cache_key: str
    latency_s: float
    endpoint: str | None = None  # the server that answered (one of a pool's); None from the cache


@dataclass
class Usage:
    """What a client spent in this process: requests made, cache hits, tokens, dollars."""

    requests: int = 0
    cache_hits: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    unpriced_calls: int = 0

    def postfix(self) -> dict[str, Any]:
        """The short summary a tqdm bar shows."""
        out = {
            "tok": self.prompt_tokens + self.completion_tokens,
            "cost": cost_text(self.cost, self.unpriced_calls),
            "cached": self.cache_hits,
        }
        if self.failures:
            out["failed"] = self.failures
        return out
