"""The self-contained HTML disparity report of an :class:`wergap.audit.Audit`.

One file, CSS and figures inline (PNG data URIs), no script and no external resource, so
it opens offline and can be e-mailed. The page formats what the Audit holds: it computes
no statistic. The template is rendered with Jinja2 autoescaping, so every user string
(file names, attribute values, cohort definitions) is escaped. No transcript and no
speaker id is written, and cohorts under ``min_speakers`` never appear as rows: the
cohort tables an Audit holds have already pooled them.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Callable
from typing import Any

import jinja2
import pandas as pd

from wergap._format import count, interval, num, pct
from wergap._format import missing as _missing
from wergap._io import check_not_inputs, write_text_atomic
from wergap._version import __version__
from wergap.audit import Audit
from wergap.defaults import MIN_GROUP_SPEAKERS, MIN_SPEAKERS
from wergap.discovery import registry
from wergap.reports import figures, maps
from wergap.reports.explanations import explanation_section
from wergap.reports.exports import audited_files, is_simulated

#: Census splits shown in the figure and table.
TOP_SPLITS = 8

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("wergap.reports", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _stat_rows(
    table: pd.DataFrame, bottom: set[str], *, key: str, gap: str, keep: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Rows of a WER table formatted for the template: ``key`` (and ``keep``) as they are,
    counts, WER with its interval, the ``gap`` column (``gap_vs_rest``, ``gap_vs_best``)
    with its interval, and whether the row is in ``bottom``."""
    return [
        {
            key: r[key],
            **{column: r[column] for column in keep},
            "speakers": count(r["speakers"]),
            "utterances": count(r["utterances"]),
            "wer": pct(r["wer"]),
            "wer_ci": interval(r["wer_ci_low"], r["wer_ci_high"], fraction=True),
            "gap": num(r[f"{gap}_pct"], suffix="%", signed=True),
            "gap_ci": interval(r[f"{gap}_ci_low"], r[f"{gap}_ci_high"], fraction=False),
            "share": num(r["share_speakers_pct"], suffix=" %"),
            "bottom": str(r[key]) in bottom,
        }
        for _, r in table.iterrows()
    ]


def _cohort_rows(table: pd.DataFrame, bottom: set[str]) -> list[dict[str, Any]]:
    return _stat_rows(table, bottom, key="cohort", gap="gap_vs_rest", keep=("definition",))


def geo_regions_note(tree: Any) -> str:
    """How many regions the geographic tree kept, and why."""
    n, most = tree.n_regions_, tree.max_regions
    table = getattr(tree, "cv_errors_", None)
    if table is None:
        why = "pruning is off" if tree.prune is None else "too few speakers to cross-validate"
        return f"{n} regions: the tree was grown to at most {most} regions ({why})."
    return (
        f"{n} regions, chosen by {tree.cv}-fold cross-validation over speakers among trees of 2 to {most}: "
        "the fewest regions whose error in predicting held-out speakers' WER is within one standard "
        "error of the best, so the tree keeps only cuts that hold up beyond the speakers it was fitted on."
    )


def _region_map(
    audit: Audit,
    method: str,
    estimator: Any,
    table: pd.DataFrame,
    bottom: set[str],
    boundaries: str | os.PathLike[str] | None,
    section: dict[str, Any],
) -> None:
    """The geographic tree's regions on a map, coloured by WER."""
    if getattr(estimator, "regions_", None) is None:
        return
    fig = figures.region_map(estimator.regions_, table, bottom=bottom, boundaries=boundaries, speakers=audit.speakers)
    alt = "Map of the geographic regions coloured and labelled by WER, on state and country outlines, with speakers' density"
    section["figures"].append({"uri": figures.to_data_uri(fig), "alt": alt})
    section["figure_note"] = geo_regions_note(estimator)


def _split_pairs(
    audit: Audit,
    method: str,
    estimator: Any,
    table: pd.DataFrame,
    bottom: set[str],
    boundaries: str | os.PathLike[str] | None,
    section: dict[str, Any],
) -> None:
    """WER inside and outside the best census splits, with their intervals, and their table."""
    if getattr(estimator, "splits_", None) is None:
        return
    splits = estimator.splits_
    minimum = audit.params.get("min_speakers", MIN_SPEAKERS)
    shown = splits[(splits["speakers_in"] >= minimum) & (splits["speakers_out"] >= minimum)].head(TOP_SPLITS)
    intervals = getattr(audit, "split_intervals", None)
    if intervals is not None and len(intervals):
        shown = intervals.head(TOP_SPLITS)
    if len(shown):
        fig = figures.split_pairs(shown, n=TOP_SPLITS)
        section["figures"].append(
            {"uri": figures.to_data_uri(fig), "alt": "WER inside and outside the top census splits"}
        )
        if figures.has_split_intervals(shown):
            section["figure_note"] = (
                f"Error bars: {audit.params.get('confidence', 0.95) * 100:.0f} % speaker-bootstrap intervals "
                "of each split on its own. They do not account for the search that ranked these splits "
                "first; the held-out gap does, for the best split."
            )
        else:
            section["figure_note"] = (
                "The split ranking does not carry intervals (n_boot = 0), so these bars have no error bars."
            )
    section["splits"] = [
        {
            "definition": r["definition"],
            "speakers_in": count(r["speakers_in"]),
            "speakers_out": count(r["speakers_out"]),
            "wer_in": pct(r["wer_in"]),
            "wer_out": pct(r["wer_out"]),
            "gap": num(r["gap_pct"], suffix="%", signed=True),
            "worse": {"in": "inside", "out": "outside"}.get(str(r.get("worse")), "–"),
            "worse_share": num(r.get("worse_share_pct"), suffix=" %"),
            "target": _is_target(r.get("worse_share_pct"), audit.params.get("max_bottom_share")),
        }
        for _, r in shown.iterrows()
    ]


def _is_target(worse_share_pct: Any, max_bottom_share: Any) -> str:
    """Whether a split's worse side may be the bottom cohort (at most ``max_bottom_share``)."""
    if _missing(worse_share_pct) or _missing(max_bottom_share):
        return "yes"
    return "yes" if float(worse_share_pct) <= 100 * float(max_bottom_share) + 1e-9 else "no: most speakers"


def _embedding_scatter(
    audit: Audit,
    method: str,
    estimator: Any,
    table: pd.DataFrame,
    bottom: set[str],
    boundaries: str | os.PathLike[str] | None,
    section: dict[str, Any],
) -> None:
    """Speakers' embeddings projected to 2-D, coloured by their cluster's WER."""
    if getattr(estimator, "projection_", None) is None:
        return
    fig = figures.embedding_scatter(estimator.projection_, table, bottom=bottom)
    section["figures"].append(
        {"uri": figures.to_data_uri(fig), "alt": "Speaker embeddings in 2-D coloured by cluster WER"}
    )


def _scan_map(
    audit: Audit,
    method: str,
    estimator: Any,
    table: pd.DataFrame,
    bottom: set[str],
    boundaries: str | os.PathLike[str] | None,
    section: dict[str, Any],
) -> None:
    """The spatial scan's areas on a map, labelled with WER and p-value, and what the scan concluded."""
    areas = getattr(estimator, "areas_", None)
    if areas is None:
        return
    if len(areas):
        fig = maps.scan_map(areas, speakers=audit.speakers, bottom=bottom, boundaries=boundaries)
        alt = "Map of the geographic hot spots (circles) labelled with WER and p-value, with speakers' density"
        section["figures"].append({"uri": figures.to_data_uri(fig), "alt": alt})
    section["figure_note"] = scan_note(estimator)


def scan_note(scan: Any) -> str:
    """What the spatial scan found, in one paragraph (significant or not, said plainly)."""
    replicates = scan.n_replicates
    how = (
        f"Circles around speakers' locations holding {scan.min_speakers} speakers up to {100 * scan.max_share:.0f} % "
        f"of them were searched; each p-value ranks the area's likelihood ratio among the best of {replicates} "
        "maps with the speakers shuffled over their locations, so it accounts for the search over every circle."
    )
    return f"{str(scan.note_)[0].upper()}{str(scan.note_)[1:]}. {how}"


#: Figure kind (a method's ``MethodSpec.figures``) -> the function that adds it to a section.
FIGURES: dict[str, Callable[..., None]] = {
    "region_map": _region_map,
    "scan_map": _scan_map,
    "split_pairs": _split_pairs,
    "embedding_scatter": _embedding_scatter,
}


def _method_figure(
    audit: Audit,
    method: str,
    estimator: Any,
    table: pd.DataFrame,
    bottom: set[str],
    boundaries: str | os.PathLike[str] | None,
    section: dict[str, Any],
) -> None:
    """Add the method's own figures (its registry entry names them) to ``section``."""
    kinds = registry.get(method).figures if method in registry.METHODS else ()
    for kind in kinds:
        FIGURES[kind](audit, method, estimator, table, bottom, boundaries, section)


def _method_section(audit: Audit, method: str, boundaries: str | os.PathLike[str] | None) -> dict[str, Any]:
    table = audit.cohorts(method)
    gap = audit.gaps[method]
    held = audit.held_out[method]
    bottom = {str(c) for c in (gap.bottom_cohorts or ((gap.bottom,) if gap.bottom else ()))}
    estimator = audit.estimators.get(method)
    section: dict[str, Any] = {
        "id": method,
        "title": registry.title(method),
        "rows": _cohort_rows(table, bottom),
        "in_sample": num(gap.gap_pct, suffix="%", signed=True),
        "held_out": held_out_text(held.gap_pct),
        "held_out_ci": interval(held.ci_low, held.ci_high, fraction=False),
        "reasons": [r for r in (held.reason and f"held-out gap: {held.reason}", gap.reason) if r],
        "figures": [],
        "splits": [],
        "figure_note": None,
    }
    try:
        _method_figure(audit, method, estimator, table, bottom, boundaries, section)
    except (KeyError, AttributeError, TypeError, ValueError) as error:
        # The estimator's plotting attributes are not in the documented shape: keep the
        # tables (the numbers) and say why the figure is missing rather than lose the report.
        section["figure_note"] = f"The {section['title'].lower()} figure could not be drawn: {error!r}"
    overall = None if audit.overall is None else audit.overall["wer"]
    title = f"{registry.title(method)}: WER by cohort"
    label = registry.get(method).bar_label if method in registry.METHODS else "definition"
    fig = figures.wer_bars(table, label=label, title=title, bottom=bottom, overall=overall)
    section["figures"].append({"uri": figures.to_data_uri(fig), "alt": f"WER by cohort, {method}"})
    explanations = getattr(audit, "explanations", {})
    section["explanation"] = explanation_section(explanations.get(method), audit.params.get("min_speakers", 30))
    return section


def _attribute_section(audit: Audit, attribute: str, table: pd.DataFrame) -> dict[str, Any]:
    best_gap = table["gap_vs_best_pct"].astype("float64")
    worst = {str(table["value"].iloc[0])} if len(table) and best_gap.notna().any() else set()
    overall = None if audit.overall is None else audit.overall["wer"]
    figure = None
    plotted = table[table["wer"].notna()] if "wer" in table else table
    if len(plotted):
        fig = figures.wer_bars(
            plotted,
            label="value",
            key="value",
            title=f"WER by {attribute}",
            bottom=worst,
            overall=overall,
            bottom_label="worst-served value",
        )
        figure = {"uri": figures.to_data_uri(fig), "alt": f"WER by {attribute}"}
    rows = _stat_rows(table, worst, key="value", gap="gap_vs_best", keep=("note",) if "note" in table else ())
    for row in rows:
        if row.get("note"):  # under min_group_speakers: listed by name and count only
            row.update(utterances="–", wer=row["note"], wer_ci="", gap="", gap_ci="")
    return {"name": attribute, "rows": rows, "figure": figure}


def held_out_text(value: Any) -> str:
    """The held-out gap, or ``not measurable`` (the note beside it says why and what to change)."""
    return "not measurable" if _missing(value) else num(value, suffix="%", signed=True)


def _summary_rows(audit: Audit) -> list[dict[str, Any]]:
    return [
        {
            "method": registry.title(r["method"]),
            "cohorts": count(r["cohorts"]),
            "bottom": r["bottom_definition"] if not _missing(r["bottom_definition"]) else "–",
            "wer_bottom": pct(r["wer_bottom"]),
            "wer_top": pct(r["wer_top"]),
            "held_out": held_out_text(r["held_out_gap_pct"]),
            "held_out_ci": interval(r["held_out_ci_low"], r["held_out_ci_high"], fraction=False),
            "in_sample": num(r["in_sample_gap_pct"], suffix="%", signed=True),
            "share": num(r["bottom_share_pct"], suffix=" %"),
            "utt_share": num(r["bottom_utterance_share_pct"], suffix=" %"),
            "gap_vs_rest": num(r["in_sample_gap_vs_rest_pct"], suffix="%", signed=True),
            "note": "" if _missing(r["note"]) else r["note"],
        }
        for _, r in audit.summary().iterrows()
    ]


def _data_summary(audit: Audit) -> dict[str, Any]:
    prov = audit.provenance or {}
    overall = audit.overall
    dropped = prov.get("dropped") or {}
    return {
        "sources": [str(s) for s in prov.get("sources") or []],
        "format": prov.get("format"),
        "rows_read": count(prov.get("rows_read")),
        "dropped": [{"reason": str(k), "rows": count(v)} for k, v in dropped.items()],
        "dropped_total": count(sum(int(v) for v in dropped.values())),
        "speakers": count(None if overall is None else overall["speakers"]),
        "utterances": count(None if overall is None else overall["utterances"]),
        "words": count(None if overall is None else overall["ref_words"]),
        "errors": count(None if overall is None else overall["errors"]),
        "wer": pct(None if overall is None else overall["wer"], 2),
        "wer_ci": "" if overall is None else interval(overall["wer_ci_low"], overall["wer_ci_high"], fraction=True),
        "normalization": prov.get("normalization"),
        "normalization_detail": prov.get("normalization_detail"),
        "drop_tokens": prov.get("drop_tokens"),
        "dropped_tokens": prov.get("dropped_tokens") or {},
        "unit": prov.get("unit") or "word",
        "empty_references": prov.get("empty_references"),
        "aligner": prov.get("aligner"),
        # A counts-only log was not aligned here: the report says what was done instead.
        "counts_only": str(prov.get("aligner") or "").startswith("as logged"),
        "errors_from": prov.get("errors_from"),
        "exclusions": [
            {
                "stage": registry.title(r["stage"]) if r["stage"] in registry.METHODS else str(r["stage"]),
                "reason": str(r["reason"]),
                "count": count(r["count"]),
                "unit": str(r["unit"]),
            }
            for _, r in audit.exclusions().iterrows()
            if r["stage"] != "read" or not str(r["reason"]).startswith("dropped: ")
        ],
        "attributes_left_out": [
            {"column": str(c), "reason": str(r)} for c, r in getattr(audit, "attributes_left_out", {}).items()
        ],
    }


def report_context(
    audit: Audit, *, boundaries: str | os.PathLike[str] | None = None, title: str | None = None
) -> dict[str, Any]:
    """Everything the template shows, formatted as strings (no statistic is computed here)."""
    params = dict(audit.params)
    confidence = params.get("confidence", 0.95)
    prov = audit.provenance or {}
    return {
        "title": title or "wergap disparity report",
        "version": __version__,
        "generated": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "simulated": is_simulated(audit),
        "simulated_note": prov.get("note"),
        "data": _data_summary(audit),
        "confidence": f"{100 * float(confidence):.0f}",
        "summary": _summary_rows(audit),
        "methods": [_method_section(audit, m, boundaries) for m in audit.methods],
        "attributes": [_attribute_section(audit, a, t) for a, t in audit.disaggregated.items()],
        "skipped": [{"method": registry.title(m), "reason": r} for m, r in audit.skipped.items()],
        "params": [
            {
                "name": k,
                "value": "default" if v is None else ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v),
            }
            for k, v in params.items()
        ],
        "min_speakers": params.get("min_speakers", MIN_SPEAKERS),
        "min_group_speakers": params.get("min_group_speakers", MIN_GROUP_SPEAKERS),
        "max_bottom_share": params.get("max_bottom_share"),
        "n_boot": params.get("n_boot", 1000),
        "seed": params.get("seed", 0),
        "bottom_share": params.get("bottom_share"),
        "boundaries": None if boundaries is None else os.path.basename(os.fspath(boundaries)),
    }


def render_html(audit: Audit, *, boundaries: str | os.PathLike[str] | None = None, title: str | None = None) -> str:
    """Render the report of ``audit`` as one self-contained HTML string.

    Parameters
    ----------
    audit : Audit
        The result of :func:`wergap.audit.audit`.
    boundaries : path, optional
        GeoJSON outlines (e.g. US states) drawn under the geographic regions; without it
        the map has plain latitude/longitude axes.
    title : str, optional
        Page title (escaped like every other string).
    """
    return _ENV.get_template("report.html.j2").render(**report_context(audit, boundaries=boundaries, title=title))


def write_html(
    audit: Audit,
    path: str | os.PathLike[str],
    *,
    boundaries: str | os.PathLike[str] | None = None,
    title: str | None = None,
) -> None:
    """Write :func:`render_html` to ``path`` atomically (UTF-8)."""
    check_not_inputs([path], [*audited_files(audit), *([boundaries] if boundaries else [])])
    write_text_atomic(path, render_html(audit, boundaries=boundaries, title=title))
