"""Candidates the user brings, from a JSONL or parquet file: the `file` source.

A file is checked whole when the source is made (ids unique per problem, program
text present), so a bad row is one sentence before any work, not a failure
half-way through a run.
"""

from __future__ import annotations

import json
import numbers
import os
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ..errors import UserError
from ..extract import detect_language
from ..tables import read_table, require_columns
from ..wording import plural
from .base import Candidate, CandidateSource


class FileSource(CandidateSource):
    """Candidates the user brings: a JSONL or parquet with at least `problem` and `code`.

    Missing `candidate_id`s become `file-N` (order within the problem), a missing
    `language` is detected from the code, `meta` (dict or JSON string) is kept.
    """

    name = "file"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        df = read_table(self.path)
        require_columns(df, ["problem", "code"], f"candidates file {self.path}")
        self._rows: dict[str, dict[str, dict]] = {}
        for record in df.to_dict("records"):
            per_problem = self._rows.setdefault(str(record["problem"]), {})
            cid = record.get("candidate_id")
            cid = f"file-{len(per_problem)}" if cid is None or (isinstance(cid, float) and pd.isna(cid)) else str(cid)
            if cid in per_problem:
                raise UserError(f"The candidates file {self.path} repeats the id {cid!r} for problem {record['problem']!r}.")
            if not isinstance(record["code"], str):  # null or a number: no program to run, refused before any work
                raise UserError(f"The candidates file {self.path} has no program text in 'code' for {cid!r} of "
                                f"problem {record['problem']!r} (it holds {_kind(record['code'])}).")
            per_problem[cid] = record

    def config(self) -> dict[str, Any]:
        return {"source": self.name, "path": str(self.path.resolve())}

    @property
    def problems(self) -> set[str]:
        return set(self._rows)

    def plan(self, problem, k):
        ids = list(self._rows.get(problem["name"], {}))
        return ids if k is None else ids[:k]

    def why_fewer(self, problem, k, planned):
        return f"{self.path.name} holds {plural(len(planned), 'candidate')} for it"

    async def make(self, problem, candidate_id):
        record = self._rows[problem["name"]][candidate_id]
        code = record["code"]
        language = record.get("language")
        if not isinstance(language, str) or not language:
            language = detect_language(code) or "python3"
        meta = record.get("meta")
        if isinstance(meta, str):
            try:
                meta = json.loads(meta) if meta else {}
            except json.JSONDecodeError:
                meta = {"note": meta}
        meta = dict(meta) if isinstance(meta, Mapping) else {}
        meta.setdefault("file", str(self.path))
        if isinstance(record.get("source"), str) and record["source"] != self.name:
            meta.setdefault("original_source", record["source"])
        return Candidate(problem=problem["name"], candidate_id=candidate_id, language=language,
                         code=code, source=self.name, meta=meta)


def _kind(value: Any) -> str:
    """What a value that should have been text is, in words."""
    if value is None or (isinstance(value, float) and value != value):
        return "null"
    if isinstance(value, numbers.Number):
        return f"the number {value}"
    return f"a {type(value).__name__}"
