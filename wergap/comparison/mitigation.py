"""Mitigation inputs from an audit: cohort labels, oversampling weights, bottom-cohort lists.

Discovery is step one; step two is to train on the cohorts found (the Alexa papers
oversample the bottom cohorts or fine-tune on them, and feed cohort ids to the model), and
step three is :func:`wergap.comparison.compare` on the retrained system. These
functions turn an :class:`wergap.audit.Audit` into what a training pipeline reads:

- :func:`utterance_cohorts`: each utterance's cohort under every method;
- :func:`oversampling_weights`: per-utterance sampling weights that raise the bottom
  cohorts' share of the training data to a target share;
- :func:`speaker_cohort_ids`: integer cohort ids per speaker, as model input features;
- :func:`bottom_utterances`: the utterance ids of the bottom cohorts, for fine-tuning.

Labels are those of the reported cohorts: cohorts under the audit's ``min_speakers`` are
pooled into ``"other"`` first, as in every report (no cohort of a few people is singled out).
The bottom cohorts are the audit's (:attr:`wergap.cohorts.GapSummary.bottom_cohorts`,
which honours ``bottom_share``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from wergap.audit import Audit
from wergap.cohorts.partition import Partition
from wergap.defaults import MIN_SPEAKERS
from wergap.errors import InputError

__all__ = [
    "bottom_utterances",
    "export_method",
    "oversampling_weights",
    "speaker_cohort_ids",
    "utterance_cohorts",
]

MISSING_COLUMN = "scored utterances have no {column!r} column (need utt_id and speaker_id)"
NO_BOTTOM = "method {method!r} has no bottom cohort to mitigate: {reason}"
BAD_TARGET = "target_share must be strictly between 0 and 1, got {value!r}"
NO_METHOD_TO_EXPORT = "no discovery method found a bottom cohort to export ({why})"
DID_NOT_RUN = "method {method} did not run: {reason}"
NO_BOTTOM_UTTERANCES = "the bottom cohort(s) {bottom} of {method!r} have no utterances in this log"


def require_scored(scored: pd.DataFrame) -> None:
    for column in ("utt_id", "speaker_id"):
        if column not in scored.columns:
            raise InputError(MISSING_COLUMN.format(column=column), column=column)


def _reported_partition(audit: Audit, method: str) -> Partition:
    """The partition as reported: small cohorts pooled with the audit's ``min_speakers``."""
    return audit.partition(method).merge_small(int(audit.params.get("min_speakers", MIN_SPEAKERS)))


def _bottom(audit: Audit, method: str) -> tuple[str, ...]:
    audit.partition(method)  # KeyError naming what ran, for an unknown method
    gap = audit.gaps[method]
    if not gap.bottom_cohorts:
        raise InputError(NO_BOTTOM.format(method=method, reason=gap.reason or "no cohorts"))
    return tuple(gap.bottom_cohorts)


def utterance_cohorts(scored: pd.DataFrame, audit: Audit) -> pd.DataFrame:
    """Each utterance's cohort under every method the audit ran.

    Parameters
    ----------
    scored : DataFrame
        Utterances (``utt_id``, ``speaker_id``), e.g. the scored log the audit read, or a
        training manifest of the same speakers.
    audit : Audit

    Returns
    -------
    DataFrame
        ``utt_id``, ``speaker_id``, then per method a column ``<method>`` (cohort label,
        small cohorts pooled into ``"other"``; NA when the method did not place the
        speaker, e.g. no lat/lon, or the speaker is not in the audit) and
        ``<method>_bottom`` (bool: in the audit's bottom cohort(s)). Same rows and order
        as ``scored``.
    """
    require_scored(scored)
    out = pd.DataFrame(
        {
            "utt_id": scored["utt_id"].astype("str").to_numpy(),
            "speaker_id": scored["speaker_id"].astype("str").to_numpy(),
        }
    )
    for method in audit.methods:
        labels = _reported_partition(audit, method).labels
        out[method] = out["speaker_id"].map(labels).astype("str")
        bottom = audit.gaps[method].bottom_cohorts
        out[f"{method}_bottom"] = out[method].isin(list(bottom)).to_numpy(dtype=bool)
    return out


def oversampling_weights(scored: pd.DataFrame, audit: Audit, method: str, target_share: float = 0.2) -> pd.DataFrame:
    """Sampling weights that raise the bottom cohorts' share of utterances to ``target_share``.

    Bottom-cohort utterances get weight ``w`` and every other utterance weight 1, where
    ``w`` solves ``w·n_bottom / (w·n_bottom + n_rest) = target_share``::

        w = target_share · n_rest / ((1 − target_share) · n_bottom)

    and ``w`` is never below 1: when the bottom already holds ``target_share`` or more of
    the utterances nothing is down-weighted (``w = 1``). ``n_rest`` counts every other
    utterance of ``scored``, including speakers the method could not place. Shares are of
    utterances, since a sampler draws utterances.

    Parameters
    ----------
    scored : DataFrame
        Utterances (``utt_id``, ``speaker_id``): the training data to resample.
    audit : Audit
    method : str
        A method the audit ran.
    target_share : float, default 0.2
        Wanted share of bottom-cohort utterances, strictly between 0 and 1.

    Returns
    -------
    DataFrame
        ``utt_id``, ``speaker_id``, ``cohort``, ``bottom`` (bool), ``weight`` (float64),
        same rows as ``scored``. ``attrs["wergap"]["oversampling"]``: method,
        bottom_cohorts, n_bottom, n_rest, share_before, target_share, weight, share_after.

    Raises
    ------
    InputError
        A bad ``target_share``, a method with no bottom cohort, or no bottom-cohort
        utterance in ``scored``.
    """
    if isinstance(target_share, bool) or not isinstance(target_share, (int, float)) or not 0 < target_share < 1:
        raise InputError(BAD_TARGET.format(value=target_share))
    bottom_cohorts = _bottom(audit, method)
    labelled = utterance_cohorts(scored, audit)
    bottom = labelled[f"{method}_bottom"].to_numpy(dtype=bool)
    n_bottom, n_rest = int(bottom.sum()), int((~bottom).sum())
    if n_bottom == 0:
        raise InputError(NO_BOTTOM_UTTERANCES.format(bottom=" + ".join(bottom_cohorts), method=method))
    weight = max(1.0, target_share * n_rest / ((1.0 - target_share) * n_bottom))
    out = pd.DataFrame(
        {
            "utt_id": labelled["utt_id"],
            "speaker_id": labelled["speaker_id"],
            "cohort": labelled[method],
            "bottom": bottom,
            "weight": np.where(bottom, weight, 1.0),
        }
    )
    out.attrs["wergap"] = {
        "oversampling": {
            "method": method,
            "bottom_cohorts": list(bottom_cohorts),
            "n_bottom": n_bottom,
            "n_rest": n_rest,
            "share_before": n_bottom / (n_bottom + n_rest),
            "target_share": float(target_share),
            "weight": weight,
            "share_after": weight * n_bottom / (weight * n_bottom + n_rest),
            "formula": "w = max(1, t * n_rest / ((1 - t) * n_bottom))",
        }
    }
    return out


def speaker_cohort_ids(audit: Audit) -> pd.DataFrame:
    """Integer cohort ids per speaker and method, as model input features.

    Returns
    -------
    DataFrame
        ``speaker_id`` then one int64 column per method: the cohort's position in the
        sorted list of reported cohort labels (small cohorts pooled into ``"other"``),
        ``-1`` when the method did not place the speaker. ``attrs["wergap"]["cohort_ids"]``
        maps method -> list of ``{"id", "cohort", "definition"}``.
    """
    ids = audit.speakers["speaker_id"].astype("str")
    out = pd.DataFrame({"speaker_id": ids.to_numpy()})
    legend = {}
    for method in audit.methods:
        part = _reported_partition(audit, method)
        cohorts = part.cohorts
        codes = pd.Categorical(ids.map(part.labels), categories=cohorts).codes
        out[method] = codes.astype(np.int64)
        legend[method] = [{"id": i, "cohort": c, "definition": part.definitions[c]} for i, c in enumerate(cohorts)]
    out.attrs["wergap"] = {"cohort_ids": legend}
    return out


def bottom_utterances(scored: pd.DataFrame, audit: Audit, method: str) -> list[str]:
    """Utterance ids of the bottom cohort(s) of ``method``, in ``scored`` order (for fine-tuning)."""
    _bottom(audit, method)
    labelled = utterance_cohorts(scored, audit)
    return labelled.loc[labelled[f"{method}_bottom"], "utt_id"].tolist()


def export_method(audit: Audit, method: str | None = None) -> str:
    """The method whose bottom cohort a mitigation export should use.

    Parameters
    ----------
    audit : Audit
        The audit whose cohorts are exported.
    method : str, optional
        A method asked for by name; it must have run. By default the method whose bottom
        cohort has the largest held-out gap (the in-sample gap overstates itself), among
        the methods that found a bottom cohort.

    Returns
    -------
    str
        The method's name.

    Raises
    ------
    InputError
        The named method did not run, or no method found a bottom cohort (the message
        gives each method's reason).
    """
    import math

    if method is not None:
        if method not in audit.methods:
            raise InputError(DID_NOT_RUN.format(method=method, reason=audit.skipped.get(method, "unknown")))
        return method
    ranked = [m for m in audit.methods if audit.gaps[m].bottom_cohorts]
    if not ranked:
        why = "; ".join(
            [f"{m}: {r}" for m, r in audit.skipped.items()] + [f"{m}: {audit.gaps[m].reason}" for m in audit.methods]
        )
        raise InputError(NO_METHOD_TO_EXPORT.format(why=why or "none ran"))
    held = {m: audit.held_out[m].gap_pct for m in ranked}
    return max(ranked, key=lambda m: -math.inf if math.isnan(held[m]) else held[m])
