"""The notebook kit: what a papermill notebook calls around the library, apart from the sweep.

Notebooks hold no algorithms; they take their parameters, find the caches a
sweep shares, pick the k axis, loop over one setting, and save tables and
what they loaded where the sweep's manifest finds them. Run interactively (or
under nbval) with an empty `out_dir` and `cache_dir`, every helper here saves
nothing and caches nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import pandas as pd

from .errors import UserError
from .metrics import log_grid, reported_ks  # noqa: F401  (log_grid: the notebooks' grid of input counts)
from .paths import Caches, caches as cache_layout
from .sweep.provenance import DATASET_FILE, dataset_fingerprint
from .tables import read_table, write_json, write_table

TABLES_DIR = "tables"

__all__ = [
    "Caches", "caches", "k_grid", "load_tables", "log_grid", "model_configured", "over", "save_dataset_info",
    "save_tables",
]


def caches(cache_dir: str | os.PathLike | None) -> Caches:
    """The execution cache folder and LLM response cache file under a sweep's shared cache_dir.

    An empty `cache_dir` (a notebook run by hand) means no caches: both are None.
    """
    if not cache_dir:
        return Caches(executions=None, llm=None)
    return cache_layout(cache_dir)


def k_grid(candidates, ks: Sequence[int] | None = None) -> list[int]:
    """The k values to report for these candidates: `acodium.metrics.reported_ks` of their pools.

    ks given: those that every non-empty pool has samples for (metrics never
    extrapolate); none given: 1, 2, 5, 10, ... up to the smallest non-empty
    pool, and that pool's size. An empty pool (a problem without candidates,
    or a category of the problem column with no row) bounds nothing: it
    scores 0 at every k (`metrics.metrics_table(problems=...)`).
    """
    sizes = candidates.groupby("problem", observed=True).size() if len(candidates) else None
    if sizes is None and not ks:
        raise UserError("There are no candidates, so there is no k to report.")
    if sizes is None:
        return reported_ks([], ks).ks  # every pool empty: any k asked for is 0, and reported
    return reported_ks(sizes.to_numpy(), ks or None, problems=[str(p) for p in sizes.index]).ks


def over(values: Iterable, run: Callable[[Any], Any], name: str):
    """A sweep inside a notebook: `run(value)` for each value, tables concatenated with a `name` column.

    `run` returns a DataFrame (or a dict of DataFrames, concatenated key by key).
    """
    values = list(values)
    if not values:
        raise UserError(f"There are no values of {name} to sweep over.")
    results = [(v, run(v)) for v in values]
    first = results[0][1]
    if isinstance(first, Mapping):
        return {
            key: pd.concat([r[key].assign(**{name: v}) for v, r in results], ignore_index=True)
            for key in first
        }
    return pd.concat([r.assign(**{name: v}) for v, r in results], ignore_index=True)


def model_configured(model: str | None, base_url: str | None = None) -> bool:
    """Whether a notebook that needs an LLM has one; if not, say what to set (and do no work).

    Lets a notebook without a configured model end cleanly under papermill and
    nbval instead of failing in its first request.
    """
    if model:
        return True
    print(
        "No model is configured, so this notebook stops here.\n"
        "Set the parameter `model` (and `base_url` for a server other than OpenAI's), with the key in\n"
        "OPENAI_API_KEY (any non-empty string for a local server), for instance:\n"
        "  gencode sweep params/temperature.yaml --set model=gpt-4o-mini\n"
        "  papermill notebooks/temperature_ablation.ipynb out.ipynb -p model llama3 -p base_url http://127.0.0.1:8000/v1"
    )
    return False


def save_tables(out_dir: str | os.PathLike | None, **tables) -> dict[str, Path]:
    """Save a notebook's tables as OUT_DIR/tables/NAME.parquet; no-op without an out_dir.

    Notebooks run interactively (or under nbval) leave out_dir empty and save nothing.
    """
    if not out_dir:
        return {}
    return {name: write_table(df, Path(out_dir) / TABLES_DIR / f"{name}.parquet") for name, df in tables.items()}


def load_tables(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The tables one run saved, by name (for reading results back after a sweep)."""
    return {p.stem: read_table(p) for p in sorted((Path(run_dir) / TABLES_DIR).glob("*.parquet"))}


def save_dataset_info(out_dir: str | os.PathLike | None, problems, *, source: str, split: str) -> dict | None:
    """Record what a notebook loaded (source, split, size, content fingerprint) for the manifest."""
    info = {
        "source": str(source),
        "split": str(split),
        "problems": len(problems),
        "fingerprint": dataset_fingerprint(problems),
    }
    if out_dir:
        write_json(info, Path(out_dir) / DATASET_FILE)
    return info
