"""Shared fixtures: the real CodeContests sample lives in ../shared/data, beside the repository."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ACODIUM_SHARED_DATA", REPO.parent / "shared" / "data"))
TRAIN_SAMPLE = SHARED_DATA / "code_contests_train_sample.jsonl"
UNSOLVED_SAMPLE = SHARED_DATA / "code_contests_unsolved_sample.jsonl"


def _require(path: Path) -> Path:
    """The sample's path; a test that needs it skips with the reason where it is absent
    (a clone on its own), except in CI (`CI=true`), where it must be there."""
    if not path.exists():
        message = f"The real CodeContests sample is expected at {path} (set ACODIUM_SHARED_DATA)."
        if os.environ.get("CI") == "true":
            raise FileNotFoundError(message)
        pytest.skip(f"no real CodeContests sample: {message}")
    return path


@pytest.fixture(scope="session")
def train_sample_path() -> Path:
    return _require(TRAIN_SAMPLE)


@pytest.fixture(scope="session")
def unsolved_sample_path() -> Path:
    return _require(UNSOLVED_SAMPLE)


@pytest.fixture(scope="session")
def train_rows(train_sample_path) -> list[dict]:
    with open(train_sample_path) as fh:
        return [json.loads(line) for line in fh]
