"""A pool of candidates read in chunks: a table in memory, or a candidates file read batch by batch.

An evaluation of 10^5 samples must not hold every program's text at once, nor
a Python object per (candidate, test): `CandidatePool` hands the candidates out
in chunks (`chunks`), from a DataFrame or from a parquet / JSONL file (a run
folder's candidates.parquet, read one record batch at a time), and `survey`
reads it once before anything runs: the pool's size and candidates with code
per problem (what `reported_ks` and `short_pools` need), every problem known,
no (problem, candidate_id) twice, and a fingerprint of its programs for
settings.json (the same whatever the order of the candidates).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

import pandas as pd

from ..errors import UserError
from ..execute.types import Program
from ..tables import read_table, require_columns
from .candidates import check_candidates, has_code

CHUNK = 1000  # candidates per chunk: the unit that is hashed, run and written together
COLUMNS = ["problem", "candidate_id", "language", "code"]


@dataclass
class Survey:
    """What one pass over a pool found (`CandidatePool.survey`)."""

    sizes: dict[str, int] = field(default_factory=dict)  # problem -> candidates
    coded: dict[str, int] = field(default_factory=dict)  # problem -> candidates with code
    programs: int = 0  # distinct (problem, program) among candidates with code
    fingerprint: str = ""  # of (problem, candidate_id, program hash), whatever their order
    languages: dict[str, set[str]] = field(default_factory=dict)  # problem -> languages of its programs
    found: set[tuple[str, str]] = field(default_factory=set)  # the asked-for (problem, candidate_id) present

    @property
    def candidates(self) -> int:
        return sum(self.sizes.values())


class CandidatePool:
    """Candidates (problem, candidate_id, language, code) from a DataFrame or a parquet / JSONL file.

    `attrs` carries what the table carried (`failures` of a generation).
    """

    def __init__(self, source: pd.DataFrame | str | os.PathLike, *, attrs: Mapping[str, Any] | None = None,
                 chunk: int = CHUNK):
        self.chunk = max(1, int(chunk))
        if isinstance(source, pd.DataFrame):
            self.frame, self.path = source, None
            self.attrs = dict(source.attrs)
        else:
            self.frame, self.path = None, Path(source)
            if not self.path.is_file():
                raise UserError(f"No candidates file at {self.path}.")
            if self.path.suffix not in (".parquet", ".jsonl"):
                raise UserError(f"{self.path} is neither a .parquet nor a .jsonl table of candidates.")
            self.attrs = {}
        self.attrs.update(attrs or {})
        self._survey: Survey | None = None

    def __len__(self) -> int:
        if self.frame is not None:
            return len(self.frame)
        return self.survey_done().candidates

    def survey_done(self) -> Survey:
        if self._survey is None:
            raise UserError("The pool has not been surveyed yet (CandidatePool.survey).")
        return self._survey

    def _raw_chunks(self) -> Iterator[pd.DataFrame]:
        if self.frame is not None:
            require_columns(self.frame, COLUMNS, "candidates")
            for start in range(0, len(self.frame), self.chunk):
                yield self.frame.iloc[start:start + self.chunk]
            return
        if self.path.suffix == ".parquet":
            import pyarrow.parquet as pq

            try:
                reader = pq.ParquetFile(self.path)
                names = set(reader.schema_arrow.names)
                require_columns(pd.DataFrame(columns=sorted(names)), COLUMNS, f"candidates file {self.path}")
                for batch in reader.iter_batches(batch_size=self.chunk, columns=COLUMNS):
                    yield batch.to_pandas()
            except (OSError, ValueError) as e:
                raise UserError(f"Cannot read the candidates file {self.path}: {e}.") from None
            return
        rows = []
        with open(self.path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    raise UserError(f"Line {number} of {self.path} is not a JSON object.") from None
                rows.append({c: row.get(c) for c in COLUMNS})
                if len(rows) == self.chunk:
                    yield pd.DataFrame(rows, columns=COLUMNS)
                    rows = []
        if rows:
            yield pd.DataFrame(rows, columns=COLUMNS)

    def chunks(self, problems: Mapping[str, dict]) -> Iterator[pd.DataFrame]:
        """The candidates in chunks, each checked (`check_candidates`) and with a `program_hash`
        column ("" for a candidate without code, which is never run)."""
        for raw in self._raw_chunks():
            chunk = check_candidates(raw[COLUMNS], problems)
            chunk["program_hash"] = [Program(lang, code).hash if has_code(code) else ""
                                     for lang, code in zip(chunk["language"], chunk["code"])]
            yield chunk.reset_index(drop=True)

    def survey(self, problems: Mapping[str, dict], wanted: set[tuple[str, str]] = frozenset()) -> Survey:
        """One pass: sizes and candidates with code per problem, no (problem, candidate_id) twice, and a
        fingerprint of the programs (a sum of hashes: the same in any order)."""
        survey = Survey()
        ids: dict[str, set[str]] = {}
        programs: set[bytes] = set()
        total = 0
        for chunk in self.chunks(problems):
            for problem, cid, h, language in zip(chunk["problem"], chunk["candidate_id"], chunk["program_hash"],
                                                 chunk["language"]):
                seen = ids.setdefault(problem, set())
                if cid in seen:
                    raise UserError(f"The candidates have the (problem, candidate_id) pair ({problem!r}, {cid!r}) "
                                    "more than once.")
                seen.add(cid)
                if (problem, cid) in wanted:
                    survey.found.add((problem, cid))
                survey.sizes[problem] = survey.sizes.get(problem, 0) + 1
                if h:
                    survey.coded[problem] = survey.coded.get(problem, 0) + 1
                    survey.languages.setdefault(problem, set()).add(language)
                    programs.add(hashlib.blake2b(f"{problem}\0{h}".encode(), digest_size=16).digest())
                item = hashlib.sha256(f"{problem}\0{cid}\0{h}".encode("utf-8", "surrogatepass")).digest()
                total = (total + int.from_bytes(item, "big")) % (1 << 256)
        survey.programs = len(programs)
        survey.fingerprint = f"{total:064x}"
        self._survey = survey
        return survey

    def table(self) -> pd.DataFrame:
        """Every candidate as one DataFrame (for small pools: a notebook's candidates table)."""
        if self.frame is not None:
            return self.frame
        frames = list(self._raw_chunks())
        table = pd.concat(frames, ignore_index=True) if frames else read_table(self.path).iloc[:0]
        table.attrs.update(self.attrs)
        return table


def as_pool(candidates: Any) -> CandidatePool:
    """A `CandidatePool` from a pool, a DataFrame, a candidates file's path, or a generation's `CandidatesFile`."""
    from ..generate.loop import CandidatesFile

    if isinstance(candidates, CandidatePool):
        return candidates
    if isinstance(candidates, CandidatesFile):
        return CandidatePool(candidates.path, attrs={"failures": list(candidates.failures)})
    if isinstance(candidates, (pd.DataFrame, str, os.PathLike)):
        return CandidatePool(candidates)
    raise UserError(f"Candidates are a table, a candidates file or a CandidatePool, not {type(candidates).__name__}.")
