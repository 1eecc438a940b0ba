"""Scoring without compiled loops: numpy, Arrow and rapidfuzz, for logs too small to repay numba.

The compiled kernels of :mod:`wergap.scoring_kernels` are the fastest way to score a
large log, but loading them (importing numba and its cached machine code) takes about
half a second per process — longer than scoring 100,000 utterances takes. This module
computes the same two steps with libraries that load in milliseconds:

- :func:`word_codes`: the byte table applied to the whole text buffer at once (numpy),
  words found where word bytes and spaces alternate, and encoded to integers by Arrow's
  ``dictionary_encode``;
- :func:`forced_counts`: the Levenshtein distance of each pair of word-code sequences by
  rapidfuzz's ``cpdist`` (C++, every core), and from it the S/D/I split wherever the
  distance forces it — the same rule and the same flags as the compiled kernel.

Outputs are identical to the compiled path's (tests compare both, and with jiwer).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from wergap._arrow import as_numpy, from_numpy

BOUNDARY = -1  # the byte-table classes of wergap.scoring_kernels
DELETE = -2
_SPACE = 32
#: Bytes Arrow's ``ascii_split_whitespace`` splits on besides the space.
_ARROW_SPACES = np.array([9, 10, 11, 12, 13], np.uint8)
_DELETED = 0  # placeholder byte of a deleted byte (a log holding NUL bytes takes the compiled path)


def word_codes(
    offsets: np.ndarray, data: np.ndarray, table: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int, pa.LargeStringArray] | None:
    """Integer word codes of each row of a string column, split and mapped through ``table``.

    Parameters
    ----------
    offsets, data : numpy.ndarray
        An Arrow large_string array's offsets (int64, rows + 1) and data (uint8) buffers.
    table : numpy.ndarray
        A 256-entry byte table (:func:`wergap.scoring_kernels.default_table`): a kept byte's
        value, ``BOUNDARY`` or ``DELETE``.

    Returns
    -------
    (codes, row_start, vocabulary, normalized) or None
        Word codes back to back (equal words, equal codes), each row's first word (rows +
        1), the number of distinct codes and the rows' text after the table (equal text,
        equal words); ``None`` when the text holds NUL bytes (the caller then uses the
        compiled splitter).
    """
    lut = np.where(table >= 0, table, np.where(table == BOUNDARY, _SPACE, _DELETED)).astype(np.uint8)
    base, stop = int(offsets[0]), int(offsets[-1])
    # bytes.translate maps a byte table over the text three times faster than numpy's
    # fancy indexing (14 ms against 42 ms for 16 MB).
    text = np.frombuffer(data[base:stop].tobytes().translate(lut.tobytes()), np.uint8)
    off = offsets - base
    if text.size and not text.all():  # some byte maps to the placeholder
        if not data[base:stop].all():
            return None
        # Deleted bytes (punctuation) are few: each row start moves back by the deleted
        # bytes before it. (A cumulative sum over every byte cost ~40x more.)
        deleted = np.flatnonzero(text == _DELETED)
        off = off - np.searchsorted(deleted, off)
        text = np.delete(text, deleted)
    normalized = pa.LargeStringArray.from_buffers(off.size - 1, pa.py_buffer(off), pa.py_buffer(text))
    if np.isin(lut, _ARROW_SPACES).any():  # a kept byte Arrow would split on: split here instead
        return (*_split_in_numpy(text, off), normalized)
    # Arrow splits every row at runs of spaces in C++; it keeps an empty token where a row
    # starts or ends with a space (and for an empty row), which are dropped here.
    lists = pc.ascii_split_whitespace(normalized)
    words = lists.flatten()
    row_start = as_numpy(lists.offsets).astype(np.int64)
    empty = np.flatnonzero(as_numpy(pc.binary_length(words)) == 0)
    if len(empty):  # empty words are few: each row start moves back by those before it
        row_start = row_start - np.searchsorted(empty, row_start)
        keep = np.ones(len(words), bool)
        keep[empty] = False
        words = words.filter(from_numpy(keep))
    encoded = pc.dictionary_encode(words)
    # int32 codes, as Arrow gives them: a first call's time is much the kernel's page
    # faults on fresh memory, so no copy is made that is not needed.
    return as_numpy(encoded.indices), row_start, len(encoded.dictionary), normalized


def _split_in_numpy(text: np.ndarray, off: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`word_codes`' split done with numpy alone: words where word bytes and spaces alternate."""
    n_rows = off.size - 1
    # A space between rows, so that words never run from one row into the next.
    text = np.insert(text, off[1:-1], _SPACE)
    row_first_byte = off[:-1] + np.arange(n_rows)
    word = np.zeros(text.size + 2, bool)
    np.not_equal(text, _SPACE, out=word[1:-1])
    edges = np.flatnonzero(word[1:] != word[:-1])  # alternately a word's start and its end
    starts, ends = edges[0::2], edges[1::2]
    row_start = np.empty(n_rows + 1, np.int64)
    row_start[:-1] = np.searchsorted(starts, row_first_byte)
    row_start[-1] = starts.size
    word_offsets = np.zeros(starts.size + 1, np.int64)
    np.cumsum(ends - starts, out=word_offsets[1:])
    words = pa.LargeStringArray.from_buffers(starts.size, pa.py_buffer(word_offsets), pa.py_buffer(text[word[1:-1]]))
    encoded = pc.dictionary_encode(words)
    return as_numpy(encoded.indices).astype(np.int64), row_start, len(encoded.dictionary)


def code_strings(codes: np.ndarray, row_start: np.ndarray, rows: np.ndarray, vocabulary: int | None) -> list:
    """The given rows' word codes as sequences for rapidfuzz: one code point per word.

    rapidfuzz's backtrace depends only on which words are equal, so any one-to-one word
    code gives jiwer's alignment; a str aligns fastest. Codes skip the surrogate block
    (not valid code points); past U+10FFFF they fall back to lists of ints, which is what
    jiwer itself passes. ``vocabulary=None``: the codes are already code points
    (``unit="char"``), used as they are.
    """
    lengths = row_start[rows + 1] - row_start[rows]
    bounds = np.zeros(len(rows) + 1, np.int64)
    np.cumsum(lengths, out=bounds[1:])
    if len(rows) < 2 or bool((rows[1:] > rows[:-1]).all()):
        # Rows in order (references, then hypotheses): select their words with a mask,
        # without building an index per word (three times faster on 1.5M words).
        chosen = np.zeros(len(row_start) - 1, bool)
        chosen[rows] = True
        picked = codes[np.repeat(chosen, np.diff(row_start))]
    else:
        gather = np.repeat(row_start[rows] - bounds[:-1], lengths) + np.arange(bounds[-1])
        picked = codes[gather]
    edges = bounds.tolist()
    if vocabulary is not None and vocabulary > 0x110000 - 0x800:
        return [picked[a:b].tolist() for a, b in zip(edges[:-1], edges[1:])]
    points = picked.astype(np.uint32, copy=False)
    if vocabulary is not None:
        points[points >= 0xD800] += 0x800
    text = points.tobytes().decode("utf-32-le")
    return [text[a:b] for a, b in zip(edges[:-1], edges[1:])]


def forced_counts(refs: list, hyps: list, n_ref: np.ndarray, n_jobs: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """S, D, I, hits per pair where the edit distance forces them; flags the other pairs.

    The forced rule of :func:`wergap.scoring_kernels.aligned_counts`, on pairs of rows as
    strings (:func:`code_strings`) of ``n_ref`` and ``len(hyps[k])`` words:
    ``(counts, ambiguous)``, counts rows of flagged pairs zero; the caller hands the
    flagged pairs to rapidfuzz's backtrace.
    """
    from rapidfuzz.distance import Levenshtein
    from rapidfuzz.process import cpdist

    n = len(refs)
    out = np.zeros((n, 4), np.int64)
    if n == 0:
        return out, np.zeros(0, bool)
    dist = cpdist(refs, hyps, scorer=Levenshtein.distance, workers=n_jobs, dtype=np.int64).astype(np.int64)
    delta = n_ref - np.fromiter(map(len, hyps), np.int64, count=n)
    x = dist - delta  # = S + 2I
    y = dist + delta  # = S + 2D
    by_x = x <= 1
    by_y = ~by_x & (y <= 1)
    out[by_x, 0] = x[by_x]
    out[by_x, 1] = delta[by_x]
    out[by_y, 0] = y[by_y]
    out[by_y, 2] = -delta[by_y]
    forced = by_x | by_y
    out[forced, 3] = n_ref[forced] - out[forced, 0] - out[forced, 1]
    return out, ~forced
