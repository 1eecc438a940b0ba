"""Report maps: shipped outlines under every map, zoomed to the speakers, labelled cohorts,
the same labels for the same split, and the scan's circles in the same style."""

from __future__ import annotations

import json
from importlib.resources import files

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from wergap.cohorts import cohort_table, gap_summary
from wergap.discovery import GeoTree
from wergap.discovery.geo_scan import AREA_COLUMNS, circle_polygon
from wergap.reports import figures, maps


@pytest.fixture(autouse=True)
def no_open_figures():
    yield
    plt.close("all")


def georgia_speakers(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    words = rng.integers(30, 200, n)
    lat, lon = rng.uniform(31, 35, n), rng.uniform(-85, -81, n)
    rate = np.where(lat > 33.5, 0.2, 0.1)
    return pd.DataFrame(
        {
            "speaker_id": [f"s{i:04d}" for i in range(n)],
            "ref_words": words,
            "errors": rng.binomial(words, rate),
            "lat": lat,
            "lon": lon,
        }
    )


def drawn_labels(ax, prefix: str) -> list[str]:
    return [t.get_text() for t in ax.texts if t.get_text().startswith(prefix)]


def test_shipped_outlines_are_small_public_domain_geojson():
    folder = files("wergap.reports").joinpath("data")
    sizes = {name: len(folder.joinpath(file).read_bytes()) for name, file in maps.OUTLINES.items()}
    assert sum(sizes.values()) < 600_000
    assert "public domain" in folder.joinpath("SOURCES.md").read_text()
    states = maps.outlines("states")
    assert {"Georgia", "Texas", "California"} <= set(states["name"]) and states.crs.to_epsg() == 4326
    assert {"France", "Brazil"} <= set(maps.outlines("countries")["name"])
    assert json.loads(folder.joinpath("us_states.geojson").read_text())["type"] == "FeatureCollection"


def test_map_draws_outlines_without_boundaries_and_zooms_to_the_speakers():
    speakers = georgia_speakers()
    tree = GeoTree(max_regions=2, prune=None).fit(speakers)
    table = cohort_table(speakers, tree.partition_, n_boot=0)
    fig = figures.region_map(tree.regions_, table, speakers=speakers)
    ax = fig.axes[0]
    # countries (filled), state borders, speakers, two regions (fill and outline each)
    assert len(ax.collections) >= 2 + 1 + 2
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    assert -86.5 < x0 < -84.5 and -81.5 < x1 < -79.5 and 30 < y0 < 31.5 and 34.5 < y1 < 36
    assert drawn_labels(ax, "Atlanta")  # a shipped city inside the view is named
    assert figures.to_data_uri(fig).startswith("data:image/png")


def test_boundaries_file_replaces_the_shipped_outlines(tmp_path):
    speakers = georgia_speakers()
    tree = GeoTree(max_regions=2, prune=None).fit(speakers)
    table = cohort_table(speakers, tree.partition_, n_boot=0)
    own = tmp_path / "own.geojson"
    gpd.GeoDataFrame({"name": ["box"]}, geometry=[box(-86, 30, -80, 36)], crs="EPSG:4326").to_file(
        own, driver="GeoJSON"
    )
    shipped = figures.region_map(tree.regions_, table, speakers=speakers).axes[0]
    replaced = figures.region_map(tree.regions_, table, speakers=speakers, boundaries=own).axes[0]
    assert len(replaced.collections) == len(shipped.collections) - 1  # one layer (the file) instead of two
    assert len(replaced.collections[0].get_paths()) == 1


def test_same_split_same_region_labels():
    speakers = georgia_speakers(seed=1)
    texts = []
    for order in (None, 3):
        data = speakers if order is None else speakers.sample(frac=1, random_state=order).reset_index(drop=True)
        tree = GeoTree(max_regions=3).fit(data)
        table = cohort_table(data, tree.partition_, n_boot=0)
        bottom = gap_summary(data, tree.partition_, n_boot=0).bottom
        texts.append(
            drawn_labels(figures.region_map(tree.regions_, table, bottom={bottom}, speakers=data).axes[0], "region")
        )
    assert texts[0] == texts[1] and len(texts[0]) >= 2


def test_scan_map_labels_areas_with_wer_and_p_value_and_dashes_the_insignificant():
    rows = []
    for number, (lat, lon, p) in enumerate([(33.7, -84.4, 0.001), (40.7, -74.0, 0.3)], 1):
        rows.append(
            {
                "cohort": f"area {number}",
                "definition": "d",
                "centre_lat": lat,
                "centre_lon": lon,
                "radius_km": 120.0,
                "speakers": 80,
                "ref_words": 8000,
                "errors": 1600,
                "wer": 0.2,
                "wer_outside": 0.1,
                "llr": 50.0,
                "p_value": p,
                "significant": p <= 0.05,
                "geometry": circle_polygon(lat, lon, 120.0),
            }
        )
    areas = gpd.GeoDataFrame(rows, columns=list(AREA_COLUMNS), geometry="geometry", crs="EPSG:4326")
    speakers = pd.DataFrame(
        {"lat": np.r_[np.full(50, 33.7), np.full(50, 40.7)], "lon": np.r_[np.full(50, -84.4), np.full(50, -74.0)]}
    )
    fig = maps.scan_map(areas, speakers=speakers)
    ax = fig.axes[0]
    assert drawn_labels(ax, "area ")[:2] == ["area 1\n20.0 %\np = 0.001", "area 2\n20.0 %\np = 0.3"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["speakers", "bottom cohort", "not significant"]
    assert any("p = 0.001 after the search" in t.get_text() for t in ax.texts)
    assert figures.to_data_uri(fig).startswith("data:image/png")
