"""AlphaCode-shaped synthetic pools: the `synthetic` source.

Pools of the dataset's own programs taken as they come (its solutions, and
random program mutants of the correct ones) have whatever shape those programs
give. On the eight starter problems, every solution and 40 mutants made pools
of 34 to 45 programs of which 10 to 21 passed the public tests, 6 to 15 of those
wrong: ten submissions took nearly every program passing the public tests, so
filtering alone reached pass@k and clustering had nothing left to choose; and
how many programs pass, or are wrong, was nobody's choice. This source builds
pools of a chosen shape, the one AlphaCode reports for a model's samples.
AlphaCode (Li et al. 2022, "Competition-level code generation with
AlphaCode", Science 378) reports two facts it rests on:

- a large majority of samples fail the public (example) tests: filtering on
  them "removes approximately 99% of model samples" (section 4.5);
- of those that pass, a sizeable share are wrong: among solutions passing
  CodeContests' raw tests (about 12 per problem, public ones included) 62%
  were false positives (Table 2, by manual inspection). Public tests alone
  are fewer, so at least that share of the programs passing them is wrong.

A pool of this source holds k programs per problem in those proportions:
`fail_public` of them fail a public test (default 0.7: a large majority, short
of 99%, which would leave a pool of tens with nothing passing), and
`false_positives` of the rest pass the public tests but fail a hidden one
(default 0.75: above Table 2's 62%, as explained above); the others pass every
test. The programs come from the dataset: its solutions, correct and
incorrect (the first `max_solutions` of each), and up to
`mutants_per_solution` mutants of each of those correct ones
(`acodium.mutate.program_mutants`). Which role a program plays is decided by
running it (`classify`), never by the dataset's labels: a "correct" solution
that fails a hidden test is a false positive here.

Choosing programs by their hidden-test verdicts is what makes the pool
synthetic, and the candidates table says so: `source` is "synthetic" and
`meta` holds the role each program was chosen for. The verdicts build the
pool only; the selection policies that the pool then serves see what a
contestant sees (public tests, clustering inputs), as always. Nothing here
looks at the clustering inputs: whether clustering tells the false positives
from the correct programs is measured, not built in.

A pool is a function of the seed, the problem and the verdicts. Verdicts are
the executor's (CPU time against the limit), so only a program whose time is
at its limit can change role between machines; with an execution cache the
verdicts, hence the pools, are kept. A role short of programs leaves its
places to programs failing the public tests; a problem short of those too
gets a smaller pool.
"""

from __future__ import annotations

import json
import random
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from ..data import HIDDEN_TEST_SETS, dataset_solutions, problem_tests
from ..errors import UserError
from ..execute import Execution
from ..mutate import program_mutants
from ..tables import CANDIDATES
from .base import Candidate, CandidateSource

CORRECT, FALSE_POSITIVE, FAILS_PUBLIC = "correct", "false positive", "fails public"
ROLES = (CORRECT, FALSE_POSITIVE, FAILS_PUBLIC)
DEFAULT_POOL = 30  # programs per problem when a run asks for all (k=None)
FAIL_PUBLIC = 0.7
FALSE_POSITIVES = 0.75
MUTANTS_PER_SOLUTION = 60  # a short program has fewer single edits: all of them, then
MAX_SOLUTIONS = 3  # of each kind: a CodeContests problem may hold hundreds, each costing runs


def pool_counts(k: int, fail_public: float = FAIL_PUBLIC, false_positives: float = FALSE_POSITIVES) -> dict[str, int]:
    """How many programs of each role a pool of k holds (before any role runs short)."""
    passing = k - round(k * fail_public)
    wrong = round(passing * false_positives)
    return {CORRECT: passing - wrong, FALSE_POSITIVE: wrong, FAILS_PUBLIC: k - passing}


def program_universe(row: Mapping[str, Any], mutants_per_solution: int, seed: int,
                     languages: Sequence[str] = ("python3",), max_solutions: int = MAX_SOLUTIONS,
                     ) -> dict[str, Candidate]:
    """Every program a problem's pool may take, by id: `syn-c<j>` (solution j), `syn-i<j>` (incorrect
    solution j), `syn-m<j>-<m>` (mutant m of solution j), from the first `max_solutions` solutions of
    each kind in `languages`. Their role is not known yet (`classify`)."""
    name = row["name"]
    made: dict[str, Candidate] = {}
    for label, field_name, kind in (("c", "solutions", "solution"), ("i", "incorrect_solutions", "incorrect solution")):
        for j, language, code in dataset_solutions(row, field_name, languages)[:max_solutions]:
            made[f"syn-{label}{j}"] = Candidate(name, f"syn-{label}{j}", language, code, "synthetic",
                                                {"synthetic": True, "from": kind, "dataset_index": j})
    for j, language, code in dataset_solutions(row, "solutions", languages)[:max_solutions]:
        if language != "python3":
            continue  # mutants are edits of a Python syntax tree
        solution_seed = random.Random(f"{seed}|{name}|{j}").randrange(2**32)
        for m, mutant in enumerate(program_mutants(code, mutants_per_solution, solution_seed)):
            made[f"syn-m{j}-{m}"] = Candidate(
                name, f"syn-m{j}-{m}", language, mutant.code, "synthetic",
                {"synthetic": True, "from": "mutant of a solution", "dataset_index": j, "mutation": mutant.description})
    return made


def classify(problems: Iterable[Mapping[str, Any]], universes: Mapping[str, Mapping[str, Candidate]], *,
             execution: Execution, test_sets: Sequence[str] = HIDDEN_TEST_SETS,
             progress: bool = True) -> dict[str, dict[str, str]]:
    """The role of every program, by problem and id: run on the public tests, then (those passing them)
    on the hidden `test_sets`, each stopping at its first failure (a program that loops costs one
    time limit, not one per test; the evaluation runs the public tests of the pool's programs in full).

    The runs go through `execution` (its cache too), so an evaluation of the pool finds them there. A
    test over its time limit is not run again to tell a slow positive from a timeout: both fail, so the
    role is the same, and a program left out of the pool costs no second run.
    """
    from ..evaluation.executions import run_executions  # the evaluation's runs, not a copy of them
    from ..select import correct_on_hidden, filter_public

    rows = [dict(r) for r in problems]
    execution = execution.replace(slow_cap=1.0)
    for row in rows:
        if not any(problem_tests(row, s) for s in test_sets):
            raise UserError(f"The synthetic source chooses programs by their hidden tests, and problem "
                            f"{row['name']!r} has no {' or '.join(s + '_tests' for s in test_sets)}.")
    table = pd.DataFrame([c.row() for row in rows for c in universes[row["name"]].values()], columns=CANDIDATES)
    roles: dict[str, dict[str, str]] = {row["name"]: {} for row in rows}
    if table.empty:
        return roles
    public, _ = run_executions(rows, table, test_sets=["public"], execution=execution, stop_on_first_failure=True,
                               stop_sets=["public"], progress=progress)
    passes = filter_public(public) if len(public) else pd.Series(True, index=pd.MultiIndex.from_frame(
        table[["problem", "candidate_id"]]))
    passing = table[[bool(passes.get((p, c), True)) for p, c in zip(table["problem"], table["candidate_id"])]]
    correct = pd.Series(dtype=bool)
    if len(passing):
        hidden, _ = run_executions(rows, passing, test_sets=list(test_sets), execution=execution,
                                   stop_on_first_failure=True, stop_sets=list(test_sets), progress=progress)
        correct = correct_on_hidden(hidden, test_sets)
    for problem, cid in zip(table["problem"], table["candidate_id"]):
        if not passes.get((problem, cid), True):
            roles[problem][cid] = FAILS_PUBLIC
        else:
            roles[problem][cid] = CORRECT if bool(correct.get((problem, cid), False)) else FALSE_POSITIVE
    return roles


def compose(problem: str, roles: Mapping[str, str], k: int, *, fail_public: float = FAIL_PUBLIC,
            false_positives: float = FALSE_POSITIVES, seed: int = 0) -> list[str]:
    """The ids of a problem's pool of k: `pool_counts` of each role, drawn with a seed per (problem, role).

    A role short of programs leaves its places to programs failing the public
    tests; with too few of those as well, the pool is smaller than k.
    """
    wanted = pool_counts(k, fail_public, false_positives)
    by_role: dict[str, list[str]] = {}
    for role in ROLES:
        ids = sorted(cid for cid, r in roles.items() if r == role)
        random.Random(f"{seed}|{problem}|{role}").shuffle(ids)
        by_role[role] = ids
    chosen = by_role[CORRECT][:wanted[CORRECT]] + by_role[FALSE_POSITIVE][:wanted[FALSE_POSITIVE]]
    chosen += by_role[FAILS_PUBLIC][:k - len(chosen)]
    random.Random(f"{seed}|{problem}").shuffle(chosen)
    return chosen


def roles_in_clusters(candidates: pd.DataFrame, judgements: pd.DataFrame) -> pd.DataFrame:
    """How a synthetic pool's roles fall into behavioural clusters, one row per problem.

    Columns: the programs of each role (`correct`, `false positive`, `fails public`),
    `told apart` (false positives in no cluster holding a correct program: those
    clustering can tell from the correct ones) and `correct clusters` (clusters
    the correct programs fall into; 1 when they all behave alike). It reads the
    roles the source recorded in `meta`: an analysis of the pool, never an input
    of a selection policy. Candidates of other sources are left out.
    """
    columns = ["problem", *ROLES, "told apart", "correct clusters"]
    mine = candidates[candidates["source"] == "synthetic"]
    if mine.empty:
        return pd.DataFrame(columns=columns)
    roles = [json.loads(m).get("role") if isinstance(m, str) else None for m in mine["meta"]]
    table = mine[["problem", "candidate_id"]].assign(role=roles).merge(
        judgements[["problem", "candidate_id", "cluster"]], on=["problem", "candidate_id"])
    rows = []
    for problem, group in table.groupby("problem", sort=False):
        correct = set(group.loc[group["role"] == CORRECT, "cluster"])
        wrong = group[group["role"] == FALSE_POSITIVE]
        rows.append({"problem": problem, **{role: int((group["role"] == role).sum()) for role in ROLES},
                     "told apart": int((~wrong["cluster"].isin(correct)).sum()), "correct clusters": len(correct)})
    return pd.DataFrame(rows, columns=columns)


class SyntheticSource(CandidateSource):
    """AlphaCode-shaped pools (see the module doc): k programs per problem, `fail_public` of them failing
    the public tests, `false_positives` of the others failing a hidden test. `execution` runs the programs
    that decide the roles: give the evaluation's own, so that it finds those runs in its cache."""

    name = "synthetic"
    columns = None  # the source runs programs: every column (tests, limits, checkers)

    def __init__(self, seed: int = 0, fail_public: float = FAIL_PUBLIC, false_positives: float = FALSE_POSITIVES,
                 mutants_per_solution: int = MUTANTS_PER_SOLUTION, max_solutions: int = MAX_SOLUTIONS,
                 languages: Sequence[str] = ("python3",), execution: Execution | None = None,
                 test_sets: Sequence[str] = HIDDEN_TEST_SETS, progress: bool = True):
        for what, share in (("fail_public", fail_public), ("false_positives", false_positives)):
            if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
                raise UserError(f"{what} is a share of a pool, between 0 and 1, not {share!r}.")
        for what, count, least in (("mutants_per_solution", mutants_per_solution, 0),
                                   ("max_solutions", max_solutions, 1)):
            if isinstance(count, bool) or not isinstance(count, int) or count < least:
                raise UserError(f"{what} is a whole number, {least} or more, not {count!r}.")
        if isinstance(test_sets, str) or "public" in test_sets or not test_sets:
            raise UserError("The synthetic source's test_sets are the hidden sets that decide correctness "
                            f"(such as private and generated), not {test_sets!r}.")
        self.seed, self.fail_public, self.false_positives = seed, float(fail_public), float(false_positives)
        self.mutants_per_solution, self.max_solutions = mutants_per_solution, max_solutions
        self.languages = tuple(languages)
        self.execution = execution if execution is not None else Execution()
        self.test_sets = tuple(test_sets)
        self.progress = progress
        self._universe: dict[str, dict[str, Candidate]] = {}
        self._roles: dict[str, dict[str, str]] = {}

    def config(self) -> dict[str, Any]:
        return {"source": self.name, "seed": self.seed, "fail_public": self.fail_public,
                "false_positives": self.false_positives, "mutants_per_solution": self.mutants_per_solution,
                "max_solutions": self.max_solutions, "languages": list(self.languages),
                "test_sets": list(self.test_sets), "backend": self.execution.backend,
                "time_s": self.execution.time_s, "checker": self.execution.checker}

    def prepare(self, problems, k):
        """Classify the programs of every problem not classified yet, in one batch."""
        todo = [row for row in problems if row["name"] not in self._roles]
        if not todo:
            return
        for row in todo:
            self._universe[row["name"]] = program_universe(row, self.mutants_per_solution, self.seed, self.languages,
                                                           self.max_solutions)
        self._roles.update(classify(todo, self._universe, execution=self.execution, test_sets=self.test_sets,
                                    progress=self.progress))

    def roles(self, problem: str) -> dict[str, str]:
        """The role of every program of a classified problem, by id."""
        return dict(self._roles[problem])

    def plan(self, problem, k):
        self.prepare([problem], k)
        return compose(problem["name"], self._roles[problem["name"]], k if k is not None else DEFAULT_POOL,
                       fail_public=self.fail_public, false_positives=self.false_positives, seed=self.seed)

    def why_fewer(self, problem, k, planned):
        roles = list(self._roles.get(problem["name"], {}).values())
        return (f"its {len(roles)} programs ({roles.count(CORRECT)} correct, {roles.count(FALSE_POSITIVE)} false "
                f"positives, {roles.count(FAILS_PUBLIC)} failing the public tests) fill no more of the shape asked")

    async def make(self, problem, candidate_id):
        made = self._universe[problem["name"]][candidate_id]  # make() only follows plan()
        role = self._roles[problem["name"]][candidate_id]
        return Candidate(made.problem, made.candidate_id, made.language, made.code, made.source,
                         {**made.meta, "role": role, "chosen_by": "its verdicts on the public and hidden tests"})
