"""One content hash of a problems table, so a result says which problems and tests it was made on.

A sweep's manifest records it for every notebook run (`acodium.notebook.save_dataset_info`):
two runs on the same problems with the same tests have the same fingerprint, and a
changed test of any set, a problem more or less, or another order shows.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .schema import TEST_SETS

# What the fingerprint hashes of each row: its name and every test set of the vocabulary.
FINGERPRINT_COLUMNS = ("name",) + tuple(f"{s}_tests" for s in TEST_SETS)


def dataset_fingerprint(problems: Any) -> str:
    """A content hash of a problems table (a Dataset or rows): names and every test, in order.

    Any change to a name, to a test of any set (public, private, generated,
    mutated, ai: inputs, outputs, validity marks), or to the order of the
    problems changes it; the statement and the other fields do not. A table
    lacking some test columns has the fingerprint of what it holds.
    """
    h = hashlib.sha256()
    column_names = getattr(problems, "column_names", None)
    if isinstance(column_names, list) and hasattr(problems, "select_columns"):  # a Dataset: read only these
        problems = problems.select_columns([c for c in FINGERPRINT_COLUMNS if c in column_names])
    for row in problems:
        kept = {c: row[c] for c in FINGERPRINT_COLUMNS if c in row}
        h.update(json.dumps(kept, sort_keys=True, default=str).encode("utf-8"))
    return h.hexdigest()
