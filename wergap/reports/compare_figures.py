"""Figures of a comparison of systems, in the audit report's style (:mod:`wergap.reports.figures`).

Each draws numbers a :class:`wergap.comparison.SystemsComparison` already holds and
computes no statistic: WER and gaps in percent, intervals as error bars, the bottom cohort
marked in red, one colour per system (the first system, the reference, in grey-black).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from wergap.reports.figures import BOTTOM_COLOUR, CMAP, _literal, _short, _subplots

#: The reference system, then a colour-blind-safe qualitative palette (Okabe–Ito).
SYSTEM_COLOURS = ("#222222", "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
HELD_OUT_MARKER, IN_SAMPLE_MARKER = "o", "D"


def system_colours(names: Sequence[str]) -> dict[str, str]:
    """One colour per system, cycling the palette past eight systems."""
    return {name: SYSTEM_COLOURS[i % len(SYSTEM_COLOURS)] for i, name in enumerate(names)}


def _bars(values: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    bars = np.vstack([values - low, high - values])
    return np.where(np.isfinite(bars), np.maximum(bars, 0), 0)


def cohort_wer_dots(cohorts: pd.DataFrame, names: Sequence[str], *, label: str = "definition", title: str = "") -> Figure:
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
            wer, y, xerr=_bars(wer, 100 * rows["wer_ci_low"].to_numpy(dtype=np.float64), 100 * rows["wer_ci_high"].to_numpy(dtype=np.float64)),
            fmt="o", ms=5, color=colours[name], ecolor=colours[name], elinewidth=1.2, capsize=2, label=_literal(name),
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
        kinds.append(("held_out_gap_pct", "held_out_ci", HELD_OUT_MARKER, "held out (found on one half, measured on the other)", 0.13))
        kinds.append(("gap_pct", "gap_ci", IN_SAMPLE_MARKER, "in-sample (found and measured on the same speakers)", -0.13))
    else:
        kinds.append(("gap_pct", "gap_ci", HELD_OUT_MARKER, "gap (no search: nothing to hold out)", 0.0))
    for column, ci, marker, _text, offset in kinds:
        v = rows[column].to_numpy(dtype=np.float64)
        bars = _bars(v, rows[f"{ci}_low"].to_numpy(dtype=np.float64), rows[f"{ci}_high"].to_numpy(dtype=np.float64))
        filled = marker == HELD_OUT_MARKER
        for i, name in enumerate(names):
            ax.errorbar(
                v[i], y[i] + offset, xerr=bars[:, i : i + 1], fmt=marker, ms=6 if filled else 5, color=colours[name],
                mfc=colours[name] if filled else "white", ecolor=colours[name], elinewidth=1.4 if filled else 0.9,
                capsize=2, alpha=1.0 if filled else 0.75,
            )
    ax.axvline(0, color="#888888", lw=0.8)
    ax.set_yticks(y, [_literal(n) for n in names])
    for tick, name in zip(ax.get_yticklabels(), names):
        tick.set_color(colours[name])
    legend = [Line2D([], [], marker=mk, ls="", color="#444444", mfc="#444444" if mk == HELD_OUT_MARKER else "white", label=t)
              for _, _, mk, t, _ in kinds]
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
        ax.legend(handles=[Line2D([], [], color=BOTTOM_COLOUR, lw=6, alpha=0.8, label="bottom cohort"),
                           Line2D([], [], color="#3b528b", lw=6, alpha=0.8, label="other cohorts")],
                  loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    labels = label_of or {}
    ax.set_yticks(y, [_short(labels.get(c, c)) for c in rows["cohort"]])
    ax.axvline(0, color="#444444", lw=0.9)
    ax.set_xlabel("WER change (percentage points), bars = 95 % paired interval; < 0 = better")
    ax.set_title(_literal(title))
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def maps_side_by_side(regions: pd.DataFrame, cohorts: pd.DataFrame, names: Sequence[str], *, title: str = "") -> Figure:
    """One map per system of a geographic method's regions, on one shared WER colour scale.

    Parameters
    ----------
    regions : GeoDataFrame
        The fitted estimator's areas (``cohort``, ``geometry``; EPSG:4326), e.g. ``GeoTree.regions_``.
    cohorts : DataFrame
        The method's rows of :meth:`SystemsComparison.cohorts`: only reported cohorts are
        drawn, each filled with that system's WER; the bottom cohort outlined in red.
    names : sequence of str
        The systems, left to right (three maps a row).
    title : str
        Figure title.
    """
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    shown = regions[regions["cohort"].astype("str").isin(set(cohorts["cohort"].astype("str")))]
    wer = 100 * cohorts["wer"].astype("float64")
    low, high = float(np.nanmin(wer)) if len(wer) else 0.0, float(np.nanmax(wer)) if len(wer) else 1.0
    norm = Normalize(vmin=low, vmax=high if high > low else low + 1)
    n = len(names)
    cols = 2 if n == 4 else min(n, 3)
    rows = -(-n // cols)
    ratio_hw = 0.6
    if len(shown):
        xmin, ymin, xmax, ymax = shown.total_bounds
        aspect = 1 / max(np.cos(np.radians((ymin + ymax) / 2)), 0.2)
        ratio_hw = min(max(aspect * (ymax - ymin) / max(xmax - xmin, 1e-9), 0.3), 1.5)
    fig = Figure(figsize=(4.4 * cols + 1.0, (4.4 * ratio_hw + 0.6) * rows + 0.5), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    bottom = set(cohorts.loc[cohorts["role"] == "bottom", "cohort"].astype("str"))
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.set_visible(False)
            continue
        name = names[i]
        mine = cohorts[cohorts["system"] == name].set_index(cohorts.loc[cohorts["system"] == name, "cohort"].astype("str"))
        drawn = shown.assign(wer_pct=100 * shown["cohort"].astype("str").map(mine["wer"]).astype("float64"))
        if len(drawn):
            drawn.plot(ax=ax, column="wer_pct", cmap=CMAP, norm=norm, edgecolor="white", linewidth=0.8)
            worst = drawn[drawn["cohort"].astype("str").isin(bottom)]
            if len(worst):
                worst.boundary.plot(ax=ax, color=BOTTOM_COLOUR, linewidth=2.0)
            for _, row in drawn.iterrows():
                left, _, right, _ = row.geometry.bounds
                if right - left < 0.06 * (xmax - xmin) or not np.isfinite(row["wer_pct"]):
                    continue
                point = row.geometry.representative_point()
                ax.annotate(f"{row['wer_pct']:.1f}%", (point.x, point.y), ha="center", va="center", fontsize=7,
                            bbox={"boxstyle": "round,pad=0.12", "fc": "white", "ec": "none", "alpha": 0.7})
            ax.set_aspect(aspect)
        ax.set_title(_literal(name), fontsize=10)
        ax.set_xlabel("longitude (° E)", fontsize=7)
        ax.set_ylabel("latitude (° N)", fontsize=7)
        ax.tick_params(labelsize=7)
    fig.colorbar(ScalarMappable(norm=norm, cmap=CMAP), ax=axes.ravel().tolist(), shrink=0.8).set_label(
        "WER (%), one scale for every system"
    )
    if title:
        fig.suptitle(_literal(title))
    return fig

