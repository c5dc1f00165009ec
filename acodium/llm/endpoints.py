"""Several OpenAI-compatible servers for one model (a vLLM fleet): which server takes the next request.

`LLMClient(base_url=[...])` (or "URL1,URL2", or a file of URLs: `--base_url`) talks to a pool of
servers. Each request goes to the server with the fewest requests in flight (for its bound) among
those not resting, at most `concurrency` at once per server and `rpm` per minute per server. A
request a server fails (it cannot be reached, times out, answers 5xx or 429, rejects the key or
does not know the model, sends a malformed reply) is asked at once of another server (the retries
are the pool's, `max_retries` + 1 tries in all and every server at least once, not the openai
client's on the same server), and the failing one rests (COOLDOWN_S, doubling with each failure
in a row, at most MAX_REST_S) before it is asked again; when every server rests, a try waits for
the first back. A request that no server answers is one failed call, as with one server. A bad
request (400, 422) fails where it is: every server would answer it alike.

Every server of a pool must serve the same model: a reply is cached under the pool
(`POOL_IDENTITY`), not under the server that answered, so the cache of a pool stays valid when
servers join or leave it. A single URL is not a pool and keeps its own identity (the URL), as before.
This module holds the servers and their state; `client.LLMClient` sends the requests.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..errors import UserError

POOL_IDENTITY = "openai-compatible-pool"  # the server part of a pool's cache keys and settings
COOLDOWN_S = 5.0
MAX_REST_S = 60.0


def parse_base_urls(value: str | Sequence[str]) -> list[str]:
    """The servers `value` names: one URL, URLs separated by commas, a list of them, or a file holding
    one per line (blank lines and # comments skipped). Several must each be an http(s) URL."""
    if isinstance(value, (list, tuple)):
        urls = [str(u).strip() for u in value]
    else:
        text = str(value).strip()
        path = Path(text).expanduser() if text and "://" not in text and "," not in text else None
        if path is not None and path.is_file():
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as e:
                raise UserError(f"The file of server URLs {path} cannot be read ({e}).") from None
            urls = [line.split("#", 1)[0].strip() for line in lines]
            if not any(urls):
                raise UserError(f"The file of server URLs {path} names no server (one URL per line).")
        else:
            urls = [u.strip() for u in text.split(",")]
    urls = [u.rstrip("/") for u in urls if u]
    if not urls:
        raise UserError("Name at least one server URL (--base_url).")
    if len(urls) > 1 or not isinstance(value, str) or "," in str(value):
        bad = [u for u in urls if not u.startswith(("http://", "https://"))]
        if bad:
            raise UserError(f"{bad[0]!r} is not a server URL (http://... or https://...): --base_url takes URLs "
                            "separated by commas, or a file with one per line.")
    return list(dict.fromkeys(urls))


def server_identity(urls: Sequence[str]) -> str:
    """What the cache keys and a run's settings say of the servers: a single URL, or POOL_IDENTITY."""
    return urls[0] if len(urls) == 1 else POOL_IDENTITY


@dataclass(eq=False)
class Endpoint:
    """One server of a pool: its client, its bounds, and how it has fared."""

    url: str
    client: Any  # openai.AsyncOpenAI
    semaphore: asyncio.Semaphore
    pacer: Any  # client.RatePacer
    capacity: int
    in_flight: int = 0  # requests sent or waiting for its semaphore
    requests: int = 0
    failures: int = 0
    strikes: int = 0  # failures in a row
    resting_until: float = 0.0
    last_error: str = ""


@dataclass
class EndpointPool:
    """The servers of a pool (see the module docstring): `pick` the next, `failed` / `answered` after."""

    endpoints: list[Endpoint]
    attempts: int  # servers asked for one call, at most (each at most once a round)

    def pick(self, tried: Sequence[Endpoint]) -> tuple[Endpoint, float]:
        """(the server for the next try, seconds to wait first): the least loaded of those not resting
        and not yet tried for this call; when every one is resting or tried, the first to be back."""
        now = time.monotonic()
        fresh = [e for e in self.endpoints if e not in tried] or list(self.endpoints)
        ready = [e for e in fresh if e.resting_until <= now]
        if ready:
            return min(ready, key=lambda e: (e.in_flight / e.capacity, e.requests)), 0.0
        first = min(fresh, key=lambda e: e.resting_until)
        return first, max(0.0, first.resting_until - now)

    @staticmethod
    def failed(endpoint: Endpoint, why: str) -> None:
        endpoint.failures += 1
        endpoint.strikes += 1
        endpoint.last_error = why
        endpoint.resting_until = time.monotonic() + min(MAX_REST_S, COOLDOWN_S * 2 ** (endpoint.strikes - 1))

    @staticmethod
    def answered(endpoint: Endpoint) -> None:
        endpoint.strikes = 0
        endpoint.resting_until = 0.0

    def usage(self) -> dict[str, dict[str, int]]:
        """Requests and failures per server, in this process."""
        return {e.url: {"requests": e.requests, "failures": e.failures} for e in self.endpoints}
