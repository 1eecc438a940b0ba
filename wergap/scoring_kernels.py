"""Compiled (numba) loops behind :func:`wergap.scoring.score` for word-level scoring.

Scoring a million utterances one at a time through Python costs microseconds per
utterance in interpreter overhead alone, so the per-byte and per-utterance work runs in
two compiled loops instead:

- :func:`split_words` turns a column of normalised UTF-8 text (Arrow's offsets and data
  buffers, no Python strings) into the bytes of its words and each row's word count. A
  256-entry byte table says, per byte, "keep (as this byte)", "word boundary" or "delete":
  for the ``default`` normalisation that is ASCII lowercasing, ASCII punctuation deletion
  and whitespace splitting in the same single pass.
- :func:`forced_counts` computes, for each (reference, hypothesis) pair of word-code
  sequences, the Levenshtein distance — and from it the S/D/I/hits split *wherever the
  distance forces it*. Every minimum-cost alignment has ``S + D + I = dist`` and
  ``D - I = len(ref) - len(hyp)``, so ``S + 2I = dist - Δ`` and ``S + 2D = dist + Δ``;
  when either is 0 or 1 the split is unique and equals jiwer's. The remaining pairs
  (several optimal alignments with different splits) are flagged, and the caller hands
  them to rapidfuzz's Levenshtein backtrace — the one jiwer uses — so jiwer decides every
  tie exactly as it would.

The word-to-code step between the two is Arrow's ``dictionary_encode``.
"""

from __future__ import annotations

import unicodedata

import numpy as np

from wergap._jit import compiled

#: Byte classes in a byte table: a kept byte is its (possibly lowered) value, 0..255.
BOUNDARY = -1
DELETE = -2
# Pairs whose remaining DP matrix is larger than this go to rapidfuzz (bit-parallel there).
MAX_DP_CELLS = 4096

# Bytes Python's str.split() and Arrow's ascii_split_whitespace treat as whitespace, plus
# U+001C..U+001F, which str.isspace() accepts too.
_ASCII_WHITESPACE = b" \t\n\v\f\r\x1c\x1d\x1e\x1f"


def default_table() -> np.ndarray:
    """The ``default`` normalisation on ASCII bytes: lowercase, delete ``\\p{P}``, split on whitespace.

    Bytes >= 0x80 (UTF-8 of non-ASCII characters) are kept as they are; rows holding any
    are normalised by Arrow's Unicode kernels first, on which this table is then a no-op.
    """
    table = np.arange(256, dtype=np.int16)
    table[ord("A") : ord("Z") + 1] += 32
    for c in range(128):
        if unicodedata.category(chr(c)).startswith("P"):
            table[c] = DELETE
    for c in _ASCII_WHITESPACE:
        table[c] = BOUNDARY
    return table


def space_table() -> np.ndarray:
    """Split on the ASCII space only, keep every other byte: jiwer's own word split."""
    table = np.arange(256, dtype=np.int16)
    table[ord(" ")] = BOUNDARY
    return table


@compiled
def split_words(offsets: np.ndarray, data: np.ndarray, table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split each row of a string column into words, mapping bytes through ``table``.

    ``offsets`` (int64, rows + 1) and ``data`` (uint8) are an Arrow large_string array's
    buffers. Returns the words' bytes, the words' byte offsets into them (words + 1) and
    each row's first word (rows + 1): Arrow buffers for a string array of words and a
    list array of rows. Empty words (a row of only deleted bytes) are never emitted.
    """
    n = offsets.shape[0] - 1
    total = offsets[n] - offsets[0]
    out = np.empty(total, np.uint8)
    # A word takes at least one byte and words are separated by at least one byte.
    word_start = np.empty((total + n) // 2 + 2, np.int64)
    row_start = np.empty(n + 1, np.int64)
    w = 0
    words = 0
    row_start[0] = 0
    for r in range(n):
        in_word = False
        for i in range(offsets[r], offsets[r + 1]):
            c = table[data[i]]
            if c >= 0:
                if not in_word:
                    word_start[words] = w
                    words += 1
                    in_word = True
                out[w] = c
                w += 1
            elif c == BOUNDARY:
                in_word = False
            # DELETE: the byte goes, the word goes on ("o'clock" -> "oclock")
        row_start[r + 1] = words
    word_start[words] = w
    return out[:w], word_start[: words + 1].copy(), row_start


@compiled
def forced_counts(
    codes: np.ndarray, row_start: np.ndarray, ref_rows: np.ndarray, hyp_rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """S, D, I, hits per pair where the edit distance forces them; flags the other pairs.

    ``codes`` holds every row's word codes back to back, row ``r`` at
    ``codes[row_start[r]:row_start[r + 1]]``; pair ``k`` aligns row ``ref_rows[k]``
    against row ``hyp_rows[k]``. Returns ``(counts, ambiguous)``: an (n, 4) int64 array
    and a bool mask of the pairs left for the backtrace (their counts rows are zero).
    """
    n = ref_rows.shape[0]
    out = np.zeros((n, 4), np.int64)
    ambiguous = np.zeros(n, np.bool_)
    row = np.empty(64, np.int64)
    for k in range(n):
        a0 = row_start[ref_rows[k]]
        a1 = row_start[ref_rows[k] + 1]
        b0 = row_start[hyp_rows[k]]
        b1 = row_start[hyp_rows[k] + 1]
        n_ref = a1 - a0
        delta = n_ref - (b1 - b0)
        # A common prefix or suffix never changes the distance.
        while a0 < a1 and b0 < b1 and codes[a0] == codes[b0]:
            a0 += 1
            b0 += 1
        while a0 < a1 and b0 < b1 and codes[a1 - 1] == codes[b1 - 1]:
            a1 -= 1
            b1 -= 1
        m = a1 - a0
        q = b1 - b0
        if m == 0 or q == 0:
            dist = m + q
        elif m * q > MAX_DP_CELLS:
            ambiguous[k] = True
            continue
        else:
            if row.shape[0] < q + 1:
                row = np.empty(2 * (q + 1), np.int64)
            for j in range(q + 1):
                row[j] = j
            for i in range(1, m + 1):
                diag = row[0]
                row[0] = i
                word = codes[a0 + i - 1]
                for j in range(1, q + 1):
                    up = row[j]
                    cost = diag if codes[b0 + j - 1] == word else diag + 1
                    if up + 1 < cost:
                        cost = up + 1
                    if row[j - 1] + 1 < cost:
                        cost = row[j - 1] + 1
                    diag = up
                    row[j] = cost
            dist = row[q]
        x = dist - delta  # = S + 2I
        y = dist + delta  # = S + 2D
        if x <= 1:
            s, d, i_ = x, delta, 0
        elif y <= 1:
            s, d, i_ = y, 0, -delta
        else:
            ambiguous[k] = True
            continue
        out[k, 0] = s
        out[k, 1] = d
        out[k, 2] = i_
        out[k, 3] = n_ref - s - d
    return out, ambiguous


@compiled
def code_points(word_bytes: np.ndarray, word_start: np.ndarray, row_start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's words joined by one space, as Unicode code points (``unit="char"``).

    Takes :func:`split_words`' output (valid UTF-8: it comes from Arrow strings, and
    the byte tables only drop or lower ASCII bytes) and returns the code points back to
    back (int32) and each row's first one (rows + 1) — what jiwer.process_characters
    compares, for the same normalised text.
    """
    n = row_start.shape[0] - 1
    words = row_start[n]
    # At most one code point per byte, plus a space between words.
    points = np.empty(word_start[words] - word_start[0] + words, np.int32)
    first = np.empty(n + 1, np.int64)
    k = 0
    first[0] = 0
    for r in range(n):
        for w in range(row_start[r], row_start[r + 1]):
            if w > row_start[r]:
                points[k] = 32
                k += 1
            i = word_start[w]
            end = word_start[w + 1]
            while i < end:
                b = np.int32(word_bytes[i])
                if b < 0x80:
                    cp, extra = b, 0
                elif b < 0xE0:
                    cp, extra = b & 0x1F, 1
                elif b < 0xF0:
                    cp, extra = b & 0x0F, 2
                else:
                    cp, extra = b & 0x07, 3
                for j in range(1, extra + 1):
                    cp = (cp << 6) | (np.int32(word_bytes[i + j]) & 0x3F)
                points[k] = cp
                k += 1
                i += extra + 1
        first[r + 1] = k
    return points[:k].copy(), first
