"""What a call costs: list prices per model, a user's TOML price table, and the cost of one call.

A sweep's spend is reported per call and per run (`ChatResult.cost`, `Usage`);
the table is the user's to extend, since local and new models have no list price.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Mapping

from ..errors import UserError

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


def price_table(prices: Mapping[str, tuple[float, float]] | str | os.PathLike | None
                ) -> dict[str, tuple[float, float]]:
    """DEFAULT_PRICES extended by `prices`: a dict like it, or the path of a TOML price table."""
    table = dict(DEFAULT_PRICES)
    if isinstance(prices, (str, os.PathLike)):
        table.update(load_prices(prices))
    elif prices:
        table.update({k: tuple(v) for k, v in prices.items()})
    return table


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
