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


def carry(src: pd.DataFrame, dst: pd.DataFrame, **updates: Any) -> pd.DataFrame:
    """Copy ``src``'s provenance onto ``dst`` (deep copy), apply ``updates``, return ``dst``."""
    meta = copy.deepcopy(src.attrs.get(KEY, {})) if isinstance(src.attrs.get(KEY), dict) else {}
    meta.setdefault("dropped", {})
    meta.update(updates)
    dst.attrs[KEY] = meta
    return dst


def add_drops(df: pd.DataFrame, reason: str, rows: int) -> None:
    """Add ``rows`` dropped for ``reason`` to ``df``'s provenance (no-op for 0)."""
    if rows:
        dropped = provenance(df)["dropped"]
        dropped[reason] = int(dropped.get(reason, 0)) + int(rows)
