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
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import os
import sqlite3
import threading
import time
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Awaitable, Mapping, TypeVar

import openai

from .errors import UserError

DEFAULT_BASE_URL = "https://api.openai.com/v1"

# USD per million tokens (input, output), list prices of the OpenAI API.
# Extend or override with `prices=` (a dict like this, or a TOML file of
# `[models."name"] input = ... output = ...`). A model is matched by its exact
# name, else by the longest listed prefix ("gpt-4o-2024-08-06" -> "gpt-4o").
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "o1": (15.00, 60.00),
    "o1-mini": (1.10, 4.40),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
}


class LLMError(Exception):
    """One call failed after the client's retries (timeout, 5xx, malformed body, a dropped connection).

    Not the user's fault and not fatal to a run: the sample is left undone (and
    uncached) so that a re-run asks for it again.
    """


def load_prices(path: str | os.PathLike) -> dict[str, tuple[float, float]]:
    """Read a price table from TOML: `[models."name"]` with `input` and `output` USD per 1M tokens."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        raise UserError(f"No price table at {path}.") from None
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"The price table {path} is not valid TOML: {e}.") from None
    except UnicodeDecodeError as e:
        raise UserError(f"The price table {path} is not UTF-8 text (byte {e.object[e.start]:#04x} "
                        f"at position {e.start}).") from None
    table = doc.get("models", doc)
    prices = {}
    for name, entry in table.items():
        try:
            prices[name] = (float(entry["input"]), float(entry["output"]))
        except (TypeError, KeyError, ValueError):
            raise UserError(
                f"The price of {name!r} in {path} needs numeric 'input' and 'output' (USD per 1M tokens)."
            ) from None
    return prices


def price_for(model: str, prices: Mapping[str, tuple[float, float]]) -> tuple[float, float] | None:
    """The (input, output) price of a model: exact name, else the longest matching prefix."""
    if model in prices:
        return prices[model]
    matches = [name for name in prices if model.startswith(name)]
    return prices[max(matches, key=len)] if matches else None


def cost_of(model: str, prompt_tokens: int, completion_tokens: int,
            prices: Mapping[str, tuple[float, float]]) -> float | None:
    """USD cost of one call, or None when the model has no price."""
    price = price_for(model, prices)
    if price is None:
        return None
    return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1e6


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


# What the cache keeps of a reply (the rest describes this call, not the reply).
_STORED_FIELDS = ("text", "finish_reason", "model", "served_model", "prompt_tokens", "completion_tokens", "cost")


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
            "cost": f"${self.cost:.4f}" + ("+?" if self.unpriced_calls else ""),
            "cached": self.cache_hits,
        }
        if self.failures:
            out["failed"] = self.failures
        return out


def cache_key(base_url: str, model: str, messages: list[dict], params: Mapping[str, Any],
              sample_index: int, call: str = "") -> str:
    """The identity of a reply: everything that determines it, hashed.

    `call` names one call of a multi-call strategy (the AlphaCodium flow asks the
    same prompt again for a new attempt): part of the key, never sent.
    """
    identity = {
        "base_url": base_url.rstrip("/"),
        "model": model,
        "messages": messages,
        "params": dict(params),
        "sample_index": sample_index,
    }
    if call:  # absent otherwise, so keys made before `call` existed stay valid
        identity["call"] = call
    blob = json.dumps(
        identity,
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    """Replies on disk (sqlite, WAL): several processes and sweeps may share one file.

    A damaged entry (not a JSON reply) is a miss, asked again and replaced; a file
    sqlite cannot use (not a database, malformed, unwritable) is a UserError naming
    it, since every later call would fail the same way.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UserError(f"Cannot create the folder of the LLM response cache {self.path}: {e.strerror}; "
                            "set ACODIUM_CACHE elsewhere, or run without the cache (--no_cache).") from None
        self._lock = threading.Lock()
        with self._sqlite():
            self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            with self._lock, self._db:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS replies ("
                    " key TEXT PRIMARY KEY, request TEXT NOT NULL, reply TEXT NOT NULL, created REAL NOT NULL)"
                )

    @contextlib.contextmanager
    def _sqlite(self):
        """sqlite's errors as one sentence naming the file and what to do."""
        try:
            yield
        except sqlite3.OperationalError as e:  # locked, read-only, disk full: the file may be sound
            raise UserError(f"Cannot use the LLM response cache {self.path} ({e}); free the disk or fix its "
                            "permissions, or run without the cache (--no_cache).") from None
        except sqlite3.DatabaseError as e:  # not a database, malformed pages
            raise UserError(f"The LLM response cache {self.path} is damaged ({e}); delete it (its replies will "
                            "be asked again), or run without the cache (--no_cache).") from None

    def get(self, key: str) -> dict | None:
        """The stored reply, or None when there is none or it is damaged (then it is asked again)."""
        with self._sqlite(), self._lock:
            row = self._db.execute("SELECT reply FROM replies WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            reply = json.loads(row[0])
        except (TypeError, ValueError):  # torn or foreign bytes (JSONDecodeError, UnicodeDecodeError)
            return None
        return reply if _sound_reply(reply) else None

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def put(self, key: str, request: dict, reply: dict) -> None:
        with self._sqlite(), self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO replies (key, request, reply, created) VALUES (?, ?, ?, ?)",
                (key, json.dumps(request, ensure_ascii=False, default=str),
                 json.dumps(reply, ensure_ascii=False), time.time()),
            )

    def __len__(self) -> int:
        with self._sqlite(), self._lock:
            return self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _sound_reply(reply: Any) -> bool:
    """Whether a stored reply has the fields a ChatResult needs, of the right types."""
    return (isinstance(reply, dict) and isinstance(reply.get("text"), str)
            and all(isinstance(reply.get(k), int) and not isinstance(reply.get(k), bool)
                    for k in ("prompt_tokens", "completion_tokens"))
            and all(reply.get(k) is None or isinstance(reply.get(k), str)
                    for k in ("finish_reason", "model", "served_model"))
            and (reply.get("cost") is None or isinstance(reply.get("cost"), (int, float))))


class RatePacer:
    """At most `rpm` request starts per minute, spaced evenly (no bursts to trip a server's limit)."""

    def __init__(self, rpm: float | None):
        if rpm is not None and rpm <= 0:
            raise UserError("The requests-per-minute limit must be a positive number.")
        self.interval = 60.0 / rpm if rpm else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)


def resolve_base_url(base_url: str | None) -> str:
    """The server to talk to: the parameter, else $OPENAI_BASE_URL, else OpenAI's API (read now)."""
    return (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")


def resolve_api_key(api_key: str | None, base_url: str) -> str:
    """The key: the parameter, else $OPENAI_API_KEY (read now); none is a UserError."""
    key = api_key or os.environ.get("OPENAI_API_KEY")
    if not key:
        raise UserError(
            f"No API key for {base_url}: set OPENAI_API_KEY or pass --api_key "
            "(any non-empty string for a local server that does not check keys)."
        )
    return key


class LLMClient:
    """Chat completions from one model on one server, paced, bounded, priced and cached.

    `cache_path=None` disables the disk cache. `prices` extends DEFAULT_PRICES
    (a dict, or the path of a TOML price table).
    """

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
        if not model:
            raise UserError("Name the model to ask (--model).")
        if concurrency < 1:
            raise UserError("Concurrency must be at least 1.")
        if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0):
            raise UserError(f"The timeout of a request must be a finite number of seconds above 0, not {timeout!r}.")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise UserError(f"The retries of a request must be a whole number of at least 0, not {max_retries!r}.")
        self.model = model
        self.base_url = resolve_base_url(base_url)
        api_key = resolve_api_key(api_key, self.base_url)
        self.prices = dict(DEFAULT_PRICES)
        if isinstance(prices, (str, os.PathLike)):
            self.prices.update(load_prices(prices))
        elif prices:
            self.prices.update({k: tuple(v) for k, v in prices.items()})
        self.concurrency = concurrency
        self.usage = Usage()
        self.cache = ResponseCache(cache_path) if cache_path is not None else None
        self._client = openai.AsyncOpenAI(
            base_url=self.base_url, api_key=api_key, max_retries=max_retries, timeout=timeout
        )
        self._semaphore = asyncio.Semaphore(concurrency)
        self._pacer = RatePacer(rpm)

    # ---- keys and cache -------------------------------------------------

    def key(self, messages: list[dict], params: Mapping[str, Any], sample_index: int = 0, call: str = "") -> str:
        return cache_key(self.base_url, self.model, messages, _clean(params), sample_index, call)

    def is_cached(self, messages: list[dict], params: Mapping[str, Any], sample_index: int = 0,
                  call: str = "") -> bool:
        """Whether this call would be answered from the cache (no request)."""
        return self.cache is not None and self.key(messages, params, sample_index, call) in self.cache

    # ---- calls ------------------------------------------------------------

    async def preflight(self) -> None:
        """A cheap request (list the models) so that a bad base_url or key fails before any work.

        The one place that decides the server cannot be used: every failure here is a
        UserError. A call that fails later is an LLMError, recorded with the others.
        """
        try:
            await self._client.with_options(max_retries=1).models.list()
        except openai.NotFoundError:
            return  # a server without /models; the first chat request will tell
        except openai.APIError as e:
            fatal = self._fatal(e) or self._unreachable(e)
            if fatal is not None:
                raise fatal from None
            raise UserError(f"The LLM server at {self.base_url} failed the check made before any work, "
                            f"listing its models ({_describe(e).rstrip('.')}).") from None

    async def _still_reachable(self) -> None:
        """After a connection broke mid-call: the preflight's question again, fatal only when
        the server cannot be reached at all (a server that answers makes it one failed call)."""
        try:
            await self._client.with_options(max_retries=1).models.list()
        except openai.APIError as e:
            fatal = self._unreachable(e)
            if fatal is not None:
                raise fatal from None

    async def chat(
        self,
        messages: list[dict],
        *,
        sample_index: int = 0,
        call: str = "",
        **params: Any,
    ) -> ChatResult:
        """One chat completion: from the cache when this exact call was made before.

        `params` are the sampling parameters passed to `chat.completions.create`
        (temperature, top_p, max_tokens, seed, stop, response_format, extra_body,
        ...): all of them, and `sample_index`, are part of the cache key, so k
        samples at temperature > 0 are k different keys. `call` tells apart calls
        with the same messages within one sample (see `cache_key`).
        """
        params = _clean(params)
        key = cache_key(self.base_url, self.model, messages, params, sample_index, call)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self.usage.cache_hits += 1
                stored = {k: hit.get(k) for k in _STORED_FIELDS}
                return ChatResult(**stored, cached=True, cache_key=key, latency_s=0.0)
        async with self._semaphore:
            await self._pacer.wait()
            started = time.monotonic()
            self.usage.requests += 1
            try:
                response = await self._client.chat.completions.create(
                    model=self.model, messages=messages, **params
                )
                text, finish_reason, served, prompt_tokens, completion_tokens = _read_reply(response)
            except openai.APIError as e:
                self.usage.failures += 1
                fatal = self._fatal(e)
                if fatal is not None:
                    raise fatal from None
                if self._unreachable(e) is not None:  # a dropped or reset connection
                    await self._still_reachable()
                    raise LLMError(f"The connection to {self.base_url} broke during the reply "
                                   f"({_root_cause(e)}).") from None
                raise LLMError(_describe(e)) from None
            except (ValueError, TypeError, AttributeError, KeyError, IndexError) as e:
                self.usage.failures += 1
                raise LLMError(f"The server at {self.base_url} sent a malformed reply ({e}).") from None
            latency = time.monotonic() - started
        cost = cost_of(self.model, prompt_tokens, completion_tokens, self.prices)
        self.usage.prompt_tokens += prompt_tokens
        self.usage.completion_tokens += completion_tokens
        if cost is None:
            self.usage.unpriced_calls += 1
        else:
            self.usage.cost += cost
        result = ChatResult(
            text=text, finish_reason=finish_reason, model=self.model, served_model=served,
            prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, cost=cost,
            cached=False, cache_key=key, latency_s=latency,
        )
        if self.cache is not None:
            stored = {k: v for k, v in asdict(result).items() if k in _STORED_FIELDS}
            self.cache.put(
                key,
                {"base_url": self.base_url, "model": self.model, "messages": messages,
                 "params": params, "sample_index": sample_index, "call": call},
                stored,
            )
        return result

    def _unreachable(self, e: openai.APIError) -> UserError | None:
        """A connection error (not a timeout) as the sentence that says the server cannot be reached."""
        if isinstance(e, openai.APIConnectionError) and not isinstance(e, openai.APITimeoutError):
            return UserError(f"Cannot reach the LLM server at {self.base_url} ({_root_cause(e)}).")
        return None

    def _fatal(self, e: openai.APIError) -> UserError | None:
        """The replies that no retry will fix (a rejected key, an unknown model) as one sentence."""
        if isinstance(e, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return UserError(
                f"The server at {self.base_url} rejected the API key (HTTP {e.status_code}): {_server_message(e)}."
            )
        if isinstance(e, openai.NotFoundError):
            return UserError(
                f"The server at {self.base_url} does not know the model {self.model!r} (HTTP 404): "
                f"{_server_message(e)}."
            )
        return None

    async def aclose(self) -> None:
        await self._client.close()
        if self.cache is not None:
            self.cache.close()

    async def __aenter__(self) -> "LLMClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()


def _clean(params: Mapping[str, Any]) -> dict[str, Any]:
    """Drop unset parameters so that `temperature=None` and no temperature are one key."""
    return {k: v for k, v in params.items() if v is not None}


def _read_reply(response: Any) -> tuple[str, str | None, str | None, int, int]:
    """Text, finish reason, served model and token counts; a TypeError/AttributeError when malformed."""
    if isinstance(response, (str, bytes)) or not getattr(response, "choices", None):
        raise ValueError("no choices in the reply")
    choice = response.choices[0]
    message = choice.message
    text = message.content if message is not None else None
    if text is not None and not isinstance(text, str):
        raise TypeError("the message content is not text")
    usage = getattr(response, "usage", None)
    prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
    completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
    return text or "", choice.finish_reason, getattr(response, "model", None), prompt_tokens, completion_tokens


def _root_cause(e: BaseException) -> str:
    while e.__cause__ is not None:
        e = e.__cause__
    return str(e) or type(e).__name__


def _server_message(e: openai.APIStatusError) -> str:
    body = e.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"]).rstrip(".")
        if isinstance(inner, str):
            return inner.rstrip(".")
    return str(e.message).rstrip(".")


def _describe(e: openai.APIError) -> str:
    if isinstance(e, openai.APITimeoutError):
        return "The request timed out after the client's retries."
    if isinstance(e, openai.APIStatusError):
        return f"HTTP {e.status_code} after the client's retries: {_server_message(e)}."
    return f"{type(e).__name__}: {e}"


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
