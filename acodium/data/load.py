"""`load_problems`: problems in the deepmind/code_contests schema, from any source, filtered.

The one loader every command, notebook and stage uses: it reads the source
(`sources`), casts and checks it (`table_checks`), then applies the filters
(`filters`) in one fixed order, names first and the random sample last, so
the same arguments give the same problems whatever the source. A cleaned
dataset (`is_valid_test`, `is_valid_problem`, `mutated_tests`) loads here
too and keeps its extra fields.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from ..errors import UserError
from ..languages import language_id
from .filters import has_other_languages, keep_languages, sample_rows, selected_rows
from .problem import difficulty_id, test_kind
from .sources import HUB_ID, read_source
from .table_checks import conform

if TYPE_CHECKING:
    import datasets


def load_problems(
    source: str | os.PathLike | Sequence[str | os.PathLike] = HUB_ID,
    split: str | None = "train",
    *,
    names: Iterable[str] | None = None,
    languages: Iterable[str | int] | str | None = ("python3",),
    min_rating: int | None = None,
    max_rating: int | None = None,
    tags: Iterable[str] | str | None = None,
    difficulties: Iterable[str | int] | None = None,
    min_tests: Mapping[str, int] | None = None,
    sample_rate: float | None = None,
    limit: int | None = None,
    seed: int = 0,
    data_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> "datasets.Dataset":
    """Problems in the deepmind/code_contests schema, from any source, filtered.

    source: a hub id (default deepmind/code_contests; only `split` is fetched),
      a folder laid out as a hub dataset repository, a `save_to_disk` folder,
      parquet or JSONL files (a path, a glob or a list), a name saved by
      `save_problems` under `data_dir`, or "starter". Files and the starter
      problems have no splits: `split` only names what they hold. split=None
      takes the only split of a source that has several, or says which exist.
      A cleaned dataset (`gencode eval references`' dataset/ folder) keeps its
      `is_valid_test`, `is_valid_problem`, `reference_check` and
      `mutated_tests` fields.
    names: keep only these problems (each must exist).
    languages: keep only these languages' solutions and incorrect solutions
      (default Python 3, as the original ETL); None or "all" keeps all. Problems
      are kept even when none of their solutions remain.
    min_rating, max_rating: Codeforces rating range; problems of unknown rating
      (0) are dropped as soon as a bound is given.
    tags: keep problems with at least one of these cf_tags.
    difficulties: keep these difficulties (letters A-V, EASY.., or ids).
    min_tests: minimum number of tests per kind, e.g. {"private": 5}.
    sample_rate / limit: a random sample (fraction / count) drawn with `seed`,
      after the other filters; rows keep their order.
    cache_dir: where `datasets` keeps its Arrow cache for hub and parquet sources.
    """
    names = _as_list(names)
    language_ids = _language_ids(languages)
    difficulty_ids = None if difficulties is None else {difficulty_id(d) for d in _as_list(difficulties)}
    tag_set = None if tags is None else set(_as_list(tags))
    min_counts = _min_tests(min_tests)
    if sample_rate is not None and limit is not None:
        raise UserError("Give either a sample rate or a limit, not both.")
    if sample_rate is not None and not 0 < sample_rate <= 1:
        raise UserError(f"The sample rate must be in (0, 1], not {sample_rate}.")
    if limit is not None and limit < 1:
        raise UserError(f"The limit must be a positive number of problems, not {limit}.")
    if min_rating is not None and max_rating is not None and min_rating > max_rating:
        raise UserError(f"The minimum rating {min_rating} is above the maximum {max_rating}.")

    ds, label = read_source(source, split, data_dir, cache_dir)
    ds = conform(ds, label)
    indices = selected_rows(ds, label, names=names, min_rating=min_rating, max_rating=max_rating, tags=tag_set,
                            difficulty_ids=difficulty_ids, min_tests=min_counts)
    indices = sample_rows(indices, sample_rate, limit, seed)
    if len(indices) < len(ds):
        ds = ds.select(indices)
    if language_ids is not None and has_other_languages(ds, language_ids):
        ds = keep_languages(ds, language_ids)
    return ds


def _as_list(value) -> list | None:
    if value is None:
        return None
    if isinstance(value, (str, int)):
        return [value]
    return list(value)


def _language_ids(languages) -> list[int] | None:
    if languages is None or languages == "all" or languages == ["all"] or languages == ("all",):
        return None
    ids = sorted({language_id(lang) for lang in _as_list(languages)})
    if not ids:
        raise UserError("Give at least one language, or 'all'.")
    return ids


def _min_tests(min_tests) -> dict[str, int]:
    counts = {}
    for kind, count in (min_tests or {}).items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise UserError(f"The minimum number of {kind} tests must be a whole number, not {count!r}.")
        counts[test_kind(kind)] = count
    return counts
