"""Candidates the user brings, from a JSONL or parquet file: the `file` source.

A file is checked whole when the source is made (ids unique per problem, program
text present), so a bad row is one sentence before any work, not a failure
half-way through a run. It is read once for that, keeping only where each
candidate is (a JSONL line's offset, a parquet row's group and position), and
each candidate's record is read again when it is made: a pool of 10^5 samples
is never held in memory whole.
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
        if not self.path.exists():
            raise UserError(f"No table at {self.path}.")
        if self.path.suffix not in (".jsonl", ".json", ".parquet"):
            raise UserError(f"{self.path} is neither a .parquet nor a .jsonl table.")
        # problem -> candidate_id -> where its record is: (byte offset of its line) or (row group, row)
        self._rows: dict[str, dict[str, Any]] = {}
        self._group: tuple[int, list[dict]] | None = None  # the parquet row group read last
        for where, record in self._records():
            if "problem" not in record or "code" not in record:
                missing = [c for c in ("problem", "code") if c not in record]
                raise UserError(f"The candidates file {self.path} table lacks the column(s) {', '.join(missing)}.")
            per_problem = self._rows.setdefault(str(record["problem"]), {})
            cid = record.get("candidate_id")
            cid = f"file-{len(per_problem)}" if cid is None or (isinstance(cid, float) and pd.isna(cid)) else str(cid)
            if cid in per_problem:
                raise UserError(f"The candidates file {self.path} repeats the id {cid!r} for problem {record['problem']!r}.")
            if not isinstance(record["code"], str):  # null or a number: no program to run, refused before any work
                raise UserError(f"The candidates file {self.path} has no program text in 'code' for {cid!r} of "
                                f"problem {record['problem']!r} (it holds {_kind(record['code'])}).")
            per_problem[cid] = where

    def _records(self):
        """(where, record) of every row of the file, in order."""
        if self.path.suffix == ".parquet":
            import pyarrow.parquet as pq

            try:
                reader = pq.ParquetFile(self.path)
                for group in range(reader.num_row_groups):
                    for i, record in enumerate(reader.read_row_group(group).to_pylist()):
                        yield (group, i), record
            except (OSError, ValueError) as e:
                raise UserError(f"Cannot read the table {self.path}: {e}.") from None
            return
        with open(self.path, "rb") as fh:
            offset = 0
            for number, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        record = json.loads(line)
                    except (UnicodeDecodeError, json.JSONDecodeError):
                        raise UserError(f"Cannot read the table {self.path}: line {number} is not JSON.") from None
                    if not isinstance(record, dict):
                        raise UserError(f"Cannot read the table {self.path}: line {number} is not a JSON object.")
                    yield offset, record
                offset += len(line)

    def _record(self, where) -> dict:
        """The record at `where` (as `_records` gave it), read again from the file."""
        if isinstance(where, tuple):
            group, i = where
            if self._group is None or self._group[0] != group:
                import pyarrow.parquet as pq

                self._group = (group, pq.ParquetFile(self.path).read_row_group(group).to_pylist())
            return self._group[1][i]
        with open(self.path, "rb") as fh:
            fh.seek(where)
            return json.loads(fh.readline())

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
        record = self._record(self._rows[problem["name"]][candidate_id])
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
