"""Each discovery method's bottom cohort explained: which words fail, confounders, who is in it.

:func:`wergap.audit` calls :func:`explain_methods` after discovery; for every method that
ran, the bottom cohort (``GapSummary.bottom_cohorts``) is compared with the rest of its
partition by :func:`wergap.cohorts.error_profile` (logs with transcripts; the log is
re-aligned once for all methods), :func:`wergap.cohorts.adjusted_gap` (utterances needed;
covariates: ``adjust_for``, default utterance length, speaking rate when ``duration`` is a
column, and the known attributes) and :func:`wergap.cohorts.cohort_profile`. Whatever
cannot be computed is ``None`` with the reason beside it, never an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import pandas as pd

from wergap.cohorts.adjusted import AdjustedGap, adjusted_gap
from wergap.cohorts.cohort_profile import cohort_profile
from wergap.cohorts.error_profile import error_profile, word_errors
from wergap.cohorts.partition import Partition
from wergap.cohorts.stats import GapSummary
from wergap.errors import InputError

#: Rows of the error profile kept in ``summary.json`` and shown in the report.
TOP_ERRORS = 20

NO_UTTERANCES = "needs utterances: the audit was given a speaker table (or ran on the Dask engine)"
NO_BOTTOM = "no bottom cohort to explain"
UNKNOWN_COVARIATE = "cannot adjust for {column!r}: it is neither 'length', 'rate' nor a column of the log"

_P = ParamSpec("_P")
_T = TypeVar("_T")


@dataclass
class Explanation:
    """What explains one method's bottom cohort.

    Attributes
    ----------
    method, cohort : str
    error_profile : DataFrame or None
        :func:`wergap.cohorts.error_profile` (all rows past the privacy floor).
    error_profile_reason : str or None
        Why there is no error profile (counts-only log, ...).
    adjusted : AdjustedGap or None
    adjusted_reason : str or None
    profile : DataFrame or None
        :func:`wergap.cohorts.cohort_profile`.
    profile_reason : str or None
    """

    method: str
    cohort: str
    error_profile: pd.DataFrame | None = None
    error_profile_reason: str | None = None
    adjusted: AdjustedGap | None = None
    adjusted_reason: str | None = None
    profile: pd.DataFrame | None = None
    profile_reason: str | None = None

    def top_errors(self, n: int = TOP_ERRORS) -> pd.DataFrame | None:
        """The ``n`` errors most over-represented in the cohort (z > 0)."""
        if self.error_profile is None:
            return None
        return self.error_profile[self.error_profile["z"] > 0].head(n)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parts (NaN left for the exporter): top errors, adjusted gap, profile."""
        top = self.top_errors()
        return {
            "cohort": self.cohort,
            "error_profile": None if top is None else top.to_dict(orient="records"),
            "error_profile_reason": self.error_profile_reason,
            "adjusted_gap": None if self.adjusted is None else self.adjusted.to_dict(),
            "adjusted_gap_reason": self.adjusted_reason,
            "cohort_profile": None if self.profile is None else self.profile.to_dict(orient="records"),
            "cohort_profile_reason": self.profile_reason,
        }


def default_covariates(scored: pd.DataFrame, attributes: Sequence[str]) -> list[str]:
    """Utterance length, speaking rate when ``duration`` is given, and the known attributes in the log."""
    return (
        ["length"] + (["rate"] if "duration" in scored.columns else []) + [a for a in attributes if a in scored.columns]
    )


def explain_methods(
    speakers: pd.DataFrame,
    scored: pd.DataFrame | None,
    partitions: Mapping[str, Partition],
    gaps: Mapping[str, GapSummary],
    *,
    attributes: Sequence[str],
    census: pd.DataFrame | None = None,
    adjust_for: Sequence[str] | None = None,
    min_speakers: int = 30,
    confidence: float = 0.95,
) -> dict[str, Explanation]:
    """An :class:`Explanation` of each method's bottom cohort.

    Parameters
    ----------
    speakers : DataFrame
        The audit's speaker table.
    scored : DataFrame or None
        Scored utterances, or None when the audit only had speakers.
    partitions, gaps : mapping of method to Partition / GapSummary
    attributes : sequence of str
        The known attributes (profiled; default covariates).
    census : DataFrame, optional
        Census table, averaged over the cohort's ZIPs in the profile.
    adjust_for : sequence of str, optional
        Covariates of the adjusted gap; default :func:`default_covariates`. A name that is
        neither ``length``, ``rate`` nor a column raises :class:`InputError`.
    min_speakers : int
        Privacy floor of the error profile.
    confidence : float
    """
    if scored is not None and adjust_for is not None:
        for column in adjust_for:
            if column not in ("length", "rate") and column not in scored.columns:
                raise InputError(UNKNOWN_COVARIATE.format(column=column), column=column)
    covariates = list(adjust_for) if adjust_for is not None else None
    errors = None
    out: dict[str, Explanation] = {}
    for method, partition in partitions.items():
        gap = gaps[method]
        bottom = tuple(gap.bottom_cohorts) or ((gap.bottom,) if gap.bottom else ())
        if not bottom:
            out[method] = Explanation(
                method, "", error_profile_reason=NO_BOTTOM, adjusted_reason=NO_BOTTOM, profile_reason=NO_BOTTOM
            )
            continue
        item = Explanation(method, " + ".join(bottom))
        if scored is None:
            item.error_profile_reason = item.adjusted_reason = NO_UTTERANCES
        else:
            if errors is None:
                errors = word_errors(scored)
            item.error_profile_reason = errors.reason
            if errors.reason is None:
                item.error_profile = _guarded(
                    item,
                    "error_profile_reason",
                    error_profile,
                    scored,
                    partition,
                    cohort=bottom,
                    min_speakers=min_speakers,
                    errors=errors,
                )
            chosen = covariates if covariates is not None else default_covariates(scored, attributes)
            item.adjusted = _guarded(
                item,
                "adjusted_reason",
                adjusted_gap,
                scored,
                partition,
                cohort=bottom,
                covariates=chosen,
                confidence=confidence,
            )
        profile_attributes = [a for a in attributes if a in speakers.columns]
        item.profile = _guarded(
            item,
            "profile_reason",
            cohort_profile,
            speakers,
            partition,
            cohort=bottom,
            attributes=profile_attributes,
            census=census if census is not None and "zip" in speakers.columns else None,
        )
        out[method] = item
    return out


def _guarded(
    item: Explanation, reason_field: str, compute: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs
) -> _T | None:
    """``compute(*args, **kwargs)``, or None with the error's text as the reason (an explanation never stops an audit)."""
    try:
        return compute(*args, **kwargs)
    except (InputError, ValueError, ArithmeticError) as error:
        setattr(item, reason_field, str(error))
        return None
