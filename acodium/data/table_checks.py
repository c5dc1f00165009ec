"""Checks of an Arrow-backed problems table: cast to the schema, then the row rules, vectorised.

Hub splits, parquet files and save_to_disk folders arrive as tables; `conform`
casts them to `features()` (keeping a cleaned dataset's extra fields) and
checks what a cast cannot: counts of inputs and outputs, one flag per test,
language ids, enum ranges. A malformed row is one sentence naming its row,
problem and field. Vectorised: fast enough for the full hub split.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import UserError
from ..languages import LANGUAGE_ENUM_NAMES
from .checkers import stored_check
from .row_checks import default_value
from .schema import (
    CHECK_COLUMNS, COLUMNS, PROGRAM_FIELDS, DIFFICULTY_NAMES, EXTRA_COLUMNS, EXTRA_FIELDS, REQUIRED_COLUMNS, SOURCE_NAMES, TEST_KINDS, column_names,
    features, flags_of_test_set, is_test_column,
)

if TYPE_CHECKING:
    import datasets


def table_extras(ds: "datasets.Dataset", label: str) -> set[str]:
    """The extra fields (`schema.EXTRA_FIELDS`) a table has; a test set with a field of its own is refused."""
    import pyarrow as pa

    found = set()
    for field in ds.data.schema:
        if field.name in EXTRA_COLUMNS:
            found.add(field.name)
        if is_test_column(field.name) and pa.types.is_struct(field.type):
            for child in field.type:
                if child.name in ("input", "output"):
                    continue
                extra = f"{field.name}.{child.name}"
                if extra not in EXTRA_FIELDS:
                    raise UserError(f"{label}: column {field.name!r} has a field {child.name!r} that is not in "
                                    "the code_contests schema.")
                found.add(extra)
    return found


def conform(ds: "datasets.Dataset", label: str) -> "datasets.Dataset":
    """Cast an Arrow-backed source to the schema and check its rows (JSONL is checked as read)."""
    if ds._indices is not None:  # a saved selection: the checks below read the table itself
        ds = ds.flatten_indices()
    extras = table_extras(ds, label)
    feats = features(extras)
    ds = _names_as_structs(ds, label)
    if ds.features == feats:
        check_rows(ds, label)
        return ds
    columns = ds.column_names
    for column in columns:
        if column not in feats:
            raise UserError(f"{label} has a column {column!r} that is not in the code_contests schema.")
    for column in REQUIRED_COLUMNS:
        if column not in columns:
            raise UserError(f"{label} lacks the column {column!r}.")
    for column in COLUMNS:
        if column not in columns:
            ds = ds.add_column(column, [default_value(column)] * len(ds), feature=feats[column])
    ds = ds.select_columns(column_names(extras))
    try:
        ds = ds.cast(feats)
    except Exception as e:
        _explain_cast_failure(ds, feats, label, e)
    check_rows(ds, label)
    return ds


def _names_as_structs(ds: "datasets.Dataset", label: str) -> "datasets.Dataset":
    """A checker column of plain text (built-in names, as a JSONL writer would put them) as the stored struct."""
    import datasets as hf
    import pyarrow as pa

    for field in CHECK_COLUMNS:
        kind = ds.data.schema.field(field).type if field in ds.column_names else None
        if kind is not None and (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            values = [stored_check(v, f"Row {i} ({name!r}) of {label}: the field {field!r}", field)
                      for i, (name, v) in enumerate(zip(ds["name"], ds[field]))]
            struct = {f: hf.Value("string") for f in PROGRAM_FIELDS}
            ds = ds.remove_columns(field).add_column(field, values, feature=struct)
    return ds


def _explain_cast_failure(ds: "datasets.Dataset", feats, label: str, error: Exception) -> None:
    """Name the column, or the row, that does not fit (only on this error path: costs a pass per column)."""
    for column in ds.column_names:
        try:
            ds.cast_column(column, feats[column])
        except Exception:
            raise UserError(
                f"{label}: column {column!r} has type {ds.features[column]}, which does not fit "
                f"the schema's {feats[column]}."
            ) from None
    try:  # the types fit but a value does not (an enum id out of range): the row rules name it
        check_rows(ds, label)
    except UserError:
        raise
    except Exception:
        pass
    reason = str(error).strip().splitlines()[0].rstrip(".") if str(error).strip() else type(error).__name__
    raise UserError(f"{label} does not fit the code_contests schema ({reason}).") from None


def check_rows(ds: "datasets.Dataset", label: str) -> None:
    """The row-level rules an Arrow cast cannot check, vectorised (fast on the full hub split)."""
    import numpy as np
    import pyarrow.compute as pc

    table = ds.data

    def fail(mask, message):
        mask = np.asarray(mask)
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            name = table.column("name")[i].as_py()
            raise UserError(f"Row {i} ({name!r}) of {label}: {message}.")

    def values(array):
        return array.to_numpy(zero_copy_only=False)

    def lengths(column, field):
        return values(pc.fill_null(pc.list_value_length(pc.struct_field(column, field)), 0))

    name = table.column("name")
    fail(values(pc.or_kleene(pc.is_null(name), pc.equal(pc.fill_null(name, ""), ""))), "the field 'name' is empty")
    fail(values(pc.is_null(table.column("description"))), "the field 'description' is null")
    for column_name in [c for c in table.column_names if is_test_column(c)]:
        column = table.column(column_name)
        if column_name.removesuffix("_tests") in TEST_KINDS:  # a derived set may be null: none was made
            fail(values(pc.is_null(column)), f"the field {column_name!r} is null")
        n_in = lengths(column, "input")
        fail(n_in != lengths(column, "output"),
             f"the field {column_name!r} has inputs and outputs of different counts")
        present = {f.name for f in column.type}
        for flag in flags_of_test_set(column_name):
            if flag in present:
                n_flag = pc.list_value_length(pc.struct_field(column, flag))
                marked = values(pc.invert(pc.is_null(n_flag)))
                fail(marked & (values(pc.fill_null(n_flag, 0)) != n_in),
                     f"the field '{column_name}.{flag}' does not hold one entry per test")
    for field in ("solutions", "incorrect_solutions"):
        column = table.column(field)
        fail(values(pc.is_null(column)), f"the field {field!r} is null")
        language = pc.struct_field(column, "language")
        n_lang = values(pc.fill_null(pc.list_value_length(language), 0))
        fail(n_lang != lengths(column, "solution"),
             f"the field {field!r} has languages and solutions of different counts")
        flat = pc.list_flatten(language)
        if len(flat):
            bad = pc.or_kleene(pc.less(flat, 0), pc.greater(flat, len(LANGUAGE_ENUM_NAMES) - 1))
            parents = values(pc.list_parent_indices(language))
            fail(np.isin(np.arange(len(table)), parents[values(pc.fill_null(bad, True))]),
                 f"the field '{field}.language' holds an id outside 0-4")
    for field, names in (("source", SOURCE_NAMES), ("difficulty", DIFFICULTY_NAMES)):
        ids = values(pc.fill_null(table.column(field), -1))
        fail((ids < 0) | (ids >= len(names)), f"the field {field!r} is not an id 0-{len(names) - 1}")
    for field in CHECK_COLUMNS:
        if field in table.column_names:
            _check_programs(table, field, label)


def _check_programs(table, field: str, label: str) -> None:
    """Each non-null checker/interactor is a built-in name or a program (few rows carry one: a loop is fine)."""
    import pyarrow.compute as pc

    column = table.column(field)
    for i in pc.indices_nonzero(pc.is_valid(column)).to_pylist():
        name = table.column("name")[i].as_py()
        stored_check(column[i].as_py(), f"Row {i} ({name!r}) of {label}: the field {field!r}", field)
