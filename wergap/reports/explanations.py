"""Report sections explaining each method's bottom cohort: formatting only, no statistic.

Formats an :class:`wergap.cohorts.explain.Explanation` for the HTML template: the top
over-represented word errors (counts and z-scores; words only, never an utterance or a
speaker), the adjusted WER ratio beside the raw one with each covariate's ratio, and the
cohort profile (shares of attribute values, census means).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from wergap._format import count, dropped_text, missing, num

#: Census rows of the cohort profile shown (strongest standardised difference first).
TOP_CENSUS = 10
KIND_TITLES = {"missed": "missed word", "substitution": "substitution", "insertion": "inserted word"}


def _ratio(value: Any, low: Any, high: Any) -> str:
    if missing(value):
        return "–"
    ci = "" if missing(low) or missing(high) else f" [{float(low):.2f}, {float(high):.2f}]"
    return f"{float(value):.2f}×{ci}"


def _error_label(row: pd.Series) -> str:
    if row["kind"] == "substitution":
        return f"{row['ref_word']} → {row['hyp_word']}"
    return str(row["hyp_word"] if row["kind"] == "insertion" else row["ref_word"])


def _share_or_mean(value: Any, statistic: str) -> str:
    if missing(value):
        return "–"
    return f"{100 * float(value):.1f} %" if statistic == "share" else f"{float(value):,.4g}"


def explanation_section(explanation: Any, min_speakers: int) -> dict[str, Any] | None:
    """Template context for one method's explanation (None when there is none)."""
    if explanation is None:
        return None
    top = explanation.top_errors()
    errors = [
        {
            "error": _error_label(r),
            "kind": KIND_TITLES.get(r["kind"], r["kind"]),
            "cohort": count(r["errors_cohort"]),
            "rest": count(r["errors_rest"]),
            "speakers": count(r["speakers_cohort"]),
            "rate": ""
            if missing(r["rate_cohort"])
            else f"{100 * r['rate_cohort']:.0f} % vs {100 * r['rate_rest']:.0f} %",
            "z": num(r["z"], 1),
        }
        for _, r in (top.iterrows() if top is not None else [])
    ]
    adjusted = explanation.adjusted
    covariates = []
    if adjusted is not None:
        covariates = [
            {
                "covariate": r["covariate"],
                "level": f"{r['level']} vs {r['reference']}",
                "ratio": _ratio(r["ratio"], r["ci_low"], r["ci_high"]),
                "speakers": count(r["speakers"]),
            }
            for _, r in adjusted.covariate_ratios.iterrows()
        ]
    profile = explanation.profile
    profile_rows = []
    if profile is not None and len(profile):
        shown = pd.concat(
            [profile[profile["source"] == "attribute"], profile[profile["source"] == "census"].head(TOP_CENSUS)]
        )
        profile_rows = [
            {
                "attribute": r["attribute"] + ("" if r["source"] == "attribute" else " (census)"),
                "value": "mean" if r["statistic"] == "mean" else r["value"],
                "cohort": _share_or_mean(r["cohort"], r["statistic"]),
                "rest": _share_or_mean(r["rest"], r["statistic"]),
                "std_difference": num(r["std_difference"], 2, signed=True),
            }
            for _, r in shown.iterrows()
        ]
    return {
        "cohort": explanation.cohort,
        "min_speakers": min_speakers,
        "errors": errors,
        "errors_reason": explanation.error_profile_reason
        or (
            None
            if errors
            else f"no word error is over-represented for at least {min_speakers} of the cohort's speakers"
        ),
        "raw": None
        if adjusted is None
        else _ratio(adjusted.ratio_raw, adjusted.ratio_raw_ci_low, adjusted.ratio_raw_ci_high),
        "adjusted": None if adjusted is None else _ratio(adjusted.ratio, adjusted.ci_low, adjusted.ci_high),
        "adjusted_for": ""
        if adjusted is None
        else ", ".join(c for c in adjusted.covariates if c not in adjusted.dropped_covariates),
        "adjusted_rows": ""
        if adjusted is None
        else f"{adjusted.utterances:,} utterances of {adjusted.speakers:,} speakers"
        + ("" if not adjusted.dropped else "; left out: " + dropped_text(adjusted.dropped)),
        "adjusted_reason": explanation.adjusted_reason or (None if adjusted is None else adjusted.reason),
        "covariates": covariates,
        "profile": profile_rows,
        "profile_reason": explanation.profile_reason,
    }
