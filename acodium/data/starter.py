"""The starter problems shipped in `acodium/starter/`, assembled into schema rows.

Each problem is a folder a person can read and edit (statement in Markdown,
tests as files, solutions as source files) rather than a JSON blob; this
module turns the folders into rows of the code_contests schema, checked like
any JSONL line, so `load_problems("starter")` works offline and in seconds.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UserError
from ..languages import LANGUAGE_NAMES, LANGUAGE_OF_SUFFIX
from .row_checks import normalise_row
from .schema import TEST_KINDS, features

if TYPE_CHECKING:
    import datasets

STARTER_DIR = Path(__file__).resolve().parent.parent / "starter"


def starter_rows(root: str | os.PathLike = STARTER_DIR) -> list[dict]:
    """The starter problems as schema rows, assembled from their folders.

    Each folder holds problem.toml (name and metadata), problem.md (the
    statement), tests/{public,private}/NN.in|.out, and solutions/ with
    correct_*.py|.cpp and incorrect_*.py files.
    """
    rows = []
    for folder in sorted(p for p in Path(root).iterdir() if (p / "problem.toml").is_file()):
        where = f"Starter problem {folder.name}"
        meta = _read_meta(folder, where)
        solutions: dict[str, dict[str, list]] = {
            "correct": {"language": [], "solution": []},
            "incorrect": {"language": [], "solution": []},
        }
        for path in sorted((folder / "solutions").glob("*")):  # none if the folder is absent
            verdict = path.name.split("_", 1)[0]
            if verdict in solutions and path.suffix in LANGUAGE_OF_SUFFIX:
                solutions[verdict]["language"].append(LANGUAGE_NAMES[LANGUAGE_OF_SUFFIX[path.suffix]])
                solutions[verdict]["solution"].append(path.read_text())
        obj = {
            "name": meta["name"],
            "description": (folder / "problem.md").read_text(),
            **{f"{kind}_tests": _read_tests(folder / "tests" / kind, where) for kind in TEST_KINDS},
            "source": 0,
            "difficulty": meta["difficulty"],
            "solutions": solutions["correct"],
            "incorrect_solutions": solutions["incorrect"],
            "cf_contest_id": meta.get("cf_contest_id", 0),
            "cf_index": meta.get("cf_index", ""),
            "cf_rating": meta["cf_rating"],
            "cf_tags": meta["cf_tags"],
            "time_limit": meta["time_limit_s"],
            "memory_limit_bytes": _bytes(meta["memory_limit_mb"]),
        }
        rows.append(normalise_row(obj, where))
    return rows


_META = ("name", "difficulty", "cf_rating", "cf_tags", "time_limit_s", "memory_limit_mb")


def _read_meta(folder: Path, where: str) -> dict:
    try:
        meta = tomllib.loads((folder / "problem.toml").read_text())
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"{where}: problem.toml is not valid TOML ({e}).") from None
    missing = [key for key in _META if key not in meta]
    if missing:
        raise UserError(f"{where}: problem.toml lacks {missing[0]!r}.")
    if not (folder / "problem.md").is_file():
        raise UserError(f"{where} has no problem.md (the statement).")
    return meta


def _bytes(megabytes):
    """Megabytes as bytes; anything but a whole number is left for the schema check to name."""
    if isinstance(megabytes, int) and not isinstance(megabytes, bool):
        return megabytes * 1024 * 1024
    return megabytes


def _read_tests(folder: Path, where: str) -> dict[str, list[str]]:
    """The NN.in / NN.out pairs of a test folder, in file name order (none if the folder is absent)."""
    inputs = sorted(folder.glob("*.in")) if folder.is_dir() else []
    for path in inputs:
        if not path.with_suffix(".out").is_file():
            raise UserError(f"{where}: {folder.name}/{path.name} has no {path.with_suffix('.out').name}.")
    return {
        "input": [p.read_text() for p in inputs],
        "output": [p.with_suffix(".out").read_text() for p in inputs],
    }


def starter_dataset(root: str | os.PathLike = STARTER_DIR) -> "datasets.Dataset":
    """The starter problems as a table in the hub's schema."""
    import datasets as hf

    return hf.Dataset.from_list(starter_rows(root), features=features())
