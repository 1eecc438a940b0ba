"""Readers for tabular decode logs: CSV, TSV, JSON lines (NeMo manifests too), Parquet.

The fast path is always a C/Arrow reader over the whole file; Python only walks the lines
again when something is wrong, to name the line. Each reader returns a :class:`Raw` table
with the log's own column names; :mod:`wergap.data_schemas.log` renames and validates it.
CSV and TSV are read by :mod:`wergap.data_schemas._delimited`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.json as pajson

from wergap.data_schemas._delimited import read_delimited_table
from wergap.data_schemas._text import EMPTY_FILE, check_file, read_text, split_lines
from wergap.errors import InputError

BAD_JSON = "not valid JSON: {reason}"
NOT_JSON_OBJECT = "expected one JSON object per line, found {kind}"
NOT_PARQUET = "cannot be read as Parquet: {reason}"

MALFORMED = "malformed line"


@dataclass
class Raw:
    """A log as read: the table, where each row came from, and what was skipped.

    ``locate(pos)`` returns ``(file, line)`` of the row at 0-based position ``pos`` for
    error messages (``line`` is ``None`` when the format has no lines, e.g. Parquet, and
    ``file`` is ``None`` for an in-memory DataFrame, whose ``line`` is then ``pos``).
    """

    frame: pd.DataFrame
    sources: list[str]
    format: str
    rows_read: int
    locate: Callable[[int], tuple[str | None, int | None]]
    dropped: dict[str, int] = field(default_factory=dict)
    file: str | None = None
    notes: dict = field(default_factory=dict)


def read_delimited(path: Path, *, sep: str, columns: Mapping[str, str] | None, drop_invalid: bool) -> Raw:
    """A CSV or TSV log (:func:`~wergap.data_schemas._delimited.read_delimited_table`) as a :class:`Raw` table."""
    read = read_delimited_table(path, sep=sep, columns=columns, drop_invalid=drop_invalid)
    frame = read.table.to_pandas()
    dropped = {MALFORMED: read.invalid} if read.invalid else {}
    return Raw(frame, [read.file], read.format, len(frame) + read.invalid, read.locate, dropped, read.file)


def read_jsonl(path: Path, *, drop_invalid: bool, fmt: str = "jsonl") -> Raw:
    """Read JSON lines: one object per line; ``NaN``/``Infinity`` (written by some NeMo
    tools for the WER of an empty reference) are accepted as the numbers they mean.

    Arrow's JSON reader does the work; it refuses ``Infinity``, a field whose type changes
    between lines, or a bad line, and then Python's :mod:`json` parses line by line, which
    accepts the first two and names the line of the third.
    """
    file = str(path)
    text = read_text(path)
    data = text.encode("utf-8")
    n_objects = sum(1 for line in text.split("\n") if line.strip())
    frame = None
    try:
        table = pajson.read_json(pa.py_buffer(data))
        if table.num_rows == n_objects:
            frame = table.to_pandas()
    except pa.ArrowException:
        pass
    dropped: dict[str, int] = {}
    if frame is None:
        frame, numbered, bad = _jsonl_slow(split_lines(text), file, drop_invalid)
        line_array = np.asarray(numbered)
        if bad:
            dropped[MALFORMED] = bad
    else:
        line_array = None

    def locate(pos: int) -> tuple[str, int]:
        nonlocal line_array
        if line_array is None:
            line_array = np.array([i for i, line in enumerate(split_lines(text), start=1) if line.strip()])
        return file, int(line_array[pos])

    return Raw(frame, [file], fmt, len(frame) + sum(dropped.values()), locate, dropped, file)


def _jsonl_slow(lines: list[str], file: str, drop_invalid: bool):
    """Parse line by line, to name the first bad line (or skip and count bad lines)."""
    records, numbered, bad = [], [], 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            problem = None if isinstance(record, dict) else NOT_JSON_OBJECT.format(kind=type(record).__name__)
        except json.JSONDecodeError as err:
            problem = BAD_JSON.format(reason=f"{err.msg} at column {err.colno}")
        if problem is None:
            records.append(record)
            numbered.append(number)
        elif drop_invalid:
            bad += 1
        else:
            raise InputError(problem, file=file, row=number)
    return pd.DataFrame.from_records(records), numbered, bad


def read_parquet(path: Path) -> Raw:
    """Read a Parquet file (rows have no line numbers: errors name the 0-based row)."""
    file = str(path)
    check_file(path)
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError, pa.ArrowException) as err:
        raise InputError(NOT_PARQUET.format(reason=str(err).splitlines()[0]), file=file) from None
    if len(frame) == 0:
        raise InputError(EMPTY_FILE, file=file)
    frame = frame.reset_index(drop=True)
    return Raw(frame, [file], "parquet", len(frame), lambda pos: (file, None), {}, file, {"row_positions": True})


def from_frame(frame: pd.DataFrame) -> Raw:
    """Wrap an in-memory DataFrame (errors name its 0-based row position)."""
    frame = frame.reset_index(drop=True).copy()
    return Raw(frame, ["<DataFrame>"], "dataframe", len(frame), lambda pos: (None, pos))
