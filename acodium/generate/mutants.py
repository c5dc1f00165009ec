"""Program mutants of a problem's correct solutions as candidates: the `mutants` source.

Mutant candidates are built here: `problem_mutants` makes one problem's mutants
(the mutation operators are `acodium.mutate.program_mutants`), `MutantSource`
puts it behind the source interface.
"""

from __future__ import annotations

import random
from typing import Any, Mapping, Sequence

from ..mutate import program_mutants
from .base import Candidate, CandidateSource
from .human import dataset_solutions

DEFAULT_MUTANTS = 10  # per problem when the run asks for all (k=None)


def problem_mutants(row: Mapping[str, Any], want: int, seed: int,
                    languages: Sequence[str] = ("python3",)) -> dict[str, Candidate]:
    """Up to `want` mutants of a problem, by id (`mutant-<solution index>-<mutant index>`).

    Taken from the first correct solution in `languages` and, when it yields
    fewer, from the next ones. Each solution's seed is drawn from (seed, problem,
    solution index), as in `acodium.mutate.mutant_candidates`: the same mutants either way.
    """
    made: dict[str, Candidate] = {}
    for j, language, code in dataset_solutions(row, "solutions", languages):
        if len(made) >= want:
            break
        solution_seed = random.Random(f"{seed}|{row['name']}|{j}").randrange(2**32)
        for m, mutant in enumerate(program_mutants(code, want - len(made), solution_seed)):
            cid = f"mutant-{j}-{m}"
            made[cid] = Candidate(
                problem=row["name"], candidate_id=cid, language=language, code=mutant.code,
                source="mutant", meta={"solution_index": j, "mutation": mutant.description},
            )
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

    async def make(self, problem, candidate_id):
        return self._by_id[(problem["name"], candidate_id)]  # make() only follows plan()
