"""EmbeddingKMeans: finds a planted high-WER voice cluster, describes clusters in words,
pools small ones, and its labels, predictions and projection agree with each other."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits

from wergap.cohorts import cohort_table, gap_summary
from wergap.data_schemas import InputError
from wergap.discovery import EmbeddingKMeans
from wergap.discovery import embedding_kmeans as K


@pytest.fixture(autouse=True)
def one_thread():
    """Test inputs are tiny: OpenMP/BLAS threads only add overhead, and on a busy machine
    their spin-waiting made these k-means fits ~30x slower."""
    with threadpool_limits(limits=1):
        yield


def planted(
    n: int = 1200, k: int = 6, dim: int = 48, seed: int = 0, bad: int = 2, effect: float = 2.5
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Speakers in ``k`` voice clusters (Gaussian around random directions, random norms);
    cluster ``bad`` has ``effect`` x the WER and is all "female"."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, dim))
    truth = rng.integers(0, k, n)
    vectors = centres[truth] + 0.6 * rng.normal(size=(n, dim))
    vectors *= rng.uniform(0.5, 20, n)[:, None]  # length carries no voice information
    words = rng.integers(40, 250, n)
    inside = truth == bad
    speakers = pd.DataFrame(
        {
            "speaker_id": [f"spk{i:05d}" for i in range(n)],
            "utterances": rng.integers(1, 10, n),
            "ref_words": words,
            "errors": rng.binomial(words, np.where(inside, 0.08 * effect, 0.08)),
            "gender": np.where(inside, "female", rng.choice(["female", "male"], n)),
            "device": rng.choice(["phone", "far_field", "headset"], n),
        }
    )
    speakers["wer"] = speakers["errors"] / speakers["ref_words"]
    speakers["embedding"] = pd.Series(list(vectors.astype(np.float32)), dtype=object)
    return speakers, speakers["speaker_id"].to_numpy()[inside], truth


def precision_recall(found: set[str], truth: set[str]) -> tuple[float, float]:
    hit = len(found & truth)
    return hit / len(found), hit / len(truth)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("minibatch", [False, True])
def test_finds_the_planted_cluster(seed: int, minibatch: bool) -> None:
    speakers, truth, _ = planted(seed=seed)
    model = EmbeddingKMeans(n_clusters=6, random_state=seed, minibatch_threshold=100 if minibatch else 20000)
    model.fit(speakers)
    assert isinstance(model.kmeans_, MiniBatchKMeans if minibatch else KMeans)
    assert type(model.kmeans_) is (MiniBatchKMeans if minibatch else KMeans)
    bottom = gap_summary(speakers, model.partition_, n_boot=0).bottom
    labels = model.partition_.labels
    precision, recall = precision_recall(set(labels.index[labels == bottom]), set(truth))
    assert precision >= 0.8 and recall >= 0.8, (precision, recall)


def test_with_more_clusters_the_pooled_bottom_is_the_planted_cluster() -> None:
    """k=10 over 6 true clusters splits some; pooled to the planted share, the worst are it."""
    speakers, truth, _ = planted(seed=4)
    model = EmbeddingKMeans(n_clusters=10).fit(speakers)
    labels = model.partition_.labels
    pooled = gap_summary(speakers, model.partition_, n_boot=0, bottom_share=0.9 * len(truth) / len(speakers))
    precision, recall = precision_recall(set(labels.index[labels.isin(pooled.bottom_cohorts)]), set(truth))
    assert precision >= 0.8 and recall >= 0.8, (precision, recall)


def test_vectors_are_length_normalised() -> None:
    """Rescaling each speaker's vector by any positive factor changes nothing."""
    speakers, _, _ = planted(seed=1)
    rng = np.random.default_rng(9)
    scaled = speakers.copy()
    scaled["embedding"] = [
        v * np.float32(s) for v, s in zip(speakers["embedding"], rng.uniform(0.01, 100, len(speakers)))
    ]
    a = EmbeddingKMeans(n_clusters=6).fit(speakers)
    b = EmbeddingKMeans(n_clusters=6).fit(scaled)
    pd.testing.assert_series_equal(a.partition_.labels, b.partition_.labels)


def test_deterministic_with_a_fixed_random_state() -> None:
    speakers, _, _ = planted(seed=2)
    for threshold in (20000, 100):
        a = EmbeddingKMeans(n_clusters=8, minibatch_threshold=threshold, random_state=5).fit(speakers)
        b = EmbeddingKMeans(n_clusters=8, minibatch_threshold=threshold, random_state=5).fit(speakers)
        pd.testing.assert_series_equal(a.partition_.labels, b.partition_.labels)
        pd.testing.assert_frame_equal(a.clusters_, b.clusters_)
        pd.testing.assert_frame_equal(a.projection_, b.projection_)
        np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)


def test_speakers_without_a_usable_embedding_are_counted() -> None:
    speakers, _, _ = planted(n=300)
    speakers.loc[0, "embedding"] = None
    speakers.loc[1, "embedding"] = np.nan
    speakers.at[2, "embedding"] = np.zeros(48, dtype=np.float32)
    speakers.at[3, "embedding"] = np.zeros(48, dtype=np.float32)
    model = EmbeddingKMeans(n_clusters=4).fit(speakers)
    assert model.partition_.excluded == {K.NO_EMBEDDING: 2, K.ZERO_VECTOR: 2}
    assert len(model.partition_.labels) == len(speakers) - 4
    predicted = model.predict(speakers)
    assert predicted.iloc[:4].isna().all() and predicted.iloc[4:].notna().all()


def test_cluster_table_numbering_cohesion_and_definitions() -> None:
    speakers, truth, _ = planted(seed=0)
    model = EmbeddingKMeans(n_clusters=6).fit(speakers)
    clusters = model.clusters_
    assert list(clusters.columns) == list(K.CLUSTER_COLUMNS)
    assert clusters["cluster"].tolist() == [f"cluster {i}" for i in range(1, 7)]
    assert clusters["speakers"].is_monotonic_decreasing  # numbered largest first
    sizes = model.partition_.sizes
    assert clusters.set_index("cohort")["speakers"].to_dict() == sizes.to_dict()

    # cohesion = mean cosine of each speaker's vector to its cluster centre, computed directly
    vectors = normalize(np.stack(speakers["embedding"].to_numpy()).astype(np.float64))
    labels = model.partition_.labels.reindex(speakers["speaker_id"]).to_numpy()
    centres = normalize(model.cluster_centers_.astype(np.float64))
    for i, row in clusters.iterrows():
        members = labels == row["cluster"]
        expected = float((vectors[members] @ centres[i]).mean())
        assert row["cohesion"] == pytest.approx(expected, abs=1e-5)
        assert row["definition"].startswith(
            f"{row['speakers']} speakers; cohesion {row['cohesion']:.2f} (mean cosine to centre)"
        )

    # the planted cluster's definition names its majority attribute and share against everyone's
    planted_cluster = model.partition_.labels[truth].mode().iloc[0]
    definition = model.partition_.definitions[planted_cluster]
    overall = (speakers["gender"] == "female").mean()
    assert f"gender: female 100% (all {100 * overall:.0f}%)" in definition
    assert "device: " in definition
    assert "speaker_id" not in definition and "embedding" not in definition


def test_small_clusters_are_pooled_into_other() -> None:
    speakers, _, _ = planted(n=600, k=3, seed=6)
    rng = np.random.default_rng(1)
    odd = pd.DataFrame(
        {
            "speaker_id": [f"odd{i}" for i in range(12)],
            "ref_words": 100,
            "errors": 10,
            "gender": "male",
            "device": "phone",
            "embedding": list((np.full(48, 40.0) + rng.normal(size=(12, 48))).astype(np.float32)),
        }
    )
    speakers = pd.concat([speakers, odd], ignore_index=True)
    model = EmbeddingKMeans(n_clusters=4, min_speakers=30).fit(speakers)
    labels = model.partition_.labels
    assert set(labels[odd["speaker_id"]]) == {"other"}
    assert model.partition_.unreported == ("other",)  # 12 < 30: assigned, never ranked
    assert model.clusters_.set_index("cluster").loc["cluster 4", "cohort"] == "other"
    assert model.predict(odd).eq("other").all()


def test_predict_on_training_speakers_equals_the_partition() -> None:
    speakers, _, _ = planted(seed=3)
    for threshold in (20000, 100):
        model = EmbeddingKMeans(n_clusters=7, minibatch_threshold=threshold).fit(speakers)
        predicted = model.predict(speakers)
        assert predicted.index.tolist() == speakers["speaker_id"].tolist()
        pd.testing.assert_series_equal(predicted, model.partition_.labels, check_names=False)


def test_predict_rejects_another_dimension() -> None:
    speakers, _, _ = planted(n=200, dim=16)
    model = EmbeddingKMeans(n_clusters=3).fit(speakers)
    other = pd.DataFrame({"speaker_id": ["x"], "embedding": [np.ones(8, dtype=np.float32)]})
    with pytest.raises(InputError, match=K.WRONG_DIMENSION.format(found=8, expected=16)):
        model.predict(other)


def test_projection_is_the_pca_of_the_normalised_vectors() -> None:
    speakers, _, _ = planted(seed=5)
    speakers.loc[0, "embedding"] = None
    model = EmbeddingKMeans(n_clusters=6).fit(speakers)
    projection = model.projection_
    assert list(projection.columns) == ["speaker_id", "x", "y", "cohort"]
    assert projection["speaker_id"].tolist() == speakers["speaker_id"].iloc[1:].tolist()
    assert projection.set_index("speaker_id")["cohort"].to_dict() == model.partition_.labels.to_dict()
    vectors = normalize(np.stack(speakers["embedding"].iloc[1:].to_numpy()).astype(np.float64))
    plane = PCA(n_components=2).fit_transform(vectors)
    for j, column in enumerate(("x", "y")):  # components are defined up to sign
        got = projection[column].to_numpy()
        sign = np.sign(got @ plane[:, j])
        np.testing.assert_allclose(got, sign * plane[:, j], atol=1e-4)
    assert model.pca_.n_components_ == 2


def test_cohort_wers_match_a_pandas_groupby() -> None:
    speakers, _, _ = planted(seed=7)
    model = EmbeddingKMeans(n_clusters=6).fit(speakers)
    table = cohort_table(speakers, model.partition_, n_boot=10).set_index("cohort")
    labelled = speakers.set_index("speaker_id").join(model.partition_.labels)
    direct = labelled.groupby("cohort")[["errors", "ref_words"]].sum()
    direct["wer"] = direct["errors"] / direct["ref_words"]
    pd.testing.assert_series_equal(table["wer"].sort_index(), direct["wer"].sort_index(), check_names=False)


def test_params_follow_sklearn() -> None:
    model = EmbeddingKMeans(n_clusters=3, min_speakers=5, minibatch_threshold=10, batch_size=64, random_state=2)
    assert clone(model).get_params() == model.get_params()
    speakers, _, _ = planted(n=100)
    assert model.fit(speakers) is model
    assert model.n_features_in_ == 48 and model.cluster_centers_.shape == (3, 48)
    assert model.kmeans_.batch_size == 64


def test_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        EmbeddingKMeans().predict(pd.DataFrame({"speaker_id": ["a"], "embedding": [np.ones(3)]}))


def _with_vector(row: int, value: object):
    def change(speakers: pd.DataFrame) -> pd.DataFrame:
        out = speakers.copy()
        out.at[row, "embedding"] = value
        return out

    return change


BAD = [
    (lambda s: s.drop(columns="embedding"), {}, "column 'embedding': " + K.MISSING_COLUMN.format(column="embedding")),
    (
        lambda s: s.assign(speaker_id="same"),
        {},
        "row 1, column 'speaker_id': " + K.DUPLICATE_SPEAKER.format(speaker="same"),
    ),
    (
        _with_vector(4, np.ones(5, dtype=np.float32)),
        {},
        "row 4, column 'embedding': expected 48 dimensions (as most rows have), got 5",
    ),
    (
        _with_vector(7, np.full(48, np.nan, dtype=np.float32)),
        {},
        "row 7, column 'embedding': vector has a non-finite value (nan) at dimension 0",
    ),
    (lambda s: s.iloc[:5], {"n_clusters": 6}, K.TOO_FEW.format(n=5, k=6, excluded="none")),
    (lambda s: s, {"n_clusters": 0}, K.BAD_PARAMETER.format(name="n_clusters", low=1, value=0)),
    (lambda s: s, {"batch_size": 0}, K.BAD_PARAMETER.format(name="batch_size", low=1, value=0)),
]


@pytest.mark.parametrize("change, params, message", BAD)
def test_bad_input(change, params, message) -> None:
    speakers, _, _ = planted(n=100)
    with pytest.raises(InputError) as info:
        EmbeddingKMeans(**params).fit(change(speakers))
    assert str(info.value) == message
