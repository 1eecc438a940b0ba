"""The result of comparing N systems: tidy tables, verdicts against the first system, ranking."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from wergap._format import num
from wergap._json import jsonable
from wergap.cohorts.stats import WER_COLUMNS

#: Columns of :meth:`SystemsComparison.cohorts`: one row per system × method × cohort.
SYSTEM_COHORT_COLUMNS = [
    "system",
    "method",
    "cohort",
    "definition",
    "role",
    *WER_COLUMNS,
]
#: Columns of :meth:`SystemsComparison.gaps`: one row per system × method, held-out gap first.
SYSTEM_GAP_COLUMNS = [
    "system",
    "method",
    "kind",
    "bottom",
    "top",
    "held_out_gap_pct",
    "held_out_ci_low",
    "held_out_ci_high",
    "gap_pct",
    "gap_ci_low",
    "gap_ci_high",
    "wer_bottom",
    "wer_top",
    "rank",
    "ranked_by",
    "speakers",
    "note",
]
#: Columns of :meth:`SystemsComparison.changes`: each system but the first, against the first, per method.
SYSTEM_CHANGE_COLUMNS = [
    "system",
    "baseline",
    "method",
    "kind",
    "verdict",
    "verdict_from",
    "held_out_change_pts",
    "held_out_change_ci_low",
    "held_out_change_ci_high",
    "held_out_outcome",
    "gap_change_pts",
    "gap_change_ci_low",
    "gap_change_ci_high",
    "outcome",
    "note",
]
#: Columns of :meth:`SystemsComparison.cohort_changes`: each cohort's WER change against the first system.
SYSTEM_COHORT_CHANGE_COLUMNS = [
    "system",
    "baseline",
    "method",
    "cohort",
    "role",
    "wer_baseline",
    "wer",
    "change_pts",
    "change_ci_low",
    "change_ci_high",
]
#: Columns of :attr:`SystemsComparison.overall`.
SYSTEM_OVERALL_COLUMNS = [
    "system",
    *WER_COLUMNS,
    "change_pts",
    "change_ci_low",
    "change_ci_high",
]

NOT_COMPARED = "no comparison for method {method!r}; compared: {methods}"
NOT_A_SYSTEM = "no system {system!r}; compared: {systems}"


def _pct(value: Any) -> str:
    return num(value, 1, " %", na="n/a")


def _pts(value: Any) -> str:
    return num(value, 1, signed=True, na="n/a")


def _ci(low: Any, high: Any) -> str:
    return f"{_pts(low)} to {_pts(high)}"


@dataclass
class SystemsComparison:
    """Cohorts found once, measured on N systems with the same paired speaker resamples.

    Attributes
    ----------
    names : tuple of str
        The systems, in order; every change is against ``names[0]``.
    counts : dict
        ``shared`` utterances measured (decoded by every system), ``not_shared``
        ({system: utterances of its log left out because another system lacks them}),
        ``reference_words_differ`` ({system: shared utterances whose reference word
        count differs from the first system's}), ``speakers``.
    discover_on : str
        ``"first"`` or ``"pooled"``: whose counts found the cohorts and fixed each
        partition's bottom and top.
    overall : DataFrame
        Every system's WER over the shared utterances, with its interval and its paired
        change against the first (:data:`SYSTEM_OVERALL_COLUMNS`).
    excluded : dict of str to dict
        Per method, speakers not measured and why.
    skipped : dict of str to str
        Discovery methods that could not run, and why.
    estimators : dict
        The fitted discovery estimators (the report draws their maps).
    speakers : DataFrame or None
        ``speaker_id``, ``lat``, ``lon`` of the measured speakers when the log has
        coordinates (the maps' speaker density and extent), else None.
    confidence, n_boot, seed
        As called.
    """

    names: tuple[str, ...]
    counts: dict[str, Any]
    discover_on: str
    confidence: float
    n_boot: int
    seed: int
    overall: pd.DataFrame = field(default_factory=pd.DataFrame)
    excluded: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    estimators: dict[str, Any] = field(default_factory=dict, repr=False)
    speakers: pd.DataFrame | None = field(default=None, repr=False)
    _cohorts: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    _gaps: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    _changes: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    _cohort_changes: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)

    @property
    def methods(self) -> list[str]:
        """Methods (discovered, then known attributes ``attribute:<column>``) compared, in order."""
        return list(dict.fromkeys(self._gaps["method"])) if len(self._gaps) else []

    def _select(self, table: pd.DataFrame, method: str | None) -> pd.DataFrame:
        if method is None:
            return table.copy()
        if method not in self.methods:
            raise KeyError(NOT_COMPARED.format(method=method, methods=", ".join(self.methods) or "none"))
        return table[table["method"] == method].reset_index(drop=True)

    def cohorts(self, method: str | None = None) -> pd.DataFrame:
        """Each system's WER per cohort with its interval (:data:`SYSTEM_COHORT_COLUMNS`).

        Cohorts are ranked by the discovery basis's WER, worst first; ``role`` marks the
        bottom and top cohorts, the same for every system.
        """
        return self._select(self._cohorts, method)

    def gaps(self, method: str | None = None) -> pd.DataFrame:
        """Each system's gap between the bottom and top cohorts (:data:`SYSTEM_GAP_COLUMNS`).

        ``held_out_gap_pct`` (cohorts found on one half of the speakers, measured on the
        other) leads; ``gap_pct`` is in-sample (found and measured on the same speakers:
        optimistic for the system they were found on). Known attributes have no held-out
        gap (nothing was searched). ``rank`` 1 is the smallest gap, by ``ranked_by``.
        """
        return self._select(self._gaps, method)

    def changes(self, method: str | None = None) -> pd.DataFrame:
        """Each system's change of the gap against the first system (:data:`SYSTEM_CHANGE_COLUMNS`).

        Changes are in points of the relative gap, with paired intervals. ``verdict`` is
        ``"narrowed"`` / ``"widened"`` when the interval excludes 0, ``"no detectable
        change"`` when it holds 0, ``"unmeasured"`` when a gap is NaN; it is the
        held-out outcome where there is one (``verdict_from``), else the in-sample one.
        """
        return self._select(self._changes, method)

    def cohort_changes(self, method: str | None = None) -> pd.DataFrame:
        """Each cohort's WER change (points) of every system against the first, paired interval."""
        return self._select(self._cohort_changes, method)

    def ranking(self, method: str) -> pd.DataFrame:
        """Systems of ``method`` ordered by their gap, smallest first (held-out where there is one)."""
        return self.gaps(method).sort_values(["rank", "system"], kind="stable").reset_index(drop=True)

    def headline(self) -> pd.DataFrame:
        """System × method table of the headline gap (%): held-out, or in-sample for known attributes.

        Rows in the systems' order, columns the methods; for the terminal and the report.
        """
        g = self._gaps
        if g.empty:
            return pd.DataFrame(index=pd.Index(self.names, name="system"))
        value = g["held_out_gap_pct"].where(g["ranked_by"] == "held-out", g["gap_pct"])
        table = g.assign(value=value).pivot(index="system", columns="method", values="value")
        return table.reindex(index=list(self.names), columns=self.methods)

    def verdict(self, system: str, method: str) -> str:
        """One plain sentence: did ``system`` narrow the gap of ``method`` against the first system?"""
        if system not in self.names:
            raise KeyError(NOT_A_SYSTEM.format(system=system, systems=", ".join(self.names)))
        if system == self.names[0]:
            return f"{method}: {system} is the reference system"
        row = self.changes(method).set_index("system").loc[system]
        gaps = self.gaps(method).set_index("system")
        first, this = gaps.loc[self.names[0]], gaps.loc[system]
        level = f"{100 * self.confidence:g} %"
        head = f"{method}: {system} vs {self.names[0]}: "
        if row["verdict"] == "unmeasured":
            return head + f"gap not measurable ({row['note']})"
        word = (
            "no detectable change in the gap" if row["verdict"] == "no detectable change" else f"gap {row['verdict']}"
        )
        parts = []
        if row["verdict_from"] == "held-out":
            parts.append(
                f"held out (found on one half of the speakers, measured on the other) "
                f"{_pct(first['held_out_gap_pct'])} → {_pct(this['held_out_gap_pct'])}, change "
                f"{_pts(row['held_out_change_pts'])} points ({level} CI {_ci(row['held_out_change_ci_low'], row['held_out_change_ci_high'])})"
            )
            label = "in-sample (found and measured on the same speakers)"
        else:
            label = "found and measured on the same speakers" if row["kind"] == "discovered" else "known attribute"
        parts.append(
            f"{label} {_pct(first['gap_pct'])} → {_pct(this['gap_pct'])}, change {_pts(row['gap_change_pts'])} points "
            f"({level} CI {_ci(row['gap_change_ci_low'], row['gap_change_ci_high'])}"
            + (f", {row['outcome']})" if row["verdict_from"] == "held-out" else ")")
        )
        return head + word + ": " + "; ".join(parts)

    def verdicts(self) -> list[str]:
        """:meth:`verdict` of every system but the first, for every method."""
        return [self.verdict(s, m) for m in self.methods for s in self.names[1:]]

    def ranking_line(self, method: str) -> str:
        """The systems of ``method`` from smallest to largest gap, in one line."""
        ranked = self.ranking(method)
        column = "held_out_gap_pct" if (ranked["ranked_by"] == "held-out").all() else "gap_pct"
        items = [
            f"{r['rank']}. {r['system']} {_pct(r[column])}" if not pd.isna(r["rank"]) else f"– {r['system']} n/a"
            for _, r in ranked.iterrows()
        ]
        how = "held-out gap" if column == "held_out_gap_pct" else "gap"
        return f"{method}: ranked by {how}, smallest first: " + ", ".join(items)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict (NaN as None), ready for JSON."""
        return jsonable(
            {
                "names": list(self.names),
                "counts": self.counts,
                "discover_on": self.discover_on,
                "confidence": self.confidence,
                "n_boot": self.n_boot,
                "seed": self.seed,
                "overall": self.overall.to_dict("records"),
                "gaps": self._gaps.astype(object).to_dict("records"),
                "changes": self._changes.to_dict("records"),
                "cohorts": self._cohorts.to_dict("records"),
                "cohort_changes": self._cohort_changes.to_dict("records"),
                "verdicts": self.verdicts(),
                "rankings": [self.ranking_line(m) for m in self.methods],
                "excluded": self.excluded,
                "skipped": self.skipped,
            }
        )

    def to_frame(self) -> pd.DataFrame:
        """The system × method gap table (:meth:`gaps`)."""
        return self.gaps()

    def to_html(self, path: str | os.PathLike[str], *, boundaries: str | os.PathLike[str] | None = None) -> None:
        """Write the comparison report (figures, verdicts, tables) as one self-contained HTML file.

        ``boundaries`` (a GeoJSON path) is drawn under the maps instead of the shipped outlines.
        """
        from wergap.reports.compare_systems import write_systems_html

        write_systems_html(self, path, boundaries=boundaries)

    def _repr_html_(self) -> str:
        import html

        lines = "".join(f"<li>{html.escape(v)}</li>" for v in self.verdicts())
        table = self.headline().to_html(na_rep="n/a", float_format=lambda x: f"{x:.1f}" if math.isfinite(x) else "n/a")
        return f"<p>Headline gap (%) by system and method</p>{table}<ul>{lines}</ul>"
