"""Evaluation: candidates run on their problems' tests, judged and scored; reference checks of a dataset.

One module per job:

- `candidates`: the candidates table checked against its problems, and loaded
  from a run folder, a table or a problems dataset (`load_candidate_set`);
- `problem_record`: what a run folder was run on (dataset, split, problems), so that
  the folder alone can be scored again;
- `run_folder` and `executions`: the executions stage (`run_executions`),
  resumable from a run folder whose rows are keyed by everything that decides them;
- `reference_categories` and `references`: the dataset's own solutions on its
  tests (`check_references`, AlphaCodium's cleaning on evidence only);
- `suite_strength`: how many wrong programs a test suite lets through;
- `scoring`: execute, judge and score (`score_candidates`: pass@k, n@k, intervals;
  `judge_candidates`: judgements of every candidate, those without code unrun);
- `given_tests`: `evaluate(candidates, tests, k=...)`, the notebook entry point
  (also `acodium.evaluate`).

Every function that runs programs takes one `execution: acodium.execute.Execution`
(backend, cache, workers, time limit override; None: the defaults).
"""

from __future__ import annotations

from .candidates import check_candidates, generation_failures, has_code, load_candidate_set
from .executions import MACHINE_RETRIES, RunFolderWarning, RunStats, run_executions, verdicts
from .given_tests import EvaluationResult, evaluate
from .problem_record import problem_record, read_problem_record, recorded_problems, save_problem_record
from .reference_categories import (INVALID, NO_REFERENCE, NOT_CHECKED, PROBLEM_CATEGORIES, PROBLEM_OK,
                                   SEVERAL_ANSWERS, SLOW_OR_BROKEN, TEST_CATEGORIES, UNCONFIRMED, VALID,
                                   possibly_multi_answer)
from .references import ReferenceReport, check_references
from .run_folder import CHECKER
from .scoring import (CALLS_FAILED, FEWER_GENERATED, NO_CODE, NONE_GENERATED, Scores, judge_candidates,
                      score_candidates, short_pools, short_pools_note)
from .suite_strength import suite_false_positives, test_suite_strength, unconfirmed_mutated

__all__ = [
    "CALLS_FAILED", "CHECKER", "EvaluationResult", "FEWER_GENERATED", "INVALID", "MACHINE_RETRIES",
    "NONE_GENERATED", "NOT_CHECKED", "NO_CODE", "NO_REFERENCE", "PROBLEM_CATEGORIES", "PROBLEM_OK",
    "ReferenceReport", "RunFolderWarning", "RunStats", "SEVERAL_ANSWERS", "SLOW_OR_BROKEN", "Scores",
    "TEST_CATEGORIES", "UNCONFIRMED", "VALID", "check_candidates", "check_references", "evaluate",
    "generation_failures", "has_code", "judge_candidates", "load_candidate_set", "possibly_multi_answer",
    "problem_record", "read_problem_record", "recorded_problems", "run_executions", "save_problem_record",
    "score_candidates", "short_pools", "short_pools_note",
    "suite_false_positives", "test_suite_strength", "unconfirmed_mutated", "verdicts",
]
