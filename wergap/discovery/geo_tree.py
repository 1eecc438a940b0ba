"""Geographic clustering tree: rectangles of the map where the recognizer does worse.

Trinh et al. (Interspeech 2022) grow a binary tree over speakers' coordinates whose every
split is the axis-aligned cut that most separates WER. That is CART regression: fitting
scikit-learn's :class:`~sklearn.tree.DecisionTreeRegressor` to X = (lat, lon) and
y = speaker WER with ``sample_weight = ref_words`` makes each split maximise the
word-weighted between-region WER variance, and the weighted mean of a leaf is exactly its
corpus WER (Σ errors / Σ ref_words). ``max_leaf_nodes`` grows the tree best-first (the
biggest improvement anywhere is split next) up to ``max_regions`` leaves, and
``min_samples_leaf`` keeps at least ``min_speakers`` speakers — speakers, not words — in
every leaf, so no region singles out a handful of people.

A tree grown to a fixed number of leaves fits noise: its last cuts often peel off a city
of 30 speakers whose WER is high by chance, and that sliver becomes the "bottom region".
So by default the number of regions is chosen the way CART trees are (Breiman et al.,
1984): ``cv``-fold cross-validation over speakers measures how well trees of 2 to
``max_regions`` leaves predict held-out speakers' WER (word-weighted squared error), and
the fewest regions within one standard error of the best are kept (the one-SE rule). A
cut survives only if it holds up on speakers it was not fitted on. ``prune=None`` grows
to ``max_regions`` leaves as the paper does.

Leaves are axis-aligned rectangles. Their sides are the tree's thresholds; a side the tree
never cut is clipped to the bounding box of the speakers the tree was fitted on, so maps
and definitions show where speakers are rather than a strip to the pole. The tree itself
still assigns a new speaker outside that box to the region on its side of each cut
(:meth:`GeoTree.predict`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box
from sklearn.base import BaseEstimator
from sklearn.model_selection import KFold
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils.validation import check_is_fitted

from wergap.cohorts.partition import Partition, merge_small
from wergap.defaults import MIN_SPEAKERS
from wergap.discovery import registry
from wergap.discovery._params import BAD_PARAMETER, check_int  # noqa: F401  (BAD_PARAMETER: tests assert it)
from wergap.errors import InputError

METHOD = "geo_tree"
#: Cohort label of the i-th region (1-based), regions numbered north to south, then west to east.
REGION_LABEL = "region {number}"
#: Readable definition of a region (degrees, WGS84).
REGION_DEFINITION = "lat {lat_min:.2f} to {lat_max:.2f}, lon {lon_min:.2f} to {lon_max:.2f}"
#: Columns of :attr:`GeoTree.regions_`.
REGION_COLUMNS = (
    "cohort",
    "definition",
    "speakers",
    "ref_words",
    "errors",
    "wer",
    "lat_min",
    "lat_max",
    "lon_min",
    "lon_max",
    "geometry",
)

# Exclusion reasons (keys of Partition.excluded).
NO_COORDINATES = "no coordinates"
IMPOSSIBLE_COORDINATES = "impossible coordinates"
NO_REFERENCE_WORDS = "no reference words"
NO_ERROR_COUNT = "no error count"

MISSING_COLUMN = "missing required column {column!r}: GeoTree reads speaker_id, ref_words, errors, lat, lon"
NOT_NUMBER = "expected a number, got {value!r}"
DUPLICATE_SPEAKER = "duplicate speaker_id {speaker!r}: expected one row per speaker"
NO_ELIGIBLE = "no speaker has valid coordinates and reference words (excluded: {excluded})"
BAD_PRUNE = "prune must be 'cv' or None, got {value!r}"
#: Columns of :attr:`GeoTree.cv_errors_`.
CV_COLUMNS = ("regions", "error", "error_se", "chosen")

_LIMITS = {"lat": 90.0, "lon": 180.0}


class GeoTree(BaseEstimator):
    """Split the map into rectangles with different WER (Trinh et al., Interspeech 2022).

    Parameters
    ----------
    max_regions : int, default 8
        Most leaves (regions) the tree grows, best split first. At least 2.
    min_speakers : int, default 30
        Fewest speakers in a region.
    prune : {"cv", None}, default "cv"
        ``"cv"``: keep the fewest regions (2 to ``max_regions``) whose cross-validated
        error is within one standard error of the best (see the module docstring).
        ``None``: grow to ``max_regions`` regions.
    cv : int, default 5
        Folds of the cross-validation over speakers (``prune="cv"``).
    random_state : int, default 0
        Seeds the tree's tie-breaking between equally good cuts and the folds.

    Attributes
    ----------
    partition_ : Partition
        ``method="geo_tree"``: eligible speakers -> ``"region 1"``, ``"region 2"``, ...
        (numbered north to south, then west to east, by the region's centre); speakers
        without usable coordinates (NaN, |lat| > 90, |lon| > 180) or without reference
        words are counted in ``excluded`` by reason.
    regions_ : geopandas.GeoDataFrame
        One row per region, EPSG:4326: ``cohort``, ``definition``, ``speakers``,
        ``ref_words``, ``errors``, ``wer``, ``lat_min``, ``lat_max``, ``lon_min``,
        ``lon_max``, ``geometry`` (a shapely box). ``regions_.to_file(path,
        driver="GeoJSON")`` writes the map.
    tree_ : sklearn.tree.DecisionTreeRegressor
        The fitted tree (features: lat, lon; target: speaker WER; weights: ref_words).
    bounds_ : tuple of float
        ``(lat_min, lat_max, lon_min, lon_max)`` of the speakers fitted on: the box
        unsplit sides are clipped to.
    leaf_labels_ : dict of int to str
        Tree leaf node id -> cohort label.
    n_regions_ : int
        Regions (leaves) of the fitted tree: chosen by cross-validation, or
        ``max_regions``.
    cv_errors_ : DataFrame or None
        ``prune="cv"``: per tree size, ``regions``, ``error`` (mean held-out word-weighted
        squared error of speaker WER over the folds), ``error_se`` (its standard error)
        and ``chosen``. ``None`` when not pruned, or with too few speakers to cross-validate.

    Examples
    --------
    >>> tree = GeoTree(max_regions=4, min_speakers=30).fit(speakers)  # doctest: +SKIP
    >>> tree.regions_[["cohort", "definition", "wer"]]  # doctest: +SKIP
    """

    def __init__(
        self,
        max_regions: int = 8,
        min_speakers: int = MIN_SPEAKERS,
        prune: str | None = "cv",
        cv: int = 5,
        random_state: int | None = 0,
    ):
        self.max_regions = max_regions
        self.min_speakers = min_speakers
        self.prune = prune
        self.cv = cv
        self.random_state = random_state

    def fit(self, speakers: pd.DataFrame, y: None = None) -> GeoTree:
        """Grow the tree on a speaker table.

        Parameters
        ----------
        speakers : DataFrame
            ``speaker_id``, ``ref_words``, ``errors``, ``lat``, ``lon`` (the output of
            :func:`wergap.speakers`).
        y : None
            Ignored (scikit-learn convention).

        Returns
        -------
        GeoTree
            ``self``, fitted.
        """
        max_regions = check_int("max_regions", self.max_regions, 2)
        min_speakers = check_int("min_speakers", self.min_speakers, 1)
        folds = check_int("cv", self.cv, 2)
        if self.prune not in ("cv", None):
            raise InputError(BAD_PRUNE.format(value=self.prune))
        for column in ("speaker_id", "ref_words", "errors", "lat", "lon"):
            if column not in speakers.columns:
                raise InputError(MISSING_COLUMN.format(column=column), column=column)
        ids = speakers["speaker_id"].astype("str").to_numpy(dtype=object)
        duplicated = pd.Index(ids).duplicated()
        if duplicated.any():
            pos = int(duplicated.argmax())
            raise InputError(DUPLICATE_SPEAKER.format(speaker=ids[pos]), row=pos, column="speaker_id")
        lat, lon = _numbers(speakers, "lat"), _numbers(speakers, "lon")
        words, errors = _numbers(speakers, "ref_words"), _numbers(speakers, "errors")

        missing = np.isnan(lat) | np.isnan(lon)
        impossible = ~missing & ((np.abs(lat) > _LIMITS["lat"]) | (np.abs(lon) > _LIMITS["lon"]))
        located = ~missing & ~impossible
        no_words = located & (np.isnan(words) | (words <= 0))
        no_errors = located & ~no_words & np.isnan(errors)
        eligible = located & ~no_words & ~no_errors
        counts = {
            NO_COORDINATES: int(missing.sum()),
            IMPOSSIBLE_COORDINATES: int(impossible.sum()),
            NO_REFERENCE_WORDS: int(no_words.sum()),
            NO_ERROR_COUNT: int(no_errors.sum()),
        }
        excluded = {reason: n for reason, n in counts.items() if n}
        if not eligible.any():
            raise InputError(NO_ELIGIBLE.format(excluded=excluded or "none"))

        X = np.column_stack([lat[eligible], lon[eligible]])
        w, e = words[eligible], errors[eligible]
        self.cv_errors_ = None
        regions = max_regions
        if self.prune == "cv":
            self.cv_errors_ = _cv_errors(X, e / w, w, max_regions, min_speakers, folds, self.random_state)
            if self.cv_errors_ is not None:
                regions = int(self.cv_errors_.loc[self.cv_errors_["chosen"], "regions"].iloc[0])
        tree = _tree(regions, min_speakers, self.random_state).fit(X, e / w, sample_weight=w)
        self.tree_ = tree
        self.n_regions_ = int(tree.get_n_leaves())
        self.bounds_ = (float(X[:, 0].min()), float(X[:, 0].max()), float(X[:, 1].min()), float(X[:, 1].max()))

        boxes = _leaf_boxes(tree, self.bounds_)
        leaves = sorted(boxes, key=lambda leaf: (-_centre(boxes[leaf])[0], _centre(boxes[leaf])[1], leaf))
        raw_labels = {leaf: REGION_LABEL.format(number=i + 1) for i, leaf in enumerate(leaves)}
        definitions = {raw_labels[leaf]: _definition(boxes[leaf]) for leaf in leaves}

        leaf_of = tree.apply(X.astype(np.float32))
        labels = pd.Series([raw_labels[leaf] for leaf in leaf_of], index=ids[eligible], dtype="str")
        raw = Partition(method=METHOD, labels=labels, definitions=definitions, excluded=excluded)
        self.partition_ = merge_small(raw, min_speakers)
        final = dict(zip(raw.labels.to_numpy(), self.partition_.labels.to_numpy()))
        self.leaf_labels_ = {leaf: final.get(raw_labels[leaf], raw_labels[leaf]) for leaf in leaves}

        sums = (
            pd.DataFrame({"leaf": leaf_of, "speakers": 1, "ref_words": w, "errors": e})
            .groupby("leaf")
            .sum()
            .reindex(leaves, fill_value=0)
        )
        rows = []
        for leaf in leaves:
            lat_min, lat_max, lon_min, lon_max = boxes[leaf]
            words_in = float(sums.at[leaf, "ref_words"])
            rows.append(
                {
                    "cohort": self.leaf_labels_[leaf],
                    "definition": definitions[raw_labels[leaf]],
                    "speakers": int(sums.at[leaf, "speakers"]),
                    "ref_words": int(round(words_in)),
                    "errors": int(round(float(sums.at[leaf, "errors"]))),
                    "wer": float(sums.at[leaf, "errors"]) / words_in if words_in else np.nan,
                    "lat_min": lat_min,
                    "lat_max": lat_max,
                    "lon_min": lon_min,
                    "lon_max": lon_max,
                    "geometry": box(lon_min, lat_min, lon_max, lat_max),
                }
            )
        regions = gpd.GeoDataFrame(rows, columns=list(REGION_COLUMNS), geometry="geometry", crs="EPSG:4326")
        regions["cohort"] = regions["cohort"].astype("str")
        regions["definition"] = regions["definition"].astype("str")
        self.regions_ = regions
        return self

    def predict(self, speakers: pd.DataFrame) -> pd.Series:
        """Region of each speaker, by the fitted tree's cuts.

        Parameters
        ----------
        speakers : DataFrame
            ``speaker_id``, ``lat``, ``lon``.

        Returns
        -------
        Series
            Index ``speaker_id``; the cohort label (``"region 3"``, or ``"other"`` where
            small regions were pooled), NA where the coordinates are missing or
            impossible. Speakers outside :attr:`bounds_` get the region on their side of
            every cut.
        """
        check_is_fitted(self, "tree_")
        for column in ("speaker_id", "lat", "lon"):
            if column not in speakers.columns:
                raise InputError(MISSING_COLUMN.format(column=column), column=column)
        lat, lon = _numbers(speakers, "lat"), _numbers(speakers, "lon")
        valid = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= _LIMITS["lat"]) & (np.abs(lon) <= _LIMITS["lon"])
        values = np.full(len(speakers), None, dtype=object)
        if valid.any():
            X = np.column_stack([lat[valid], lon[valid]]).astype(np.float32)
            leaves = self.tree_.apply(X)
            values[valid] = [self.leaf_labels_[leaf] for leaf in leaves]
        index = pd.Index(speakers["speaker_id"].astype("str").to_numpy(dtype=object), name="speaker_id", dtype="str")
        return pd.Series(values, index=index, name="cohort", dtype="str")


def _tree(regions: int, min_speakers: int, random_state: int | None) -> DecisionTreeRegressor:
    return DecisionTreeRegressor(max_leaf_nodes=regions, min_samples_leaf=min_speakers, random_state=random_state)


def _cv_errors(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    max_regions: int,
    min_speakers: int,
    folds: int,
    random_state: int | None,
) -> pd.DataFrame | None:
    """Held-out error of trees of 2..max_regions leaves, and the one-SE choice among them.

    Each fold's error is the word-weighted mean squared difference between its speakers'
    WER and their region's WER in a tree fitted on the other folds. ``None`` when the
    training folds are too small for two regions of ``min_speakers``.
    """
    if len(y) * (folds - 1) // folds < 2 * min_speakers:
        return None
    splits = KFold(folds, shuffle=True, random_state=random_state).split(X)
    sizes = np.arange(2, max_regions + 1)
    errors = np.empty((folds, len(sizes)))
    for f, (train, test) in enumerate(splits):
        tree = _tree(max_regions, min_speakers, random_state).fit(X[train], y[train], sample_weight=w[train])
        residual = y[test][None, :] - prefix_predictions(tree, X[test], sizes)
        errors[f] = (residual**2 @ w[test]) / np.sum(w[test])
    mean = errors.mean(axis=0)
    se = errors.std(axis=0, ddof=1) / np.sqrt(folds)
    best = int(np.argmin(mean))
    chosen = int(np.flatnonzero(mean <= mean[best] + se[best])[0])
    table = pd.DataFrame({"regions": sizes, "error": mean, "error_se": se, "chosen": np.arange(len(sizes)) == chosen})
    return table[list(CV_COLUMNS)]


def prefix_predictions(tree: DecisionTreeRegressor, X: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Predictions of the trees of ``sizes`` leaves that a best-first tree grew on its way.

    Grown best-first, the tree with L leaves is the first L - 1 splits of a larger one,
    and scikit-learn numbers nodes as it creates them, so that tree's nodes are ids
    0 .. 2L - 2 and a speaker's leaf in it is the deepest node on its path with such an
    id; ``tree_.value`` holds every node's (weighted) mean. One fit per fold thus gives
    every size (``tests/discovery/test_geo_tree.py`` checks this against refitting).
    Returns an array of shape (len(sizes), len(X)).
    """
    path = tree.decision_path(X).toarray().astype(bool)
    nodes = tree.tree_.node_count
    means = tree.tree_.value[:, 0, 0]
    out = np.empty((len(sizes), len(X)))
    for j, leaves in enumerate(sizes):
        k = min(2 * int(leaves) - 1, nodes)
        out[j] = means[np.where(path[:, :k], np.arange(k), -1).max(axis=1)]
    return out


def _numbers(speakers: pd.DataFrame, column: str) -> np.ndarray:
    """A column as float64 (NaN where missing); InputError naming the first non-number."""
    values = speakers[column]
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    converted = pd.to_numeric(values, errors="coerce")
    bad = (converted.isna() & values.notna()).to_numpy()
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise InputError(NOT_NUMBER.format(value=values.iloc[pos]), row=pos, column=column)
    return converted.to_numpy(dtype=np.float64, na_value=np.nan)


def _leaf_boxes(
    tree: DecisionTreeRegressor, bounds: tuple[float, float, float, float]
) -> dict[int, tuple[float, float, float, float]]:
    """Leaf node id -> (lat_min, lat_max, lon_min, lon_max), walking down from ``bounds``.

    A node's left child holds ``x[feature] <= threshold``, its right child the rest.
    """
    structure = tree.tree_
    boxes: dict[int, tuple[float, float, float, float]] = {}
    stack = [(0, list(bounds))]
    while stack:
        node, limits = stack.pop()
        left, right = structure.children_left[node], structure.children_right[node]
        if left == right:  # a leaf (both -1)
            lat_min, lat_max, lon_min, lon_max = limits
            boxes[int(node)] = (lat_min, lat_max, lon_min, lon_max)
            continue
        feature, threshold = int(structure.feature[node]), float(structure.threshold[node])
        low, high = 2 * feature, 2 * feature + 1  # lat -> (0, 1), lon -> (2, 3)
        left_limits, right_limits = list(limits), list(limits)
        left_limits[high] = min(limits[high], threshold)
        right_limits[low] = max(limits[low], threshold)
        stack.append((int(left), left_limits))
        stack.append((int(right), right_limits))
    return boxes


def _centre(limits: tuple[float, float, float, float]) -> tuple[float, float]:
    lat_min, lat_max, lon_min, lon_max = limits
    return round((lat_min + lat_max) / 2, 6), round((lon_min + lon_max) / 2, 6)


def _definition(limits: tuple[float, float, float, float]) -> str:
    lat_min, lat_max, lon_min, lon_max = limits
    return REGION_DEFINITION.format(lat_min=lat_min, lat_max=lat_max, lon_min=lon_min, lon_max=lon_max)


#: How the rest of wergap runs and shows this method (:mod:`wergap.discovery.registry`).
SPEC = registry.MethodSpec(
    name=METHOD,
    title="Geographic clustering tree",
    estimator="wergap.discovery.geo_tree:GeoTree",
    needs=registry.needs_coordinates,
    build=lambda o: {
        "max_regions": o.get("max_regions", 8),
        "min_speakers": o.get("min_speakers", MIN_SPEAKERS),
        "prune": o.get("geo_prune", "cv"),
        "random_state": o.get("seed", 0),
    },
    figures=("region_map",),
    geometry="regions_",
    geojson="regions.geojson",
    description="Axis-aligned cuts of latitude/longitude, each maximising the WER difference between regions (Trinh et al.).",
)
