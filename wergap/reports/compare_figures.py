"""Figures of a comparison of systems, in the audit report's style (:mod:`wergap.reports.figures`).

Each draws numbers a :class:`wergap.comparison.SystemsComparison` already holds and
computes no statistic: WER and gaps in percent, intervals as error bars, the bottom cohort
marked in red, one colour per system (the first system, the reference, in grey-black).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from wergap._format import num
from wergap.reports.figures import BOTTOM_COLOUR, _literal, _short, _subplots

#: The reference system, then a colour-blind-safe qualitative palette (Okabe–Ito).
SYSTEM_COLOURS = ("#222222", "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
HELD_OUT_MARKER, IN_SAMPLE_MARKER = "o", "D"


def system_colours(names: Sequence[str]) -> dict[str, str]:
    """One colour per system, cycling the palette past eight systems."""
    return {name: SYSTEM_COLOURS[i % len(SYSTEM_COLOURS)] for i, name in enumerate(names)}


def _bars(values: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    bars = np.vstack([values - low, high - values])
    return np.where(np.isfinite(bars), np.maximum(bars, 0), 0)


def cohort_wer_dots(
    cohorts: pd.DataFrame, names: Sequence[str], *, label: str = "definition", title: str = ""
) -> Figure:
    """Each cohort's WER (%) for every system, a dot with its interval, worst cohort at the top.

    Parameters
    ----------
    cohorts : DataFrame
        One method's rows of :meth:`SystemsComparison.cohorts` (``system``, ``cohort``,
        ``role``, ``speakers``, ``wer`` and its interval), ranked worst first.
    names : sequence of str
        The systems, in order (their dots stack in that order within a cohort's row).
    label : str
        Column labelling the rows (``definition`` or ``cohort``).
    title : str
        Figure title.
    """
    order = list(dict.fromkeys(cohorts["cohort"]))[::-1]
    first = cohorts.drop_duplicates("cohort").set_index("cohort")
    colours = system_colours(names)
    n, m = len(order), len(names)
    fig, ax = _subplots((8.5, 1.0 + (0.3 + 0.12 * m) * max(n, 2)))
    step = 0.7 / max(m, 1)
    for s, name in enumerate(names):
        rows = cohorts[cohorts["system"] == name].set_index("cohort").reindex(order)
        y = np.arange(n) + 0.35 - step * (s + 0.5)
        wer = 100 * rows["wer"].to_numpy(dtype=np.float64)
        ax.errorbar(
            wer,
            y,
            xerr=_bars(
                wer,
                100 * rows["wer_ci_low"].to_numpy(dtype=np.float64),
                100 * rows["wer_ci_high"].to_numpy(dtype=np.float64),
            ),
            fmt="o",
            ms=5,
            color=colours[name],
            ecolor=colours[name],
            elinewidth=1.2,
            capsize=2,
            label=_literal(name),
        )
    ticks = [f"{_short(first.loc[c, label])} (n={int(first.loc[c, 'speakers'])})" for c in order]
    ax.set_yticks(np.arange(n), ticks)
    for i, c in enumerate(order):
        if first.loc[c, "role"] == "bottom":
            ax.axhspan(i - 0.45, i + 0.45, color=BOTTOM_COLOUR, alpha=0.08, lw=0)
            ax.get_yticklabels()[i].set_color(BOTTOM_COLOUR)
    handles, labels = ax.get_legend_handles_labels()
    if any(first["role"] == "bottom"):
        handles.append(Line2D([], [], color=BOTTOM_COLOUR, lw=6, alpha=0.3))
        labels.append("bottom cohort")
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.set_xlabel("WER (%), bars = 95 % paired speaker-bootstrap interval")
    ax.set_xlim(left=0)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_title(_literal(title))
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def gap_intervals(gaps: pd.DataFrame, names: Sequence[str], *, title: str = "") -> Figure:
    """Every system's gap (%) with its interval: held-out (dots) first, in-sample (diamonds) beside it.

    Parameters
    ----------
    gaps : DataFrame
        One method's rows of :meth:`SystemsComparison.gaps`.
    names : sequence of str
        The systems, top to bottom in this order.
    title : str
        Figure title.
    """
    rows = gaps.set_index("system").reindex(list(names))
    colours = system_colours(names)
    n = len(names)
    fig, ax = _subplots((7.5, 1.0 + 0.45 * max(n, 2)))
    y = np.arange(n)[::-1].astype(float)
    held = rows["held_out_gap_pct"].to_numpy(dtype=np.float64)
    kinds = []
    if np.isfinite(held).any():
        kinds.append(
            (
                "held_out_gap_pct",
                "held_out_ci",
                HELD_OUT_MARKER,
                "held out (found on one half, measured on the other)",
                0.13,
            )
        )
        kinds.append(
            ("gap_pct", "gap_ci", IN_SAMPLE_MARKER, "in-sample (found and measured on the same speakers)", -0.13)
        )
    else:
        kinds.append(("gap_pct", "gap_ci", HELD_OUT_MARKER, "gap (no search: nothing to hold out)", 0.0))
    for column, ci, marker, _text, offset in kinds:
        v = rows[column].to_numpy(dtype=np.float64)
        bars = _bars(v, rows[f"{ci}_low"].to_numpy(dtype=np.float64), rows[f"{ci}_high"].to_numpy(dtype=np.float64))
        filled = marker == HELD_OUT_MARKER
        for i, name in enumerate(names):
            ax.errorbar(
                v[i],
                y[i] + offset,
                xerr=bars[:, i : i + 1],
                fmt=marker,
                ms=6 if filled else 5,
                color=colours[name],
                mfc=colours[name] if filled else "white",
                ecolor=colours[name],
                elinewidth=1.4 if filled else 0.9,
                capsize=2,
                alpha=1.0 if filled else 0.75,
            )
    ax.axvline(0, color="#888888", lw=0.8)
    ax.set_yticks(y, [_literal(n) for n in names])
    for tick, name in zip(ax.get_yticklabels(), names):
        tick.set_color(colours[name])
    legend = [
        Line2D([], [], marker=mk, ls="", color="#444444", mfc="#444444" if mk == HELD_OUT_MARKER else "white", label=t)
        for _, _, mk, t, _ in kinds
    ]
    ax.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.set_xlabel("gap: 100 × (WER bottom − WER top) / WER top (%)")
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_title(_literal(title))
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def cohort_change(changes: pd.DataFrame, *, label_of: dict[str, str] | None = None, title: str = "") -> Figure:
    """One system's WER change (points) per cohort against the reference, with paired intervals.

    Parameters
    ----------
    changes : DataFrame
        One method's and one system's rows of :meth:`SystemsComparison.cohort_changes`.
    label_of : dict, optional
        Cohort -> row label (e.g. its definition); default the cohort.
    title : str
        Figure title.
    """
    rows = changes.iloc[::-1].reset_index(drop=True)
    n = len(rows)
    fig, ax = _subplots((8.0, 1.0 + 0.45 * max(n, 2)))
    y = np.arange(n)
    v = rows["change_pts"].to_numpy(dtype=np.float64)
    bars = _bars(v, rows["change_ci_low"].to_numpy(dtype=np.float64), rows["change_ci_high"].to_numpy(dtype=np.float64))
    colours = [BOTTOM_COLOUR if r == "bottom" else "#3b528b" for r in rows["role"]]
    ax.barh(y, v, color=colours, alpha=0.8, xerr=bars, error_kw={"ecolor": "#333333", "capsize": 3, "lw": 1})
    if "bottom" in set(rows["role"]):
        ax.legend(
            handles=[
                Line2D([], [], color=BOTTOM_COLOUR, lw=6, alpha=0.8, label="bottom cohort"),
                Line2D([], [], color="#3b528b", lw=6, alpha=0.8, label="other cohorts"),
            ],
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize=8,
            frameon=False,
        )
    labels = label_of or {}
    ax.set_yticks(y, [_short(labels.get(c, c)) for c in rows["cohort"]])
    ax.axvline(0, color="#444444", lw=0.9)
    ax.set_xlabel("WER change (percentage points), bars = 95 % paired interval; < 0 = better")
    ax.set_title(_literal(title))
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def maps_side_by_side(
    shapes: pd.DataFrame,
    cohorts: pd.DataFrame,
    names: Sequence[str],
    *,
    speakers: pd.DataFrame | None = None,
    boundaries: str | os.PathLike[str] | None = None,
    title: str = "",
) -> Figure:
    """One map per system of a geographic method's cohorts, on one shared WER colour scale.

    Drawn by :func:`wergap.reports.maps.cohort_maps` in the audit report's map style
    (shipped outlines or ``boundaries``, speakers' density, each shape labelled with its
    cohort and WER, the bottom cohort in red). A cohort without a shape (the speakers
    outside the scan's area) is given under each map's title; its WER is on the scale too.

    Parameters
    ----------
    shapes : GeoDataFrame
        The fitted estimator's shapes (``cohort``, ``geometry``; EPSG:4326): ``GeoTree.regions_``,
        or ``GeoScan.areas_`` (circles; with ``significant`` and ``p_value``, an area that
        is not significant is dashed and each is labelled with its p-value).
    cohorts : DataFrame
        The method's rows of :meth:`SystemsComparison.cohorts`; only these cohorts are drawn.
    names : sequence of str
        The systems, left to right (two maps a row).
    speakers : DataFrame, optional
        ``lat``, ``lon`` of the speakers.
    boundaries : path, optional
        GeoJSON drawn instead of the shipped outlines.
    title : str
        Figure title.
    """
    from wergap.reports.maps import cohort_maps

    cohorts = cohorts.assign(cohort=cohorts["cohort"].astype("str"))
    with_shape = set(shapes["cohort"].astype("str"))
    wers = {name: cohorts[cohorts["system"] == name].set_index("cohort")["wer"] for name in names}
    shapeless = cohorts[~cohorts["cohort"].isin(with_shape)]
    subtitles = {
        name: "; ".join(f"{r['cohort']}: {num(100 * r['wer'], 1, ' %', na='n/a')}" for _, r in rows.iterrows())
        for name, rows in shapeless.groupby("system", sort=False)
    }
    keyed = shapes.set_index(shapes["cohort"].astype("str"))
    faint = keyed.index[~keyed["significant"].astype(bool)] if "significant" in keyed else []
    notes = {c: f"p = {p:.3g}" for c, p in keyed["p_value"].items() if np.isfinite(p)} if "p_value" in keyed else None
    return cohort_maps(
        shapes,
        wers,
        speakers=speakers,
        bottom=set(cohorts.loc[cohorts["role"] == "bottom", "cohort"]),
        faint=faint,
        notes=notes,
        reference=shapeless["wer"].to_numpy(dtype=np.float64),
        subtitles=subtitles,
        boundaries=boundaries,
        title=title,
    )
