"""Partitions of speakers into cohorts, and the statistics that rank them."""

from wergap.cohorts.partition import OTHER, OTHER_DEFINITION, Partition, merge_small, partition_from_column
from wergap.cohorts.stats import COHORT_TABLE_COLUMNS, GapSummary, cohort_table, gap_summary, overall_wer

__all__ = [
    "COHORT_TABLE_COLUMNS",
    "OTHER",
    "OTHER_DEFINITION",
    "GapSummary",
    "Partition",
    "cohort_table",
    "gap_summary",
    "merge_small",
    "overall_wer",
    "partition_from_column",
]
