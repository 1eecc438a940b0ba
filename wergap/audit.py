"""One call from a decode log to every cohort-discovery method, side by side.

:func:`audit` scores the log if needed, builds the speaker table, runs each discovery
method whose inputs are present (geographic tree: lat/lon; census splits: ZIP + a census
table; embedding k-means: speaker embeddings), and for each computes the cohort table, the
bottom-vs-top gap with its interval and the held-out gap. A method whose inputs are
missing is skipped with a stated reason, never an exception, so the same call works on a
counts-only production log and on a fully annotated corpus. :class:`Audit` holds the
results; :meth:`Audit.summary` is the Alexa papers' comparison table, one row per method.
"""

from __future__ import annotations

import copy
import html
import os
from collections.abc import Callable, Sequence
from typing import Any, TypedDict

import numpy as np
import pandas as pd
from sklearn.base import clone

from wergap import engines
from wergap.cohorts import (
    GapSummary,
    HeldOutGap,
    Partition,
    cohort_table,
    disaggregate,
    gap_summary,
    held_out_gap,
    overall_wer,
)
from wergap.cohorts.attributes import choose_attributes
from wergap.cohorts.exclusions import exclusion_table
from wergap.cohorts.stats import check_min_speakers, split_intervals
from wergap.data_schemas.embeddings import attach_embeddings
from wergap.defaults import CONFIDENCE, MAX_BOTTOM_SHARE, MIN_GROUP_SPEAKERS, MIN_SPEAKERS, N_BOOT, SEED
from wergap.discovery import registry
from wergap.errors import WergapError

#: The discovery methods, in the order they are run and shown (:mod:`wergap.discovery.registry`).
METHODS = registry.METHODS
#: Progress steps of one method: discovery, cohort intervals, held-out gap.
STEPS_PER_METHOD = 3
#: Census splits given WER intervals for the report (its chart shows this many).
SPLITS_WITH_INTERVALS = 8

#: Columns of :meth:`Audit.summary`, in order: the held-out gap (the honest number) first,
#: then the in-sample gap (found and measured on the same speakers: optimistic).
SUMMARY_COLUMNS = [
    "method",
    "cohorts",
    "bottom_cohort",
    "bottom_definition",
    "held_out_gap_pct",
    "held_out_ci_low",
    "held_out_ci_high",
    "in_sample_gap_pct",
    "in_sample_ci_low",
    "in_sample_ci_high",
    "wer_bottom",
    "wer_top",
    "bottom_share_pct",
    "bottom_utterance_share_pct",
    "in_sample_gap_vs_rest_pct",
    "speakers",
    "raw_ratio",
    "adjusted_ratio",
    "adjusted_ci_low",
    "adjusted_ci_high",
    "note",
]
#: Columns renamed in 0.x (issue 12): old name -> new name (CHANGELOG.md).
RENAMED_SUMMARY_COLUMNS = {
    "gap_pct": "in_sample_gap_pct",
    "gap_ci_low": "in_sample_ci_low",
    "gap_ci_high": "in_sample_ci_high",
    "gap_vs_rest_pct": "in_sample_gap_vs_rest_pct",
}

UNKNOWN_ATTRIBUTE = "known attribute {column!r} is not a column of the speaker table (it has: {have})"
UNKNOWN_METHOD = registry.UNKNOWN_METHOD
UNKNOWN_RESULT = "no results for method {method!r}; ran: {ran}; skipped: {skipped}"
NOT_INSTALLED = "{module} is not available in this installation ({error})"
FIT_FAILED = "discovery failed: {error}"


class _Bootstrap(TypedDict):
    """The interval options every cohort statistic takes."""

    confidence: float
    n_boot: int
    seed: int


class _Bottom(TypedDict):
    """The options that choose a bottom cohort."""

    bottom_share: float | None
    min_speakers: int
    max_bottom_share: float | None


def audit(
    log_or_scored: Any,
    *,
    census: pd.DataFrame | None = None,
    embeddings: pd.DataFrame | None = None,
    methods: Sequence[str] | None = None,
    min_speakers: int = MIN_SPEAKERS,
    seed: int = SEED,
    n_boot: int = N_BOOT,
    confidence: float = CONFIDENCE,
    max_regions: int = 8,
    geo_prune: str | None = "cv",
    n_clusters: int = 10,
    bottom_share: float | None = None,
    max_bottom_share: float | None = MAX_BOTTOM_SHARE,
    known_attributes: Sequence[str] | None = None,
    min_group_speakers: int = MIN_GROUP_SPEAKERS,
    engine: str = "pandas",
    scheduler: Any = None,
    adjust_for: Sequence[str] | None = None,
    explain: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> Audit:
    """Discover the worst-served cohorts with every applicable method and measure their gaps.

    Parameters
    ----------
    log_or_scored : DataFrame or path
        A decode log (path, or table with ``ref``/``hyp`` or counts: scored with
        :func:`wergap.scoring.score`), scored utterances (aggregated with
        :func:`wergap.speaker_table.speakers`) or a speaker table (used as is).
    census : DataFrame, optional
        Census table (``zip`` + attributes) for the census splits.
    embeddings : DataFrame, optional
        Speaker or utterance embeddings, attached with
        :func:`wergap.data_schemas.embeddings.attach_embeddings`.
    methods : sequence of str, optional
        Subset of :data:`METHODS`; default all. Methods whose inputs are missing are
        skipped with a reason in :attr:`Audit.skipped`.
    min_speakers : int, default 30
        Smallest cohort reported (and each estimator's ``min_speakers``).
    seed : int, default 0
        Seeds every estimator (``random_state``), the bootstrap and the held-out split.
    n_boot, confidence
        Speaker bootstrap resamples and interval coverage.
    max_regions : int, default 8
        Most leaves of the geographic tree.
    geo_prune : {"cv", None}, default "cv"
        How many of them to keep: by cross-validation over speakers (the one-SE rule), or
        all (``None``); see :class:`wergap.discovery.GeoTree`.
    n_clusters : int, default 10
        Clusters of the embedding k-means.
    bottom_share : float, optional
        Pool the worst cohorts up to this share of speakers as the bottom (see
        :func:`wergap.cohorts.gap_summary`).
    max_bottom_share : float or None, default 0.5
        A binary split's worse side holding more of the speakers is never the bottom
        cohort (census splits choose another split; see :func:`wergap.cohorts.gap_summary`).
    known_attributes : sequence of str, optional
        Speaker-table columns to disaggregate WER by. Default: every string column with
        2 to 12 distinct values other than ids, ZIP, paths and text.
    min_group_speakers : int, default 10
        Smallest group of a known attribute given a WER; a value under it is listed by
        name with its speaker count and "too few speakers" (:func:`wergap.cohorts.disaggregate`).
    engine : {"pandas", "dask"}, default "pandas"
        ``"dask"``: ``log_or_scored`` is a file, folder, glob or list of Parquet/CSV/TSV/
        JSON-lines files, read, scored and aggregated to the speaker table on Dask with
        memory bounded by the partition size (:func:`wergap.engines.score_speakers`);
        the result is the pandas engine's. Attributes known only per utterance are then
        disaggregated from the speaker table.
    scheduler : optional
        For ``engine="dask"``: ``None`` (a local cluster), a ``"tcp://host:port"``
        address, a ``distributed.Client`` or a local scheduler name.
    adjust_for : sequence of str, optional
        Covariates of each bottom cohort's adjusted gap (:func:`wergap.adjusted_gap`):
        ``"length"``, ``"rate"`` and log columns. Default: utterance length, speaking rate
        when the log has ``duration``, and the known attributes.
    explain : bool, default True
        Explain each method's bottom cohort (:attr:`Audit.explanations`: error profile,
        adjusted gap, cohort profile; :mod:`wergap.cohorts.explain`).
    progress : callable, optional
        ``progress(step, done, total)`` is called before each step (a method's fit, its
        cohort statistics, its held-out gap, the known attributes, the explanations), so a
        caller can show where a long audit is; the library itself never prints.

    Returns
    -------
    Audit

    Examples
    --------
    >>> result = audit(read_log("decode.tsv"), census=census)  # doctest: +SKIP
    >>> result.summary()  # doctest: +SKIP
    """
    check_min_speakers(min_speakers)
    chosen = list(METHODS if methods is None else methods)
    specs = [registry.get(registry.check_method(method)) for method in chosen]
    speakers, scored = engines.speaker_table(log_or_scored, engine, scheduler=scheduler)
    if embeddings is not None:
        speakers = attach_embeddings(speakers, embeddings)
    params = {
        "methods": chosen,
        "min_speakers": min_speakers,
        "seed": seed,
        "n_boot": n_boot,
        "confidence": confidence,
        "max_regions": max_regions,
        "geo_prune": geo_prune,
        "n_clusters": n_clusters,
        "bottom_share": bottom_share,
        "max_bottom_share": max_bottom_share,
        "min_group_speakers": min_group_speakers,
        "engine": engine,
        "adjust_for": None if adjust_for is None else list(adjust_for),
    }
    stats: _Bootstrap = {"confidence": confidence, "n_boot": n_boot, "seed": seed}
    result = Audit(speakers=speakers, params=params)
    total, done = STEPS_PER_METHOD * len(specs) + 1 + int(explain), 0

    def step(what: str, n: int = 1) -> None:
        nonlocal done
        if progress is not None:
            progress(what, done, total)
        done += n

    result.overall = overall_wer(speakers, **stats)
    options = {**params, "census": census}
    for spec in specs:
        method = spec.name
        reason = spec.needs(speakers, options)
        if reason is not None:
            result.skipped[method] = reason
            step(f"{method}: skipped", STEPS_PER_METHOD)
            continue
        try:
            estimator = spec.make(options)
        except ImportError as error:
            result.skipped[method] = NOT_INSTALLED.format(module=spec.estimator.partition(":")[0], error=error)
            step(f"{method}: skipped", STEPS_PER_METHOD)
            continue
        step(f"{method}: discovery")
        try:
            fitted = estimator.fit(speakers)
        except (WergapError, ValueError) as error:
            result.skipped[method] = FIT_FAILED.format(error=error)
            step(f"{method}: skipped", STEPS_PER_METHOD - 1)
            continue
        partition = fitted.partition_
        result.estimators[method] = fitted
        result._partitions[method] = partition
        step(f"{method}: cohort intervals")
        result._tables[method] = cohort_table(speakers, partition, min_speakers=min_speakers, **stats)
        bottom: _Bottom = {
            "bottom_share": bottom_share,
            "min_speakers": min_speakers,
            "max_bottom_share": max_bottom_share,
        }
        result.gaps[method] = gap_summary(speakers, partition, **bottom, **stats)
        step(f"{method}: held-out gap")
        refit = clone(estimator).set_params(**spec.held_out_params) if spec.held_out_params else estimator
        result.held_out[method] = held_out_gap(refit, speakers, **bottom, **stats)
        if spec.ranked_candidates and n_boot > 0:
            result.split_intervals = split_intervals(
                speakers, fitted.splits_, fitted.partitions_, top=SPLITS_WITH_INTERVALS, **stats
            )
    step("known attributes")
    attributes, result.attributes_left_out = choose_attributes(speakers, known_attributes)
    source = scored if scored is not None else speakers
    for column in attributes:
        table = source if column in source.columns else speakers
        result.disaggregated[column] = disaggregate(table, column, min_speakers=min_group_speakers, **stats)
    if explain:
        from wergap.cohorts.explain import explain_methods

        step("explaining the bottom cohorts")
        result.explanations = explain_methods(
            speakers,
            scored,
            result._partitions,
            result.gaps,
            attributes=attributes,
            census=census,
            adjust_for=adjust_for,
            min_speakers=min_speakers,
            confidence=confidence,
        )
    if progress is not None:
        progress("done", total, total)
    return result


class Audit:
    """Results of :func:`audit`: one entry per discovery method that ran.

    Attributes
    ----------
    speakers : DataFrame
        The speaker table every method read (with ``embedding`` when attached).
    overall : Series
        WER over all speakers with its bootstrap interval (:func:`wergap.cohorts.overall_wer`).
    gaps : dict of str to GapSummary
    held_out : dict of str to HeldOutGap
    estimators : dict of str to fitted estimator
    disaggregated : dict of str to DataFrame
        WER by each known attribute (:func:`wergap.cohorts.disaggregate`).
    split_intervals : DataFrame or None
        The best census splits with bootstrap intervals of the WER inside and outside
        (:func:`wergap.cohorts.stats.split_intervals`), for the report's split chart.
    explanations : dict of str to Explanation
        Method -> its bottom cohort explained (:class:`wergap.cohorts.explain.Explanation`:
        error profile, adjusted gap, cohort profile).
    skipped : dict of str to str
        Method -> why it did not run.
    attributes_left_out : dict of str to str
        Speaker-table columns not broken down as known attributes, and why (transcripts,
        ids, paths and free text never are: :mod:`wergap.cohorts.attributes`).
    params : dict
        The options :func:`audit` was called with (except the tables).
    provenance : dict
        The speaker table's ``attrs["wergap"]``: files, rows read, rows dropped and why.
    """

    def __init__(self, speakers: pd.DataFrame, params: dict[str, Any]) -> None:
        self.speakers = speakers
        self.params = params
        self.provenance: dict[str, Any] = copy.deepcopy(speakers.attrs.get("wergap", {}))
        self.overall: pd.Series | None = None
        self.gaps: dict[str, GapSummary] = {}
        self.held_out: dict[str, HeldOutGap] = {}
        self.estimators: dict[str, Any] = {}
        self.disaggregated: dict[str, pd.DataFrame] = {}
        self.split_intervals: pd.DataFrame | None = None
        self.skipped: dict[str, str] = {}
        self.attributes_left_out: dict[str, str] = {}
        self.explanations: dict[str, Any] = {}
        self._partitions: dict[str, Partition] = {}
        self._tables: dict[str, pd.DataFrame] = {}

    @property
    def methods(self) -> list[str]:
        """Methods that ran, in run order."""
        return list(self._partitions)

    def _check(self, method: str) -> None:
        if method not in self._partitions:
            raise KeyError(
                UNKNOWN_RESULT.format(
                    method=method, ran=", ".join(self.methods) or "none", skipped=self.skipped or "none"
                )
            )

    def partition(self, method: str) -> Partition:
        """The partition ``method`` found (before pooling small cohorts)."""
        self._check(method)
        return self._partitions[method]

    def cohorts(self, method: str) -> pd.DataFrame:
        """The cohort table of ``method`` (:func:`wergap.cohorts.cohort_table`), worst first."""
        self._check(method)
        return self._tables[method]

    def assignments(self) -> pd.DataFrame:
        """Speaker × method -> cohort label (NA where a method could not place the speaker)."""
        frame = pd.DataFrame(index=pd.Index(self.speakers["speaker_id"].astype("str"), name="speaker_id"))
        for method, partition in self._partitions.items():
            frame[method] = partition.labels.reindex(frame.index)
        return frame.reset_index()

    def exclusions(self) -> pd.DataFrame:
        """Every row and speaker counted out, and why (:func:`wergap.cohorts.exclusion_table`):
        rows dropped while reading, invalid ZIP codes, embeddings that did not match, and
        each method's speakers it could not place."""
        return exclusion_table(self.provenance, {m: p.excluded for m, p in self._partitions.items()})

    def summary(self) -> pd.DataFrame:
        """One row per method that ran, in the shape of the Alexa papers' comparison table.

        The held-out gap (:func:`wergap.cohorts.held_out_gap`: discovered on half the
        speakers, measured on the other half) and its interval come first: it is the
        honest number. ``in_sample_*`` follow: the gap of the cohorts found, measured on
        the same speakers that found them (optimistic; with no disparity its interval lies
        above 0 in 30–78 % of data sets). Bottom and top as in
        :func:`wergap.cohorts.gap_summary`; for census splits the row is the chosen split.
        ``note`` says why any number is NaN and what to change (held-out reason first).
        Columns renamed from earlier versions: :data:`RENAMED_SUMMARY_COLUMNS`.
        ``raw_ratio`` / ``adjusted_ratio`` (with CI): the bottom cohort's WER ratio to the
        rest before and after adjustment for covariates (:attr:`explanations`; NaN when
        not computed). ``note`` collects what the method itself says (``note_``: whether
        the scan's hot spot is significant) and the reasons behind any NaN.
        """
        rows = []
        for method in self.methods:
            gap, held = self.gaps[method], self.held_out[method]
            own = getattr(self.estimators.get(method), "note_", None)  # what the method itself says (geo_scan)
            notes = [n for n in (held.reason and f"held-out: {held.reason}", own, gap.reason) if n]
            adjusted = getattr(self.explanations.get(method), "adjusted", None)
            nan = float("nan")
            rows.append(
                {
                    "method": method,
                    "cohorts": gap.n_cohorts,
                    "bottom_cohort": gap.bottom,
                    "bottom_definition": gap.bottom_definition,
                    "held_out_gap_pct": held.gap_pct,
                    "held_out_ci_low": held.ci_low,
                    "held_out_ci_high": held.ci_high,
                    "in_sample_gap_pct": gap.gap_pct,
                    "in_sample_ci_low": gap.gap_ci_low,
                    "in_sample_ci_high": gap.gap_ci_high,
                    "wer_bottom": gap.wer_bottom,
                    "wer_top": gap.wer_top,
                    "bottom_share_pct": gap.bottom_share_pct,
                    "bottom_utterance_share_pct": gap.bottom_utterance_share_pct,
                    "in_sample_gap_vs_rest_pct": gap.gap_vs_rest_pct,
                    "speakers": gap.n_speakers,
                    "raw_ratio": nan if adjusted is None else adjusted.ratio_raw,
                    "adjusted_ratio": nan if adjusted is None else adjusted.ratio,
                    "adjusted_ci_low": nan if adjusted is None else adjusted.ci_low,
                    "adjusted_ci_high": nan if adjusted is None else adjusted.ci_high,
                    "note": "; ".join(notes) or None,
                }
            )
        frame = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
        frame.attrs["wergap"] = copy.deepcopy(self.provenance)
        return frame

    def to_frame(self) -> pd.DataFrame:
        """The summary table (:meth:`summary`)."""
        return self.summary()

    def _repr_html_(self) -> str:
        summary = self.summary().to_html(index=False, escape=True, na_rep="", float_format=lambda x: f"{x:.4g}")
        skipped = "".join(
            f"<li>{html.escape(method)}: {html.escape(reason)}</li>" for method, reason in self.skipped.items()
        )
        overall = ""
        if self.overall is not None and not np.isnan(self.overall["wer"]):
            o = self.overall
            overall = (
                f"<p>Overall WER {100 * o['wer']:.2f}% "
                f"({100 * o['wer_ci_low']:.2f}–{100 * o['wer_ci_high']:.2f}%, "
                f"{int(o['speakers'])} speakers)</p>"
            )
        return overall + summary + (f"<p>Skipped:</p><ul>{skipped}</ul>" if skipped else "")

    def to_html(self, path: str | os.PathLike[str]) -> None:
        """Write the self-contained HTML report (:func:`wergap.reports.html.write_html`)."""
        from wergap.reports.html import write_html

        write_html(self, path)

    def __repr__(self) -> str:
        return f"Audit(methods={self.methods}, skipped={sorted(self.skipped)}, speakers={len(self.speakers)})"
