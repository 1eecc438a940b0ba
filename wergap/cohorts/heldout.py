"""Held-out gap: discover cohorts on half the speakers, measure their gap on the other half.

A cohort found by maximising a WER gap overstates that gap (the search picks up noise that
happens to point the same way). :func:`held_out_gap` splits the speakers in two at random,
fits a fresh clone of the discovery estimator on one half, takes the bottom and top cohorts
it found there, assigns the other half's speakers to those cohorts with the estimator's
``predict``, and measures the gap of the same two cohorts on speakers the search never saw;
then swaps the halves. With no real disparity the held-out gap centres on 0.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from wergap.cohorts.bootstrap import (
    comonotone_mean,
    percentile_interval,
    ratio,
    relative_gap_pct,
    stratified_totals,
)
from wergap.cohorts.stats import (
    BAD_BOTTOM_SHARE,
    check_options,
    gap_summary,
    speaker_counts,
)
from wergap.defaults import MAX_BOTTOM_SHARE
from wergap.errors import InputError

TOO_FEW_SPEAKERS = "need at least 4 speakers to split in two, got {n}"
FIT_FAILED = "discovery on half {half} failed: {error}"
NO_GAP_ON_DISCOVERY = "no bottom/top pair on half {half}: {reason}"
EMPTY_ON_OTHER_HALF = "cohort {cohort!r} found on half {found} has no speakers with reference words on half {measured}"
ZERO_TOP_HELD_OUT = "top cohort {cohort!r} has WER 0 on half {measured}: relative gap infinite, reported as NaN"
TOO_FEW_HELD_OUT = (
    "cohort {cohort!r} has {n} speakers on half {measured}, fewer than min_speakers={min_speakers}: "
    "not measured (no statistic of fewer speakers is reported)"
)
ONE_FOLD_ONLY = "only fold {fold} could be measured; the held-out gap is that fold's"
NO_FOLD = "neither fold could be measured ({why})"
#: What to change when a half is too small for the search (every surface shows it).
HINT = "each half has {n} speakers: lower min_speakers (--min-speakers) or add speakers"

#: Columns of :attr:`HeldOutGap.folds`.
FOLD_COLUMNS = [
    "fold",
    "discovered_on",
    "measured_on",
    "bottom",
    "top",
    "in_sample_gap_pct",
    "speakers_bottom",
    "speakers_top",
    "unassigned",
    "wer_bottom",
    "wer_top",
    "gap_pct",
    "gap_ci_low",
    "gap_ci_high",
    "reason",
]


@dataclass
class HeldOutGap:
    """Two-fold held-out WER gap.

    Attributes
    ----------
    gap_pct : float
        Mean over the folds that could be measured of 100 (WER_bottom − WER_top) / WER_top,
        measured on the half the cohorts were not discovered on.
    ci_low, ci_high : float
        Percentile interval of the held-out gap. Each fold is bootstrapped on its
        measuring half (speakers resampled within the bottom and within the top cohort,
        cohort identities fixed by the discovery half); the two folds' resample distributions are averaged quantile by quantile
        (:func:`wergap.cohorts.bootstrap.comonotone_mean`): the folds are not independent,
        since each fold's cohorts are chosen on the half the other fold measures. With one fold
        measurable, that fold's interval.
    in_sample_gap_pct : float
        Mean of the gaps each fold found on its own discovery half (what the search
        reports), for comparison.
    folds : DataFrame
        One row per fold, columns :data:`FOLD_COLUMNS`.
    confidence, n_boot, seed
        As called.
    reason : str or None
        Why the gap is NaN or rests on one fold.
    """

    gap_pct: float
    ci_low: float
    ci_high: float
    in_sample_gap_pct: float
    folds: pd.DataFrame
    confidence: float
    n_boot: int
    seed: int
    reason: str | None = None
    n_folds: int = field(init=False)

    def __post_init__(self) -> None:
        if list(self.folds.columns) != FOLD_COLUMNS:
            raise ValueError(f"HeldOutGap.folds must have columns {FOLD_COLUMNS}")
        self.n_folds = int(self.folds["gap_pct"].notna().sum())

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict; ``folds`` as a list of records."""
        out = asdict(self)
        out["folds"] = self.folds.astype(object).where(self.folds.notna(), None).to_dict("records")
        return out


def _split(speaker_ids: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(speaker_ids))
    half = len(order) // 2
    return np.sort(order[:half]), np.sort(order[half:])


def _fold(
    estimator: Any,
    speakers: pd.DataFrame,
    counts: pd.DataFrame,
    discover: np.ndarray,
    measure: np.ndarray,
    names: tuple[str, str],
    *,
    bottom_share: float | None,
    min_speakers: int,
    max_bottom_share: float | None,
    confidence: float,
    n_boot: int,
    rng: np.random.Generator,
) -> tuple[dict[str, Any], np.ndarray]:
    found, measured = names
    nan = float("nan")
    row: dict[str, Any] = dict.fromkeys(FOLD_COLUMNS, nan)
    row.update(discovered_on=found, measured_on=measured, bottom=None, top=None, reason=None)
    no_boot = np.full(n_boot, nan)
    half_a = speakers.iloc[discover].reset_index(drop=True)
    half_b = speakers.iloc[measure].reset_index(drop=True)
    try:
        fitted = clone(estimator).fit(half_a)
    except ValueError as error:  # InputError is a ValueError; so are sklearn's size errors
        row["reason"] = FIT_FAILED.format(half=found, error=error)
        return row, no_boot
    summary = gap_summary(
        half_a,
        fitted.partition_,
        bottom_share=bottom_share,
        min_speakers=min_speakers,
        max_bottom_share=max_bottom_share,
        n_boot=0,
    )
    if summary.bottom is None:
        row["reason"] = NO_GAP_ON_DISCOVERY.format(half=found, reason=summary.reason)
        return row, no_boot
    row.update(bottom=summary.bottom, top=summary.top, in_sample_gap_pct=summary.gap_pct)

    assigned = fitted.predict(half_b)
    labels = pd.Series(np.asarray(assigned, dtype=object), index=pd.Index(assigned.index).astype(str))
    labels = labels.reindex(counts["speaker_id"].iloc[measure].to_numpy())
    row["unassigned"] = int(labels.isna().sum())
    values = labels.to_numpy(dtype=object)
    side = np.full(len(values), -1)
    side[np.isin(values, list(summary.bottom_cohorts))] = 0
    side[values == summary.top] = 1
    half_counts = counts.iloc[measure]
    keep = side >= 0
    errors = half_counts["errors"].to_numpy()[keep]
    words = half_counts["ref_words"].to_numpy()[keep]
    codes = side[keep]
    row["speakers_bottom"] = int((codes == 0).sum())
    row["speakers_top"] = int((codes == 1).sum())
    for k, cohort in ((0, summary.bottom), (1, summary.top)):
        n = int((codes == k).sum())
        if 0 < n < min_speakers:
            row["reason"] = TOO_FEW_HELD_OUT.format(cohort=cohort, n=n, measured=measured, min_speakers=min_speakers)
            return row, no_boot
    wer = [float(ratio(errors[codes == k].sum(), words[codes == k].sum())) for k in (0, 1)]
    row["wer_bottom"], row["wer_top"] = wer
    for k, cohort in ((0, summary.bottom), (1, summary.top)):
        if math.isnan(wer[k]):
            row["reason"] = EMPTY_ON_OTHER_HALF.format(cohort=cohort, found=found, measured=measured)
            return row, no_boot
    if wer[1] == 0:
        row["reason"] = ZERO_TOP_HELD_OUT.format(cohort=summary.top, measured=measured)
        return row, no_boot
    row["gap_pct"] = float(relative_gap_pct(wer[0], wer[1]))
    errors_boot, words_boot = stratified_totals(codes, errors, words, 2, n_boot, rng)
    boot_wer = ratio(errors_boot, words_boot)
    boot_gap = relative_gap_pct(boot_wer[:, 0], boot_wer[:, 1])
    row["gap_ci_low"], row["gap_ci_high"] = percentile_interval(boot_gap, confidence)
    return row, boot_gap


def held_out_gap(
    estimator: Any,
    speakers: pd.DataFrame,
    *,
    seed: int = 0,
    bottom_share: float | None = None,
    min_speakers: int | None = None,
    max_bottom_share: float | None = MAX_BOTTOM_SHARE,
    confidence: float = 0.95,
    n_boot: int = 1000,
) -> HeldOutGap:
    """Two-fold held-out bottom-vs-top gap of a discovery estimator.

    Parameters
    ----------
    estimator : scikit-learn style estimator
        Unfitted or fitted (it is cloned, never modified): ``fit(speakers)`` sets
        ``partition_``; ``predict(speakers)`` returns a Series (index ``speaker_id``) of
        cohort labels or NA. ``GeoTree``, ``CensusSplits``, ``EmbeddingKMeans``.
    speakers : DataFrame
        Speaker table with whatever columns the estimator reads.
    seed : int, default 0
        Seeds the split into halves and the bootstrap.
    bottom_share : float, optional
        Pool the worst cohorts found on the discovery half until they hold this share of
        its speakers (as :func:`gap_summary`).
    min_speakers : int, optional
        Smallest cohort that may be bottom or top on the discovery half; defaults to the
        estimator's own ``min_speakers`` parameter (1 if it has none).
    max_bottom_share : float or None, default 0.5
        As :func:`gap_summary`: the worse side of a binary split holding more of the
        discovery half's speakers is not a bottom cohort.
    confidence : float, default 0.95
    n_boot : int, default 1000

    Returns
    -------
    HeldOutGap
        A fold whose bottom or top cohort has no speakers (with words) on the measuring
        half, or whose discovery fails on its half, is NaN with a reason; the mean then
        rests on the other fold.
    """
    check_options(confidence, n_boot)
    if bottom_share is not None and not 0.0 < float(bottom_share) < 1.0:
        raise InputError(BAD_BOTTOM_SHARE.format(value=bottom_share))
    counts = speaker_counts(speakers)
    if len(counts) < 4:
        raise InputError(TOO_FEW_SPEAKERS.format(n=len(counts)))
    if min_speakers is None:
        min_speakers = int(estimator.get_params().get("min_speakers", 1)) if hasattr(estimator, "get_params") else 1
    split_seed, boot_seed = np.random.SeedSequence(seed).spawn(2)
    half_1, half_2 = _split(counts["speaker_id"].to_numpy(), np.random.default_rng(split_seed))
    rng = np.random.default_rng(boot_seed)
    rows, boots = [], []
    for fold, (discover, measure, names) in enumerate(((half_1, half_2, ("A", "B")), (half_2, half_1, ("B", "A"))), 1):
        row, boot = _fold(
            estimator,
            speakers,
            counts,
            discover,
            measure,
            names,
            bottom_share=bottom_share,
            min_speakers=min_speakers,
            max_bottom_share=max_bottom_share,
            confidence=confidence,
            n_boot=n_boot,
            rng=rng,
        )
        row["fold"] = fold
        rows.append(row)
        boots.append(boot)
    folds = pd.DataFrame(rows)[FOLD_COLUMNS]
    measured = folds["gap_pct"].notna().to_numpy()
    nan = float("nan")
    in_sample = folds["in_sample_gap_pct"].astype(float)
    in_sample_mean = float(in_sample.mean()) if in_sample.notna().any() else nan
    common = dict(folds=folds, confidence=confidence, n_boot=n_boot, seed=seed, in_sample_gap_pct=in_sample_mean)
    if not measured.any():
        why = str(folds["reason"].dropna().iloc[0]) if folds["reason"].notna().any() else "no reason recorded"
        if "min_speakers" not in why:
            why = f"{why}; {HINT.format(n=len(half_1))}"
        return HeldOutGap(gap_pct=nan, ci_low=nan, ci_high=nan, reason=NO_FOLD.format(why=why), **common)
    if measured.all():
        gap = float(folds["gap_pct"].mean())
        mean_draws = comonotone_mean(boots, n_boot) if n_boot else None
        low, high = percentile_interval(mean_draws, confidence) if mean_draws is not None else (nan, nan)
        return HeldOutGap(gap_pct=gap, ci_low=low, ci_high=high, **common)
    k = int(np.flatnonzero(measured)[0])
    return HeldOutGap(
        gap_pct=float(folds["gap_pct"].iloc[k]),
        ci_low=float(folds["gap_ci_low"].iloc[k]),
        ci_high=float(folds["gap_ci_high"].iloc[k]),
        reason=ONE_FOLD_ONLY.format(fold=k + 1),
        **common,
    )
