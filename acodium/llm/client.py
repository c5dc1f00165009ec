"""The chat client: one model on one OpenAI-compatible server, paced, bounded, priced and cached.

Retries and timeouts are the `openai` client's own (`max_retries`, `timeout`;
429s honour the server's retry-after). Above it: a bound on concurrent requests
(`asyncio.Semaphore`), a requests-per-minute pace (`RatePacer`), tokens and cost
per call (`prices`), and the reply cache (`cache`). Failures are sorted here:
what no retry fixes (a rejected key, an unknown model, an unreachable server) is
a UserError; one failed call is an LLMError, recorded and asked again next run.

`openai` is imported at module level, as before the split: importing
`acodium.llm` (and so the generate stage) pays its start-up cost once.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
import warnings
from dataclasses import asdict
from typing import Any, Mapping

import openai

from ..errors import UserError
from .cache import STORED_FIELDS, ResponseCache, cache_key
from .config import resolve_api_key, resolve_base_urls
from .endpoints import Endpoint, EndpointPool, server_identity
from .prices import cost_of, price_table
from .results import ChatResult, LLMError, Usage


class LLMServerWarning(UserWarning):
    """A server of a pool cannot be used now; the others take its requests."""


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
        urls = resolve_base_urls(base_url)
        self.base_url = server_identity(urls)  # one server's URL, or a pool's identity (endpoints.py)
        api_key = resolve_api_key(api_key, ", ".join(urls))
        self.prices = price_table(prices)
        self.concurrency = concurrency
        self.usage = Usage()
        self.cache = ResponseCache(cache_path) if cache_path is not None else None
        self.pool: EndpointPool | None = None
        if len(urls) == 1:
            self._client = openai.AsyncOpenAI(
                base_url=self.base_url, api_key=api_key, max_retries=max_retries, timeout=timeout
            )
            self._semaphore = asyncio.Semaphore(concurrency)
            self._pacer = RatePacer(rpm)
        else:  # a pool: `concurrency` and `rpm` per server; a failing server's request goes to another
            self.pool = EndpointPool([
                Endpoint(url, openai.AsyncOpenAI(base_url=url, api_key=api_key, max_retries=0, timeout=timeout),
                         asyncio.Semaphore(concurrency), RatePacer(rpm), concurrency) for url in urls],
                attempts=max(len(urls), max_retries + 1))  # the retries are the pool's: on another server

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
        A pool's server that fails it rests (its requests go to the others, with a
        warning); all of them failing is the UserError.
        """
        if self.pool is None:
            return await self._check(self._client, self.base_url)
        endpoints = self.pool.endpoints
        said = await asyncio.gather(*(self._check(e.client, e.url) for e in endpoints), return_exceptions=True)
        failed = [(e, why) for e, why in zip(endpoints, said) if isinstance(why, BaseException)]
        for e, why in failed:
            if not isinstance(why, UserError):
                raise why
        if len(failed) == len(endpoints):
            raise UserError(f"None of the {len(endpoints)} LLM servers can be used: "
                            + "; ".join(f"{str(why).rstrip('.')}" for _, why in failed) + ".")
        for e, why in failed:
            self.pool.failed(e, str(why))
            warnings.warn(f"{str(why).rstrip('.')}: the other servers take its requests.", LLMServerWarning,
                          stacklevel=2)

    async def _check(self, client: openai.AsyncOpenAI, url: str) -> None:
        """One server's models listed, or the UserError that says why it cannot be used."""
        try:
            await client.with_options(max_retries=1).models.list()
        except openai.NotFoundError:
            return  # a server without /models; the first chat request will tell
        except openai.APIError as e:
            fatal = self._fatal(e, url) or self._unreachable(e, url)
            if fatal is not None:
                raise fatal from None
            raise UserError(f"The LLM server at {url} failed the check made before any work, "
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
                stored = {k: hit.get(k) for k in STORED_FIELDS}
                return ChatResult(**stored, cached=True, cache_key=key, latency_s=0.0)
        if self.pool is not None:
            (text, finish_reason, served, prompt_tokens, completion_tokens), endpoint, latency = \
                await self._pool_chat(messages, params)
        else:
            (text, finish_reason, served, prompt_tokens, completion_tokens), latency = \
                await self._server_chat(messages, params)
            endpoint = self.base_url
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
            cached=False, cache_key=key, latency_s=latency, endpoint=endpoint,
        )
        if self.cache is not None:
            stored = {k: v for k, v in asdict(result).items() if k in STORED_FIELDS}
            self.cache.put(
                key,
                {"base_url": self.base_url, "model": self.model, "messages": messages,
                 "params": params, "sample_index": sample_index, "call": call},
                stored,
            )
        return result

    async def _server_chat(self, messages: list[dict], params: dict) -> tuple[tuple, float]:
        """One request to the one server: (the reply's fields, latency); failures sorted as the module says."""
        async with self._semaphore:
            await self._pacer.wait()
            started = time.monotonic()
            self.usage.requests += 1
            try:
                response = await self._client.chat.completions.create(
                    model=self.model, messages=messages, **params
                )
                return _read_reply(response), time.monotonic() - started
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

    async def _pool_chat(self, messages: list[dict], params: dict) -> tuple[tuple, str, float]:
        """One call to a pool (endpoints.py): (the reply's fields, the server that answered, latency),
        asked of another server each time one fails, up to `pool.attempts` servers."""
        tried: list[Endpoint] = []
        failures: list[tuple[Endpoint, BaseException]] = []
        for _ in range(self.pool.attempts):
            endpoint, rest = self.pool.pick(tried)
            if rest:
                await asyncio.sleep(rest)
            endpoint.in_flight += 1
            try:
                async with endpoint.semaphore:
                    await endpoint.pacer.wait()
                    started = time.monotonic()
                    endpoint.requests += 1
                    self.usage.requests += 1
                    response = await endpoint.client.chat.completions.create(
                        model=self.model, messages=messages, **params)
                    reply = _read_reply(response)
            except (openai.BadRequestError, openai.UnprocessableEntityError) as e:  # the request's own fault
                self.usage.failures += 1
                raise LLMError(_describe(e)) from None
            except openai.APIError as e:
                failures.append((endpoint, e))
                self._rest(endpoint, _describe(e))
            except (ValueError, TypeError, AttributeError, KeyError, IndexError) as e:
                failures.append((endpoint, ValueError(f"a malformed reply ({e})")))
                self._rest(endpoint, f"a malformed reply ({e})")
            else:
                self.pool.answered(endpoint)
                return reply, endpoint.url, time.monotonic() - started
            finally:
                endpoint.in_flight -= 1
            tried = tried + [endpoint] if len(tried) + 1 < len(self.pool.endpoints) else []
        self.usage.failures += 1
        raise self._pool_failure(failures)

    def _rest(self, endpoint: Endpoint, why: str) -> None:
        """A pool's server failed a request: it rests, said once per server (its requests go elsewhere)."""
        self.pool.failed(endpoint, why)
        if endpoint.failures == 1:
            warnings.warn(f"The LLM server at {endpoint.url} failed a request ({why.rstrip('.')}): the other servers "
                          "take its requests while it rests.", LLMServerWarning, stacklevel=4)

    def _pool_failure(self, failures: list[tuple[Endpoint, BaseException]]) -> Exception:
        """What a call that every server asked failed is: the UserError every server agrees on (a rejected
        key, an unknown model, no server reachable), else one failed call (LLMError)."""
        last = {e.url: why for e, why in failures}  # each server's last word
        said = {url: why for url, why in last.items() if isinstance(why, openai.APIError)}
        if len(said) == len(last) == len(self.pool.endpoints):  # every server, each an HTTP client's error
            fatal = [self._fatal(why, url) for url, why in said.items()]
            if all(fatal):
                return fatal[0]
            if all(self._unreachable(why, url) for url, why in said.items()):
                return UserError(f"Cannot reach any of the {len(said)} LLM servers ("
                                 + "; ".join(f"{url}: {_root_cause(why)}" for url, why in said.items()) + ").")
        return LLMError("Every LLM server asked failed this call ("
                        + "; ".join(f"{url}: " + (_describe(why) if isinstance(why, openai.APIError) else str(why))
                                    .rstrip(".") for url, why in last.items()) + ").")

    def _unreachable(self, e: openai.APIError, url: str | None = None) -> UserError | None:
        """A connection error (not a timeout) as the sentence that says the server cannot be reached."""
        if isinstance(e, openai.APIConnectionError) and not isinstance(e, openai.APITimeoutError):
            return UserError(f"Cannot reach the LLM server at {url or self.base_url} ({_root_cause(e)}).")
        return None

    def _fatal(self, e: openai.APIError, url: str | None = None) -> UserError | None:
        """The replies that no retry will fix (a rejected key, an unknown model) as one sentence."""
        url = url or self.base_url
        if isinstance(e, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return UserError(
                f"The server at {url} rejected the API key (HTTP {e.status_code}): {_server_message(e)}."
            )
        if isinstance(e, openai.NotFoundError):
            return UserError(
                f"The server at {url} does not know the model {self.model!r} (HTTP 404): "
                f"{_server_message(e)}."
            )
        return None

    async def aclose(self) -> None:
        for client in [e.client for e in self.pool.endpoints] if self.pool is not None else [self._client]:
            await client.close()
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
