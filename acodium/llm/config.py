"""Which server to talk to and with which key: parameters first, then the environment, read when called.

Shared by the client and by the generate stage, which resolves both before any
work so that a missing key is one sentence, not a failure deep in a sweep.
"""

from __future__ import annotations

import os
from typing import Sequence

from ..errors import UserError
from .endpoints import parse_base_urls, server_identity

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def resolve_base_urls(base_url: str | Sequence[str] | None) -> list[str]:
    """The servers to talk to: the parameter, else $OPENAI_BASE_URL, else OpenAI's API (read now). Either
    may name several servers for one model (URLs separated by commas, a list, or a file of URLs: a pool,
    `endpoints`)."""
    return parse_base_urls(base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL)


def resolve_base_url(base_url: str | Sequence[str] | None) -> str:
    """The server to talk to, as the cache keys and a run's settings name it: its URL (see
    `resolve_base_urls`), or for several servers the pool's identity (`endpoints.POOL_IDENTITY`)."""
    return server_identity(resolve_base_urls(base_url))


def resolve_api_key(api_key: str | None, base_url: str) -> str:
    """The key: the parameter, else $OPENAI_API_KEY (read now); none is a UserError."""
    key = api_key or os.environ.get("OPENAI_API_KEY")
    if not key:
        raise UserError(
            f"No API key for {base_url}: set OPENAI_API_KEY or pass --api_key "
            "(any non-empty string for a local server that does not check keys)."
        )
    return key
