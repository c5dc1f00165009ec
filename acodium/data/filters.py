"""Choosing problems and solutions in a loaded table: by name, rating, tags, difficulty, test
counts, a seeded sample, and keeping only some languages' solutions.

Everything works on the Arrow columns (a boolean mask per filter, one pass per
solutions column), because the full hub split is 13k problems with millions
of solutions: a Python loop over rows would take minutes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Mapping

from ..errors import UserError
from ..languages import language_id

if TYPE_CHECKING:
    import datasets
    import numpy as np


def selected_rows(
    ds: "datasets.Dataset",
    label: str,
    *,
    names: list[str] | None,
    min_rating: int | None,
    max_rating: int | None,
    tags: set[str] | None,
    difficulty_ids: set[int] | None,
    min_tests: Mapping[str, int],
) -> "np.ndarray":
    """Indices of the rows every given filter keeps; a filter that keeps nothing is one sentence."""
    import numpy as np
    import pyarrow.compute as pc

    table = ds.data  # freshly loaded: no indices mapping
    keep = np.ones(len(ds), dtype=bool)
    applied = []
    if names is not None:
        all_names = table.column("name").to_pylist()
        missing = sorted(set(names) - set(all_names))
        if missing:
            raise UserError(f"{label} has no problem named {missing[0]!r}.")
        keep &= np.isin(np.array(all_names, dtype=object), np.array(names, dtype=object))
        applied.append("names")
    if min_rating is not None or max_rating is not None:
        rating = table.column("cf_rating").to_numpy(zero_copy_only=False)
        keep &= rating > 0
        if min_rating is not None:
            keep &= rating >= min_rating
        if max_rating is not None:
            keep &= rating <= max_rating
        applied.append("rating")
    if tags is not None:
        row_tags = table.column("cf_tags").to_pylist()
        keep &= np.array([bool(tags.intersection(t)) for t in row_tags], dtype=bool)
        applied.append("tags")
    if difficulty_ids is not None:
        difficulty = table.column("difficulty").to_numpy(zero_copy_only=False)
        keep &= np.isin(difficulty, list(difficulty_ids))
        applied.append("difficulty")
    for kind, count in min_tests.items():
        inputs = pc.struct_field(table.column(f"{kind}_tests"), "input")
        keep &= pc.list_value_length(inputs).to_numpy(zero_copy_only=False) >= count
        applied.append(f"{kind} tests")
    indices = np.flatnonzero(keep)
    if len(indices) == 0:
        what = f" ({', '.join(applied)})" if applied else ""
        raise UserError(f"The filters{what} select no problem of {label}.")
    return indices


def sample_rows(indices: "np.ndarray", sample_rate: float | None, limit: int | None, seed: int) -> "np.ndarray":
    """A seeded sample of these row indices (a fraction or a count), in their order."""
    import numpy as np

    if sample_rate is None and limit is None:
        return indices
    size = limit if limit is not None else max(1, round(len(indices) * sample_rate))
    if size < len(indices):
        chosen = np.random.default_rng(seed).choice(len(indices), size=size, replace=False)
        indices = indices[np.sort(chosen)]
    return indices


def has_other_languages(ds: "datasets.Dataset", ids: list[int]) -> bool:
    """Whether any solution is in a language outside `ids` (skips a no-op pass over the table)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for column in ("solutions", "incorrect_solutions"):
        flat = pc.list_flatten(pc.struct_field(ds.data.column(column), "language"))
        if len(flat) and not pc.all(pc.is_in(flat, value_set=pa.array(ids, type=flat.type))).as_py():
            return True
    return False


def keep_languages(ds: "datasets.Dataset", languages: Iterable[str | int]) -> "datasets.Dataset":
    """The table with only these languages' solutions and incorrect solutions."""
    ids = sorted({language_id(lang) for lang in languages})
    feats = ds.features

    def batch(table):
        import pyarrow as pa

        for column in ("solutions", "incorrect_solutions"):
            i = table.schema.get_field_index(column)
            table = table.set_column(i, column, _filter_solutions(table.column(column), ids, pa))
        return table

    return ds.with_format("arrow").map(
        batch, batched=True, batch_size=256, features=feats, desc="Keeping languages"
    ).with_format(None)


def _filter_solutions(column, ids, pa):
    """A solutions column (struct of two parallel lists) keeping only some languages."""
    import numpy as np
    import pyarrow.compute as pc

    chunks = []
    for chunk in column.chunks:
        language = pc.struct_field(chunk, "language")
        solution = pc.struct_field(chunk, "solution")
        flat_language = pc.list_flatten(language)
        flat_solution = pc.list_flatten(solution)
        mask = pc.is_in(flat_language, value_set=pa.array(ids, type=flat_language.type))
        parents = pc.list_parent_indices(language).to_numpy(zero_copy_only=False)
        mask_np = mask.to_numpy(zero_copy_only=False)
        counts = np.bincount(parents[mask_np], minlength=len(chunk))
        offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
        chunks.append(
            pa.StructArray.from_arrays(
                [
                    pa.ListArray.from_arrays(offsets, flat_language.filter(mask)),
                    pa.ListArray.from_arrays(offsets, flat_solution.filter(mask)),
                ],
                fields=list(chunk.type),
            )
        )
    return pa.chunked_array(chunks, type=column.type)
