"""Who is in a cohort: how it differs from the rest in known attributes and census variables.

A geographic region explains itself on a map and a census split by its definition, but an
embedding cluster ("cluster 4") says nothing about who is in it. :func:`cohort_profile`
describes any cohort against the other speakers of its partition: for each known
attribute (gender, device, age band, ...) the share of speakers holding each value, and
for each numeric attribute and each census column (joined by the speaker's ZIP) the mean
over speakers — cohort, rest, their difference and the standardised difference (the
difference over the pooled standard deviation, the balance measure of matched studies),
which makes shares and dollars comparable and ranks the rows.

Every speaker counts once. A value held by fewer than ``min_group_speakers`` speakers is
pooled with the other rare values, so no row describes a handful of people.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from wergap.cohorts._target import in_cohort
from wergap.cohorts.attributes import CONTRACT_COLUMNS, attribute_exclusion
from wergap.cohorts.partition import Partition
from wergap.errors import InputError

#: Columns of :func:`cohort_profile`, in order.
COHORT_PROFILE_COLUMNS = [
    "source",
    "attribute",
    "value",
    "statistic",
    "cohort",
    "rest",
    "difference",
    "std_difference",
    "speakers_cohort",
    "speakers_rest",
]
#: Label of pooled rare values; ``{n}`` is ``min_group_speakers``.
RARE_VALUES = "(values under {n} speakers)"
#: Speaker-table columns that are never attributes: the table's contract columns
#: (:data:`wergap.cohorts.attributes.CONTRACT_COLUMNS`) and two a profile would misread
#: as attributes (the embedding count and the speaking time).
NOT_ATTRIBUTES = CONTRACT_COLUMNS | {"embedded_utterances", "duration"}
#: Most distinct values an automatically chosen text attribute may have.
MAX_VALUES = 12

UNKNOWN_ATTRIBUTE = "attribute {column!r} is not a column of the speaker table (it has: {have})"
NO_ZIP = "a census table was given but the speaker table has no 'zip' column"


def cohort_profile(
    speakers: pd.DataFrame,
    cohort_labels: Partition | pd.Series,
    *,
    cohort: str | Sequence[str] | None = None,
    attributes: Sequence[str] | None = None,
    census: pd.DataFrame | None = None,
    min_group_speakers: int = 10,
    min_speakers: int = 30,
) -> pd.DataFrame:
    """How the cohort differs from the rest of the labelled speakers.

    Parameters
    ----------
    speakers : DataFrame
        A speaker table (:func:`wergap.speakers`); scored utterances are aggregated to one.
    cohort_labels : Partition or Series
        Speaker id -> cohort label; unlabelled speakers are left out.
    cohort : str or sequence of str, optional
        The cohort (several: pooled); default the worst-WER cohort of at least
        ``min_speakers`` speakers.
    attributes : sequence of str, optional
        Speaker-table columns to describe. Default: text columns with 2 to 12 values and
        numeric columns, except ids, counts, coordinates and ZIP.
    census : DataFrame, optional
        A census table (:func:`wergap.read_census`): its numeric columns are averaged over
        the speakers whose ZIP it holds.
    min_group_speakers : int, default 10
        Values held by fewer speakers (cohort and rest together) are pooled as one row.
    min_speakers : int, default 30
        Used only to choose the default cohort.

    Returns
    -------
    DataFrame
        :data:`COHORT_PROFILE_COLUMNS`. ``source`` is ``"attribute"`` or ``"census"``;
        ``statistic`` ``"share"`` (of speakers with a value of the attribute, 0–1; a row
        per value) or ``"mean"`` (``value`` NA); ``difference`` = cohort − rest;
        ``std_difference`` = difference / pooled SD; ``speakers_*`` = speakers with a value
        (for a share: with this value). Attribute rows first (each attribute's values by
        decreasing |std_difference|), then census rows by decreasing |std_difference|.
        ``attrs["wergap"]["cohort_profile"]`` names the cohort and its size.
    """
    if "utt_id" in speakers.columns:
        from wergap.speaker_table import speakers as speaker_table

        speakers = speaker_table(speakers)
    flag, name = in_cohort(speakers, cohort_labels, cohort, min_speakers)
    keep = flag.notna().to_numpy()
    table = speakers[keep].reset_index(drop=True)
    side = flag.to_numpy(dtype="bool", na_value=False)[keep]
    rows: list[dict[str, Any]] = []
    for column in _attributes(table, attributes):
        values = table[column]
        if _is_numeric(values):
            rows.append(_mean_row("attribute", column, values.astype("float64"), side))
        else:
            rows += _share_rows(column, values, side, min_group_speakers)
    census_rows = []
    if census is not None:
        if "zip" not in table.columns:
            raise InputError(NO_ZIP, column="zip")
        joined = table[["zip"]].merge(census, on="zip", how="left")
        for column in census.columns:
            if column != "zip" and _is_numeric(census[column]):
                census_rows.append(_mean_row("census", column, joined[column].astype("float64"), side))
        census_rows.sort(key=lambda r: -abs(r["std_difference"]) if np.isfinite(r["std_difference"]) else 0.0)
    out = pd.DataFrame(rows + census_rows, columns=COHORT_PROFILE_COLUMNS)
    out.attrs["wergap"] = {
        "cohort_profile": {
            "cohort": name,
            "speakers_cohort": int(side.sum()),
            "speakers_rest": int((~side).sum()),
            "min_group_speakers": int(min_group_speakers),
        }
    }
    return out


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _attributes(table: pd.DataFrame, requested: Sequence[str] | None) -> list[str]:
    if requested is not None:
        for column in requested:
            if column not in table.columns:
                have = ", ".join(map(str, table.columns))
                raise InputError(UNKNOWN_ATTRIBUTE.format(column=column, have=have), column=column)
        return list(requested)
    found = []
    for column in table.columns:
        if column in NOT_ATTRIBUTES or str(column).endswith("_id"):
            continue
        values = table[column]
        if attribute_exclusion(column, values) is not None:  # transcripts, ids, paths, free text
            continue
        if _is_numeric(values):
            if values.notna().any():
                found.append(column)
        elif (
            pd.api.types.is_string_dtype(values)
            or isinstance(values.dtype, pd.CategoricalDtype)
            or pd.api.types.is_bool_dtype(values)
        ) and 2 <= values.nunique(dropna=True) <= MAX_VALUES:
            found.append(column)
    return found


def _std_difference(a: np.ndarray, b: np.ndarray, diff: float) -> float:
    pooled = np.sqrt((np.var(a, ddof=1) + np.var(b, ddof=1)) / 2) if len(a) > 1 and len(b) > 1 else np.nan
    return float(diff / pooled) if pooled and np.isfinite(pooled) and pooled > 0 else float("nan")


def _mean_row(source: str, column: str, values: pd.Series, side: np.ndarray) -> dict[str, Any]:
    present = values.notna().to_numpy()
    a = values.to_numpy()[side & present]
    b = values.to_numpy()[~side & present]
    mean_a = float(a.mean()) if len(a) else float("nan")
    mean_b = float(b.mean()) if len(b) else float("nan")
    diff = mean_a - mean_b
    return {
        "source": source,
        "attribute": column,
        "value": None,
        "statistic": "mean",
        "cohort": mean_a,
        "rest": mean_b,
        "difference": diff,
        "std_difference": _std_difference(a, b, diff),
        "speakers_cohort": int(len(a)),
        "speakers_rest": int(len(b)),
    }


def _share_rows(column: str, values: pd.Series, side: np.ndarray, min_group_speakers: int) -> list[dict[str, Any]]:
    present = values.notna().to_numpy()
    labels = values.astype("str").where(values.notna())
    counts = labels.value_counts()
    rare = counts.index[counts < min_group_speakers]
    if len(rare):
        labels = labels.where(~labels.isin(rare), RARE_VALUES.format(n=min_group_speakers))
    n_a = int((side & present).sum())
    n_b = int((~side & present).sum())
    rows: list[dict[str, Any]] = []
    for value in labels.dropna().unique():
        holds = (labels == value).fillna(False).to_numpy()
        a = holds[side & present].astype("float64")
        b = holds[~side & present].astype("float64")
        share_a = float(a.mean()) if n_a else float("nan")
        share_b = float(b.mean()) if n_b else float("nan")
        diff = share_a - share_b
        rows.append(
            {
                "source": "attribute",
                "attribute": column,
                "value": str(value),
                "statistic": "share",
                "cohort": share_a,
                "rest": share_b,
                "difference": diff,
                "std_difference": _std_difference(a, b, diff),
                "speakers_cohort": int(a.sum()),
                "speakers_rest": int(b.sum()),
            }
        )
    rows.sort(key=lambda r: -abs(r["std_difference"]) if np.isfinite(r["std_difference"]) else 0.0)
    return rows
