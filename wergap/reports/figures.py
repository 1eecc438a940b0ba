"""Figures for the disparity report: matplotlib and geopandas, returned as PNG data URIs.

Every figure draws numbers an :class:`wergap.audit.Audit` already holds (cohort tables,
regions, projections, splits); nothing here computes a statistic. WER is shown in percent,
intervals as error bars, colour maps are perceptually uniform (viridis family), and the
bottom (worst) cohort is outlined in red so it is found at a glance. Figures are encoded
as moderately sized PNGs so the report stays one e-mailable file. Figures are made with
:class:`matplotlib.figure.Figure` directly, not pyplot, so rendering a report neither
switches the backend of the user's notebook nor leaves figures open in it.
"""

from __future__ import annotations

import base64
import io
import os
import textwrap
from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch

#: Colour map for WER (perceptually uniform; dark = worse served).
CMAP = "viridis_r"
#: Colour marking the bottom cohort.
BOTTOM_COLOUR = "#d62728"
NEUTRAL_COLOUR = "#7f9db9"
DPI = 100
#: Colours of the two sides of a census split (neither is "the bottom" by itself).
INSIDE_COLOUR, OUTSIDE_COLOUR = "#3b528b", "#b8c4d0"


def _subplots(figsize: tuple[float, float]) -> tuple[Figure, Any]:
    """A figure and axes outside pyplot: no global state, no backend switch in the user's session."""
    fig = Figure(figsize=figsize)
    return fig, fig.add_subplot()


def to_data_uri(fig: Figure) -> str:
    """Encode ``fig`` as a PNG ``data:`` URI (rendered with Agg)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _literal(text: object) -> str:
    """``text`` drawn as written: a user's ``$`` must not start matplotlib mathtext."""
    return str(text).replace("$", r"\$")


def _short(text: object, width: int = 34, lines: int = 3) -> str:
    """``text`` wrapped to ``lines`` lines of ``width`` characters, ellipsis past that."""
    wrapped = textwrap.wrap(str(text), width=width) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: width - 1] + "…"
    return _literal("\n".join(wrapped))


def _wer_norm(values: pd.Series) -> Normalize:
    pct = 100 * values.astype("float64")
    low, high = float(np.nanmin(pct)), float(np.nanmax(pct))
    if not np.isfinite(low) or low == high:
        low, high = (low - 1, high + 1) if np.isfinite(low) else (0.0, 1.0)
    return Normalize(vmin=low, vmax=high)


def _errorbars(table: pd.DataFrame, low: str, high: str, value: str) -> np.ndarray | None:
    """Asymmetric error bars (in %) from interval columns, or None when they are absent."""
    if low not in table.columns or high not in table.columns:
        return None
    v, lo, hi = (100 * table[c].astype("float64").to_numpy() for c in (value, low, high))
    bars = np.vstack([v - lo, hi - v])
    return np.where(np.isfinite(bars), np.maximum(bars, 0), 0)


def wer_bars(
    table: pd.DataFrame,
    *,
    label: str,
    title: str,
    bottom: Collection[str] = (),
    key: str = "cohort",
    overall: float | None = None,
    bottom_label: str = "bottom cohort",
) -> Figure:
    """Horizontal bars of WER (%) with interval error bars, worst at the top.

    Parameters
    ----------
    table : DataFrame
        A cohort table (:func:`wergap.cohorts.cohort_table`) or a disaggregation
        (:func:`wergap.cohorts.disaggregate`): ``wer``, ``wer_ci_low``, ``wer_ci_high``,
        ``speakers`` and the column named by ``label``.
    label : str
        Column whose values label the bars (``definition`` or ``value``).
    title : str
        Figure title.
    bottom : collection of str
        Values of ``key`` drawn in the bottom-cohort colour.
    key : str
        Column matched against ``bottom``.
    overall : float, optional
        Overall WER (fraction), drawn as a dashed reference line.
    bottom_label : str
        Legend entry of the highlighted bars.
    """
    table = table.sort_values("wer", ascending=True, kind="stable")
    n = len(table)
    ticks = [f"{_short(v)} (n={int(s)})" for v, s in zip(table[label], table["speakers"])]
    lines = max((t.count("\n") + 1 for t in ticks), default=1)
    fig, ax = _subplots((8.0, 0.9 + (0.2 + 0.17 * lines) * max(n, 2)))
    colours = [BOTTOM_COLOUR if str(k) in set(map(str, bottom)) else NEUTRAL_COLOUR for k in table[key]]
    y = np.arange(n)
    ax.barh(
        y,
        100 * table["wer"].astype("float64"),
        xerr=_errorbars(table, "wer_ci_low", "wer_ci_high", "wer"),
        color=colours,
        error_kw={"ecolor": "#333333", "capsize": 3, "lw": 1},
    )
    ax.set_yticks(y, ticks)
    if overall is not None and np.isfinite(overall):
        ax.axvline(100 * overall, color="#444444", ls="--", lw=1, label=f"overall {100 * overall:.1f}%")
    handles = [Patch(color=BOTTOM_COLOUR, label=bottom_label)] if any(c == BOTTOM_COLOUR for c in colours) else []
    line_handles, _ = ax.get_legend_handles_labels()
    if handles or line_handles:
        ax.legend(
            handles=handles + line_handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False
        )
    ax.set_xlabel("WER (%), bars = 95 % speaker-bootstrap interval" if n else "WER (%)")
    ax.set_title(_literal(title))
    ax.set_xlim(left=0)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def region_map(
    regions: pd.DataFrame,
    table: pd.DataFrame,
    *,
    bottom: Collection[str] = (),
    boundaries: str | os.PathLike[str] | None = None,
    speakers: pd.DataFrame | None = None,
    title: str = "Geographic clustering tree: WER by region",
) -> Figure:
    """Map of the geo-tree regions coloured and labelled by WER (%), in the report's one map style.

    Only regions that are rows of the cohort table are drawn (cohorts under
    ``min_speakers`` are never singled out); their WER comes from that table. Drawn by
    :func:`wergap.reports.maps.cohort_map`: shipped country and state outlines (or
    ``boundaries``), speakers' density, each region labelled with its number and WER.

    Parameters
    ----------
    regions : GeoDataFrame
        ``GeoTree.regions_``: ``cohort``, ``geometry`` (EPSG:4326).
    table : DataFrame
        The geo-tree cohort table (``cohort``, ``wer``).
    bottom : collection of str
        Bottom cohort label(s), outlined in red.
    boundaries : path, optional
        GeoJSON of outlines drawn instead of the shipped ones.
    speakers : DataFrame, optional
        ``lat``, ``lon``: speakers' density, and the map's extent.
    title : str
        Figure title.
    """
    from wergap.reports.maps import cohort_map

    wer = table.set_index(table["cohort"].astype("str"))["wer"]
    return cohort_map(regions, wer, speakers=speakers, bottom=bottom, boundaries=boundaries, title=title)


def split_pairs(splits: pd.DataFrame, *, n: int = 8, title: str = "Census splits: WER inside vs outside") -> Figure:
    """Paired bars (inside / outside the split) for the top ``n`` census splits.

    Error bars are drawn only when ``splits`` carries interval columns
    (``wer_in_ci_low``/``wer_in_ci_high``, ``wer_out_ci_low``/``wer_out_ci_high``); the
    report says so when it does not.
    """
    top = splits.head(n).iloc[::-1]
    y = np.arange(len(top))
    fig, ax = _subplots((8.5, 1.0 + 0.75 * max(len(top), 2)))
    height = 0.38
    for offset, side, colour, name in (
        (height / 2, "in", INSIDE_COLOUR, "inside"),
        (-height / 2, "out", OUTSIDE_COLOUR, "outside"),
    ):
        ax.barh(
            y + offset,
            100 * top[f"wer_{side}"].astype("float64"),
            height=height,
            xerr=_errorbars(top, f"wer_{side}_ci_low", f"wer_{side}_ci_high", f"wer_{side}"),
            color=colour,
            label=f"{name} the split",
            error_kw={"ecolor": "#333333", "capsize": 2, "lw": 1},
        )
    labels = [
        f"{_short(d, width=44)}\n({int(si)} in / {int(so)} out)"
        for d, si, so in zip(top["definition"], top["speakers_in"], top["speakers_out"])
    ]
    ax.set_yticks(y, labels)
    ax.set_xlabel("WER (%)")
    ax.set_xlim(left=0)
    ax.set_title(_literal(title))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def has_split_intervals(splits: pd.DataFrame) -> bool:
    """Whether ``splits`` carries WER intervals for both sides of each split."""
    return {"wer_in_ci_low", "wer_in_ci_high", "wer_out_ci_low", "wer_out_ci_high"} <= set(splits.columns)


def embedding_scatter(
    projection: pd.DataFrame,
    table: pd.DataFrame,
    *,
    bottom: Collection[str] = (),
    other: str = "other",
    title: str = "Speaker embeddings (PCA 2-D) coloured by cluster WER",
) -> Figure:
    """The 2-D projection of speaker embeddings, each point coloured by its cluster's WER.

    Clusters pooled for being under ``min_speakers`` take the pooled row's WER (label
    ``other``) or, when that pool is not reported either, stay grey; bottom-cohort points
    are ringed in red. No speaker is labelled.
    """
    wer = table.set_index(table["cohort"].astype("str"))["wer"].astype("float64")
    labels = projection["cohort"].astype("str")
    values = labels.map(wer)
    if other in wer.index:
        values = values.fillna(wer[other])
    fig, ax = _subplots((7.5, 5.6))
    norm = _wer_norm(values.dropna()) if values.notna().any() else Normalize(0, 1)
    missing = values.isna().to_numpy()
    if missing.any():
        ax.scatter(projection["x"][missing], projection["y"][missing], s=5, c="#bbbbbb", label="not reported")
    points = ax.scatter(
        projection["x"][~missing], projection["y"][~missing], s=6, c=100 * values[~missing], cmap=CMAP, norm=norm
    )
    worst = labels.isin(set(map(str, bottom))).to_numpy()
    if worst.any():
        ax.scatter(
            projection["x"][worst],
            projection["y"][worst],
            s=14,
            facecolors="none",
            edgecolors=BOTTOM_COLOUR,
            linewidths=0.6,
            label="bottom cohort",
        )
    for cohort, group in projection.groupby(labels):
        if cohort in wer.index:
            ax.annotate(
                f"{_short(cohort)}: {100 * wer[cohort]:.1f}%",
                (group["x"].median(), group["y"].median()),
                fontsize=8,
                ha="center",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75},
            )
    fig.colorbar(points, ax=ax, shrink=0.8).set_label("cluster WER (%)")
    ax.set_xlabel("first principal component (unitless)")
    ax.set_ylabel("second principal component (unitless)")
    ax.set_title(_literal(title))
    if missing.any() or worst.any():
        ax.legend(loc="best", fontsize=8, markerscale=2)
    return fig
