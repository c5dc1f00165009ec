"""Where acodium keeps things: the data folder, the cache folder and the cache's layout.

The ground floor: the CLI, the demo, sweeps and notebooks all find folders
here, read from the environment when asked (never at import time).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError


def data_dir() -> Path:
    """Where named datasets live: $ACODIUM_DATA, else ./data."""
    return Path(os.environ.get("ACODIUM_DATA", "data"))


def cache_dir() -> Path:
    """Where caches live: $ACODIUM_CACHE, else ~/.cache/acodium.

    A folder that cannot be written is refused here, before any work, rather than
    by a traceback from the first cache write.
    """
    path = Path(os.environ.get("ACODIUM_CACHE", Path.home() / ".cache" / "acodium"))
    problem = folder_problem(path)
    if problem is not None:
        raise UserError(f"The cache folder {path} cannot be written: {problem}; set ACODIUM_CACHE elsewhere.")
    return path


@dataclass(frozen=True)
class Caches:
    """The cache's layout under one root: execution results and LLM replies."""

    executions: Path
    llm: Path


def caches(root: str | os.PathLike | None = None) -> Caches:
    """The cache files under `root` (default: `cache_dir()`)."""
    root = cache_dir() if root is None else Path(root)
    return Caches(executions=root / "executions", llm=root / "llm" / "responses.sqlite")


def folder_problem(path: str | os.PathLike) -> str | None:
    """Why `path` cannot be, or become, a folder to write in (None when it can); creates nothing."""
    path = Path(path)
    for part in (path, *path.parents):
        if part.exists():
            if not part.is_dir():
                return f"{part} is not a folder"
            if not os.access(part, os.W_OK | os.X_OK):
                return f"{part} is not writable"
            return None
    return None
