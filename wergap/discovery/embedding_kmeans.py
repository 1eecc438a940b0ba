"""Speaker-embedding k-means: groups of similar-sounding speakers, ranked later by WER.

Dheram et al. (Interspeech 2022) cluster speakers by their voice embedding to find
cohorts that no metadata names (accent, voice quality, recording channel). Each speaker's
mean embedding is length-normalised — so Euclidean k-means on the unit sphere ranks
neighbours as cosine similarity does, the usual metric for x-vectors and ECAPA — and
clustered with scikit-learn's :class:`~sklearn.cluster.KMeans`, or
:class:`~sklearn.cluster.MiniBatchKMeans` above ``minibatch_threshold`` speakers.

A cluster number means nothing to a scientist, so every cohort's definition says what the
cluster is: its size, its cohesion (mean cosine of its speakers to the cluster centre:
1 = identical voices, ~0 = unrelated), and, for each known low-cardinality attribute in
the speaker table (gender, dialect region, device, ...), the majority value with its share
in the cluster beside its share among all clustered speakers. Clusters under
``min_speakers`` are pooled into ``"other"`` (DESIGN.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.decomposition import PCA
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted

from wergap.cohorts.attributes import choose_attributes
from wergap.cohorts.partition import Partition, merge_small
from wergap.data_schemas.embeddings import embedding_matrix
from wergap.defaults import MIN_SPEAKERS
from wergap.discovery import registry
from wergap.discovery._params import BAD_PARAMETER, check_int  # noqa: F401  (BAD_PARAMETER: tests assert it)
from wergap.errors import InputError

METHOD = "embedding_kmeans"
#: Cohort label of the i-th cluster (1-based), clusters numbered largest first.
CLUSTER_LABEL = "cluster {number}"
#: k-means++ seedings tried, the lowest inertia kept. One seeding (scikit-learn's "auto")
#: merged two well-separated planted clusters in 2 of 12 mini-batch runs; three fixed it.
N_INIT = 3
#: Columns of :attr:`EmbeddingKMeans.clusters_`.
CLUSTER_COLUMNS = ("cluster", "cohort", "speakers", "cohesion", "definition")

# Exclusion reasons (keys of Partition.excluded).
NO_EMBEDDING = "no embedding"
ZERO_VECTOR = "zero embedding vector"

MISSING_COLUMN = "missing required column {column!r}: EmbeddingKMeans reads speaker_id and embedding"
DUPLICATE_SPEAKER = "duplicate speaker_id {speaker!r}: expected one row per speaker"
TOO_FEW = "{n} speakers with a usable embedding, fewer than n_clusters={k} (excluded: {excluded})"
WRONG_DIMENSION = "embeddings have {found} dimensions; the clusters were fitted on {expected}"


class EmbeddingKMeans(BaseEstimator):
    """Cluster speakers by voice embedding (Dheram et al., Interspeech 2022).

    Parameters
    ----------
    n_clusters : int, default 10
        Number of k-means clusters.
    min_speakers : int, default 30
        Clusters with fewer speakers are pooled into ``"other"``.
    minibatch_threshold : int, default 20000
        Above this many speakers, :class:`~sklearn.cluster.MiniBatchKMeans` is used.
    batch_size : int, default 4096
        Mini-batch size for :class:`~sklearn.cluster.MiniBatchKMeans`.
    random_state : int, default 0
        Seeds k-means (and the PCA solver).

    Attributes
    ----------
    partition_ : Partition
        ``method="embedding_kmeans"``: speakers -> ``"cluster 1"``, ... (numbered by size,
        largest first) or ``"other"``; speakers without an embedding (``"no
        embedding"``) or with an all-zero one (``"zero embedding vector"``) counted in
        ``excluded``.
    clusters_ : DataFrame
        One row per k-means cluster: ``cluster`` (its ``"cluster N"`` name), ``cohort``
        (the label in ``partition_``: the name, or ``"other"`` when pooled),
        ``speakers``, ``cohesion`` (mean cosine to the centre), ``definition``.
    cluster_centers_ : ndarray of shape (n_clusters, dim)
        Centres in the normalised space; row ``i`` is ``"cluster i+1"``.
    kmeans_ : KMeans or MiniBatchKMeans
        The fitted clusterer (its own cluster numbering).
    kmeans_cohorts_ : ndarray of str
        Cohort label of each of ``kmeans_``'s clusters, in its numbering (what
        :meth:`predict` maps to).
    pca_ : PCA
        2-D PCA of the normalised vectors.
    projection_ : DataFrame
        ``speaker_id``, ``x``, ``y``, ``cohort``: the clustered speakers in the PCA plane,
        for plotting.
    n_features_in_ : int
        Embedding dimension.

    Examples
    --------
    >>> km = EmbeddingKMeans(n_clusters=8).fit(attach_embeddings(speakers, emb))  # doctest: +SKIP
    >>> km.clusters_[["cohort", "speakers", "definition"]]  # doctest: +SKIP
    """

    def __init__(
        self,
        n_clusters: int = 10,
        min_speakers: int = MIN_SPEAKERS,
        minibatch_threshold: int = 20000,
        batch_size: int = 4096,
        random_state: int | None = 0,
    ):
        self.n_clusters = n_clusters
        self.min_speakers = min_speakers
        self.minibatch_threshold = minibatch_threshold
        self.batch_size = batch_size
        self.random_state = random_state

    def fit(self, speakers: pd.DataFrame, y: None = None) -> EmbeddingKMeans:
        """Cluster the speakers' normalised embeddings.

        Parameters
        ----------
        speakers : DataFrame
            ``speaker_id`` and ``embedding`` (1-D arrays, ``None`` where missing; see
            :func:`wergap.data_schemas.attach_embeddings`). Other low-cardinality
            string columns are described in the cohort definitions.
        y : None
            Ignored (scikit-learn convention).

        Returns
        -------
        EmbeddingKMeans
            ``self``, fitted.
        """
        k = check_int("n_clusters", self.n_clusters, 1)
        min_speakers = check_int("min_speakers", self.min_speakers, 1)
        threshold = check_int("minibatch_threshold", self.minibatch_threshold, 0)
        batch_size = check_int("batch_size", self.batch_size, 1)
        ids = _speaker_ids(speakers)
        vectors, usable, excluded = _unit_vectors(speakers)
        n = int(usable.sum())
        if n < k:
            raise InputError(TOO_FEW.format(n=n, k=k, excluded=excluded or "none"))

        if n > threshold:
            kmeans = MiniBatchKMeans(n_clusters=k, batch_size=batch_size, n_init=N_INIT, random_state=self.random_state)
        else:
            kmeans = KMeans(n_clusters=k, n_init=N_INIT, random_state=self.random_state)
        kmeans.fit(vectors)
        # Both clusterers label the training vectors by a last pass over the final
        # centres, the same rule predict() applies to new speakers.
        raw = kmeans.labels_

        sizes = np.bincount(raw, minlength=k)
        order = sorted(range(k), key=lambda c: (-sizes[c], c))  # largest first; ties by k-means index
        number = np.empty(k, dtype=np.int64)
        number[order] = np.arange(k)
        names = [CLUSTER_LABEL.format(number=i + 1) for i in range(k)]
        cluster_of = number[raw]

        centers = np.asarray(kmeans.cluster_centers_, dtype=np.float64)[order]
        unit_centers = normalize(centers)
        cosine = np.einsum("ij,ij->i", vectors, unit_centers.astype(np.float32)[cluster_of], dtype=np.float64)
        cohesion = np.bincount(cluster_of, weights=cosine, minlength=k) / np.maximum(sizes[order], 1)

        kept = speakers.loc[usable]
        attributes = _attributes(kept)
        definitions = {
            names[c]: _definition(int(sizes[order][c]), float(cohesion[c]), kept, attributes, cluster_of == c)
            for c in range(k)
        }
        labels = pd.Series(np.asarray(names, dtype=object)[cluster_of], index=ids[usable], dtype="str")
        partition = merge_small(
            Partition(method=METHOD, labels=labels, definitions=definitions, excluded=excluded), min_speakers
        )
        final = dict(zip(labels.to_numpy(), partition.labels.to_numpy()))
        cohort_of_cluster = [final.get(name, name) for name in names]

        self.kmeans_ = kmeans
        self.n_features_in_ = int(vectors.shape[1])
        self.kmeans_cohorts_ = np.empty(k, dtype=object)
        self.kmeans_cohorts_[order] = cohort_of_cluster
        self.cluster_centers_ = centers.astype(np.float32)
        self.partition_ = partition
        self.clusters_ = pd.DataFrame(
            {
                "cluster": pd.Series(names, dtype="str"),
                "cohort": pd.Series(cohort_of_cluster, dtype="str"),
                "speakers": sizes[order].astype(np.int64),
                "cohesion": cohesion,
                "definition": pd.Series([definitions[name] for name in names], dtype="str"),
            },
            columns=list(CLUSTER_COLUMNS),
        )
        self.pca_, self.projection_ = _projection(vectors, ids[usable], partition.labels, self.random_state)
        return self

    def predict(self, speakers: pd.DataFrame) -> pd.Series:
        """Cohort of each speaker: the nearest cluster centre.

        Parameters
        ----------
        speakers : DataFrame
            ``speaker_id`` and ``embedding``.

        Returns
        -------
        Series
            Index ``speaker_id``; ``"cluster N"``, or ``"other"`` where that cluster was
            pooled; NA for a speaker without a usable embedding.
        """
        check_is_fitted(self, "kmeans_")
        ids = _speaker_ids(speakers, check_unique=False)
        vectors, usable, _ = _unit_vectors(speakers)
        values = np.full(len(speakers), None, dtype=object)
        if usable.any():
            if vectors.shape[1] != self.n_features_in_:
                raise InputError(
                    WRONG_DIMENSION.format(found=vectors.shape[1], expected=self.n_features_in_), column="embedding"
                )
            values[usable] = self.kmeans_cohorts_[self.kmeans_.predict(vectors)]
        index = pd.Index(ids, name="speaker_id", dtype="str")
        return pd.Series(values, index=index, name="cohort", dtype="str")


def _speaker_ids(speakers: pd.DataFrame, *, check_unique: bool = True) -> np.ndarray:
    for column in ("speaker_id", "embedding"):
        if column not in speakers.columns:
            raise InputError(MISSING_COLUMN.format(column=column), column=column)
    ids = speakers["speaker_id"].astype("str").to_numpy(dtype=object)
    if check_unique:
        duplicated = pd.Index(ids).duplicated()
        if duplicated.any():
            pos = int(duplicated.argmax())
            raise InputError(DUPLICATE_SPEAKER.format(speaker=ids[pos]), row=pos, column="speaker_id")
    return ids


def _unit_vectors(speakers: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """L2-normalised float32 vectors of the usable rows, the usable mask, exclusion counts."""
    matrix, present = embedding_matrix(speakers["embedding"])
    nonzero = np.any(matrix != 0, axis=1)
    usable = present.copy()
    usable[np.flatnonzero(present)[~nonzero]] = False
    counts = {NO_EMBEDDING: int((~present).sum()), ZERO_VECTOR: int((~nonzero).sum())}
    vectors = normalize(matrix[nonzero]).astype(np.float32, copy=False)
    return vectors, usable, {reason: n for reason, n in counts.items() if n}


def _attributes(speakers: pd.DataFrame) -> list[str]:
    """Known attributes worth describing: the audit's own choice (string/categorical
    columns with 2..12 values; never a transcript, id, path or free text)."""
    return choose_attributes(speakers)[0]


def _definition(size: int, cohesion: float, speakers: pd.DataFrame, attributes: list[str], inside: np.ndarray) -> str:
    """``"412 speakers; cohesion 0.71 (mean cosine to centre); gender: female 84% (all 51%)"``."""
    parts = [f"{size} speakers", f"cohesion {cohesion:.2f} (mean cosine to centre)"]
    for column in attributes:
        values = speakers[column].astype("str")[inside].dropna()
        if values.empty:
            continue
        counts = values.value_counts()
        top = sorted(counts.index[counts == counts.max()])[0]  # ties: alphabetical
        share = counts[top] / len(values)
        overall = (speakers[column].astype("str").dropna() == top).mean()
        parts.append(f"{column}: {top} {100 * share:.0f}% (all {100 * overall:.0f}%)")
    return "; ".join(parts)


def _projection(
    vectors: np.ndarray, ids: np.ndarray, labels: pd.Series, random_state: int | None
) -> tuple[PCA, pd.DataFrame]:
    """2-D PCA of the normalised vectors (a second axis of zeros for 1-D embeddings)."""
    components = min(2, vectors.shape[1], vectors.shape[0])
    # covariance_eigh: one dim x dim eigenproblem, exact and fast when speakers >> dims.
    pca = PCA(n_components=components, svd_solver="covariance_eigh", random_state=random_state)
    plane = pca.fit_transform(vectors)
    if plane.shape[1] < 2:
        plane = np.column_stack([plane, np.zeros((len(plane), 2 - plane.shape[1]))])
    projection = pd.DataFrame(
        {
            "speaker_id": pd.Series(ids, dtype="str"),
            "x": plane[:, 0].astype(np.float64),
            "y": plane[:, 1].astype(np.float64),
            "cohort": pd.Series(labels.reindex(ids).to_numpy(dtype=object), dtype="str"),
        }
    )
    return pca, projection


#: How the rest of wergap runs and shows this method (:mod:`wergap.discovery.registry`).
SPEC = registry.MethodSpec(
    name=METHOD,
    title="Speaker-embedding k-means",
    estimator="wergap.discovery.embedding_kmeans:EmbeddingKMeans",
    needs=registry.needs_embeddings,
    build=lambda o: {
        "n_clusters": o.get("n_clusters", 10),
        "min_speakers": o.get("min_speakers", MIN_SPEAKERS),
        "random_state": o.get("seed", 0),
    },
    figures=("embedding_scatter",),
    # k-means definitions describe a cluster's make-up at length, so its bars carry the
    # cluster label the scatter plot and table also show.
    bar_label="cohort",
    description="k-means over length-normalised speaker embeddings, clusters ranked by WER (Dheram et al.).",
)
