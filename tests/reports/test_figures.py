"""Figures: drawn from tables in the documented shapes, readable, inline-encodable."""

from __future__ import annotations

import base64

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.container import BarContainer
from shapely.geometry import box

from wergap.reports import figures


def cohort_rows(labels, wers, speakers=None):
    wers = np.asarray(wers, dtype=float)
    return pd.DataFrame(
        {
            "cohort": labels,
            "definition": [f"definition of {c}" for c in labels],
            "speakers": speakers or [40] * len(labels),
            "wer": wers,
            "wer_ci_low": wers - 0.01,
            "wer_ci_high": wers + 0.02,
        }
    )


def bar_containers(ax):
    return [c for c in ax.containers if isinstance(c, BarContainer)]


@pytest.fixture(autouse=True)
def no_open_figures():
    yield
    plt.close("all")


def test_data_uri_is_a_png_and_no_pyplot_figure_is_left_open():
    fig = figures.wer_bars(cohort_rows(["a", "b"], [0.1, 0.2]), label="definition", title="t")
    uri = figures.to_data_uri(fig)
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert plt.get_fignums() == []


def test_wer_bars_in_percent_with_intervals_and_bottom_highlighted():
    table = cohort_rows(["a", "b", "c"], [0.30, 0.10, 0.20])
    fig = figures.wer_bars(table, label="definition", title="WER by cohort", bottom={"a"}, overall=0.15)
    ax = fig.axes[0]
    bars = bar_containers(ax)[0]
    widths = [p.get_width() for p in bars.patches]
    assert widths == pytest.approx([10.0, 20.0, 30.0])  # best at the bottom, worst on top, in %
    colours = [p.get_facecolor() for p in bars.patches]
    assert colours[2] != colours[0]  # worst cohort in the highlight colour
    assert bars.errorbar is not None
    segments = bars.errorbar.lines[2][0].get_segments()
    assert segments[2][0][0] == pytest.approx(29.0) and segments[2][1][0] == pytest.approx(32.0)
    assert "WER (%)" in ax.get_xlabel() and ax.get_title() == "WER by cohort"
    assert any("overall 15.0%" in t.get_text() for t in ax.get_legend().get_texts())


def regions():
    return gpd.GeoDataFrame(
        {
            "cohort": ["r1", "r2", "r3"],
            "definition": ["west", "east", "tiny"],
            "geometry": [box(-125, 30, -100, 45), box(-100, 30, -70, 45), box(-80, 25, -79, 26)],
        },
        crs="EPSG:4326",
    )


def test_region_map_draws_only_reported_regions_labelled_by_number_and_wer():
    table = cohort_rows(["r1", "r2"], [0.2, 0.1])  # r3 is not a reported cohort
    fig = figures.region_map(regions(), table, bottom={"r1"})
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.texts if t.get_text().startswith("r")]
    assert labels == ["r1\n20.0 %", "r2\n10.0 %"]
    assert ax.get_xlabel() == "longitude (° E)" and ax.get_ylabel() == "latitude (° N)"
    assert ax.get_ylim()[0] > 26  # the unreported region is not even in view
    assert fig.axes[1].get_ylabel() == "WER (%)"  # colour bar


def test_region_map_with_state_outlines(shared_data):
    outlines = shared_data / "boundaries" / "us_states_cb2016_simplified.geojson"
    table = cohort_rows(["r1", "r2"], [0.2, 0.1])
    fig = figures.region_map(regions(), table, boundaries=outlines)
    ax = fig.axes[0]
    assert len(ax.collections) >= 2  # regions + state outlines
    xmin, xmax = ax.get_xlim()
    assert -127 < xmin < -124 and -70 < xmax < -68  # clipped to the regions, not the whole US
    assert figures.to_data_uri(fig).startswith("data:image/png")


def splits(with_ci: bool):
    frame = pd.DataFrame(
        {
            "attribute": ["share_hispanic", "income"],
            "value": ["majority", "below 50000"],
            "definition": ["majority hispanic", "income < 50000"],
            "speakers_in": [120, 300],
            "speakers_out": [880, 700],
            "wer_in": [0.15, 0.11],
            "wer_out": [0.09, 0.10],
            "gap_pct": [66.7, 10.0],
        }
    )
    if with_ci:
        for side in ("in", "out"):
            frame[f"wer_{side}_ci_low"] = frame[f"wer_{side}"] - 0.01
            frame[f"wer_{side}_ci_high"] = frame[f"wer_{side}"] + 0.01
    return frame


@pytest.mark.parametrize("with_ci", [False, True])
def test_split_pairs_error_bars_only_when_given(with_ci):
    frame = splits(with_ci)
    assert figures.has_split_intervals(frame) is with_ci
    ax = figures.split_pairs(frame).axes[0]
    inside, outside = bar_containers(ax)
    assert [p.get_width() for p in inside.patches] == pytest.approx([11.0, 15.0])
    assert [p.get_width() for p in outside.patches] == pytest.approx([10.0, 9.0])
    assert (inside.errorbar is not None) is with_ci


def test_embedding_scatter_colours_points_by_cluster_wer():
    rng = np.random.default_rng(0)
    projection = pd.DataFrame(
        {
            "speaker_id": [f"s{i}" for i in range(90)],
            "x": rng.normal(size=90),
            "y": rng.normal(size=90),
            "cohort": ["c0"] * 40 + ["c1"] * 40 + ["c2"] * 10,  # c2 pooled into "other"
        }
    )
    table = cohort_rows(["c0", "c1"], [0.25, 0.05])
    fig = figures.embedding_scatter(projection, table, bottom={"c0"})
    ax = fig.axes[0]
    grey, coloured = ax.collections[0], ax.collections[1]
    assert len(grey.get_offsets()) == 10  # not reported: grey, unlabelled
    assert sorted(set(np.round(coloured.get_array(), 6))) == [5.0, 25.0]
    assert {t.get_text() for t in ax.texts} == {"c0: 25.0%", "c1: 5.0%"}
    assert not any(t.get_text().startswith("s") for t in ax.texts)  # no speaker labelled


def test_dollar_signs_in_user_text_are_drawn_literally():
    table = cohort_rows(["a", "b"], [0.1, 0.2])
    table["definition"] = ["income $40,000 to $60,000", "income over $60,000"]
    fig = figures.wer_bars(table, label="definition", title="WER by $ band")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[0].startswith(r"income \$40,000 to \$60,000")
    assert fig.axes[0].get_title() == r"WER by \$ band"
    figures.to_data_uri(fig)  # renders without a mathtext parse error
