"""Machine-readable exports of an :class:`wergap.audit.Audit`: JSON, CSV, Parquet, GeoJSON.

The HTML report is for people; these files are for pipelines (dashboards, release gates,
mitigation lists). They carry the same numbers the Audit holds, nothing recomputed, and
each is written atomically (temporary file + rename) so a reader never sees half a file.
``summary.json`` is documented in ``docs/summary_json.md``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from wergap._io import atomic_path, check_not_inputs, make_folder, write_text_atomic
from wergap._json import jsonable
from wergap._version import __version__
from wergap.audit import Audit
from wergap.cohorts import COHORT_TABLE_COLUMNS
from wergap.discovery import registry

#: Version of the ``summary.json`` layout; bumped on any incompatible change.
SUMMARY_SCHEMA_VERSION = 2
#: Keys of the audit's provenance copied into ``summary.json``.
PROVENANCE_KEYS = (
    "sources",
    "format",
    "rows_read",
    "dropped",
    "normalization",
    "normalization_detail",
    "drop_tokens",
    "dropped_tokens",
    "unit",
    "empty_references",
    "aligner",
    "simulated",
    "note",
    "invalid_zip",
)


#: File-name prefix of everything :func:`wergap.demo.write_example` writes.
SIMULATED_PREFIX = "simulated_"


def is_simulated(audit: Audit) -> bool:
    """Whether the audited data is wergap's simulated example.

    True when the provenance says so (tables from :func:`wergap.demo.make_example`) or a
    source file's name starts with ``simulated_`` (files from
    :func:`wergap.demo.write_example`, which cannot carry table metadata).
    """
    prov = audit.provenance or {}
    names = [os.path.basename(str(s)) for s in prov.get("sources") or []]
    return bool(prov.get("simulated")) or any(n.startswith(SIMULATED_PREFIX) for n in names)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [jsonable(row) for row in frame.to_dict(orient="records")]


def _overall(overall: pd.Series | None) -> dict[str, Any]:
    if overall is None:
        return {}
    out = dict(overall.to_dict())
    for key in ("speakers", "utterances", "ref_words", "errors"):
        value = out.get(key)
        if value is not None and not pd.isna(value):
            out[key] = int(value)
    return out


def summary_dict(audit: Audit) -> dict[str, Any]:
    """The content of ``summary.json`` (see ``docs/summary_json.md``)."""
    prov = audit.provenance or {}
    params = {k: v for k, v in audit.params.items()}
    return jsonable(
        {
            "schema_version": SUMMARY_SCHEMA_VERSION,
            "generator": f"wergap {__version__}",
            "simulated": is_simulated(audit),
            "provenance": {k: prov[k] for k in PROVENANCE_KEYS if k in prov},
            "parameters": params,
            "overall": _overall(audit.overall),
            "comparison": _records(audit.summary()),
            "held_out_folds": {m: _records(h.folds) for m, h in audit.held_out.items()},
            "skipped": dict(audit.skipped),
            "exclusions": _records(audit.exclusions()),
            "attributes_left_out": dict(getattr(audit, "attributes_left_out", {})),
            "known_attributes": {a: _records(t) for a, t in audit.disaggregated.items()},
            "areas": areas_records(audit),
            "explanations": {m: e.to_dict() for m, e in getattr(audit, "explanations", {}).items()},
        }
    )


def cohorts_frame(audit: Audit) -> pd.DataFrame:
    """Every cohort of every method that ran, with a leading ``method`` column."""
    tables = [audit.cohorts(m).assign(method=m) for m in audit.methods]
    columns = ["method", *COHORT_TABLE_COLUMNS]
    if not tables:
        return pd.DataFrame(columns=columns)
    return pd.concat(tables, ignore_index=True)[columns]


def areas_frame(audit: Audit, method: str) -> Any:
    """The areas a geographic method found (its spec's ``geometry``), joined with their
    cohort-table statistics, or None when the method did not run or has no areas."""
    if method not in audit.methods or method not in registry.METHODS:
        return None
    attribute = registry.get(method).geometry
    areas = getattr(audit.estimators.get(method), attribute, None) if attribute else None
    if areas is None:
        return None
    table = audit.cohorts(method)
    stats = table.drop(columns=["definition"]).assign(reported=True)
    keep = [c for c in areas.columns if c not in stats.columns or c == "cohort"]
    merged = areas[keep].merge(stats, on="cohort", how="left")
    merged["reported"] = merged["reported"].fillna(False).astype(bool)
    for column in set(areas.columns) & set(stats.columns) - {"cohort"}:
        # areas that are not cohorts of the partition (the scan's secondary areas) keep their own counts
        merged[column] = merged[column].fillna(pd.Series(areas[column].to_numpy(), index=merged.index))
    return merged


def areas_records(audit: Audit) -> dict[str, list[dict[str, Any]]]:
    """Method -> its areas (:func:`areas_frame`) without geometry, for ``summary.json``."""
    out = {}
    for spec in registry.specs():
        areas = areas_frame(audit, spec.name) if spec.geometry else None
        if areas is not None:
            out[spec.name] = _records(pd.DataFrame(areas.drop(columns="geometry")))
    return out


def regions_frame(audit: Audit) -> Any:
    """The geo-tree regions joined with their cohort-table statistics, or None."""
    return areas_frame(audit, "geo_tree")


def audited_files(audit: Audit) -> list[str]:
    """The files an audit read (log, embeddings), which no export may overwrite."""
    prov = audit.provenance or {}
    files = [str(s) for s in prov.get("sources") or []]
    files += [str(s) for s in (prov.get("embeddings") or {}).get("sources") or []]
    return [f for f in files if not f.startswith("<")]


def write_exports(audit: Audit, outdir: str | os.PathLike[str]) -> dict[str, Path]:
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
    out = make_folder(outdir)
    paths = {
        "summary": out / "summary.json",
        "cohorts": out / "cohorts.csv",
        "assignments": out / "assignments.parquet",
    }
    names = [str(spec.geojson) for spec in registry.specs() if spec.geojson]
    check_not_inputs([*paths.values(), *(out / n for n in names)], audited_files(audit))
    text = json.dumps(summary_dict(audit), indent=2, ensure_ascii=False, allow_nan=False)
    write_text_atomic(paths["summary"], text + "\n")
    write_text_atomic(paths["cohorts"], cohorts_frame(audit).to_csv(index=False))
    with atomic_path(paths["assignments"]) as tmp:
        audit.assignments().to_parquet(tmp, index=False)
    for spec in registry.specs():
        areas = areas_frame(audit, spec.name) if spec.geojson else None
        if areas is not None:
            key = "regions" if spec.name == "geo_tree" else spec.name
            paths[key] = out / str(spec.geojson)
            write_text_atomic(paths[key], areas.to_json(na="null", drop_id=True))
    return paths
