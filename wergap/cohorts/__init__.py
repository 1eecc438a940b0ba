"""Partitions of speakers into cohorts, and the statistics that rank them.

This floor sits below :mod:`wergap.discovery`: every discovery method returns a
:class:`Partition`, and everything here measures one. Public names are re-exported here;
the modules behind them are ``partition`` (the Partition contract), ``stats`` (WER per
cohort, gap, shares, intervals), ``heldout`` (gap measured on speakers the discovery never
saw) and ``disaggregate`` (WER by a known attribute). Comparing systems, the release gate
and mitigation exports consume an audit and live above it, in :mod:`wergap.comparison`.
``error_profile``, ``adjusted`` and ``cohort_profile`` explain one cohort against the rest
(which words fail, whether the gap survives adjustment for confounders, who is in it).
"""

from wergap.cohorts.adjusted import COVARIATE_COLUMNS, AdjustedGap, adjusted_gap
from wergap.cohorts.attributes import choose_attributes
from wergap.cohorts.cohort_profile import COHORT_PROFILE_COLUMNS, cohort_profile
from wergap.cohorts.disaggregate import DISAGGREGATE_COLUMNS, disaggregate
from wergap.cohorts.error_profile import ERROR_PROFILE_COLUMNS, WordErrors, error_profile, word_errors
from wergap.cohorts.exclusions import EXCLUSION_COLUMNS, exclusion_lines, exclusion_table
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
    "AdjustedGap",
    "COHORT_PROFILE_COLUMNS",
    "COHORT_TABLE_COLUMNS",
    "COVARIATE_COLUMNS",
    "ERROR_PROFILE_COLUMNS",
    "DISAGGREGATE_COLUMNS",
    "EXCLUSION_COLUMNS",
    "FOLD_COLUMNS",
    "OTHER",
    "OTHER_DEFINITION",
    "GapSummary",
    "HeldOutGap",
    "Partition",
    "WordErrors",
    "adjusted_gap",
    "choose_attributes",
    "cohort_profile",
    "cohort_table",
    "disaggregate",
    "error_profile",
    "exclusion_lines",
    "exclusion_table",
    "gap_summary",
    "held_out_gap",
    "merge_small",
    "overall_wer",
    "partition_from_column",
    "word_errors",
]
