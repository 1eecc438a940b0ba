"""Scoring equals jiwer on every utterance, S/D/I split included."""

from __future__ import annotations

import jiwer
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wergap as wg
from wergap.scoring import MISSING_REF, NO_TEXT_OR_COUNTS, align_counts, normalize

# Small alphabets make repeated words, and so alignment ties, likely.
# ASCII punctuation and symbols exercise the compiled splitter's byte table: \p{P} goes
# ("o'clock" -> "oclock"), symbols such as $ + < = > ^ ` | ~ stay.
WORDS = st.sampled_from(
    [
        "a",
        "b",
        "c",
        "the",
        "cat",
        "Hat",
        "hat,",
        "ß",
        "naïve",
        "日本",
        "O'Clock",
        "U.S.",
        "$5",
        "a+b",
        "rock&roll",
        "C#",
        "x_y",
        "50%",
        "~ok",
        "`q`",
        "{}",
        "...",
        "Ünï-code!",
        "“quoted”",
        "😀",
        "𝒳y",
    ]
)
SPACES = st.sampled_from([" ", "  ", "\t", "\u00a0", " \n ", "\u2003", "\x0b", "\u3000", "\x1f"])


@st.composite
def sentences(draw) -> str:
    words = draw(st.lists(WORDS, max_size=12))
    out = draw(st.sampled_from(["", " "]))
    for w in words:
        out += w + draw(SPACES)
    return out


def jiwer_counts(ref: str, hyp: str, unit: str = "word") -> tuple[int, int, int, int]:
    fn = jiwer.process_characters if unit == "char" else jiwer.process_words
    out = fn(ref, hyp)
    return out.substitutions, out.deletions, out.insertions, out.hits


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(sentences(), sentences()), min_size=1, max_size=20))
def test_default_normalisation_matches_jiwer_on_normalised_text(pairs):
    refs, hyps = zip(*pairs)
    ours = align_counts(refs, hyps)
    for k, (r, h) in enumerate(zip(normalize(refs), normalize(hyps))):
        row = ours.iloc[k]
        assert (row.substitutions, row.deletions, row.insertions, row.hits) == jiwer_counts(r, h)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(sentences(), sentences()), min_size=1, max_size=20))
def test_none_normalisation_matches_jiwer_on_raw_text(pairs):
    refs, hyps = zip(*pairs)
    ours = align_counts(refs, hyps, normalization="none")
    for k, (r, h) in enumerate(pairs):
        row = ours.iloc[k]
        assert (row.substitutions, row.deletions, row.insertions, row.hits) == jiwer_counts(r, h)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(sentences(), sentences()), min_size=1, max_size=10))
def test_character_unit_matches_jiwer_process_characters(pairs):
    refs, hyps = zip(*pairs)
    ours = align_counts(refs, hyps, unit="char")
    for k, (r, h) in enumerate(zip(normalize(refs), normalize(hyps))):
        row = ours.iloc[k]
        assert (row.substitutions, row.deletions, row.insertions, row.hits) == jiwer_counts(r, h, "char")


CASES = [
    # ref, hyp, (S, D, I, hits, ref_words, errors)
    ("the cat sat", "the cat sat", (0, 0, 0, 3, 3, 0)),
    ("the cat sat", "the hat sat", (1, 0, 0, 2, 3, 1)),
    ("the cat sat", "the sat", (0, 1, 0, 2, 3, 1)),
    ("the cat", "the cat sat", (0, 0, 1, 2, 2, 1)),
    ("", "uh huh", (0, 0, 2, 0, 0, 2)),  # empty reference: insertions are errors, 0 words
    ("", "", (0, 0, 0, 0, 0, 0)),
    ("Hello, World!", "hello world", (0, 0, 0, 2, 2, 0)),  # case and punctuation folded
    ("a\u00a0b\tc", "a b c", (0, 0, 0, 3, 3, 0)),  # any Unicode whitespace is a boundary
]


@pytest.mark.parametrize("ref,hyp,expected", CASES)
def test_known_counts(ref, hyp, expected):
    row = align_counts([ref], [hyp]).iloc[0]
    assert (
        tuple(row[c] for c in ("substitutions", "deletions", "insertions", "hits", "ref_words", "errors")) == expected
    )


def test_whisper_normalisation_expands_contractions_and_numbers():
    assert normalize(["I'm going to Mr. Smith's"], "whisper") == normalize(["i am going to mister smith's"], "whisper")
    row = align_counts(["It's 10 o'clock"], ["it is ten o'clock"], normalization="whisper").iloc[0]
    assert row.errors == 0


def test_score_adds_counts_and_records_provenance():
    log = wg.read_log(
        pd.DataFrame(
            {
                "utt_id": ["u1", "u2", "u3"],
                "speaker_id": ["s1", "s1", "s2"],
                "ref": ["turn on the lights", "", "play jazz"],
                "hyp": ["turn on lights", "hey", None],
                "device": ["echo", "echo", "phone"],
            }
        )
    )
    scored = wg.score(log)
    assert scored["errors"].tolist() == [1, 1, 2]
    assert scored["ref_words"].tolist() == [4, 0, 2]
    assert scored["device"].tolist() == ["echo", "echo", "phone"]
    meta = scored.attrs["wergap"]
    assert meta["normalization"] == "default"
    assert meta["empty_references"] == 1
    assert "jiwer" in meta["aligner"]
    assert wg.corpus_wer(scored) == pytest.approx(4 / 6)


def test_score_keeps_counts_only_logs():
    log = wg.read_log(
        pd.DataFrame({"utt_id": ["a", "b"], "speaker_id": ["x", "y"], "errors": [1, 0], "ref_words": [5, 3]})
    )
    scored = wg.score(log)
    assert scored["errors"].tolist() == [1, 0]
    assert scored["substitutions"].isna().all()


def test_score_rejects_tables_without_text_or_counts():
    with pytest.raises(wg.InputError, match="neither text columns"):
        wg.score(pd.DataFrame({"utt_id": ["a"], "speaker_id": ["s"]}))
    assert "read it with wergap.read_log" in NO_TEXT_OR_COUNTS


def test_score_names_the_row_of_a_missing_reference():
    df = pd.DataFrame({"utt_id": ["a", "b"], "speaker_id": ["s", "s"], "ref": ["x", None], "hyp": ["x", "y"]})
    with pytest.raises(wg.InputError) as err:
        wg.score(df)
    assert err.value.row == 1 and err.value.column == "ref"
    assert MISSING_REF in str(err.value)


def test_parallel_and_chunked_paths_agree_with_serial(monkeypatch):
    rng = np.random.default_rng(0)
    vocab = np.array(["a", "b", "c", "d", "e"])
    refs = [" ".join(rng.choice(vocab, size=rng.integers(0, 8))) for _ in range(3000)]
    hyps = [" ".join(rng.choice(vocab, size=rng.integers(0, 8))) for _ in range(3000)]
    serial = align_counts(refs, hyps, n_jobs=1)
    monkeypatch.setattr("wergap.scoring.CHUNK", 700)
    parallel = align_counts(refs, hyps, n_jobs=2)
    pd.testing.assert_frame_equal(serial, parallel)
    log = pd.DataFrame({"utt_id": [str(i) for i in range(3000)], "speaker_id": "s", "ref": refs, "hyp": hyps})
    chunked = wg.score(log, progress=True, n_jobs=1)
    pd.testing.assert_frame_equal(chunked[list(serial.columns)], serial)


def test_unknown_normalisation_and_unit_are_input_errors():
    with pytest.raises(wg.InputError, match="unknown normalisation"):
        align_counts(["a"], ["a"], normalization="lower")
    with pytest.raises(wg.InputError, match="unknown unit"):
        align_counts(["a"], ["a"], unit="phone")


def test_speakers_sums_and_takes_typical_metadata():
    scored = wg.score(
        pd.DataFrame(
            {
                "utt_id": ["1", "2", "3", "4"],
                "speaker_id": ["s1", "s1", "s1", "s2"],
                "ref": ["a b c d", "a b", "", "x y"],
                "hyp": ["a b c", "a b", "z", "x y"],
                "lat": [40.0, 42.0, 41.0, 30.0],
                "zip": ["02134", "02134", "10001", None],
                "device": ["echo", "phone", "echo", "echo"],
            }
        )
    )
    spk = wg.speakers(scored).set_index("speaker_id")
    assert spk.loc["s1", "utterances"] == 3
    assert spk.loc["s1", "ref_words"] == 6 and spk.loc["s1", "errors"] == 2
    assert spk.loc["s1", "wer"] == pytest.approx(2 / 6)
    assert spk.loc["s1", "lat"] == 41.0
    assert spk.loc["s1", "zip"] == "02134" and spk.loc["s1", "device"] == "echo"
    assert pd.isna(spk.loc["s2", "zip"])
    assert "ref" not in spk.columns and "utt_id" not in spk.columns


def test_every_unicode_whitespace_is_a_word_boundary_every_time():
    # pyarrow's utf8_split_whitespace returned different tokens from run to run on
    # strings ending in multi-byte whitespace; scoring must be repeatable.
    import sys

    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    texts = [f"the{s}日本{s}" for s in spaces] + ["a  ß\u00a0", "ß  the "]
    expected = [" ".join(t.lower().split()) for t in texts]
    for _ in range(20):
        assert normalize(texts) == expected


def test_every_ascii_character_is_normalised_as_by_arrow():
    # The compiled splitter handles ASCII rows with its own byte table; Arrow's Unicode
    # kernels (what normalize() runs) must agree on every one of the 128 characters.
    refs = [f"Ab{chr(c)}Cd x{chr(c)}" for c in range(128)]
    expected = normalize(refs)
    counts = align_counts(refs, expected)
    assert counts["errors"].eq(0).all()
    assert counts["ref_words"].tolist() == [len(t.split()) for t in expected]


def test_long_utterances_leave_the_distance_shortcut_and_still_match_jiwer():
    # Pairs with many words on both sides skip the compiled DP (rapidfuzz aligns them).
    rng = np.random.default_rng(1)
    vocab = np.array(["a", "b", "c", "d"])
    refs = [" ".join(rng.choice(vocab, size=n)) for n in (70, 120, 300)]
    hyps = [" ".join(rng.choice(vocab, size=n)) for n in (90, 60, 280)]
    ours = align_counts(refs, hyps)
    for k, (r, h) in enumerate(zip(refs, hyps)):
        row = ours.iloc[k]
        assert (row.substitutions, row.deletions, row.insertions, row.hits) == jiwer_counts(r, h)


def test_long_character_sequences_match_jiwer_process_characters():
    rng = np.random.default_rng(2)
    alphabet = np.array(list("ab 日😀"))
    refs = ["".join(rng.choice(alphabet, size=n)) for n in (80, 150, 400)]
    hyps = ["".join(rng.choice(alphabet, size=n)) for n in (120, 70, 390)]
    ours = align_counts(refs, hyps, unit="char")
    for k, (r, h) in enumerate(zip(normalize(refs), normalize(hyps))):
        row = ours.iloc[k]
        assert (row.substitutions, row.deletions, row.insertions, row.hits) == jiwer_counts(r, h, "char")


def test_word_codes_past_the_unicode_range_fall_back_to_int_lists():
    from wergap.scoring import _align
    from wergap.scoring_numpy import code_strings as _sequences

    codes = np.array([5, 0xD800, 7, 5, 9], dtype=np.int32)
    row_start = np.array([0, 3, 5])
    as_text = _sequences(codes, row_start, np.array([0, 1]), vocabulary=10)
    as_ints = _sequences(codes, row_start, np.array([0, 1]), vocabulary=2_000_000)
    assert as_ints == [[5, 0xD800, 7], [5, 9]]
    assert all(isinstance(t, str) for t in as_text)
    assert np.array_equal(_align(([as_text[0]], [as_text[1]])), _align(([as_ints[0]], [as_ints[1]])))


def test_non_text_values_are_an_input_error():
    with pytest.raises(wg.InputError, match="must hold text"):
        align_counts([1, 2], ["a", "b"])
    with pytest.raises(wg.InputError, match="column 'ref'.*must hold text"):
        wg.score(pd.DataFrame({"utt_id": ["a", "b"], "speaker_id": "s", "ref": [1, 2], "hyp": ["1", "2"]}))
    # A hypothesis column with no value at all (read as float NaN) is all empty.
    all_missing = pd.DataFrame({"utt_id": ["a"], "speaker_id": "s", "ref": ["x y"], "hyp": [np.nan]})
    assert wg.score(all_missing)["deletions"].tolist() == [2]


@pytest.mark.parametrize("normalization", ["default", "none", "whisper", "kaldi"])
@settings(max_examples=60, deadline=None)
@given(st.lists(sentences(), min_size=0, max_size=12))
def test_normalized_words_are_normalize_split(normalization, texts):
    from wergap.scoring import normalize, normalized_words

    expected = [[w for w in t.split(" ") if w] for t in normalize(texts, normalization)]
    assert normalized_words(texts, normalization) == expected
