"""Named datasets under data_dir: what `gencode data etl` saves and loads back by name.

A name is a `save_to_disk` folder of splits. Saving one split keeps the
others, and the folder is replaced in one rename, so an interrupted save
leaves the old dataset whole rather than half written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UserError

if TYPE_CHECKING:
    import datasets

STARTER = "starter"  # the source name of the shipped problems: no saved dataset may take it


def disk_splits(path: str | os.PathLike) -> list[str] | None:
    """Splits of a `save_to_disk` folder ([] for a single Dataset), None if it is not one."""
    path = Path(path)
    if (path / "dataset_dict.json").is_file():
        try:
            return list(json.loads((path / "dataset_dict.json").read_text())["splits"])
        except (OSError, ValueError, KeyError, TypeError):
            raise UserError(f"{path}/dataset_dict.json is unreadable.") from None
    if (path / "state.json").is_file() and (path / "dataset_info.json").is_file():
        return []
    return None


def saved_names(data_dir: str | os.PathLike | None) -> list[str]:
    """Names of the datasets saved under data_dir."""
    if data_dir is None or not Path(data_dir).is_dir():
        return []
    return sorted(
        p.name for p in Path(data_dir).iterdir() if not p.name.startswith(".") and disk_splits(p) is not None
    )


def save_problems(
    ds: "datasets.Dataset", name: str, data_dir: str | os.PathLike, split: str = "train"
) -> Path:
    """Save a problems table under data_dir/name as one split, keeping its other splits."""
    import datasets as hf

    if not name or name == STARTER or name.startswith(".") or re.search(r"[\\/]", name):
        raise UserError(f"{name!r} cannot name a dataset: use letters, digits, '_' or '-'.")
    if not split or re.search(r"[\\/\s]", split):
        raise UserError(f"{split!r} cannot name a split.")
    data_dir = Path(data_dir)
    target = data_dir / name
    splits = {}
    if target.exists():
        if not disk_splits(target):
            raise UserError(f"{target} exists and is not a dataset saved by acodium: choose another name.")
        old = hf.load_from_disk(str(target))
        splits = {s: old[s] for s in old}  # keeps the splits' order; `split` is replaced in place
    splits[split] = ds.flatten_indices() if ds._indices is not None else ds
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / f".{name}.{uuid.uuid4().hex}.tmp"
    hf.DatasetDict(splits).save_to_disk(str(tmp))
    if target.exists():
        trash = data_dir / f".{name}.{uuid.uuid4().hex}.old"
        os.replace(target, trash)
        os.replace(tmp, target)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, target)
    return target
