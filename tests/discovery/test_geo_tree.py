"""GeoTree: finds a planted high-WER region, is the weighted CART it claims to be, and its
regions, labels and predictions agree with each other and with pandas."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from wergap.cohorts import gap_summary
from wergap.data_schemas import InputError
from wergap.discovery import GeoTree
from wergap.discovery import geo_tree as G


def planted(n: int = 1200, seed: int = 0, effect: float = 2.5) -> tuple[pd.DataFrame, np.ndarray]:
    """Speakers over the contiguous US; the south-east corner has ``effect`` x the WER."""
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(25, 49, n), rng.uniform(-124, -67, n)
    inside = (lat < 34) & (lon > -92)
    words = rng.integers(40, 250, n)
    p = np.where(inside, 0.08 * effect, 0.08)
    speakers = pd.DataFrame(
        {
            "speaker_id": [f"spk{i:05d}" for i in range(n)],
            "utterances": rng.integers(1, 10, n),
            "ref_words": words,
            "errors": rng.binomial(words, p),
            "lat": lat,
            "lon": lon,
        }
    )
    speakers["wer"] = speakers["errors"] / speakers["ref_words"]
    return speakers, speakers["speaker_id"].to_numpy()[inside]


def precision_recall(found: set[str], truth: set[str]) -> tuple[float, float]:
    hit = len(found & truth)
    return hit / len(found), hit / len(truth)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_finds_the_planted_region(seed: int) -> None:
    """A corner takes two cuts, so three regions: the worst one is the corner."""
    speakers, truth = planted(seed=seed)
    tree = GeoTree(max_regions=3, min_speakers=30, random_state=seed).fit(speakers)
    bottom = gap_summary(speakers, tree.partition_, n_boot=0).bottom
    found = set(tree.partition_.labels.index[tree.partition_.labels == bottom])
    precision, recall = precision_recall(found, set(truth))
    assert precision >= 0.8 and recall >= 0.8, (precision, recall)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_with_more_regions_the_corner_is_split_but_never_diluted(seed: int) -> None:
    """Eight regions cut the corner into pieces: the worst piece stays inside it, and the
    worst pieces pooled to the corner's share of speakers (DESIGN.md's pooled bottom) are it."""
    speakers, truth = planted(seed=seed)
    tree = GeoTree(max_regions=8, min_speakers=30, prune=None, random_state=seed).fit(speakers)
    assert tree.n_regions_ == 8 and tree.cv_errors_ is None
    labels = tree.partition_.labels
    single = gap_summary(speakers, tree.partition_, n_boot=0)
    precision, _ = precision_recall(set(labels.index[labels == single.bottom]), set(truth))
    assert precision >= 0.8
    pooled = gap_summary(speakers, tree.partition_, n_boot=0, bottom_share=0.9 * len(truth) / len(speakers))
    precision, recall = precision_recall(set(labels.index[labels.isin(pooled.bottom_cohorts)]), set(truth))
    assert precision >= 0.8 and recall >= 0.8, (precision, recall)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_cross_validation_prunes_to_the_corner_without_pooling(seed: int) -> None:
    """Allowed eight regions, the pruned tree keeps only cuts that hold up on held-out
    speakers: the single worst region is the corner itself, not a sliver of it."""
    speakers, truth = planted(seed=seed)
    tree = GeoTree(max_regions=8, min_speakers=30, random_state=seed).fit(speakers)
    assert 3 <= tree.n_regions_ < 8
    bottom = gap_summary(speakers, tree.partition_, n_boot=0).bottom
    found = set(tree.partition_.labels.index[tree.partition_.labels == bottom])
    precision, recall = precision_recall(found, set(truth))
    assert precision >= 0.8 and recall >= 0.8, (precision, recall)


def test_cv_table_and_the_one_standard_error_choice() -> None:
    speakers, _ = planted(seed=7)
    tree = GeoTree(max_regions=6, cv=4).fit(speakers)
    table = tree.cv_errors_
    assert list(table.columns) == list(G.CV_COLUMNS)
    assert table["regions"].tolist() == [2, 3, 4, 5, 6]
    assert table["chosen"].sum() == 1
    best = table["error"].idxmin()
    within = table["error"] <= table.at[best, "error"] + table.at[best, "error_se"]
    assert table.loc[table["chosen"], "regions"].item() == table.loc[within, "regions"].min()
    assert tree.n_regions_ == table.loc[table["chosen"], "regions"].item()


def test_without_a_geographic_effect_the_tree_stays_small() -> None:
    speakers, _ = planted(seed=2, effect=1.0)
    tree = GeoTree(max_regions=8).fit(speakers)
    assert tree.n_regions_ <= 3


def test_too_few_speakers_to_cross_validate_grows_as_asked() -> None:
    speakers, _ = planted(n=70)
    tree = GeoTree(max_regions=4, min_speakers=30).fit(speakers)
    assert tree.cv_errors_ is None


def test_finds_a_planted_region_among_real_zcta_centroids(shared_data: Path) -> None:
    """Speakers placed at real ZCTA internal points (2023 Gazetteer), so the density is
    the US population's, not uniform; the Gulf coast (lat < 31.5, lon -95..-84) has 2x WER.
    That box takes three cuts, so four regions."""
    zcta = pd.read_csv(shared_data / "zcta" / "zcta_centroids_2023_gazetteer.csv", dtype={"GEOID": str})
    zcta = zcta[zcta["LAT"].between(24, 50) & zcta["LONG"].between(-125, -66)]
    rng = np.random.default_rng(7)
    points = zcta.sample(n=3000, random_state=7)
    lat, lon = points["LAT"].to_numpy(), points["LONG"].to_numpy()
    inside = (lat < 31.5) & (lon > -95) & (lon < -84)
    words = rng.integers(40, 250, len(points))
    speakers = pd.DataFrame(
        {
            "speaker_id": [f"z{z}" for z in points["GEOID"]],
            "ref_words": words,
            "errors": rng.binomial(words, np.where(inside, 0.2, 0.1)),
            "lat": lat,
            "lon": lon,
        }
    )
    tree = GeoTree(max_regions=4, min_speakers=30).fit(speakers)
    bottom = gap_summary(speakers, tree.partition_, n_boot=0).bottom
    found = set(tree.partition_.labels.index[tree.partition_.labels == bottom])
    precision, recall = precision_recall(found, set(speakers["speaker_id"][inside]))
    assert precision >= 0.8 and recall >= 0.8, (precision, recall)


def between_variance(wer: np.ndarray, words: np.ndarray, left: np.ndarray) -> float:
    """Word-weighted between-group variance of speaker WER for a two-way split."""
    total = np.average(wer, weights=words)
    out = 0.0
    for side in (left, ~left):
        out += words[side].sum() * (np.average(wer[side], weights=words[side]) - total) ** 2
    return out


def test_first_cut_maximises_word_weighted_between_region_variance() -> None:
    """Brute force over every cut on lat and lon with min_speakers on each side."""
    speakers, _ = planted(n=300, seed=5)
    min_speakers = 25
    tree = GeoTree(max_regions=2, min_speakers=min_speakers).fit(speakers)
    wer, words = speakers["wer"].to_numpy(), speakers["ref_words"].to_numpy().astype(float)
    best = 0.0
    for column in ("lat", "lon"):
        values = np.sort(speakers[column].to_numpy())
        for i in range(min_speakers, len(values) - min_speakers + 1):
            cut = (values[i - 1] + values[i]) / 2
            best = max(best, between_variance(wer, words, speakers[column].to_numpy() <= cut))
    labels = tree.partition_.labels.reindex(speakers["speaker_id"]).to_numpy()
    achieved = between_variance(wer, words, labels == labels[0])
    assert achieved == pytest.approx(best, rel=1e-9)
    assert tree.partition_.sizes.min() >= min_speakers


def test_unweighted_tree_would_differ_so_weights_matter() -> None:
    """A region of few-word speakers with high WER: word weighting must not chase it."""
    rng = np.random.default_rng(3)
    n = 400
    lat, lon = rng.uniform(30, 40, n), rng.uniform(-100, -80, n)
    noisy = lat > 38  # tiny utterances with extreme WER
    words = np.where(noisy, 2, 300)
    wordy_bad = lon > -85  # many words, moderately worse
    p = np.where(noisy, 0.5, np.where(wordy_bad, 0.2, 0.1))
    speakers = pd.DataFrame(
        {
            "speaker_id": [f"s{i}" for i in range(n)],
            "ref_words": words,
            "errors": rng.binomial(words, p),
            "lat": lat,
            "lon": lon,
        }
    )
    tree = GeoTree(max_regions=2, min_speakers=20).fit(speakers)
    assert tree.tree_.tree_.feature[0] == 1  # the first cut is on longitude (the word-heavy effect)


def test_deterministic_with_a_fixed_random_state() -> None:
    speakers, _ = planted(seed=4)
    a = GeoTree(max_regions=6, random_state=11).fit(speakers)
    b = GeoTree(max_regions=6, random_state=11).fit(speakers)
    pd.testing.assert_series_equal(a.partition_.labels, b.partition_.labels)
    assert a.partition_.definitions == b.partition_.definitions
    pd.testing.assert_frame_equal(a.regions_.drop(columns="geometry"), b.regions_.drop(columns="geometry"))
    assert a.regions_.geometry.geom_equals(b.regions_.geometry).all()


EXCLUSIONS = [
    # (column, value, reason)
    ("lat", np.nan, G.NO_COORDINATES),
    ("lon", np.nan, G.NO_COORDINATES),
    ("lat", 91.0, G.IMPOSSIBLE_COORDINATES),
    ("lat", -90.5, G.IMPOSSIBLE_COORDINATES),
    ("lon", 180.01, G.IMPOSSIBLE_COORDINATES),
    ("ref_words", 0, G.NO_REFERENCE_WORDS),
]


def test_excluded_speakers_are_counted_by_reason() -> None:
    speakers, _ = planted(n=400)
    expected: dict[str, int] = {}
    for row, (column, value, reason) in enumerate(EXCLUSIONS):
        speakers.loc[row, column] = value
        expected[reason] = expected.get(reason, 0) + 1
    speakers["errors"] = speakers["errors"].astype("Int64")
    speakers.loc[len(EXCLUSIONS), "errors"] = pd.NA
    expected[G.NO_ERROR_COUNT] = 1
    tree = GeoTree(max_regions=3).fit(speakers)
    assert tree.partition_.excluded == expected
    assert len(tree.partition_.labels) == len(speakers) - sum(expected.values())
    excluded_ids = set(speakers["speaker_id"].iloc[: len(EXCLUSIONS) + 1])
    assert not excluded_ids & set(tree.partition_.labels.index)


def test_regions_match_a_pandas_groupby_and_cover_their_speakers() -> None:
    speakers, _ = planted(seed=2)
    tree = GeoTree(max_regions=6).fit(speakers)
    regions = tree.regions_
    assert list(regions.columns) == list(G.REGION_COLUMNS)
    assert regions.crs.to_epsg() == 4326
    labelled = speakers.set_index("speaker_id").join(tree.partition_.labels)
    direct = labelled.groupby("cohort").agg(
        speakers=("ref_words", "size"), ref_words=("ref_words", "sum"), errors=("errors", "sum")
    )
    direct["wer"] = direct["errors"] / direct["ref_words"]
    got = regions.set_index("cohort")[["speakers", "ref_words", "errors", "wer"]].sort_index()
    pd.testing.assert_frame_equal(got, direct.sort_index(), check_dtype=False, check_names=False)
    by_cohort = regions.set_index("cohort").geometry
    for speaker, row in labelled.iterrows():
        assert by_cohort[row["cohort"]].covers(Point(row["lon"], row["lat"])), speaker
    # regions tile the speakers' bounding box: clipped to it, no overlaps
    lat_min, lat_max, lon_min, lon_max = tree.bounds_
    assert regions.total_bounds == pytest.approx([lon_min, lat_min, lon_max, lat_max])
    area = (lat_max - lat_min) * (lon_max - lon_min)  # in square degrees: a tiling check, not a map area
    assert sum(polygon.area for polygon in regions.geometry) == pytest.approx(area)
    assert regions.geometry.union_all().area == pytest.approx(area)


def test_labels_are_readable_and_numbered_north_to_south() -> None:
    speakers, _ = planted(seed=1)
    tree = GeoTree(max_regions=5).fit(speakers)
    regions = tree.regions_
    assert regions["cohort"].tolist() == [f"region {i}" for i in range(1, len(regions) + 1)]
    centres = (regions["lat_min"] + regions["lat_max"]) / 2
    assert (centres.diff().dropna() <= 1e-6).all()  # north to south (ties: west to east)
    for _, row in regions.iterrows():
        assert row["definition"] == G.REGION_DEFINITION.format(**row[["lat_min", "lat_max", "lon_min", "lon_max"]])
        assert tree.partition_.definitions[row["cohort"]] == row["definition"]
    assert regions["definition"].iloc[0].startswith("lat ")


def test_geojson_round_trip(tmp_path: Path) -> None:
    speakers, _ = planted()
    tree = GeoTree(max_regions=4).fit(speakers)
    path = tmp_path / "regions.geojson"
    tree.regions_.to_file(path, driver="GeoJSON")
    back = gpd.read_file(path)
    assert back.crs.to_epsg() == 4326
    assert back["cohort"].tolist() == tree.regions_["cohort"].tolist()
    assert back["definition"].tolist() == tree.regions_["definition"].tolist()
    assert back["speakers"].tolist() == tree.regions_["speakers"].tolist()
    np.testing.assert_allclose(back["wer"], tree.regions_["wer"])
    assert back.geometry.geom_equals_exact(tree.regions_.geometry, tolerance=1e-9).all()


def test_predict_on_training_speakers_equals_the_partition() -> None:
    speakers, _ = planted(seed=3)
    speakers.loc[0, "lat"] = np.nan
    speakers.loc[1, "lon"] = -181.0
    speakers.loc[2, "ref_words"] = 0  # excluded from fitting, but it has a place on the map
    tree = GeoTree(max_regions=6).fit(speakers)
    predicted = tree.predict(speakers)
    assert predicted.index.tolist() == speakers["speaker_id"].tolist()
    assert predicted.iloc[:2].isna().all()
    assert predicted.iloc[2] in set(tree.partition_.labels)
    labels = tree.partition_.labels
    pd.testing.assert_series_equal(predicted.reindex(labels.index), labels, check_names=False)


def test_predict_far_outside_the_box_follows_the_cuts() -> None:
    speakers, _ = planted()
    tree = GeoTree(max_regions=4).fit(speakers)
    new = pd.DataFrame({"speaker_id": ["hawaii", "alaska"], "lat": [21.3, 61.2], "lon": [-157.8, -149.9]})
    assert tree.predict(new).notna().all()


def test_tiny_input_is_one_pooled_unreported_region() -> None:
    speakers, _ = planted(n=20)
    tree = GeoTree(max_regions=4, min_speakers=30).fit(speakers)
    assert tree.partition_.cohorts == ["other"]
    assert tree.partition_.unreported == ("other",)
    assert tree.predict(speakers).eq("other").all()


def test_clone_and_params_follow_sklearn() -> None:
    tree = GeoTree(max_regions=5, min_speakers=12, random_state=3)
    assert tree.get_params() == {"max_regions": 5, "min_speakers": 12, "prune": "cv", "cv": 5, "random_state": 3}
    assert clone(tree).get_params() == tree.get_params()
    speakers, _ = planted(n=200)
    assert tree.fit(speakers) is tree


def test_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        GeoTree().predict(pd.DataFrame({"speaker_id": ["a"], "lat": [1.0], "lon": [1.0]}))


BAD = [
    (lambda s: s.drop(columns="lat"), {}, "column 'lat': " + G.MISSING_COLUMN.format(column="lat")),
    (
        lambda s: s.assign(lon=s["lon"].astype(object).where(s.index != 3, "west")),
        {},
        "row 3, column 'lon': " + G.NOT_NUMBER.format(value="west"),
    ),
    (
        lambda s: s.assign(speaker_id=["dup"] * len(s)),
        {},
        "row 1, column 'speaker_id': " + G.DUPLICATE_SPEAKER.format(speaker="dup"),
    ),
    (lambda s: s.assign(lat=np.nan), {}, G.NO_ELIGIBLE.format(excluded={G.NO_COORDINATES: 100})),
    (lambda s: s, {"max_regions": 1}, G.BAD_PARAMETER.format(name="max_regions", low=2, value=1)),
    (lambda s: s, {"min_speakers": 0}, G.BAD_PARAMETER.format(name="min_speakers", low=1, value=0)),
    (lambda s: s, {"max_regions": 2.5}, G.BAD_PARAMETER.format(name="max_regions", low=2, value=2.5)),
    (lambda s: s, {"cv": 1}, G.BAD_PARAMETER.format(name="cv", low=2, value=1)),
    (lambda s: s, {"prune": "aic"}, G.BAD_PRUNE.format(value="aic")),
]


@pytest.mark.parametrize("change, params, message", BAD)
def test_bad_input(change, params, message) -> None:
    speakers, _ = planted(n=100)
    with pytest.raises(InputError) as info:
        GeoTree(**params).fit(change(speakers))
    assert str(info.value) == message


@pytest.mark.parametrize("seed", range(8))
def test_prefix_predictions_equal_refitting_smaller_trees(seed: int) -> None:
    """The cross-validation reads smaller trees off one best-first tree; this relies on
    scikit-learn numbering nodes in the order it creates them."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(300, 2000))
    X = np.column_stack([np.round(rng.uniform(25, 49, n), 1), rng.uniform(-124, -67, n)])
    y = rng.random(n) + 0.3 * (X[:, 0] < 34)
    w = rng.integers(1, 100, n).astype(float)
    sizes = np.arange(2, 9)
    full = G._tree(8, 20, seed).fit(X, y, sample_weight=w)
    got = G.prefix_predictions(full, X, sizes)
    for j, leaves in enumerate(sizes):
        refit = G._tree(int(leaves), 20, seed).fit(X, y, sample_weight=w)
        np.testing.assert_allclose(got[j], refit.predict(X))
