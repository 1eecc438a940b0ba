"""Consumers of an audit: comparing systems, gating a release, mitigation exports.

This floor sits above :mod:`wergap.audit`: each module here takes an :class:`~wergap.audit.Audit`
(or runs one) and turns it into a decision: did a candidate narrow the gap
(:func:`compare`), may a model ship (:func:`check`), which utterances to oversample
(:func:`oversampling_weights`).
"""

from wergap.comparison.assignments import partitions_from_assignments
from wergap.comparison.compare import compare
from wergap.comparison.gate import CheckResult, MethodCheck, check
from wergap.comparison.mitigation import (
    bottom_utterances,
    oversampling_weights,
    speaker_cohort_ids,
    utterance_cohorts,
)
from wergap.comparison.result import (
    COMPARE_COLUMNS,
    COMPARE_SUMMARY_COLUMNS,
    Comparison,
)
from wergap.comparison.systems import DISCOVER_ON, align_systems, compare_systems
from wergap.comparison.systems_result import (
    SYSTEM_CHANGE_COLUMNS,
    SYSTEM_COHORT_CHANGE_COLUMNS,
    SYSTEM_COHORT_COLUMNS,
    SYSTEM_GAP_COLUMNS,
    SYSTEM_OVERALL_COLUMNS,
    SystemsComparison,
)

__all__ = [
    "COMPARE_COLUMNS",
    "COMPARE_SUMMARY_COLUMNS",
    "CheckResult",
    "DISCOVER_ON",
    "SYSTEM_CHANGE_COLUMNS",
    "SYSTEM_COHORT_CHANGE_COLUMNS",
    "SYSTEM_COHORT_COLUMNS",
    "SYSTEM_GAP_COLUMNS",
    "SYSTEM_OVERALL_COLUMNS",
    "SystemsComparison",
    "align_systems",
    "Comparison",
    "MethodCheck",
    "bottom_utterances",
    "check",
    "compare",
    "compare_systems",
    "oversampling_weights",
    "partitions_from_assignments",
    "speaker_cohort_ids",
    "utterance_cohorts",
]
