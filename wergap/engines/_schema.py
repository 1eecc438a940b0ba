"""Every partition in the first file's columns: what Dask's p2p shuffle needs.

p2p stores the shuffled rows as Arrow, which needs one type per column: each partition
is given the first file's columns, in order (a column a file lacks is all-missing, an
all-missing text column is Arrow's null type), and a file whose column holds another kind
of value than the first file's (text where it held numbers) or a column the first file
lacks is an :class:`~wergap.data_schemas.InputError` naming the file and the column,
rather than an Arrow error deep inside the shuffle.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from wergap.errors import InputError

EXTRA_COLUMN = (
    "column {column!r} is not in {first}, the first file: every file of a dataset needs the same "
    "columns (the Dask engine learns them from the first file)"
)
COLUMN_KIND = (
    "column {column!r} holds {kind} values where {first}, the first file, holds {expected} values: "
    "every file of a dataset needs one kind of value per column"
)
MIXED_COLUMN = "column {column!r} mixes kinds of values (numbers and text, say): give it one kind"

# pandas' inferred type of an object column → the kind of value Arrow stores.
INFERRED_KINDS = {
    "string": "text",
    "integer": "number",
    "floating": "number",
    "mixed-integer-float": "number",
    "decimal": "number",
    "boolean": "boolean",
    "datetime64": "datetime",
    "datetime": "datetime",
}
MIXED_KINDS = ("mixed", "mixed-integer")


@dataclass(frozen=True)
class Schema:
    """The shuffled table's columns, in order, with the kind of values each holds.

    ``None`` where the first rows hold no value (any kind is then accepted); ``file``
    is where the kinds were learned, for error messages.
    """

    kinds: dict[str, str | None]
    file: str


def value_kind(values: pd.Series) -> str | None:
    """What Arrow makes of a column: number, text, boolean, datetime, ... (None: all missing)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return value_kind(pd.Series(values.cat.categories)) if values.notna().any() else None
    if not values.notna().any():
        return None
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if not pd.api.types.is_object_dtype(dtype) and pd.api.types.is_string_dtype(dtype):
        return "text"
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    return INFERRED_KINDS.get(inferred, inferred)


def conform(out: pd.DataFrame, schema: Schema, file: str) -> pd.DataFrame:
    """``out`` with the schema's columns in its order, or an error naming the file and column.

    The p2p shuffle stores each partition as Arrow and needs types it can unify: a
    column missing from a file becomes all-missing, an all-missing text column becomes
    Arrow's null type (which unifies with anything), and a column holding another kind
    of value than the first file's (text where it held numbers) is an error here rather
    than an Arrow error deep inside the shuffle.
    """
    for column in out.columns:
        if column not in schema.kinds:
            raise InputError(EXTRA_COLUMN.format(column=column, first=schema.file), file=file, column=column)
    for column, expected in schema.kinds.items():
        if column not in out.columns:
            out[column] = pd.Series(None, index=out.index, dtype=object)
            continue
        kind = value_kind(out[column])
        if kind is None:
            if not (
                pd.api.types.is_numeric_dtype(out[column].dtype)
                or pd.api.types.is_datetime64_any_dtype(out[column].dtype)
            ):
                out[column] = pd.Series(None, index=out.index, dtype=object)
        elif kind in MIXED_KINDS:
            raise InputError(MIXED_COLUMN.format(column=column), file=file, column=column)
        elif expected is not None and kind != expected:
            raise InputError(
                COLUMN_KIND.format(column=column, kind=kind, expected=expected, first=schema.file),
                file=file,
                column=column,
            )
    return out[list(schema.kinds)]


def learn(sample: pd.DataFrame, file: str) -> Schema:
    """The schema of ``sample`` (the first rows of ``file``, scored): its columns and their kinds."""
    return Schema({column: value_kind(sample[column]) for column in sample.columns}, file)
