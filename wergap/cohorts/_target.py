"""The cohort being explained, against everyone else: shared by the explanation modules.

:func:`wergap.cohorts.error_profile.error_profile`, :func:`wergap.cohorts.adjusted.adjusted_gap`
and :func:`wergap.cohorts.cohort_profile.cohort_profile` all compare one cohort (usually
the bottom one; several pooled when ``bottom_share`` pooled them) with the rest of the
partition. This module turns their ``cohort_labels`` argument (a :class:`Partition` or a
Series speaker -> label) and ``cohort`` argument into one boolean per speaker.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from wergap.cohorts.partition import OTHER, Partition
from wergap.errors import InputError

LABELS_NOT_SERIES = "cohort_labels must be a Partition or a Series indexed by speaker_id, got {kind}"
UNKNOWN_COHORT = "cohort {cohort!r} is not one of the labels ({labels})"
NO_REST = "every labelled speaker is in cohort {cohort!r}: nothing to compare it with"
NO_COHORT = "no cohort to explain: no labelled speaker has reference words"
MISSING_SPEAKER_COLUMN = "missing required column 'speaker_id'"


def labels_series(cohort_labels: Partition | pd.Series) -> pd.Series:
    """Speaker id (str) -> cohort label (str), from a Partition or a Series."""
    if isinstance(cohort_labels, Partition):
        return cohort_labels.labels
    if not isinstance(cohort_labels, pd.Series):
        raise InputError(LABELS_NOT_SERIES.format(kind=type(cohort_labels).__name__))
    labels = cohort_labels.dropna()
    labels.index = labels.index.astype("str")
    return labels.astype("str")


def worst_cohort(table: pd.DataFrame, labels: pd.Series, min_speakers: int = 1) -> str:
    """The label with the highest WER (Σ errors / Σ ref_words) among cohorts of enough speakers.

    ``table`` holds ``speaker_id``, ``errors`` and ``ref_words`` (utterances or speakers).
    The pooled ``"other"`` is never the target (DESIGN.md: never a mitigation target).
    """
    if "speaker_id" not in table.columns:
        raise InputError(MISSING_SPEAKER_COLUMN, column="speaker_id")
    cohort = table["speaker_id"].astype("str").map(labels)
    frame = pd.DataFrame(
        {
            "cohort": cohort,
            "speaker_id": table["speaker_id"].astype("str"),
            "errors": table["errors"].astype("float64"),
            "ref_words": table["ref_words"].astype("float64"),
        }
    ).dropna(subset=["cohort"])
    sums = frame.groupby("cohort").agg(
        errors=("errors", "sum"), ref_words=("ref_words", "sum"), speakers=("speaker_id", "nunique")
    )
    sums = sums[(sums["ref_words"] > 0) & (sums.index != OTHER)]
    big = sums[sums["speakers"] >= min_speakers]
    sums = big if len(big) else sums
    if sums.empty:
        raise InputError(NO_COHORT)
    return str((sums["errors"] / sums["ref_words"]).idxmax())


def target_names(cohort: str | Sequence[str]) -> tuple[str, ...]:
    """A label or a sequence of labels (a pooled bottom) as a tuple of str."""
    if isinstance(cohort, str):
        return (cohort,)
    return tuple(str(c) for c in cohort)


def in_cohort(
    table: pd.DataFrame,
    cohort_labels: Partition | pd.Series,
    cohort: str | Sequence[str] | None,
    min_speakers: int = 1,
) -> tuple[pd.Series, str]:
    """Per row of ``table``: True (in the cohort), False (rest), NA (speaker unlabelled).

    Returns the nullable boolean Series (``table``'s index) and the cohort's name (labels
    joined by ``" + "`` when several are pooled). ``cohort=None``: the worst cohort.
    """
    labels = labels_series(cohort_labels)
    if cohort is None:
        cohort = worst_cohort(table, labels, min_speakers)
    names = target_names(cohort)
    known = set(labels.unique())
    for name in names:
        if name not in known:
            raise InputError(UNKNOWN_COHORT.format(cohort=name, labels=", ".join(sorted(known))))
    row_labels = table["speaker_id"].astype("str").map(labels)
    flag = pd.Series(pd.array(row_labels.isin(names).to_numpy(), dtype="boolean"), index=table.index)
    flag[row_labels.isna().to_numpy()] = pd.NA
    name = " + ".join(names)
    if not bool(flag.eq(False).fillna(False).any()):
        raise InputError(NO_REST.format(cohort=name))
    return flag, name
