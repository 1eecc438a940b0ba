"""Partitions of speakers into cohorts, and the statistics that rank them.

This floor sits below :mod:`wergap.discovery`: every discovery method returns a
:class:`Partition`, and everything here measures one. Public names are re-exported here;
the modules behind them are ``partition`` (the Partition contract), ``stats`` (WER per
cohort, gap, shares, intervals), ``heldout`` (gap measured on speakers the discovery never
saw) and ``disaggregate`` (WER by a known attribute). Comparing systems, the release gate
and mitigation exports consume an audit and live above it, in :mod:`wergap.comparison`.
"""

from wergap.cohorts.disaggregate import DISAGGREGATE_COLUMNS, disaggregate
from wergap.cohorts.heldout import FOLD_COLUMNS, HeldOutGap, held_out_gap
from wergap.cohorts.partition import (
    OTHER,
    OTHER_DEFINITION,
    Partition,
    merge_small,
    partition_from_column,
)
from wergap.cohorts.stats import (
    COHORT_TABLE_COLUMNS,
    GapSummary,
    cohort_table,
    gap_summary,
    overall_wer,
)

__all__ = [
    "COHORT_TABLE_COLUMNS",
    "DISAGGREGATE_COLUMNS",
    "FOLD_COLUMNS",
    "OTHER",
    "OTHER_DEFINITION",
    "GapSummary",
    "HeldOutGap",
    "Partition",
    "cohort_table",
    "disaggregate",
    "gap_summary",
    "held_out_gap",
    "merge_small",
    "overall_wer",
    "partition_from_column",
]
