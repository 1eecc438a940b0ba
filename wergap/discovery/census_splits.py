"""Zip-code census splits (Dheram et al., Interspeech 2022).

Each speaker is placed in the ZCTA of their ZIP code, and each ZCTA is described by a
census table (:func:`wergap.data_schemas.read_census`). Every census attribute then gives
binary splits of the speakers:

* every share column (0–1): the majority split "share > 50 %" — "majority Black" (ZCTAs
  where Black residents are more than half) vs the rest;
* a group of shares that partition a population (race/ethnicity, ...): the ZCTA's
  largest group (a plurality, which need not exceed 50 %) — "plurality X" vs the rest;
* every numeric column (median income, median age, a share): the exact best threshold
  over all cut points between the speakers' ZCTAs' values (a word-weighted stump, as CART
  searches: the cut that most reduces the word-weighted squared error of speaker WER,
  with ``min_speakers`` on each side), and for columns outside a group also readable
  quantile cuts — "median household income ≤ $52,100" vs "> $52,100";
* a text column (OEPS ``rurality``): one split per value, "rurality = Rural" vs the rest.

Each split needs ``min_speakers`` on both sides. Its gap is the WER gap (DESIGN.md: worse
side against the other); the splits are ranked by the evidence for that gap, ``z`` = the
difference of the two sides' WER over its standard error (speakers as the unit), largest
first. Ranking by the raw gap instead picks, among hundreds of candidates, a side of
barely ``min_speakers`` speakers whose WER is high by chance: with heavy-tailed words per
speaker, a few talkative speakers with many errors make a small side's gap huge. The chosen split (``partition_``) is the best
ranked one whose worse side holds at most ``max_bottom_share`` of the speakers: a bottom
cohort is a target for mitigation, not the huge complement of a small group that did
well by chance. The held-out gap refits the whole search on each half, so the size of the
search is paid for in the headline number. All candidate splits are scored at once on
per-ZCTA totals, never per speaker: speakers are summed to ZCTAs first (speakers, errors,
reference words), each candidate is a boolean mask over ZCTAs, and the totals of every
candidate are one matrix product.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from wergap.cohorts.partition import Partition
from wergap.data_schemas.census import is_percent_name, read_census
from wergap.data_schemas.zips import normalize_zip
from wergap.defaults import MAX_BOTTOM_SHARE, MIN_SPEAKERS
from wergap.discovery import registry
from wergap.errors import InputError

__all__ = ["SPLIT_COLUMNS", "CensusSplits"]

#: Columns of :attr:`CensusSplits.splits_`, in order.
SPLIT_COLUMNS = [
    "attribute",
    "value",
    "definition",
    "definition_out",
    "kind",
    "column",
    "threshold",
    "cohort_in",
    "cohort_out",
    "speakers_in",
    "speakers_out",
    "ref_words_in",
    "ref_words_out",
    "errors_in",
    "errors_out",
    "wer_in",
    "wer_out",
    "gap_pct",
    "worse",
    "worse_share_pct",
    "z",
]

#: Reasons a speaker is not placed in any split.
NO_ZIP = "no zip"
ZIP_NOT_IN_CENSUS = "zip not in census table"
#: Reason a speaker of a known ZCTA is left out of one split: the ZCTA has no value.
NO_VALUE = "no {attribute} value for the ZCTA"

#: Text columns with more distinct values (among the speakers' ZCTAs) are not split on.
MAX_CATEGORIES = 50
#: Significant digits a quantile threshold is rounded to, so the definition a report shows
#: ("≤ $52,100") is the exact rule applied.
THRESHOLD_DIGITS = 3
#: The majority split of a share column: inside is "share > MAJORITY".
MAJORITY = 0.5

MISSING_COLUMN = "missing required column {column!r} in the speaker table"
BAD_COUNTS = "expected non-negative whole numbers, got {value!r}"
NOT_A_CENSUS = "census must be a DataFrame from read_census (or a census file path), got {kind}"
CENSUS_NO_ZIP = "the census table has no 'zip' column; read it with wergap.read_census"
CENSUS_BAD_ZIP = "census zip {value!r} is not a 5-digit ZCTA code"
CENSUS_DUPLICATE_ZIP = "census zip {value!r} appears more than once"
UNKNOWN_ATTRIBUTE = "attribute {column!r} is not a census column (have: {have})"
BAD_GROUP = "groups must map a name to two or more census columns, got {item!r}"
GROUP_NOT_NUMERIC = "group {group!r}: column {column!r} holds text, expected shares"
BAD_MIN_SPEAKERS = "min_speakers must be a positive integer, got {value!r}"
BAD_QUANTILES = "quantiles must be numbers strictly between 0 and 1, got {value!r}"
BAD_MAX_SPLITS = "max_splits must be a positive integer or None, got {value!r}"
BAD_MAX_BOTTOM_SHARE = "max_bottom_share must be in (0, 1] or None, got {value!r}"
NO_ELIGIBLE = "no speaker has a ZIP code found in the census table ({excluded})"
NO_VALID_SPLIT = (
    "no census split has at least {min_speakers} speakers on both sides "
    "({candidates} candidate splits over {zctas} ZCTAs and {speakers} speakers): "
    "lower min_speakers (--min-speakers) or add speakers"
)

# Groups of share columns known to partition a population, with readable category names.
_KNOWN_GROUPS: dict[str, dict[str, str]] = {
    # OEPS DS01 (ACS B02001): otherP = 1 − the others (includes two or more races).
    "race": {
        "whiteP": "White",
        "blackP": "Black",
        "amIndP": "American Indian",
        "asianP": "Asian",
        "pacIsP": "Pacific Islander",
        "otherP": "other or multiracial",
    },
    # choroplethrZip: non-Hispanic White/Black/Asian and Hispanic (the rest unlisted).
    "race/ethnicity": {
        "percent_white": "White",
        "percent_black": "Black",
        "percent_asian": "Asian",
        "percent_hispanic": "Hispanic",
    },
}
# Rows of a candidate group must sum to ~1 (where all present and not all zero): median
# row sum within these bounds, and 99 % of rows no larger than the upper one.
_SUM_LOW, _SUM_HIGH = 0.9, 1.05
_DOLLAR_NAME = re.compile(r"income|rent|pci|earnings|dollar|value", re.IGNORECASE)


@dataclass
class _Block:
    """Candidate splits of one attribute: masks over ZCTAs and how to describe them."""

    attribute: str
    kind: str  # "majority", "plurality", "threshold", "best threshold" or "category"
    columns: list[str]  # census columns read
    values: list[Any]  # per candidate: category column / threshold / text value
    names: list[str]  # per candidate: readable value
    masks: np.ndarray  # (zctas, candidates) bool: inside
    valid: np.ndarray  # (zctas,) bool: the ZCTA has a value


class CensusSplits(BaseEstimator):
    """Binary speaker cohorts from census attributes of their ZIP codes, ranked by evidence of a WER gap.

    Parameters
    ----------
    census : DataFrame or path
        One row per ZCTA: ``zip`` plus attributes, as returned by
        :func:`wergap.data_schemas.read_census` (a path is read with it). Shares must be
        fractions 0–1 for groups to be detected.
    attributes : list of str, optional
        Census columns to split on; by default every column. Columns of a group get the
        group's plurality split, their own majority split and best threshold, but no
        quantile cuts. Groups are detected among these columns only; groups given in
        ``groups`` are always used.
    min_speakers : int, default 30
        Fewest speakers on each side of a split (and of each best-threshold cut searched).
    max_bottom_share : float or None, default 0.5
        The chosen split (``partition_``) is the best ranked split whose worse side holds
        at most this share of its speakers; larger worse sides stay in ``splits_`` but
        are never the bottom cohort. Best-threshold searches only consider such cuts.
        ``None``: no limit.
    quantiles : sequence of float, default (0.25, 0.5, 0.75)
        Thresholds of numeric columns: these quantiles of the column over the *speakers*
        (each speaker counts with their ZCTA's value, so the median splits the speakers,
        not the ZCTAs, in two), taken as a value present in the data and rounded to
        :data:`THRESHOLD_DIGITS` significant digits. Side "in" is ``≤`` the threshold.
    groups : mapping of str to list of str, optional
        Share columns that partition a population, by group name, e.g.
        ``{"race": ["white", "black", ...]}``. By default groups are detected: the known
        OEPS and choroplethr race/ethnicity columns; sibling percent columns of an ACS
        export whose rows sum to ~1; share columns with a common name prefix whose rows
        sum to ~1; and failing those, all share columns together if their rows sum to ~1.
        Pass ``{}`` to split every column on its own.
    max_splits : int, optional
        Keep only the best ``max_splits`` splits in ``splits_``/``partitions_``.

    Attributes
    ----------
    splits_ : DataFrame
        One row per split meeting ``min_speakers`` (:data:`SPLIT_COLUMNS`), ranked by
        ``z`` (|WER_in − WER_out| over its speaker-bootstrap-free standard error, the
        ratio estimator's over speakers), largest first, ties by gap:
        attribute, value, definition (of the inside), kind, census column, threshold,
        cohort labels, speakers/ref_words/errors/WER inside and outside, ``gap_pct``
        (100 × (WER worse side − WER other side) / WER other side), ``worse``
        (``"in"`` or ``"out"``) and ``worse_share_pct`` (the worse side's percentage of
        the split's speakers). Kinds: ``"majority"`` (share > 50 %), ``"plurality"``
        (largest group of a share group), ``"threshold"`` (quantile cut),
        ``"best threshold"`` (exact best cut) and ``"category"``. ``threshold`` is in the
        column's unit (0.5 for a majority split; side "in" is ``> 0.5`` there and
        ``≤ threshold`` for cuts).
    partitions_ : sequence of Partition
        The splits as binary partitions (``method="census_splits"``), same order; each
        is built on first access (indexing, slicing and iteration work as on a list).
    partition_ : Partition
        The chosen split: the best ranked whose worse side holds at most
        ``max_bottom_share`` of its speakers (the best split when none does).
    best_index_ : int
        Its row in ``splits_``.
    excluded_ : dict of str to int
        Speakers left out of every split: ``"no zip"`` (missing or invalid ZIP) and
        ``"zip not in census table"``.
    groups_ : dict of str to list of str
        The share groups used (given or detected).
    n_candidates_ : int
        Candidate splits searched: every distinct split scored (before ``min_speakers``),
        plus every other cut point the best-threshold searches tried.
    zip_cohorts_ : Series
        Cohort of the best split for every census ZCTA that has a value (index ``zip``);
        :meth:`predict` looks speakers up in it.

    Examples
    --------
    >>> census = read_census("acs2018_zcta_demographics_oeps_DS01.csv")  # doctest: +SKIP
    >>> splits = CensusSplits(census).fit(speakers)  # doctest: +SKIP
    >>> splits.splits_[["definition", "wer_in", "wer_out", "gap_pct"]].head()  # doctest: +SKIP
    """

    def __init__(
        self,
        census: Any,
        attributes: Sequence[str] | None = None,
        min_speakers: int = MIN_SPEAKERS,
        max_bottom_share: float | None = MAX_BOTTOM_SHARE,
        quantiles: Sequence[float] = (0.25, 0.5, 0.75),
        groups: Mapping[str, Sequence[str]] | None = None,
        max_splits: int | None = None,
    ) -> None:
        self.census = census
        self.attributes = attributes
        self.min_speakers = min_speakers
        self.max_bottom_share = max_bottom_share
        self.quantiles = quantiles
        self.groups = groups
        self.max_splits = max_splits

    # -- fit --------------------------------------------------------------------------

    def fit(self, speakers: pd.DataFrame, y: Any = None) -> CensusSplits:
        """Score every census split of ``speakers`` and rank the ones large enough.

        Parameters
        ----------
        speakers : DataFrame
            Speaker table: ``speaker_id``, ``errors``, ``ref_words``, ``zip``.
        y : ignored

        Returns
        -------
        self
        """
        self._check_params()
        census = _census_table(self.census)
        attributes = self._attributes(census)
        groups = self._groups(census, attributes)
        ids, zips, errors, words = _speaker_columns(speakers)

        zip_known = zips.notna().to_numpy()
        in_census = zip_known & (census.index.get_indexer(zips.to_numpy(dtype=object)) >= 0)
        excluded = {NO_ZIP: int((~zip_known).sum()), ZIP_NOT_IN_CENSUS: int((zip_known & ~in_census).sum())}
        excluded = {k: v for k, v in excluded.items() if v}
        if not in_census.any():
            raise InputError(NO_ELIGIBLE.format(excluded=_counts_text(excluded) or "no speakers"))

        # Speakers -> ZCTAs: every candidate is then scored on per-ZCTA sums.
        codes, zctas = pd.factorize(zips[in_census])
        n_zcta = len(zctas)
        e, w = errors[in_census], words[in_census]
        # speakers, errors, words, then the speaker-level second moments the best-threshold
        # search needs for the sampling variance of each side's WER
        totals = np.column_stack(
            [np.bincount(codes, weights=x, minlength=n_zcta) for x in (np.ones_like(e), e, w, e * e, e * w, w * w)]
        ).astype("float64")
        table = census.loc[np.asarray(zctas, dtype=object)]
        blocks, cuts_searched = _blocks(
            table, attributes, groups, totals, self.quantiles, census.attrs, self.min_speakers, self.max_bottom_share
        )

        rows, masks, valids = self._score(blocks, totals)
        self.n_candidates_ = len(rows) + cuts_searched
        if not rows:
            raise InputError(
                NO_VALID_SPLIT.format(
                    min_speakers=self.min_speakers, candidates=0, zctas=n_zcta, speakers=int(in_census.sum())
                )
            )
        splits = pd.DataFrame(rows, columns=SPLIT_COLUMNS)
        enough = (splits["speakers_in"] >= self.min_speakers) & (splits["speakers_out"] >= self.min_speakers)
        if not enough.any():
            raise InputError(
                NO_VALID_SPLIT.format(
                    min_speakers=self.min_speakers,
                    candidates=len(rows),
                    zctas=n_zcta,
                    speakers=int(in_census.sum()),
                )
            )
        keep = np.flatnonzero(enough.to_numpy())
        z = splits["z"].to_numpy()[keep]
        gap = splits["gap_pct"].to_numpy()[keep]
        order = keep[
            np.lexsort((np.arange(len(keep)), -np.nan_to_num(gap, nan=-np.inf), -np.nan_to_num(z, nan=-np.inf)))
        ]
        if self.max_splits is not None:
            order = order[: self.max_splits]
        self.splits_ = splits.iloc[order].reset_index(drop=True)
        for column in ("speakers_in", "speakers_out", "ref_words_in", "ref_words_out", "errors_in", "errors_out"):
            self.splits_[column] = self.splits_[column].astype("int64")

        self.partitions_ = _Partitions(
            self.splits_, [masks[k] for k in order], [valids[k] for k in order], codes, ids[in_census], excluded
        )
        target = np.ones(len(self.splits_), dtype=bool)
        if self.max_bottom_share is not None:
            target = self.splits_["worse_share_pct"].to_numpy() <= 100.0 * float(self.max_bottom_share) + 1e-9
        self.best_index_ = int(np.flatnonzero(target)[0]) if target.any() else 0
        self.partition_ = self.partitions_[self.best_index_]
        self.excluded_ = excluded
        self.groups_ = groups
        self.zip_cohorts_ = _zip_cohorts(census, self.splits_.iloc[self.best_index_], groups)
        return self

    def _score(
        self, blocks: list[_Block], totals: np.ndarray
    ) -> tuple[list[dict[str, Any]], list[np.ndarray], list[np.ndarray]]:
        """Totals inside and outside every distinct candidate, by matrix products."""
        rows: list[dict[str, Any]] = []
        masks: list[np.ndarray] = []
        valids: list[np.ndarray] = []
        seen: set[tuple[bytes, bytes]] = set()
        for block in blocks:
            inside = block.masks.T.astype("float64") @ totals  # (candidates, 3)
            present = block.valid.astype("float64") @ totals  # (3,)
            outside = present[None, :] - inside
            valid_bytes = np.packbits(block.valid).tobytes()
            for j in range(block.masks.shape[1]):
                mask = block.masks[:, j]
                # The same split reached twice (a two-way group, equal thresholds) is scored once.
                first = np.flatnonzero(block.valid)[:1]
                canonical = mask if (first.size == 0 or not mask[first[0]]) else block.valid & ~mask
                key = (valid_bytes, np.packbits(canonical).tobytes())
                if key in seen:
                    continue
                seen.add(key)
                rows.append(_row(block, j, inside[j], outside[j]))
                masks.append(mask)
                valids.append(block.valid)
        return rows, masks, valids

    def _check_params(self) -> None:
        m = self.min_speakers
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
            raise InputError(BAD_MIN_SPEAKERS.format(value=m))
        q = np.asarray(self.quantiles, dtype=object).ravel()
        try:
            qf = q.astype("float64")
        except (TypeError, ValueError):
            raise InputError(BAD_QUANTILES.format(value=self.quantiles)) from None
        if qf.size == 0 or not np.all((qf > 0) & (qf < 1)):
            raise InputError(BAD_QUANTILES.format(value=self.quantiles))
        s = self.max_splits
        if s is not None and (isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1):
            raise InputError(BAD_MAX_SPLITS.format(value=s))
        b = self.max_bottom_share
        if b is not None and (isinstance(b, bool) or not isinstance(b, (int, float)) or not 0.0 < b <= 1.0):
            raise InputError(BAD_MAX_BOTTOM_SHARE.format(value=b))

    def _attributes(self, census: pd.DataFrame) -> list[str]:
        have = [str(c) for c in census.columns]
        if self.attributes is None:
            return have
        for column in self.attributes:
            if column not in have:
                raise InputError(UNKNOWN_ATTRIBUTE.format(column=column, have=", ".join(have)), column=str(column))
        return list(dict.fromkeys(self.attributes))

    def _groups(self, census: pd.DataFrame, attributes: list[str]) -> dict[str, list[str]]:
        if self.groups is None:
            return _detect_groups(census, attributes)
        groups: dict[str, list[str]] = {}
        have = [str(c) for c in census.columns]
        for name, members in dict(self.groups).items():
            if isinstance(members, str) or len(list(members)) < 2:
                raise InputError(BAD_GROUP.format(item=(name, members)))
            for column in members:
                if column not in have:
                    raise InputError(UNKNOWN_ATTRIBUTE.format(column=column, have=", ".join(have)), column=str(column))
                if not pd.api.types.is_numeric_dtype(census[column].dtype):
                    raise InputError(GROUP_NOT_NUMERIC.format(group=name, column=column), column=str(column))
            groups[str(name)] = [str(c) for c in members]
        return groups

    # -- predict ----------------------------------------------------------------------

    def predict(self, speakers: pd.DataFrame) -> pd.Series:
        """Cohort of the chosen split (``partition_``) for each speaker, from their ZIP code.

        Parameters
        ----------
        speakers : DataFrame
            ``speaker_id`` and ``zip``.

        Returns
        -------
        Series
            Index ``speaker_id``; the cohort label, or NA when the ZIP is missing, not in
            the census table, or its ZCTA has no value for the split's attribute.
        """
        check_is_fitted(self, "zip_cohorts_")
        for column in ("speaker_id", "zip"):
            if column not in speakers.columns:
                raise InputError(MISSING_COLUMN.format(column=column), column=column)
        zips, _ = normalize_zip(speakers["zip"])
        labels = zips.map(self.zip_cohorts_)
        return pd.Series(
            labels.to_numpy(dtype=object),
            index=pd.Index(speakers["speaker_id"].astype("str").to_numpy(dtype=object), name="speaker_id"),
            name="cohort",
            dtype="str",
        )


# --- inputs -------------------------------------------------------------------------------


def _census_table(census: Any) -> pd.DataFrame:
    """The census table indexed by normalised zip (checked: present, valid, unique)."""
    if isinstance(census, (str, PathLike)):
        census = read_census(census)
    if not isinstance(census, pd.DataFrame):
        raise InputError(NOT_A_CENSUS.format(kind=type(census).__name__))
    if "zip" not in census.columns:
        raise InputError(CENSUS_NO_ZIP, column="zip")
    zips = census["zip"]
    clean = pd.api.types.is_string_dtype(zips.dtype) and bool(
        (zips.str.fullmatch(r"\d{5}").fillna(False) & (zips != "00000")).all()
    )
    if not clean:
        zips, _ = normalize_zip(zips)  # a table not from read_census: int ZIPs, ZIP+4, ...
    bad = zips.isna().to_numpy()
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise InputError(CENSUS_BAD_ZIP.format(value=census["zip"].iloc[pos]), row=pos, column="zip")
    duplicated = zips.duplicated().to_numpy()
    if duplicated.any():
        pos = int(np.flatnonzero(duplicated)[0])
        raise InputError(CENSUS_DUPLICATE_ZIP.format(value=zips.iloc[pos]), row=pos, column="zip")
    table = census.drop(columns="zip").set_axis(pd.Index(zips.to_numpy(dtype=object), name="zip"), axis=0)
    table.columns = [str(c) for c in table.columns]
    table.attrs = dict(census.attrs)
    return table


def _speaker_columns(speakers: pd.DataFrame) -> tuple[np.ndarray, pd.Series, np.ndarray, np.ndarray]:
    """speaker ids (str), normalised zips, errors and ref_words (float64, checked)."""
    if not isinstance(speakers, pd.DataFrame):
        raise InputError(MISSING_COLUMN.format(column="speaker_id"))
    for column in ("speaker_id", "errors", "ref_words", "zip"):
        if column not in speakers.columns:
            raise InputError(MISSING_COLUMN.format(column=column), column=column)
    counts = []
    for column in ("errors", "ref_words"):
        values = pd.to_numeric(speakers[column], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        bad = ~np.isfinite(values) | (values < 0) | (values != np.floor(values))
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise InputError(BAD_COUNTS.format(value=speakers[column].iloc[pos]), row=pos, column=column)
        counts.append(values)
    zips, _ = normalize_zip(speakers["zip"].reset_index(drop=True))
    ids = speakers["speaker_id"].astype("str").to_numpy(dtype=object)
    return ids, zips, counts[0], counts[1]


def _counts_text(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in counts.items())


# --- groups -------------------------------------------------------------------------------


def _sums_to_one(table: pd.DataFrame, columns: list[str]) -> bool:
    values = table[columns].to_numpy(dtype="float64", na_value=np.nan)
    complete = ~np.isnan(values).any(axis=1)
    sums = values[complete].sum(axis=1)
    sums = sums[sums > 0]
    if sums.size == 0:
        return False
    return bool(_SUM_LOW <= np.median(sums) <= _SUM_HIGH and np.quantile(sums, 0.99) <= _SUM_HIGH)


def _is_share(series: pd.Series) -> bool:
    if not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return False
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    values = values[~np.isnan(values)]
    return values.size > 0 and bool((values >= 0).all() and (values <= 1).all())


def _detect_groups(census: pd.DataFrame, attributes: list[str]) -> dict[str, list[str]]:
    """Share groups found in ``census`` among ``attributes`` (see :class:`CensusSplits`)."""
    allowed = [c for c in attributes if _is_share(census[c])]
    folded = {c.lower(): c for c in allowed}
    taken: set[str] = set()
    groups: dict[str, list[str]] = {}

    def accept(name: str, members: list[str], check: bool) -> None:
        members = [m for m in members if m not in taken]
        if len(members) < 2 or (check and not _sums_to_one(census, members)):
            return
        key = name if name not in groups else f"{name} ({', '.join(members)})"
        groups[key] = members
        taken.update(members)

    for name, known in _KNOWN_GROUPS.items():
        matched = [folded.get(c.lower()) for c in known]
        if all(matched):
            accept(name, [m for m in matched if m], check=False)
    hints = census.attrs.get("wergap", {}).get("share_groups", []) if isinstance(census.attrs, dict) else []
    for members in hints:
        members = [m for m in members if m in allowed]
        if len(members) >= 2:
            accept(_common_prefix_name(members), members, check=True)
    by_prefix: dict[str, list[str]] = {}
    for column in allowed:
        prefix = re.split(r": |_", column, maxsplit=1)[0] if re.search(r": |_", column) else ""
        if prefix:
            by_prefix.setdefault(prefix, []).append(column)
    for prefix, members in by_prefix.items():
        accept(prefix, members, check=True)
    accept("largest group", [c for c in allowed if c not in taken], check=True)
    return groups


def _common_prefix_name(members: list[str]) -> str:
    head = members[0].split(": ")[0]
    return head if all(m.startswith(head + ": ") for m in members) else "group"


def _category_name(column: str) -> str:
    """Readable category of a share column: ``whiteP`` → ``White``, ``race: white (share)`` → ``white``."""
    for known in _KNOWN_GROUPS.values():
        for name, display in known.items():
            if name.lower() == column.lower():
                return display
    name = re.sub(r"\s*\(share\)$", "", column)
    name = name.split(": ")[-1]
    name = re.sub(r"(?<=[a-z0-9])P$", "", name)
    name = re.sub(r"^(percent|pct|perc|share)_|_(percent|pct|share)$", "", name, flags=re.IGNORECASE)
    return name.replace("_", " ")


# --- candidates ---------------------------------------------------------------------------


def _blocks(
    table: pd.DataFrame,
    attributes: list[str],
    groups: dict[str, list[str]],
    totals: np.ndarray,
    quantiles: Sequence[float],
    attrs: Mapping[str, Any],
    min_speakers: int,
    max_bottom_share: float | None,
) -> tuple[list[_Block], int]:
    """Every candidate split, block by block, and how many extra cut points the stumps tried.

    Order matters where two candidates are the same split (scored once, under the first
    name): majority splits come first, so "majority Black" names a split that is also
    the plurality one.
    """
    units = dict(attrs.get("wergap", {}).get("units", {})) if isinstance(attrs, Mapping) else {}
    grouped = {c for members in groups.values() for c in members}
    numeric = [
        c
        for c in attributes
        if pd.api.types.is_numeric_dtype(table[c].dtype) and not pd.api.types.is_bool_dtype(table[c].dtype)
    ]
    shares = [c for c in numeric if units.get(c) == "share" or (units.get(c) is None and _is_share(table[c]))]
    shares += [c for members in groups.values() for c in members if c not in shares]
    blocks: list[_Block] = [b for c in shares if (b := _majority_block(c, table[c])) is not None]
    for name, members in groups.items():
        inside, valid = _majority_masks(table, members)
        blocks.append(
            _Block(
                attribute=name,
                kind="plurality",
                columns=list(members),
                values=list(members),
                names=[_category_name(c) for c in members],
                masks=inside,
                valid=valid,
            )
        )
    searched = 0
    for column in dict.fromkeys([*numeric, *(c for c in grouped if c not in numeric)]):
        unit = units.get(column)
        share = column in shares
        stump, cuts = _stump_block(column, table[column], totals, min_speakers, max_bottom_share, share, unit)
        searched += max(cuts - 1, 0)
        if stump is not None:
            blocks.append(stump)
        if column not in grouped:
            block = _threshold_block(column, table[column], totals[:, 0], quantiles, share, unit)
            if block is not None:
                blocks.append(block)
    for column in attributes:
        if column not in grouped and column not in numeric:
            block = _category_block(column, table[column])
            if block is not None:
                blocks.append(block)
    return blocks, searched


def _majority_masks(table: pd.DataFrame, members: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(zctas, categories) mask of each ZCTA's largest group, and which ZCTAs have one."""
    values = table[members].to_numpy(dtype="float64", na_value=np.nan)
    valid = ~np.isnan(values).all(axis=1)
    largest = np.argmax(np.where(np.isnan(values), -np.inf, values), axis=1)
    inside = (largest[:, None] == np.arange(len(members))[None, :]) & valid[:, None]
    return inside, valid


def _majority_block(column: str, series: pd.Series) -> _Block | None:
    """The majority split of one share column: ZCTAs where the share exceeds 50 %."""
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    valid = ~np.isnan(values)
    if not valid.any():
        return None
    return _Block(
        attribute=column,
        kind="majority",
        columns=[column],
        values=[MAJORITY],
        names=[_category_name(column)],
        masks=((values > MAJORITY) & valid)[:, None],
        valid=valid,
    )


def _units_of(column: str, share: bool, unit: str | None) -> tuple[bool, bool]:
    dollars = unit == "dollars" or (unit is None and not share and bool(_DOLLAR_NAME.search(column)))
    return share, dollars


def _threshold_block(
    column: str, series: pd.Series, weights: np.ndarray, quantiles: Sequence[float], share: bool, unit: str | None
) -> _Block | None:
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    valid = ~np.isnan(values)
    if valid.sum() == 0:
        return None
    levels = np.asarray(quantiles, dtype="float64")
    raw = np.quantile(values[valid], levels, weights=weights[valid], method="inverted_cdf")
    thresholds = sorted({_round_significant(t) for t in np.atleast_1d(raw)})
    share, dollars = _units_of(column, share or is_percent_name(column), unit)
    names = [f"≤ {_format(t, share=share, dollars=dollars, unit=unit)}" for t in thresholds]
    inside = (values[:, None] <= np.asarray(thresholds)[None, :]) & valid[:, None]
    return _Block(
        attribute=column,
        kind="threshold",
        columns=[column],
        values=list(thresholds),
        names=names,
        masks=inside,
        valid=valid,
    )


def _stump_block(
    column: str,
    series: pd.Series,
    totals: np.ndarray,
    min_speakers: int,
    max_bottom_share: float | None,
    share: bool,
    unit: str | None,
) -> tuple[_Block | None, int]:
    """The exact best threshold of one numeric column, and how many cut points were tried.

    ZCTAs are sorted by value and summed per distinct value (a cut never separates equal
    values); the cumulative sums of speakers, errors, words and their speaker-level
    second moments give every cut's two sides at once. The cut maximises
    ``(WER_in − WER_out)² / (v_in + v_out)``, where ``v`` is the sampling variance of a
    side's WER over its speakers (the ratio estimator's, ``n/(n−1) Σ(e − WER w)² / W²``).
    CART's weighted stump criterion, ``W_in W_out / W (WER_in − WER_out)²``, is this same
    statistic when every word is an independent trial; speakers are not (their error rates
    are overdispersed and a few speak most of the words), and under that noise CART's
    criterion picks tiny sides whose WER is high by chance. Cuts need ``min_speakers``
    on each side and, when ``max_bottom_share`` is set, a worse side no larger than that.
    """
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    valid = ~np.isnan(values)
    if valid.sum() < 2:
        return None, 0
    distinct, codes = np.unique(values[valid], return_inverse=True)
    if len(distinct) < 2:
        return None, 0
    sums = np.column_stack(
        [np.bincount(codes, weights=totals[valid, k], minlength=len(distinct)) for k in range(totals.shape[1])]
    )
    below = np.cumsum(sums, axis=0)[:-1]  # cut k: inside = values <= distinct[k]
    above = sums.sum(axis=0)[None, :] - below
    n_in, n_out = below[:, 0], above[:, 0]
    w_in, w_out = below[:, 2], above[:, 2]
    ok = (n_in >= min_speakers) & (n_out >= min_speakers) & (w_in > 0) & (w_out > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        wer_in = below[:, 1] / w_in
        wer_out = above[:, 1] / w_out
        score = (wer_in - wer_out) ** 2 / (_ratio_variance(below, wer_in) + _ratio_variance(above, wer_out))
    if max_bottom_share is not None:
        worse_n = np.where(wer_in >= wer_out, n_in, n_out)
        ok &= worse_n <= max_bottom_share * (n_in + n_out) + 1e-9
    tried = int(ok.sum())
    if not tried:
        return None, 0
    k = int(np.argmax(np.where(ok, score, -np.inf)))
    threshold = _readable_cut(distinct[k], distinct[k + 1], percent=share)
    share, dollars = _units_of(column, share, unit)
    return (
        _Block(
            attribute=column,
            kind="best threshold",
            columns=[column],
            values=[threshold],
            names=[f"≤ {_format(threshold, share=share, dollars=dollars, unit=unit, exact=True)}"],
            masks=((values <= threshold) & valid)[:, None],
            valid=valid,
        ),
        tried,
    )


def _ratio_variance(sums: np.ndarray, wer: np.ndarray) -> np.ndarray:
    """Sampling variance of Σe/Σw over speakers, from (n, Σe, Σw, Σe², Σew, Σw²) rows."""
    n, w, ee, ew, ww = sums[:, 0], sums[:, 2], sums[:, 3], sums[:, 4], sums[:, 5]
    with np.errstate(divide="ignore", invalid="ignore"):
        residual = np.maximum(ee - 2 * wer * ew + wer * wer * ww, 0.0)
        return n / np.maximum(n - 1, 1) * residual / (w * w)


def _readable_cut(low: float, high: float, *, percent: bool) -> float:
    """The number with fewest significant digits in ``[low, high)``: the same cut, readable."""
    scale = 100.0 if percent else 1.0
    for digits in range(1, 16):
        for candidate in (float(f"{scale * low:.{digits}g}"), float(f"{scale * (low + high) / 2:.{digits}g}")):
            value = candidate / scale
            if low <= value < high:
                return value
    return float(low)


def _category_block(column: str, series: pd.Series) -> _Block | None:
    values = series.astype("str")
    valid = values.notna().to_numpy()
    categories = sorted(values[valid].unique().tolist())
    if not 2 <= len(categories) <= MAX_CATEGORIES:
        return None
    array = values.to_numpy(dtype=object)
    inside = np.column_stack([(array == c) & valid for c in categories])
    return _Block(
        attribute=column,
        kind="category",
        columns=[column],
        values=categories,
        names=[str(c) for c in categories],
        masks=inside,
        valid=valid,
    )


def _round_significant(value: float) -> float:
    if value == 0 or not np.isfinite(value):
        return float(value)
    return float(f"{value:.{THRESHOLD_DIGITS}g}")


def _format(value: float, *, share: bool, dollars: bool, unit: str | None, exact: bool = False) -> str:
    """A threshold in its column's unit; ``exact`` keeps every digit the cut needs."""
    digits = 15 if exact else THRESHOLD_DIGITS
    if share:
        return f"{float(f'{100 * value:.{digits}g}'):g}%" if exact else f"{100 * value:.{digits}g}%"
    if dollars:
        if exact and not float(value).is_integer():
            return f"${value:,.2f}"
        return f"${value:,.0f}" if abs(value) >= 100 else f"${value:,.2f}"
    text = f"{value:,.0f}" if float(value).is_integer() else (f"{value:.{digits}g}" if exact else f"{value:g}")
    return f"{text} {unit}" if unit and unit != "share" else text


# --- rows, partitions ---------------------------------------------------------------------


def _labels(block: _Block, j: int) -> tuple[str, str, str, str, str]:
    """(value, cohort_in, cohort_out, definition_in, definition_out) of candidate ``j``."""
    name = block.names[j]
    if block.kind == "plurality":
        column = block.values[j]
        cohort_in, cohort_out = f"plurality {name}", f"not plurality {name}"
        definition = f"speakers whose ZCTA's largest {block.attribute} group is {name} ({column})"
        other = f"speakers whose ZCTA's largest {block.attribute} group is not {name} ({column})"
        return name, cohort_in, cohort_out, definition, other
    if block.kind == "majority":
        column = block.attribute
        cohort_in, cohort_out = f"majority {name}", f"not majority {name}"
        definition = f"speakers whose ZCTA is majority {name} ({column} > 50%)"
        other = f"speakers whose ZCTA is not majority {name} ({column} ≤ 50%)"
        return name, cohort_in, cohort_out, definition, other
    column = block.attribute
    if block.kind in ("threshold", "best threshold"):
        bound = name[2:]
        cohort_in, cohort_out = f"{column} ≤ {bound}", f"{column} > {bound}"
    else:
        cohort_in, cohort_out = f"{column} = {block.values[j]}", f"{column} ≠ {block.values[j]}"
    return name, cohort_in, cohort_out, f"speakers whose ZCTA has {cohort_in}", f"speakers whose ZCTA has {cohort_out}"


def _row(block: _Block, j: int, inside: np.ndarray, outside: np.ndarray) -> dict[str, Any]:
    value, cohort_in, cohort_out, definition, definition_out = _labels(block, j)
    with np.errstate(divide="ignore", invalid="ignore"):
        wer_in = inside[1] / inside[2] if inside[2] > 0 else np.nan
        wer_out = outside[1] / outside[2] if outside[2] > 0 else np.nan
        worse_in = bool(wer_in >= wer_out) if not (np.isnan(wer_in) or np.isnan(wer_out)) else True
        worse, better = (wer_in, wer_out) if worse_in else (wer_out, wer_in)
        gap = 100.0 * (worse - better) / better if better > 0 else (np.inf if worse > 0 else np.nan)
    n = inside[0] + outside[0]
    return {
        "attribute": block.attribute,
        "value": value,
        "definition": definition,
        "definition_out": definition_out,
        "kind": block.kind,
        "column": block.values[j] if block.kind == "plurality" else block.attribute,
        "threshold": float(block.values[j]) if block.kind in ("threshold", "best threshold", "majority") else np.nan,
        "cohort_in": cohort_in,
        "cohort_out": cohort_out,
        "speakers_in": round(inside[0]),
        "speakers_out": round(outside[0]),
        "ref_words_in": round(inside[2]),
        "ref_words_out": round(outside[2]),
        "errors_in": round(inside[1]),
        "errors_out": round(outside[1]),
        "wer_in": float(wer_in),
        "wer_out": float(wer_out),
        "gap_pct": float(gap),
        "worse": "in" if worse_in else "out",
        "worse_share_pct": float(100.0 * (inside[0] if worse_in else outside[0]) / n) if n else np.nan,
        "z": _z(inside, outside, wer_in, wer_out),
    }


def _z(inside: np.ndarray, outside: np.ndarray, wer_in: float, wer_out: float) -> float:
    """|WER_in − WER_out| over its standard error (speaker-level variance of each side)."""
    if np.isnan(wer_in) or np.isnan(wer_out):
        return float("nan")
    variance = _ratio_variance(inside[None, :], np.array([wer_in]))[0]
    variance += _ratio_variance(outside[None, :], np.array([wer_out]))[0]
    if not variance > 0:
        return float("inf") if wer_in != wer_out else 0.0
    return float(abs(wer_in - wer_out) / np.sqrt(variance))


class _Partitions(Sequence):
    """The ranked splits as Partitions, each built the first time it is asked for.

    A Partition of 100k speakers takes tens of milliseconds to build and check, and a
    census has hundreds of splits while a report reads a few: so ``fit`` keeps each
    split's mask over ZCTAs (a few kB) and builds its Partition on access, once.
    """

    def __init__(
        self,
        splits: pd.DataFrame,
        masks: list[np.ndarray],
        valids: list[np.ndarray],
        codes: np.ndarray,
        speaker_ids: np.ndarray,
        excluded: dict[str, int],
    ) -> None:
        self._splits = splits
        self._masks = masks
        self._valids = valids
        self._codes = codes
        self._speaker_ids = speaker_ids
        self._excluded = excluded
        self._built: list[Partition | None] = [None] * len(masks)

    def __len__(self) -> int:
        return len(self._built)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        i = range(len(self))[index]  # IndexError and negative indices as for a list
        if self._built[i] is None:
            self._built[i] = _partition(
                self._splits.iloc[i],
                self._masks[i][self._codes],
                self._valids[i][self._codes],
                self._speaker_ids,
                self._excluded,
            )
        return self._built[i]

    def __repr__(self) -> str:
        return f"<{len(self)} census-split partitions, best first>"


def _partition(
    split: pd.Series, inside: np.ndarray, valid: np.ndarray, speaker_ids: np.ndarray, excluded: dict[str, int]
) -> Partition:
    cohorts = np.array([split["cohort_out"], split["cohort_in"]], dtype=object)
    labels = cohorts[inside[valid].astype(np.intp)]
    excluded = dict(excluded)
    missing = int((~valid).sum())
    if missing:
        excluded[NO_VALUE.format(attribute=split["attribute"])] = missing
    definitions = {split["cohort_in"]: split["definition"], split["cohort_out"]: split["definition_out"]}
    return Partition(
        method="census_splits",
        labels=pd.Series(labels, index=speaker_ids[valid]),
        definitions=definitions,
        excluded=excluded,
        binary=True,
    )


def _zip_cohorts(census: pd.DataFrame, split: pd.Series, groups: dict[str, list[str]]) -> pd.Series:
    """The chosen split's cohort for every census ZCTA with a value (the rule of ``predict``)."""
    if split["kind"] == "plurality":
        members = groups[split["attribute"]]
        inside, valid = _majority_masks(census, members)
        inside = inside[:, members.index(split["column"])]
    elif split["kind"] == "majority":
        values = census[split["column"]].to_numpy(dtype="float64", na_value=np.nan)
        valid = ~np.isnan(values)
        inside = valid & (values > split["threshold"])
    elif split["kind"] in ("threshold", "best threshold"):
        values = census[split["column"]].to_numpy(dtype="float64", na_value=np.nan)
        valid = ~np.isnan(values)
        inside = valid & (values <= split["threshold"])
    else:
        values = census[split["column"]].astype("str")
        valid = values.notna().to_numpy()
        inside = valid & (values.to_numpy(dtype=object) == split["value"])
    labels = np.where(inside, split["cohort_in"], split["cohort_out"])[valid]
    return pd.Series(labels.astype(object), index=census.index[valid], name="cohort", dtype="str")


#: How the rest of wergap runs and shows this method (:mod:`wergap.discovery.registry`).
SPEC = registry.MethodSpec(
    name="census_splits",
    title="Zip-code census splits",
    estimator="wergap.discovery.census_splits:CensusSplits",
    needs=registry.needs_census,
    build=lambda o: {
        "census": o.get("census"),
        "min_speakers": o.get("min_speakers", MIN_SPEAKERS),
        "max_bottom_share": o.get("max_bottom_share", MAX_BOTTOM_SHARE),
    },
    figures=("split_pairs",),
    ranked_candidates=True,
    description=(
        "Binary splits of ZCTAs by majority or plurality census group, or the best or a quantile "
        "threshold of a numeric attribute, ranked by the evidence for their WER gap (Dheram et al.)."
    ),
)
