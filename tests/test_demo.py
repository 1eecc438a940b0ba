"""The bundled simulated example: deterministic, realistic in shape, planted effects real."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pandas as pd
import pytest

from wergap.demo import CITIES, EMBEDDING_DIM, HISPANIC_MAJORITY_ZIPS, make_example, run_demo, write_example

#: Runs the whole demo / starts Dask clusters: `make test-quick` leaves these out.
pytestmark = pytest.mark.slow

LOG_COLUMNS = ["utt_id", "speaker_id", "ref", "hyp", "lat", "lon", "zip", "gender", "device", "age_band"]


def has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@pytest.fixture(scope="module")
def example():
    return make_example(n_speakers=1500, seed=0)


def test_same_seed_same_tables_other_seed_other_tables():
    a, b, c = make_example(200, seed=3), make_example(200, seed=3), make_example(200, seed=4)
    pd.testing.assert_frame_equal(a.log, b.log)
    pd.testing.assert_frame_equal(a.census, b.census)
    assert all(np.array_equal(x, y) for x, y in zip(a.embeddings["embedding"], b.embeddings["embedding"]))
    assert a.planted == b.planted
    assert not a.log["hyp"].equals(c.log["hyp"])


def test_log_shape(example):
    log = example.log
    assert list(log.columns) == LOG_COLUMNS
    assert log["utt_id"].is_unique
    per_speaker = log.groupby("speaker_id").size()
    assert len(per_speaker) == 1500 and per_speaker.between(5, 20).all()
    assert set(log["zip"]) <= {c[2] for c in CITIES}
    assert log["zip"].str.fullmatch(r"\d{5}").all()
    assert "02108" in set(make_example(3000, seed=0).log["zip"])  # leading zero kept (Boston)
    assert log["ref"].str.split().str.len().between(2, 12).all()
    assert set(log["device"]) == {"phone", "smart_speaker", "car"}
    centres = {c[2]: (c[3], c[4]) for c in CITIES}
    lat0 = log["zip"].map(lambda z: centres[z][0])
    assert (log["lat"] - lat0).abs().max() < 1.0  # jittered around the real ZCTA point


def test_everything_is_labelled_simulated(example, tmp_path):
    for table in (example.log, example.census, example.embeddings):
        assert table.attrs["wergap"]["simulated"] is True
    paths = write_example(tmp_path, n_speakers=120, seed=1)
    assert paths and all(p.name.startswith("simulated_") for p in paths.values())
    assert {p.name for p in tmp_path.iterdir()} == {p.name for p in paths.values()}
    planted = json.loads(paths["planted"].read_text(encoding="utf-8"))
    assert planted["seed"] == 1


def test_written_log_reads_back(tmp_path):
    from wergap.data_schemas import read_log

    paths = write_example(tmp_path, n_speakers=120, seed=1)
    log = read_log(paths["log"])
    original = make_example(120, seed=1).log
    assert len(log) == len(original)
    assert log["zip"].tolist() == original["zip"].tolist()
    assert pd.read_parquet(paths["embeddings"])["embedding"].map(len).eq(EMBEDDING_DIM).all()


def test_census_and_embeddings(example):
    census = example.census
    shares = census.filter(like="share_")
    assert np.allclose(shares.sum(axis=1), 1.0) and (shares >= 0).all().all()
    majority = census["share_hispanic"] > 0.5
    assert set(census.loc[majority, "zip"]) == set(HISPANIC_MAJORITY_ZIPS)
    assert (census["median_household_income"] > 0).all() and census["zip"].is_unique
    vectors = np.stack(example.embeddings["embedding"])
    assert vectors.shape == (1500, EMBEDDING_DIM) and vectors.dtype == np.float32
    assert example.embeddings["speaker_id"].tolist() == sorted(example.log["speaker_id"].unique())


def test_planted_effects_show_in_the_scored_log(example):
    """Scored with wergap itself, each planted group is served clearly worse than the rest."""
    from wergap.scoring import score
    from wergap.speaker_table import speakers

    spk = speakers(score(example.log)).set_index("speaker_id")
    planted = example.planted

    def wer(mask):
        return spk.loc[mask, "errors"].sum() / spk.loc[mask, "ref_words"].sum()

    box = planted["geo"]["box"]
    geo = spk["lat"].between(*box["lat"]) & spk["lon"].between(*box["lon"])
    census = spk["zip"].isin(planted["census"]["zips"])
    cluster = spk.index.isin(planted["embedding"]["speaker_ids"])
    sizes = []
    for mask in (geo, census, cluster):
        assert wer(mask) > 1.25 * wer(~(geo | census | cluster))
        sizes.append(int(mask.sum()))
    assert sizes == [planted["geo"]["speakers"], planted["census"]["speakers"], planted["embedding"]["speakers"]]
    assert len(set(sizes)) == 3  # effects of different sizes


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = run_demo(out / "report.html", out / "exports")
    return out, result


def test_run_demo_writes_a_simulated_report_and_exports(demo_run):
    out, result = demo_run
    page = (out / "report.html").read_text(encoding="utf-8")
    assert result.provenance["simulated"] is True
    assert "Simulated data" in page
    assert json.loads((out / "exports" / "summary.json").read_text(encoding="utf-8"))["simulated"] is True
    assert {"summary.json", "cohorts.csv", "assignments.parquet"} <= {p.name for p in (out / "exports").iterdir()}
    assert "could not be drawn" not in page
    for method in result.methods:
        assert f'<section id="{method}">' in page
    example = make_example()
    assert not any(ref in page for ref in example.log["ref"].unique())  # no transcript
    assert not any(f"{s}<" in page or f"{s} " in page for s in example.log["speaker_id"].unique()[:300])


@pytest.mark.skipif(not has("wergap.discovery.census_splits"), reason="CensusSplits not written yet")
def test_demo_census_split_finds_the_planted_attribute(demo_run):
    _, result = demo_run
    assert "census_splits" in result.methods
    assert "share_hispanic" in result.gaps["census_splits"].bottom_definition
    row = result.summary().set_index("method").loc["census_splits"]
    assert row["held_out_ci_low"] > 0 and row["bottom_cohort"] == "majority hispanic"
    # The report's split chart has error bars, and says what they do not cover.
    bars = result.split_intervals
    assert bars is not None and len(bars) > 1 and bars["wer_in_ci_low"].notna().all()
    assert (bars["wer_in_ci_low"] <= bars["wer_in"]).all() and (bars["wer_in"] <= bars["wer_in_ci_high"]).all()
    page = (demo_run[0] / "report.html").read_text(encoding="utf-8")
    assert "speaker-bootstrap intervals of each split on its own" in page


@pytest.mark.skipif(not has("wergap.discovery.geo_tree"), reason="GeoTree not written yet")
def test_demo_geo_tree_finds_the_planted_region(demo_run):
    _, result = demo_run
    planted = make_example().planted["geo"]
    spk = result.speakers.set_index("speaker_id")
    labels = result.partition("geo_tree").labels
    bottom = set(result.gaps["geo_tree"].bottom_cohorts or [result.gaps["geo_tree"].bottom])
    in_bottom = labels[labels.isin(bottom)].index
    box = planted["box"]
    inside = spk.loc[in_bottom, "lat"].between(*box["lat"]) & spk.loc[in_bottom, "lon"].between(*box["lon"])
    assert inside.mean() > 0.5


@pytest.mark.skipif(
    not (has("wergap.discovery.embedding_kmeans") and has("wergap.data_schemas.embeddings")),
    reason="EmbeddingKMeans not written yet",
)
def test_demo_kmeans_finds_the_planted_cluster(demo_run):
    _, result = demo_run
    planted = set(make_example().planted["embedding"]["speaker_ids"])
    labels = result.partition("embedding_kmeans").labels
    gap = result.gaps["embedding_kmeans"]
    bottom = set(gap.bottom_cohorts or [gap.bottom])
    members = set(labels[labels.isin(bottom)].index)
    assert len(members & planted) / len(members) > 0.5


def test_report_of_the_written_files_is_labelled_simulated(tmp_path):
    """Files lose table metadata; their simulated_ names still bring the banner."""
    from wergap.audit import audit
    from wergap.data_schemas import read_log
    from wergap.reports import render_html
    from wergap.reports.exports import summary_dict

    paths = write_example(tmp_path, n_speakers=150, seed=2)
    result = audit(read_log(paths["log"]), methods=[], n_boot=20)
    assert "simulated" not in result.provenance or not result.provenance["simulated"]
    assert "Simulated data" in render_html(result)
    assert summary_dict(result)["simulated"] is True
