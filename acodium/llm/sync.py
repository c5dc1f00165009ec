"""Chat from plain code: run a coroutine to its end (also inside Jupyter), and ask one question.

The client is async (create it inside the event loop that uses it); scripts, the
CLI's `gen ask` and notebook cells want one blocking call instead.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any, Awaitable, Mapping, Sequence, TypeVar

from .client import LLMClient
from .results import ChatResult, LLMError

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


def ask_each(settings: Any, prompts: Sequence[list[dict]], params: Mapping[str, Any], *, call: str,
             progress: bool, desc: str, unit: str) -> list[ChatResult | LLMError]:
    """Many prompts, one reply (or its LLMError) each, in order, synchronously: the model-written tests'
    and the model scorer's calls. `settings` is their frozen value (model, base_url, api_key,
    concurrency, cache_path, timeout, max_retries, prices). The server is checked first unless every
    call is cached; at most 4 x concurrency calls wait at once (not 10^3 coroutines)."""
    from ..progress import progress_bar

    async def go() -> list[ChatResult | LLMError]:
        async with LLMClient(settings.model, base_url=settings.base_url, api_key=settings.api_key,
                             concurrency=settings.concurrency, cache_path=settings.cache_path,
                             timeout=settings.timeout, max_retries=settings.max_retries,
                             prices=settings.prices) as llm:
            if not all(llm.is_cached(m, params, call=call) for m in prompts):
                await llm.preflight()  # an unreachable server or a bad key: one sentence, before any call
            bar = progress_bar(progress=progress, total=len(prompts), desc=desc, unit=unit)
            gate = asyncio.Semaphore(max(1, settings.concurrency) * 4)

            async def one(messages):
                async with gate:
                    try:
                        return await llm.chat(messages, call=call, **params)
                    except LLMError as e:
                        return e
                    finally:
                        bar.update(1)

            try:
                return await asyncio.gather(*(one(m) for m in prompts))
            finally:
                bar.close()

    return run_sync(go())
