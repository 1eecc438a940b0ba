"""Exports: summary.json (documented schema), cohorts.csv, assignments.parquet, regions.geojson."""

from __future__ import annotations

import importlib.util
import json
import math

import pandas as pd
import pytest

from wergap.audit import SUMMARY_COLUMNS, audit
from wergap.reports import write_exports
from wergap.reports.exports import SUMMARY_SCHEMA_VERSION, summary_dict

from .conftest import speaker_frame

TOP_KEYS = {
    "schema_version",
    "generator",
    "simulated",
    "provenance",
    "parameters",
    "overall",
    "comparison",
    "held_out_folds",
    "skipped",
    "known_attributes",
    "explanations",
    "areas",
    "exclusions",
    "attributes_left_out",
}


@pytest.fixture(scope="module")
def written(tmp_path_factory, small_audit):
    outdir = tmp_path_factory.mktemp("exports") / "out"
    return outdir, write_exports(small_audit, outdir)


def test_files_written_and_nothing_else(written, small_audit):
    outdir, paths = written
    expected = {"summary.json", "cohorts.csv", "assignments.parquet"}
    if "geo_tree" in small_audit.methods:
        expected.add("regions.geojson")
    if "geo_scan" in small_audit.methods:
        expected.add("hot_spots.geojson")
    assert {p.name for p in outdir.iterdir()} == expected  # no temporary files left behind
    assert {p.name for p in paths.values()} == expected


def test_summary_json_follows_the_documented_schema(written, small_audit):
    data = json.loads(written[1]["summary"].read_text(encoding="utf-8"))
    assert set(data) == TOP_KEYS
    assert data["schema_version"] == SUMMARY_SCHEMA_VERSION and data["simulated"] is False
    assert data["provenance"]["rows_read"] == 5000
    assert data["provenance"]["dropped"] == {"empty ref": 3, "missing <speaker_id>": 2}
    assert data["parameters"] == json.loads(json.dumps(small_audit.params))
    assert data["overall"]["speakers"] == len(small_audit.speakers)
    assert data["overall"]["wer"] == pytest.approx(small_audit.overall["wer"])
    assert data["skipped"] == small_audit.skipped
    assert set(data["known_attributes"]) == set(small_audit.disaggregated)
    assert [row["method"] for row in data["comparison"]] == small_audit.methods
    for row in data["comparison"]:
        assert list(row) == SUMMARY_COLUMNS
    assert set(data["areas"]) == {"geo_tree", "geo_scan"} & set(small_audit.methods)


def test_summary_json_has_no_nan_and_matches_the_summary_table(small_audit):
    data = summary_dict(small_audit)
    json.dumps(data, allow_nan=False)  # NaN became null
    summary = small_audit.summary()
    for row, (_, expected) in zip(data["comparison"], summary.iterrows()):
        for column in SUMMARY_COLUMNS:
            value = expected[column]
            if isinstance(value, float) and math.isnan(value):
                assert row[column] is None
            elif isinstance(value, float):
                assert row[column] == pytest.approx(value)
    gender = small_audit.disaggregated["gender"]
    assert [r["value"] for r in data["known_attributes"]["gender"]] == gender["value"].tolist()


def test_cohorts_csv_holds_every_cohort_of_every_method(written, small_audit):
    cohorts = pd.read_csv(written[1]["cohorts"], dtype={"cohort": "str", "method": "str"})
    assert cohorts.columns[0] == "method"
    expected = sum(len(small_audit.cohorts(m)) for m in small_audit.methods)
    assert len(cohorts) == expected
    for method in small_audit.methods:
        table = small_audit.cohorts(method)
        mine = cohorts[cohorts["method"] == method].reset_index(drop=True)
        assert mine["wer"].to_numpy() == pytest.approx(table["wer"].to_numpy())


def test_assignments_parquet_is_the_audit_assignments(written, small_audit):
    got = pd.read_parquet(written[1]["assignments"])
    pd.testing.assert_frame_equal(got, small_audit.assignments(), check_dtype=False)


def test_simulated_flag_travels(tmp_path):
    result = audit(speaker_frame(n=120), methods=[], n_boot=20)
    result.provenance["simulated"] = True
    data = json.loads(write_exports(result, tmp_path)["summary"].read_text(encoding="utf-8"))
    assert data["simulated"] is True and data["comparison"] == []


@pytest.mark.skipif(
    importlib.util.find_spec("wergap.discovery.geo_tree") is None, reason="wergap.discovery.geo_tree not written yet"
)
def test_regions_geojson_when_the_geo_tree_ran(written, small_audit):
    import geopandas as gpd

    assert "geo_tree" in small_audit.methods
    regions = gpd.read_file(written[1]["regions"])
    table = small_audit.cohorts("geo_tree")
    reported = regions[regions["reported"]]
    assert sorted(reported["cohort"]) == sorted(table["cohort"].astype(str))
    assert regions.crs.to_epsg() == 4326


def test_hot_spots_geojson_holds_the_scan_circles_with_their_statistics(written, small_audit):
    import geopandas as gpd

    if "geo_scan" not in small_audit.methods:
        pytest.skip("the scan did not run")
    areas = gpd.read_file(written[1]["geo_scan"])
    fitted = small_audit.estimators["geo_scan"].areas_
    assert list(areas["cohort"]) == list(fitted["cohort"])
    assert areas["p_value"].to_numpy() == pytest.approx(fitted["p_value"].to_numpy())
    assert (areas.geom_type == "Polygon").all() and areas["speakers"].notna().all()
    data = json.loads(written[1]["summary"].read_text(encoding="utf-8"))
    assert [a["cohort"] for a in data["areas"]["geo_scan"]] == list(fitted["cohort"])
    row = next(r for r in data["comparison"] if r["method"] == "geo_scan")
    assert "hot spot" in row["note"]
