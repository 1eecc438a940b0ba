"""Stratified speaker bootstrap of word-weighted error rates, vectorised.

Utterances of one speaker are not independent, so every interval in wergap resamples
speakers (DESIGN.md). Within each stratum (a cohort) the speakers are drawn with
replacement, ``n_c`` draws per resample, and the resample's error and word totals are
summed; every WER, gap or share a report shows is then a function of those per-cohort
totals, so one set of draws serves all of them and they stay mutually consistent.

The draws are int32 index draws from a seeded :class:`numpy.random.Generator`; the errors
and words of the drawn speakers are gathered and summed in one compiled pass (exact:
integer totals far below 2**53 in float64, so the order of the sum does not matter), in
chunks of resamples so that memory stays bounded (about ``CHUNK_ELEMENTS`` draws at a
time) whatever the cohort size.
"""

from __future__ import annotations

from functools import cache

import numpy as np

#: Index draws held in memory at once (4 bytes each, plus 8 per gathered value).
CHUNK_ELEMENTS = 1 << 22


def stratified_totals(
    codes: np.ndarray,
    errors: np.ndarray,
    words: np.ndarray,
    n_strata: int,
    n_boot: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap totals of errors and words per stratum.

    Parameters
    ----------
    codes : ndarray of int, shape (n,)
        Stratum of each unit (speaker), in ``0 .. n_strata - 1``.
    errors, words : ndarray, shape (n,)
        Each unit's error and reference-word totals.
    n_strata : int
        Number of strata (a stratum may be empty: its totals are 0).
    n_boot : int
        Resamples.
    rng : numpy.random.Generator
        Source of the draws; strata are drawn in order 0, 1, ... so results are
        reproducible from the generator's seed.

    Returns
    -------
    errors_boot, words_boot : ndarray of float64, shape (n_boot, n_strata)
        Resampled totals: each stratum resampled independently, with replacement, at its
        own size.
    """
    errors = np.asarray(errors, dtype=np.float64)
    words = np.asarray(words, dtype=np.float64)
    codes = np.asarray(codes)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_strata + 1))
    errors_boot = np.zeros((n_boot, n_strata))
    words_boot = np.zeros((n_boot, n_strata))
    for s in range(n_strata):
        members = order[bounds[s] : bounds[s + 1]]
        size = len(members)
        if size == 0:
            continue
        member_errors, member_words = errors[members], words[members]
        step = max(1, CHUNK_ELEMENTS // size)
        for start in range(0, n_boot, step):
            stop = min(n_boot, start + step)
            draws = rng.integers(0, size, size=(stop - start, size), dtype=np.int32)
            errors_boot[start:stop, s], words_boot[start:stop, s] = _gather_sums()(draws, member_errors, member_words)
    return errors_boot, words_boot


def _row_sums(draws: np.ndarray, errors: np.ndarray, words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``draws``: the sum of the drawn units' errors and of their words."""
    n = draws.shape[0]
    errors_out = np.zeros(n)
    words_out = np.zeros(n)
    for i in range(n):
        e = 0.0
        w = 0.0
        for j in range(draws.shape[1]):
            k = draws[i, j]
            e += errors[k]
            w += words[k]
        errors_out[i] = e
        words_out[i] = w
    return errors_out, words_out


@cache
def _gather_sums():  # noqa: ANN202 - a compiled function
    """:func:`_row_sums` compiled (on first use: importing wergap does not load numba)."""
    from wergap._jit import compiled

    return compiled(_row_sums)


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` with NaN where the denominator is 0 (no words: no WER)."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), np.nan)


def relative_gap_pct(worse: np.ndarray, better: np.ndarray) -> np.ndarray:
    """``100 (worse - better) / better``; ``inf`` where ``better`` is 0 and ``worse`` > 0.

    NaN where either WER is undefined, or both are 0 (no gap to speak of... and none
    measurable).
    """
    worse = np.asarray(worse, dtype=np.float64)
    better = np.asarray(better, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = 100.0 * (worse - better) / better
    return np.where((better == 0) & (worse == 0), np.nan, gap)


def percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """Percentile interval of bootstrap values, ignoring undefined (NaN) resamples.

    Linear interpolation between order statistics (numpy's default), except when some
    resamples are ``+inf`` (a relative gap whose reference WER resampled to 0): then the
    bounds are order statistics themselves (``inverted_cdf``), so an unbounded tail shows
    as ``inf`` instead of an interpolated NaN. ``(nan, nan)`` when no resample is defined.
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    alpha = (1.0 - confidence) / 2.0
    method = "linear" if np.isfinite(values).all() else "inverted_cdf"
    low, high = np.quantile(values, [alpha, 1.0 - alpha], method=method)
    return float(low), float(high)


def column_intervals(values: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`percentile_interval` of each column of a ``(n_boot, k)`` array."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] == 0:
        k = values.shape[1] if values.ndim == 2 else 0
        return np.full(k, np.nan), np.full(k, np.nan)
    bounds = [percentile_interval(values[:, j], confidence) for j in range(values.shape[1])]
    return np.array([b[0] for b in bounds]), np.array([b[1] for b in bounds])


def comonotone_mean(draws: list[np.ndarray], n: int) -> np.ndarray | None:
    """Average bootstrap distributions quantile by quantile (a comonotone coupling).

    The two folds of a held-out estimate are not independent: each fold's cohorts are
    chosen on the half the other fold measures. Averaging resample ``b`` of one fold with
    resample ``b`` of the other treats them as independent and gives intervals that are
    too narrow; averaging their quantiles is the least favourable coupling, so the
    interval of the mean keeps its coverage. Non-finite draws are left out; ``None``
    when a fold has no finite draw.
    """
    finite = [d[np.isfinite(d)] for d in draws]
    if not all(len(d) for d in finite):
        return None
    quantiles = np.linspace(0.0, 1.0, n)
    return np.mean([np.quantile(d, quantiles, method="inverted_cdf") for d in finite], axis=0)
