"""The dataset's own solutions as candidates: the `human` source.

Human candidates are built here and only here: `human_ids` samples which of a
problem's correct and incorrect solutions to take, `human_candidate` makes one
of them, and `HumanSource` is the two behind the source interface.
`reference_candidates` is the table of a problem's references that reference
checks run (ids `correct-<j>` / `incorrect-<j>`, as cleaned datasets record them).
A row's solutions in chosen languages come from `acodium.data.dataset_solutions`.
"""

from __future__ import annotations

import random
from typing import Any, Mapping, Sequence

import pandas as pd

from ..data import dataset_solutions, problem_rows
from ..errors import UserError
from ..languages import RUNNABLE_LANGUAGES, language_name
from ..tables import CANDIDATES
from .base import Candidate, CandidateSource

FIELDS = {"c": "solutions", "i": "incorrect_solutions"}  # the id's label -> the dataset field


def human_ids(row: Mapping[str, Any], k: int | None, correct_fraction: float, seed: int,
              languages: Sequence[str]) -> list[str]:
    """The ids (`human-c<j>`, `human-i<j>`) of k solutions of a problem, `correct_fraction` of them correct.

    Sampled without replacement with a per-problem seed; when one pool is short the
    other fills in, and a problem with fewer than k solutions gives fewer. k=None: all.
    """
    correct = [f"human-c{j}" for j, _, _ in dataset_solutions(row, "solutions", languages)]
    incorrect = [f"human-i{j}" for j, _, _ in dataset_solutions(row, "incorrect_solutions", languages)]
    if k is None:
        return correct + incorrect
    rng = random.Random(f"{seed}|{row['name']}")
    rng.shuffle(correct)
    rng.shuffle(incorrect)
    n_correct = min(round(k * correct_fraction), len(correct))
    n_incorrect = min(k - n_correct, len(incorrect))
    n_correct = min(k - n_incorrect, len(correct))  # the correct pool fills a short incorrect one
    return correct[:n_correct] + incorrect[:n_incorrect]


def human_candidate(row: Mapping[str, Any], candidate_id: str, languages: Sequence[str],
                    source: str = "human") -> Candidate:
    """The candidate a `human-c<j>` / `human-i<j>` id names: solution j of the row's field."""
    rest = candidate_id.removeprefix("human-")
    label, index = rest[:1], rest[1:]
    if label not in FIELDS or not index.isdigit():
        raise UserError(f"{candidate_id!r} is not a human candidate id (human-c<N> or human-i<N>).")
    field_name, j = FIELDS[label], int(index)
    found = {i: (language, code) for i, language, code in dataset_solutions(row, field_name, languages)}
    if j not in found:
        raise UserError(f"Problem {row['name']!r} has no {field_name} entry {j} in {', '.join(languages)}.")
    language, code = found[j]
    return Candidate(
        problem=row["name"], candidate_id=candidate_id, language=language, code=code, source=source,
        meta={"dataset_field": field_name, "dataset_index": j,
              "label": "correct" if label == "c" else "incorrect"},
    )


class HumanSource(CandidateSource):
    """The dataset's own solutions: `correct_fraction` of k from `solutions`, the rest from
    `incorrect_solutions` (see `human_ids`), in `languages` (default: every language acodium
    runs; `gencode gen --source human` passes those whose runtime this machine has)."""

    name = "human"
    columns = ("name", "solutions", "incorrect_solutions")

    def __init__(self, correct_fraction: float = 1.0, seed: int = 0,
                 languages: Sequence[str] = RUNNABLE_LANGUAGES):
        if not 0.0 <= correct_fraction <= 1.0:
            raise UserError("The fraction of correct human solutions must be between 0 and 1.")
        self.correct_fraction = correct_fraction
        self.seed = seed
        self.languages = tuple(languages)

    def config(self) -> dict[str, Any]:
        return {"source": self.name, "correct_fraction": self.correct_fraction, "seed": self.seed,
                "languages": list(self.languages)}

    def plan(self, problem, k):
        return human_ids(problem, k, self.correct_fraction, self.seed, self.languages)

    async def make(self, problem, candidate_id):
        return human_candidate(problem, candidate_id, self.languages, self.name)


def reference_candidates(problems: Any, languages: Sequence[str] = ("python3",),
                         max_solutions: int | None = None) -> pd.DataFrame:
    """A candidates table of each problem's own solutions, correct and incorrect.

    candidate_id is `correct-<j>` or `incorrect-<j>` (j: index in the dataset's
    list, counting every language); meta says which the dataset claims it is.
    `max_solutions` keeps the first that many of each kind per problem.
    """
    wanted = tuple(language_name(lang) for lang in languages)
    rows = []
    for name, row in problem_rows(problems).items():
        for field_name, kind in (("solutions", "correct"), ("incorrect_solutions", "incorrect")):
            for j, language, code in dataset_solutions(row, field_name, wanted)[:max_solutions]:
                rows.append(Candidate(problem=name, candidate_id=f"{kind}-{j}", language=language, code=code,
                                      source="human", meta={"expected": kind, "solution_index": j}).row())
    return pd.DataFrame(rows, columns=CANDIDATES)
