"""A CSV or TSV decode log that needs no repair, read straight to Arrow without pandas.

:func:`~wergap.data_schemas.read_log` checks every row in pandas, and importing pandas
alone takes longer than reading and scoring a 45,000-utterance log. Most logs are clean:
they have an id, a speaker, a reference and a hypothesis on every row, and read_log keeps
every row as read. :func:`read_clean_log` reads such a file with the same Arrow reader
and, by checks that can only err on the side of caution, tells whether read_log would
keep it unchanged; the command line then scores the Arrow table itself. Anything else
(a blank or repeated id, a count column or a ZIP code to convert, a speaker taken from
the id, a number column with gaps) returns ``None``, and the caller goes through read_log, which
names the bad row or drops and counts it. ``tests/data_schemas/test_arrow_log.py`` holds the two
paths to the same table, provenance included.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from wergap._arrow import as_numpy
from wergap._strings import STARTS_WITH_WHITESPACE
from wergap.data_schemas._columns import COUNT_COLUMNS, rename_map
from wergap.data_schemas._delimited import header_fields, read_delimited_table
from wergap.data_schemas._text import format_from_name, read_text
from wergap.provenance import read_provenance

#: The columns every clean row fills: read_log's contract for a text log.
REQUIRED = ("utt_id", "speaker_id", "ref", "hyp")
#: Columns read_log converts (counts, published WER): their logs go through read_log.
CONVERTED = (*COUNT_COLUMNS, "wer")
#: A ZIP code read_log keeps as written (:func:`~wergap.data_schemas.normalize_zip`).
FIVE_DIGITS = r"^\d{5}$"
#: Coordinate columns and their valid range: kept when every value is a number in range.
COORDINATES = {"lat": (-90.0, 90.0), "lon": (-180.0, 180.0)}
#: Arrow types a CSV column can have that pandas holds as they are (no nulls).
_PLAIN = (pa.types.is_string, pa.types.is_large_string, pa.types.is_int64, pa.types.is_float64, pa.types.is_boolean)


@dataclass
class CleanLog:
    """A log read_log would keep as read: the table under wergap's names, and its provenance."""

    table: pa.Table
    provenance: dict[str, Any]


def read_clean_log(
    path: str | Path,
    *,
    format: str | None = None,  # noqa: A002 - as read_log's format=
    columns: Mapping[str, str] | None = None,
    drop_invalid: bool = False,
) -> CleanLog | None:
    """``read_log(path)`` as an Arrow table, when the log is a clean CSV or TSV; else ``None``.

    Parameters
    ----------
    path : str or Path
        The log; only ``.csv`` and ``.tsv`` files (or ``format="csv"``/``"tsv"``) are read.
    format, columns, drop_invalid
        As :func:`~wergap.data_schemas.read_log`.

    Returns
    -------
    CleanLog or None
        The table read_log would return (same columns, order, values and types once in
        pandas) with its provenance; ``None`` where read_log would drop, convert or
        refuse anything, or where this reader cannot tell.

    Raises
    ------
    InputError
        What read_log raises for the file itself (missing, unreadable, malformed lines,
        an unclosed quote, a bad ``columns`` mapping): the same reader raises it.
    """
    path = Path(path)
    fmt = format or format_from_name(path)
    if fmt not in ("csv", "tsv"):
        return None
    sep = "," if fmt == "csv" else "\t"
    text = read_text(path)
    header = header_fields(text, sep, sep != "\t", str(path))
    renames = rename_map(header, columns, file=str(path))
    names = {renames.get(name, name) for name in header}
    if not set(REQUIRED) <= names or names & set(CONVERTED):
        return None  # known from the header: the rows are parsed once, by read_log
    read = read_delimited_table(path, sep=sep, columns=columns, drop_invalid=drop_invalid, text=text)
    if read.invalid:
        return None
    table = read.table.rename_columns([renames.get(name, name) for name in read.table.column_names])
    for name in ("utt_id", "speaker_id"):
        if not _filled(table[name]):
            return None
    if pc.count_distinct(table["utt_id"]).as_py() != table.num_rows:
        return None
    kept = []
    for name, column in zip(table.column_names, table.columns):
        if name in COORDINATES:
            column = _in_range(column, *COORDINATES[name])
            if column is None:
                return None
        elif name == "zip" and not _five_digits(column):
            return None
        elif not any(is_type(column.type) for is_type in _PLAIN) or column.null_count:
            return None
        elif pa.types.is_floating(column.type) and pc.any(pc.is_nan(column)).as_py():
            return None  # pandas writes NaN as a null
        elif pa.types.is_string(column.type):
            column = column.cast(pa.large_string())  # what pandas' str columns are written as
        kept.append(column)
    table = pa.table(kept, names=table.column_names)
    meta: dict[str, Any] = {"dropped": {}}
    notes: dict[str, Any] = {"speaker_from": "column"}
    if "zip" in names:
        notes["invalid_zip"] = 0
    meta.update(read_provenance([read.file], read.format, table.num_rows, {}, renames, notes))
    return CleanLog(table, meta)


def _filled(ids: pa.ChunkedArray) -> bool:
    """Whether every id has text that ``str.strip()`` leaves non-empty (read_log's test),
    judged by its first character alone: an id starting with whitespace goes to read_log."""
    if ids.null_count or pc.min(pc.binary_length(ids)).as_py() == 0:
        return False
    return not pc.any(pc.match_substring_regex(ids, STARTS_WITH_WHITESPACE)).as_py()


def _five_digits(zips: pa.ChunkedArray) -> bool:
    """Whether every ZIP code is five digits and not 00000, which normalize_zip keeps as written."""
    if not pa.types.is_string(zips.type) or zips.null_count:
        return False
    five = pc.all(pc.match_substring_regex(zips, FIVE_DIGITS)).as_py()
    return bool(five) and not pc.any(pc.match_substring_regex(zips, "^00000$")).as_py()


def _in_range(column: pa.ChunkedArray, low: float, high: float) -> pa.ChunkedArray | None:
    """A coordinate column as float64 when every value is a finite number in ``[low, high]``."""
    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)) or column.null_count:
        return None
    values = column.cast(pa.float64())
    numbers = as_numpy(values)
    if not np.isfinite(numbers).all() or numbers.min() < low or numbers.max() > high:
        return None
    return values
