"""Provenance carried with every table: files read, rows read, rows dropped and why.

Reports must state how many rows were dropped and for what reason, so the counts travel
with the data in ``DataFrame.attrs["wergap"]`` (pandas' own place for table metadata, kept
by ``to_parquet``). Functions that derive a new table copy it forward with
:func:`carry`.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

KEY = "wergap"


def provenance(df: pd.DataFrame) -> dict[str, Any]:
    """Return the provenance dict of ``df``, creating an empty one if absent.

    Keys (all optional): ``sources`` (list of file names), ``format``, ``rows_read``,
    ``dropped`` ({reason: rows}), ``normalization``, ``unit`` ("word" or "char"),
    ``empty_references`` (count), ``aligner``.
    """
    meta = df.attrs.get(KEY)
    if not isinstance(meta, dict):
        meta = {}
        df.attrs[KEY] = meta
    meta.setdefault("dropped", {})
    return meta


def read_provenance(
    sources: list[str],
    format: str,  # noqa: A002 - as read_log's format=
    rows_read: int,
    dropped: dict[str, int],
    renamed: dict[str, str],
    notes: dict[str, Any],
) -> dict[str, Any]:
    """The provenance entries of a log as read: its files, format, rows read, rows dropped
    by reason (reasons with 0 rows left out), the columns renamed, and the readers' notes."""
    meta: dict[str, Any] = {
        "sources": list(sources),
        "format": format,
        "rows_read": int(rows_read),
        "dropped": {reason: int(n) for reason, n in dropped.items() if n},
    }
    if renamed:
        meta["renamed"] = dict(renamed)
    meta.update(notes)
    return meta


def carry(src: pd.DataFrame, dst: pd.DataFrame, **updates: Any) -> pd.DataFrame:
    """Copy ``src``'s provenance onto ``dst`` (deep copy), apply ``updates``, return ``dst``."""
    dst.attrs[KEY] = carried(src.attrs.get(KEY), **updates)
    return dst


def carried(meta: dict[str, Any] | None, **updates: Any) -> dict[str, Any]:
    """A deep copy of the provenance ``meta`` (``None``: none yet) with ``updates`` applied."""
    out = copy.deepcopy(meta) if isinstance(meta, dict) else {}
    out.setdefault("dropped", {})
    out.update(updates)
    return out


def add_drops(df: pd.DataFrame, reason: str, rows: int) -> None:
    """Add ``rows`` dropped for ``reason`` to ``df``'s provenance (no-op for 0)."""
    if rows:
        dropped = provenance(df)["dropped"]
        dropped[reason] = int(dropped.get(reason, 0)) + int(rows)
