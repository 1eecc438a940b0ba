"""Per-utterance word (or character) error counts, identical to jiwer's.

Every number wergap reports rests on these counts, so they follow ``jiwer.process_words``
exactly — S/D/I split included, not only the totals — after the same normalisation on
both sides. jiwer spends most of its time in Python, per utterance; wergap keeps the
text in Arrow buffers and runs the per-byte and per-utterance work in compiled loops
(:mod:`wergap.scoring_kernels`): one pass normalises and splits the text and gives each
word an integer code, and the edit distance fixes the S/D/I split of most pairs; the pairs
it leaves open (several optimal alignments) are traced back by the rule of rapidfuzz's
Levenshtein backtrace, the one jiwer calls, so every tie breaks as in jiwer. The property
tests in ``tests/test_scoring.py`` check the equality against jiwer itself.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz.distance import Levenshtein

from wergap import normalization as norm
from wergap import scoring_numpy
from wergap._arrow import as_numpy, from_numpy
from wergap._strings import NON_ASCII_WHITESPACE, filled, text_array
from wergap.errors import InputError
from wergap.provenance import carried, carry, provenance

if TYPE_CHECKING:  # pandas is imported where a table is built: the command line's Arrow path needs none
    import pandas as pd

NORMALIZATIONS = tuple(norm.CONVENTIONS)
UNITS = ("word", "char")
COUNT_COLUMNS = ("substitutions", "deletions", "insertions", "hits", "ref_words", "errors")
ALIGNER = "jiwer-exact (rapidfuzz Levenshtein backtrace, as jiwer.process_words)"

UNKNOWN_NORMALIZATION = "unknown normalisation {name!r}; choose one of: {choices}"
UNKNOWN_UNIT = "unknown unit {name!r}; choose one of: {choices}"
NO_TEXT_OR_COUNTS = (
    "the log has neither text columns ('ref', 'hyp') nor count columns ('errors', "
    "'ref_words'); read it with wergap.read_log first"
)

MISSING_REF = "reference is missing (NaN); read the log with drop_invalid=True to drop such rows"
NOT_TEXT = "column {column!r} must hold text (str) for scoring: {error}"
# Pairs scored per unit of work: bounds the temporaries' memory, is the progress bar's
# step, and is what threads share out (logs of 2+ chunks run on every core).
CHUNK = 100_000
# Logs shorter than twice this are not split between threads (a thread's start and a
# chunk's Arrow set-up are not repaid below it).
MIN_SHARE = 5_000
# The uncompiled path works in smaller chunks: its temporaries (Python bytes, Arrow lists)
# are then reused from chunk to chunk instead of page-faulted afresh; a fresh process's
# first 180k pairs took 0.31-0.44 s in 90k chunks (29k page faults, 0.07-0.36 s of it in
# the kernel) and 0.24-0.27 s in 8k-12.5k chunks (6-7k faults).
UNCOMPILED_CHUNK = 10_000
# From this many pairs on, a process's first score() loads the numba kernels (~0.5 s once)
# rather than taking the uncompiled numpy/Arrow/rapidfuzz path (benchmarks/bench_startup.py).
COMPILED_FROM = 500_000
# From this many pairs on, an uncompiled call starts loading the kernels in the background
# for the calls after it (a log this size is seldom scored only once in a session).
PRELOAD_FROM = 50_000
_KERNELS_LOADED = False


_NORMALIZERS = {name: name for name in NORMALIZATIONS}
# Conventions normalised in Python: the whole log's distinct strings once, on processes.
_PYTHON_NORMALIZERS = ("whisper", "basic")


def normalize(texts: Iterable[str], normalization: str = "default") -> list[str]:
    """Normalise transcripts the way :func:`score` does before alignment.

    Parameters
    ----------
    texts : iterable of str
    normalization : {"default", "none", "whisper", "basic", "kaldi"}
        ``default``: lowercase, delete Unicode punctuation (``\\p{P}``: ``it's`` -> ``its``,
        ``C14-P1`` -> ``c14p1``, ``[noise]`` -> ``noise``), keep symbols (``<unk>`` stays),
        fold all Unicode whitespace (tabs, no-break spaces) to single spaces — so
        formatting never counts as an error. ``none``: jiwer's own default (only runs of
        spaces collapsed). ``whisper`` / ``basic``: Whisper's English / basic normaliser,
        output identical to the ``whisper-normalizer`` package. ``kaldi``: lowercase,
        markup ``<...>``, ``[...]``, ``(%...)`` removed, punctuation and hyphens to spaces,
        apostrophes inside words kept. :data:`wergap.normalization.CONVENTIONS` holds a
        one-line description of each; ``docs/normalization.md`` the details.
    """
    _normalizer(normalization)
    uniques = np.asarray(list(texts), dtype=object)
    if len(uniques) == 0:
        return []
    lists = _normalized_tokens(uniques, normalization)
    return [" ".join(w for w in words if w) for words in lists.to_pylist()]


def encoded_words(
    texts: Iterable[str] | pa.Array, normalization: str = "default"
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pa.Array]:
    """Each text's normalised words as integer codes (the words :func:`score` aligns).

    Returns ``(text_of, starts, codes, vocabulary)``: input ``i`` is text ``text_of[i]``,
    whose words are ``codes[starts[t]:starts[t + 1]]``, and word code ``c`` is the string
    ``vocabulary[c]``. The text passes through the same normalisation as :func:`score`,
    and nothing is made a Python string per word, so a whole log can be re-aligned (the
    error profile). The conventions normalised in Python (``none``, ``whisper``,
    ``basic``) normalise each distinct text once (equal texts share ``text_of``); the
    others run on every text in compiled code, where finding the distinct texts would
    cost more than it saves. Missing texts count as empty.
    """
    if not isinstance(texts, (pa.Array, np.ndarray, list, tuple)) and type(texts).__module__.split(".")[0] != "pandas":
        texts = list(texts)
    texts = _as_text(texts)
    return encoded_columns([texts], normalization)


def encoded_columns(
    columns: list[pa.Array], normalization: str = "default"
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pa.Array]:
    """:func:`encoded_words` of text columns (Arrow string arrays) whose rows follow one another.

    References and hypotheses are given as two columns and encoded into one code space
    without concatenating them (a copy of the whole log's text).
    """
    from wergap import scoring_kernels as kern

    text_of, rows, table = _normalized_rows(columns, normalization)
    offsets, data = _buffers(rows[0])
    codes, starts, count, (word_offsets, word_bytes) = kern.encode_words(offsets, data, table, *map(_buffers, rows[1:]))
    vocabulary = pa.LargeStringArray.from_buffers(count, pa.py_buffer(word_offsets), pa.py_buffer(word_bytes))
    return text_of, starts, codes, vocabulary


def _normalized_rows(
    columns: list[pa.Array], normalization: str
) -> tuple[np.ndarray, list[pa.LargeStringArray], np.ndarray]:
    """Text columns (rows following one another) normalised for word splitting.

    Returns ``(text_of, rows, table)``: input text ``i`` is row ``text_of[i]`` of the
    normalised columns ``rows`` (rows following one another), which the byte ``table`` of
    :mod:`wergap.scoring_kernels` splits into words. ``default`` (rows with non-ASCII text
    normalised by Arrow first, the rest by the table) and ``kaldi`` (Arrow) run on every
    row, columns kept apart; the conventions normalised in Python normalise each distinct
    text once. Missing text counts as empty.
    """
    from wergap import scoring_kernels as kern

    _normalizer(normalization)
    columns = [filled(c.cast(pa.large_string())) for c in columns]
    if normalization == "default":
        rows, table = [_prenormalize_non_ascii(c) for c in columns], kern.default_table()
    elif normalization == "kaldi":
        rows, table = [norm.kaldi_normalized(c).cast(pa.large_string()) for c in columns], kern.space_table()
    else:
        distinct = pc.dictionary_encode(columns[0] if len(columns) == 1 else pa.concat_arrays(columns))
        text = norm.normalized_text(distinct.dictionary.to_numpy(zero_copy_only=False), normalization)
        return distinct.indices.to_numpy(zero_copy_only=False).astype(np.int64), [text], kern.space_table()
    return np.arange(sum(len(c) for c in columns), dtype=np.int64), rows, table


def normalized_words(texts: Iterable[str], normalization: str = "default") -> list[list[str]]:
    """Each text's words after :func:`normalize` (the words :func:`score` aligns), as lists."""
    text_of, starts, codes, vocabulary = encoded_words(texts, normalization)
    words = np.asarray(vocabulary.to_pylist(), dtype=object)[codes] if len(codes) else np.zeros(0, object)
    per_text = [words[a:b].tolist() for a, b in zip(starts[:-1].tolist(), starts[1:].tolist())]
    return [per_text[t] for t in text_of]


def _normalizer(name: str) -> str:
    if name not in _NORMALIZERS and name != norm.PRENORMALIZED:
        raise InputError(UNKNOWN_NORMALIZATION.format(name=name, choices=", ".join(NORMALIZATIONS)))
    return name


def _normalized_tokens(uniques: np.ndarray, normalization: str) -> pa.ListArray:
    """Normalise each distinct string once and split it into words, as a list array.

    ``default`` runs in Arrow's C++ kernels (lowercase, delete ``\\p{P}``, split on any
    Unicode whitespace); the other conventions (:mod:`wergap.normalization`) split on
    single spaces, as jiwer does.
    """
    if normalization == "default":
        return pc.ascii_split_whitespace(_unicode_normalized(pa.array(uniques, type=pa.large_string())))
    return pc.split_pattern(norm.normalized_text(uniques, _normalizer(normalization)), pattern=" ")


def _as_text(values: Iterable[object], column: str = "ref") -> pa.LargeStringArray:
    """A text column as one Arrow large_string array (zero-copy for pandas' str dtype).

    Missing values stay null: :func:`score` reports a missing reference and treats a
    missing hypothesis as empty.
    """
    try:
        return text_array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise InputError(NOT_TEXT.format(column=column, error=exc), column=column) from None


def _prenormalize_non_ascii(both: pa.LargeStringArray) -> pa.LargeStringArray:
    """Normalise rows holding non-ASCII text with Arrow's Unicode kernels (``default``).

    The compiled word splitter lowercases, deletes punctuation and splits on whitespace
    for ASCII bytes only; Unicode case, ``\\p{P}`` and Unicode whitespace need these
    kernels, which are idempotent with the splitter's ASCII rules.
    """
    ascii_rows = pc.string_is_ascii(both)
    if pc.all(ascii_rows).as_py() is not False:
        return both
    other = pc.invert(ascii_rows)
    return pc.replace_with_mask(both, other, _unicode_normalized(both.filter(other)))


def _unicode_normalized(arr: pa.Array) -> pa.Array:
    """``default`` normalisation in Arrow: lowercase, delete ``\\p{P}``, Unicode space -> space."""
    text = pc.replace_substring_regex(pc.utf8_lower(arr), pattern=r"\p{P}", replacement="")
    # Arrow's utf8_split_whitespace gave run-to-run different tokens on strings ending
    # in multi-byte whitespace (pyarrow 26); map Unicode whitespace to a space and
    # split on ASCII whitespace instead (same boundaries as Python's str.split()).
    return pc.replace_substring_regex(text, pattern=NON_ASCII_WHITESPACE, replacement=" ")


def _buffers(arr: pa.LargeStringArray) -> tuple[np.ndarray, np.ndarray]:
    """The offsets (int64) and data (uint8) buffers of a large_string array, as numpy views."""
    _, offsets, data = arr.buffers()
    off = np.frombuffer(offsets, dtype=np.int64, count=len(arr) + 1, offset=arr.offset * 8)
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return off, raw


def _compiled_counts(
    refs: pa.LargeStringArray, hyps: pa.LargeStringArray, normalization: str, unit: str, compiled: bool = True
) -> np.ndarray:
    """S, D, I, H per (ref, hyp) pair of texts: jiwer.process_words' (or process_characters') counts.

    The text is normalised by :func:`_normalized_rows` (``default`` by the compiled
    splitter's byte table, rows with non-ASCII text first by Arrow; the other conventions
    by :mod:`wergap.normalization`, split on single spaces as jiwer does). Words become integer
    codes (:func:`wergap.scoring_kernels.encode_words`) — or, for ``unit="char"``, the
    text's code points with single spaces between words; the distance fixes most pairs'
    counts and a backtrace by rapidfuzz's rule settles the rest (rapidfuzz itself for
    references of more than 64 words past their common prefix and suffix).
    ``compiled=False`` splits, encodes and measures the distance with numpy, Arrow and
    rapidfuzz (:mod:`wergap.scoring_numpy`) instead of the numba kernels, whose loading
    a small log does not repay.
    """
    from wergap import scoring_kernels as kern

    n = len(refs)
    # References and hypotheses stay two columns where they are normalised row by row: the
    # encoder reads both into one code space, so their text is never concatenated.
    text_of, columns, table = _normalized_rows([refs, hyps], normalization)
    ref_rows, hyp_rows = text_of[:n], text_of[n:]
    if not compiled and unit == "word":
        offsets, data = _buffers(columns[0] if len(columns) == 1 else pa.concat_arrays(columns))
        counts = _uncompiled_counts(offsets, data, table, ref_rows, hyp_rows)
        if counts is not None:
            return counts
    global _KERNELS_LOADED
    _KERNELS_LOADED = True
    if unit == "char":
        offsets, data = _buffers(columns[0] if len(columns) == 1 else pa.concat_arrays(columns))
        word_bytes, word_start, row_start = kern.split_words(offsets, data, table)
        codes, row_start = kern.code_points(word_bytes, word_start, row_start)
        vocabulary = None  # already code points
    else:
        offsets, data = _buffers(columns[0])
        codes, row_start, vocabulary, _ = kern.encode_words(offsets, data, table, *map(_buffers, columns[1:]))
    counts, flagged = kern.aligned_counts(codes, row_start, ref_rows, hyp_rows)
    if flagged.any():
        pick = np.flatnonzero(flagged)
        seqs = scoring_numpy.code_strings(
            codes, row_start, np.concatenate([ref_rows[pick], hyp_rows[pick]]), vocabulary
        )
        counts[pick] = _align((seqs[: len(pick)], seqs[len(pick) :]))
    return counts


def _uncompiled_counts(
    offsets: np.ndarray, data: np.ndarray, table: np.ndarray, ref_rows: np.ndarray, hyp_rows: np.ndarray
) -> np.ndarray | None:
    """:func:`_compiled_counts`' word-level counts without numba; ``None`` where it cannot (NUL bytes)."""
    words = scoring_numpy.word_codes(offsets, data, table)
    if words is None:
        return None
    codes, row_start, vocabulary, normalized = words
    n = len(ref_rows)
    # Pairs whose normalised text is identical are all hits: no string, no distance.
    if n and len(normalized) == 2 * n and ref_rows[0] == 0 and hyp_rows[0] == n:  # rows are [refs, hyps]
        same = as_numpy(pc.equal(normalized.slice(0, n), normalized.slice(n, n)))
    else:  # rows are the distinct strings: equal strings share a row
        same = ref_rows == hyp_rows
    n_ref = row_start[ref_rows + 1] - row_start[ref_rows]
    counts = np.zeros((n, 4), np.int64)
    counts[same, 3] = n_ref[same]
    todo = np.flatnonzero(~same)
    strings = scoring_numpy.code_strings(codes, row_start, np.concatenate([ref_rows[todo], hyp_rows[todo]]), vocabulary)
    refs, hyps = strings[: len(todo)], strings[len(todo) :]
    part, ambiguous = scoring_numpy.forced_counts(refs, hyps, n_ref[todo])
    if ambiguous.any():
        pick = np.flatnonzero(ambiguous)
        part[pick] = _align(([refs[k] for k in pick.tolist()], [hyps[k] for k in pick.tolist()]))
    counts[todo] = part
    return counts


def _use_compiled(n: int) -> bool:
    """Whether scoring ``n`` pairs should run the numba kernels.

    Loading them costs about 0.5 s once per process; below :data:`COMPILED_FROM` pairs
    the uncompiled path finishes sooner, unless the kernels are loaded already.
    """
    if not _KERNELS_LOADED and n >= PRELOAD_FROM and _LOADER is not None and _LOADER.is_alive():
        _LOADER.join()  # a load an earlier call started is further along than this call would get
    return _KERNELS_LOADED or n >= COMPILED_FROM


_PRELOAD = threading.Lock()
_LOADER: threading.Thread | None = None


def load_kernels() -> None:
    """Load the compiled scoring kernels now (numba and its cached machine code, ~0.5 s once).

    :func:`score` loads them by itself when a log is large enough to repay it; call this
    first where a process should pay the load up front (a service warming up, a benchmark
    timing throughput alone).
    """
    global _KERNELS_LOADED
    from wergap import scoring_kernels as kern

    kern.warm_up()
    _KERNELS_LOADED = True


def _preload_kernels() -> None:
    """Load the numba kernels on a background thread, once: later large calls then use them."""
    global _LOADER
    if _PRELOAD.acquire(blocking=False):  # never released: one preload per process
        _LOADER = threading.Thread(target=load_kernels, name="wergap-kernels", daemon=True)
        _LOADER.start()


def _align(pairs: tuple[list, list]) -> np.ndarray:
    """S, D, I, H for each (ref, hyp) pair of sequences, by rapidfuzz's backtrace (jiwer's)."""
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


def _counts_serial(
    refs: pa.LargeStringArray, hyps: pa.LargeStringArray, normalization: str, unit: str, compiled: bool = True
) -> np.ndarray:
    """S, D, I, H for each pair of one chunk."""
    refs = filled(refs)
    hyps = filled(hyps)
    return _compiled_counts(refs, hyps, normalization, unit, compiled)


def _counts(
    refs: pa.LargeStringArray,
    hyps: pa.LargeStringArray,
    normalization: str,
    unit: str,
    n_jobs: int,
    progress: bool = False,
) -> np.ndarray:
    """S, D, I, H for every pair (a 4 x n array), in chunks of :data:`CHUNK` pairs, on ``n_jobs`` threads.

    Chunks bound the memory of the temporaries and are the progress bar's steps. Threads
    suffice: the compiled loops and Arrow's kernels run without the GIL, and threads
    share the text without copying it (no fork of a large process).
    """
    n = len(refs)
    # Chunks of at most CHUNK pairs, and at least one per thread: 180k pairs on 2 threads
    # are 2 x 90k, not 100k + 80k (the longer chunk sets the wall time).
    compiled = _use_compiled(n)
    size = min(CHUNK if compiled else UNCOMPILED_CHUNK, max(MIN_SHARE, -(-n // max(1, n_jobs))))
    edges = list(range(0, n, size)) + [n]
    bounds = list(zip(edges[:-1], edges[1:])) or [(0, 0)]

    def chunk(b: tuple[int, int]) -> np.ndarray:
        return _counts_serial(refs[b[0] : b[1]], hyps[b[0] : b[1]], normalization, unit, compiled)

    bar = None
    if progress and len(bounds) > 1:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc="scoring", unit="utt", unit_scale=True, file=sys.stderr)
    parts = []
    try:
        # One worker thread runs the chunks in order: the same loop serves n_jobs=1.
        with ThreadPoolExecutor(max_workers=max(1, min(n_jobs, len(bounds)))) as pool:
            for part in pool.map(chunk, bounds):
                parts.append(part)
                if bar is not None:
                    bar.update(len(part))
    finally:
        if bar is not None:
            bar.close()
    if not compiled and n >= PRELOAD_FROM:
        # Load the kernels for the next large call, after this one: a loading thread
        # competes for the GIL with the uncompiled path (0.52 s -> 0.90 s on 180k pairs).
        _preload_kernels()
    # S, D, I and H as four contiguous rows: each becomes a table column without a copy.
    return np.concatenate([part.T for part in parts], axis=1)


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
    progress: bool = False,
    drop_tokens: str | None = None,
) -> pd.DataFrame:
    """Alignment counts for parallel lists of reference and hypothesis strings.

    Returns a DataFrame with ``substitutions, deletions, insertions, hits, ref_words,
    errors`` (int64), one row per pair — equal to ``jiwer.process_words`` (or
    ``process_characters`` for ``unit="char"``) on the normalised strings. An empty
    reference yields 0 ``ref_words`` and its insertions as ``errors``; a missing
    (None/NaN) string counts as empty. ``n_jobs`` threads share logs of more
    than :data:`CHUNK` pairs (``None``: every core); ``progress`` shows a progress bar.
    ``drop_tokens``: a regular expression; whitespace-separated tokens of the raw text
    that match it in full are removed from both sides before normalisation.
    """
    if unit not in UNITS:
        raise InputError(UNKNOWN_UNIT.format(name=unit, choices=", ".join(UNITS)))
    _normalizer(normalization)
    ref_arr = _as_text(refs, "ref")
    hyp_arr = _as_text(hyps, "hyp")
    if drop_tokens:
        ref_arr, _ = norm.drop_matching_tokens(ref_arr, drop_tokens)
        hyp_arr, _ = norm.drop_matching_tokens(hyp_arr, drop_tokens)
    import pandas as pd

    return pd.DataFrame(_count_columns(ref_arr, hyp_arr, normalization, unit, n_jobs, progress))


def _count_columns(
    ref_arr: pa.LargeStringArray,
    hyp_arr: pa.LargeStringArray,
    normalization: str,
    unit: str,
    n_jobs: int | None,
    progress: bool,
) -> dict[str, np.ndarray]:
    """:data:`COUNT_COLUMNS` of each (ref, hyp) pair of text, as int64 arrays (the unit and
    normalisation checked by the caller)."""
    if len(ref_arr) != len(hyp_arr):
        raise InputError(f"{len(ref_arr)} references but {len(hyp_arr)} hypotheses")
    jobs = _resolve_jobs(n_jobs)
    if normalization in _PYTHON_NORMALIZERS and len(ref_arr):
        ref_arr, hyp_arr = norm.prenormalized(ref_arr, hyp_arr, normalization)
        normalization = norm.PRENORMALIZED
    s, d, i, h = _counts(ref_arr, hyp_arr, normalization, unit, jobs, progress)
    return {
        "substitutions": s,
        "deletions": d,
        "insertions": i,
        "hits": h,
        "ref_words": s + d + h,
        "errors": s + d + i,
    }


def text_counts(
    refs: Iterable[object],
    hyps: Iterable[object],
    *,
    normalization: str = "default",
    unit: str = "word",
    n_jobs: int | None = None,
    progress: bool = False,
    drop_tokens: str | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """:func:`score`'s work on a text log's two columns, with no table around them.

    Returns the :data:`COUNT_COLUMNS` (int64 arrays, one row per utterance) and the
    provenance entries :func:`score` records. The command line scores a clean CSV with
    this straight from Arrow, without loading pandas; :func:`score` builds its table
    from the same two results, so both give the same numbers and the same provenance.
    """
    ref_arr = _as_text(refs, "ref")
    if ref_arr.null_count:
        row = int(np.flatnonzero(pc.is_null(ref_arr).to_numpy(zero_copy_only=False))[0])
        raise InputError(MISSING_REF, row=row, column="ref")
    _normalizer(normalization)
    hyp_arr = _as_text(hyps, "hyp")
    dropped = {}
    if drop_tokens:
        ref_arr, dropped["ref"] = norm.drop_matching_tokens(ref_arr, drop_tokens)
        hyp_arr, dropped["hyp"] = norm.drop_matching_tokens(hyp_arr, drop_tokens)
    if unit not in UNITS:
        raise InputError(UNKNOWN_UNIT.format(name=unit, choices=", ".join(UNITS)))
    columns = _count_columns(ref_arr, hyp_arr, normalization, unit, n_jobs, progress and len(ref_arr) > CHUNK)
    updates: dict[str, Any] = {
        "normalization": normalization,
        "normalization_detail": norm.CONVENTIONS[normalization],
        "unit": unit,
        "aligner": ALIGNER,
        "empty_references": int(np.count_nonzero(columns["ref_words"] == 0)),
    }
    if drop_tokens:
        updates.update(drop_tokens=drop_tokens, dropped_tokens=dropped)
    return columns, updates


def score(
    log: pd.DataFrame,
    *,
    normalization: str = "default",
    unit: str = "word",
    n_jobs: int | None = None,
    progress: bool = False,
    drop_tokens: str | None = None,
) -> pd.DataFrame:
    """Score a decode log: add per-utterance alignment counts to each row.

    Parameters
    ----------
    log : DataFrame
        An utterance table from :func:`wergap.read_log` — text (``ref``, ``hyp``) or
        counts (``errors``, ``ref_words``, optionally S/D/I).
    normalization : {"default", "none", "whisper", "basic", "kaldi"}
        Applied identically to reference and hypothesis; see :func:`normalize`.
    unit : {"word", "char"}
        ``char`` gives character error counts (CER), for languages written without
        spaces; ``ref_words`` then counts reference characters.
    n_jobs : int, optional
        Threads for logs above 100k utterances; default: every core.
    progress : bool
        Show a progress bar (tqdm, on stderr) for logs above 100k utterances.
    drop_tokens : str, optional
        Regular expression (Python ``re``) for site-specific markup: whitespace-separated
        tokens of the raw reference and hypothesis that match it in full are removed
        before normalisation (e.g. ``r"<[^>]*>|\\[[^]]*\\]"``). Provenance counts them.

    Returns
    -------
    DataFrame
        ``log`` with ``substitutions, deletions, insertions, hits, ref_words, errors``
        (int64). Counts-only logs keep their counts; S/D/I/hits they lack are
        nullable ``Int64`` NA. Provenance records the normalisation, the unit, the
        aligner and the number of empty references; the convention's description, and
        with ``drop_tokens`` the pattern and the tokens dropped from each side.
    """
    if {"ref", "hyp"}.issubset(log.columns):
        columns, updates = text_counts(
            log["ref"],
            log["hyp"],
            normalization=normalization,
            unit=unit,
            n_jobs=n_jobs,
            progress=progress,
            drop_tokens=drop_tokens,
        )
        import pandas as pd

        # No copy of the log (pandas' copy-on-write keeps ``log`` itself unchanged) nor of
        # the counts: assigning each column would copy it into fresh memory, whose page
        # faults were a tenth of a call's time.
        counts = pd.DataFrame(columns, index=log.index, copy=False)
        out = pd.concat([log.drop(columns=[c for c in COUNT_COLUMNS if c in log.columns]), counts], axis=1)
        return carry(log, out, **updates)
    if {"errors", "ref_words"}.issubset(log.columns):
        import pandas as pd

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


def score_table(
    table: pa.Table,
    meta: dict[str, Any],
    *,
    normalization: str = "default",
    unit: str = "word",
    n_jobs: int | None = None,
    progress: bool = False,
    drop_tokens: str | None = None,
) -> tuple[pa.Table, dict[str, Any]]:
    """:func:`score` for a text log held as an Arrow table with its provenance ``meta``.

    The command line scores a clean CSV this way without loading pandas
    (:mod:`wergap.data_schemas.arrow_log`). Returns the table with the
    :data:`COUNT_COLUMNS` (int64) in place of any it had, and the provenance :func:`score`
    would carry; ``meta`` is not changed.
    """
    columns, updates = text_counts(
        table["ref"],
        table["hyp"],
        normalization=normalization,
        unit=unit,
        n_jobs=n_jobs,
        progress=progress,
        drop_tokens=drop_tokens,
    )
    out = table.drop_columns([c for c in COUNT_COLUMNS if c in table.column_names])
    for col in COUNT_COLUMNS:
        out = out.append_column(col, from_numpy(columns[col].astype(np.int64)))
    return out, carried(meta, **updates)


def corpus_wer(scored: pd.DataFrame) -> float:
    """Corpus-level WER: Σ errors / Σ ref_words (never the mean of per-utterance WERs)."""
    words = int(scored["ref_words"].sum())
    return float(scored["errors"].sum()) / words if words else float("nan")
