"""Shared pieces of the command line: options with both spellings, env defaults."""

from __future__ import annotations

import os
from pathlib import Path

import click

from . import AliasedGroup


def option(name: str, *args, **kwargs):
    """A click option spelled `--name_with_underscores`, also accepting `--name-with-dashes`."""
    flag = "--" + name
    decls = [flag]
    dashed = "--" + name.replace("_", "-")
    if dashed != flag:
        decls.append(dashed)
    return click.option(*decls, *args, name, **kwargs)


def group(help: str):
    """A command group that accepts dashed and underscored command names."""
    return click.group(cls=AliasedGroup, help=help)


def data_dir() -> Path:
    """Where named datasets live: $ACODIUM_DATA, else ./data (read when a command runs)."""
    return Path(os.environ.get("ACODIUM_DATA", "data"))


def cache_dir() -> Path:
    """Where caches live: $ACODIUM_CACHE, else ~/.cache/acodium (read when a command runs)."""
    return Path(os.environ.get("ACODIUM_CACHE", Path.home() / ".cache" / "acodium"))
