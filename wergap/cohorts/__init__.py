"""Partitions of speakers into cohorts, and the statistics that rank them.

Public names are re-exported here; the modules behind them are ``partition`` (the
Partition contract), ``stats`` (WER per cohort, gap, shares, intervals), ``heldout`` (gap
measured on speakers the discovery never saw), ``disaggregate`` (WER by a known
attribute) and ``compare`` (a baseline's cohorts measured on a candidate system, paired;
the ``check`` release gate) and ``mitigation`` (cohort labels, oversampling weights and
bottom-cohort lists for retraining); ``error_profile``, ``adjusted`` and ``cohort_profile``
explain a cohort (which words fail, whether the gap survives adjustment for confounders,
who is in it).
"""

from wergap.cohorts.compare import (
    COMPARE_COLUMNS,
    COMPARE_SUMMARY_COLUMNS,
    CheckResult,
    Comparison,
    MethodCheck,
    check,
    compare,
    partitions_from_assignments,
)
from wergap.cohorts.adjusted import COVARIATE_COLUMNS, AdjustedGap, adjusted_gap
from wergap.cohorts.cohort_profile import COHORT_PROFILE_COLUMNS, cohort_profile
from wergap.cohorts.disaggregate import DISAGGREGATE_COLUMNS, disaggregate
from wergap.cohorts.error_profile import ERROR_PROFILE_COLUMNS, WordErrors, error_profile, word_errors
from wergap.cohorts.heldout import FOLD_COLUMNS, HeldOutGap, held_out_gap
from wergap.cohorts.mitigation import (
    bottom_utterances,
    oversampling_weights,
    speaker_cohort_ids,
    utterance_cohorts,
)
from wergap.cohorts.partition import OTHER, OTHER_DEFINITION, Partition, merge_small, partition_from_column
from wergap.cohorts.stats import COHORT_TABLE_COLUMNS, GapSummary, cohort_table, gap_summary, overall_wer

__all__ = [
    "AdjustedGap",
    "COHORT_PROFILE_COLUMNS",
    "COHORT_TABLE_COLUMNS",
    "COVARIATE_COLUMNS",
    "ERROR_PROFILE_COLUMNS",
    "COMPARE_COLUMNS",
    "COMPARE_SUMMARY_COLUMNS",
    "DISAGGREGATE_COLUMNS",
    "FOLD_COLUMNS",
    "CheckResult",
    "Comparison",
    "OTHER",
    "OTHER_DEFINITION",
    "GapSummary",
    "HeldOutGap",
    "MethodCheck",
    "Partition",
    "adjusted_gap",
    "check",
    "bottom_utterances",
    "cohort_profile",
    "cohort_table",
    "compare",
    "disaggregate",
    "error_profile",
    "gap_summary",
    "held_out_gap",
    "merge_small",
    "overall_wer",
    "oversampling_weights",
    "partition_from_column",
    "partitions_from_assignments",
    "speaker_cohort_ids",
    "utterance_cohorts",
    "WordErrors",
    "word_errors",
]
