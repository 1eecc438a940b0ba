"""Compiled (numba) loops of the spatial scan statistic (:mod:`wergap.discovery.geo_scan`).

The scan evaluates Kulldorff's (1997) Poisson log-likelihood ratio for every circle: for
each candidate centre, its neighbouring locations sorted by distance (a CSR list, already
cut where the circle would hold more than ``max_share`` of the speakers), and the circles
are the prefixes of that list, so one running sum per centre gives all of them. The
permutation null reshuffles the speakers' (errors, ref_words) pairs over the speakers'
fixed locations, rebuilds the per-location sums and scans again; each replicate draws
from its own xorshift generator seeded from a numpy ``SeedSequence``, so replicates can be
spread over threads (the loops release the GIL) and still give the same maxima for a seed.

Every function here is plain Python until :func:`kernels` compiles them (on first use:
importing wergap does not load numba).
"""

from __future__ import annotations

import math
from functools import cache
from types import SimpleNamespace

import numpy as np


def circle_llr(c: float, w: float, total_c: float, total_w: float) -> float:
    """Kulldorff's Poisson log-likelihood ratio of a circle with ``c`` errors in ``w`` words.

    Expected errors inside under the null are ``E = C w / W``; only high-rate circles
    (``c > E``, i.e. WER inside above WER outside) score, the rest are 0.
    """
    if w <= 0.0 or w >= total_w:
        return 0.0
    expected = total_c * w / total_w
    if c <= expected * (1.0 + 1e-12):  # not above the rest (rounding of equal rates included)
        return 0.0
    llr = c * math.log(c / expected)
    rest = total_c - c
    if rest > 0.0:
        llr += rest * math.log(rest / (total_c - expected))
    return llr


def best_per_centre(
    loc_e: np.ndarray,
    loc_w: np.ndarray,
    loc_n: np.ndarray,
    ptr: np.ndarray,
    idx: np.ndarray,
    total_c: float,
    total_w: float,
    min_n: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per centre: the best circle's LLR and its length (neighbours included; 0 = none)."""
    k = ptr.shape[0] - 1
    best = np.zeros(k)
    length = np.zeros(k, np.int64)
    for centre in range(k):
        c = 0.0
        w = 0.0
        n = 0
        for j in range(ptr[centre], ptr[centre + 1]):
            loc = idx[j]
            c += loc_e[loc]
            w += loc_w[loc]
            n += loc_n[loc]
            if n < min_n:
                continue
            llr = _llr(c, w, total_c, total_w)
            if llr > best[centre]:
                best[centre] = llr
                length[centre] = j - ptr[centre] + 1
    return best, length


def scan_max(
    loc_e: np.ndarray,
    loc_w: np.ndarray,
    loc_n: np.ndarray,
    ptr: np.ndarray,
    idx: np.ndarray,
    total_c: float,
    total_w: float,
    min_n: int,
) -> float:
    """The largest LLR over all circles (0 when none is above the rest)."""
    best, _ = _best(loc_e, loc_w, loc_n, ptr, idx, total_c, total_w, min_n)
    return best.max() if best.shape[0] else 0.0


def replicate_maxima(
    errors: np.ndarray,
    words: np.ndarray,
    starts: np.ndarray,
    loc_n: np.ndarray,
    ptr: np.ndarray,
    idx: np.ndarray,
    total_c: float,
    total_w: float,
    min_n: int,
    seeds: np.ndarray,
) -> np.ndarray:
    """Largest LLR of each permutation replicate.

    ``errors``/``words`` are the speakers' counts ordered by location; location ``l``
    holds the speakers ``starts[l]:starts[l + 1]``. Each replicate shuffles the pairs
    (Fisher–Yates, xorshift64* seeded by ``seeds[r]``) and scans the shuffled sums.
    """
    n = errors.shape[0]
    k = starts.shape[0] - 1
    out = np.empty(seeds.shape[0])
    e = np.empty(n)
    w = np.empty(n)
    loc_e = np.empty(k)
    loc_w = np.empty(k)
    for r in range(seeds.shape[0]):
        state = np.uint64(seeds[r]) | np.uint64(1)
        for i in range(n):
            e[i] = errors[i]
            w[i] = words[i]
        for i in range(n - 1, 0, -1):
            state ^= state >> np.uint64(12)
            state ^= state << np.uint64(25)
            state ^= state >> np.uint64(27)
            draw = (state * np.uint64(2685821657736338717)) >> np.uint64(11)
            j = int(draw % np.uint64(i + 1))
            e[i], e[j] = e[j], e[i]
            w[i], w[j] = w[j], w[i]
        for loc in range(k):
            se = 0.0
            sw = 0.0
            for i in range(starts[loc], starts[loc + 1]):
                se += e[i]
                sw += w[i]
            loc_e[loc] = se
            loc_w[loc] = sw
        out[r] = _scan(loc_e, loc_w, loc_n, ptr, idx, total_c, total_w, min_n)
    return out


# Names the compiled functions call each other by; rebound to compiled versions in kernels().
_llr = circle_llr
_best = best_per_centre
_scan = scan_max


@cache
def kernels() -> SimpleNamespace:
    """The loops above compiled with numba (cached on disk), as one namespace."""
    from wergap._jit import dispatcher

    global _llr, _best, _scan
    _llr = dispatcher(circle_llr)  # numba dispatchers: the loops below call them in compiled code
    _best = dispatcher(best_per_centre)
    _scan = dispatcher(scan_max)
    return SimpleNamespace(
        llr=_llr,
        scan_max=_scan,
        best_per_centre=_best,
        replicate_maxima=dispatcher(replicate_maxima),
    )
