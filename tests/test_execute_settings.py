"""`Execution`, the one value that says how candidates run: validation, limits, and its batch."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import pytest

from acodium.errors import UserError
from acodium.execute import (
    Execution,
    Job,
    Limits,
    Program,
    Status,
    get_backend,
    limits_for_problem,
)
from acodium.execute.settings import execution_from
from acodium.execute.types import MAX_TIME_S


def one_sentence(message: str) -> bool:
    """A single line ending in a full stop, with no second sentence started inside it."""
    return "\n" not in message and message.endswith(".") and not re.search(r"[.:;]\s+[A-Z][a-z]+ ", message)


def refused(**settings) -> str:
    with pytest.raises(UserError) as caught:
        Execution(**settings)
    message = str(caught.value)
    assert one_sentence(message), message
    return message


# --- validation ------------------------------------------------------------------------------

def test_defaults_are_the_local_sandbox_with_the_problems_own_limits():
    execution = Execution()
    assert (execution.backend, execution.cache_dir, execution.workers, execution.time_s) == ("local", None, None, None)


@pytest.mark.parametrize("backend", ["docker", "", "LOCAL", None, 3])
def test_an_unknown_backend_is_one_sentence_naming_the_choices(backend):
    message = refused(backend=backend)
    assert repr(backend) in message and "local, code_contests" in message


@pytest.mark.parametrize("workers", [0, -2, 1.5, "4", True, False])
def test_workers_must_be_a_positive_whole_number(workers):
    assert repr(workers) in refused(workers=workers)


@pytest.mark.parametrize("time_s", [0, -1, math.nan, math.inf, MAX_TIME_S + 1, "2", True])
def test_a_time_limit_outside_the_allowed_range_is_one_sentence(time_s):
    assert f"(0, {MAX_TIME_S:g}]" in refused(time_s=time_s)


def test_accepted_values_are_normalised():
    execution = Execution(backend="code_contests", cache_dir="some/cache", workers=3, time_s=2)
    assert execution.cache_dir == Path("some/cache") and isinstance(execution.time_s, float)
    assert Execution(time_s=MAX_TIME_S).time_s == MAX_TIME_S  # the bound itself is allowed


def test_the_value_is_frozen_and_replace_validates_again():
    execution = Execution(workers=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        execution.workers = 4
    changed = execution.replace(time_s=1.5)
    assert (changed.workers, changed.time_s, execution.time_s) == (2, 1.5, None)
    with pytest.raises(UserError):
        execution.replace(workers=0)


def test_equal_settings_are_equal_values():
    """Settings travel as one value: two runs with the same settings compare (and hash) equal."""
    assert Execution(cache_dir="c", time_s=2) == Execution(cache_dir=Path("c"), time_s=2.0)
    assert len({Execution(), Execution(), Execution(workers=1)}) == 2


# --- limits ----------------------------------------------------------------------------------

def test_limits_are_the_problems_unless_a_time_limit_overrides(train_rows):
    from acodium.data import starter_rows

    rows = train_rows[:5] + starter_rows()
    for row in rows:
        for language in ("python3", "cpp"):
            assert Execution().limits(row, language) == limits_for_problem(row, language)
            overridden = Execution(time_s=0.75).limits(row, language)
            assert overridden == dataclasses.replace(limits_for_problem(row, language), time_s=0.75)


# --- execution ------------------------------------------------------------------------------

def test_get_backend_is_the_shared_instance():
    assert Execution().get_backend() is get_backend("local")


def test_run_batch_uses_the_settings_cache(tmp_path):
    execution = Execution(cache_dir=tmp_path / "cache", workers=1)
    job = Job(Program("python3", "print(int(input()) * 2)"), ["2\n", "5\n"], ["4", "11"], Limits(time_s=2))
    seen = []
    first = execution.run_batch([job], progress=False, on_result=lambda i, r: seen.append(i))[0]
    assert [(r.status, r.passed, r.cached) for r in first] == [(Status.OK, True, False), (Status.OK, False, False)]
    assert seen == [0]
    again = execution.run_batch([job], progress=False)[0]
    assert [(r.stdout, r.passed, r.cached) for r in again] == [("4\n", True, True), ("10\n", False, True)]
    assert (tmp_path / "cache" / "executions.sqlite").exists()
    uncached = Execution(workers=1).run_batch([job], progress=False)[0]
    assert not any(r.cached for r in uncached)


# --- the older keywords ------------------------------------------------------------------------

def test_execution_from_the_older_keywords():
    assert execution_from() == Execution()
    assert execution_from(backend=None, cache_dir=None, workers=None, time_limit_s=None) == Execution()
    assert execution_from(backend="local", workers=2, time_limit_s=4) == Execution(workers=2, time_s=4.0)
    given = Execution(time_s=1)
    assert execution_from(given) is given
    assert execution_from(given, workers=None) is given  # None means not given


def test_execution_from_refuses_both_forms_and_other_values():
    with pytest.raises(UserError, match=r"either execution= or cache_dir, workers, not both") as caught:
        execution_from(Execution(), workers=2, cache_dir="c")
    assert one_sentence(str(caught.value))
    with pytest.raises(UserError, match="must be an acodium.execute.Execution, not dict"):
        execution_from({"backend": "local"})
    with pytest.raises(TypeError, match="unexpected execution settings: timeout"):
        execution_from(timeout=3)
    with pytest.raises(UserError, match="Unknown execution backend"):
        execution_from(backend="docker")
