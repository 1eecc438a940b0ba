"""Stratified speaker bootstrap of word-weighted error rates, vectorised.

Utterances of one speaker are not independent, so every interval in wergap resamples
speakers (DESIGN.md). Within each stratum (a cohort) the speakers are drawn with
replacement, ``n_c`` draws per resample, and the resample's error and word totals are
summed; every WER, gap or share a report shows is then a function of those per-cohort
totals, so one set of draws serves all of them and they stay mutually consistent.

The per-group WER intervals of :func:`wergap.cohorts.disaggregate` are studentised
(:func:`studentized_intervals`, bootstrap-t on the same draws): percentile intervals of a
WER undercover when a few speakers hold many of the words.

The draws are int32 index draws from a seeded :class:`numpy.random.Generator`; the errors
and words of the drawn speakers are gathered and summed in one compiled pass (exact:
integer totals far below 2**53 in float64, so the order of the sum does not matter), in
chunks of resamples so that memory stays bounded (about ``CHUNK_ELEMENTS`` draws at a
time) whatever the cohort size.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

#: Index draws held in memory at once (4 bytes each, plus 8 per gathered value).
CHUNK_ELEMENTS = 1 << 22


def stratified_totals(
    codes: np.ndarray,
    errors: np.ndarray,
    words: np.ndarray,
    n_strata: int,
    n_boot: int,
    rng: np.random.Generator,
    *,
    jackknife: bool = False,
) -> tuple[np.ndarray, ...]:
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

    jackknife : bool, default False
        Also return each resample's jackknife variance of its WER (for
        :func:`studentized_intervals`); the draws, and so the totals, are the same.

    Returns
    -------
    errors_boot, words_boot : ndarray of float64, shape (n_boot, n_strata)
        Resampled totals: each stratum resampled independently, with replacement, at its
        own size.
    variance_boot : ndarray of float64, shape (n_boot, n_strata)
        Only with ``jackknife``: the leave-one-draw-out jackknife variance of each
        resample's WER.
    """
    errors = np.asarray(errors, dtype=np.float64)
    words = np.asarray(words, dtype=np.float64)
    codes = np.asarray(codes)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_strata + 1))
    errors_boot = np.zeros((n_boot, n_strata))
    words_boot = np.zeros((n_boot, n_strata))
    variance_boot = np.full((n_boot, n_strata), np.nan)
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
            sums = _gather_sums()(draws, member_errors, member_words)
            errors_boot[start:stop, s], words_boot[start:stop, s] = sums
            if jackknife:
                variance_boot[start:stop, s] = _gather_jackknife()(draws, member_errors, member_words, *sums)
    if jackknife:
        return errors_boot, words_boot, variance_boot
    return errors_boot, words_boot


def _row_jackknife(
    draws: np.ndarray, errors: np.ndarray, words: np.ndarray, error_sums: np.ndarray, word_sums: np.ndarray
) -> np.ndarray:
    """Per row of ``draws`` (its sums from :func:`_row_sums`): the jackknife variance of its WER.

    Leaving draw ``j`` out gives ``(E − e_j) / (W − w_j)``; the jackknife variance is
    ``(m − 1)/m Σ (R_(j) − mean)²`` over the ``m`` draws whose removal leaves words.
    """
    n = draws.shape[0]
    variance_out = np.full(n, np.nan)
    for i in range(n):
        e = error_sums[i]
        w = word_sums[i]
        s1 = 0.0
        s2 = 0.0
        m = 0
        for j in range(draws.shape[1]):
            k = draws[i, j]
            rest = w - words[k]
            if rest > 0:
                r = (e - errors[k]) / rest
                s1 += r
                s2 += r * r
                m += 1
        if m > 1:
            variance_out[i] = max((m - 1) / m * (s2 - s1 * s1 / m), 0.0)
    return variance_out


@cache
def _gather_jackknife():  # noqa: ANN202 - a compiled function
    """:func:`_row_jackknife` compiled on first use."""
    from wergap._jit import compiled

    return compiled(_row_jackknife)


def studentized_intervals(
    codes: np.ndarray,
    errors: np.ndarray,
    words: np.ndarray,
    errors_boot: np.ndarray,
    words_boot: np.ndarray,
    variance_boot: np.ndarray,
    confidence: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Studentised speaker-bootstrap interval of each stratum's WER (bootstrap-t).

    Percentile intervals of a WER undercover when a few speakers hold many of the words
    (92 % for a nominal 95 % at 150 speakers, missing mostly on the high side): a sample
    without its few talkative high-error speakers has both a low WER and a narrow
    bootstrap spread. The bootstrap-t interval divides each resample's deviation by its
    own jackknife standard error, ``t_b = (R_b − R) / se_b``, and inverts the quantiles:
    ``[R − q(1−α/2) c se, R − q(α/2) c se]``, ``se`` the jackknife standard error of the
    sample. ``c`` = t_{ν}(1−α/2) / z(1−α/2) with ν = Kish's effective number of speakers
    − 1, ``(Σw)² / Σw² − 1``: the few speakers holding most words are all the sample has,
    and it widens the interval only when they are few (1.002 at 1,500 equal speakers).
    Measured by ``benchmarks/bench_coverage.py``. Strata with fewer than 3 speakers or no
    spread get the percentile interval of the same resamples.
    """
    from scipy.stats import norm, t

    codes = np.asarray(codes)
    errors = np.asarray(errors, dtype=np.float64)
    words = np.asarray(words, dtype=np.float64)
    k = errors_boot.shape[1] if errors_boot.ndim == 2 else 0
    low, high = np.full(k, np.nan), np.full(k, np.nan)
    if errors_boot.ndim != 2 or errors_boot.shape[0] == 0:
        return low, high
    alpha = (1.0 - confidence) / 2.0
    boot_wer = ratio(errors_boot, words_boot)
    for s in range(k):
        member = codes == s
        e, w = errors[member], words[member]
        total_e, total_w = e.sum(), w.sum()
        fallback = percentile_interval(boot_wer[:, s], confidence)
        leave_out = ratio(total_e - e, total_w - w)
        leave_out = leave_out[np.isfinite(leave_out)]
        if member.sum() < 3 or total_w <= 0 or leave_out.size < 2:
            low[s], high[s] = fallback
            continue
        m = leave_out.size
        se = float(np.sqrt((m - 1) / m * np.sum((leave_out - leave_out.mean()) ** 2)))
        t_boot = (boot_wer[:, s] - total_e / total_w) / np.sqrt(variance_boot[:, s])
        t_boot = t_boot[np.isfinite(t_boot)]
        if se == 0 or t_boot.size < 2:
            low[s], high[s] = fallback
            continue
        effective = total_w**2 / np.sum(w * w)
        scale = float(t.ppf(1.0 - alpha, max(effective - 1.0, 1.0)) / norm.ppf(1.0 - alpha))
        q_low, q_high = np.quantile(t_boot, [alpha, 1.0 - alpha])
        estimate = total_e / total_w
        low[s] = max(estimate - q_high * scale * se, 0.0)
        high[s] = estimate - q_low * scale * se
    return low, high


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


def ratio(numerator: ArrayLike, denominator: ArrayLike) -> np.ndarray:
    """``numerator / denominator`` with NaN where the denominator is 0 (no words: no WER)."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), np.nan)


def relative_gap_pct(worse: ArrayLike, better: ArrayLike) -> np.ndarray:
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
    method: Literal["linear", "inverted_cdf"] = "linear" if np.isfinite(values).all() else "inverted_cdf"
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
