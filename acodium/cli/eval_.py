"""`gencode eval`: reference checks of a dataset, and pass@k / n@k of candidates."""

from __future__ import annotations

import json
import numbers
from pathlib import Path

import click

from ..errors import UserError
from ..languages import LANGUAGE_IDS, RUNNABLE_LANGUAGES, language_id
from .common import (
    Folder, data_dir, execution_from_options, execution_options, fraction, group as make_group, non_negative_int,
    option, positive_fraction, positive_int, parse_ints, parse_test_sets, scoring_options,
    selection_from_options,
)


@make_group(help="Judge candidates and datasets: reference checks, pass@k and n@k.")
def group():
    pass


def _load_problems(source: str, split: str | None, sample_rate: float | None = None, seed: int = 0,
                   languages=None):
    """Problems of any source, a cleaned dataset included; every language's solutions unless `languages`."""
    from ..data import load_problems

    return load_problems(source, split, data_dir=data_dir(), sample_rate=sample_rate, seed=seed,
                         languages=languages or "all")


def _runnable_languages(text: str | None, execution) -> list[str]:
    """The languages of --languages by their names (python3, cpp, java, python2), refusing those nothing
    here runs (a missing runtime in its own sentence); None: every language `execution` runs here."""
    if text is None:
        return list(execution.runnable_languages())
    names = list(dict.fromkeys(LANGUAGE_IDS[language_id(lang.strip())] for lang in text.split(",") if lang.strip()))
    if not names:
        raise UserError(f"--languages names no language; give some of {', '.join(RUNNABLE_LANGUAGES)}.")
    other = [name for name in names if name not in RUNNABLE_LANGUAGES]
    if other:
        raise UserError(f"The {other[0]} solutions cannot be run: the sandbox runs "
                        f"{', '.join(RUNNABLE_LANGUAGES)} only (--languages).")
    for name in names:
        why = execution.missing_runtime(name)
        if why is not None:
            raise UserError(f"{why.rstrip('.')} (--languages {name}).")
    return names


def _require_work(problems, dataset: str, languages: list[str], test_sets: list[str]) -> None:
    """Refuse a reference check with no solution or no test to run (counted on the arrow columns, cheaply)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not hasattr(problems, "with_format") or len(problems) == 0:
        return
    table = problems.with_format("arrow")
    ids = pa.array([language_id(name) for name in languages])
    solutions = 0
    for field in ("solutions", "incorrect_solutions"):
        if field in problems.column_names:
            found = pc.list_flatten(pc.struct_field(table[field], "language"))
            if not pa.types.is_integer(found.type):
                return  # not the dataset's language ids: check_references will tell
            solutions += pc.sum(pc.is_in(found, value_set=ids.cast(found.type))).as_py() or 0
    if not solutions:
        raise UserError(f"{dataset} has no {' or '.join(languages)} solution to run (--languages).")
    tests = sum(pc.sum(pc.list_value_length(pc.struct_field(table[f"{s}_tests"], "input"))).as_py() or 0
                for s in test_sets if f"{s}_tests" in problems.column_names)
    if not tests:
        raise UserError(f"{dataset} has no {', '.join(s + '_tests' for s in test_sets)} to run the solutions on "
                        "(--test_sets).")


def _require_text(candidates, where) -> None:
    """Refuse candidates whose code or language is not text (null, a number): nothing could run them."""
    for column in ("code", "language"):
        bad = candidates[[not isinstance(value, str) for value in candidates[column]]]
        if len(bad):
            first = bad.iloc[0]
            value = first[column]
            kind = ("null" if value is None or value != value else
                    f"a number ({value})" if isinstance(value, numbers.Number) else f"a {type(value).__name__}")
            raise UserError(f"{len(bad)} candidate(s) in {where} have a {column} that is not text, for instance "
                            f"{first['candidate_id']!r} of {first['problem']!r}, whose {column} is {kind}.")


@group.command("references")
@option("dataset", required=True, help="Problems: a hub id, a saved name, a save_to_disk folder, parquet or JSONL.")
@option("split", default="train", show_default=True, help="Split of the dataset.")
@option("languages", default=None,
        help="Languages of the solutions to run, comma-separated (python3, cpp, java, python2) "
             "[default: every language this machine runs].")
@option("max_tests", type=positive_int, default=None, help="Run at most this many tests per test set and problem.")
@option("max_solutions", type=positive_int, default=None,
        help="Run at most this many correct and this many incorrect solutions per problem.")
@option("test_sets", default="public,private,generated", show_default=True,
        help="Test sets to check, comma-separated.")
@option("min_correct_share", type=fraction, default=0.2, show_default=True,
        help="A problem is invalid when fewer of its correct solutions pass its valid tests.")
@execution_options
@option("out", required=True, type=Folder(), help="Folder for the results.")
@option("no_progress", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (summary.json), not the tables.")
def references(dataset, split, languages, max_tests, max_solutions, test_sets, min_correct_share, backend,
               time_limit, workers, no_cache, checker, testlib_dir, python3, slow_cap, executor, out, no_progress, as_json):
    """Run each problem's own human solutions (correct and incorrect) on its tests.

    The cleaning AlphaCodium applies, on evidence only: a test is invalid
    (is_valid_test) where two correct solutions agree on another output, a
    lone disagreement is "unconfirmed", references that disagree with each
    other mean "several valid answers (needs a checker)", and a reference
    that times out or crashes is "reference too slow/broken", never a reason
    for is_valid_problem false. Prints a row per problem (its category, how its
    correct and incorrect solutions did on its valid tests, its tests by category),
    then problems and tests per category (--json: the summary as JSON). Writes to OUT:
    dataset/ (the cleaned problems, save_to_disk), summary.json, tests.parquet
    (agreement and category per test), solutions.parquet (verdict per solution),
    problems.parquet (category per problem),
    executions.parquet; executions.jsonl lets an interrupted run resume.
    """
    from ..evaluation import check_references
    from ..tables import run_folder_lock, write_table
    from ..wording import text_table

    if no_progress:
        import datasets

        datasets.disable_progress_bars()  # before loading: filtering the languages has a bar too
    sets = parse_test_sets(test_sets, "--test_sets")
    # the cache is checked before the run folder is made
    execution = execution_from_options(backend, time_limit, workers, no_cache, checker, testlib_dir, python3,
                                       slow_cap, executor)
    langs = _runnable_languages(languages, execution)
    problems = _load_problems(dataset, split, languages=langs)
    _require_work(problems, dataset, langs, sets)
    out = Path(out)
    click.get_current_context().with_resource(run_folder_lock(out))  # held until the command ends
    report = check_references(
        problems, languages=langs, test_sets=sets, max_tests=max_tests, max_solutions=max_solutions,
        min_correct_share=min_correct_share, execution=execution, run_dir=out, progress=not no_progress,
    )
    report.dataset.save_to_disk(str(out / "dataset"))
    write_table(report.tests, out / "tests.parquet")
    write_table(report.solutions, out / "solutions.parquet")
    write_table(report.problems, out / "problems.parquet")
    summary = dict(report.summary, dataset=str(dataset), split=split)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    if as_json:  # for scripts: the summary alone on stdout
        click.echo(json.dumps(summary, indent=2))
        return
    table = report.problem_table()
    click.echo(text_table(table.to_dict("records"), list(table.columns)))
    click.echo()
    click.echo(report.report())
    for note in summary.get("notes", []):
        click.echo(f"note: {note}")
    click.echo(f"The cleaned problems in {out / 'dataset'}; summary.json and tables (problems, solutions, tests) "
               f"in {out}")


@group.command("pass_at_k")
@option("dataset_name", required=True,
        help="Candidates: a run folder (candidates.parquet/.jsonl), a candidates table (.parquet/.jsonl "
             "with problem, candidate_id, language, code), or a problems dataset whose rows carry "
             "candidates in --path_to_solutions_column.")
@option("split_name", "--split", default="train", show_default=True, help="Split of the problems dataset.")
@option("evaluation_test_type", default="hidden_tests", show_default=True,
        help="Tests that decide correctness: hidden_tests (private + generated: correct as docs/semantics.md "
             "defines it), private_tests, generated_tests, mutated_tests, public_tests, or a comma list.")
@option("k", "--k_values", multiple=True,
        help="k values, comma-separated or repeated; those above the fewest samples of a problem that has "
             "candidates are left out, with a note, and refused if none is left [default: 1, 2, 5, 10, 20, 50, "
             "... up to those fewest samples, and that number].")
@option("sample_rate", type=positive_fraction, default=None,
        help="Evaluate this fraction of the problems (seeded).")
@option("seed", type=non_negative_int, default=0, show_default=True)
@option("problems", default=None,
        help="Problems (any dataset source) when --dataset_name holds only candidates.")
@option("path_to_solutions_column", default="solutions.solution", show_default=True,
        help="Where candidates sit in a problems dataset's rows (as the original command).")
@option("task_name_column", default="name", show_default=True, help="Problem name column of a problems dataset.")
@option("valid_only", is_flag=True,
        help="Leave out problems a reference check marked invalid (is_valid_problem false).")
@scoring_options
@execution_options
@option("out", type=Folder(), default=None,
        help="Run folder for executions (resumable), judgements, metrics and summary.json "
             "[default: the run folder given as --dataset_name, else nothing is written].")
@option("no_progress", is_flag=True, help="No progress bar.")
def pass_at_k(dataset_name, split_name, evaluation_test_type, k, sample_rate, seed, problems,
              path_to_solutions_column, task_name_column, valid_only, n, max_tests, full, bootstrap,
              policies, clustering_sets, scorer, scorer_model, scorer_base_url, scorer_api_key, backend, time_limit, workers, no_cache, checker, testlib_dir, python3, slow_cap, executor, out, no_progress):
    """Print pass@k and n@k, with bootstrap confidence intervals, of the candidates of a problem set.

    Correct means passing every test of --evaluation_test_type; n@k submits up
    to n of k samples among those passing the public tests (the AlphaCode
    filter, computed exactly), and by AlphaCode's clustering where the problems
    carry mutated_tests. A problem without candidates (no solutions in the
    dataset, or generation calls that all failed) is unsolved: it counts 0
    and stays in the mean, and a note says how many problems had fewer
    candidates than k and why. A k larger than the samples of a problem
    with candidates is left out (refused if no k is left), never
    extrapolated. Tests a reference check marked invalid
    are skipped (give the dataset/ folder `gencode eval references` wrote).
    With --out (or a run folder as --dataset_name), executions are logged as
    they finish and an interrupted run resumes where it stopped.
    """
    from ..evaluation import load_candidate_set, score_candidates

    sets = parse_test_sets(evaluation_test_type)
    ks = parse_ints(",".join(k), "--k") if k else None
    selection = selection_from_options(policies, clustering_sets, scorer, scorer_model, scorer_base_url,
                                       scorer_api_key)
    problem_set, candidates, run_dir = load_candidate_set(
        dataset_name, split=split_name, problems=problems, data_dir=data_dir(),
        solutions_column=path_to_solutions_column, name_column=task_name_column,
        sample_rate=sample_rate, seed=seed, valid_only=valid_only,
    )
    _require_text(candidates, dataset_name)
    out = Path(out) if out is not None else run_dir
    # the cache is checked before the run folder is made
    execution = execution_from_options(backend, time_limit, workers, no_cache, checker, testlib_dir, python3,
                                       slow_cap, executor)
    if out is not None:
        from ..tables import run_folder_lock

        click.get_current_context().with_resource(run_folder_lock(out))  # held until the command ends
    result = score_candidates(
        problem_set, candidates, test_sets=sets, ks=ks, n=n, run_dir=out, execution=execution,
        max_tests=max_tests, stop_on_first_failure=not full, bootstrap=bootstrap, seed=seed,
        progress=not no_progress, failures=candidates.attrs.get("failures") or [], **selection,
    )
    summary = dict(result.summary, dataset_name=str(dataset_name), split=split_name)
    click.echo(result.report())
    if out is not None:
        (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
        click.echo(f"Tables and summary.json in {out}")
