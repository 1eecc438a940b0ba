"""Was a mitigation worth it? Compare two systems on the same utterances, and gate a release.

:func:`compare` measures cohorts discovered on a baseline system on both the baseline and
a candidate system decoded on the same utterances. Every interval is a **paired** speaker
bootstrap: one resample draws speakers (within each cohort, cohort identities fixed) and
takes both systems' counts of the drawn speakers, so the noise the two systems share
cancels in the change. The cohorts are the baseline's, and so are the bottom and top: the
candidate's gap is the gap between the *same* two cohorts, which is what a mitigation
targeted at them must move.

:func:`check` is the release gate behind ``wergap check``: it fails when the held-out gap
(discovered on one half of the speakers, measured on the other) of a method exceeds a
threshold, or with ``strict`` when even its interval's lower bound does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from wergap._strings import isin
from wergap.cohorts._bootstrap import CHUNK_ELEMENTS, comonotone_mean, percentile_interval, ratio, relative_gap_pct
from wergap.cohorts.partition import Partition
from wergap.cohorts.stats import check_options, gap_summary
from wergap.data_schemas._errors import InputError

__all__ = [
    "COMPARE_COLUMNS",
    "COMPARE_SUMMARY_COLUMNS",
    "CheckResult",
    "Comparison",
    "MethodCheck",
    "check",
    "compare",
    "partitions_from_assignments",
]

MISSING_COLUMN = "{which} table has no {column!r} column (compare needs scored utterances: utt_id, speaker_id, ref_words, errors)"
DUPLICATE_UTT = "{which} table repeats utt_id {utt_id!r} (row {row})"
SPEAKER_MISMATCH = (
    "utt_id {utt_id!r} belongs to speaker {base!r} in the {base_name} log but {cand!r} in the "
    "{cand_name} log ({n} such utterances): the logs do not describe the same utterances"
)
NO_SHARED = "the two logs share no utt_id ({n_base} in {base_name}, {n_cand} in {cand_name})"
NO_PARTITIONS = "no cohorts to compare: no discovery method ran on the baseline ({skipped})"
BAD_MAX_GAP = "max_gap must be a non-negative number of percent, got {value!r}"
UNKNOWN_CHECK_METHOD = "method {method!r} was not requested from the audit (it ran: {ran})"
ASSIGNMENTS_NO_SPEAKER = "assignments table has no 'speaker_id' column"

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


def paired_totals(
    codes: np.ndarray, values: np.ndarray, n_strata: int, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """Stratified speaker-bootstrap totals of several count columns from the same draws.

    Parameters
    ----------
    codes : ndarray of int, shape (n,)
        Stratum (cohort) of each speaker, ``0 .. n_strata - 1``.
    values : ndarray, shape (n, m)
        Per-speaker counts, e.g. base errors, base words, candidate errors, candidate words.
    n_strata, n_boot : int
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of float64, shape (n_boot, n_strata, m)
        Totals per resample and stratum. All ``m`` columns of a resample sum the *same*
        drawn speakers: that is what makes a difference between systems paired.
    """
    values = np.asarray(values, dtype=np.float64)
    codes = np.asarray(codes)
    out = np.zeros((n_boot, n_strata, values.shape[1]))
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_strata + 1))
    for s in range(n_strata):
        members = values[order[bounds[s] : bounds[s + 1]]]
        size = len(members)
        if size == 0:
            continue
        step = max(1, CHUNK_ELEMENTS // (size * values.shape[1]))
        for start in range(0, n_boot, step):
            stop = min(n_boot, start + step)
            draws = rng.integers(0, size, size=(stop - start, size), dtype=np.int32)
            out[start:stop, s, :] = members[draws].sum(axis=1)
    return out


# --------------------------------------------------------------------------- alignment


def _require(table: pd.DataFrame, which: str) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"{which} must be a DataFrame of scored utterances, got {type(table).__name__}")
    for column in ("utt_id", "speaker_id", "ref_words", "errors"):
        if column not in table.columns:
            raise InputError(MISSING_COLUMN.format(which=which, column=column), column=column)
    ids = table["utt_id"].astype("str")
    dup = ids.duplicated().to_numpy()
    if dup.any():
        row = int(dup.argmax())
        raise InputError(DUPLICATE_UTT.format(which=which, utt_id=ids.iloc[row], row=row), row=row, column="utt_id")
    return table


def _align(
    base: pd.DataFrame, cand: pd.DataFrame, names: tuple[str, str]
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Per-utterance counts of both systems on the utterances both logs hold."""
    base = _require(base, names[0])
    cand = _require(cand, names[1])
    left = pd.DataFrame(
        {
            "utt_id": base["utt_id"].astype("str").to_numpy(),
            "speaker_id": base["speaker_id"].astype("str").to_numpy(),
            "errors_base": pd.to_numeric(base["errors"]).to_numpy(dtype=np.float64),
            "words_base": pd.to_numeric(base["ref_words"]).to_numpy(dtype=np.float64),
        }
    )
    right = pd.DataFrame(
        {
            "utt_id": cand["utt_id"].astype("str").to_numpy(),
            "speaker_cand": cand["speaker_id"].astype("str").to_numpy(),
            "errors_cand": pd.to_numeric(cand["errors"]).to_numpy(dtype=np.float64),
            "words_cand": pd.to_numeric(cand["ref_words"]).to_numpy(dtype=np.float64),
        }
    )
    merged = left.merge(right, on="utt_id", how="inner", sort=False)
    if merged.empty:
        raise InputError(NO_SHARED.format(n_base=len(left), n_cand=len(right), base_name=names[0], cand_name=names[1]))
    differ = (merged["speaker_id"] != merged["speaker_cand"]).to_numpy()
    if differ.any():
        i = int(differ.argmax())
        raise InputError(
            SPEAKER_MISMATCH.format(
                utt_id=merged["utt_id"].iloc[i], base=merged["speaker_id"].iloc[i], cand=merged["speaker_cand"].iloc[i],
                base_name=names[0], cand_name=names[1], n=int(differ.sum()),
            ),
            column="speaker_id",
        )
    counts = {
        "shared": len(merged),
        f"only_{names[0]}": len(left) - len(merged),
        f"only_{names[1]}": len(right) - len(merged),
        "reference_words_differ": int((merged["words_base"] != merged["words_cand"]).sum()),
    }
    return merged.drop(columns="speaker_cand"), counts


def _per_speaker(merged: pd.DataFrame) -> pd.DataFrame:
    grouped = merged.groupby("speaker_id", sort=True)
    out = grouped[["errors_base", "words_base", "errors_cand", "words_cand"]].sum()
    out["utterances"] = grouped.size()
    return out.reset_index()


def partitions_from_assignments(assignments: pd.DataFrame) -> dict[str, Partition]:
    """Partitions from an ``assignments.parquet`` written by ``wergap audit --outdir``.

    Parameters
    ----------
    assignments : DataFrame
        ``speaker_id`` plus one column per method holding cohort labels (NA: the method
        could not place the speaker, counted in ``excluded``).

    Returns
    -------
    dict of str to Partition
        The file holds labels only, so each definition is ``"cohort <label> (from the
        assignments file)"``.
    """
    if "speaker_id" not in assignments.columns:
        raise InputError(ASSIGNMENTS_NO_SPEAKER, column="speaker_id")
    out = {}
    ids = assignments["speaker_id"].astype("str")
    for method in assignments.columns:
        if method == "speaker_id":
            continue
        values = assignments[method]
        present = values.notna().to_numpy()
        labels = pd.Series(values[present].astype("str").to_numpy(dtype=object), index=ids[present].to_numpy(dtype=object))
        missing = int((~present).sum())
        out[str(method)] = Partition(
            method=str(method),
            labels=labels,
            definitions={c: f"cohort {c} (from the assignments file)" for c in labels.unique()},
            excluded={"not assigned in the assignments file": missing} if missing else {},
        )
    return out


# --------------------------------------------------------------------------- comparison


def _fmt_pct(value: float) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1f} %"


def _fmt_pts(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:+.2f}"


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
            head = f"{method}: no detectable change in the gap, {frm} → {to} {change}"
        else:
            head = f"{method}: gap {outcome} from {frm} to {to} {change}"
        held = ""
        if row["held_out_outcome"] not in ("not computed", "unmeasured") and not pd.isna(row["held_out_outcome"]):
            held = (
                f"; held out (cohorts found on one half of the speakers, measured on the other): "
                f"{row['held_out_outcome']}, {_fmt_pct(row['held_out_gap_base_pct'])} → "
                f"{_fmt_pct(row['held_out_gap_candidate_pct'])} (change {_fmt_pts(row['held_out_change_pts'])} points, "
                f"CI {_fmt_pts(row['held_out_change_ci_low'])} to {_fmt_pts(row['held_out_change_ci_high'])})"
            )
        return f"{head}{held}; {overall}"

    def verdicts(self) -> list[str]:
        """:meth:`verdict` of every method compared."""
        return [self.verdict(m) for m in self.methods]

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict (NaN as None), ready for JSON."""
        return _plain(
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


def _plain(value: Any) -> Any:
    """JSON-ready: numpy scalars to Python, NaN/inf to None, recursively."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _outcome(low: float, high: float, change: float) -> str:
    if math.isnan(change):
        return "unmeasured"
    if not (math.isnan(low) or math.isnan(high)):
        if high < 0:
            return "narrowed"
        if low > 0:
            return "widened"
        return "no detectable change"
    return "no detectable change"


def _compare_partition(
    spk: pd.DataFrame,
    partition: Partition,
    *,
    min_speakers: int,
    bottom_share: float | None,
    confidence: float,
    n_boot: int,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, int]]:
    method = partition.method
    ids = spk["speaker_id"].to_numpy(dtype=object)
    in_logs = isin(partition.labels.index, ids)
    excluded = dict(partition.excluded)
    if (~in_logs).any():
        excluded["no shared utterances"] = int((~in_logs).sum())
    labels = partition.labels[in_logs]
    unplaced = int((~isin(spk["speaker_id"], partition.labels.index)).sum())
    if unplaced:
        excluded["not in the partition"] = excluded.get("not in the partition", 0) + unplaced
    part = Partition(method, labels, partition.definitions, excluded=excluded, binary=partition.binary)
    part = part.merge_small(min_speakers)
    base_table = pd.DataFrame(
        {"speaker_id": spk["speaker_id"], "ref_words": spk["words_base"], "errors": spk["errors_base"], "utterances": spk["utterances"]}
    )
    base_gap = gap_summary(base_table, part, bottom_share=bottom_share, min_speakers=min_speakers, n_boot=0)
    cohorts = part.cohorts
    cohort_of = spk["speaker_id"].map(part.labels)
    keep = cohort_of.notna().to_numpy()
    data = spk[keep]
    codes = pd.Categorical(cohort_of[keep], categories=cohorts).codes
    values = data[["errors_base", "words_base", "errors_cand", "words_cand"]].to_numpy(dtype=np.float64)
    k = len(cohorts)
    totals = np.zeros((k, 4))
    np.add.at(totals, codes, values)
    n_spk = np.bincount(codes, minlength=k)
    n_utt = np.bincount(codes, weights=data["utterances"].to_numpy(dtype=np.float64), minlength=k)
    boot = paired_totals(codes, values, k, n_boot, rng) if n_boot else np.zeros((0, k, 4))

    wer_b, wer_c = ratio(totals[:, 0], totals[:, 1]), ratio(totals[:, 2], totals[:, 3])
    boot_b, boot_c = ratio(boot[..., 0], boot[..., 1]), ratio(boot[..., 2], boot[..., 3])
    rows = []
    bottom_set = set(base_gap.bottom_cohorts)
    for j, cohort in enumerate(cohorts):
        if cohort in part.unreported:
            continue
        change = 100 * (wer_c[j] - wer_b[j])
        low, high = percentile_interval(100 * (boot_c[:, j] - boot_b[:, j]), confidence) if n_boot else (math.nan,) * 2
        rel = float(relative_gap_pct(wer_c[j], wer_b[j]))
        rel_low, rel_high = (
            percentile_interval(relative_gap_pct(boot_c[:, j], boot_b[:, j]), confidence) if n_boot and math.isfinite(rel) else (math.nan,) * 2
        )
        role = "bottom" if cohort in bottom_set else ("top" if cohort == base_gap.top else "")
        rows.append(
            {
                "method": method, "cohort": cohort, "definition": part.definitions[cohort], "role": role,
                "speakers": int(n_spk[j]), "utterances": int(n_utt[j]),
                "wer_base": float(wer_b[j]), "wer_candidate": float(wer_c[j]),
                "change_pts": float(change), "change_ci_low": low, "change_ci_high": high,
                "relative_change_pct": rel if math.isfinite(rel) else math.nan,
                "relative_change_ci_low": rel_low, "relative_change_ci_high": rel_high,
            }
        )
    table = pd.DataFrame(rows, columns=COMPARE_COLUMNS)
    table = table.sort_values(["wer_base", "cohort"], ascending=[False, True], kind="stable").reset_index(drop=True)

    nan = math.nan
    summary: dict[str, Any] = dict.fromkeys(COMPARE_SUMMARY_COLUMNS, nan)
    summary.update(method=method, bottom=base_gap.bottom, top=base_gap.top, speakers=int(n_spk.sum()), note=None)
    if base_gap.bottom is None:
        summary.update(outcome="unmeasured", note=base_gap.reason)
        return table, summary, part.excluded
    position = {c: i for i, c in enumerate(cohorts)}
    bottom_mask = np.zeros(k, dtype=bool)
    bottom_mask[[position[c] for c in base_gap.bottom_cohorts]] = True
    top_mask = np.zeros(k, dtype=bool)
    top_mask[position[base_gap.top]] = True

    def gap_of(t: np.ndarray, e: int, w: int) -> np.ndarray:
        bottom = ratio(t[..., bottom_mask, e].sum(axis=-1), t[..., bottom_mask, w].sum(axis=-1))
        top = ratio(t[..., top_mask, e].sum(axis=-1), t[..., top_mask, w].sum(axis=-1))
        return bottom, top, relative_gap_pct(bottom, top)

    notes = []
    wb_bottom, wb_top, gap_b = (float(x) for x in gap_of(totals, 0, 1))
    wc_bottom, wc_top, gap_c = (float(x) for x in gap_of(totals, 2, 3))
    for name, value, top_wer in (("baseline", gap_b, wb_top), ("candidate", gap_c, wc_top)):
        if not math.isfinite(value) or top_wer == 0:
            notes.append(f"the top cohort {base_gap.top!r} has WER 0 on the {name}: relative gap infinite")
    gap_b = gap_b if math.isfinite(gap_b) and wb_top > 0 else nan
    gap_c = gap_c if math.isfinite(gap_c) and wc_top > 0 else nan
    summary.update(
        wer_bottom_base=wb_bottom, wer_bottom_candidate=wc_bottom, wer_top_base=wb_top, wer_top_candidate=wc_top,
        gap_base_pct=gap_b, gap_candidate_pct=gap_c, gap_change_pts=gap_c - gap_b,
    )
    if n_boot and not math.isnan(gap_b - gap_c):
        boot_gap_b = gap_of(boot, 0, 1)[2]
        boot_gap_c = gap_of(boot, 2, 3)[2]
        summary["gap_base_ci_low"], summary["gap_base_ci_high"] = percentile_interval(boot_gap_b, confidence)
        summary["gap_candidate_ci_low"], summary["gap_candidate_ci_high"] = percentile_interval(boot_gap_c, confidence)
        diff = boot_gap_c - boot_gap_b
        diff = diff[np.isfinite(diff)] if not np.isfinite(diff).all() else diff
        summary["gap_change_ci_low"], summary["gap_change_ci_high"] = percentile_interval(diff, confidence)
    summary["outcome"] = _outcome(summary["gap_change_ci_low"], summary["gap_change_ci_high"], summary["gap_change_pts"])
    summary["note"] = "; ".join(notes) or None
    return table, summary, part.excluded


def _held_out_change(
    estimator: Any,
    meta: pd.DataFrame,
    spk: pd.DataFrame,
    *,
    bottom_share: float | None,
    min_speakers: int,
    confidence: float,
    n_boot: int,
    seed: int,
) -> tuple[dict[str, float], str | None]:
    """Two-fold held-out change of the gap: discover on one half of the speakers, compare on the other.

    Each fold fits a clone of the baseline's discovery estimator on one half (baseline
    counts), takes its bottom and top cohorts, assigns the other half's speakers with
    ``predict`` and measures both systems' gap between those cohorts there, with a paired
    bootstrap; the folds' estimates and resamples are averaged (as
    :func:`wergap.cohorts.held_out_gap`). Returns the numbers and a reason when NaN.

    The interval is conditional on the cohorts each fold found. The two folds are not
    independent (each fold's cohorts are chosen on the half the other fold measures, so
    when both halves pick the same cohort both estimates lean the same way); averaging
    resamples as if independent gave about 17 % false "narrowed/widened" calls at a
    nominal 5 % in a 40-seed null simulation with census splits. The folds' resample
    distributions are therefore averaged quantile by quantile (comonotone coupling: the
    least favourable correlation), which gave about 7 % in the same simulation.
    """
    from sklearn.base import clone

    nan = math.nan
    keys = ("held_out_gap_base_pct", "held_out_gap_candidate_pct", "held_out_change_pts",
            "held_out_change_ci_low", "held_out_change_ci_high")
    out = dict.fromkeys(keys, nan)
    ids = spk["speaker_id"].to_numpy(dtype=object)
    if len(ids) < 4:
        return out, "fewer than 4 speakers: no held-out halves"
    values = spk[["errors_base", "words_base", "errors_cand", "words_cand"]].to_numpy(dtype=np.float64)
    split_seed, boot_seed = np.random.SeedSequence(seed).spawn(2)
    order = np.random.default_rng(split_seed).permutation(len(ids))
    halves = (np.sort(order[: len(ids) // 2]), np.sort(order[len(ids) // 2 :]))
    rng = np.random.default_rng(boot_seed)
    estimates, boots, reasons = [], [], []
    for fold, (discover, measure) in enumerate((halves, halves[::-1]), 1):
        half_a = meta.iloc[discover].reset_index(drop=True)
        half_b = meta.iloc[measure].reset_index(drop=True)
        try:
            fitted = clone(estimator).fit(half_a)
        except ValueError as error:
            reasons.append(f"fold {fold}: discovery failed: {error}")
            continue
        found = gap_summary(half_a, fitted.partition_, bottom_share=bottom_share, min_speakers=min_speakers, n_boot=0)
        if found.bottom is None:
            reasons.append(f"fold {fold}: {found.reason}")
            continue
        predicted = fitted.predict(half_b)
        labels = pd.Series(np.asarray(predicted, dtype=object), index=pd.Index(predicted.index).astype(str))
        labels = labels.reindex(ids[measure]).to_numpy(dtype=object)
        side = np.full(len(labels), -1)
        side[np.isin(labels, list(found.bottom_cohorts))] = 0
        side[labels == found.top] = 1
        keep = side >= 0
        codes, vals = side[keep], values[measure][keep]
        totals = np.zeros((2, 4))
        np.add.at(totals, codes, vals)
        gaps = [relative_gap_pct(ratio(totals[0, e], totals[0, w]), ratio(totals[1, e], totals[1, w])) for e, w in ((0, 1), (2, 3))]
        if not all(np.isfinite(gaps)):
            reasons.append(f"fold {fold}: bottom or top cohort empty, or top WER 0, on the other half")
            continue
        estimates.append([float(gaps[0]), float(gaps[1])])
        b = paired_totals(codes, vals, 2, n_boot, rng) if n_boot else np.zeros((0, 2, 4))
        boot_gap = [relative_gap_pct(ratio(b[:, 0, e], b[:, 0, w]), ratio(b[:, 1, e], b[:, 1, w])) for e, w in ((0, 1), (2, 3))]
        boots.append(boot_gap[1] - boot_gap[0])
    if not estimates:
        return out, "held-out: " + "; ".join(reasons)
    mean = np.mean(estimates, axis=0)
    out["held_out_gap_base_pct"], out["held_out_gap_candidate_pct"] = float(mean[0]), float(mean[1])
    out["held_out_change_pts"] = float(mean[1] - mean[0])
    if n_boot:
        # The folds are not independent (each fold's cohorts are chosen on the half the
        # other fold measures), so their resamples are coupled comonotonically (sorted
        # before averaging): the interval of the mean under the least favourable
        # correlation, which keeps its coverage where an independent pairing would not.
        diff = comonotone_mean(boots, n_boot)
        if diff is not None:
            out["held_out_change_ci_low"], out["held_out_change_ci_high"] = percentile_interval(diff, confidence)
    return out, ("held-out on one fold only: " + "; ".join(reasons)) if reasons else None


def compare(
    base_scored: pd.DataFrame,
    cand_scored: pd.DataFrame,
    *,
    audit: Any = None,
    partitions: Mapping[str, Partition] | Sequence[Partition] | None = None,
    census: pd.DataFrame | None = None,
    embeddings: pd.DataFrame | None = None,
    methods: Sequence[str] | None = None,
    min_speakers: int = 30,
    bottom_share: float | None = None,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
    names: tuple[str, str] = ("base", "candidate"),
    held_out: bool = True,
    **audit_options: Any,
) -> Comparison:
    """Measure baseline-discovered cohorts on a baseline and a candidate ASR system.

    Parameters
    ----------
    base_scored, cand_scored : DataFrame
        Scored utterances of the two systems (:func:`wergap.score`): ``utt_id``,
        ``speaker_id``, ``ref_words``, ``errors``. Only utterances in both are compared;
        the others are counted in :attr:`Comparison.counts`. A shared ``utt_id`` with a
        different speaker in the two logs is an :class:`InputError`.
    audit : Audit, optional
        An audit of the baseline: its partitions are compared. Speakers it assigned that
        have no shared utterances are counted in :attr:`Comparison.excluded`.
    partitions : mapping or sequence of Partition, optional
        Partitions to compare instead (e.g. :func:`partitions_from_assignments`, or
        :func:`wergap.cohorts.partition_from_column`).
    census, embeddings, methods, audit_options
        When neither ``audit`` nor ``partitions`` is given, :func:`wergap.audit` runs on
        the baseline's shared utterances with these inputs.
    min_speakers : int, default 30
        Smaller cohorts are pooled (:meth:`Partition.merge_small`) before comparing.
    bottom_share : float, optional
        Pool the baseline's worst cohorts up to this share of speakers as the bottom.
    confidence, n_boot, seed
        Paired speaker bootstrap: per resample, speakers are drawn within each cohort and
        both systems' counts of the drawn speakers are summed.
    names : (str, str)
        Names of the systems, used in counts and messages.
    held_out : bool, default True
        With an audit (given or run here), also measure the change cross-fitted: each
        half of the speakers discovers cohorts (a clone of the audit's estimator, baseline
        counts) and the other half measures both systems' gap between them; the
        ``held_out_*`` columns hold the two-fold mean and a paired interval. This is free
        of the selection bias described below. Not available with ``partitions`` (no
        estimator to refit).

    Returns
    -------
    Comparison
        The bottom and top cohorts are the baseline's; the candidate's gap is measured
        between the same two cohorts. ``gap_change_pts`` < 0 means the gap narrowed.

    Notes
    -----
    Cohorts discovered by maximising the *baseline's* gap are partly chosen for the
    baseline's own errors on those speakers, so even an equivalent candidate tends to show
    a somewhat smaller gap on them (regression to the mean). The in-sample intervals cover
    sampling noise given the cohorts, not this selection; the ``held_out_*`` numbers (see
    ``held_out``) do not suffer from it, and the verdict quotes them when available.
    Cohorts from other data (an earlier audit's ``assignments.parquet`` via
    :func:`partitions_from_assignments`, or a known attribute) avoid it too.

    Examples
    --------
    >>> result = compare(score(read_log("base.tsv")), score(read_log("new.tsv")))  # doctest: +SKIP
    >>> print(result.verdict("geo_tree"))  # doctest: +SKIP
    """
    check_options(confidence, n_boot)
    names = (str(names[0]), str(names[1]))
    merged, counts = _align(base_scored, cand_scored, names)
    spk = _per_speaker(merged)
    counts["speakers"] = len(spk)
    skipped: dict[str, str] = {}
    if partitions is None:
        if audit is None:
            from wergap.audit import audit as run_audit  # audit sits above cohorts

            shared = base_scored[isin(base_scored["utt_id"].astype("str"), merged["utt_id"].astype("str"))].reset_index(drop=True)
            audit = run_audit(
                shared, census=census, embeddings=embeddings, methods=methods, min_speakers=min_speakers,
                seed=seed, n_boot=0, confidence=confidence,  # only its partitions are used
                bottom_share=bottom_share, **audit_options,
            )
        chosen = [m for m in (methods or audit.methods) if m in audit.methods]
        parts = [audit.partition(m) for m in chosen]
        skipped = dict(audit.skipped)
        if not parts:
            raise InputError(NO_PARTITIONS.format(skipped="; ".join(f"{m}: {r}" for m, r in skipped.items()) or "none ran"))
    elif isinstance(partitions, Mapping):
        parts = [p for m, p in partitions.items() if methods is None or m in methods]
    else:
        parts = list(partitions)
    rng = np.random.default_rng(seed)
    tables, summaries, excluded = [], [], {}
    meta = None
    if held_out and partitions is None:
        meta = audit.speakers.assign(speaker_id=audit.speakers["speaker_id"].astype("str"))
        meta = meta[isin(meta["speaker_id"], spk["speaker_id"].astype("str"))].drop(columns=["ref_words", "errors", "wer"], errors="ignore")
        base_counts = spk[["speaker_id", "words_base", "errors_base"]].rename(columns={"words_base": "ref_words", "errors_base": "errors"})
        meta = base_counts.merge(meta, on="speaker_id", how="left")
        meta["wer"] = ratio(meta["errors"], meta["ref_words"])
    for part in parts:
        table, row, why = _compare_partition(
            spk, part, min_speakers=min_speakers, bottom_share=bottom_share, confidence=confidence, n_boot=n_boot, rng=rng
        )
        if meta is not None and part.method in getattr(audit, "estimators", {}):
            numbers, reason = _held_out_change(
                audit.estimators[part.method], meta, spk, bottom_share=bottom_share, min_speakers=min_speakers,
                confidence=confidence, n_boot=n_boot, seed=seed,
            )
            row.update(numbers)
            row["held_out_outcome"] = _outcome(numbers["held_out_change_ci_low"], numbers["held_out_change_ci_high"], numbers["held_out_change_pts"])
            if reason:
                row["note"] = "; ".join(n for n in (row["note"], reason) if n)
        else:
            row["held_out_outcome"] = "not computed"
        tables.append(table)
        summaries.append(row)
        excluded[part.method] = why
    totals = spk[["errors_base", "words_base", "errors_cand", "words_cand"]].to_numpy(dtype=np.float64)
    wer_b, wer_c = float(ratio(totals[:, 0].sum(), totals[:, 1].sum())), float(ratio(totals[:, 2].sum(), totals[:, 3].sum()))
    overall = {"wer_base": wer_b, "wer_candidate": wer_c, "change_pts": 100 * (wer_c - wer_b),
               "change_ci_low": math.nan, "change_ci_high": math.nan}
    if n_boot:
        boot = paired_totals(np.zeros(len(spk), dtype=np.intp), totals, 1, n_boot, np.random.default_rng(seed))[:, 0, :]
        diff = 100 * (ratio(boot[:, 2], boot[:, 3]) - ratio(boot[:, 0], boot[:, 1]))
        overall["change_ci_low"], overall["change_ci_high"] = percentile_interval(diff, confidence)
    cohorts = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=COMPARE_COLUMNS)
    summary = pd.DataFrame(summaries, columns=COMPARE_SUMMARY_COLUMNS)
    return Comparison(
        names=names, counts=counts, overall=overall, confidence=confidence, n_boot=n_boot, seed=seed,
        _cohorts=cohorts, _summary=summary, excluded=excluded, skipped=skipped,
    )


# --------------------------------------------------------------------------- release gate


@dataclass
class MethodCheck:
    """The gate's decision for one discovery method.

    Attributes
    ----------
    method : str
    status : {"pass", "fail", "unmeasured", "skipped"}
        ``unmeasured``: the method was asked for by name but did not run, or its held-out
        gap (with strict: its interval) is NaN. ``skipped``: not asked for by name and its
        inputs are absent (no lat/lon, no census, no embeddings); it never fails the gate.
    failed : bool
        Whether this method makes the gate fail (an unmeasured method fails only with
        ``strict``: fail-closed).
    gap_pct, ci_low, ci_high : float
        Held-out gap and its interval.
    tested : float
        The number compared with the threshold: ``gap_pct``, or ``ci_low`` with strict.
    line : str
        The one-line reason printed by ``wergap check``.
    """

    method: str
    status: str
    failed: bool
    gap_pct: float
    ci_low: float
    ci_high: float
    tested: float
    line: str


@dataclass
class CheckResult:
    """Outcome of :func:`check`: one :class:`MethodCheck` per selected method."""

    max_gap: float
    strict: bool
    checks: list[MethodCheck]

    @property
    def passed(self) -> bool:
        """True when no method failed and at least one was measured."""
        return not any(c.failed for c in self.checks) and self.measured

    @property
    def measured(self) -> bool:
        """True when at least one method's gap was compared with the threshold."""
        return any(c.status in ("pass", "fail") for c in self.checks)

    @property
    def exit_code(self) -> int:
        """0 when :attr:`passed`, else 1 (the CLI's exit status)."""
        return 0 if self.passed else 1

    def lines(self) -> list[str]:
        """One line per method, then the overall decision."""
        out = [c.line for c in self.checks]
        if not self.measured:
            out.append("FAIL  no method could be measured: nothing was gated")
        else:
            out.append(("PASS" if self.passed else "FAIL") + f"  held-out gap threshold {self.max_gap:g} %"
                       + (" (strict: CI lower bound)" if self.strict else ""))
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict (NaN as None), ready for JSON."""
        return _plain(
            {
                "passed": self.passed,
                "exit_code": self.exit_code,
                "max_gap_pct": self.max_gap,
                "strict": self.strict,
                "methods": [c.__dict__ for c in self.checks],
                "lines": self.lines(),
            }
        )


def check(audit: Any, max_gap: float, *, methods: Sequence[str] | None = None, strict: bool = False) -> CheckResult:
    """Release gate: does any method's held-out WER gap exceed ``max_gap`` percent?

    The held-out gap is used, not the in-sample one: a gap found by searching for the
    worst cohort overstates itself, and a gate on it would fail every system.

    Parameters
    ----------
    audit : Audit
        Result of :func:`wergap.audit`.
    max_gap : float
        Threshold in percent (relative gap, 100 (WER_bottom − WER_top) / WER_top).
    methods : sequence of str, optional
        Methods to gate on; default every method the audit tried. A method named here that
        did not run is ``unmeasured``; one not named whose inputs were absent is
        ``skipped`` and never fails the gate.
    strict : bool, default False
        Compare the interval's lower bound with ``max_gap`` instead of the point estimate:
        fail only when the gap is above the threshold beyond sampling noise. Strict mode
        also fails closed: a method that did not run or whose held-out gap (or interval)
        is NaN fails. Without ``strict`` the point estimate is compared and an unmeasured
        method is reported as ``UNMEASURED`` without failing -- unless no selected method
        was measured at all, which always fails (nothing was gated).

    Returns
    -------
    CheckResult
        ``exit_code`` 1 on failure, 0 otherwise.
    """
    if isinstance(max_gap, bool) or not isinstance(max_gap, (int, float)) or not max_gap >= 0:
        raise InputError(BAD_MAX_GAP.format(value=max_gap))
    tried = list(audit.params.get("methods", audit.methods))
    chosen = list(methods) if methods is not None else tried
    checks = []
    for method in chosen:
        nan = math.nan
        if method not in audit.methods:
            reason = audit.skipped.get(method) or UNKNOWN_CHECK_METHOD.format(method=method, ran=", ".join(audit.methods) or "none")
            if methods is None:  # not asked for by name: its inputs are absent, nothing to gate
                line = f"SKIPPED  {method}: did not run ({reason})"
                checks.append(MethodCheck(method, "skipped", False, nan, nan, nan, nan, line))
                continue
            line = f"{'FAIL' if strict else 'UNMEASURED'}  {method}: did not run ({reason})"
            checks.append(MethodCheck(method, "unmeasured", strict, nan, nan, nan, nan, line))
            continue
        held = audit.held_out[method]
        gap, low, high = float(held.gap_pct), float(held.ci_low), float(held.ci_high)
        tested = low if strict else gap
        ci = f"CI {low:.1f} to {high:.1f} %" if not math.isnan(low) else "no CI"
        what = "CI lower bound" if strict else "held-out gap"
        if math.isnan(tested):
            why = held.reason or ("no interval (n_boot=0)" if not math.isnan(gap) else None)
            line = f"{'FAIL' if strict else 'UNMEASURED'}  {method}: {what} not measurable ({why or 'NaN'})"
            checks.append(MethodCheck(method, "unmeasured", strict, gap, low, high, tested, line))
            continue
        failed = tested > max_gap
        verb = "exceeds" if failed else "within"
        line = (
            f"{'FAIL' if failed else 'PASS'}  {method}: held-out gap {gap:.1f} % ({ci}); "
            f"{what} {tested:.1f} % {verb} {max_gap:g} %"
        )
        checks.append(MethodCheck(method, "fail" if failed else "pass", failed, gap, low, high, tested, line))
    return CheckResult(max_gap=float(max_gap), strict=strict, checks=checks)
