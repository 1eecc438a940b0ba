"""The paired speaker bootstrap behind a comparison of two systems.

One resample draws speakers (within each cohort, cohort identities fixed) and takes both
systems' counts of the drawn speakers, so the noise the two systems share cancels in the
change; a change is called only when its interval excludes 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from wergap._strings import isin
from wergap.cohorts.bootstrap import (
    CHUNK_ELEMENTS,
    comonotone_mean,
    percentile_interval,
    ratio,
    relative_gap_pct,
)
from wergap.cohorts.partition import Partition
from wergap.cohorts.stats import gap_summary
from wergap.comparison.result import COMPARE_COLUMNS, COMPARE_SUMMARY_COLUMNS


def paired_totals(
    codes: np.ndarray, values: np.ndarray, n_strata: int, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """Stratified speaker-bootstrap totals of several count columns from the same draws.

    Parameters
    ----------
    codes : ndarray of int, shape (n,)
        Stratum (cohort) of each speaker, ``0 .. n_strata - 1``.
    values : ndarray, shape (n, m)
        Per-speaker counts, e.g. base errors, base words, candidate errors, candidate words.
    n_strata, n_boot : int
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of float64, shape (n_boot, n_strata, m)
        Totals per resample and stratum. All ``m`` columns of a resample sum the *same*
        drawn speakers: that is what makes a difference between systems paired.
    """
    values = np.asarray(values, dtype=np.float64)
    codes = np.asarray(codes)
    out = np.zeros((n_boot, n_strata, values.shape[1]))
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_strata + 1))
    for s in range(n_strata):
        members = values[order[bounds[s] : bounds[s + 1]]]
        size = len(members)
        if size == 0:
            continue
        step = max(1, CHUNK_ELEMENTS // (size * values.shape[1]))
        for start in range(0, n_boot, step):
            stop = min(n_boot, start + step)
            draws = rng.integers(0, size, size=(stop - start, size), dtype=np.int32)
            out[start:stop, s, :] = members[draws].sum(axis=1)
    return out


# --------------------------------------------------------------------------- alignment


def outcome(low: float, high: float, change: float) -> str:
    if math.isnan(change):
        return "unmeasured"
    if not (math.isnan(low) or math.isnan(high)):
        if high < 0:
            return "narrowed"
        if low > 0:
            return "widened"
        return "no detectable change"
    return "no detectable change"


def compare_partition(
    spk: pd.DataFrame,
    partition: Partition,
    *,
    min_speakers: int,
    bottom_share: float | None,
    confidence: float,
    n_boot: int,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, int]]:
    method = partition.method
    ids = spk["speaker_id"].to_numpy(dtype=object)
    in_logs = isin(partition.labels.index, ids)
    excluded = dict(partition.excluded)
    if (~in_logs).any():
        excluded["no shared utterances"] = int((~in_logs).sum())
    labels = partition.labels[in_logs]
    unplaced = int((~isin(spk["speaker_id"], partition.labels.index)).sum())
    if unplaced:
        excluded["not in the partition"] = excluded.get("not in the partition", 0) + unplaced
    part = Partition(method, labels, partition.definitions, excluded=excluded, binary=partition.binary)
    part = part.merge_small(min_speakers)
    base_table = pd.DataFrame(
        {
            "speaker_id": spk["speaker_id"],
            "ref_words": spk["words_base"],
            "errors": spk["errors_base"],
            "utterances": spk["utterances"],
        }
    )
    base_gap = gap_summary(base_table, part, bottom_share=bottom_share, min_speakers=min_speakers, n_boot=0)
    cohorts = part.cohorts
    cohort_of = spk["speaker_id"].map(part.labels)
    keep = cohort_of.notna().to_numpy()
    data = spk[keep]
    codes = pd.Categorical(cohort_of[keep], categories=cohorts).codes
    values = data[["errors_base", "words_base", "errors_cand", "words_cand"]].to_numpy(dtype=np.float64)
    k = len(cohorts)
    totals = np.zeros((k, 4))
    np.add.at(totals, codes, values)
    n_spk = np.bincount(codes, minlength=k)
    n_utt = np.bincount(codes, weights=data["utterances"].to_numpy(dtype=np.float64), minlength=k)
    boot = paired_totals(codes, values, k, n_boot, rng) if n_boot else np.zeros((0, k, 4))

    wer_b, wer_c = ratio(totals[:, 0], totals[:, 1]), ratio(totals[:, 2], totals[:, 3])
    boot_b, boot_c = ratio(boot[..., 0], boot[..., 1]), ratio(boot[..., 2], boot[..., 3])
    rows = []
    bottom_set = set(base_gap.bottom_cohorts)
    for j, cohort in enumerate(cohorts):
        if cohort in part.unreported:
            continue
        change = 100 * (wer_c[j] - wer_b[j])
        low, high = percentile_interval(100 * (boot_c[:, j] - boot_b[:, j]), confidence) if n_boot else (math.nan,) * 2
        rel = float(relative_gap_pct(wer_c[j], wer_b[j]))
        rel_low, rel_high = (
            percentile_interval(relative_gap_pct(boot_c[:, j], boot_b[:, j]), confidence)
            if n_boot and math.isfinite(rel)
            else (math.nan,) * 2
        )
        role = "bottom" if cohort in bottom_set else ("top" if cohort == base_gap.top else "")
        rows.append(
            {
                "method": method,
                "cohort": cohort,
                "definition": part.definitions[cohort],
                "role": role,
                "speakers": int(n_spk[j]),
                "utterances": int(n_utt[j]),
                "wer_base": float(wer_b[j]),
                "wer_candidate": float(wer_c[j]),
                "change_pts": float(change),
                "change_ci_low": low,
                "change_ci_high": high,
                "relative_change_pct": rel if math.isfinite(rel) else math.nan,
                "relative_change_ci_low": rel_low,
                "relative_change_ci_high": rel_high,
            }
        )
    table = pd.DataFrame(rows, columns=COMPARE_COLUMNS)
    table = table.sort_values(["wer_base", "cohort"], ascending=[False, True], kind="stable").reset_index(drop=True)

    nan = math.nan
    summary: dict[str, Any] = dict.fromkeys(COMPARE_SUMMARY_COLUMNS, nan)
    summary.update(method=method, bottom=base_gap.bottom, top=base_gap.top, speakers=int(n_spk.sum()), note=None)
    if base_gap.bottom is None or base_gap.top is None:  # None together (no gap)
        summary.update(outcome="unmeasured", note=base_gap.reason)
        return table, summary, part.excluded
    position = {c: i for i, c in enumerate(cohorts)}
    bottom_mask = np.zeros(k, dtype=bool)
    bottom_mask[[position[c] for c in base_gap.bottom_cohorts]] = True
    top_mask = np.zeros(k, dtype=bool)
    top_mask[position[base_gap.top]] = True

    def gap_of(t: np.ndarray, e: int, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        bottom = ratio(t[..., bottom_mask, e].sum(axis=-1), t[..., bottom_mask, w].sum(axis=-1))
        top = ratio(t[..., top_mask, e].sum(axis=-1), t[..., top_mask, w].sum(axis=-1))
        return bottom, top, relative_gap_pct(bottom, top)

    notes = []
    wb_bottom, wb_top, gap_b = (float(x) for x in gap_of(totals, 0, 1))
    wc_bottom, wc_top, gap_c = (float(x) for x in gap_of(totals, 2, 3))
    for name, value, top_wer in (("baseline", gap_b, wb_top), ("candidate", gap_c, wc_top)):
        if not math.isfinite(value) or top_wer == 0:
            notes.append(f"the top cohort {base_gap.top!r} has WER 0 on the {name}: relative gap infinite")
    gap_b = gap_b if math.isfinite(gap_b) and wb_top > 0 else nan
    gap_c = gap_c if math.isfinite(gap_c) and wc_top > 0 else nan
    summary.update(
        wer_bottom_base=wb_bottom,
        wer_bottom_candidate=wc_bottom,
        wer_top_base=wb_top,
        wer_top_candidate=wc_top,
        gap_base_pct=gap_b,
        gap_candidate_pct=gap_c,
        gap_change_pts=gap_c - gap_b,
    )
    if n_boot and not math.isnan(gap_b - gap_c):
        boot_gap_b = gap_of(boot, 0, 1)[2]
        boot_gap_c = gap_of(boot, 2, 3)[2]
        summary["gap_base_ci_low"], summary["gap_base_ci_high"] = percentile_interval(boot_gap_b, confidence)
        summary["gap_candidate_ci_low"], summary["gap_candidate_ci_high"] = percentile_interval(boot_gap_c, confidence)
        diff = boot_gap_c - boot_gap_b
        diff = diff[np.isfinite(diff)] if not np.isfinite(diff).all() else diff
        summary["gap_change_ci_low"], summary["gap_change_ci_high"] = percentile_interval(diff, confidence)
    summary["outcome"] = outcome(summary["gap_change_ci_low"], summary["gap_change_ci_high"], summary["gap_change_pts"])
    summary["note"] = "; ".join(notes) or None
    return table, summary, part.excluded


def held_out_change(
    estimator: Any,
    meta: pd.DataFrame,
    spk: pd.DataFrame,
    *,
    bottom_share: float | None,
    min_speakers: int,
    confidence: float,
    n_boot: int,
    seed: int,
) -> tuple[dict[str, float], str | None]:
    """Two-fold held-out change of the gap between a baseline and a candidate system.

    :func:`held_out_systems` with two systems (``spk`` holds both systems' counts per
    speaker, in ``meta``'s order); returns the baseline's and the candidate's held-out gap
    and the change with its interval, and a reason when NaN.
    """
    values = spk[["errors_base", "words_base", "errors_cand", "words_cand"]].to_numpy(dtype=np.float64)
    held, reason = held_out_systems(
        estimator,
        meta,
        values,
        ("base", "candidate"),
        bottom_share=bottom_share,
        min_speakers=min_speakers,
        confidence=confidence,
        n_boot=n_boot,
        seed=seed,
    )
    out = {
        "held_out_gap_base_pct": float(held["gap"][0]),
        "held_out_gap_candidate_pct": float(held["gap"][1]),
        "held_out_change_pts": float(held["change"][1]),
        "held_out_change_ci_low": float(held["change_ci_low"][1]),
        "held_out_change_ci_high": float(held["change_ci_high"][1]),
    }
    return out, reason


def held_out_systems(
    estimator: Any,
    meta: pd.DataFrame,
    values: np.ndarray,
    names: Sequence[str],
    *,
    bottom_share: float | None,
    min_speakers: int,
    confidence: float,
    n_boot: int,
    seed: int,
) -> tuple[dict[str, np.ndarray], str | None]:
    """Two-fold held-out gap of every system and its paired change against the first.

    Each fold fits a clone of the discovery estimator on one half of the speakers (the
    discovery basis's counts, ``meta``), takes its bottom and top cohorts, assigns the
    other half's speakers with ``predict`` and measures every system's gap between those
    cohorts there, all systems from the same paired resamples. The folds' estimates are
    averaged; their resample distributions are averaged quantile by quantile (comonotone
    coupling, as :func:`wergap.comparison.paired_bootstrap.held_out_change` explains).

    Returns
    -------
    numbers : dict of str to ndarray
        ``gap``, ``gap_ci_low``, ``gap_ci_high`` (one per system), ``change``,
        ``change_ci_low``, ``change_ci_high`` (system against the first; 0 for the first).
    reason : str or None
        Why some or all numbers are NaN.
    """
    from sklearn.base import clone

    n_sys = len(names)
    nan = np.full(n_sys, np.nan)
    out = {key: nan.copy() for key in ("gap", "gap_ci_low", "gap_ci_high", "change", "change_ci_low", "change_ci_high")}
    ids = meta["speaker_id"].to_numpy(dtype=object)
    if len(ids) < 4:
        return out, "fewer than 4 speakers: no held-out halves"
    split_seed, boot_seed = np.random.SeedSequence(seed).spawn(2)
    order = np.random.default_rng(split_seed).permutation(len(ids))
    halves = (np.sort(order[: len(ids) // 2]), np.sort(order[len(ids) // 2 :]))
    rng = np.random.default_rng(boot_seed)
    estimates, gap_boots, reasons = [], [], []
    for fold, (discover, measure) in enumerate((halves, halves[::-1]), 1):
        half_a = meta.iloc[discover].reset_index(drop=True)
        half_b = meta.iloc[measure].reset_index(drop=True)
        try:
            fitted = clone(estimator).fit(half_a)
        except ValueError as error:
            reasons.append(f"fold {fold}: discovery failed: {error}")
            continue
        found = gap_summary(half_a, fitted.partition_, bottom_share=bottom_share, min_speakers=min_speakers, n_boot=0)
        if found.bottom is None:
            reasons.append(f"fold {fold}: {found.reason}")
            continue
        predicted = fitted.predict(half_b)
        labels = pd.Series(np.asarray(predicted, dtype=object), index=pd.Index(predicted.index).astype(str))
        labels = labels.reindex(ids[measure]).to_numpy(dtype=object)
        side = np.full(len(labels), -1)
        side[np.isin(labels, list(found.bottom_cohorts))] = 0
        side[labels == found.top] = 1
        keep = side >= 0
        codes, vals = side[keep], values[measure][keep]
        totals = np.zeros((2, 2 * n_sys))
        np.add.at(totals, codes, vals)
        gaps = relative_gap_pct(ratio(totals[0, 0::2], totals[0, 1::2]), ratio(totals[1, 0::2], totals[1, 1::2]))
        if not np.isfinite(gaps).all():
            reasons.append(f"fold {fold}: bottom or top cohort empty, or top WER 0, on the other half")
            continue
        estimates.append(gaps)
        b = paired_totals(codes, vals, 2, n_boot, rng) if n_boot else np.zeros((0, 2, 2 * n_sys))
        gap_boots.append(relative_gap_pct(ratio(b[:, 0, 0::2], b[:, 0, 1::2]), ratio(b[:, 1, 0::2], b[:, 1, 1::2])))
    if not estimates:
        return out, "held-out: " + "; ".join(reasons)
    mean = np.mean(estimates, axis=0)
    out["gap"] = mean
    out["change"] = mean - mean[0]
    if n_boot:
        for s in range(n_sys):
            draws = comonotone_mean([g[:, s] for g in gap_boots], n_boot)
            if draws is not None:
                out["gap_ci_low"][s], out["gap_ci_high"][s] = percentile_interval(draws, confidence)
            if s:
                diff = comonotone_mean([g[:, s] - g[:, 0] for g in gap_boots], n_boot)
                if diff is not None:
                    out["change_ci_low"][s], out["change_ci_high"][s] = percentile_interval(diff, confidence)
        out["change_ci_low"][0] = out["change_ci_high"][0] = 0.0
    return out, ("held-out on one fold only: " + "; ".join(reasons)) if reasons else None
