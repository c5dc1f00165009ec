"""`gencode data`: extract a problem set (etl) and look at one (show)."""

from __future__ import annotations

import statistics
import textwrap
from collections import Counter

import click

from ..errors import UserError
from ..wording import plural
from .common import data_dir, group as make_group, non_negative_int, option, options, positive_fraction, positive_int


@make_group(help="Load, filter and save CodeContests problem sets; look at them.")
def group():
    pass


def _split_commas(values: tuple[str, ...]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _parse_min_tests(values: tuple[str, ...]) -> dict[str, int]:
    counts = {}
    for item in _split_commas(values):
        kind, sep, count = item.partition("=")
        if not sep or not count.strip().isdigit():
            raise UserError(f"--min_tests takes KIND=COUNT (e.g. private=5), not {item!r}.")
        counts[kind.strip()] = int(count)
    return counts


# The filters of `load_problems`, shared by etl and show.
_filter_options = options(
    option("problem_name", multiple=True, help="Keep only this problem (repeatable)."),
    option("languages", multiple=True, help="Solution languages to keep, comma-separated "
           "(python3, cpp, java, python2, or all). [etl default: python3; show: all]"),
    option("min_rating", type=non_negative_int,
           help="Lowest Codeforces rating (unknown ratings are dropped)."),
    option("max_rating", type=non_negative_int,
           help="Highest Codeforces rating (unknown ratings are dropped)."),
    option("tags", multiple=True, help="Keep problems with any of these tags (comma-separated)."),
    option("difficulties", multiple=True, help="Keep these difficulties: letters A-V or ids (comma-separated)."),
    option("min_tests", multiple=True, help="Minimum tests per kind, e.g. private=5,public=1."),
    option("sample_rate", type=positive_fraction, help="Keep this random fraction of the problems."),
    option("limit", type=positive_int, help="Keep at most this many random problems."),
    option("seed", type=non_negative_int, default=0, show_default=True, help="Seed of the sample."),
)


def _load(source, split, problem_name, languages, default_languages, min_rating, max_rating,
          tags, difficulties, min_tests, sample_rate, limit, seed):
    from ..data import load_problems

    langs = _split_commas(languages) or default_languages
    return load_problems(
        source,
        split,
        names=list(problem_name) or None,
        languages=None if langs in (None, ["all"]) else langs,
        min_rating=min_rating,
        max_rating=max_rating,
        tags=_split_commas(tags) or None,
        difficulties=_split_commas(difficulties) or None,
        min_tests=_parse_min_tests(min_tests),
        sample_rate=sample_rate,
        limit=limit,
        seed=seed,
        data_dir=data_dir(),
    )


@group.command("etl")
@option("source", default="deepmind/code_contests", show_default=True,
        help="Hub id, save_to_disk folder, parquet/JSONL file(s), saved name, or 'starter'.")
@option("split", multiple=True, help="Split(s) to extract (repeatable). [default: every split of the source]")
@option("output_dataset_name", required=True, help="Name to save the result under, in the data folder.")
@option("checkers_from", help="Attach this dataset's checkers and interactors by problem name "
        "(e.g. caijanfeng/CodeContests-O, or local files in its schema).")
@_filter_options
def etl(source, split, output_dataset_name, checkers_from, **filters):
    """Load a problem set, keep the chosen languages' solutions, sample, and save it by name."""
    from ..data import attach_checkers, checkers_of, dataset_splits, join_report, save_problems

    splits = list(split) or dataset_splits(source, data_dir=data_dir())
    for name in splits:
        ds = _load(source, name, default_languages=["python3"], **filters)
        if checkers_from:
            other = checkers_of(checkers_from, name, data_dir=data_dir())
            ds, counts = attach_checkers(ds, other)
            click.echo(join_report(counts))
        target = save_problems(ds, output_dataset_name, data_dir(), split=name)
        click.echo(f"Saved {_counts(ds)} as split {name!r} of {output_dataset_name!r} in {target}.")


@group.command("show")
@click.argument("dataset")
@option("split", help="Split to show. [default: the only split, else train]")
@option("problem", help="Show this one problem in full.")
@option("max_chars", type=positive_int, default=600, show_default=True,
        help="Longest test or solution printed in full; longer ones are cut.")
@_filter_options
def show(dataset, split, problem, max_chars, **filters):
    """Summarise a problem set (a saved name, path, hub id or 'starter'), or one problem of it."""
    from ..data import Problem, dataset_splits, get_problem

    if split is None:
        available = dataset_splits(dataset, data_dir=data_dir())
        split = available[0] if len(available) == 1 else "train"
    ds = _load(dataset, split, default_languages=None, **filters)
    if problem is not None:
        click.echo(_problem_text(get_problem(ds, problem), max_chars))
        return
    click.echo(_summary_text(dataset, split, [Problem.from_row(row) for row in ds]))


def _counts(ds) -> str:
    n_sol = sum(len(s["language"]) for s in ds["solutions"])
    n_bad = sum(len(s["language"]) for s in ds["incorrect_solutions"])
    return (f"{plural(len(ds), 'problem')} ({plural(n_sol, 'solution')}, "
            f"{plural(n_bad, 'incorrect solution')})")


def _spread(values: list[int]) -> str:
    if not values:
        return "none"
    return f"{sum(values)} (per problem min {min(values)}, median {statistics.median(values):g}, max {max(values)})"


def _summary_text(dataset: str, split: str, problems) -> str:
    from ..data import TEST_KINDS

    lines = [f"{dataset} [{split}]: {plural(len(problems), 'problem')}"]
    for kind in TEST_KINDS:
        lines.append(f"  {kind} tests: {_spread([len(p.tests(kind)) for p in problems])}")
    for label, method in (("solutions", "solutions"), ("incorrect solutions", "incorrect_solutions")):
        by_language = Counter(lang for p in problems for lang, _ in getattr(p, method)())
        text = ", ".join(f"{lang} {n}" for lang, n in by_language.most_common()) or "none"
        lines.append(f"  {label}: {text}")
    ratings = [p.rating for p in problems if p.rating]
    rating_text = f"{min(ratings)}-{max(ratings)}" if ratings else "-"
    lines.append(f"  ratings: {rating_text} ({len(problems) - len(ratings)} unknown)")
    difficulties = Counter(p.difficulty for p in problems)
    lines.append("  difficulties: " + ", ".join(f"{d} {n}" for d, n in sorted(difficulties.items())))
    tags = Counter(t for p in problems for t in p.tags)
    lines.append("  tags: " + (", ".join(f"{t} {n}" for t, n in tags.most_common()) or "none"))
    n_checkers = sum(p.checker is not None for p in problems)
    n_interactors = sum(p.interactor is not None for p in problems)
    lines.append(f"  checkers: {plural(n_checkers, 'problem')} ({len(problems) - n_checkers} token compare), "
                 f"interactors: {n_interactors}")
    limits = Counter(f"{p.time_limit_s:g} s" if p.time_limit_s else "unknown" for p in problems)
    lines.append("  time limits: " + ", ".join(f"{t} ({n})" for t, n in limits.most_common()))
    width = min(60, max(len(p.name) for p in problems))
    lines.append("")
    lines.append(f"{'problem':<{width}}  rating diff public private generated solutions incorrect  tags")
    for p in problems:
        lines.append(
            f"{p.name[:width]:<{width}}  {p.rating or '-':>6} {p.difficulty[:4]:>4} "
            f"{len(p.tests('public')):>6} {len(p.tests('private')):>7} {len(p.tests('generated')):>9} "
            f"{len(p.solutions()):>9} {len(p.incorrect_solutions()):>9}  {', '.join(p.tags)}"
        )
    return "\n".join(lines)


def _judge_text(spec, default: str) -> str:
    if spec is None:
        return default
    if isinstance(spec, str):
        return spec
    return f"a {spec['language']} program ({len(spec['code'].splitlines())} lines)"


def _cut(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text.rstrip("\n")
    return text[:max_chars].rstrip("\n") + f"\n... ({len(text) - max_chars} more characters)"


def _problem_text(p, max_chars: int) -> str:
    from ..data import TEST_KINDS

    time_limit = f"{p.time_limit_s:g} s" if p.time_limit_s else "unknown"
    memory = f"{p.memory_limit_bytes // 2**20} MiB" if p.memory_limit_bytes else "unknown"
    lines = [
        p.name,
        "=" * len(p.name),
        f"source {p.source}, difficulty {p.difficulty}, rating {p.rating or 'unknown'}, "
        f"tags: {', '.join(p.tags) or 'none'}",
        f"time limit {time_limit}, memory limit {memory}",
        f"checker {_judge_text(p.checker, 'tokens (default)')}, interactor {_judge_text(p.interactor, 'none')}",
        "",
        p.description.rstrip(),
        "",
    ]
    for kind in TEST_KINDS:
        tests = p.tests(kind)
        lines.append(f"--- {kind} tests: {len(tests)}")
        for i, (inp, out) in enumerate(tests):
            lines.append(f"[{kind} {i}] input:")
            lines.append(textwrap.indent(_cut(inp, max_chars), "  "))
            lines.append(f"[{kind} {i}] output:")
            lines.append(textwrap.indent(_cut(out, max_chars), "  "))
    for label, solutions in (("solutions", p.solutions()), ("incorrect solutions", p.incorrect_solutions())):
        lines.append(f"--- {label}: {len(solutions)}")
        for i, (lang, code) in enumerate(solutions):
            lines.append(f"[{label} {i}] {lang}:")
            lines.append(textwrap.indent(_cut(code, max_chars), "  "))
    return "\n".join(lines)
