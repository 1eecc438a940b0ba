"""Every row and speaker counted out of an audit, and why, in one table.

No row may be lost without a count (DESIGN: "the counts of rows dropped (and why) appear
in every report"): rows a reader dropped, ZIP codes that were not ZIPs, embeddings that
matched no speaker, speakers without one, and each discovery method's speakers it could
not place (``Partition.excluded``: no coordinates, ZIP not in the census table, zero
embedding vector, ...). The CLI summary, the HTML report and ``summary.json`` all print
this one table, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

#: Columns of :func:`exclusion_table`.
EXCLUSION_COLUMNS = ["stage", "reason", "count", "unit"]
READ = "read"
INVALID_ZIP = "invalid ZIP code (treated as missing)"
EMBEDDINGS = "embeddings"
WITHOUT_SPEAKER = "matching no speaker"
WITHOUT_EMBEDDING = "without an embedding"


def exclusion_table(provenance: Mapping[str, Any], excluded: Mapping[str, Mapping[str, int]]) -> pd.DataFrame:
    """Rows and speakers counted out, one row per (stage, reason).

    Parameters
    ----------
    provenance : mapping
        The audited table's ``attrs["wergap"]``: ``dropped`` ({reason: rows}),
        ``invalid_zip`` (rows), ``embeddings`` (attachment counts).
    excluded : mapping
        ``{method: Partition.excluded}`` ({reason: speakers}).

    Returns
    -------
    DataFrame
        Columns :data:`EXCLUSION_COLUMNS`: ``stage`` ("read", "embeddings" or the method),
        ``reason``, ``count`` (int), ``unit`` ("rows", "speakers" or "embeddings").
        Reasons with a count of 0 are left out.
    """
    rows: list[dict[str, Any]] = []
    for reason, n in (provenance.get("dropped") or {}).items():
        rows.append({"stage": READ, "reason": f"dropped: {reason}", "count": int(n), "unit": "rows"})
    if provenance.get("invalid_zip"):
        rows.append({"stage": READ, "reason": INVALID_ZIP, "count": int(provenance["invalid_zip"]), "unit": "rows"})
    emb = provenance.get("embeddings") or {}
    if emb.get("embeddings_without_speaker"):
        rows.append(
            {
                "stage": EMBEDDINGS,
                "reason": WITHOUT_SPEAKER,
                "count": int(emb["embeddings_without_speaker"]),
                "unit": "embeddings",
            }
        )
    if emb.get("speakers_without_embedding"):
        rows.append(
            {
                "stage": EMBEDDINGS,
                "reason": WITHOUT_EMBEDDING,
                "count": int(emb["speakers_without_embedding"]),
                "unit": "speakers",
            }
        )
    for method, reasons in excluded.items():
        for reason, n in (reasons or {}).items():
            if n:
                rows.append({"stage": str(method), "reason": str(reason), "count": int(n), "unit": "speakers"})
    frame = pd.DataFrame(rows, columns=EXCLUSION_COLUMNS)
    frame["count"] = frame["count"].astype("int64")
    return frame


def exclusion_lines(table: pd.DataFrame) -> list[str]:
    """The table as lines of text, one per stage (``"geo_tree: 12 speakers no coordinates"``)."""
    lines = []
    for stage, rows in table.groupby("stage", sort=False):
        lines.append(f"{stage}: " + "; ".join(f"{r['count']:,} {r['unit']} {r['reason']}" for _, r in rows.iterrows()))
    return lines
