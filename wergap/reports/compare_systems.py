"""The self-contained HTML report of a :class:`wergap.comparison.SystemsComparison`.

One file (figures embedded as PNG data URIs), in the audit report's style: the systems'
overall WER, a system × method table of headline (held-out) gaps and the ranking, then
per method the verdicts against the first system, a dot-and-interval plot of each
cohort's WER for every system, every system's gap with its interval, for two systems the
change per cohort, for geographic methods the maps side by side, and the tables. It
formats what the comparison holds and computes no statistic; Jinja2 autoescapes every
cohort definition and name.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from typing import Any

import jinja2
import pandas as pd

from wergap._format import num
from wergap._io import write_text_atomic
from wergap._version import __version__
from wergap.discovery import registry
from wergap.reports import compare_figures, figures

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("wergap.reports", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
)
ATTRIBUTE_PREFIX = "attribute:"


def _pct(value: Any, digits: int = 1) -> str:
    return num(value, digits, " %", na="n/a")


def _pts(value: Any) -> str:
    return num(value, 1, signed=True, na="n/a")


def _ci(low: Any, high: Any, scale: float = 1.0, digits: int = 1) -> str:
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return ""
    return f"[{scale * low:.{digits}f}, {scale * high:.{digits}f}]"


def method_title(method: str) -> str:
    """Display name of a compared method: the registry's title, or "Known attribute: <column>"."""
    if method.startswith(ATTRIBUTE_PREFIX):
        return f"Known attribute: {method[len(ATTRIBUTE_PREFIX) :]}"
    return registry.title(method)


def _maps(
    comparison: Any, method: str, cohorts: pd.DataFrame, boundaries: str | os.PathLike[str] | None
) -> list[dict[str, str]]:
    """Side-by-side maps of a geographic method's cohorts (any registered method with a ``geometry``), one per system."""
    if method not in registry.METHODS or not len(cohorts):
        return []
    spec = registry.get(method)
    estimator = comparison.estimators.get(method)
    shapes = getattr(estimator, spec.geometry, None) if spec.geometry is not None and estimator is not None else None
    if shapes is None or not len(shapes):
        return []
    fig = compare_figures.maps_side_by_side(
        shapes,
        cohorts,
        list(comparison.names),
        speakers=comparison.speakers,
        boundaries=boundaries,
        title=f"{method_title(method)}: WER by {'area' if 'radius_km' in shapes else 'region'}",
    )
    alt = (
        f"Maps of the {method_title(method)} cohorts, one per system, one WER scale, on outlines with speakers' density"
    )
    return [{"uri": figures.to_data_uri(fig), "alt": alt}]


def _method_section(comparison: Any, method: str, boundaries: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    names = list(comparison.names)
    cohorts = comparison.cohorts(method)
    gaps = comparison.gaps(method)
    changes = comparison.changes(method).set_index("system")
    title = method_title(method)
    label = "definition"
    if method in registry.METHODS:
        label = registry.get(method).bar_label
    verdicts = []
    for name in names[1:]:
        word = changes.loc[name, "verdict"]
        text = comparison.verdict(name, method).split(": ", 3)[-1]
        verdicts.append({"word": f"{name}: {word}", "css": word.replace(" ", "-"), "text": text})
    figs = []
    if len(cohorts):
        fig = compare_figures.cohort_wer_dots(cohorts, names, label=label, title=f"{title}: WER by cohort and system")
        figs.append({"uri": figures.to_data_uri(fig), "alt": f"WER of each cohort on every system, {title}"})
    if gaps["gap_pct"].notna().any():
        fig = compare_figures.gap_intervals(gaps, names, title=f"{title}: gap by system")
        figs.append(
            {"uri": figures.to_data_uri(fig), "alt": f"Gap between the bottom and top cohorts on every system, {title}"}
        )
    if len(names) == 2:
        change = comparison.cohort_changes(method)
        if len(change):
            defs = dict(zip(cohorts["cohort"], cohorts[label]))
            fig = compare_figures.cohort_change(
                change, label_of=defs, title=f"{title}: WER change per cohort, {names[1]} vs {names[0]}"
            )
            figs.append(
                {"uri": figures.to_data_uri(fig), "alt": f"WER change of each cohort, {names[1]} against {names[0]}"}
            )
    gap_rows = [
        {
            "rank": "" if pd.isna(r["rank"]) else int(r["rank"]),
            "system": r["system"],
            "held": _pct(r["held_out_gap_pct"]),
            "held_ci": _ci(r["held_out_ci_low"], r["held_out_ci_high"]),
            "gap": _pct(r["gap_pct"]),
            "gap_ci": _ci(r["gap_ci_low"], r["gap_ci_high"]),
            "wer_bottom": _pct(100 * r["wer_bottom"], 2),
            "wer_top": _pct(100 * r["wer_top"], 2),
            "note": r["note"] or "",
        }
        for _, r in comparison.ranking(method).iterrows()
    ]
    cohort_rows = []
    for cohort, group in cohorts.groupby("cohort", sort=False):
        first = group.iloc[0]
        by_system = group.set_index("system")
        cohort_rows.append(
            {
                "cohort": cohort,
                "definition": first["definition"],
                "role": first["role"],
                "speakers": int(first["speakers"]),
                "cells": [
                    {
                        "wer": _pct(100 * by_system.loc[n, "wer"], 2),
                        "ci": _ci(by_system.loc[n, "wer_ci_low"], by_system.loc[n, "wer_ci_high"], 100),
                    }
                    for n in names
                ],
            }
        )
    excluded = comparison.excluded.get(method) or {}
    return {
        "id": re.sub(r"[^a-z0-9]+", "-", method.lower()).strip("-"),
        "title": title,
        "description": registry.get(method).description if method in registry.METHODS else "",
        "verdicts": verdicts,
        "figures": figs,
        "maps": _maps(comparison, method, cohorts, boundaries),
        "gaps": gap_rows,
        "cohorts": cohort_rows,
        "excluded": "; ".join(f"{n:,} speakers: {why}" for why, n in excluded.items()),
    }


def render_systems_html(
    comparison: Any, *, title: str | None = None, boundaries: str | os.PathLike[str] | None = None
) -> str:
    """The report of ``comparison`` as one HTML string (``boundaries``: GeoJSON under the maps)."""
    names = list(comparison.names)
    level = f"{100 * comparison.confidence:g} %"
    headline = comparison.headline()
    gaps = comparison.gaps()
    held = gaps.groupby("method")["ranked_by"].first().eq("held-out") if len(gaps) else pd.Series(dtype=bool)
    rows = []
    for name in names:
        cells = []
        for method in comparison.methods:
            value = headline.loc[name, method]
            cells.append(_pct(value) + ("" if held.get(method, False) else " *"))
        rows.append({"system": name, "cells": cells})
    overall = [
        {
            "system": r["system"],
            "wer": _pct(100 * r["wer"], 2),
            "wer_ci": _ci(r["wer_ci_low"], r["wer_ci_high"], 100, 2),
            "change": _pts(r["change_pts"]) if i else "",
            "change_ci": _ci(r["change_ci_low"], r["change_ci_high"]) if i else "",
        }
        for i, (_, r) in enumerate(comparison.overall.iterrows())
    ]
    counts = comparison.counts
    found_on = {"first": f"discovered on {names[0]}'s errors", "pooled": "discovered on every system's errors pooled"}
    context = {
        "title": title or f"wergap: {len(names)} systems compared ({', '.join(names)})",
        "version": __version__,
        "generated": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "level": level,
        "n_boot": comparison.n_boot,
        "seed": comparison.seed,
        "names": names,
        "shared": f"{counts['shared']:,}",
        "speakers": f"{counts['speakers']:,}",
        "not_shared": "; ".join(f"{n:,} of {s}" for s, n in counts.get("not_shared", {}).items() if n),
        "ref_differ": "; ".join(f"{n:,} of {s}" for s, n in counts.get("reference_words_differ", {}).items() if n),
        "found_on": found_on.get(comparison.discover_on, comparison.discover_on),
        "skipped": sorted(comparison.skipped.items()),
        "overall": overall,
        "headline": rows,
        "rankings": [comparison.ranking_line(m) for m in comparison.methods],
        "methods": [_method_section(comparison, m, boundaries) for m in comparison.methods],
    }
    return _ENV.get_template("compare_systems.html.j2").render(**context)


def write_systems_html(
    comparison: Any,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    boundaries: str | os.PathLike[str] | None = None,
) -> None:
    """Write the comparison report to ``path`` atomically (temp file + rename)."""
    write_text_atomic(path, render_systems_html(comparison, title=title, boundaries=boundaries))
