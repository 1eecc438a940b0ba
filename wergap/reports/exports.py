"""Machine-readable exports of an :class:`wergap.audit.Audit`: JSON, CSV, Parquet, GeoJSON.

The HTML report is for people; these files are for pipelines (dashboards, release gates,
mitigation lists). They carry the same numbers the Audit holds, nothing recomputed, and
each is written atomically (temporary file + rename) so a reader never sees half a file.
``summary.json`` is documented in ``docs/summary_json.md``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import wergap
from wergap._io import atomic_path, write_text_atomic

#: Version of the ``summary.json`` layout; bumped on any incompatible change.
SUMMARY_SCHEMA_VERSION = 1
#: Keys of the audit's provenance copied into ``summary.json``.
PROVENANCE_KEYS = (
    "sources", "format", "rows_read", "dropped", "normalization", "unit", "empty_references", "aligner",
    "simulated", "note",
)


#: File-name prefix of everything :func:`wergap.demo.write_example` writes.
SIMULATED_PREFIX = "simulated_"


def is_simulated(audit: Any) -> bool:
    """Whether the audited data is wergap's simulated example.

    True when the provenance says so (tables from :func:`wergap.demo.make_example`) or a
    source file's name starts with ``simulated_`` (files from
    :func:`wergap.demo.write_example`, which cannot carry table metadata).
    """
    prov = audit.provenance or {}
    names = [os.path.basename(str(s)) for s in prov.get("sources") or []]
    return bool(prov.get("simulated")) or any(n.startswith(SIMULATED_PREFIX) for n in names)


def _plain(value: Any) -> Any:
    """A JSON-ready copy of ``value``: numpy scalars unwrapped, NaN/NA as None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [_plain(row) for row in frame.to_dict(orient="records")]


def _overall(overall: pd.Series | None) -> dict[str, Any]:
    if overall is None:
        return {}
    out = dict(overall.to_dict())
    for key in ("speakers", "utterances", "ref_words", "errors"):
        value = out.get(key)
        if value is not None and not pd.isna(value):
            out[key] = int(value)
    return out


def summary_dict(audit: Any) -> dict[str, Any]:
    """The content of ``summary.json`` (see ``docs/summary_json.md``)."""
    prov = audit.provenance or {}
    params = {k: v for k, v in audit.params.items()}
    return _plain(
        {
            "schema_version": SUMMARY_SCHEMA_VERSION,
            "generator": f"wergap {wergap.__version__}",
            "simulated": is_simulated(audit),
            "provenance": {k: prov[k] for k in PROVENANCE_KEYS if k in prov},
            "parameters": params,
            "overall": _overall(audit.overall),
            "comparison": _records(audit.summary()),
            "held_out_folds": {m: _records(h.folds) for m, h in audit.held_out.items()},
            "skipped": dict(audit.skipped),
            "known_attributes": {a: _records(t) for a, t in audit.disaggregated.items()},
            "explanations": {m: e.to_dict() for m, e in getattr(audit, "explanations", {}).items()},
        }
    )


def cohorts_frame(audit: Any) -> pd.DataFrame:
    """Every cohort of every method that ran, with a leading ``method`` column."""
    from wergap.cohorts import COHORT_TABLE_COLUMNS

    tables = [audit.cohorts(m).assign(method=m) for m in audit.methods]
    columns = ["method", *COHORT_TABLE_COLUMNS]
    if not tables:
        return pd.DataFrame(columns=columns)
    return pd.concat(tables, ignore_index=True)[columns]


def regions_frame(audit: Any) -> Any:
    """The geo-tree regions joined with their cohort-table statistics, or None."""
    estimator = audit.estimators.get("geo_tree")
    regions = getattr(estimator, "regions_", None)
    if regions is None:
        return None
    table = audit.cohorts("geo_tree")
    stats = table.drop(columns=["definition"]).assign(reported=True)
    keep = [c for c in regions.columns if c not in stats.columns or c == "cohort"]
    merged = regions[keep].merge(stats, on="cohort", how="left")
    merged["reported"] = merged["reported"].fillna(False).astype(bool)
    return merged


def write_exports(audit: Any, outdir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``summary.json``, ``cohorts.csv``, ``assignments.parquet`` (and ``regions.geojson``).

    Parameters
    ----------
    audit : Audit
        The result of :func:`wergap.audit.audit`.
    outdir : path
        Folder to write into (created if needed).

    Returns
    -------
    dict of str to Path
        File kind -> path written. ``regions`` only when the geographic tree ran.
    """
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "summary": out / "summary.json",
        "cohorts": out / "cohorts.csv",
        "assignments": out / "assignments.parquet",
    }
    text = json.dumps(summary_dict(audit), indent=2, ensure_ascii=False, allow_nan=False)
    write_text_atomic(paths["summary"], text + "\n")
    write_text_atomic(paths["cohorts"], cohorts_frame(audit).to_csv(index=False))
    with atomic_path(paths["assignments"]) as tmp:
        audit.assignments().to_parquet(tmp, index=False)
    regions = regions_frame(audit)
    if regions is not None:
        paths["regions"] = out / "regions.geojson"
        write_text_atomic(paths["regions"], regions.to_json(na="null", drop_id=True))
    return paths
