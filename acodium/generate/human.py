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
from ..wording import plural
from .base import Candidate, CandidateSource

FIELDS = {"c": "solutions", "i": "incorrect_solutions"}  # the id's label -> the dataset field


def human_ids(row: Mapping[str, Any], k: int | None, correct_fraction: float, seed: int,
                languages: Sequence[str]) -> list[str]:
    """The ids (`human-c<j>`, `human-i<j>`) of k solutions of a problem, `correct_fraction` of them correct.

    `correct_fraction` is the share of the k asked for that is drawn from the problem's
    correct solutions (`solutions`), rounded; the rest is drawn from its incorrect ones
    (`incorrect_solutions`): 1.0 takes correct solutions only, 0.0 incorrect ones only.
    Each share is sampled without replacement with a per-problem seed, and a pool
    shorter than its share gives what it has: the other pool does not fill in (which
    would change the mix asked for), so a problem with fewer gives fewer than k
    (the generation loop says so per problem). k=None: all of them, correct and incorrect.
    """
    correct = [f"human-c{j}" for j, _, _ in dataset_solutions(row, "solutions", languages)]
    incorrect = [f"human-i{j}" for j, _, _ in dataset_solutions(row, "incorrect_solutions", languages)]
    if k is None:
        return correct + incorrect
    rng = random.Random(f"{seed}|{row['name']}")
    rng.shuffle(correct)
    rng.shuffle(incorrect)
    want_correct, want_incorrect = human_shares(k, correct_fraction)
    return correct[:want_correct] + incorrect[:want_incorrect]


def human_shares(k: int, correct_fraction: float) -> tuple[int, int]:
    """How many of k are asked of the correct and of the incorrect solutions."""
    want_correct = round(k * correct_fraction)
    return want_correct, k - want_correct


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
    `incorrect_solutions` (see `human_ids`: a short pool gives fewer, the other never fills
    in), in `languages` (default: every language acodium runs; `gencode gen --source human`
    passes those whose runtime this machine has)."""

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

    def why_fewer(self, problem, k, planned):
        want_correct, want_incorrect = human_shares(k, self.correct_fraction)
        correct = sum(cid.startswith("human-c") for cid in planned)
        incorrect = len(planned) - correct
        where = "" if set(RUNNABLE_LANGUAGES) <= set(self.languages) else f" in {'/'.join(self.languages)}"
        fraction = f"correct_fraction {self.correct_fraction:g}"
        if not want_incorrect:
            return f"only {plural(correct, 'correct solution')}{where}; {fraction} takes no incorrect ones"
        if not want_correct:
            return f"only {plural(incorrect, 'incorrect solution')}{where}; {fraction} takes no correct ones"
        return (f"{correct} of the {want_correct} correct and {incorrect} of the {want_incorrect} incorrect "
                f"solutions asked{where} ({fraction})")

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
