"""Per-utterance word (or character) error counts, identical to jiwer's.

Every number wergap reports rests on these counts, so they follow ``jiwer.process_words``
exactly — S/D/I split included, not only the totals — after the same normalisation on
both sides. jiwer aligns with rapidfuzz's Levenshtein backtrace; wergap calls the same
backtrace but does the per-utterance work once per *distinct* string (normalisation,
tokenisation) and encodes each word as one character, which is where jiwer spends most
of its time. The property tests in ``tests/test_scoring.py`` check the equality against
jiwer itself.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz.distance import Levenshtein

from wergap.data_schemas import InputError
from wergap.data_schemas._provenance import carry, provenance

NORMALIZATIONS = ("default", "none", "whisper")
UNITS = ("word", "char")
COUNT_COLUMNS = ("substitutions", "deletions", "insertions", "hits", "ref_words", "errors")
ALIGNER = "jiwer-exact (rapidfuzz Levenshtein backtrace, as jiwer.process_words)"

UNKNOWN_NORMALIZATION = "unknown normalisation {name!r}; choose one of: {choices}"
UNKNOWN_UNIT = "unknown unit {name!r}; choose one of: {choices}"
NO_TEXT_OR_COUNTS = (
    "the log has neither text columns ('ref', 'hyp') nor count columns ('errors', "
    "'ref_words'); read it with wergap.read_log first"
)
WHISPER_MISSING = (
    "normalisation 'whisper' needs the whisper-normalizer package: pip install whisper-normalizer"
)

MISSING_REF = "reference is missing (NaN); read the log with drop_invalid=True to drop such rows"
# A progress bar advances once per this many utterances.
PROGRESS_CHUNK = 250_000
# Above this many utterances, alignment runs in worker processes (one per core).
PARALLEL_THRESHOLD = 200_000

_MULTI_SPACE = re.compile(r"\s\s+")
# Every character str.isspace() accepts beyond ASCII's space, \t, \n, \v, \f, \r (RE2 syntax).
_NON_ASCII_WHITESPACE = (
    r"[\x{1C}-\x{1F}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]"
)


def _normalize_none(text: str) -> str:
    """jiwer's own default transform: collapse runs of 2+ whitespace, strip the ends."""
    return _MULTI_SPACE.sub(" ", text).strip()


@lru_cache(maxsize=1)
def _whisper() -> Callable[[str], str]:
    try:
        from whisper_normalizer.english import EnglishTextNormalizer
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise InputError(WHISPER_MISSING) from exc
    return EnglishTextNormalizer()


def _normalize_whisper(text: str) -> str:
    return " ".join(_whisper()(text).split())


_NORMALIZERS: dict[str, Callable[[str], str]] = {
    "default": str,  # runs in Arrow: see _normalized_tokens
    "none": _normalize_none,
    "whisper": _normalize_whisper,
}


def normalize(texts: Iterable[str], normalization: str = "default") -> list[str]:
    """Normalise transcripts the way :func:`score` does before alignment.

    Parameters
    ----------
    texts : iterable of str
    normalization : {"default", "none", "whisper"}
        ``default``: lowercase, delete Unicode punctuation, fold all Unicode whitespace
        (tabs, no-break spaces) to single spaces — so formatting never counts as an
        error. ``none``: jiwer's own default (only runs of spaces collapsed).
        ``whisper``: the Whisper English normaliser (package ``whisper-normalizer``).
    """
    _normalizer(normalization)
    uniques = np.asarray(list(texts), dtype=object)
    if len(uniques) == 0:
        return []
    lists = _normalized_tokens(uniques, normalization)
    return [" ".join(w for w in words if w) for words in lists.to_pylist()]


def _normalizer(name: str) -> Callable[[str], str]:
    if name not in _NORMALIZERS:
        raise InputError(UNKNOWN_NORMALIZATION.format(name=name, choices=", ".join(NORMALIZATIONS)))
    return _NORMALIZERS[name]


def _normalized_tokens(uniques: np.ndarray, normalization: str) -> pa.ListArray:
    """Normalise each distinct string once and split it into words, as a list array.

    ``default`` runs in Arrow's C++ kernels (lowercase, delete ``\\p{P}``, split on any
    Unicode whitespace); ``none`` and ``whisper`` run their Python normaliser and split
    on single spaces, as jiwer does.
    """
    arr = pa.array(uniques, type=pa.large_string())
    if normalization == "default":
        text = pc.replace_substring_regex(pc.utf8_lower(arr), pattern=r"\p{P}", replacement="")
        # Arrow's utf8_split_whitespace gave run-to-run different tokens on strings ending
        # in multi-byte whitespace (pyarrow 26); map Unicode whitespace to a space and
        # split on ASCII whitespace instead (same boundaries as Python's str.split()).
        text = pc.replace_substring_regex(text, pattern=_NON_ASCII_WHITESPACE, replacement=" ")
        return pc.ascii_split_whitespace(text)
    fn = _normalizer(normalization)
    text = pa.array([fn(t) for t in uniques], type=pa.large_string())
    return pc.split_pattern(text, pattern=" ")


def _encode(uniques: np.ndarray, normalization: str, unit: str) -> list[str] | list[list[int]]:
    """Normalise and tokenise each distinct string once; encode each token as one code point.

    rapidfuzz's backtrace depends only on which tokens are equal, so any one-to-one
    token code gives jiwer's alignment. A str of code points aligns fastest; past the
    surrogate block the code falls back to lists of ints (what jiwer itself passes).
    For ``unit="char"`` the normalised string itself is the sequence.
    """
    _normalizer(normalization)
    lists = _normalized_tokens(uniques, normalization)
    words = pc.list_flatten(lists)
    parent = pc.list_parent_indices(lists).to_numpy()
    keep = pc.greater(pc.utf8_length(words), 0)
    words = words.filter(keep)
    parent = parent[keep.to_numpy(zero_copy_only=False)]
    n = len(uniques)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(parent, minlength=n))]).tolist()
    if unit == "char":
        flat = words.to_pylist()
        return [" ".join(flat[a:b]) for a, b in zip(offsets[:-1], offsets[1:])]
    codes = pc.dictionary_encode(words).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    if codes.size == 0 or codes.max() < 0xD000:
        # Shift codes into U+0800..U+D7FF, where UTF-8 is always three bytes, and let
        # Arrow build the Python strings from the bytes.
        cp = codes.astype(np.uint32) + 0x800
        data = np.empty((cp.size, 3), dtype=np.uint8)
        data[:, 0] = 0xE0 | (cp >> 12)
        data[:, 1] = 0x80 | ((cp >> 6) & 0x3F)
        data[:, 2] = 0x80 | (cp & 0x3F)
        byte_offsets = np.asarray(offsets, dtype=np.int64) * 3
        strings = pa.LargeStringArray.from_buffers(
            n, pa.py_buffer(byte_offsets), pa.py_buffer(data.tobytes())
        )
        return list(strings.to_numpy(zero_copy_only=False))
    return [codes[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])]


def _align(pairs: tuple[list, list]) -> np.ndarray:
    """S, D, I, H for each (ref, hyp) pair of encoded sequences."""
    refs, hyps = pairs
    out = np.zeros((len(refs), 4), dtype=np.int64)
    editops = Levenshtein.editops
    for k, (a, b) in enumerate(zip(refs, hyps)):
        n = len(a)
        if a == b:
            out[k, 3] = n
            continue
        s = d = i = 0
        for tag, _, _ in editops(a, b).as_list():
            if tag == "replace":
                s += 1
            elif tag == "delete":
                d += 1
            else:
                i += 1
        out[k] = (s, d, i, n - s - d)
    return out


def _counts_serial(refs: np.ndarray, hyps: np.ndarray, normalization: str, unit: str) -> np.ndarray:
    """S, D, I, H for each pair: each distinct string normalised and encoded once."""
    n = len(refs)
    codes, uniques = pd.factorize(np.concatenate([refs, hyps]), use_na_sentinel=False)
    encoded = _encode(np.asarray(uniques, dtype=object), normalization, unit)
    return _align(([encoded[c] for c in codes[:n]], [encoded[c] for c in codes[n:]]))


# Set in the parent just before forking, read by the workers: no pickling of the text.
_FORK_INPUT: tuple[np.ndarray, np.ndarray, str, str] | None = None


def _counts_slice(bounds: tuple[int, int]) -> np.ndarray:
    assert _FORK_INPUT is not None
    refs, hyps, normalization, unit = _FORK_INPUT
    a, b = bounds
    return _counts_serial(refs[a:b], hyps[a:b], normalization, unit)


def _counts(refs: np.ndarray, hyps: np.ndarray, normalization: str, unit: str, n_jobs: int) -> np.ndarray:
    global _FORK_INPUT
    n = len(refs)
    if n_jobs <= 1 or n < PARALLEL_THRESHOLD or "fork" not in mp.get_all_start_methods():
        return _counts_serial(refs, hyps, normalization, unit)
    edges = np.linspace(0, n, n_jobs + 1, dtype=int).tolist()
    _FORK_INPUT = (refs, hyps, normalization, unit)
    try:
        with ProcessPoolExecutor(max_workers=n_jobs, mp_context=mp.get_context("fork")) as pool:
            parts = list(pool.map(_counts_slice, zip(edges[:-1], edges[1:])))
    finally:
        _FORK_INPUT = None
    return np.concatenate(parts)


def _resolve_jobs(n_jobs: int | None) -> int:
    if n_jobs is None or n_jobs < 1:
        return os.cpu_count() or 1
    return n_jobs


def align_counts(
    refs: Iterable[str],
    hyps: Iterable[str],
    *,
    normalization: str = "default",
    unit: str = "word",
    n_jobs: int | None = 1,
) -> pd.DataFrame:
    """Alignment counts for parallel lists of reference and hypothesis strings.

    Returns a DataFrame with ``substitutions, deletions, insertions, hits, ref_words,
    errors`` (int64), one row per pair — equal to ``jiwer.process_words`` (or
    ``process_characters`` for ``unit="char"``) on the normalised strings. An empty
    reference yields 0 ``ref_words`` and its insertions as ``errors``.
    """
    if unit not in UNITS:
        raise InputError(UNKNOWN_UNIT.format(name=unit, choices=", ".join(UNITS)))
    _normalizer(normalization)
    ref_arr = np.asarray(list(refs) if not isinstance(refs, (pd.Series, np.ndarray)) else refs, dtype=object)
    hyp_arr = np.asarray(list(hyps) if not isinstance(hyps, (pd.Series, np.ndarray)) else hyps, dtype=object)
    sdih = _counts(ref_arr, hyp_arr, normalization, unit, _resolve_jobs(n_jobs))
    s, d, i, h = sdih.T
    return pd.DataFrame(
        {
            "substitutions": s,
            "deletions": d,
            "insertions": i,
            "hits": h,
            "ref_words": s + d + h,
            "errors": s + d + i,
        }
    )


def score(
    log: pd.DataFrame,
    *,
    normalization: str = "default",
    unit: str = "word",
    n_jobs: int | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Score a decode log: add per-utterance alignment counts to each row.

    Parameters
    ----------
    log : DataFrame
        An utterance table from :func:`wergap.read_log` — text (``ref``, ``hyp``) or
        counts (``errors``, ``ref_words``, optionally S/D/I).
    normalization : {"default", "none", "whisper"}
        Applied identically to reference and hypothesis; see :func:`normalize`.
    unit : {"word", "char"}
        ``char`` gives character error counts (CER), for languages written without
        spaces; ``ref_words`` then counts reference characters.
    n_jobs : int, optional
        Worker processes for logs above 200k utterances; default: every core.
    progress : bool
        Show a progress bar (tqdm, on stderr) for logs above 500k utterances.

    Returns
    -------
    DataFrame
        ``log`` with ``substitutions, deletions, insertions, hits, ref_words, errors``
        (int64). Counts-only logs keep their counts; S/D/I/hits they lack are
        nullable ``Int64`` NA. Provenance records the normalisation, the unit, the
        aligner and the number of empty references.
    """
    if {"ref", "hyp"}.issubset(log.columns):
        refs = log["ref"].to_numpy(dtype=object)
        hyps = log["hyp"].fillna("").to_numpy(dtype=object)
        bad = pd.isna(refs)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise InputError(MISSING_REF, row=row, column="ref")
        step = PROGRESS_CHUNK if progress and len(refs) > PROGRESS_CHUNK else max(len(refs), 1)
        starts = range(0, len(refs), step)
        if step < len(refs):
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="scoring", unit="chunk", total=len(starts), file=sys.stderr)
        parts = [
            align_counts(refs[a : a + step], hyps[a : a + step], normalization=normalization, unit=unit, n_jobs=n_jobs)
            for a in starts
        ]
        counts = pd.concat(parts, ignore_index=True) if parts else align_counts([], [])
        out = log.drop(columns=[c for c in COUNT_COLUMNS if c in log.columns]).copy()
        for col in COUNT_COLUMNS:
            out[col] = counts[col].to_numpy()
        empty = int((counts["ref_words"] == 0).sum())
        return carry(
            log,
            out,
            normalization=normalization,
            unit=unit,
            aligner=ALIGNER,
            empty_references=empty,
        )
    if {"errors", "ref_words"}.issubset(log.columns):
        out = log.copy()
        for col in ("errors", "ref_words"):
            out[col] = out[col].astype("int64")
        for col in ("substitutions", "deletions", "insertions"):
            out[col] = out[col].astype("Int64") if col in out.columns else pd.array([pd.NA] * len(out), dtype="Int64")
        if "hits" not in out.columns:
            out["hits"] = (out["ref_words"] - out["substitutions"] - out["deletions"]).astype("Int64")
        meta = provenance(log)
        return carry(
            log,
            out,
            normalization=meta.get("normalization", "as logged (counts only)"),
            unit=meta.get("unit", unit),
            aligner=meta.get("aligner", "as logged (counts only)"),
            empty_references=int((out["ref_words"] == 0).sum()),
        )
    raise InputError(NO_TEXT_OR_COUNTS)


def corpus_wer(scored: pd.DataFrame) -> float:
    """Corpus-level WER: Σ errors / Σ ref_words (never the mean of per-utterance WERs)."""
    words = int(scored["ref_words"].sum())
    return float(scored["errors"].sum()) / words if words else float("nan")
