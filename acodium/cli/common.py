"""Shared pieces of the command line: options with both spellings, env defaults, number types,
and the options of every command that runs programs, with the one `Execution` they make."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import click

from ..data import HIDDEN_TEST_SETS, TEST_SETS, test_set_name
from ..errors import UserError
from ..paths import cache_dir, caches, data_dir, folder_problem  # noqa: F401  (the commands' defaults)
from . import AliasedGroup

if TYPE_CHECKING:
    from ..execute import Execution


def option(name: str, *args, **kwargs):
    """A click option spelled `--name_with_underscores`, also accepting `--name-with-dashes`."""
    flag = "--" + name
    decls = [flag]
    dashed = "--" + name.replace("_", "-")
    if dashed != flag:
        decls.append(dashed)
    return click.option(*decls, *args, name, **kwargs)


def options(*decorators: Callable) -> Callable:
    """One decorator applying `decorators` in the order given: the options of a group of
    commands, listed in their --help in that order."""

    def wrap(f):
        for decorator in reversed(decorators):
            f = decorator(f)
        return f

    return wrap


def group(help: str):
    """A command group that accepts dashed and underscored command names."""
    return click.group(cls=AliasedGroup, help=help)


class Folder(click.Path):
    """A folder the command writes (a run folder, an output folder): refused before any work
    when it cannot be made or written, since the failure would otherwise come after the work."""

    def __init__(self, path_type: type | None = None):
        super().__init__(file_okay=False, path_type=path_type)

    def convert(self, value, param, ctx):
        value = super().convert(value, param, ctx)
        problem = folder_problem(value)
        if problem is not None:
            option = param.opts[0] if param is not None and param.opts else "The folder"
            raise UserError(f"{option} {value} cannot be written: {problem}.")
        return value


def require_utf8(path: str | os.PathLike, what: str) -> None:
    """Refuse a file that is not UTF-8 text with one sentence, before a loader trips on it.

    A missing or unreadable file is left to the loader, which says so in its own words.
    """
    try:
        Path(path).read_bytes().decode("utf-8")
    except OSError:
        return
    except UnicodeDecodeError as e:
        raise not_utf8(what, path, e) from None


def not_utf8(what: str, path: str | os.PathLike, e: UnicodeDecodeError) -> UserError:
    """The sentence for a file that is not UTF-8 text, showing the first byte that is not."""
    return UserError(f"The {what} {path} is not UTF-8 text (byte {e.object[e.start]:#04x} at position {e.start}).")


# ---- numbers ----------------------------------------------------------------------------
# Every numeric option of every command takes one of the types below: a value out of its
# range is refused before any work with one sentence naming the option (a UserError, so
# the command line prints it as `gencode: ...` and exits 2), never run with.

# The longest wait an option accepts besides a test's time limit (MAX_TIME_S): a request or a
# notebook cell may take long, but not forever (a timeout of 1e300 s overflows the event loop).
MAX_SECONDS = 86400.0


class Number(click.ParamType):
    """A whole or real number within bounds; `what` says in words what the option takes."""

    def __init__(self, kind: type, name: str, what: str, *, low: float | None = None,
                 high: float | None = None, above: bool = False):
        self.kind = kind
        self.name = name  # click's metavar (INTEGER, SECONDS, ...)
        self.what = what
        self.low, self.high, self.above = low, high, above

    def bounds(self) -> tuple[float | None, float | None, str]:
        """(low, high, what): a method so that a bound may be read when a command runs."""
        return self.low, self.high, self.what

    def convert(self, value, param, ctx):
        option = param.opts[0] if param is not None and param.opts else "The value"
        number = self._parse(value)
        low, high, what = self.bounds()
        ok = number is not None and (isinstance(number, int) or math.isfinite(number))
        if ok and low is not None:
            ok = number > low if self.above else number >= low
        if ok and high is not None:
            ok = number <= high
        if not ok:
            shown = value if isinstance(value, str) and value.strip() else repr(value)
            raise UserError(f"{option} must be {what}, not {shown}.")
        return number

    def _parse(self, value) -> float | int | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, self.kind):
            return value
        try:
            return self.kind(str(value).strip())
        except ValueError:
            return None


class MemoryMiB(Number):
    """MiB of memory: at least 1, and no more than this machine has (a limit above it limits nothing)."""

    def __init__(self):
        super().__init__(int, "mib", "", low=1)

    def bounds(self):
        most = physical_memory_mib()
        return 1, most, f"a whole number of MiB from 1 to {most} (the memory of this machine)"


class SecondsPerTest(Number):
    """A test's time limit in seconds: above 0 and at most the longest `Limits` takes (MAX_TIME_S)."""

    def __init__(self):
        super().__init__(float, "seconds", "", low=0, above=True)

    def bounds(self):
        from ..execute.types import MAX_TIME_S  # when a value is checked: see "execution" below

        return 0, MAX_TIME_S, f"a number of seconds above 0 and at most {MAX_TIME_S:g}"


class SlowCap(Number):
    """A slow cap: 0 (none), or from 1 to the most `Limits` takes (MAX_SLOW_CAP) times the time limit."""

    def __init__(self):
        super().__init__(float, "factor", "", low=0)

    def bounds(self):
        from ..execute.types import MAX_SLOW_CAP  # when a value is checked: see "execution" below

        return 0, MAX_SLOW_CAP, f"0, or a number from 1 to {MAX_SLOW_CAP:g} (times the time limit)"

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if 0 < number < 1:
            option = param.opts[0] if param is not None and param.opts else "The value"
            raise UserError(f"{option} must be {self.bounds()[2]}, not {value}.")
        return number


def physical_memory_mib() -> int:
    """The machine's physical memory in MiB: a limit above it limits nothing."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20


positive_int = Number(int, "integer", "a whole number of at least 1", low=1)
non_negative_int = Number(int, "integer", "a whole number of at least 0", low=0)
fraction = Number(float, "float", "a number from 0 to 1", low=0, high=1)
positive_fraction = Number(float, "float", "a number above 0 and at most 1", low=0, high=1,
                           above=True)
positive_float = Number(float, "float", "a finite number above 0", low=0, above=True)
non_negative_float = Number(float, "float", "a finite number of at least 0", low=0)
test_seconds = SecondsPerTest()
seconds = Number(float, "seconds", f"a number of seconds above 0 and at most {MAX_SECONDS:g}",
                 low=0, high=MAX_SECONDS, above=True)
memory_mib = MemoryMiB()
slow_cap_factor = SlowCap()


# --evaluation_test_type values: every test set as `<set>_tests`, and `hidden_tests` for the hidden ones.
TEST_TYPES = tuple(f"{s}_tests" for s in TEST_SETS) + ("hidden_tests",)


def parse_test_sets(text: str, option: str = "--evaluation_test_type") -> list[str]:
    """A comma list of test sets, each in any spelling (`private`, `private_tests`), `hidden` being
    the hidden ones (private + generated), as test sets, each once."""
    choices = (*TEST_SETS, "hidden")
    sets: list[str] = []
    for part in [p for p in text.split(",") if p.strip()] or [""]:  # empty parts skipped; none at all is refused
        try:
            name = test_set_name(part, among=choices)
        except UserError:
            raise UserError(f"Unknown test set {part.strip()!r} in {option}; choose among {', '.join(choices)} "
                            "(each also as <name>_tests).") from None
        sets += [s for s in (HIDDEN_TEST_SETS if name == "hidden" else [name]) if s not in sets]
    return sets


def parse_ints(text: str | None, what: str) -> list[int] | None:
    """Positive whole numbers separated by commas (or spaces), sorted and once each; None stays None."""
    if text is None:
        return None
    try:
        values = [int(v) for v in str(text).replace(" ", ",").split(",") if v]
    except ValueError:
        raise UserError(f"{what} must be whole numbers separated by commas, not {text!r}.") from None
    if not values or min(values) < 1:
        raise UserError(f"{what} must be positive whole numbers, not {text!r}.")
    return sorted(set(values))


# ---- execution --------------------------------------------------------------------------
# Every command that runs programs takes --backend, --time_limit, --workers, --no_cache, --checker and
# --slow_cap (`execution_options`) and turns them into one `Execution` (`execution_from_options`).
# acodium.execute is imported inside the functions here, never when this module loads: it
# brings the backends and concurrent.futures (~15 ms of a 90 ms start), and every `gencode`
# start, `gencode --help` included, loads each group's module and so this one (acodium.cli).


class BackendName(click.Choice):
    """One of the registered execution backends (`acodium.execute.registry.BACKENDS`),
    read when a value is checked or the choices are shown."""

    def __init__(self):  # click.Choice's would store the choices: here they are read when needed
        self.case_sensitive = True

    @property
    def choices(self) -> tuple[str, ...]:
        from ..execute.registry import BACKENDS  # see "execution" above

        return tuple(BACKENDS)


backend_option = option("backend", type=BackendName(), default="local", show_default=True,
                        help="Execution backend that runs the programs.")


class CheckerName(click.ParamType):
    """A built-in checker ("tokens", "float_rel:1e-6", ...) or a checker program's file (.cpp, .py),
    checked when given: an unknown name, a bad EPS or a missing file is one sentence naming the
    option (exit 2). The value stays text (a file as its absolute path): `Execution.checker`."""

    name = "checker"

    def convert(self, value, param, ctx):
        from ..execute.checkers import parse_checker  # see "execution" above
        from ..execute.judges import looks_like_file

        option = param.opts[0] if param is not None and param.opts else "--checker"
        try:
            if looks_like_file(str(value)):  # read (and its testlib.h found) when the run's settings are made
                path = Path(str(value)).expanduser()
                if not path.is_file():
                    raise UserError(f"the checker file {value} does not exist.")
                return str(path.resolve())
            return parse_checker(str(value)).spec
        except UserError as e:
            raise UserError(f"{option}: {e}") from None


CHECKER_HELP = ("Checker judging every output, overriding each problem's own: tokens (DeepMind's compare, the "
                "default), exact, float_abs:EPS, float_rel:EPS, unordered_tokens, unordered_lines, yes_no, or a "
                "checker program (FILE.cpp or FILE.py, testlib's protocol: checker INPUT OUTPUT ANSWER).")
TESTLIB_HELP = "Folder holding testlib.h, for checkers and interactors that include it [default: $ACODIUM_TESTLIB_DIR]."
testlib_dir_option = option("testlib_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
                            default=None, help=TESTLIB_HELP)
checker_option = option("checker", type=CheckerName(), default=None, help=CHECKER_HELP)

SLOW_CAP_HELP = ("A test over its time limit runs again with this many times the limit: correct then, it is SLOW "
                 "(a slow positive, never correct, counted apart from TIMEOUT); 0 or 1: no slow positives.")
slow_cap_option = option("slow_cap", type=slow_cap_factor, default=3.0, show_default=True, help=SLOW_CAP_HELP)

NO_CACHE_HELP = "Do not use the on-disk cache of test runs ($ACODIUM_CACHE)."


PYTHON3_HELP = ("The Python 3 that runs Python 3 candidates: a path or a name on PATH, e.g. pypy3 (local backend) "
                "[default: $ACODIUM_PYTHON3, else /usr/bin/python3.11 or the first suitable system python3].")
python3_option = option("python3", default=None, metavar="PATH_OR_NAME", help=PYTHON3_HELP)


EXECUTOR_HELP = ("Where programs run: this machine, or the local sandbox on every node of a Ray cluster (the one "
                 "RAY_ADDRESS names, else one `ray start` runs on this machine, else one started here; docs/scale.md).")
# ("local", "ray": acodium.execute.registry.EXECUTORS, written out so that --help imports no backend)
executor_option = option("executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
                         help=EXECUTOR_HELP)


def execution_options(f: Callable | None = None, *, no_cache_help: str = NO_CACHE_HELP) -> Callable:
    """--backend, --time_limit, --workers, --no_cache, --checker, --testlib_dir, --python3, --slow_cap and
    --executor, for `execution_from_options`.

    `@execution_options`, or `@execution_options(no_cache_help=...)` where --no_cache
    leaves another cache alone too (the LLM replies of `gencode gen`).
    """
    wrap = options(
        backend_option,
        option("time_limit", type=test_seconds, default=None,
               help="Seconds per test, overriding the problem's own limit (and the default where it has none)."),
        option("workers", type=positive_int, default=None, help="Programs run at once (default: the number of CPUs)."),
        option("no_cache", is_flag=True, help=no_cache_help),
        checker_option,
        testlib_dir_option,
        python3_option,
        slow_cap_option,
        executor_option,
    )
    return wrap if f is None else wrap(f)


def execution_from_options(backend: str = "local", time_limit: float | None = None, workers: int | None = None,
                           no_cache: bool = False, checker: str | None = None,
                           testlib_dir: Path | None = None, python3: str | None = None,
                           slow_cap: float = 3.0, executor: str = "local") -> Execution:
    """The `Execution` the options of `execution_options` describe.

    The cache folder ($ACODIUM_CACHE/executions unless --no_cache) is checked here, and
    refused in one sentence when it cannot be written: build this before any work.
    """
    from ..execute import Execution  # see "execution" above

    return Execution(backend=backend, cache_dir=None if no_cache else caches().executions, workers=workers,
                     time_s=time_limit, checker=checker, testlib_dir=testlib_dir, python3=python3,
                     slow_cap=slow_cap, executor=executor)


# ---- scoring ----------------------------------------------------------------------------
# The options of scoring candidates (`score_candidates`), alike in `eval pass_at_k` and
# `gen solve_and_evaluate_set`.
scoring_options = options(
    option("n", type=positive_int, default=10, show_default=True, help="Submissions for n@k (filtered on public tests)."),
    option("max_tests", type=positive_int, default=None, help="At most this many tests per test set and problem."),
    option("full", is_flag=True,
           help="Run every test of every candidate (default: public tests first; hidden tests, stopping at the "
                "first failure, and clustering inputs only for the programs that pass them, so pass@k counts a "
                "candidate failing the public tests as not correct: a lower bound, exact with --full; n@k of the "
                "filter and of clustering is exact either way)."),
    option("bootstrap", type=positive_int, default=1000, show_default=True, help="Bootstrap resamples for the intervals."),
    option("policies", default=None,
           help="Selection policies reported beside the filtered n@k, comma-separated: random, filtered, clustered, "
                "mbr_exec, codet (needs ai_tests with the model's outputs), largest_clusters "
                "[default: clustered where there are clustering inputs]."),
    option("clustering_sets", default="mutated,ai", show_default=True,
           help="Test sets whose inputs cluster the candidates (mutated, ai: never a hidden set); 'none' for none."),
    option("scorer", default="length", show_default=True,
           help="How largest_clusters scores a cluster's representative: length (shorter first), likelihood, or "
                "model (an LLM rates each program passing the public tests, 0-100, one cached call per distinct "
                "program: --scorer_model)."),
    option("scorer_model", default=None, help="The model that rates programs under --scorer model."),
    option("scorer_base_url", default=None,
           help="Its OpenAI-compatible server [default: $OPENAI_BASE_URL or OpenAI]."),
    option("scorer_api_key", default=None, help="Its API key [default: $OPENAI_API_KEY]."),
)


def selection_from_options(policies: str | None, clustering_sets: str, scorer: str, scorer_model: str | None = None,
                           scorer_base_url: str | None = None, scorer_api_key: str | None = None) -> dict:
    """score_candidates' policies, clustering_sets and scorer from their options, each checked (one sentence).

    `--scorer model` is a `ModelScorer` on the reply cache the other LLM calls use; its key is checked here.
    """
    from ..data import CLUSTERING_TEST_SETS
    from ..policies import get_policy, get_scorer

    names = None
    if policies is not None:
        names = list(dict.fromkeys(p.strip() for p in policies.split(",") if p.strip()))
        if not names:
            raise UserError("--policies names no policy.")
        for name in names:
            get_policy(name)
    sets: list[str] = []
    if clustering_sets.strip().lower() != "none":
        for part in [p for p in clustering_sets.split(",") if p.strip()]:
            try:
                name = test_set_name(part, among=CLUSTERING_TEST_SETS)
            except UserError:
                raise UserError(f"Unknown clustering set {part.strip()!r} in --clustering_sets; choose among "
                                f"{', '.join(CLUSTERING_TEST_SETS)}, or none.") from None
            sets += [name] if name not in sets else []
    if scorer != "model":
        get_scorer(scorer)
        return {"policies": names, "clustering_sets": sets, "scorer": scorer}
    from ..llm import resolve_api_key, resolve_base_url
    from ..model_scorer import ModelScorer

    if not scorer_model:
        raise UserError("--scorer model needs --scorer_model NAME, the model that rates the programs.")
    resolve_api_key(scorer_api_key, resolve_base_url(scorer_base_url))  # a missing key: before any work
    return {"policies": names, "clustering_sets": sets,
            "scorer": ModelScorer(model=scorer_model, base_url=scorer_base_url, api_key=scorer_api_key,
                                  cache_path=str(caches().llm))}
