"""Program mutants of a problem's correct solutions as candidates: the `mutants` source.

Mutant candidates are built here and only here: `solution_mutants` makes the
mutants of one solution (the mutation operators are `acodium.mutate.program_mutants`),
`problem_mutants` fills a problem's pool from its solutions in turn, `MutantSource`
puts that behind the source interface, and `mutant_candidates` is the table of
a fixed number of mutants per solution (suite-strength studies, the cleaning
benchmark).
"""

from __future__ import annotations

import random
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from ..data import dataset_solutions, problem_rows
from ..mutate import program_mutants
from ..tables import CANDIDATES
from ..wording import plural
from .base import Candidate, CandidateSource

DEFAULT_MUTANTS = 10  # per problem when the run asks for all (k=None)


def solution_mutants(problem: str, index: int, language: str, code: str, count: int,
                     seed: int) -> list[Candidate]:
    """Up to `count` mutants of solution `index` of a problem (`mutant-<index>-<m>`).

    The solution's own seed is drawn from (seed, problem, index), so a mutant's id
    names the same program whichever builder asked for it.
    """
    solution_seed = random.Random(f"{seed}|{problem}|{index}").randrange(2**32)
    return [
        Candidate(problem=problem, candidate_id=f"mutant-{index}-{m}", language=language, code=mutant.code,
                  source="mutant", meta={"solution_index": index, "mutation": mutant.description})
        for m, mutant in enumerate(program_mutants(code, count, solution_seed))
    ]


def problem_mutants(row: Mapping[str, Any], want: int, seed: int,
                    languages: Sequence[str] = ("python3",)) -> dict[str, Candidate]:
    """Up to `want` mutants of a problem, by id (`mutant-<solution index>-<mutant index>`).

    Taken from the first correct solution in `languages` and, when it yields
    fewer, from the next ones. Each solution's seed is drawn from (seed, problem,
    solution index) by `solution_mutants`, as in `mutant_candidates`: the same mutants either way.
    """
    made: dict[str, Candidate] = {}
    for j, language, code in dataset_solutions(row, "solutions", languages):
        if len(made) >= want:
            break
        made.update((c.candidate_id, c) for c in solution_mutants(row["name"], j, language, code, want - len(made), seed))
    return made


class MutantSource(CandidateSource):
    """k mutants of the dataset's correct solutions per problem (`problem_mutants`);
    deterministic in the seed and the problem. The `source` column says `mutant`."""

    name = "mutants"
    columns = ("name", "solutions")

    def __init__(self, seed: int = 0, languages: Sequence[str] = ("python3",)):
        self.seed = seed
        self.languages = tuple(languages)
        self._made: dict[tuple[str, int | None], dict[str, Candidate]] = {}
        self._by_id: dict[tuple[str, str], Candidate] = {}

    def config(self) -> dict[str, Any]:
        return {"source": self.name, "seed": self.seed, "languages": list(self.languages)}

    def _mutants(self, problem, k: int | None) -> dict[str, Candidate]:
        key = (problem["name"], k)
        if key not in self._made:
            made = problem_mutants(problem, k if k is not None else DEFAULT_MUTANTS, self.seed, self.languages)
            self._made[key] = made
            self._by_id.update({(problem["name"], cid): c for cid, c in made.items()})
        return self._made[key]

    def plan(self, problem, k):
        return list(self._mutants(problem, k))

    def why_fewer(self, problem, k, planned):
        solutions = len(dataset_solutions(problem, "solutions", self.languages))
        if not solutions:
            return f"no correct solution in {'/'.join(self.languages)} to mutate"
        language = "/".join(self.languages)
        return f"mutating {plural(solutions, f'correct {language} solution')} gives only {plural(len(planned), 'mutant')}"

    async def make(self, problem, candidate_id):
        return self._by_id[(problem["name"], candidate_id)]  # make() only follows plan()


def mutant_candidates(problems: Iterable[Mapping[str, Any]], per_solution: int, seed: int = 0, *,
                      max_solutions: int | None = None, include_originals: bool = False,
                      languages: Sequence[str] = ("python3",)) -> pd.DataFrame:
    """A candidates table of `per_solution` mutants of each of a problem's correct solutions.

    The first `max_solutions` correct solutions in `languages` of each problem are
    mutated; with `include_originals`, each original is a `human-<index>` candidate
    too. Seeds differ per problem and solution but are fixed by `seed`.
    """
    rows = []
    for name, row in problem_rows(problems).items():
        for j, language, code in dataset_solutions(row, "solutions", languages)[:max_solutions]:
            if include_originals:
                rows.append(Candidate(problem=name, candidate_id=f"human-{j}", language=language, code=code,
                                      source="human", meta={"solution_index": j}).row())
            rows += [c.row() for c in solution_mutants(name, j, language, code, per_solution, seed)]
    return pd.DataFrame(rows, columns=CANDIDATES)
