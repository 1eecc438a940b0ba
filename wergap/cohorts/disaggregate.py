"""WER disaggregated by a known attribute (gender, device, age band, accent, ...).

The complement of cohort discovery: when the log already says who is who, report WER per
value of that attribute, word-weighted, with a speaker bootstrap interval and the gap to the
best-served group — what Fairlearn's ``MetricFrame`` does for a classifier metric, with
ASR's corpus-level WER and speakers (not utterances) as the unit of resampling.

From scored utterances the unit is a speaker × value pair: a speaker who used two devices
contributes to both device groups, each with their own utterances. From a speaker table the
unit is the speaker.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from wergap.cohorts.bootstrap import (
    column_intervals,
    ratio,
    relative_gap_pct,
    stratified_totals,
    studentized_intervals,
)
from wergap.cohorts.stats import BAD_COUNT, MISSING_COLUMN, WER_COLUMNS, check_options
from wergap.defaults import MIN_GROUP_SPEAKERS
from wergap.errors import InputError
from wergap.provenance import add_drops, carry

MISSING_ATTRIBUTE = "missing attribute column {column!r} (the table has: {have})"
NO_GROUPS = "no rows with a value for {column!r}: nothing to disaggregate"
BAD_MIN_SPEAKERS = "min_speakers must be a positive integer, got {value!r}"
#: Note of a value with fewer speakers than the floor: listed by name and count, no WER.
TOO_FEW = "too few speakers (under {min_speakers}): no WER shown"
#: Joins the values of several attributes into one group name ("female · mobile").
JOIN = " · "

#: Columns of :func:`disaggregate`, in order.
DISAGGREGATE_COLUMNS = [
    "attribute",
    "value",
    "definition",
    *WER_COLUMNS,
    "gap_vs_best_pct",
    "gap_vs_best_ci_low",
    "gap_vs_best_ci_high",
    "share_speakers_pct",
    "note",
]


def _units(table: pd.DataFrame, by: list[str]) -> tuple[pd.DataFrame, int]:
    """Rows of (speaker_id, value, utterances, ref_words, errors); rows missing a value dropped."""
    for column in ("speaker_id", "ref_words", "errors", *by):
        if column not in table.columns:
            message = (
                MISSING_ATTRIBUTE.format(column=column, have=", ".join(map(str, table.columns)))
                if column in by
                else MISSING_COLUMN.format(column=column)
            )
            raise InputError(message, column=column)
    for column in ("ref_words", "errors"):
        values = pd.to_numeric(table[column], errors="coerce").astype("float64").to_numpy()
        bad = np.isnan(values) | (values < 0)
        if bad.any():
            row = int(bad.argmax())
            raise InputError(BAD_COUNT.format(value=table[column].iloc[row]), row=row, column=column)
    present = table[by].notna().all(axis=1).to_numpy()
    rows = table[present]
    value = rows[by[0]].astype(str)
    for column in by[1:]:
        value = value + JOIN + rows[column].astype(str)
    is_utterances = "utt_id" in table.columns
    units = pd.DataFrame(
        {
            "speaker_id": rows["speaker_id"].astype(str).to_numpy(),
            "value": value.to_numpy(),
            "utterances": (
                np.ones(len(rows))
                if is_utterances
                else pd.to_numeric(rows["utterances"]).to_numpy(dtype=float)
                if "utterances" in rows.columns
                else np.full(len(rows), np.nan)
            ),
            "ref_words": pd.to_numeric(rows["ref_words"]).to_numpy(dtype=float),
            "errors": pd.to_numeric(rows["errors"]).to_numpy(dtype=float),
        }
    )
    units = units.groupby(["speaker_id", "value"], sort=True, as_index=False).sum(min_count=1)
    return units, int((~present).sum())


def disaggregate(
    table: pd.DataFrame,
    by: str | Sequence[str],
    *,
    min_speakers: int = MIN_GROUP_SPEAKERS,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """WER with a speaker-bootstrap interval per value of a known attribute.

    Parameters
    ----------
    table : DataFrame
        Scored utterances (has ``utt_id``) or a speaker table; needs ``speaker_id``,
        ``ref_words``, ``errors`` and the ``by`` column(s).
    by : str or sequence of str
        The attribute(s). Several attributes give their intersections
        (``"female · mobile"``).
    min_speakers : int, default 10
        The floor of a known attribute's group (``min_group_speakers`` of :func:`wergap.audit`,
        the CLI and the report; DESIGN: known attributes get their own floor). A value
        with fewer speakers is still listed by name with its speaker count and the note
        "too few speakers", but no WER, interval or gap: it is never merged with
        unrelated values (which would hide, say, the worst site) and never singled out
        with a number. ``1`` reports every value.
    confidence, n_boot, seed
        Interval coverage, resamples, seed of the numpy Generator. WER intervals are
        studentised speaker-bootstrap intervals
        (:func:`wergap.cohorts.bootstrap.studentized_intervals`: they cover at least 94 %
        for groups of 150 speakers with heavy-tailed words per speaker, where percentile
        intervals cover 92 %); gap intervals are percentile intervals.

    Returns
    -------
    DataFrame
        One row per group, worst first, columns :data:`DISAGGREGATE_COLUMNS`. ``wer`` =
        Σ errors / Σ ref_words of the group; ``gap_vs_best_pct`` = 100 (WER − WER_best) /
        WER_best against the lowest-WER group (NaN when that WER is 0), its interval from
        resampling speakers within every group independently. ``share_speakers_pct`` is
        the group's percentage of the speakers with a value (from utterances these can sum
        past 100: a speaker may be in several groups). ``note`` is ``"too few speakers
        ..."`` for a value under ``min_speakers`` (listed after the others), else empty.
        Rows whose attribute is missing are dropped and counted in
        ``attrs["wergap"]["dropped"]``; ``attrs["wergap"]["disaggregation"]`` records the
        options and the values under the floor (``too_few``: value -> speakers).
    """
    check_options(confidence, n_boot)
    if isinstance(min_speakers, bool) or not isinstance(min_speakers, (int, np.integer)) or min_speakers < 1:
        raise InputError(BAD_MIN_SPEAKERS.format(value=min_speakers))
    columns = [by] if isinstance(by, str) else list(by)
    attribute = JOIN.join(columns)
    units, missing = _units(table, columns)
    if units.empty:
        raise InputError(NO_GROUPS.format(column=attribute), column=columns[0])
    sizes = units.groupby("value")["speaker_id"].nunique()
    too_few = {str(v): int(n) for v, n in sizes[sizes < min_speakers].items()}
    groups = sorted(units["value"].unique())
    codes = pd.Categorical(units["value"], categories=groups).codes
    totals = (
        units.groupby("value")
        .agg(
            speakers=("speaker_id", "nunique"),
            utterances=("utterances", lambda s: s.sum(min_count=1)),
            ref_words=("ref_words", "sum"),
            errors=("errors", "sum"),
        )
        .reindex(groups)
    )
    errors_boot, words_boot, variance_boot = stratified_totals(
        codes,
        units["errors"].to_numpy(),
        units["ref_words"].to_numpy(),
        len(groups),
        n_boot,
        np.random.default_rng(seed),
        jackknife=True,
    )
    wer = ratio(totals["errors"], totals["ref_words"])
    boot_wer = ratio(errors_boot, words_boot)
    small = np.array([g in too_few for g in groups])
    reported = ~small & ~np.isnan(wer)
    best = int(np.nanargmin(np.where(reported, wer, np.nan))) if reported.any() else None
    if best is None or wer[best] == 0:
        gap = np.full(len(groups), np.nan)
        boot_gap = np.full_like(boot_wer, np.nan)
    else:
        gap = relative_gap_pct(wer, wer[best])
        boot_gap = relative_gap_pct(boot_wer, boot_wer[:, [best]])
    wer_low, wer_high = studentized_intervals(
        codes,
        units["errors"].to_numpy(),
        units["ref_words"].to_numpy(),
        errors_boot,
        words_boot,
        variance_boot,
        confidence,
    )
    gap_low, gap_high = column_intervals(boot_gap, confidence)
    for values in (wer, gap, wer_low, wer_high, gap_low, gap_high):
        values[small] = np.nan  # listed by name and count, never singled out with a number
    n_speakers = units["speaker_id"].nunique()
    out = pd.DataFrame(
        {
            "attribute": attribute,
            "value": groups,
            "definition": [f"{attribute} = {g}" for g in groups],
            "speakers": totals["speakers"].to_numpy(dtype=np.int64),
            "utterances": totals["utterances"].to_numpy(),
            "ref_words": totals["ref_words"].to_numpy(dtype=np.int64),
            "errors": totals["errors"].to_numpy(dtype=np.int64),
            "wer": wer,
            "wer_ci_low": wer_low,
            "wer_ci_high": wer_high,
            "gap_vs_best_pct": gap,
            "gap_vs_best_ci_low": gap_low,
            "gap_vs_best_ci_high": gap_high,
            "share_speakers_pct": 100.0 * totals["speakers"].to_numpy() / n_speakers,
            "note": [TOO_FEW.format(min_speakers=min_speakers) if g in too_few else "" for g in groups],
        }
    )
    for column in ("utterances", "ref_words", "errors"):
        out[column] = out[column].astype("float64").where(~small)
    if not out[["utterances", "ref_words", "errors"]].isna().any().any():
        for column in ("utterances", "ref_words", "errors"):
            out[column] = out[column].astype(np.int64)
    out["_small"] = small
    out = out.sort_values(["_small", "wer", "value"], ascending=[True, False, True], na_position="last", kind="stable")
    out = out.drop(columns="_small")
    out = carry(
        table,
        out.reset_index(drop=True)[DISAGGREGATE_COLUMNS],
        disaggregation={
            "attribute": attribute,
            "min_speakers": min_speakers,
            "too_few": too_few,
            "confidence": confidence,
            "n_boot": n_boot,
            "seed": seed,
        },
    )
    add_drops(out, f"missing {attribute}", missing)
    return out
