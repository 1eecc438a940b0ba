"""wergap.whisper_english: every path of the batch Whisper normaliser equals the package."""

from __future__ import annotations

import os

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whisper_normalizer.english import EnglishTextNormalizer

from wergap.whisper_english import (
    APOSTROPHE_S,
    BEEN,
    DROP,
    HALF,
    REFERENCE,
    RUN,
    WHOLE,
    WhisperEnglish,
    _split_whitespace,
)

from .english_text import PHRASES, SPECIAL

REFERENCE_NORMALIZER = EnglishTextNormalizer()
WHITESPACE = [chr(c) for c in range(0x110000) if chr(c).isspace()]

#: Tokens aimed at each path: plain, runs (numbers, symbols, ordinal suffixes, cents),
#: dropped tokens, the whole-string passes (brackets, apostrophes, 's been), "half",
#: the package's own (marker characters), and Unicode case and whitespace.
TRICKY = (
    "'s 'd been gone done got gotten ' '' uh UH um hmm mm mhm uh-huh uh's um' 'uh "
    "$ % £ ¢ € . .. th st s nd rd s. th. - … half halfway behalf and a Σ ΑΣ ς e\u0301 \u0301 "
    "5 0 $0 $0.5 $0.05 ¢7 1s one ones oh double triple point per cent minus plus it's he's i'd "
    "let's y'all mr Mr. st. 1,000 3. .5 5. %5 5% $5% x$ $x x% ( ) (x) [ ] < > <x> [x] (%x) {x} "
    "\x00 \x01 \x02 İ ﬁ ² ½ ١ ٣٤ colour archaeology twenty-one first 5th Ⅻ \u200d s\u200d a1b2 sixty "
    "hundred thousand 'cause 'em o'clock"
).split(" ") + ["and a half", "'s been", "'d done", "'s got", "5 th", "x\u00a0y", "$2 and ¢7"]
VOCABULARY = SPECIAL + list(PHRASES) + TRICKY + "the a we went to see it was just like that".split()
SEPARATORS = [" ", " ", " ", "  ", "\t", "\n", "\u00a0", "\u3000", "\x1c", " \u2028 "]


@st.composite
def _utterance(draw) -> str:
    tokens = draw(st.lists(st.sampled_from(VOCABULARY), max_size=12))
    if tokens and draw(st.booleans()):
        tokens[0] = tokens[0] + draw(st.sampled_from(VOCABULARY))  # glued tokens
    seps = draw(st.lists(st.sampled_from(SEPARATORS), min_size=len(tokens) + 1, max_size=len(tokens) + 1))
    text = seps[0] * draw(st.booleans()) + "".join(t + s for t, s in zip(tokens, seps[1:]))
    case = draw(st.sampled_from(["as is", "upper", "title"]))
    return text.upper() if case == "upper" else text.title() if case == "title" else text


_TEXT = _utterance() | st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",))
    | st.sampled_from(list(" '.,$%£¢0123456789[]<>()")),
    max_size=40,
)


@settings(max_examples=int(os.environ.get("WERGAP_HYPOTHESIS_EXAMPLES", "400")), deadline=None)
@given(texts=st.lists(_TEXT, min_size=1, max_size=12))
def test_identical_to_the_package_on_token_soup(texts):
    """Batches of strings made of the tokens every path handles, with any whitespace."""
    assert WhisperEnglish()(texts) == [REFERENCE_NORMALIZER(t) for t in texts]


def test_warm_caches_give_the_same_output():
    texts = [" ".join(VOCABULARY[k : k + 7]) for k in range(0, len(VOCABULARY), 3)]
    normalizer = WhisperEnglish()
    first = normalizer(texts)
    assert normalizer(texts[::-1]) == first[::-1]
    assert first == [REFERENCE_NORMALIZER(t) for t in texts]


# (text, the bits its string gets): one case per path, checked against the package.
PATH_CASES = [
    ("hello world colour", 0),
    ("hello - world", DROP),
    ("uh hello", DROP),
    ("one - two", RUN | DROP),
    ("$ x", RUN),
    ("x $", RUN),
    ("x $a y", RUN),
    ("% x", RUN),
    ("x %", RUN),
    ("5 th", RUN),
    ("it is 5 s.", RUN),
    ("twenty one dollars and ¢7 please", RUN),
    ("$0 5 and $0.05", RUN),
    ("minus and x", RUN),
    ("[noise] two (laughs) <unk>", WHOLE | RUN),
    ("y 'all a 'x", WHOLE),
    ("x uh 'x", WHOLE | DROP),
    ("he's been there", APOSTROPHE_S | BEEN),
    ("he's uh been there", APOSTROPHE_S | BEEN | DROP),
    ("let's been", APOSTROPHE_S | BEEN),
    ("it's got it'd done", APOSTROPHE_S | BEEN),
    ("two and a half", RUN | HALF),
    ("x and a half and a half", RUN | HALF),
    ("and a half", RUN | HALF),
    ("a\x00b", REFERENCE),
    ("a\x02b one", REFERENCE | RUN),
]


@pytest.mark.parametrize(("text", "bits"), PATH_CASES, ids=[repr(t) for t, _ in PATH_CASES])
def test_each_path(text, bits):
    normalizer = WhisperEnglish()
    found = 0
    for token in text.split():
        found |= normalizer.token(token)[0]
    assert found == bits
    texts = [text, text.upper(), "one " + text + " x", "$ " + text + " %"]
    assert normalizer(texts) == [REFERENCE_NORMALIZER(t) for t in texts]


def test_lone_surrogates_go_to_the_package():
    texts = ["fine one", "bad \ud800 two", ""]
    assert WhisperEnglish()(texts) == [REFERENCE_NORMALIZER(t) for t in texts]


def test_split_is_str_split_for_every_code_point():
    """Token boundaries equal ``str.split()``'s for every character, in any position."""
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    texts = [f"a{c}b {c}" for c in chars] + [f"{c}x{c}{c}" for c in WHITESPACE]
    got = _split_whitespace(pa.array(texts, type=pa.large_string())).to_pylist()
    bad = [t for t, g in zip(texts, got) if [x for x in g if x] != t.split()]
    assert not bad, [repr(t) for t in bad[:5]]


@pytest.mark.parametrize("space", WHITESPACE, ids=lambda c: f"U+{ord(c):04X}")
def test_lowercase_never_looks_across_whitespace(space):
    """``str.lower`` is per character but for the final sigma, whose context stops at whitespace."""
    for text in (f"AΣ{space}B", f"A{space}ΣB", f"Σ{space}Σ", f"ΑΣ{space}"):
        assert text.lower() == space.join(t.lower() for t in text.split(space))


def test_full_caches_are_emptied_and_outputs_stay_identical(monkeypatch):
    import wergap.whisper_english as module

    monkeypatch.setattr(module, "CACHE_MAX", 50)
    normalizer = WhisperEnglish()
    first = [" ".join(VOCABULARY[k : k + 9]) for k in range(0, len(VOCABULARY), 4)]
    second = ["colour one two", "it's 5 th"]
    assert normalizer(first) == [REFERENCE_NORMALIZER(t) for t in first]
    assert normalizer(second) == [REFERENCE_NORMALIZER(t) for t in second]
    assert set(normalizer.tokens) == {"colour", "one", "two", "it's", "5", "th"}
