"""AlphaCode's analyses of a run folder (Li et al. 2022, sections 5 and 6), each a plain function returning a table.

- `run`: a run folder read whole (`read_run`), made offline (`offline_run`), or scored (`score_run`);
- `solve_rates`: the solve rate per problem, by tag, by rating and by difficulty;
- `failures`: how samples end (no code, compile error, crash, limits, wrong), by language;
- `lengths`: the samples' length against the human solutions' of the same problem;
- `copying`: the longest substring each correct sample shares with a corpus of human solutions
  (a suffix automaton, `SuffixAutomaton`), the same of human solutions (`human_copying`), distributions;
- `metadata`: two runs compared problem by problem (the `alphacode` prompt with true against random
  tags and ratings), with the exact sign test;
- `report`: all of them for one folder (`analyse`; `recipe`, what the notebook calls);
- `figures`: their figures.

Every bad input (a folder that is not a run folder, one without the table an
analysis needs, two runs on different problems) is one UserError sentence.
"""

from __future__ import annotations

from .copying import (COPYING_COLUMNS, Match, SuffixAutomaton, brute_force_lcs, copying, copying_distribution,
                      human_copying, reference_corpus)
from .failures import OUTCOMES, failure_shares, sample_outcomes
from .lengths import LENGTH_COLUMNS, sample_lengths
from .metadata import Sensitivity, metadata_sensitivity, run_settings
from .report import Analyses, analyse, recipe
from .run import Run, offline_run, read_run, score_run
from .solve_rates import (PER_PROBLEM, per_problem, solve_rate_by_difficulty, solve_rate_by_rating,
                          solve_rate_by_tag)

__all__ = [
    "Analyses", "COPYING_COLUMNS", "LENGTH_COLUMNS", "Match", "OUTCOMES", "PER_PROBLEM", "Run", "Sensitivity",
    "SuffixAutomaton", "analyse", "brute_force_lcs", "copying", "copying_distribution", "failure_shares", "human_copying",
    "metadata_sensitivity", "offline_run", "per_problem", "read_run", "recipe", "reference_corpus", "run_settings",
    "sample_lengths", "sample_outcomes", "score_run", "solve_rate_by_difficulty", "solve_rate_by_rating", "solve_rate_by_tag",
]
