"""An async client for any OpenAI-compatible chat server, with a response cache.

Sampling thousands of programs is slow and costs money, so every reply is kept
in an on-disk cache (sqlite) keyed by everything that determines it: base_url,
model, messages, every sampling parameter and the sample index. An interrupted
sweep resumes without paying twice and a notebook re-run gives the same
candidates. Errors are never cached: a re-run asks again.

Retries and timeouts are the `openai` client's own (`max_retries`, `timeout`;
429s honour the server's retry-after). Above it: a bound on concurrent requests
(`asyncio.Semaphore`), a requests-per-minute pace, and tokens and cost per call
from a price table the user can extend (`prices=` dict or a TOML file).

`LLMClient.chat(messages, ...)` is the one call the generation loop and the
AlphaCodium flow share. Create the client inside the event loop that uses it
(`async with LLMClient(...) as llm:`); `run_sync` runs a coroutine from plain
code or from a notebook whose loop is already running.

The rooms: `client` (LLMClient, pacing, failures sorted), `endpoints` (several
servers for one model: which takes the next request, a failing one resting),
`cache` (the reply cache and its key), `prices` (price tables, cost of a call),
`config` (server and key from parameters or the environment), `results`
(ChatResult, Usage, LLMError), `sync` (run_sync, ask), `check` (key, server and
model, checked before any work: `check_model`).
"""

from __future__ import annotations

from .cache import ResponseCache, cache_key
from .check import check_model
from .client import LLMClient, LLMServerWarning, RatePacer
from .config import DEFAULT_BASE_URL, resolve_api_key, resolve_base_url, resolve_base_urls
from .endpoints import POOL_IDENTITY
from .prices import DEFAULT_PRICES, cost_of, load_prices, price_for, price_table
from .results import ChatResult, LLMError, Usage
from .sync import ask, run_sync

__all__ = [
    "ChatResult", "DEFAULT_BASE_URL", "DEFAULT_PRICES", "LLMClient", "LLMError", "LLMServerWarning",
    "POOL_IDENTITY", "RatePacer", "ResponseCache", "Usage", "ask", "cache_key", "check_model", "cost_of",
    "load_prices", "price_for", "price_table", "resolve_api_key", "resolve_base_url", "resolve_base_urls", "run_sync",
]
