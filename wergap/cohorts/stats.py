"""WER per cohort with speaker-bootstrap intervals, the bottom-vs-top gap, and shares.

These are the numbers every wergap report shows (definitions in DESIGN.md):

- WER of a cohort = Σ errors / Σ ref_words over its speakers (word-weighted, never a mean
  of per-speaker WERs);
- gap (%) = 100 (WER_bottom − WER_top) / WER_top, and the bottom cohort against everyone
  else in the partition;
- bottom-cohort share = its share of the partition's speakers (and utterances);
- intervals: percentile bootstrap over speakers, each cohort resampled on its own (the
  cohorts found are held fixed: the interval is about sampling noise given the cohorts,
  not about the discovery).

:func:`cohort_table` and :func:`gap_summary` draw the same resamples for the same
``seed``, so the bottom row of the table and the summary agree to the last digit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from wergap._strings import isin
from wergap.cohorts.bootstrap import (
    column_intervals,
    percentile_interval,
    ratio,
    relative_gap_pct,
    stratified_totals,
)
from wergap.cohorts.partition import Partition
from wergap.defaults import MAX_BOTTOM_SHARE, MIN_SPEAKERS
from wergap.errors import InputError
from wergap.provenance import carry

MISSING_COLUMN = "missing required column {column!r} (a speaker table needs speaker_id, ref_words, errors)"
BAD_COUNT = "expected a non-negative whole number, got {value!r}"
MISSING_SPEAKER = "expected a speaker id, got a missing value"
DUPLICATE_SPEAKER = "speaker {speaker!r} appears on more than one row of the speaker table"
UNKNOWN_SPEAKERS = "the partition assigns {n} speaker(s) that are not in the speaker table (e.g. {example!r})"
BAD_CONFIDENCE = "confidence must be strictly between 0 and 1, got {value!r}"
BAD_N_BOOT = "n_boot must be a non-negative integer, got {value!r}"
BAD_BOTTOM_SHARE = "bottom_share must be strictly between 0 and 1, got {value!r}"
BAD_MAX_BOTTOM_SHARE = "max_bottom_share must be in (0, 1] or None, got {value!r}"
NOT_A_PARTITION = "expected a wergap Partition, got {kind}"

FEWER_THAN_TWO = (
    "fewer than two cohorts have at least {min_speakers} speakers{besides}: no gap to measure "
    "(lower min_speakers, --min-speakers, or add speakers)"
)
BESIDES_POOLED = " besides the pooled {pooled!r} (a mix of small cohorts is never a bottom or top cohort)"
BOTTOM_TOO_BIG = (
    "the worse side {bottom!r} holds {share:.0f}% of the speakers, more than max_bottom_share "
    "({limit:.0f}%): a bottom cohort is a target, not most users"
)
ZERO_TOP = "the top cohort {top!r} has WER 0, so the relative gap is infinite; reported as NaN"
ZERO_REST = "everyone outside the bottom cohort has WER 0, so the gap vs the rest is infinite; reported as NaN"

#: A group's size, totals and word-weighted WER with its interval: the columns every
#: per-group table shares (cohorts, known-attribute values, systems).
WER_COLUMNS = ["speakers", "utterances", "ref_words", "errors", "wer", "wer_ci_low", "wer_ci_high"]

#: Columns of :func:`cohort_table`, in order.
COHORT_TABLE_COLUMNS = [
    "cohort",
    "definition",
    *WER_COLUMNS,
    "gap_vs_rest_pct",
    "gap_vs_rest_ci_low",
    "gap_vs_rest_ci_high",
    "share_speakers_pct",
    "share_utterances_pct",
]


BAD_MIN_SPEAKERS = "min_speakers must be a whole number of at least 1, got {value!r}"


def check_min_speakers(min_speakers: int) -> None:
    """Raise :class:`InputError` unless ``min_speakers`` is an integer of at least 1."""
    if isinstance(min_speakers, bool) or not isinstance(min_speakers, (int, np.integer)) or min_speakers < 1:
        raise InputError(BAD_MIN_SPEAKERS.format(value=min_speakers))


def check_options(confidence: float, n_boot: int) -> None:
    """Raise :class:`InputError` for a confidence outside (0, 1) or a bad ``n_boot``."""
    if not isinstance(confidence, (int, float)) or not 0.0 < float(confidence) < 1.0:
        raise InputError(BAD_CONFIDENCE.format(value=confidence))
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise InputError(BAD_N_BOOT.format(value=n_boot))


def speaker_counts(speakers: pd.DataFrame) -> pd.DataFrame:
    """Validated ``speaker_id, utterances, ref_words, errors`` of a speaker table.

    ``utterances`` is optional (NaN when absent). Raises :class:`InputError` naming the row
    and column for a missing column, a missing/negative/fractional count or a repeated
    speaker.
    """
    for column in ("speaker_id", "ref_words", "errors"):
        if column not in speakers.columns:
            raise InputError(MISSING_COLUMN.format(column=column), column=column)
    out = pd.DataFrame({"speaker_id": speakers["speaker_id"].astype("str").to_numpy()})
    missing = out["speaker_id"].isna().to_numpy()
    if missing.any():
        raise InputError(MISSING_SPEAKER, row=int(missing.argmax()), column="speaker_id")
    duplicated = out["speaker_id"].duplicated().to_numpy()
    if duplicated.any():
        row = int(duplicated.argmax())
        speaker = out["speaker_id"].iloc[row]
        raise InputError(DUPLICATE_SPEAKER.format(speaker=speaker), row=row, column="speaker_id")
    for column in ("ref_words", "errors", "utterances"):
        if column not in speakers.columns:
            out[column] = np.nan
            continue
        values = pd.to_numeric(speakers[column], errors="coerce").astype("float64").to_numpy()
        bad = np.isnan(values) | (values < 0) | (values != np.floor(values))
        if bad.any():
            row = int(bad.argmax())
            raise InputError(BAD_COUNT.format(value=speakers[column].iloc[row]), row=row, column=column)
        out[column] = values
    return out


def _labelled(speakers: pd.DataFrame, partition: Partition) -> pd.DataFrame:
    """Speaker counts joined with their cohort; only speakers the partition assigns."""
    if not isinstance(partition, Partition):
        raise InputError(NOT_A_PARTITION.format(kind=type(partition).__name__))
    counts = speaker_counts(speakers)
    unknown = ~isin(partition.labels.index, counts["speaker_id"])
    if unknown.any():
        raise InputError(
            UNKNOWN_SPEAKERS.format(n=int(unknown.sum()), example=partition.labels.index[unknown][0]),
            column="speaker_id",
        )
    cohort = counts["speaker_id"].map(partition.labels)
    data = counts[cohort.notna().to_numpy()].copy()
    data["cohort"] = cohort[cohort.notna()].to_numpy()
    return data.reset_index(drop=True)


@dataclass
class _CohortBoot:
    """Per-cohort totals and their bootstrap resamples (internal)."""

    cohorts: list[str]
    totals: pd.DataFrame  # index cohort: speakers, utterances, ref_words, errors
    errors_boot: np.ndarray  # (n_boot, k)
    words_boot: np.ndarray  # (n_boot, k)


def _cohort_boot(data: pd.DataFrame, cohorts: list[str], n_boot: int, seed: int) -> _CohortBoot:
    codes = pd.Categorical(data["cohort"], categories=cohorts).codes
    totals = data.groupby(pd.Categorical(data["cohort"], categories=cohorts), observed=False).agg(
        speakers=("speaker_id", "size"),
        utterances=("utterances", lambda s: s.sum(min_count=1)),
        ref_words=("ref_words", "sum"),
        errors=("errors", "sum"),
    )
    totals.index = pd.Index(cohorts, name="cohort", dtype="str")
    rng = np.random.default_rng(seed)
    errors_boot, words_boot = stratified_totals(
        codes, data["errors"].to_numpy(), data["ref_words"].to_numpy(), len(cohorts), n_boot, rng
    )
    return _CohortBoot(cohorts, totals, errors_boot, words_boot)


def cohort_table(
    speakers: pd.DataFrame,
    partition: Partition,
    *,
    min_speakers: int = MIN_SPEAKERS,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """WER per cohort with speaker-bootstrap intervals, ranked worst first.

    Parameters
    ----------
    speakers : DataFrame
        Speaker table (``speaker_id``, ``ref_words``, ``errors``; ``utterances`` used for
        the utterance share when present).
    partition : Partition
        Speaker -> cohort. Speakers of the table it does not assign are not part of it.
    min_speakers : int, default 30
        Cohorts with fewer speakers are pooled into ``"other"``
        (:meth:`Partition.merge_small`); a pool still under the threshold gets no row,
        though its speakers count in the shares and in "the rest".
    confidence : float, default 0.95
        Coverage of the percentile intervals.
    n_boot : int, default 1000
        Bootstrap resamples (0: no intervals, the CI columns are NaN).
    seed : int, default 0
        Seed of the :class:`numpy.random.Generator` that draws the resamples.

    Returns
    -------
    DataFrame
        One row per reported cohort, worst (highest WER) first, columns
        :data:`COHORT_TABLE_COLUMNS`: ``wer`` = errors / ref_words; ``gap_vs_rest_pct`` =
        100 (WER_cohort − WER_rest) / WER_rest where the rest is every other speaker of the
        partition (NaN when the rest has WER 0); ``share_*_pct`` = the cohort's percentage
        of the partition's speakers / utterances. ``attrs["wergap"]`` carries the speaker
        table's provenance plus ``cohort_stats`` (method, min_speakers, unreported,
        excluded, confidence, n_boot, seed).

    Examples
    --------
    >>> table = cohort_table(speakers, GeoTree().fit(speakers).partition_)  # doctest: +SKIP
    >>> table[["cohort", "wer", "wer_ci_low", "wer_ci_high"]].head(1)  # doctest: +SKIP
    """
    check_options(confidence, n_boot)
    part = partition.merge_small(min_speakers)
    data = _labelled(speakers, part)
    boot = _cohort_boot(data, part.cohorts, n_boot, seed)
    totals = boot.totals
    all_errors, all_words = totals["errors"].sum(), totals["ref_words"].sum()
    wer = ratio(totals["errors"], totals["ref_words"])
    wer_rest = ratio(all_errors - totals["errors"], all_words - totals["ref_words"])
    gap = relative_gap_pct(wer, wer_rest)
    gap = np.where(np.isinf(gap), np.nan, gap)

    boot_wer = ratio(boot.errors_boot, boot.words_boot)
    rest_errors = boot.errors_boot.sum(axis=1, keepdims=True) - boot.errors_boot
    rest_words = boot.words_boot.sum(axis=1, keepdims=True) - boot.words_boot
    boot_gap = relative_gap_pct(boot_wer, ratio(rest_errors, rest_words))
    wer_low, wer_high = column_intervals(boot_wer, confidence)
    gap_low, gap_high = column_intervals(boot_gap, confidence)
    gap_low = np.where(np.isnan(gap), np.nan, gap_low)
    gap_high = np.where(np.isnan(gap), np.nan, gap_high)

    n_speakers = totals["speakers"].sum()
    n_utterances = totals["utterances"].sum(min_count=1)
    table = pd.DataFrame(
        {
            "cohort": totals.index.to_numpy(dtype=object),
            "definition": [part.definitions[c] for c in totals.index],
            "speakers": totals["speakers"].to_numpy(dtype=np.int64),
            "utterances": totals["utterances"].to_numpy(),
            "ref_words": totals["ref_words"].to_numpy(dtype=np.int64),
            "errors": totals["errors"].to_numpy(dtype=np.int64),
            "wer": wer,
            "wer_ci_low": wer_low,
            "wer_ci_high": wer_high,
            "gap_vs_rest_pct": gap,
            "gap_vs_rest_ci_low": gap_low,
            "gap_vs_rest_ci_high": gap_high,
            "share_speakers_pct": 100.0 * totals["speakers"].to_numpy() / n_speakers if n_speakers else np.nan,
            "share_utterances_pct": (100.0 * totals["utterances"] / n_utterances).to_numpy()
            if n_utterances and not pd.isna(n_utterances)
            else np.nan,
        }
    )
    if not table["utterances"].isna().any():
        table["utterances"] = table["utterances"].astype(np.int64)
    table["cohort"] = table["cohort"].astype("str")
    table = table[~table["cohort"].isin(part.unreported)]
    table = table.sort_values(["wer", "cohort"], ascending=[False, True], na_position="last", kind="stable")
    table = table.reset_index(drop=True)[COHORT_TABLE_COLUMNS]
    return carry(
        speakers,
        table,
        cohort_stats={
            "method": part.method,
            "min_speakers": min_speakers,
            "unreported": {c: int(totals.loc[c, "speakers"]) for c in part.unreported},
            "excluded": dict(part.excluded),
            "binary": part.binary,
            "confidence": confidence,
            "n_boot": n_boot,
            "seed": seed,
        },
    )


@dataclass
class GapSummary:
    """The gap between the worst- and best-served cohorts of one partition.

    Attributes
    ----------
    method : str
        The partition's method.
    bottom, top : str
        Cohort labels (a pooled bottom is its labels joined by ``" + "``).
    bottom_definition, top_definition : str
    bottom_cohorts : tuple of str
        The cohorts forming the bottom (one unless ``bottom_share`` pooled several).
    wer_bottom, wer_top : float
    gap_pct, gap_ci_low, gap_ci_high : float
        100 (WER_bottom − WER_top) / WER_top and its percentile interval. For a binary
        partition the top is the other side, so this is inside against the rest.
    gap_vs_rest_pct, gap_vs_rest_ci_low, gap_vs_rest_ci_high : float
        The bottom against every other speaker of the partition.
    bottom_share_pct, bottom_utterance_share_pct : float
        The bottom's percentage of the partition's speakers and utterances.
    n_speakers : int
        Speakers in the partition.
    n_cohorts : int
        Cohorts reported (at least ``min_speakers`` speakers, after pooling).
    confidence : float
    reason : str or None
        Why a number is NaN (fewer than two cohorts, a top cohort with WER 0, ...).
    """

    method: str
    bottom: str | None
    top: str | None
    bottom_definition: str | None
    top_definition: str | None
    wer_bottom: float
    wer_top: float
    gap_pct: float
    gap_ci_low: float
    gap_ci_high: float
    gap_vs_rest_pct: float
    gap_vs_rest_ci_low: float
    gap_vs_rest_ci_high: float
    bottom_share_pct: float
    bottom_utterance_share_pct: float
    n_speakers: int
    n_cohorts: int
    confidence: float
    bottom_cohorts: tuple[str, ...] = field(default_factory=tuple)
    reason: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.confidence < 1.0:
            raise InputError(BAD_CONFIDENCE.format(value=self.confidence))
        self.bottom_cohorts = tuple(self.bottom_cohorts)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict (JSON-ready except for NaN floats)."""
        out = asdict(self)
        out["bottom_cohorts"] = list(self.bottom_cohorts)
        return out


def _bottom_pool(table: pd.DataFrame, n_speakers: int, bottom_share: float | None) -> list[str]:
    """Worst cohorts (table is ranked worst first) making up the bottom."""
    ranked = table["cohort"].tolist()
    if bottom_share is None:
        return ranked[:1]
    pool: list[str] = []
    covered = 0
    for cohort, size in zip(ranked[:-1], table["speakers"].tolist()[:-1]):
        pool.append(cohort)
        covered += size
        if covered >= bottom_share * n_speakers:
            break
    return pool


def gap_summary(
    speakers: pd.DataFrame,
    partition: Partition,
    *,
    bottom_share: float | None = None,
    min_speakers: int = MIN_SPEAKERS,
    max_bottom_share: float | None = MAX_BOTTOM_SHARE,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
) -> GapSummary:
    """Bottom-vs-top WER gap of a partition, with speaker-bootstrap intervals.

    Parameters
    ----------
    speakers : DataFrame
        Speaker table.
    partition : Partition
        Speaker -> cohort.
    bottom_share : float, optional
        Pool the worst cohorts, worst first, until they hold at least this fraction of the
        partition's speakers (e.g. 0.10, for k-means with many small clusters); the pool is
        the bottom. The best cohort is never pooled. Default: the single worst cohort.
    min_speakers : int, default 30
        As in :func:`cohort_table`: smaller cohorts are pooled and never bottom or top.
        The pool (``"other"``, :attr:`Partition.pooled`) is never bottom or top either,
        however large: a mix of unrelated small cohorts is no target for mitigation.
    max_bottom_share : float or None, default 0.5
        For a binary partition, a worse side holding more than this share of the speakers
        is not a bottom cohort (a small group served well by chance makes its huge
        complement "worse"): the gap is then NaN with the reason. ``None``: no limit.
    confidence, n_boot, seed
        As in :func:`cohort_table` (same seed, same resamples).

    Returns
    -------
    GapSummary
        NaN numbers with a ``reason`` instead of an exception when fewer than two cohorts
        are rankable, the worse side of a binary split is too large, or the top cohort's
        WER is 0 (the relative gap would be infinite).
    """
    if bottom_share is not None and not 0.0 < float(bottom_share) < 1.0:
        raise InputError(BAD_BOTTOM_SHARE.format(value=bottom_share))
    if max_bottom_share is not None and not 0.0 < float(max_bottom_share) <= 1.0:
        raise InputError(BAD_MAX_BOTTOM_SHARE.format(value=max_bottom_share))
    check_options(confidence, n_boot)
    part = partition.merge_small(min_speakers)
    data = _labelled(speakers, part)
    boot = _cohort_boot(data, part.cohorts, n_boot, seed)
    totals = boot.totals
    n_speakers = int(totals["speakers"].sum())
    reported = totals.drop(index=list(part.unreported))
    reported = reported.assign(wer=ratio(reported["errors"], reported["ref_words"]))
    reported = reported[reported["ref_words"] > 0]
    table = reported.reset_index().sort_values(["wer", "cohort"], ascending=[False, True], kind="stable")
    n_reported = len(table)
    table = table[table["cohort"].isin(part.rankable)]
    nan = float("nan")

    def no_gap(reason: str) -> GapSummary:
        return GapSummary(
            method=part.method,
            bottom=None,
            top=None,
            bottom_definition=None,
            top_definition=None,
            wer_bottom=nan,
            wer_top=nan,
            gap_pct=nan,
            gap_ci_low=nan,
            gap_ci_high=nan,
            gap_vs_rest_pct=nan,
            gap_vs_rest_ci_low=nan,
            gap_vs_rest_ci_high=nan,
            bottom_share_pct=nan,
            bottom_utterance_share_pct=nan,
            n_speakers=n_speakers,
            n_cohorts=n_reported,
            confidence=confidence,
            reason=reason,
        )

    if len(table) < 2:
        pooled = [c for c in part.pooled if c in set(reported.index)]
        besides = BESIDES_POOLED.format(pooled=pooled[0]) if pooled else ""
        return no_gap(FEWER_THAN_TWO.format(min_speakers=min_speakers, besides=besides))
    if part.binary and max_bottom_share is not None and n_speakers:
        worse = str(table["cohort"].iloc[0])
        share = float(totals.loc[worse, "speakers"]) / n_speakers
        if share > max_bottom_share + 1e-12:
            return no_gap(BOTTOM_TOO_BIG.format(bottom=worse, share=100 * share, limit=100 * max_bottom_share))
    pool = _bottom_pool(table, n_speakers, bottom_share)
    top = str(table["cohort"].iloc[-1])
    position = {c: i for i, c in enumerate(part.cohorts)}
    in_pool = np.zeros(len(part.cohorts), dtype=bool)
    in_pool[[position[c] for c in pool]] = True
    top_index = position[top]

    def wer_of(errors: np.ndarray, words: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return ratio(errors[..., mask].sum(axis=-1), words[..., mask].sum(axis=-1))

    errors = totals["errors"].to_numpy(dtype=np.float64)
    words = totals["ref_words"].to_numpy(dtype=np.float64)
    top_mask = np.zeros_like(in_pool)
    top_mask[top_index] = True
    wer_bottom = float(wer_of(errors, words, in_pool))
    wer_top = float(wer_of(errors, words, top_mask))
    wer_rest = float(wer_of(errors, words, ~in_pool))
    reasons = []
    gap = float(relative_gap_pct(wer_bottom, wer_top))
    if math.isinf(gap) or wer_top == 0:
        gap = nan
        reasons.append(ZERO_TOP.format(top=top))
    gap_rest = float(relative_gap_pct(wer_bottom, wer_rest))
    if math.isinf(gap_rest) or wer_rest == 0:
        gap_rest = nan
        reasons.append(ZERO_REST)
    boot_bottom = wer_of(boot.errors_boot, boot.words_boot, in_pool)
    gap_low, gap_high = (
        percentile_interval(
            relative_gap_pct(boot_bottom, wer_of(boot.errors_boot, boot.words_boot, top_mask)), confidence
        )
        if not math.isnan(gap)
        else (nan, nan)
    )
    rest_low, rest_high = (
        percentile_interval(
            relative_gap_pct(boot_bottom, wer_of(boot.errors_boot, boot.words_boot, ~in_pool)), confidence
        )
        if not math.isnan(gap_rest)
        else (nan, nan)
    )
    pool_sizes = totals.loc[pool]
    n_utterances = totals["utterances"].sum(min_count=1)
    utterance_share = (
        float(100.0 * pool_sizes["utterances"].sum() / n_utterances)
        if not pd.isna(n_utterances) and n_utterances > 0
        else nan
    )
    if len(pool) == 1:
        bottom, bottom_definition = pool[0], part.definitions[pool[0]]
    else:
        bottom = " + ".join(pool)
        bottom_definition = "; ".join(f"{c}: {part.definitions[c]}" for c in pool)
    return GapSummary(
        method=part.method,
        bottom=bottom,
        top=top,
        bottom_definition=bottom_definition,
        top_definition=part.definitions[top],
        wer_bottom=wer_bottom,
        wer_top=wer_top,
        gap_pct=gap,
        gap_ci_low=gap_low,
        gap_ci_high=gap_high,
        gap_vs_rest_pct=gap_rest,
        gap_vs_rest_ci_low=rest_low,
        gap_vs_rest_ci_high=rest_high,
        bottom_share_pct=float(100.0 * pool_sizes["speakers"].sum() / n_speakers),
        bottom_utterance_share_pct=utterance_share,
        n_speakers=n_speakers,
        n_cohorts=n_reported,
        confidence=confidence,
        bottom_cohorts=tuple(pool),
        reason="; ".join(reasons) or None,
    )


def overall_wer(speakers: pd.DataFrame, *, confidence: float = 0.95, n_boot: int = 1000, seed: int = 0) -> pd.Series:
    """WER over every speaker, with a speaker-bootstrap percentile interval.

    Returns
    -------
    Series
        ``speakers, utterances, ref_words, errors, wer, wer_ci_low, wer_ci_high``.
    """
    check_options(confidence, n_boot)
    counts = speaker_counts(speakers)
    errors_boot, words_boot = stratified_totals(
        np.zeros(len(counts), dtype=np.intp),
        counts["errors"].to_numpy(),
        counts["ref_words"].to_numpy(),
        1,
        n_boot,
        np.random.default_rng(seed),
    )
    low, high = percentile_interval(ratio(errors_boot[:, 0], words_boot[:, 0]), confidence)
    errors, words = counts["errors"].sum(), counts["ref_words"].sum()
    return pd.Series(
        {
            "speakers": len(counts),
            "utterances": counts["utterances"].sum(min_count=1),
            "ref_words": words,
            "errors": errors,
            "wer": float(ratio(errors, words)),
            "wer_ci_low": low,
            "wer_ci_high": high,
        },
        name="overall",
    )


#: Interval columns :func:`split_intervals` adds.
SPLIT_INTERVAL_COLUMNS = ("wer_in_ci_low", "wer_in_ci_high", "wer_out_ci_low", "wer_out_ci_high")


def split_intervals(
    speakers: pd.DataFrame,
    splits: pd.DataFrame,
    partitions: Sequence[Partition],
    *,
    top: int = 8,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """The first ``top`` binary splits with speaker-bootstrap intervals of the WER on each side.

    ``splits`` is a ranked split table with ``cohort_in``/``cohort_out`` (such as
    :attr:`wergap.discovery.CensusSplits.splits_`) and ``partitions`` the matching
    partitions, in the same order. Each split is bootstrapped as :func:`cohort_table`
    does (speakers resampled within each side). The intervals describe each split on its
    own: they do not account for the search that ranked it first (the held-out gap does).

    Returns
    -------
    DataFrame
        ``splits.head(top)`` plus :data:`SPLIT_INTERVAL_COLUMNS` (fractions).
    """
    check_options(confidence, n_boot)
    out = splits.head(top).reset_index(drop=True).copy()
    values = {column: np.full(len(out), np.nan) for column in SPLIT_INTERVAL_COLUMNS}
    for i in range(len(out)):
        table = cohort_table(
            speakers, partitions[i], min_speakers=1, confidence=confidence, n_boot=n_boot, seed=seed
        ).set_index("cohort")
        for side in ("in", "out"):
            cohort = out.at[i, f"cohort_{side}"]
            if cohort in table.index:
                values[f"wer_{side}_ci_low"][i] = table.at[cohort, "wer_ci_low"]
                values[f"wer_{side}_ci_high"][i] = table.at[cohort, "wer_ci_high"]
    for column, column_values in values.items():
        out[column] = column_values
    return out
