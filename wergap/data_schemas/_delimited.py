"""Read a delimited decode log (CSV, TSV) into Arrow, naming the line of any malformed record.

Arrow's C reader does the work over the whole file; Python's :mod:`csv` walks the lines
again only when something is wrong, to name the line. This module needs no pandas: the
command line scores a clean CSV from the Arrow table itself
(:mod:`wergap.data_schemas.arrow_log`), and :func:`wergap.data_schemas._tables.read_delimited`
turns the same table into the DataFrame :func:`~wergap.data_schemas.read_log` checks.
"""

from __future__ import annotations

import contextlib
import csv
import io
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from wergap.data_schemas._columns import STRING_COLUMNS, rename_map
from wergap.data_schemas._text import read_text, split_lines
from wergap.errors import InputError

if TYPE_CHECKING:
    from _csv import Reader  # the type csv.reader() returns (the stdlib names it only here)

WRONG_FIELD_COUNT = "expected {expected} fields as in the header, found {found}"
NO_DATA_ROWS = "no data rows after the header: expected at least one utterance"
BAD_HEADER = "cannot read the header line: {reason}"
UNCLOSED_QUOTE = (
    "a quote opened on this line runs on to line {end}, taking {swallowed} line(s) that look like "
    'rows into one field: close the quote, or double a quote inside a field ("")'
)
CSV_ERROR = "cannot parse this line: {reason}"


@dataclass
class Delimited:
    """A delimited log as Arrow read it: the table, and where each of its rows came from.

    ``invalid`` counts the malformed lines skipped (``drop_invalid``); ``locate(pos)``
    returns ``(file, line)`` of the table's row ``pos`` for error messages.
    """

    table: pa.Table
    file: str
    format: str
    invalid: int
    locate: Callable[[int], tuple[str, int]]


def read_delimited_table(
    path: Path, *, sep: str, columns: Mapping[str, str] | None, drop_invalid: bool, text: str | None = None
) -> Delimited:
    """Read CSV (``sep=","``, RFC 4180 quoting) or TSV (``sep="\\t"``, no quoting: a quote
    character in a transcript is just a character, as in Kaldi/ESPnet/Common Voice TSVs)
    as an Arrow table, with the log's own column names.

    A malformed line raises (naming it), or with ``drop_invalid`` is skipped and counted
    in ``invalid``; a quote left open raises either way. ``text``: the file's text, when
    the caller has read it already."""
    file = str(path)
    text = read_text(path) if text is None else text
    quoted = sep != "\t"
    header = header_fields(text, sep, quoted, file)
    renames = rename_map(header, columns, file=file)
    strings = {name: pa.string() for name in header if renames.get(name, name) in STRING_COLUMNS}

    invalid: list[int] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        invalid.append(row.actual_columns)
        return "skip"

    encoded = text.encode("utf-8")
    data = pa.py_buffer(encoded)

    def arrow_read(types: dict[str, pa.DataType]) -> pa.Table:
        invalid.clear()
        return pacsv.read_csv(
            data,
            parse_options=pacsv.ParseOptions(
                delimiter=sep,
                quote_char='"' if quoted else False,
                newlines_in_values=quoted,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                null_values=[""],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    try:
        try:
            table = arrow_read(strings)
        except pa.ArrowInvalid:
            # Arrow types a column from the first block; when a later row does not fit
            # (a number column with text further down), keep every column as text.
            table = arrow_read({name: pa.string() for name in header})
    except pa.ArrowInvalid as err:  # e.g. an unterminated quote at the end of the file
        line, found = _first_malformed(text, sep, quoted, len(header))
        raise InputError(
            WRONG_FIELD_COUNT.format(expected=len(header), found=found)
            if line
            else BAD_HEADER.format(reason=str(err).splitlines()[0]),
            file=file,
            row=line or 1,
        ) from None
    # Arrow also turns ISO dates and times into timestamps; other columns are kept as
    # written, so read those as text (pandas' own default) too.
    temporal = [f.name for f in table.schema if pa.types.is_temporal(f.type)]
    if temporal:
        table = arrow_read({**strings, **{name: pa.string() for name in temporal}})

    if quoted and table.num_rows + len(invalid) + 1 < _physical_lines(encoded, table.num_rows + len(invalid) + 1):
        # Fewer records than lines: a field spans lines. Legitimate in CSV, but an
        # unclosed quote does the same to every row up to the next quote: refuse that
        # whole file (with or without drop_invalid), naming the line the quote opened.
        _check_spanning_records(text, sep, len(header), file)
    if invalid and not drop_invalid:
        line, found = _first_malformed(text, sep, quoted, len(header))
        raise InputError(
            WRONG_FIELD_COUNT.format(expected=len(header), found=found)
            if found >= 0
            else CSV_ERROR.format(reason=_csv_error(text, sep, quoted)),
            file=file,
            row=line,
        )
    if table.num_rows == 0 and not invalid:
        raise InputError(NO_DATA_ROWS, file=file)

    lines: list[np.ndarray] = []

    def locate(pos: int) -> tuple[str, int]:
        if not lines:
            lines.append(_record_lines(text, sep, quoted, len(header)))
        return file, int(lines[0][pos])

    return Delimited(table, file, "csv" if quoted else "tsv", len(invalid), locate)


@contextlib.contextmanager
def _no_field_limit():
    """Lift Python's csv field size limit (131,072 characters) while walking a file that
    Arrow has read: a long transcript is not an error."""
    old = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _physical_lines(data: bytes, records: int = 0) -> int:
    """Lines of the UTF-8 ``data`` that are not empty (Arrow skips empty lines); counted
    with numpy on the bytes (``str.count`` is ten times slower). Empty lines are only looked for
    when the file has more lines than ``records``."""
    lines = int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == 10)) + (0 if data.endswith(b"\n") else 1)
    if not records or lines <= records:  # the usual case: one count of one byte
        return lines
    return lines - data.count(b"\n\n") - data.count(b"\n\r\n")


def _check_spanning_records(text: str, sep: str, expected: int, file: str) -> None:
    """Raise :class:`InputError` at the first record that spans lines of which one, on
    its own, has the header's number of fields, and whose quoting is broken: the
    signature of an unclosed quote.

    A field that legitimately holds line breaks (and commas) is written by every CSV
    writer with its inner quotes doubled and its closing quote followed by a separator
    or the line end, so it parses under the csv module's strict rules. A quote left open
    swallows the rows after it until some later quote, meant to open a field, closes it
    and is followed by that field's text, which strict parsing refuses.
    """
    lines = None
    for start, end, _found in _walk(text, sep, True, ends=True):
        if end <= start:
            continue
        if lines is None:
            lines = split_lines(text)
        inner = lines[start:end]  # the lines after the first, 0-based start == line start+1
        swallowed = sum(1 for line in inner if len(line.split(sep)) >= expected)
        if swallowed and not _parses_strictly("\n".join(lines[start - 1 : end]), sep):
            raise InputError(UNCLOSED_QUOTE.format(end=end, swallowed=swallowed), file=file, row=start)


def _parses_strictly(record: str, sep: str) -> bool:
    """Whether one record's text is well-formed CSV (quotes closed before a separator)."""
    try:
        with _no_field_limit():
            list(csv.reader(io.StringIO(record), delimiter=sep, strict=True))
    except csv.Error:
        return False
    return True


def _csv_error(text: str, sep: str, quoted: bool) -> str:
    reader = _reader(text, sep, quoted)
    try:
        with _no_field_limit():
            for _ in reader:
                pass
    except csv.Error as err:
        return str(err)
    return "unknown"


def _reader(text: str, sep: str, quoted: bool) -> Reader:
    return csv.reader(
        io.StringIO(text, newline=""),
        delimiter=sep,
        quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE,
        strict=False,
    )


def header_fields(text: str, sep: str, quoted: bool, file: str) -> list[str]:
    """The column names on the first line of a CSV (``quoted``) or TSV file's ``text``."""
    first = text.find("\n")
    if first >= 0 and '"' not in text[:first]:
        text = text[: first + 1]  # an unquoted header ends at the first line break: parse just it
    try:
        return next(_reader(text, sep, quoted))
    except (csv.Error, StopIteration) as err:
        raise InputError(BAD_HEADER.format(reason=err), file=file, row=1) from None


def _walk(text: str, sep: str, quoted: bool, ends: bool = False):
    """Yield ``(first line, field count)`` of each non-blank record after the header
    (``(first line, last line, field count)`` with ``ends=True``); a record Python's csv
    cannot parse has field count -1."""
    reader = _reader(text, sep, quoted)
    with _no_field_limit():
        next(reader)
        previous = reader.line_num
        try:
            for record in reader:
                start, previous = previous + 1, reader.line_num
                if record:
                    yield (start, previous, len(record)) if ends else (start, len(record))
        except csv.Error:
            yield (previous + 1, previous + 1, -1) if ends else (previous + 1, -1)


def _first_malformed(text: str, sep: str, quoted: bool, expected: int) -> tuple[int | None, int]:
    for line, found in _walk(text, sep, quoted):
        if found != expected:
            return line, found
    return None, expected


def _record_lines(text: str, sep: str, quoted: bool, expected: int) -> np.ndarray:
    """1-based first line of each record the Arrow reader kept (well-formed, non-blank)."""
    return np.array([line for line, found in _walk(text, sep, quoted) if found == expected])
