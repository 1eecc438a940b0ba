"""The conventions of wergap.normalization: outputs identical to the reference implementations."""

from __future__ import annotations

import re

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whisper_normalizer.basic import BasicTextNormalizer
from whisper_normalizer.english import EnglishTextNormalizer

import wergap as wg
from wergap.errors import InputError
from wergap.normalization import (
    BAD_DROP_PATTERN,
    CONVENTIONS,
    drop_matching_tokens,
    kaldi_normalized,
    python_normalized,
)
from wergap.scoring import NORMALIZATIONS, align_counts, normalize

from .english_text import real_texts, sentences

REFERENCE = {"whisper": EnglishTextNormalizer(), "basic": BasicTextNormalizer()}
_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",))
    | st.sampled_from(list(" '.,$%£¢0123456789[]<>()")),
    max_size=40,
)


def _corpus(shared_data_or_none, n: int) -> list[str]:
    real = real_texts(shared_data_or_none)
    return real + sentences(n, seed=1, real=real)


@pytest.fixture(scope="module")
def corpus(request) -> list[str]:
    try:
        data = request.getfixturevalue("shared_data")
    except pytest.skip.Exception:
        data = None
    return _corpus(data, 3000)


@pytest.mark.parametrize("name", ["whisper", "basic"])
def test_identical_to_the_package_on_real_and_generated_text(corpus, name):
    ours = python_normalized(corpus, name)
    ref = REFERENCE[name]
    bad = [(t, ref(t), o) for t, o in zip(corpus, ours) if ref(t) != o]
    assert not bad, bad[:5]


@pytest.mark.parametrize("name", ["whisper", "basic"])
@settings(max_examples=300, deadline=None)
@given(texts=st.lists(_TEXT, min_size=1, max_size=8))
def test_identical_to_the_package_on_any_text(name, texts):
    assert python_normalized(texts, name) == [REFERENCE[name](t) for t in texts]


def test_strings_holding_the_separator_and_cross_word_rules_go_to_the_package():
    texts = ["a\x00b It's", "he'd been here", "two and a half", "", "  ", "it 's got"]
    assert python_normalized(texts, "whisper") == [REFERENCE["whisper"](t) for t in texts]
    assert python_normalized(texts, "basic") == [REFERENCE["basic"](t) for t in texts]


@pytest.mark.slow
def test_identical_to_the_package_on_100k_strings(request):
    """Run with ``-m slow``: 100k+ real and generated strings against the package."""
    try:
        data = request.getfixturevalue("shared_data")
    except pytest.skip.Exception:
        data = None
    texts = _corpus(data, 100_000)
    for name in ("whisper", "basic"):
        ours = python_normalized(texts, name)
        ref = REFERENCE[name]
        bad = [t for t, o in zip(texts, ours) if ref(t) != o]
        assert not bad, (name, bad[:5])


KALDI_CASES = [
    ("It's C14-P1", "it's c14 p1"),
    ("<overlap> yes [noise] (%HESITATION) no", "yes no"),
    ("[background noise] ok", "ok"),
    ("'quoted' rock'n'roll don’t", "quoted rock'n'roll don't"),
    ("well-known e-mail", "well known e mail"),
    ("$5 <unk>", "$5"),
    ("Hello,\tworld!\u00a0Again", "hello world again"),
    ("(optional) word", "optional word"),
]


def test_kaldi_table():
    got = normalize([c for c, _ in KALDI_CASES], "kaldi")
    assert got == [e for _, e in KALDI_CASES]


def test_default_keeps_markup_and_joins_hyphens_as_documented():
    assert normalize(["It's C14-P1 <unk> [noise]"]) == ["its c14p1 <unk> noise"]


def test_every_convention_is_named_and_scores():
    assert set(NORMALIZATIONS) == set(CONVENTIONS)
    for name in NORMALIZATIONS:
        row = align_counts(["The cat's <unk> hat."], ["the cats hat"], normalization=name).iloc[0]
        assert row["ref_words"] >= 3


def test_drop_tokens_counts_and_provenance():
    log = pd.DataFrame(
        {
            "utt_id": ["u1", "u2", "u3"],
            "speaker_id": ["a", "a", "b"],
            "ref": ["hello <overlap> world", "{laugh} yes", "no"],
            "hyp": ["hello world", "yes {laugh}", "no {breath} {x}"],
        }
    )
    scored = wg.score(log, normalization="kaldi", drop_tokens=r"\{[^}]*\}")
    meta = scored.attrs["wergap"]
    assert meta["dropped_tokens"] == {"ref": 1, "hyp": 3}
    assert meta["drop_tokens"] == r"\{[^}]*\}"
    assert meta["normalization_detail"] == CONVENTIONS["kaldi"]
    assert scored["errors"].tolist() == [0, 0, 0]


def test_drop_tokens_keeps_untouched_strings_exactly():
    arr, n = drop_matching_tokens(pa.array(["a\tb", "x <y> z", None]), r"<y>")
    assert arr.to_pylist() == ["a\tb", "x z", None] and n == 1


def test_bad_drop_pattern_is_an_input_error():
    with pytest.raises(InputError, match=re.escape(BAD_DROP_PATTERN.split("{")[0])):
        drop_matching_tokens(pa.array(["a"]), "(")


def test_whisper_scoring_equals_jiwer_on_the_package_output(corpus):
    import jiwer

    refs, hyps = corpus[: len(corpus) // 2], corpus[len(corpus) // 2 : 2 * (len(corpus) // 2)]
    ours = align_counts(refs, hyps, normalization="whisper")
    norm = REFERENCE["whisper"]
    for k in range(0, len(refs), 37):
        r, h = norm(refs[k]), norm(hyps[k])
        if not r.split():
            continue
        out = jiwer.process_words(r, h)
        assert (ours.loc[k, "substitutions"], ours.loc[k, "deletions"], ours.loc[k, "insertions"]) == (
            out.substitutions,
            out.deletions,
            out.insertions,
        )


def test_kaldi_arrow_matches_documented_apostrophe_rule():
    out = kaldi_normalized(pa.array(["''a'' b''c 'd"])).to_pylist()[0].split()
    assert out == ["a", "b''c", "d"]
