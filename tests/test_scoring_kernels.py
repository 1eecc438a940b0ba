"""The compiled kernels on their own: word codes and the jiwer (rapidfuzz) backtrace.

``aligned_counts`` traces ties back itself instead of handing them to rapidfuzz, so it is
checked here against ``rapidfuzz.distance.Levenshtein.editops`` — what jiwer calls — on
random sequences over tiny alphabets, where most pairs have several optimal alignments.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from rapidfuzz.distance import Levenshtein

from wergap import scoring_kernels as kern
from wergap.scoring import _align, _buffers


def editops_counts(a: str, b: str) -> tuple[int, int, int, int]:
    return tuple(_align(([a], [b]))[0].tolist())


def random_pairs(rng: np.random.Generator, pairs: int, alphabet: int, longest: int):
    lengths = rng.integers(0, longest + 1, size=2 * pairs)
    rows = [rng.integers(0, alphabet, size=k) for k in lengths]
    codes = np.concatenate(rows).astype(np.int32)
    row_start = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return rows, codes, row_start


@pytest.mark.parametrize(
    ("pairs", "alphabet", "longest"),
    [(20_000, 2, 8), (20_000, 3, 14), (5_000, 4, 40), (1_000, 5, 64), (600, 3, 100)],
)
def test_backtrace_breaks_ties_as_rapidfuzz_editops(pairs, alphabet, longest):
    rng = np.random.default_rng(alphabet * 1000 + longest)
    rows, codes, row_start = random_pairs(rng, pairs, alphabet, longest)
    ref_rows = np.arange(pairs, dtype=np.int64)
    hyp_rows = ref_rows + pairs
    counts, flagged = kern.aligned_counts(codes, row_start, ref_rows, hyp_rows)
    ties = 0
    for k in range(pairs):
        a = "".join(chr(65 + c) for c in rows[k])
        b = "".join(chr(65 + c) for c in rows[pairs + k])
        if flagged[k]:  # reference middle > 64 words, split not forced: rapidfuzz's own job
            assert len(a) > kern.MAX_TRACED_REF and tuple(counts[k]) == (0, 0, 0, 0)
            continue
        assert tuple(counts[k]) == editops_counts(a, b), (a, b)
        dist = Levenshtein.distance(a, b)
        ties += min(dist - (len(a) - len(b)), dist + (len(a) - len(b))) > 1
    assert ties > pairs // 10  # the backtrace, not only the forced rule, was exercised
    if longest > 64:
        assert flagged.any()


def column(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    return _buffers(pa.array(texts, type=pa.large_string()))


def decode(codes: np.ndarray, row_start: np.ndarray) -> list[list[int]]:
    return [codes[a:b].tolist() for a, b in zip(row_start[:-1], row_start[1:])]


def test_word_codes_follow_the_byte_table_across_columns():
    table = kern.default_table()
    refs = ["Hello, world", "  o'clock  HELLO\tworld ", "", "--- !!"]
    hyps = ["world hello", "oclock"]
    codes, row_start, distinct, (offsets, raw) = kern.encode_words(*column(refs), table, column(hyps))
    rows = decode(codes, row_start)
    assert len(rows) == 6 and distinct == 3
    hello, world, oclock = rows[0][0], rows[0][1], rows[1][0]
    assert rows == [[hello, world], [oclock, hello, world], [], [], [world, hello], [oclock]]
    words = [bytes(raw[offsets[c] : offsets[c + 1]]).decode() for c in range(distinct)]
    assert [words[hello], words[world], words[oclock]] == ["hello", "world", "oclock"]


def test_word_codes_survive_the_hash_table_growing():
    """Far more distinct words than the first table holds: equal words keep equal codes."""
    rng = np.random.default_rng(0)
    vocabulary = np.array([f"w{i:06d}" for i in range(200_000)])
    picks = rng.integers(0, len(vocabulary), size=(20_000, 30))
    picks[:, 0] = 7  # one word in every row
    texts = [" ".join(vocabulary[p]) for p in picks]
    codes, row_start, distinct, _ = kern.encode_words(*column(texts), kern.space_table())
    assert distinct == len(np.unique(picks))
    assert (codes[row_start[:-1]] == codes[0]).all()
    # Codes are a one-to-one relabelling of the words.
    pairs = np.unique(np.stack([picks.ravel(), codes.astype(np.int64)]), axis=1)
    assert len(np.unique(pairs[0])) == pairs.shape[1] == len(np.unique(pairs[1]))


@pytest.mark.parametrize(("alphabet", "longest"), [(2, 8), (3, 14), (4, 40), (3, 100)])
def test_alignment_events_are_rapidfuzz_editops(alphabet, longest):
    """Every event, in order, is an editops operation (a substitution: missed + pair)."""
    pairs = 3_000
    rng = np.random.default_rng(alphabet + longest)
    rows, codes, row_start = random_pairs(rng, pairs, alphabet, longest)
    ref_rows = np.arange(pairs, dtype=np.int64)
    hyp_rows = ref_rows + pairs
    counts, flagged = kern.aligned_counts(codes, row_start, ref_rows, hyp_rows)
    sizes = np.where(flagged, 0, 2 * counts[:, 0] + counts[:, 1] + counts[:, 2])
    slots = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    kind, ref_pos, hyp_pos, skipped = kern.alignment_events(codes, row_start, ref_rows, hyp_rows, slots)
    for k in range(pairs):
        if sizes[k] == 0 or skipped[k]:
            continue
        a = "".join(chr(65 + c) for c in rows[k])
        b = "".join(chr(65 + c) for c in rows[pairs + k])
        expected = []
        for op in Levenshtein.editops(a, b):
            src, dest = row_start[k] + op.src_pos, row_start[pairs + k] + op.dest_pos
            if op.tag == "replace":
                expected += [(0, src, -1), (1, src, dest)]
            elif op.tag == "delete":
                expected.append((0, src, -1))
            else:
                expected.append((2, -1, dest))
        got = list(
            zip(
                kind[slots[k] : slots[k + 1]].tolist(),
                ref_pos[slots[k] : slots[k + 1]].tolist(),
                hyp_pos[slots[k] : slots[k + 1]].tolist(),
            )
        )
        assert got == expected, (a, b)
    if longest > 64:
        assert skipped.any()
