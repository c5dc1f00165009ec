"""Whether a model can be asked at all, decided in seconds before any work: key, server, model.

A notebook (`acodium.notebook.model_configured`) and a sweep (its checks before
any run starts) ask this once, so that a missing key, a server that is down or
a misspelt model is one sentence instead of a failure deep in a run.
"""

from __future__ import annotations

import os

from ..errors import UserError
from .config import resolve_base_urls

CHECK_TIMEOUT_S = 10.0


def missing_key(base_url: str) -> str:
    """The sentence for a missing key, without a command-line flag (notebooks and sweeps read it)."""
    return (f"No API key for {base_url}: set OPENAI_API_KEY in the environment that starts Jupyter or the sweep "
            "(any non-empty string for a local server that does not check keys).")


def model_names(base_url: str | None = None, api_key: str | None = None, *,
                timeout_s: float = CHECK_TIMEOUT_S) -> list[str] | None:
    """The models the server lists (None: it has no /models); one sentence when it cannot be asked.
    Of several servers (a pool), the first one's."""
    import openai  # heavy: only when a model is checked

    base = resolve_base_urls(base_url)[0]
    key = api_key or os.environ.get("OPENAI_API_KEY")
    if not key:
        raise UserError(missing_key(base))
    client = openai.OpenAI(base_url=base, api_key=key, max_retries=0, timeout=timeout_s)
    try:
        return [m.id for m in client.models.list()]
    except openai.NotFoundError:
        return None  # a server without /models: the first chat request tells
    except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
        raise UserError(f"The server at {base} rejected the API key (HTTP {e.status_code}); "
                        "check OPENAI_API_KEY.") from None
    except openai.APITimeoutError:
        raise UserError(f"The LLM server at {base} did not answer within {timeout_s:g} s.") from None
    except openai.APIConnectionError:
        raise UserError(f"Cannot reach the LLM server at {base}: start it, or correct base_url.") from None
    except openai.APIError as e:
        raise UserError(f"The LLM server at {base} failed to list its models "
                        f"({type(e).__name__}: {str(e).splitlines()[0][:200]}).") from None
    finally:
        client.close()


def check_model(model: str, base_url: str | None = None, api_key: str | None = None, *,
                timeout_s: float = CHECK_TIMEOUT_S) -> None:
    """Refuse, in one sentence, a model that cannot be asked: no key, the server unreachable or
    refusing the key, or the model absent from the models the server lists (a server that lists
    none is taken at its word; `NAME` matches Ollama's `NAME:latest`). Of several servers (a pool,
    `endpoints`), one that can be asked is enough: the client sends nothing to the others while they fail."""
    if not model:
        raise UserError("Name the model to ask.")
    urls = resolve_base_urls(base_url)
    said = []
    for url in urls:
        try:
            return _check_server(model, url, api_key, timeout_s)
        except UserError as e:
            if len(urls) == 1:
                raise
            said.append(str(e).rstrip("."))
    raise UserError(f"None of the {len(urls)} LLM servers can be used: {'; '.join(said)}.")


def _check_server(model: str, url: str, api_key: str | None, timeout_s: float) -> None:
    listed = model_names(url, api_key, timeout_s=timeout_s)
    if listed and model not in listed and f"{model}:latest" not in listed:
        shown = ", ".join(listed[:8]) + (f" and {len(listed) - 8} more" if len(listed) > 8 else "")
        raise UserError(f"The server at {url} does not serve the model {model!r}; it lists {shown}.")
