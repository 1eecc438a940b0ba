"""The N-system comparison report: one self-contained file with the figures the issue asks for,
its maps in the audit report's map style (shipped outlines, one WER scale, the scan's circles)."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba
from shapely.geometry import box

import wergap as wg
from wergap.cohorts import partition_from_column
from wergap.discovery import registry
from wergap.discovery.geo_scan import CIRCLE_POINTS, OUTSIDE_LABEL
from wergap.reports import compare_figures, maps


def three_systems(n_speakers: int = 240, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Three systems on the same utterances; speakers south of 34° N served worse by the first."""
    rng = np.random.default_rng(seed)
    lat = rng.uniform(30, 45, n_speakers)
    lon = rng.uniform(-120, -75, n_speakers)
    rows = []
    for s in range(n_speakers):
        for u in range(5):
            rows.append((f"s{s}-{u}", f"s{s}", lat[s], lon[s], "<b>x</b>" if s % 2 else "y", int(rng.integers(5, 15))))
    frame = pd.DataFrame(rows, columns=["utt_id", "speaker_id", "lat", "lon", "group", "ref_words"])
    south = frame["lat"] < 34
    out = {}
    for name, p_south in (("v1", 0.2), ("v2", 0.1), ("v3", 0.3)):
        out[name] = frame.assign(errors=rng.binomial(frame["ref_words"], np.where(south, p_south, 0.1)))
    return out


def images(text: str) -> int:
    return len(re.findall(r"<img src=\"data:image/png;base64,", text))


def test_report_has_dots_gaps_maps_and_escapes(tmp_path):
    logs = three_systems()
    result = wg.compare(logs, methods=["geo_tree"], n_boot=100)
    path = tmp_path / "r.html"
    result.to_html(path)
    text = path.read_text()
    assert "geo_tree" in result.methods and "attribute:group" in result.methods
    # geo_tree: dots, gaps, maps side by side; the attribute: dots, gaps
    assert images(text) == 5
    assert "Maps of the Geographic clustering tree cohorts" in text
    assert "<b>x</b>" not in text and "&lt;b&gt;x&lt;/b&gt;" in text
    assert "v2: narrowed" in text and "v3: widened" in text
    assert "http://" not in text.replace("http://www.w3.org", "") and "<script" not in text  # self-contained


def test_two_systems_add_the_change_per_cohort(tmp_path):
    logs = three_systems(n_speakers=120)
    part = partition_from_column(logs["v1"].drop_duplicates("speaker_id"), "group")
    result = wg.compare([logs["v1"], logs["v2"]], names=["old", "new"], partitions=[part], n_boot=50, min_speakers=10)
    path = tmp_path / "r.html"
    result.to_html(path)
    text = path.read_text()
    assert images(text) == 3 and "WER change of each cohort, new against old" in text


@pytest.fixture(scope="module")
def geographic():
    """geo_tree and geo_scan compared on three systems (400 speakers: a scan circle may hold 40)."""
    return wg.compare(three_systems(n_speakers=400), methods=["geo_tree", "geo_scan"], n_boot=50)


def outline_layers(ax) -> list:
    """The land fills under a map: collections drawn in the shipped outlines' land colour."""
    land = to_rgba(maps.LAND)
    return [c for c in ax.collections if len(c.get_facecolor()) and tuple(c.get_facecolor()[0]) == land]


def map_panels(fig) -> list:
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_title() and ax.get_label() != "<colorbar>"]


@pytest.mark.parametrize("method", ["geo_tree", "geo_scan"])
def test_geographic_methods_are_mapped_per_system_on_shipped_outlines_one_scale(geographic, method):
    spec = registry.get(method)
    shapes = getattr(geographic.estimators[method], spec.geometry)
    cohorts = geographic.cohorts(method)
    fig = compare_figures.maps_side_by_side(shapes, cohorts, list(geographic.names), speakers=geographic.speakers)
    panels = map_panels(fig)
    assert [ax.get_title().split("\n")[0] for ax in panels] == ["v1", "v2", "v3"]
    for ax in panels:
        assert outline_layers(ax), "no --boundaries: the shipped country outlines are drawn under every map"
        assert any(t.get_text() == "Atlanta" for t in ax.texts)  # shipped cities, zoomed to the speakers
    # one colour bar, spanning every system's cohorts (the WER outside the scan's area too)
    (bar,) = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    low, high = sorted(bar.get_ylim())
    assert low == pytest.approx(100 * cohorts["wer"].min()) and high == pytest.approx(100 * cohorts["wer"].max())
    bottom = cohorts.loc[cohorts["role"] == "bottom", "cohort"].iloc[0]
    for ax, name in zip(panels, geographic.names):
        wer = cohorts.set_index(["system", "cohort"]).loc[(name, bottom), "wer"]
        assert any(t.get_text().startswith(f"{bottom}\n{100 * wer:.1f} %") for t in ax.texts)


def test_scan_area_is_a_circle_and_the_rest_of_the_map_is_given(geographic):
    areas = geographic.estimators["geo_scan"].areas_
    cohorts = geographic.cohorts("geo_scan")
    fig = compare_figures.maps_side_by_side(areas, cohorts, list(geographic.names), speakers=geographic.speakers)
    for ax, name in zip(map_panels(fig), geographic.names):
        outside = cohorts.set_index(["system", "cohort"]).loc[(name, OUTSIDE_LABEL), "wer"]
        assert ax.get_title() == f"{name}\n{OUTSIDE_LABEL}: {100 * outside:.1f} %"
        vertices = [len(p.vertices) for c in ax.collections for p in c.get_paths()]
        assert CIRCLE_POINTS + 1 in vertices  # the area's circle (closed ring)


def test_report_maps_every_geographic_method_and_takes_boundaries(geographic, tmp_path):
    path = tmp_path / "r.html"
    geographic.to_html(path)
    text = path.read_text()
    assert "Maps of the Geographic clustering tree cohorts" in text
    assert "Maps of the Geographic hot spots (spatial scan) cohorts" in text
    own = tmp_path / "own.geojson"
    gpd.GeoDataFrame({"name": ["box"]}, geometry=[box(-125, 25, -70, 50)], crs="EPSG:4326").to_file(
        own, driver="GeoJSON"
    )
    geographic.to_html(tmp_path / "own.html", boundaries=own)
    assert images((tmp_path / "own.html").read_text()) == images(text)
