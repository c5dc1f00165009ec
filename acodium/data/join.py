"""Attach another dataset's checkers (and interactors) to problems, matched by problem name.

deepmind/code_contests ships no checkers; CodeContests-O and CodeContests+
carry testlib checkers for the same problems, open-r1/codeforces Python ones
(issue 16 §5). The datasets spell a problem differently: CodeContests and
CodeContests-O name a Codeforces problem "1003_E. Tree Constructing", the
Codeforces id is "1003E" (open-r1's contest_id + index; CodeContests+ ids
carry it too, possibly behind a "Codeforces/" prefix). `problem_key` reduces
every spelling to one key: "1003E" for a Codeforces-style name (contest number,
optional "_" or "/", problem letter with an optional digit), else the name
case-folded with its whitespace collapsed (AtCoder, CodeChef, Aizu names match
only as written). `checkers_of` reads the other dataset: from the hub only the
columns a join needs, streamed; from local files or a saved name, the whole table.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from ..errors import UserError
from ..wording import plural
from .adapters import ADAPTERS, JOIN_COLUMNS, checker_rows
from .checkers import stored_check
from .load import load_problems
from .schema import CHECK_COLUMNS, PROGRAM_FIELDS
from .sources import check_hub_reachable, first_line

if TYPE_CHECKING:
    import datasets

_CODEFORCES = re.compile(r"^(?:codeforces[/_ ])?(\d+)[_/]?([A-Za-z]\d?)(?=[.\s]|$)", re.IGNORECASE)


def problem_key(name: str) -> str:
    """The key two datasets' names of one problem share: '1003_E. Tree Constructing' and '1003E' give '1003E'."""
    text = " ".join(str(name).split())
    match = _CODEFORCES.match(text)
    if match:
        return f"{match.group(1)}{match.group(2).upper()}"
    return text.casefold()


def _checks_by_key(other: Iterable[Mapping[str, Any]]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for row in other:
        checks = {f: stored_check(row.get(f), f"The field {f!r} of {row.get('name')!r}", f) for f in CHECK_COLUMNS}
        if any(checks.values()):
            found.setdefault(problem_key(row["name"]), checks)  # the first of a name wins
    return found


def attach_checkers(
    problems: "datasets.Dataset", other: Iterable[Mapping[str, Any]], *, overwrite: bool = False
) -> tuple["datasets.Dataset", dict[str, int]]:
    """`problems` with the checker and interactor of the same problem in `other`, and counts.

    `other` is any problems table or rows (e.g. `load_problems` of CodeContests-O).
    A problem's own checker is kept unless `overwrite`. Counts: {"problems",
    "checker", "interactor"}: how many problems there are and how many carry
    each after the join.
    """
    import datasets as hf

    by_key = _checks_by_key(other)
    columns = {f: (list(problems[f]) if f in problems.column_names else [None] * len(problems))
               for f in CHECK_COLUMNS}
    names = list(problems["name"])
    for i, name in enumerate(names):
        found = by_key.get(problem_key(name))
        if found is None:
            continue
        for field in CHECK_COLUMNS:
            if found[field] is not None and (overwrite or columns[field][i] is None):
                columns[field][i] = found[field]
    struct = {field: hf.Value("string") for field in PROGRAM_FIELDS}
    out = problems.remove_columns([f for f in CHECK_COLUMNS if f in problems.column_names])
    for field in CHECK_COLUMNS:
        out = out.add_column(field, columns[field], feature=struct)
    counts = {"problems": len(problems), **{f: sum(v is not None for v in columns[f]) for f in CHECK_COLUMNS}}
    return out, counts


def checkers_of(source, split: str = "train", *, data_dir=None, cache_dir=None) -> list[dict] | "datasets.Dataset":
    """The problems of `source` with their checkers, for `attach_checkers`.

    A hub id of a dataset with checkers is streamed for the few columns a join
    needs (`adapters.JOIN_COLUMNS`), not downloaded whole; any other source
    (local files in any of the schemas, a saved name) loads through `load_problems`.
    """
    import datasets as hf

    if not (isinstance(source, str) and source in ADAPTERS):
        return load_problems(source, split, languages=None, data_dir=data_dir, cache_dir=cache_dir)
    check_hub_reachable(source)
    try:
        raw = hf.load_dataset(source, split=split, streaming=True, columns=JOIN_COLUMNS[source],
                              cache_dir=None if cache_dir is None else str(cache_dir))
        return checker_rows(raw, source, f"{source} ({split})")
    except UserError:
        raise
    except Exception as e:  # the hub library raises many kinds; the user needs one sentence
        raise UserError(f"Cannot load the dataset {source!r} ({split}): {first_line(e)}.") from None


def join_report(counts: Mapping[str, int]) -> str:
    """One line: 'N of M problems got a checker (K an interactor).'"""
    return (f"{counts['checker']} of {plural(counts['problems'], 'problem')} got a checker "
            f"({counts['interactor']} an interactor).")
