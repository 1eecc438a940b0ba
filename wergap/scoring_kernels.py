"""Compiled (numba) loops behind :func:`wergap.scoring.score` for word-level scoring.

Scoring a million utterances one at a time through Python costs microseconds per
utterance in interpreter overhead alone, so the per-byte and per-utterance work runs in
two compiled loops instead, both without the GIL (threads score chunks side by side):

- :func:`encode_words` turns a column of normalised UTF-8 text (Arrow's offsets and data
  buffers, no Python strings) into integer word codes and each row's word count. A
  256-entry byte table says, per byte, "keep (as this byte)", "word boundary" or "delete":
  for the ``default`` normalisation that is ASCII lowercasing, ASCII punctuation deletion
  and whitespace splitting in the same single pass, which also hashes each word into a
  table of the distinct words seen so far (equal words, equal codes).
- :func:`aligned_counts` computes, for each (reference, hypothesis) pair of word-code
  sequences, the S/D/I/hits split of the alignment ``jiwer.process_words`` reports. Every
  minimum-cost alignment has ``S + D + I = dist`` and ``D - I = len(ref) - len(hyp)``, so
  ``S + 2I = dist - Δ`` and ``S + 2D = dist + Δ``; when either is 0 or 1 the split is
  unique. The other pairs (several optimal alignments with different splits) are traced
  back through the edit-distance matrix by the rule rapidfuzz's ``Levenshtein.editops``
  follows — the backtrace jiwer calls — so every tie breaks as jiwer breaks it. Pairs
  whose reference, less the common prefix and suffix, is longer than 64 words (where
  rapidfuzz changes algorithm) are flagged for rapidfuzz itself.

:func:`alignment_events` walks the same backtrace and lists each operation's words, for
the error profile. :func:`split_words` and :func:`code_points` serve character-level
scoring (CER).
"""

from __future__ import annotations

import unicodedata

import numpy as np

from wergap._jit import compiled

#: Byte classes in a byte table: a kept byte is its (possibly lowered) value, 0..255.
BOUNDARY = -1
DELETE = -2
# Pairs whose reference middle is longer than this are flagged for rapidfuzz: its editops
# traces back through one 64-bit word per column up to here (Hyyrö's bit-parallel
# matrix), and through banded blocks or Hirschberg's split beyond.
MAX_TRACED_REF = 64
# Of the flagged pairs, those with at most this many DP cells get their distance here
# (most are then forced and never reach rapidfuzz).
MAX_DP_CELLS = 4096
_NO_SLOTS = np.zeros(1, np.int64)
_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)

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


def encode_words(
    offsets: np.ndarray, data: np.ndarray, table: np.ndarray, *more: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, int, tuple[np.ndarray, np.ndarray]]:
    """Integer word codes of each row of a string column, split and mapped through ``table``.

    ``offsets`` (int64, rows + 1) and ``data`` (uint8) are an Arrow large_string array's
    buffers; ``more`` are further ``(offsets, data)`` columns whose rows follow (one code
    space for references and hypotheses without concatenating their text). Returns every
    row's word codes back to back (int32; equal words, equal codes, numbered in order of
    first appearance), each row's first word (int64, rows + 1), the number of distinct
    words and the distinct words themselves as the offsets (int64, words + 1) and UTF-8
    bytes of a string array (word ``c`` is ``bytes[offsets[c]:offsets[c + 1]]``). Empty words (a run of only deleted bytes) are never emitted. An FNV-1a hash of
    each word picks its slot in an open-addressing table of the distinct words so far,
    compared byte for byte; the table doubles (between rows) before it is half full. The
    compiled loop never reallocates: numba then keeps the arrays in registers, which made
    it twice as fast as a loop that grew them in place.
    """
    parts = [(offsets, data), *more]
    n = sum(len(o) - 1 for o, _ in parts)
    total = sum(int(o[-1] - o[0]) for o, _ in parts)
    # A word takes at least one byte and words are separated by at least one byte.
    codes = np.empty((total + n) // 2 + 2, np.int32)
    row_start = np.empty(n + 1, np.int64)
    kept = np.empty(total, np.uint8)  # distinct words' bytes; a repeat's bytes are overwritten
    cap = 1 << 15
    slot_code = np.full(cap, -1, np.int64)
    slot_hash = np.zeros(cap, np.uint64)
    first = np.empty(cap // 2 + 2, np.int64)  # distinct word k is kept[first[k]:first[k + 1]]
    state = np.zeros(3, np.int64)  # bytes kept, distinct words, words
    base = 0
    for off, raw in parts:
        rows = len(off) - 1
        r = 0
        while True:
            r = _encode_rows(off, raw, table, r, base, codes, row_start, kept, first, slot_code, slot_hash, state)
            if r == rows:
                break
            need = 2 * (int(state[1]) + (int(off[r + 1] - off[r]) + 1) // 2)
            while cap < need or cap < 2 * len(slot_code):
                cap *= 2
            slot_code, slot_hash = _rehashed(slot_code, slot_hash, cap)
            grown = np.empty(cap // 2 + 2, np.int64)
            grown[: int(state[1]) + 1] = first[: int(state[1]) + 1]
            first = grown
        base += rows
    row_start[n] = state[2]
    distinct = int(state[1])
    return codes[: int(state[2])], row_start, distinct, (first[: distinct + 1], kept[: int(state[0])])


@compiled
def _encode_rows(
    offsets: np.ndarray,
    data: np.ndarray,
    table: np.ndarray,
    r0: int,
    base: int,
    codes: np.ndarray,
    row_start: np.ndarray,
    kept: np.ndarray,
    first: np.ndarray,
    slot_code: np.ndarray,
    slot_hash: np.ndarray,
    state: np.ndarray,
) -> int:
    """:func:`encode_words`' loop from row ``r0`` of one column; returns the row it stopped at.

    The column's row ``r`` is row ``base + r`` of the output. Stops before a row whose
    words could fill the hash table past half (returns the number of rows when done).
    """
    n = offsets.shape[0] - 1
    cap = slot_code.shape[0]
    w = state[0]
    distinct = state[1]
    words = state[2]
    r = r0
    while r < n:
        end = offsets[r + 1]
        if 2 * (distinct + (end - offsets[r] + 1) // 2) > cap:
            break
        row_start[base + r] = words
        in_word = False
        start = 0
        h = _FNV_OFFSET
        for i in range(offsets[r], end + 1):
            c = BOUNDARY if i == end else table[data[i]]
            if c >= 0:
                if not in_word:
                    in_word = True
                    start = w
                    h = _FNV_OFFSET
                kept[w] = c
                w += 1
                h = (h ^ np.uint64(c)) * _FNV_PRIME
            elif c == BOUNDARY and in_word:
                in_word = False
                length = w - start
                slot = np.int64((h ^ (h >> np.uint64(29))) & np.uint64(cap - 1))
                code = -1
                while True:
                    k = slot_code[slot]
                    if k < 0:
                        break
                    if slot_hash[slot] == h and first[k + 1] - first[k] == length:
                        a = first[k]
                        same = True
                        for t in range(length):
                            if kept[a + t] != kept[start + t]:
                                same = False
                                break
                        if same:
                            code = k
                            break
                    slot = (slot + 1) & (cap - 1)
                if code >= 0:
                    w = start  # a repeat: its bytes are not kept
                else:
                    code = distinct
                    slot_code[slot] = code
                    slot_hash[slot] = h
                    first[distinct] = start
                    first[distinct + 1] = w
                    distinct += 1
                codes[words] = code
                words += 1
            # DELETE: the byte goes, the word goes on ("o'clock" -> "oclock")
        r += 1
    state[0] = w
    state[1] = distinct
    state[2] = words
    return r


def warm_up() -> None:
    """Load every kernel scoring and the error profile call (from numba's cache, or
    compiled on a first run), the table's growth and the event walk included, so that no
    timed call pays a load. Word codes are int32 everywhere, so one version of each serves."""
    codes, bounds, _, _ = encode_words(np.array([0, 1, 2], np.int64), np.frombuffer(b"ab", np.uint8), default_table())
    _alignments(codes, bounds, np.zeros(1, np.int64), np.ones(1, np.int64), np.array([0, 0]), False)
    _rehashed(np.full(2, -1, np.int64), np.zeros(2, np.uint64), 4)


@compiled
def _rehashed(slot_code: np.ndarray, slot_hash: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """The hash table of :func:`_encode_rows` moved into ``cap`` slots (a power of two)."""
    new_code = np.full(cap, -1, np.int64)
    new_hash = np.zeros(cap, np.uint64)
    for old in range(slot_code.shape[0]):
        k = slot_code[old]
        if k >= 0:
            h = slot_hash[old]
            slot = np.int64((h ^ (h >> np.uint64(29))) & np.uint64(cap - 1))
            while new_code[slot] >= 0:
                slot = (slot + 1) & (cap - 1)
            new_code[slot] = k
            new_hash[slot] = h
    return new_code, new_hash


def aligned_counts(
    codes: np.ndarray, row_start: np.ndarray, ref_rows: np.ndarray, hyp_rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """S, D, I, hits per pair, as ``jiwer.process_words`` counts them; flags pairs left to rapidfuzz.

    ``codes`` holds every row's word codes back to back, row ``r`` at
    ``codes[row_start[r]:row_start[r + 1]]``; pair ``k`` aligns row ``ref_rows[k]``
    against row ``hyp_rows[k]``. Returns ``(counts, flagged)``: an (n, 4) int64 array
    and a bool mask of the pairs whose reference middle exceeds :data:`MAX_TRACED_REF`
    words and whose split the distance does not force (their counts rows are zero).

    The backtrace is rapidfuzz's: from the matrix's far corner, a deletion when the cell
    is one more than the cell above it (reference side), else an insertion when, one
    hypothesis word back, the cell is one less than the cell above it, else the diagonal
    (a substitution where the words differ); leftover words are deletions, then insertions.
    """
    counts, flagged, _, _, _ = _alignments(codes, row_start, ref_rows, hyp_rows, _NO_SLOTS, False)
    return counts, flagged


def alignment_events(
    codes: np.ndarray, row_start: np.ndarray, ref_rows: np.ndarray, hyp_rows: np.ndarray, slots: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The word error events of each pair's jiwer (rapidfuzz editops) alignment.

    Pairs as in :func:`aligned_counts`; pair ``k`` owns event slots
    ``slots[k]:slots[k + 1]``, which must number ``2 S + D + I`` of its counts: a
    substitution is two events (the reference word missed, then the pair), a deletion one
    (missed), an insertion one. Returns ``(kind, ref_pos, hyp_pos, skipped)``: kind 0
    missed, 1 substitution, 2 insertion; positions index ``codes`` (-1: none), in the
    order editops lists the operations. Pairs whose reference middle exceeds
    :data:`MAX_TRACED_REF` words are ``skipped`` (slots untouched) for rapidfuzz itself.
    """
    _, skipped, kind, ref_pos, hyp_pos = _alignments(codes, row_start, ref_rows, hyp_rows, slots, True)
    return kind, ref_pos, hyp_pos, skipped


@compiled
def _alignments(
    codes: np.ndarray, row_start: np.ndarray, ref_rows: np.ndarray, hyp_rows: np.ndarray, slots: np.ndarray, emit: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`aligned_counts` (``emit`` false) and :func:`alignment_events` (true) in one loop.

    Counting, a split the distance forces is taken as it is; emitting, every pair with
    slots is traced back, since the positions of its operations are wanted too.
    """
    n = ref_rows.shape[0]
    out = np.zeros((n, 4), np.int64)
    flagged = np.zeros(n, np.bool_)
    total = slots[n] if emit else 0
    kind = np.zeros(total, np.int8)
    ref_pos = np.full(total, -1, np.int64)
    hyp_pos = np.full(total, -1, np.int64)
    row = np.empty(64, np.int64)
    dp = np.empty(64 * 64, np.int64)
    for k in range(n):
        if emit and slots[k + 1] == slots[k]:
            continue
        a0 = row_start[ref_rows[k]]
        a1 = row_start[ref_rows[k] + 1]
        b0 = row_start[hyp_rows[k]]
        b1 = row_start[hyp_rows[k] + 1]
        n_ref = a1 - a0
        delta = n_ref - (b1 - b0)
        # A common prefix or suffix never changes the distance, nor rapidfuzz's backtrace.
        while a0 < a1 and b0 < b1 and codes[a0] == codes[b0]:
            a0 += 1
            b0 += 1
        while a0 < a1 and b0 < b1 and codes[a1 - 1] == codes[b1 - 1]:
            a1 -= 1
            b1 -= 1
        m = a1 - a0
        q = b1 - b0
        width = q + 1
        traced = True
        if m == 0 or q == 0:
            dist = m + q
        elif m <= MAX_TRACED_REF:
            # The whole matrix, dp[j * width + i]: reference prefix j against hypothesis prefix i.
            if dp.shape[0] < (m + 1) * width:
                dp = np.empty(2 * (m + 1) * width, np.int64)
            for i in range(width):
                dp[i] = i
            for j in range(1, m + 1):
                base = j * width
                above = base - width
                dp[base] = j
                word = codes[a0 + j - 1]
                for i in range(1, width):
                    cost = dp[above + i - 1] if codes[b0 + i - 1] == word else dp[above + i - 1] + 1
                    if dp[above + i] + 1 < cost:
                        cost = dp[above + i] + 1
                    if dp[base + i - 1] + 1 < cost:
                        cost = dp[base + i - 1] + 1
                    dp[base + i] = cost
            dist = dp[m * width + q]
        elif not emit and m * q <= MAX_DP_CELLS:
            traced = False
            if row.shape[0] < width:
                row = np.empty(2 * width, np.int64)
            for i in range(width):
                row[i] = i
            for j in range(1, m + 1):
                diag = row[0]
                row[0] = j
                word = codes[a0 + j - 1]
                for i in range(1, width):
                    up = row[i]
                    cost = diag if codes[b0 + i - 1] == word else diag + 1
                    if up + 1 < cost:
                        cost = up + 1
                    if row[i - 1] + 1 < cost:
                        cost = row[i - 1] + 1
                    diag = up
                    row[i] = cost
            dist = row[q]
        else:
            flagged[k] = True
            continue
        x = dist - delta  # = S + 2I
        y = dist + delta  # = S + 2D
        if not emit and x <= 1:
            s, d, i_ = x, delta, 0
        elif not emit and y <= 1:
            s, d, i_ = y, 0, -delta
        elif traced:
            s = 0
            d = 0
            i_ = 0
            p = slots[k + 1] if emit else 0  # events are filled from the end: the walk starts at the far corner
            col = m  # reference words left
            rw = q  # hypothesis words left
            while rw > 0 and col > 0:
                if dp[col * width + rw] - dp[(col - 1) * width + rw] == 1:
                    col -= 1
                    d += 1
                    if emit:
                        p -= 1
                        ref_pos[p] = a0 + col
                else:
                    rw -= 1
                    if rw > 0 and dp[col * width + rw] - dp[(col - 1) * width + rw] == -1:
                        i_ += 1
                        if emit:
                            p -= 1
                            kind[p] = 2
                            hyp_pos[p] = b0 + rw
                    else:
                        col -= 1
                        if codes[a0 + col] != codes[b0 + rw]:
                            s += 1
                            if emit:
                                p -= 2
                                ref_pos[p] = a0 + col
                                kind[p + 1] = 1
                                ref_pos[p + 1] = a0 + col
                                hyp_pos[p + 1] = b0 + rw
            d += col
            i_ += rw
            if emit:
                while col > 0:
                    col -= 1
                    p -= 1
                    ref_pos[p] = a0 + col
                while rw > 0:
                    rw -= 1
                    p -= 1
                    kind[p] = 2
                    hyp_pos[p] = b0 + rw
        else:
            flagged[k] = True
            continue
        out[k, 0] = s
        out[k, 1] = d
        out[k, 2] = i_
        out[k, 3] = n_ref - s - d
    return out, flagged, kind, ref_pos, hyp_pos


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
