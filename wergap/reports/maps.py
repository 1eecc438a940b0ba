"""Report maps that read without a legend hunt: outlines, speakers, labelled cohorts.

Every map of the report (the geographic tree's regions, the spatial scan's areas) is drawn
by :func:`cohort_map` in one style:

- a base of country and US state outlines, with a few large cities named, shipped as
  package data (``wergap/reports/data/``, public domain, see ``SOURCES.md``) so no map is
  drawn on blank axes and the report needs no network; ``boundaries=`` (the CLI's
  ``--boundaries FILE``) draws that GeoJSON instead;
- zoomed to where the speakers are (the 1–99 % quantiles of their coordinates, so a few
  speakers far away do not zoom the map out to the world);
- speakers' density as grey hexagons (points when there are few);
- each cohort's shape filled by its WER (viridis, dark = worse), labelled with its cohort
  name (the same numbering as the tables: ``region 3``, ``area 1``) and WER, the bottom
  cohort outlined in red; shapes that are not significant (scan areas with p > alpha) dashed.

Nothing here computes a statistic: the WERs come from the cohort table or the areas table.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from functools import cache
from importlib.resources import files
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

#: Package-data outlines: name -> file in ``wergap/reports/data``.
OUTLINES = {"countries": "world_countries.geojson", "states": "us_states.geojson", "cities": "world_cities.geojson"}
CMAP = "viridis_r"
BOTTOM_COLOUR = "#d62728"
LAND, WATER, BORDER, STATE_BORDER = "#f4f3ef", "#dde8f0", "#8c8c8c", "#b3b3b3"
#: Speakers below this many are drawn as points, above it as density hexagons.
POINTS_UNTIL = 400
#: Quantiles of the speakers' coordinates that set the map's extent.
EXTENT_QUANTILES = (0.01, 0.99)


@cache
def _outlines(name: str) -> Any:
    import geopandas as gpd

    with files("wergap.reports").joinpath("data", OUTLINES[name]).open("rb") as handle:
        return gpd.read_file(handle)


def outlines(name: str) -> Any:
    """A shipped outline layer (``"countries"``, ``"states"``, ``"cities"``) as a GeoDataFrame (EPSG:4326).

    Returns a copy: the cached layer is never modified by a caller.
    """
    return _outlines(name).copy()


def map_extent(
    lat: np.ndarray | None, lon: np.ndarray | None, shapes: Any = None, pad: float = 0.03
) -> tuple[float, float, float, float]:
    """``(lon_min, lon_max, lat_min, lat_max)`` around the speakers (robust quantiles) and ``shapes``.

    With neither, the contiguous US.
    """
    boxes = []
    if lat is not None and lon is not None:
        ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        if ok.any():
            (y0, y1), (x0, x1) = (np.quantile(v[ok], EXTENT_QUANTILES) for v in (lat, lon))
            boxes.append((x0, x1, y0, y1))
    if shapes is not None and len(shapes):
        x0, y0, x1, y1 = shapes.total_bounds
        if not boxes:
            boxes.append((x0, x1, y0, y1))
        else:  # a shape reaching far past the speakers (an unsplit tree side) does not zoom out
            bx = boxes[0]
            boxes.append((max(x0, bx[0] - 5), min(x1, bx[1] + 5), max(y0, bx[2] - 5), min(y1, bx[3] + 5)))
    if not boxes:
        return (-125.0, -66.0, 24.0, 50.0)
    x0, x1 = min(b[0] for b in boxes), max(b[1] for b in boxes)
    y0, y1 = min(b[2] for b in boxes), max(b[3] for b in boxes)
    wide, tall = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    return (
        max(x0 - pad * wide, -180.0),
        min(x1 + pad * wide, 180.0),
        max(y0 - pad * tall, -90.0),
        min(y1 + pad * tall, 90.0),
    )


def draw_base(
    ax: Any, extent: tuple[float, float, float, float], boundaries: str | os.PathLike[str] | None = None
) -> None:
    """Water, land and outlines within ``extent``; ``boundaries`` (a GeoJSON path) replaces the shipped ones."""
    import geopandas as gpd

    x0, x1, y0, y1 = extent
    ax.set_facecolor(WATER)
    if boundaries is not None:
        layer = gpd.read_file(boundaries)
        if layer.crs is not None:
            layer = layer.to_crs("EPSG:4326")
        layer = layer.cx[x0 - 1 : x1 + 1, y0 - 1 : y1 + 1]
        if len(layer):
            layer.plot(ax=ax, color=LAND, edgecolor=BORDER, linewidth=0.6, zorder=1)
        return
    countries = outlines("countries").cx[x0 - 1 : x1 + 1, y0 - 1 : y1 + 1]
    if len(countries):
        countries.plot(ax=ax, color=LAND, edgecolor=BORDER, linewidth=0.7, zorder=1)
    states = outlines("states").cx[x0 - 1 : x1 + 1, y0 - 1 : y1 + 1]
    if len(states):
        states.boundary.plot(ax=ax, color=STATE_BORDER, linewidth=0.45, zorder=1.1)


def draw_cities(ax: Any, extent: tuple[float, float, float, float]) -> None:
    """Dots and names of the shipped large cities inside ``extent``."""
    x0, x1, y0, y1 = extent
    cities = outlines("cities").cx[x0:x1, y0:y1]
    for _, city in cities.iterrows():
        ax.plot(city.geometry.x, city.geometry.y, marker="s", ms=2.5, color="#333333", zorder=4)
        ax.annotate(
            city["name"],
            (city.geometry.x, city.geometry.y),
            xytext=(3, 2),
            textcoords="offset points",
            fontsize=7,
            color="#333333",
            zorder=4,
        )


def draw_speakers(ax: Any, lat: np.ndarray, lon: np.ndarray, extent: tuple[float, float, float, float]) -> str:
    """Speakers' density (grey hexagons, log scale) or points; returns the legend text."""
    ok = np.isfinite(lat) & np.isfinite(lon)
    lat, lon = lat[ok], lon[ok]
    if len(lat) <= POINTS_UNTIL:
        ax.scatter(lon, lat, s=4, color="#555555", alpha=0.6, linewidths=0, zorder=2)
        return "speakers"
    x0, x1, y0, y1 = extent
    ax.hexbin(
        lon,
        lat,
        gridsize=70,
        extent=(x0, x1, y0, y1),
        bins="log",
        mincnt=1,
        cmap="Greys",
        alpha=0.55,
        linewidths=0,
        zorder=2,
        vmin=0.5,
    )
    return "speakers (darker = more)"


def wer_scale(values: Any) -> Normalize:
    """The colour scale (WER in %) spanning ``values`` (WER fractions; NaN ignored).

    Maps drawn side by side share one scale by passing every map's values here.
    """
    values = pd.Series(np.asarray(values, dtype="float64").ravel()).dropna()
    low, high = (100 * float(values.min()), 100 * float(values.max())) if len(values) else (0.0, 1.0)
    return Normalize(low - 1, high + 1) if low == high else Normalize(low, high)


def _coordinates(speakers: pd.DataFrame | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    if speakers is None or not {"lat", "lon"} <= set(speakers.columns):
        return None, None
    lat = pd.to_numeric(speakers["lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(speakers["lon"], errors="coerce").to_numpy(dtype=float)
    return lat, lon


def _shown(shapes: Any, wer: pd.Series) -> Any:
    """The shapes whose cohort has a WER, with ``wer_pct``."""
    shown = shapes[shapes["cohort"].astype(str).isin(wer.index)].copy()
    shown["wer_pct"] = 100 * shown["cohort"].astype(str).map(wer)
    return shown


def _as_wer(wer: pd.Series) -> pd.Series:
    wer = pd.Series(wer, dtype="float64")
    wer.index = wer.index.astype(str)
    return wer


def draw_cohort_map(
    ax: Any,
    shown: Any,
    *,
    norm: Normalize,
    extent: tuple[float, float, float, float],
    lat: np.ndarray | None = None,
    lon: np.ndarray | None = None,
    bottom: Collection[str] = (),
    faint: Collection[str] = (),
    notes: dict[str, str] | None = None,
    boundaries: str | os.PathLike[str] | None = None,
    fontsize: float = 8,
) -> list[Any]:
    """Draw one map on ``ax``: outlines, speakers, the ``shown`` shapes filled on ``norm``, cities.

    ``shown`` holds ``cohort``, ``geometry`` and ``wer_pct``. Returns the legend handles
    (speakers, bottom cohort, not significant) of what was drawn.
    """
    draw_base(ax, extent, boundaries)
    handles: list[Any] = []
    if lat is not None and lon is not None:
        label = draw_speakers(ax, lat, lon, extent)
        handles.append(Patch(color="#8a8a8a", alpha=0.6, label=label))
    cmap = ScalarMappable(norm=norm, cmap=CMAP)
    faint, bottom = set(map(str, faint)), set(map(str, bottom))
    for _, row in shown.iterrows():
        cohort = str(row["cohort"])
        colour = cmap.to_rgba(row["wer_pct"]) if np.isfinite(row["wer_pct"]) else "#cccccc"
        edge = BOTTOM_COLOUR if cohort in bottom else "#ffffff" if cohort not in faint else "#444444"
        one = shown.loc[[row.name]]
        if cohort in faint:
            one.boundary.plot(ax=ax, color=edge, linewidth=1.6, linestyle="--", zorder=3)
        else:
            one.plot(ax=ax, color=colour, alpha=0.5, zorder=3)
            one.boundary.plot(ax=ax, color=edge, linewidth=2.4 if cohort in bottom else 1.0, zorder=3.2)
        point = row.geometry.representative_point()
        text = f"{cohort}\n{row['wer_pct']:.1f} %" + (f"\n{notes[cohort]}" if notes and cohort in notes else "")
        left, low, right, high = row.geometry.bounds
        small = (right - left) < 0.2 * (extent[1] - extent[0])
        ax.annotate(
            text,
            (point.x, point.y),
            ha="left" if small else "center",
            va="center",
            fontsize=fontsize,
            zorder=5,
            xytext=(28, 22) if small else (0, 0),
            textcoords="offset points",
            arrowprops={"arrowstyle": "-", "color": "#333333", "lw": 0.8} if small else None,
            fontweight="bold" if cohort in bottom else "normal",
            bbox={
                "boxstyle": "round,pad=0.2",
                "fc": "white",
                "ec": BOTTOM_COLOUR if cohort in bottom else "none",
                "alpha": 0.85,
            },
        )
    draw_cities(ax, extent)
    x0, x1, y0, y1 = extent
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    # one degree of longitude is cos(latitude) degrees of latitude long on the ground
    ax.set_aspect(_aspect(extent))
    if bottom & set(shown["cohort"].astype(str)):
        handles.append(Patch(fc="none", ec=BOTTOM_COLOUR, lw=2, label="bottom cohort"))
    if faint & set(shown["cohort"].astype(str)):
        handles.append(Line2D([], [], color="#444444", ls="--", label="not significant"))
    return handles


def _aspect(extent: tuple[float, float, float, float]) -> float:
    """Degrees of latitude per degree of longitude on the ground at the extent's middle."""
    return 1 / max(np.cos(np.radians((extent[2] + extent[3]) / 2)), 0.2)


def cohort_map(
    shapes: Any,
    wer: pd.Series,
    *,
    speakers: pd.DataFrame | None = None,
    bottom: Collection[str] = (),
    faint: Collection[str] = (),
    notes: dict[str, str] | None = None,
    reference: float | None = None,
    boundaries: str | os.PathLike[str] | None = None,
    title: str = "",
    caption: str | None = None,
) -> Figure:
    """A map of cohort shapes (regions, areas) on outlines and speakers, labelled with their WER.

    Parameters
    ----------
    shapes : GeoDataFrame
        ``cohort`` and ``geometry`` (EPSG:4326): the shapes to draw, in drawing order.
    wer : Series
        Cohort label -> WER (fraction); shapes whose cohort is not in it are not drawn.
    speakers : DataFrame, optional
        ``lat``, ``lon`` of the speakers: their density and the map's extent.
    bottom : collection of str
        Cohorts outlined in red.
    faint : collection of str
        Cohorts drawn with a dashed outline and no fill (e.g. not significant).
    notes : dict of str to str, optional
        Cohort -> extra label text (``"p = 0.001"``).
    reference : float, optional
        A WER (fraction) the colour scale must also span (the rest of the map, for areas).
    boundaries : path, optional
        GeoJSON drawn instead of the shipped outlines.
    title, caption : str
        Figure title, and a line under the map.
    """
    wer = _as_wer(wer)
    shown = _shown(shapes, wer)
    lat, lon = _coordinates(speakers)
    extent = map_extent(lat, lon, shown)
    fig = Figure(figsize=(10.0, 6.4))
    ax = fig.add_subplot()
    values = wer.dropna()
    if reference is not None and np.isfinite(reference):
        values = pd.concat([values, pd.Series([reference])])
    norm = wer_scale(values)
    handles = draw_cohort_map(
        ax,
        shown,
        norm=norm,
        extent=extent,
        lat=lat,
        lon=lon,
        bottom=bottom,
        faint=faint,
        notes=notes,
        boundaries=boundaries,
    )
    fig.colorbar(ScalarMappable(norm=norm, cmap=CMAP), ax=ax, shrink=0.75).set_label("WER (%)")
    if handles:
        ax.legend(handles=handles, loc="lower left", fontsize=8, framealpha=0.9)
    ax.set_xlabel("longitude (° E)")
    ax.set_ylabel("latitude (° N)")
    ax.set_title(str(title).replace("$", r"\$"))
    if caption:
        ax.text(
            0.0,
            -0.14,
            caption.replace("$", r"\$"),
            transform=ax.transAxes,
            fontsize=8,
            va="top",
            color="#333333",
            wrap=True,
        )
    return fig


def cohort_maps(
    shapes: Any,
    wers: Mapping[str, pd.Series],
    *,
    speakers: pd.DataFrame | None = None,
    bottom: Collection[str] = (),
    faint: Collection[str] = (),
    notes: dict[str, str] | None = None,
    reference: Any = (),
    subtitles: Mapping[str, str] | None = None,
    boundaries: str | os.PathLike[str] | None = None,
    title: str = "",
) -> Figure:
    """The same cohort shapes mapped once per panel (e.g. per system), on ONE shared WER colour scale.

    Each panel is drawn like :func:`cohort_map` (outlines, speakers, labelled shapes,
    bottom cohort in red, faint shapes dashed), zoomed to the same extent; one colour bar
    serves them all, so equal colours are equal WERs across panels.

    Parameters
    ----------
    shapes : GeoDataFrame
        ``cohort`` and ``geometry`` (EPSG:4326).
    wers : mapping of str to Series
        Panel title (a system) -> cohort label -> WER (fraction), left to right, two a row.
    speakers : DataFrame, optional
        ``lat``, ``lon`` of the speakers: their density and the maps' extent.
    bottom, faint : collection of str
        Cohorts outlined in red; cohorts dashed and unfilled.
    notes : dict of str to str, optional
        Cohort -> extra label text, the same on every panel.
    reference : iterable of float
        Further WERs (fractions) the shared scale must span (cohorts without a shape).
    subtitles : mapping of str to str, optional
        Panel -> a line under its title (e.g. the WER outside the area).
    boundaries : path, optional
        GeoJSON drawn instead of the shipped outlines.
    title : str
        Figure title.
    """
    wers = {str(name): _as_wer(wer) for name, wer in wers.items()}
    values = [w.to_numpy() for w in wers.values()] + [np.asarray(list(reference), dtype="float64")]
    norm = wer_scale(np.concatenate(values) if values else [])
    lat, lon = _coordinates(speakers)
    labelled = set().union(*(w.index for w in wers.values())) if wers else set()
    extent = map_extent(lat, lon, shapes[shapes["cohort"].astype(str).isin(labelled)])
    n = max(len(wers), 1)
    cols = min(n, 2)  # two a row: the report's page is about 1,100 px wide, so labels stay legible
    rows = -(-n // cols)
    x0, x1, y0, y1 = extent
    ratio = min(max(_aspect(extent) * (y1 - y0) / max(x1 - x0, 1e-9), 0.35), 1.4)
    width = 4.8  # inches of map per panel; ticks, labels and titles come on top
    fig = Figure(figsize=(cols * (width + 0.8) + 1.0, rows * (0.88 * width * ratio + 0.9) + 0.8), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    handles: list[Any] = []
    for i, ax in enumerate(axes.flat):
        if i >= len(wers):
            ax.set_visible(False)
            continue
        name, wer = list(wers.items())[i]
        drawn = draw_cohort_map(
            ax,
            _shown(shapes, wer),
            norm=norm,
            extent=extent,
            lat=lat,
            lon=lon,
            bottom=bottom,
            faint=faint,
            notes=notes,
            boundaries=boundaries,
            fontsize=7.5,
        )
        handles += [h for h in drawn if h.get_label() not in {k.get_label() for k in handles}]
        sub = (subtitles or {}).get(name)
        ax.set_title(_literal(name) + (f"\n{_literal(sub)}" if sub else ""), fontsize=10)
        ax.set_xlabel("longitude (° E)", fontsize=8)
        ax.set_ylabel("latitude (° N)", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.colorbar(ScalarMappable(norm=norm, cmap=CMAP), ax=axes.ravel().tolist(), shrink=0.6).set_label(
        "WER (%), one scale for every map"
    )
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8, frameon=False)
    if title:
        fig.suptitle(_literal(title))
    return fig


def _literal(text: object) -> str:
    """``text`` drawn as written: a ``$`` must not start matplotlib mathtext."""
    return str(text).replace("$", r"\$")


def scan_map(
    areas: Any,
    *,
    speakers: pd.DataFrame | None = None,
    bottom: Collection[str] = ("area 1",),
    boundaries: str | os.PathLike[str] | None = None,
    title: str = "Geographic hot spots (spatial scan): WER inside each area",
) -> Figure:
    """The scan's areas (``GeoScan.areas_``) as circles, labelled with WER and p-value.

    Areas that are not significant are dashed; the caption gives the WER outside the most
    likely area.
    """
    wer = areas.set_index(areas["cohort"].astype(str))["wer"]
    notes = {str(a["cohort"]): f"p = {a['p_value']:.3g}" for _, a in areas.iterrows()}
    faint = [str(a["cohort"]) for _, a in areas.iterrows() if not a["significant"]]
    caption = None
    if len(areas):
        first = areas.iloc[0]
        verdict = "significant" if first["significant"] else "not significant: no area stands out beyond chance"
        caption = (
            f"area 1: {first['speakers']} speakers within {first['radius_km']:.0f} km, WER {100 * first['wer']:.1f} % "
            f"against {100 * first['wer_outside']:.1f} % outside; p = {first['p_value']:.3g} after the search "
            f"over all circles ({verdict})."
        )
    return cohort_map(
        areas,
        wer,
        speakers=speakers,
        bottom=bottom,
        faint=faint,
        notes=notes,
        boundaries=boundaries,
        title=title,
        caption=caption,
        reference=float(areas["wer_outside"].iloc[0]) if len(areas) else None,
    )
