"""acodium.llm.prices and acodium.llm.config: price tables, the cost of a call, the server and key."""

from __future__ import annotations

import pytest

from acodium.errors import UserError
from acodium.llm import (
    DEFAULT_BASE_URL, DEFAULT_PRICES, Usage, cost_of, load_prices, price_for, price_table,
    resolve_api_key, resolve_base_url,
)


def test_a_dated_model_takes_the_price_of_its_longest_listed_prefix():
    assert price_for("gpt-4o-2024-08-06", DEFAULT_PRICES) == DEFAULT_PRICES["gpt-4o"]
    assert price_for("gpt-4o-mini-2024-07-18", DEFAULT_PRICES) == DEFAULT_PRICES["gpt-4o-mini"]
    assert price_for("o1-mini-2024-09-12", DEFAULT_PRICES) == DEFAULT_PRICES["o1-mini"]
    assert price_for("gpt-4.1", DEFAULT_PRICES) == (2.00, 8.00)  # exact, though "gpt-4" would not match
    assert price_for("llama-3-8b", DEFAULT_PRICES) is None


def test_the_cost_of_a_call_in_dollars():
    prices = {"m": (2.0, 8.0)}
    assert cost_of("m", 1_000_000, 0, prices) == pytest.approx(2.0)
    assert cost_of("m", 500, 250, prices) == pytest.approx((500 * 2.0 + 250 * 8.0) / 1e6)
    assert cost_of("m", 0, 0, prices) == 0.0
    assert cost_of("other", 10, 10, prices) is None  # unpriced is not free


def test_a_price_table_extends_and_overrides_the_list_prices(tmp_path):
    path = tmp_path / "prices.toml"
    path.write_text('[models."gpt-4o"]\ninput = 1\noutput = 2\n[models."local"]\ninput = 0\noutput = 0\n')
    table = price_table(path)
    assert table["gpt-4o"] == (1.0, 2.0) and table["local"] == (0.0, 0.0)
    assert table["o1"] == DEFAULT_PRICES["o1"]  # the rest kept
    assert price_table({"local": [0.5, 1]})["local"] == (0.5, 1)
    assert price_table(None) == DEFAULT_PRICES and price_table(None) is not DEFAULT_PRICES
    assert price_table(str(path))["local"] == (0.0, 0.0)


def test_a_table_without_the_models_header_is_read_too(tmp_path):
    path = tmp_path / "flat.toml"
    path.write_text('[mine]\ninput = 0.25\noutput = "0.75"\n')  # numbers as text are numbers
    assert load_prices(path) == {"mine": (0.25, 0.75)}


@pytest.mark.parametrize("content, message", [
    (None, r"No price table at .*missing\.toml\."),
    (b'[models."m"\ninput = 1', r"is not valid TOML"),
    (b'[models."m"]\ninput = 1\noutput = 2\n# caf\xe9\n', r"is not UTF-8 text \(byte 0xe9 at position \d+\)"),
    (b'[models."m"]\ninput = 1\n', r"The price of 'm' in .* needs numeric 'input' and 'output'"),
    (b'[models]\nm = 3\n', r"The price of 'm' .* needs numeric"),
    (b'[models."m"]\ninput = "free"\noutput = 1\n', r"needs numeric"),
])
def test_a_bad_price_table_is_one_sentence(tmp_path, content, message):
    path = tmp_path / ("missing.toml" if content is None else "prices.toml")
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UserError, match=message) as info:
        load_prices(path)
    assert "\n" not in str(info.value)


def test_the_server_is_the_parameter_then_the_environment_then_openai(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert resolve_base_url(None) == DEFAULT_BASE_URL
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env:8000/v1/")
    assert resolve_base_url(None) == "http://env:8000/v1"  # read when called, slash dropped
    assert resolve_base_url("http://param/v1/") == "http://param/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", "")
    assert resolve_base_url("") == DEFAULT_BASE_URL


def test_the_key_is_the_parameter_then_the_environment(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(UserError, match=r"No API key for http://s/v1: set OPENAI_API_KEY or pass --api_key"):
        resolve_api_key(None, "http://s/v1")
    with pytest.raises(UserError, match="No API key"):
        resolve_api_key("", "http://s/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    assert resolve_api_key(None, "http://s/v1") == "sk-env"
    assert resolve_api_key("sk-param", "http://s/v1") == "sk-param"


def test_the_spend_summary_says_when_some_calls_had_no_price():
    usage = Usage(prompt_tokens=100, completion_tokens=20, cost=0.00123, cache_hits=4)
    assert usage.postfix() == {"tok": 120, "cost": "$0.0012", "cached": 4}
    usage.unpriced_calls, usage.failures = 2, 1
    assert usage.postfix() == {"tok": 120, "cost": "$0.0012 + 2 unpriced calls", "cached": 4, "failed": 1}
