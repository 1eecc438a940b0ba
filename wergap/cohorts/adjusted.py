"""Is it the cohort or a confounder? The cohort's WER ratio after adjusting for covariates.

A cohort can be served worse only because its utterances are longer, faster or recorded
on other devices. :func:`adjusted_gap` fits ``errors ~ cohort + covariates`` on
utterances with reference words as exposure — a Poisson model with log link and offset
``log(ref_words)``, so exp(coefficient) is a WER ratio — by generalised estimating
equations (statsmodels GEE) with speakers as clusters, so the interval accounts for one
speaker's utterances being alike (as Liu et al., ICASSP 2022, ask of ASR fairness
measures). The unadjusted model on the same rows gives the raw ratio: with the default
independence working correlation it is exactly WER_cohort / WER_rest.

Covariates: ``"length"`` (reference words of the utterance), ``"rate"`` (reference words
per second, from a ``duration`` column in seconds) and any column of the scored table
(known attributes such as gender, device, age). A numeric covariate with more than
``n_bins`` distinct values is cut into ``n_bins`` quantile bins (no linearity assumed);
the others are categories, and a category held by fewer than ``min_level_speakers``
speakers is pooled with the other rare ones. Rows are then summed per speaker × cohort ×
covariate cell, which leaves the estimates and robust errors of the independence model
unchanged and keeps large logs fast.

statsmodels is imported inside the function: the CLI's start-up must not pay for it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from wergap.cohorts._target import in_cohort
from wergap.cohorts.partition import Partition
from wergap.errors import InputError

#: The covariates computed from the utterance rather than read from a column.
DERIVED = ("length", "rate")
CORRELATIONS = ("independence", "exchangeable")
#: Label of the pooled rare levels of a categorical covariate.
RARE_LEVEL = "(rare values)"

#: Columns of :attr:`AdjustedGap.covariate_ratios`, in order.
COVARIATE_COLUMNS = [
    "covariate",
    "level",
    "reference",
    "ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "utterances",
    "speakers",
]

UNKNOWN_COVARIATE = "covariate {column!r} is neither 'length', 'rate' nor a column of the log (it has: {have})"
RATE_NEEDS_DURATION = "covariate 'rate' needs a 'duration' column (seconds) in the log"
BAD_CORRELATION = "unknown working correlation {name!r}; choose one of: {choices}"
BAD_N_BINS = "n_bins must be an integer of at least 2, got {value!r}"
BAD_CONFIDENCE = "confidence must be strictly between 0 and 1, got {value!r}"
NO_COUNTS = "missing required column {column!r} (score the log first: wergap.score)"
CONFOUNDED = "the cohort is fully determined by the covariates ({covariates}): its effect cannot be separated"
TOO_FEW_ROWS = "after dropping rows, no utterances are left on one side (cohort {cohort}: {n_in}, rest: {n_out})"
NOT_CONVERGED = "the model did not converge: {error}"
ALIASED = "dropped levels explained by the other covariates: {levels}"

#: Reasons rows are dropped before fitting (counted in :attr:`AdjustedGap.dropped`).
DROP_UNLABELLED = "speaker not in the partition"
DROP_EMPTY = "empty reference (no words to expose)"
DROP_MISSING = "missing {column}"


@dataclass
class AdjustedGap:
    """The cohort's WER ratio to the rest, raw and adjusted for covariates.

    Attributes
    ----------
    cohort : str
        The cohort (labels joined by ``" + "`` when pooled).
    covariates : tuple of str
        What the ratio is adjusted for (as requested; see :attr:`dropped_covariates`).
    ratio_raw, ratio_raw_ci_low, ratio_raw_ci_high : float
        WER_cohort / WER_rest on the rows fitted, with its cluster-robust interval (the
        model without covariates).
    ratio, ci_low, ci_high, p_value : float
        exp(cohort coefficient) of the adjusted model: the cohort's WER ratio to the rest
        with the covariates held equal; interval and Wald p-value from cluster-robust
        (speaker) standard errors.
    gap_pct_raw, gap_pct : float
        The same as gaps in percent: 100 (ratio − 1).
    utterances, speakers, speakers_cohort : int
        Rows and speakers fitted.
    dropped : dict of str to int
        Reason -> utterances left out (unlabelled speaker, empty reference, a missing
        covariate).
    dropped_covariates : tuple of str
        Requested covariates with a single level on the fitted rows (nothing to adjust).
    correlation : str
        GEE working correlation (``independence`` or ``exchangeable``).
    confidence : float
    reason : str or None
        Why the adjusted ratio is NaN (cohort confounded with the covariates, ...), or a
        note on levels dropped as aliased.
    covariate_ratios : DataFrame
        :data:`COVARIATE_COLUMNS`: each covariate level's WER ratio to its reference level,
        adjusted for the cohort and the other covariates.
    """

    cohort: str
    covariates: tuple[str, ...]
    ratio_raw: float
    ratio_raw_ci_low: float
    ratio_raw_ci_high: float
    ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    gap_pct_raw: float
    gap_pct: float
    utterances: int
    speakers: int
    speakers_cohort: int
    dropped: dict[str, int]
    correlation: str
    confidence: float
    dropped_covariates: tuple[str, ...] = ()
    reason: str | None = None
    covariate_ratios: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COVARIATE_COLUMNS), repr=False)

    def __post_init__(self) -> None:
        if not 0.0 < self.confidence < 1.0:
            raise InputError(BAD_CONFIDENCE.format(value=self.confidence))
        self.covariates = tuple(self.covariates)
        self.dropped_covariates = tuple(self.dropped_covariates)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict (JSON-ready except for NaN floats); covariate ratios as records."""
        out = {k: v for k, v in asdict(self).items() if k != "covariate_ratios"}
        out["covariates"] = list(self.covariates)
        out["dropped_covariates"] = list(self.dropped_covariates)
        out["covariate_ratios"] = self.covariate_ratios.to_dict(orient="records")
        return out

    def to_frame(self) -> pd.DataFrame:
        """The covariates' ratios (:attr:`covariate_ratios`)."""
        return self.covariate_ratios


def adjusted_gap(
    scored: pd.DataFrame,
    cohort_labels: Partition | pd.Series,
    *,
    cohort: str | Sequence[str] | None = None,
    covariates: Sequence[str] | None = None,
    n_bins: int = 5,
    min_level_speakers: int = 10,
    correlation: str = "independence",
    confidence: float = 0.95,
    min_speakers: int = 30,
) -> AdjustedGap:
    """The cohort's WER ratio to the rest, before and after adjusting for covariates.

    Parameters
    ----------
    scored : DataFrame
        Scored utterances (:func:`wergap.score`): ``speaker_id``, ``errors``,
        ``ref_words`` and the covariate columns. Counts-only logs work.
    cohort_labels : Partition or Series
        Speaker id -> cohort label; utterances of unlabelled speakers are dropped
        (counted).
    cohort : str or sequence of str, optional
        The cohort (several labels: pooled); default the worst-WER cohort of at least
        ``min_speakers`` speakers.
    covariates : sequence of str, optional
        ``"length"``, ``"rate"`` (needs ``duration``) and column names. Default:
        ``["length"]`` plus ``"rate"`` when ``duration`` is a column.
    n_bins : int, default 5
        Quantile bins for numeric covariates with more distinct values.
    min_level_speakers : int, default 10
        Categories held by fewer speakers are pooled as :data:`RARE_LEVEL`.
    correlation : {"independence", "exchangeable"}
        GEE working correlation within a speaker. Independence makes the raw ratio the
        word-weighted WER ratio of DESIGN.md; exchangeable weights speakers more evenly.
    confidence : float, default 0.95
    min_speakers : int, default 30
        Used only to choose the default cohort.

    Returns
    -------
    AdjustedGap

    Examples
    --------
    >>> result = adjusted_gap(scored, audit.partition("geo_tree"), covariates=["length", "gender"])  # doctest: +SKIP
    >>> result.ratio_raw, result.ratio, (result.ci_low, result.ci_high)  # doctest: +SKIP
    """
    if correlation not in CORRELATIONS:
        raise InputError(BAD_CORRELATION.format(name=correlation, choices=", ".join(CORRELATIONS)))
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 2:
        raise InputError(BAD_N_BINS.format(value=n_bins))
    if not isinstance(confidence, (int, float)) or not 0.0 < float(confidence) < 1.0:
        raise InputError(BAD_CONFIDENCE.format(value=confidence))
    for column in ("speaker_id", "errors", "ref_words"):
        if column not in scored.columns:
            raise InputError(NO_COUNTS.format(column=column), column=column)
    if covariates is None:
        covariates = ["length"] + (["rate"] if "duration" in scored.columns else [])
    covariates = list(dict.fromkeys(covariates))
    for name in covariates:
        if name == "rate" and "duration" not in scored.columns:
            raise InputError(RATE_NEEDS_DURATION, column="duration")
        if name not in DERIVED and name not in scored.columns:
            have = ", ".join(map(str, scored.columns))
            raise InputError(UNKNOWN_COVARIATE.format(column=name, have=have), column=name)
    flag, name = in_cohort(scored, cohort_labels, cohort, min_speakers)
    frame, dropped = _rows(scored, flag, covariates)
    levels, single = _levels(frame, covariates, n_bins, min_level_speakers)
    used = [c for c in covariates if c not in single]
    cells = _cells(frame, levels, used)
    base: dict[str, Any] = {
        "cohort": name,
        "covariates": tuple(covariates),
        "utterances": int(len(frame)),
        "speakers": int(frame["speaker_id"].nunique()),
        "speakers_cohort": int(frame.loc[frame["in_cohort"], "speaker_id"].nunique()),
        "dropped": dropped,
        "correlation": correlation,
        "confidence": float(confidence),
        "dropped_covariates": tuple(single),
    }
    n_in = int(frame["in_cohort"].sum())
    if n_in == 0 or n_in == len(frame):
        return _nan_result(base, TOO_FEW_ROWS.format(cohort=name, n_in=n_in, n_out=len(frame) - n_in))
    z = _z(confidence)
    by_speaker = cells.groupby(["speaker_id", "cohort"], sort=True)[["errors", "ref_words"]].sum().reset_index()
    raw_fit = _fit(by_speaker if correlation == "independence" else cells, [], correlation)
    raw_b, raw_se = raw_fit["cohort"]
    design, aliased = _design(cells, used)
    if "cohort" in aliased:
        out = _nan_result(base, CONFOUNDED.format(covariates=", ".join(used)))
        out.ratio_raw, out.ratio_raw_ci_low, out.ratio_raw_ci_high = _ratio(raw_b, raw_se, z)
        out.gap_pct_raw = 100.0 * (out.ratio_raw - 1.0)
        return out
    fitted = _fit(cells, design.columns.drop(["const", "cohort"]).tolist(), correlation, design)
    b, se = fitted["cohort"]
    ratio, lo, hi = _ratio(b, se, z)
    raw, raw_lo, raw_hi = _ratio(raw_b, raw_se, z)
    from scipy.stats import norm

    p_value = float(2 * norm.sf(abs(b / se))) if se > 0 else float("nan")
    table = _covariate_table(fitted, cells, levels, used, z)
    return AdjustedGap(
        ratio_raw=raw,
        ratio_raw_ci_low=raw_lo,
        ratio_raw_ci_high=raw_hi,
        ratio=ratio,
        ci_low=lo,
        ci_high=hi,
        p_value=p_value,
        gap_pct_raw=100.0 * (raw - 1.0),
        gap_pct=100.0 * (ratio - 1.0),
        reason=ALIASED.format(levels=", ".join(aliased)) if aliased else None,
        covariate_ratios=table,
        **base,
    )


def _z(confidence: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2))


def _ratio(b: float, se: float, z: float) -> tuple[float, float, float]:
    return math.exp(b), math.exp(b - z * se), math.exp(b + z * se)


def _nan_result(base: dict[str, Any], reason: str) -> AdjustedGap:
    nan = float("nan")
    return AdjustedGap(
        ratio_raw=nan,
        ratio_raw_ci_low=nan,
        ratio_raw_ci_high=nan,
        ratio=nan,
        ci_low=nan,
        ci_high=nan,
        p_value=nan,
        gap_pct_raw=nan,
        gap_pct=nan,
        reason=reason,
        **base,
    )


def _rows(scored: pd.DataFrame, flag: pd.Series, covariates: list[str]) -> tuple[pd.DataFrame, dict[str, int]]:
    """The rows to fit (speaker, in_cohort, errors, ref_words, covariate values) and drops by reason."""
    frame = pd.DataFrame(
        {
            "speaker_id": scored["speaker_id"].astype("str").to_numpy(),
            "in_cohort": flag.to_numpy(dtype="float64", na_value=np.nan),
            "errors": scored["errors"].to_numpy(dtype="float64", na_value=np.nan),
            "ref_words": scored["ref_words"].to_numpy(dtype="float64", na_value=np.nan),
        }
    )
    for name in covariates:
        if name == "length":
            frame[name] = frame["ref_words"]
        elif name == "rate":
            duration = pd.to_numeric(scored["duration"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            with np.errstate(divide="ignore", invalid="ignore"):
                rate = frame["ref_words"].to_numpy() / duration
            frame[name] = np.where(np.isfinite(rate) & (duration > 0), rate, np.nan)
        else:
            frame[name] = scored[name].to_numpy()
    dropped: dict[str, int] = {}
    steps = [(DROP_UNLABELLED, frame["in_cohort"].isna()), (DROP_EMPTY, ~(frame["ref_words"] > 0))]
    steps += [(DROP_MISSING.format(column=c), frame[c].isna()) for c in covariates]
    keep = pd.Series(True, index=frame.index)
    for reason, bad in steps:
        n = int((keep & bad).sum())
        if n:
            dropped[reason] = n
        keep &= ~bad
    frame = frame[keep].reset_index(drop=True)
    frame["in_cohort"] = frame["in_cohort"].astype("bool")
    return frame, dropped


def _levels(
    frame: pd.DataFrame, covariates: list[str], n_bins: int, min_level_speakers: int
) -> tuple[dict[str, tuple[pd.Series, str]], list[str]]:
    """Each covariate as levels (str per row) and its reference level; those with one level."""
    out: dict[str, tuple[pd.Series, str]] = {}
    single = []
    for name in covariates:
        values = frame[name]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if numeric and values.nunique() > n_bins:
            bins = pd.qcut(values.astype("float64"), n_bins, duplicates="drop")
            names = _bin_names(bins.cat.categories, float(values.min()))
            labels = pd.Series(bins.cat.codes.map(dict(enumerate(names))).to_numpy(), index=values.index)
            reference = names[0]
        else:
            labels = values.astype("str")
            if numeric:  # few distinct numbers: readable levels, not "1.0"
                labels = values.map(lambda v: f"{v:g}")
            per_level = frame.groupby(labels.to_numpy())["speaker_id"].nunique()
            rare = per_level.index[per_level < min_level_speakers]
            if len(rare) and len(rare) < len(per_level):
                labels = labels.where(~labels.isin(rare), RARE_LEVEL)
            counts = labels.value_counts()
            reference = str(sorted(counts.index[counts == counts.max()])[0])
            if numeric:
                reference = str(sorted(counts.index, key=float)[0]) if RARE_LEVEL not in counts.index else reference
        if labels.nunique() < 2:
            single.append(name)
            continue
        out[name] = (labels.astype("str"), reference)
    return out, single


def _cells(frame: pd.DataFrame, levels: dict[str, tuple[pd.Series, str]], used: list[str]) -> pd.DataFrame:
    """Rows summed per speaker × cohort × covariate cell (exact for the independence model)."""
    keys = pd.DataFrame({"speaker_id": frame["speaker_id"], "cohort": frame["in_cohort"].astype("int64")})
    for name in used:
        keys[name] = levels[name][0].to_numpy()
    keys["errors"] = frame["errors"].to_numpy()
    keys["ref_words"] = frame["ref_words"].to_numpy()
    keys["utterances"] = 1
    cells = keys.groupby(["speaker_id", "cohort", *used], sort=True, observed=True).sum().reset_index()
    cells.attrs["references"] = {name: levels[name][1] for name in used}
    return cells


def _design(cells: pd.DataFrame, used: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Intercept, cohort and treatment-coded covariate dummies; columns aliased with earlier ones dropped."""
    columns = {"const": np.ones(len(cells)), "cohort": cells["cohort"].to_numpy(dtype="float64")}
    references = cells.attrs["references"]
    for name in used:
        for level in sorted(set(cells[name].unique().tolist()) - {references[name]}):
            columns[f"{name}={level}"] = (cells[name] == level).to_numpy(dtype="float64")
    # Put covariates before the cohort: the cohort is aliased when the covariates explain it.
    order = ["const"] + [c for c in columns if c not in ("const", "cohort")] + ["cohort"]
    matrix = np.column_stack([columns[c] for c in order])
    gram = matrix.T @ matrix  # rank(X) = rank(X'X): the rank checks work on a p × p matrix
    kept: list[int] = []
    aliased: list[str] = []
    rank = 0
    for j, name in enumerate(order):
        trial = kept + [j]
        new_rank = np.linalg.matrix_rank(gram[np.ix_(trial, trial)])
        if new_rank > rank:
            kept, rank = trial, new_rank
        else:
            aliased.append(name)
    design = pd.DataFrame(matrix[:, kept], columns=[order[j] for j in kept])
    if "cohort" in design.columns:
        design = design[["const", "cohort"] + [c for c in design.columns if c not in ("const", "cohort")]]
    return design, aliased


def _fit(
    cells: pd.DataFrame, dummies: list[str], correlation: str, design: pd.DataFrame | None = None
) -> dict[str, Any]:
    """Fit the Poisson GEE; return {column: (coefficient, cluster-robust SE)} and the fitted result.

    Independence: the Poisson GLM with speaker-clustered sandwich errors (the same point
    estimates as the independence GEE; statsmodels' small-sample factor
    G/(G−1)·(N−1)/(N−K) makes the interval slightly wider). Exchangeable: statsmodels GEE.
    """
    import warnings

    import statsmodels.api as sm

    if design is None:
        design = pd.DataFrame({"const": np.ones(len(cells)), "cohort": cells["cohort"].to_numpy(dtype="float64")})
    else:
        design = design[["const", "cohort", *dummies]]
    groups = pd.factorize(cells["speaker_id"])[0]
    endog = cells["errors"].to_numpy(dtype="float64")
    offset = np.log(cells["ref_words"].to_numpy(dtype="float64"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if correlation == "independence":
                # The independence GEE is the Poisson GLM with cluster-robust (sandwich)
                # errors; statsmodels' GLM computes it without GEE's per-cluster Python loop.
                model = sm.GLM(endog, design, family=sm.families.Poisson(), offset=offset)
                result = model.fit(cov_type="cluster", cov_kwds={"groups": groups}, maxiter=100)
            else:
                model = sm.GEE(
                    endog,
                    design,
                    groups=groups,
                    offset=offset,
                    family=sm.families.Poisson(),
                    cov_struct=sm.cov_struct.Exchangeable(),
                )
                result = model.fit(maxiter=100)
    except (ValueError, np.linalg.LinAlgError) as error:  # pragma: no cover - statsmodels internals
        raise InputError(NOT_CONVERGED.format(error=error)) from None
    params = np.asarray(result.params, dtype="float64")
    bse = np.asarray(result.bse, dtype="float64")
    out: dict[str, Any] = {c: (float(params[k]), float(bse[k])) for k, c in enumerate(design.columns)}
    out["_result"] = result
    return out


def _covariate_table(
    fitted: dict[str, Any], cells: pd.DataFrame, levels: dict[str, tuple[pd.Series, str]], used: list[str], z: float
) -> pd.DataFrame:
    from scipy.stats import norm

    rows = []
    for name in used:
        reference = levels[name][1]
        for level in sorted(set(cells[name].unique().tolist()) - {reference}, key=_level_key):
            key = f"{name}={level}"
            if key not in fitted:
                continue
            b, se = fitted[key]
            ratio, lo, hi = _ratio(b, se, z)
            inside = (cells[name] == level).to_numpy()
            rows.append(
                {
                    "covariate": name,
                    "level": level,
                    "reference": reference,
                    "ratio": ratio,
                    "ci_low": lo,
                    "ci_high": hi,
                    "p_value": float(2 * norm.sf(abs(b / se))) if se > 0 else float("nan"),
                    "utterances": int(cells.loc[inside, "utterances"].sum()),
                    "speakers": int(cells.loc[inside, "speaker_id"].nunique()),
                }
            )
    return pd.DataFrame(rows, columns=COVARIATE_COLUMNS)


def _bin_names(intervals: pd.IntervalIndex, lowest: float) -> list[str]:
    """Readable quantile-bin names: ``[18, 27]``, ``(27, 36]``, ... (the first bin closed at the minimum)."""
    names = [f"({i.left:.4g}, {i.right:.4g}]" for i in intervals]
    names[0] = f"[{lowest:.4g}, {intervals[0].right:.4g}]"
    return names


def _level_key(level: str) -> tuple[int, float, str]:
    """Sort levels numerically where they are numbers or intervals ("(3.0, 5.0]"), else by name."""
    text = level.lstrip("([").split(",")[0]
    try:
        return (0, float(text), level)
    except ValueError:
        return (1, 0.0, level)
