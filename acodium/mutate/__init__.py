"""Mutations: new test inputs from existing ones, and faulty variants of correct programs.

Two tools share this package because both make "near misses":

- **Test-input mutation** (AlphaCode, section 3.2.1; `inputs`): small edits of
  an input (an integer plus or minus one, doubled, halved, set to a bound
  seen; two values of a row of distinct integers swapped; a bit of a binary
  string flipped; two characters of a string swapped or one changed) that
  keep the input's shape (`shape`), so the edited input still parses.
  `structure_break` says whether a mutated input still parses the way its
  original does. Every mutated input may serve clustering, which needs no
  expected output; it becomes a test only where at least two reference
  solutions agree on its output (`suite`: `add_mutated_tests`, `reference_tests`).
- **Program mutants** of a correct solution (`programs`: `program_mutants`):
  one small edit of its syntax tree (an operator, a comparison, a constant, a
  loop bound). Mutants are plausible wrong candidates: they measure how many
  wrong programs a test suite lets through (see `acodium.evaluation.test_suite_strength`).
- **Model-written inputs** (`model_inputs`: `add_model_tests`): AlphaCode's
  test-input generation with a chat model, kept where they read like the
  public examples; they fill the "ai" set (clustering), and the model's
  expected outputs are CodeT's model tests, never correctness tests.
"""

from __future__ import annotations

from .inputs import mutate_input, mutate_inputs
from .model_inputs import ModelInputSettings, add_model_tests
from .programs import Mutant, program_mutants
from .shape import structure_break
from .suite import add_mutated_tests, reference_tests

__all__ = [
    "ModelInputSettings", "Mutant", "add_model_tests", "add_mutated_tests", "mutate_input", "mutate_inputs",
    "program_mutants", "reference_tests", "structure_break",
]
