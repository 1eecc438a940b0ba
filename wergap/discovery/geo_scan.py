"""Geographic hot spots: circles of the map where the recognizer does worse, with a p-value.

A clustering tree cuts the map along lines of latitude and longitude, and a compact city
needs four such cuts before it stands alone; the cross-validated tree rarely keeps them.
The spatial scan statistic (Kulldorff, "A spatial scan statistic", Communications in
Statistics — Theory and Methods 26(6), 1997) looks for the area directly: every circle
around a candidate centre, from the smallest holding ``min_speakers`` speakers up to one
holding ``max_share`` of them, is scored by the Poisson log-likelihood ratio of its errors
against its reference words (errors ~ Poisson(rate × ref_words), one rate inside and one
outside against one rate everywhere). Only circles whose WER is above the rest score. The
circle with the largest ratio is the most likely hot spot.

Its significance must account for the search over thousands of circles, so the p-value is
the rank of the observed largest ratio among the largest ratios of replicated data sets
(Monte Carlo hypothesis testing, Dwass 1957; Kulldorff 1997). Kulldorff replicates by
drawing errors from the Poisson null; speakers' error rates are overdispersed (speakers
differ far more than word-level counting noise allows), so that null is anti-conservative
and would call noise significant. Instead each replicate permutes the speakers' (errors,
ref_words) pairs over the speakers' locations: the locations, and how many speakers each
holds, stay fixed; the speaker-to-speaker variation is kept whole. p = (1 + replicates at
least as extreme) / (1 + replicates).

Secondary areas are the next best circles (each centre's best) that do not overlap a
circle already listed, each with its p-value against the same replicate maxima
(conservative for them, as in SaTScan).

Speed: speakers at identical coordinates (a ZIP centroid) are one location; past
``max_locations`` distinct locations they are aggregated into cells of a quadtree over
(lat, lon) that splits a cell while it holds more than its share of speakers, so cells
are small where speakers are dense. Centres are the locations; each centre's nested
circles are running sums over its neighbours sorted by distance (compiled with numba,
replicates spread over threads). With aggregation the search runs on cell centroids; the
circle then found is applied to each speaker's own coordinates (``partition_`` and
:meth:`GeoScan.predict` agree), so counts in :attr:`GeoScan.areas_` are exact; its radius
is widened where needed so that it still holds ``min_speakers`` speakers.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Polygon
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from wergap.cohorts.partition import Partition
from wergap.defaults import MIN_SPEAKERS
from wergap.discovery import registry
from wergap.discovery._params import check_int
from wergap.discovery.geo_tree import (
    _LIMITS,
    IMPOSSIBLE_COORDINATES,
    NO_COORDINATES,
    NO_ERROR_COUNT,
    NO_REFERENCE_WORDS,
    _numbers,
)
from wergap.errors import InputError

METHOD = "geo_scan"
#: Cohort label of the i-th area (1-based, by likelihood ratio, most likely first).
AREA_LABEL = "area {number}"
#: Cohort label of the speakers outside the most likely area.
OUTSIDE_LABEL = "outside area 1"
#: Label of every speaker when no circle has a WER above the rest.
NO_AREA_LABEL = "all speakers"
#: Readable definition of an area (km on the ground, degrees WGS84).
AREA_DEFINITION = "within {radius:.0f} km of {lat:.2f}, {lon:.2f} (scan p = {p:.3g})"
OUTSIDE_DEFINITION = "everyone farther than {radius:.0f} km from {lat:.2f}, {lon:.2f}"
NO_AREA_DEFINITION = "no circle has a WER above the rest of the map"
#: :attr:`GeoScan.note_`, the plain statement of what the scan found.
NOTE_SIGNIFICANT = "hot spot significant: p = {p:.3g} after the search over all circles ({more})"
NOTE_NOT_SIGNIFICANT = (
    "no significant hot spot: the most likely area (p = {p:.3g}) is within what chance gives somewhere on the map"
)
NOTE_NO_AREA = "no area has a WER above the rest of the map"
NOTE_NO_TEST = "p-value not computed (n_replicates = 0)"
#: Columns of :attr:`GeoScan.areas_`.
AREA_COLUMNS = (
    "cohort",
    "definition",
    "centre_lat",
    "centre_lon",
    "radius_km",
    "speakers",
    "ref_words",
    "errors",
    "wer",
    "wer_outside",
    "llr",
    "p_value",
    "significant",
    "geometry",
)

MISSING_COLUMN = "missing required column {column!r}: GeoScan reads speaker_id, ref_words, errors, lat, lon"
DUPLICATE_SPEAKER = "duplicate speaker_id {speaker!r}: expected one row per speaker"
NO_ELIGIBLE = "no speaker has valid coordinates and reference words (excluded: {excluded})"
TOO_FEW = (
    "a circle may hold at most max_share = {share:g} of {n} speakers ({largest}), fewer than "
    "min_speakers = {min_speakers}: need more speakers or a larger max_share"
)
BAD_SHARE = "max_share must be a number in (0, 0.5], got {value!r}"
BAD_ALPHA = "alpha must be a number in (0, 1), got {value!r}"

#: Mean Earth radius (km, IUGG).
EARTH_KM = 6371.0088
#: Points of a drawn circle.
CIRCLE_POINTS = 72
#: Quadtree depth limit: cells of 360 / 2**14 degrees (about 2.4 km) are not split further.
MAX_DEPTH = 14


class GeoScan(BaseEstimator):
    """Find circular areas whose WER is higher than the rest (Kulldorff's spatial scan).

    Parameters
    ----------
    max_share : float, default 0.1
        Largest share of the speakers a circle may hold (at most 0.5: the area must be
        the smaller side).
    min_speakers : int, default 30
        Fewest speakers in a circle.
    n_replicates : int, default 999
        Permutation replicates for the p-value (0: no p-value, NaN).
    alpha : float, default 0.05
        An area is significant when its p-value is at most ``alpha``.
    max_areas : int, default 5
        Most non-overlapping areas listed in :attr:`areas_` (the first always; the others
        only when significant).
    max_locations : int, default 1000
        Past this many distinct coordinates speakers are aggregated into quadtree cells
        (centres and circle members are then the cells' centroids).
    random_state : int, default 0
        Seeds the permutation replicates.
    n_jobs : int, optional
        Threads for the replicates (default: one per core).

    Attributes
    ----------
    partition_ : Partition
        Binary (``method="geo_scan"``): ``"area 1"`` (the most likely area) against
        ``"outside area 1"``; speakers without usable coordinates or reference words are
        counted in ``excluded`` by reason. When no circle has a WER above the rest, every
        speaker is ``"all speakers"`` (no bottom cohort).
    areas_ : geopandas.GeoDataFrame
        EPSG:4326, columns :data:`AREA_COLUMNS`: the most likely area, then secondary
        significant areas that overlap no earlier one. ``wer`` inside, ``wer_outside``,
        ``llr`` (log-likelihood ratio), ``p_value`` (search-corrected), ``significant``,
        ``geometry`` (the circle as a polygon).
    p_value_ : float
        p-value of the most likely area (NaN with ``n_replicates=0``).
    significant_ : bool
        Whether ``p_value_ <= alpha``.
    llr_ : float
        Largest log-likelihood ratio found (0 when no circle has a WER above the rest).
    replicate_llr_ : ndarray
        Largest ratio of each replicate (the null distribution the p-values rank against).
    n_locations_ : int
        Locations (distinct coordinates or cells) the search ran on.
    centre_ : tuple of float
        ``(lat, lon)`` of the most likely area; ``radius_km_`` its radius.
    note_ : str
        One plain sentence: significant or not, and how many further areas.

    Examples
    --------
    >>> scan = GeoScan(max_share=0.1).fit(speakers)  # doctest: +SKIP
    >>> scan.areas_[["cohort", "definition", "wer", "wer_outside", "p_value"]]  # doctest: +SKIP
    """

    def __init__(
        self,
        max_share: float = 0.1,
        min_speakers: int = MIN_SPEAKERS,
        n_replicates: int = 999,
        alpha: float = 0.05,
        max_areas: int = 5,
        max_locations: int = 1000,
        random_state: int | None = 0,
        n_jobs: int | None = None,
    ):
        self.max_share = max_share
        self.min_speakers = min_speakers
        self.n_replicates = n_replicates
        self.alpha = alpha
        self.max_areas = max_areas
        self.max_locations = max_locations
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, speakers: pd.DataFrame, y: None = None) -> GeoScan:
        """Scan the map of a speaker table for high-WER circles.

        Parameters
        ----------
        speakers : DataFrame
            ``speaker_id``, ``ref_words``, ``errors``, ``lat``, ``lon`` (the output of
            :func:`wergap.speakers`).
        y : None
            Ignored (scikit-learn convention).

        Returns
        -------
        GeoScan
            ``self``, fitted.
        """
        min_speakers = check_int("min_speakers", self.min_speakers, 1)
        replicates = check_int("n_replicates", self.n_replicates, 0)
        max_areas = check_int("max_areas", self.max_areas, 1)
        max_locations = check_int("max_locations", self.max_locations, 2)
        share = _fraction(self.max_share, BAD_SHARE, high=0.5, closed=True)
        alpha = _fraction(self.alpha, BAD_ALPHA, high=1.0, closed=False)
        ids, lat, lon, words, errors, excluded = _eligible(speakers)
        n = len(ids)
        largest = int(np.floor(share * n))
        if largest < min_speakers:
            raise InputError(TOO_FEW.format(share=share, n=n, largest=largest, min_speakers=min_speakers))

        loc_of, loc_lat, loc_lon = _locations(lat, lon, max_locations)
        k = len(loc_lat)
        self.n_locations_ = k
        loc_n = np.bincount(loc_of, minlength=k).astype(np.int64)
        loc_e = np.bincount(loc_of, weights=errors, minlength=k)
        loc_w = np.bincount(loc_of, weights=words, minlength=k)
        ptr, idx, dist = _neighbours(loc_lat, loc_lon, loc_n, largest)
        total_c, total_w = float(errors.sum()), float(words.sum())

        from wergap.discovery._scan_kernels import kernels

        kern = kernels()
        best, length = kern.best_per_centre(loc_e, loc_w, loc_n, ptr, idx, total_c, total_w, min_speakers)
        self.llr_ = float(best.max()) if k else 0.0
        order = np.argsort(loc_of, kind="stable")
        starts = np.concatenate([[0], np.cumsum(loc_n)]).astype(np.int64)
        self.replicate_llr_ = _replicates(
            kern,
            errors[order],
            words[order],
            starts,
            loc_n,
            ptr,
            idx,
            total_c,
            total_w,
            min_speakers,
            replicates,
            self.random_state,
            self.n_jobs,
        )

        # Candidate circles: each centre's best, most likely first; keep those that overlap
        # no circle kept before (the first always; the others when significant).
        circles: list[tuple[float, float, float, float, float]] = []  # lat, lon, radius km, LLR, p
        for centre in np.lexsort((np.arange(k), -best)):
            if best[centre] <= 0 or len(circles) >= max_areas:
                break
            radius = float(dist[ptr[centre] + length[centre] - 1])
            p = _p_value(best[centre], self.replicate_llr_)
            if circles and not p <= alpha:
                break
            c_lat, c_lon = float(loc_lat[centre]), float(loc_lon[centre])
            if any(_haversine(c_lat, c_lon, o[0], o[1]) <= radius + o[2] for o in circles):
                continue
            if k < n:  # cells stand for their speakers: the circle on speakers' own coordinates keeps min_speakers
                nearest = np.partition(_haversine(c_lat, c_lon, lat, lon), min_speakers - 1)[min_speakers - 1]
                radius = max(radius, float(nearest))
            circles.append((c_lat, c_lon, radius, float(best[centre]), p))

        self.p_value_ = circles[0][4] if circles else float("nan") if not replicates else 1.0
        self.significant_ = bool(self.p_value_ <= alpha)
        self.areas_ = _areas(circles, lat, lon, words, errors, alpha)
        index = pd.Index(ids, dtype="str")
        if not circles:
            self.note_ = NOTE_NO_AREA
        elif not replicates:
            self.note_ = NOTE_NO_TEST
        elif self.significant_:
            more = len(circles) - 1
            self.note_ = NOTE_SIGNIFICANT.format(
                p=self.p_value_, more=f"{more} more significant area{'s' if more > 1 else ''}" if more else "no other"
            )
        else:
            self.note_ = NOTE_NOT_SIGNIFICANT.format(p=self.p_value_)
        if not circles:
            self.centre_, self.radius_km_ = (float("nan"), float("nan")), float("nan")
            labels = pd.Series(NO_AREA_LABEL, index=index, dtype="str")
            self.partition_ = Partition(METHOD, labels, {NO_AREA_LABEL: NO_AREA_DEFINITION}, excluded=excluded)
            return self
        c_lat, c_lon, radius = circles[0][:3]
        self.centre_, self.radius_km_ = (c_lat, c_lon), radius
        inside = _haversine(c_lat, c_lon, lat, lon) <= radius
        labels = pd.Series(np.where(inside, AREA_LABEL.format(number=1), OUTSIDE_LABEL), index=index, dtype="str")
        definitions = {
            AREA_LABEL.format(number=1): str(self.areas_["definition"].iloc[0]),
            OUTSIDE_LABEL: OUTSIDE_DEFINITION.format(radius=radius, lat=c_lat, lon=c_lon),
        }
        self.partition_ = Partition(METHOD, labels, definitions, excluded=excluded, binary=True)
        return self

    def predict(self, speakers: pd.DataFrame) -> pd.Series:
        """Whether each speaker lies in the most likely area.

        Parameters
        ----------
        speakers : DataFrame
            ``speaker_id``, ``lat``, ``lon``.

        Returns
        -------
        Series
            Index ``speaker_id``: ``"area 1"`` within the fitted circle, ``"outside area 1"``
            beyond it (``"all speakers"`` when no area was found), NA where the
            coordinates are missing or impossible.
        """
        check_is_fitted(self, "partition_")
        for column in ("speaker_id", "lat", "lon"):
            if column not in speakers.columns:
                raise InputError(MISSING_COLUMN.format(column=column), column=column)
        lat, lon = _numbers(speakers, "lat"), _numbers(speakers, "lon")
        valid = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= _LIMITS["lat"]) & (np.abs(lon) <= _LIMITS["lon"])
        values = np.full(len(speakers), None, dtype=object)
        if np.isnan(self.radius_km_):
            values[valid] = NO_AREA_LABEL
        else:
            inside = _haversine(self.centre_[0], self.centre_[1], lat[valid], lon[valid]) <= self.radius_km_
            values[valid] = np.where(inside, AREA_LABEL.format(number=1), OUTSIDE_LABEL)
        index = pd.Index(speakers["speaker_id"].astype("str").to_numpy(dtype=object), name="speaker_id", dtype="str")
        return pd.Series(values, index=index, name="cohort", dtype="str")


def _fraction(value: object, message: str, *, high: float, closed: bool) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(message.format(value=value)) from None
    if isinstance(value, bool) or not (0.0 < number < high or (closed and number == high)):
        raise InputError(message.format(value=value))
    return number


def _eligible(
    speakers: pd.DataFrame,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    """Eligible speakers' ids, lat, lon, words, errors, and the excluded counts by reason."""
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
    return ids[eligible], lat[eligible], lon[eligible], words[eligible], errors[eligible], excluded


def _locations(lat: np.ndarray, lon: np.ndarray, max_locations: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Location of each speaker (codes 0..k-1) and the locations' (lat, lon).

    Distinct coordinates when there are at most ``max_locations``; otherwise cells of a
    quadtree over (lat, lon): a cell is split in four while it holds more than ``cap``
    speakers, ``cap`` raised until at most ``max_locations`` cells are occupied. A cell's
    coordinates are its speakers' mean.
    """
    distinct, codes = np.unique(np.column_stack([lat, lon]), axis=0, return_inverse=True)
    codes = codes.ravel()
    if len(distinct) <= max_locations:
        return codes.astype(np.int64), distinct[:, 0].copy(), distinct[:, 1].copy()
    counts = np.bincount(codes)
    cap = max(1, len(lat) // max_locations)
    while True:
        cells = _quadtree(distinct[:, 0], distinct[:, 1], counts, cap)
        _, cell_of = np.unique(cells, return_inverse=True)
        if cell_of.max() + 1 <= max_locations:
            break
        cap = int(np.ceil(cap * 1.25))
    loc_of = cell_of.ravel()[codes].astype(np.int64)
    n = np.bincount(loc_of)
    return loc_of, np.bincount(loc_of, weights=lat) / n, np.bincount(loc_of, weights=lon) / n


def _quadtree(lat: np.ndarray, lon: np.ndarray, counts: np.ndarray, cap: int) -> np.ndarray:
    """A cell key per point: the first quadtree level whose cell holds at most ``cap``."""
    keys = np.full(len(lat), -1, dtype=np.int64)
    x = np.clip((lon + 180.0) / 360.0, 0.0, 1.0 - 1e-12)
    y = np.clip((lat + 90.0) / 360.0, 0.0, 1.0 - 1e-12)  # square cells in degrees
    for depth in range(MAX_DEPTH + 1):
        side = 1 << depth
        key = (np.int64(depth) << 40) | ((y * side).astype(np.int64) << 20) | (x * side).astype(np.int64)
        open_ = keys < 0
        if depth == MAX_DEPTH:
            keys[open_] = key[open_]
            break
        cell, inverse = np.unique(key[open_], return_inverse=True)
        fits = np.bincount(inverse.ravel(), weights=counts[open_], minlength=len(cell)) <= cap
        done = np.flatnonzero(open_)[fits[inverse.ravel()]]
        keys[done] = key[done]
        if (keys >= 0).all():
            break
    return keys


def _haversine(
    lat1: float | np.ndarray, lon1: float | np.ndarray, lat2: float | np.ndarray, lon2: float | np.ndarray
) -> np.ndarray:
    """Great-circle distance in km."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(np.subtract(lon2, lon1)) / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _neighbours(
    lat: np.ndarray, lon: np.ndarray, n: np.ndarray, largest: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per location, the locations nearest first while the circle holds at most ``largest`` speakers.

    CSR arrays: centre ``c``'s neighbours are ``idx[ptr[c]:ptr[c + 1]]`` at distances
    ``dist[...]`` (itself first). Ties in distance are broken by location order.
    """
    k = len(lat)
    ptr = np.zeros(k + 1, dtype=np.int64)
    idx_parts, dist_parts = [], []
    block = max(1, 2_000_000 // max(k, 1))
    for start in range(0, k, block):
        stop = min(k, start + block)
        d = _haversine(lat[start:stop, None], lon[start:stop, None], lat[None, :], lon[None, :])
        order = np.argsort(d, axis=1, kind="stable")
        inside = np.cumsum(n[order], axis=1) <= largest
        lengths = inside.sum(axis=1)
        for row in range(stop - start):
            m = lengths[row]
            idx_parts.append(order[row, :m])
            dist_parts.append(d[row, order[row, :m]])
            ptr[start + row + 1] = m
    ptr = np.cumsum(ptr)
    idx = np.concatenate(idx_parts).astype(np.int64) if idx_parts else np.zeros(0, np.int64)
    dist = np.concatenate(dist_parts) if dist_parts else np.zeros(0)
    return ptr, idx, dist


def _replicates(
    kern: SimpleNamespace,
    errors: np.ndarray,
    words: np.ndarray,
    starts: np.ndarray,
    loc_n: np.ndarray,
    ptr: np.ndarray,
    idx: np.ndarray,
    total_c: float,
    total_w: float,
    min_n: int,
    replicates: int,
    random_state: int | None,
    n_jobs: int | None,
) -> np.ndarray:
    """Largest LLR of ``replicates`` permutations, spread over threads (same values for any thread count)."""
    if replicates == 0:
        return np.zeros(0)
    seeds = np.random.default_rng(random_state).integers(1, 2**63, size=replicates, dtype=np.int64).astype(np.uint64)
    jobs = max(1, min(int(n_jobs or os.cpu_count() or 1), replicates))
    chunks = np.array_split(seeds, jobs)

    def run(chunk: np.ndarray) -> np.ndarray:
        return kern.replicate_maxima(errors, words, starts, loc_n, ptr, idx, total_c, total_w, min_n, chunk)

    if jobs == 1:
        return run(seeds)
    with ThreadPoolExecutor(jobs) as pool:
        return np.concatenate(list(pool.map(run, chunks)))


def _p_value(llr: float, replicate_llr: np.ndarray) -> float:
    """Monte Carlo rank p-value: (1 + replicates at least as large) / (1 + replicates)."""
    if len(replicate_llr) == 0:
        return float("nan")
    return float((1 + np.sum(replicate_llr >= llr * (1 - 1e-12))) / (1 + len(replicate_llr)))


def _areas(
    circles: list[tuple[float, float, float, float, float]],
    lat: np.ndarray,
    lon: np.ndarray,
    words: np.ndarray,
    errors: np.ndarray,
    alpha: float,
) -> gpd.GeoDataFrame:
    rows = []
    total_w, total_e = words.sum(), errors.sum()
    for number, (c_lat, c_lon, radius, llr, p) in enumerate(circles, 1):
        inside = _haversine(c_lat, c_lon, lat, lon) <= radius
        w_in, e_in = words[inside].sum(), errors[inside].sum()
        rows.append(
            {
                "cohort": AREA_LABEL.format(number=number),
                "definition": AREA_DEFINITION.format(radius=radius, lat=c_lat, lon=c_lon, p=p),
                "centre_lat": c_lat,
                "centre_lon": c_lon,
                "radius_km": radius,
                "speakers": int(inside.sum()),
                "ref_words": int(np.rint(w_in)),
                "errors": int(np.rint(e_in)),
                "wer": e_in / w_in if w_in else np.nan,
                "wer_outside": (total_e - e_in) / (total_w - w_in) if total_w > w_in else np.nan,
                "llr": llr,
                "p_value": p,
                "significant": bool(p <= alpha),
                "geometry": circle_polygon(c_lat, c_lon, radius),
            }
        )
    areas = gpd.GeoDataFrame(rows, columns=list(AREA_COLUMNS), geometry="geometry", crs="EPSG:4326")
    areas["cohort"] = areas["cohort"].astype("str")
    areas["definition"] = areas["definition"].astype("str")
    areas["significant"] = areas["significant"].astype(bool)
    return areas


def circle_polygon(lat: float, lon: float, radius_km: float, points: int = CIRCLE_POINTS) -> Polygon:
    """The circle of ``radius_km`` around (lat, lon) on the sphere, as a lon/lat polygon."""
    bearing = np.linspace(0.0, 2 * np.pi, points, endpoint=False)
    phi, lam, delta = np.radians(lat), np.radians(lon), max(radius_km, 0.5) / EARTH_KM
    phi2 = np.arcsin(np.sin(phi) * np.cos(delta) + np.cos(phi) * np.sin(delta) * np.cos(bearing))
    lam2 = lam + np.arctan2(np.sin(bearing) * np.sin(delta) * np.cos(phi), np.cos(delta) - np.sin(phi) * np.sin(phi2))
    return Polygon(np.column_stack([np.degrees(lam2), np.degrees(phi2)]))


SPEC = registry.MethodSpec(
    name=METHOD,
    title="Geographic hot spots (spatial scan)",
    estimator="wergap.discovery.geo_scan:GeoScan",
    needs=registry.needs_coordinates,
    build=lambda o: {
        "max_share": o.get("scan_max_share", 0.1),
        "min_speakers": o.get("min_speakers", MIN_SPEAKERS),
        "n_replicates": o.get("scan_replicates", 999),
        "random_state": o.get("seed", 0),
    },
    # the held-out gap needs the most likely area only, not its p-value
    held_out_params={"n_replicates": 0},
    figures=("scan_map",),
    bar_label="definition",
    geometry="areas_",
    geojson="hot_spots.geojson",
    description=(
        "Circles around speakers' locations holding up to a tenth of the speakers, the one whose WER "
        "stands out most (Kulldorff's scan statistic) with a p-value that accounts for the search "
        "over every circle (permutations of speakers)."
    ),
)
