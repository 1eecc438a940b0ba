"""Cohorts read back from an ``assignments`` export, so a comparison can reuse them."""

from __future__ import annotations

import pandas as pd

from wergap.cohorts.partition import Partition
from wergap.errors import InputError

ASSIGNMENTS_NO_SPEAKER = "assignments table has no 'speaker_id' column"


def partitions_from_assignments(assignments: pd.DataFrame) -> dict[str, Partition]:
    """Partitions from an ``assignments.parquet`` written by ``wergap audit --outdir``.

    Parameters
    ----------
    assignments : DataFrame
        ``speaker_id`` plus one column per method holding cohort labels (NA: the method
        could not place the speaker, counted in ``excluded``).

    Returns
    -------
    dict of str to Partition
        The file holds labels only, so each definition is ``"cohort <label> (from the
        assignments file)"``.
    """
    if "speaker_id" not in assignments.columns:
        raise InputError(ASSIGNMENTS_NO_SPEAKER, column="speaker_id")
    out = {}
    ids = assignments["speaker_id"].astype("str")
    for method in assignments.columns:
        if method == "speaker_id":
            continue
        values = assignments[method]
        present = values.notna().to_numpy()
        labels = pd.Series(
            values[present].astype("str").to_numpy(dtype=object), index=ids[present].to_numpy(dtype=object)
        )
        missing = int((~present).sum())
        out[str(method)] = Partition(
            method=str(method),
            labels=labels,
            definitions={c: f"cohort {c} (from the assignments file)" for c in labels.unique()},
            excluded={"not assigned in the assignments file": missing} if missing else {},
        )
    return out
