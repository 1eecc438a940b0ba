"""The result of a comparison: per-cohort changes, per-method gaps and the verdict prose."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from wergap._format import num
from wergap._json import jsonable

#: Columns of :meth:`Comparison.cohorts`.
COMPARE_COLUMNS = [
    "method",
    "cohort",
    "definition",
    "role",
    "speakers",
    "utterances",
    "wer_base",
    "wer_candidate",
    "change_pts",
    "change_ci_low",
    "change_ci_high",
    "relative_change_pct",
    "relative_change_ci_low",
    "relative_change_ci_high",
]

#: Columns of :meth:`Comparison.summary`.
COMPARE_SUMMARY_COLUMNS = [
    "method",
    "bottom",
    "top",
    "wer_bottom_base",
    "wer_bottom_candidate",
    "wer_top_base",
    "wer_top_candidate",
    "gap_base_pct",
    "gap_base_ci_low",
    "gap_base_ci_high",
    "gap_candidate_pct",
    "gap_candidate_ci_low",
    "gap_candidate_ci_high",
    "gap_change_pts",
    "gap_change_ci_low",
    "gap_change_ci_high",
    "outcome",
    "held_out_gap_base_pct",
    "held_out_gap_candidate_pct",
    "held_out_change_pts",
    "held_out_change_ci_low",
    "held_out_change_ci_high",
    "held_out_outcome",
    "speakers",
    "note",
]


# --------------------------------------------------------------------------- bootstrap


def _fmt_pct(value: float) -> str:
    return num(value, 1, " %", na="n/a")


def _fmt_pts(value: float) -> str:
    return num(value, 2, signed=True, na="n/a")


@dataclass
class Comparison:
    """Cohorts discovered on a baseline, measured on the baseline and on a candidate.

    Attributes
    ----------
    names : tuple of str
        Names of the baseline and candidate systems.
    counts : dict of str to int
        ``shared`` utterances compared; ``only_<base>`` and ``only_<candidate>``:
        utterances in one log only (left out of every number, never silently);
        ``reference_words_differ``: shared utterances whose reference word counts differ
        between the logs (different references or normalisation: each system is scored
        against its own); ``speakers``: speakers with shared utterances.
    overall : dict
        WER of both systems over every shared utterance, the change in points and its
        paired interval.
    confidence, n_boot, seed
        As called.
    excluded : dict of str to dict
        Per method, speakers of the partition not compared and why.
    """

    names: tuple[str, str]
    counts: dict[str, int]
    overall: dict[str, float]
    confidence: float
    n_boot: int
    seed: int
    _cohorts: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    _summary: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    excluded: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def methods(self) -> list[str]:
        """Methods compared, in order."""
        return self._summary["method"].tolist()

    def cohorts(self, method: str | None = None) -> pd.DataFrame:
        """Per-cohort WER of both systems and the paired change (:data:`COMPARE_COLUMNS`).

        ``change_pts`` = 100 (WER_candidate − WER_base), in percentage points;
        ``relative_change_pct`` = 100 (WER_candidate − WER_base) / WER_base. ``role`` marks
        the baseline's bottom and top cohorts. Rows ranked by baseline WER, worst first.
        """
        if method is None:
            return self._cohorts.copy()
        self._check(method)
        return self._cohorts[self._cohorts["method"] == method].reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """One row per method: the gap on both systems and its paired change (:data:`COMPARE_SUMMARY_COLUMNS`).

        ``gap_change_pts`` = gap_candidate − gap_base, in points of the relative gap;
        ``outcome`` is ``"narrowed"`` / ``"widened"`` when the interval of the change
        excludes 0, ``"no detectable change"`` when it includes 0, ``"unmeasured"`` when
        a gap is NaN (``note`` says why).
        """
        return self._summary.copy()

    def _check(self, method: str) -> None:
        if method not in self.methods:
            raise KeyError(f"no comparison for method {method!r}; compared: {', '.join(self.methods) or 'none'}")

    def verdict(self, method: str | None = None) -> str:
        """One plain sentence on the gap of ``method`` (default: the first) and the overall WER."""
        if method is None:
            if not self.methods:
                return "no method could be compared"
            method = self.methods[0]
        self._check(method)
        row = self._summary.set_index("method").loc[method]
        level = f"{100 * self.confidence:g} %"
        o = self.overall
        overall = (
            f"overall WER changed by {_fmt_pts(o['change_pts'])} points "
            f"({100 * o['wer_base']:.2f} % → {100 * o['wer_candidate']:.2f} %, "
            f"{level} CI {_fmt_pts(o['change_ci_low'])} to {_fmt_pts(o['change_ci_high'])})"
        )
        outcome = row["outcome"]
        if outcome == "unmeasured":
            return f"{method}: gap not measurable ({row['note']}); {overall}"
        change = (
            f"(change {_fmt_pts(row['gap_change_pts'])} points, {level} CI of the change "
            f"{_fmt_pts(row['gap_change_ci_low'])} to {_fmt_pts(row['gap_change_ci_high'])})"
        )
        frm, to = _fmt_pct(row["gap_base_pct"]), _fmt_pct(row["gap_candidate_pct"])
        if outcome == "no detectable change":
            in_sample = f"no detectable change in the gap, {frm} → {to} {change}"
        else:
            in_sample = f"gap {outcome} from {frm} to {to} {change}"
        if row["held_out_outcome"] not in ("not computed", "unmeasured") and not pd.isna(row["held_out_outcome"]):
            # the held-out numbers are the headline; the in-sample ones follow, labelled optimistic
            held = (
                f"held out (cohorts found on one half of the speakers, measured on the other): "
                f"{row['held_out_outcome']}, {_fmt_pct(row['held_out_gap_base_pct'])} → "
                f"{_fmt_pct(row['held_out_gap_candidate_pct'])} (change {_fmt_pts(row['held_out_change_pts'])} points, "
                f"CI {_fmt_pts(row['held_out_change_ci_low'])} to {_fmt_pts(row['held_out_change_ci_high'])})"
            )
            return f"{method}: {held}; in sample (found and measured on the same speakers, optimistic): {in_sample}; {overall}"
        return f"{method}: {in_sample}; {overall}"

    def verdicts(self) -> list[str]:
        """:meth:`verdict` of every method compared."""
        return [self.verdict(m) for m in self.methods]

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict (NaN as None), ready for JSON."""
        return jsonable(
            {
                "names": list(self.names),
                "counts": self.counts,
                "overall": self.overall,
                "confidence": self.confidence,
                "n_boot": self.n_boot,
                "seed": self.seed,
                "summary": self._summary.to_dict("records"),
                "cohorts": self._cohorts.to_dict("records"),
                "verdicts": self.verdicts(),
                "excluded": self.excluded,
                "skipped": self.skipped,
            }
        )

    def _repr_html_(self) -> str:
        import html

        lines = "".join(f"<li>{html.escape(v)}</li>" for v in self.verdicts())
        return f"<ul>{lines}</ul>" + self._summary.to_html(index=False, na_rep="", float_format=lambda x: f"{x:.4g}")
