"""Chat from plain code: run a coroutine to its end (also inside Jupyter), and ask one question.

The client is async (create it inside the event loop that uses it); scripts, the
CLI's `gen ask` and notebook cells want one blocking call instead.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any, Awaitable, Mapping, TypeVar

from .client import LLMClient
from .results import ChatResult

T = TypeVar("T")


def run_sync(coro: Awaitable[T]) -> T:
    """Run a coroutine to its end from plain code, also inside Jupyter (whose loop is running)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target():
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as e:  # re-raised in the caller's thread
            box["error"] = e

    thread = threading.Thread(target=target, name="acodium-llm")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def ask(prompt: str, *, model: str, system: str | None = None, base_url: str | None = None,
        api_key: str | None = None, cache_path: str | os.PathLike | None = None,
        max_retries: int = 5, timeout: float = 120.0,
        prices: Mapping[str, tuple[float, float]] | str | os.PathLike | None = None,
        **params: Any) -> ChatResult:
    """One prompt, one reply, synchronously (`gencode gen ask`, or a notebook cell)."""
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": prompt}
    ]

    async def go() -> ChatResult:
        async with LLMClient(model, base_url=base_url, api_key=api_key, concurrency=1,
                             max_retries=max_retries, timeout=timeout, cache_path=cache_path,
                             prices=prices) as llm:
            if not llm.is_cached(messages, params):
                await llm.preflight()
            return await llm.chat(messages, **params)

    return run_sync(go())
