"""Text normalisation conventions for scoring, and fast implementations identical to the reference ones.

A WER means little without the convention behind it: on the same recognizer output the
field's conventions differ by several points (see ``docs/normalization.md``). wergap
offers the conventions people cite, each named so a report can say which one it used:

``default``
    lowercase (Unicode), delete every Unicode punctuation character (``\\p{P}``: ``.,?!'"-``
    and brackets, so ``it's`` -> ``its``, ``C14-P1`` -> ``c14p1``, ``[noise]`` -> ``noise``),
    fold every Unicode whitespace character to a space, split on whitespace. Symbols
    (``\\p{S}``: ``<>$%+``) are kept. Runs in Arrow and compiled code (``wergap.scoring``).
``none``
    jiwer's own default: runs of whitespace collapsed, case and punctuation kept.
``whisper``
    Whisper's English normaliser, output identical to
    ``whisper_normalizer.english.EnglishTextNormalizer`` (the Open ASR Leaderboard's
    convention): bracketed markup and fillers removed, contractions expanded, numbers
    and currencies written as digits, British spellings made American.
``basic``
    Whisper's language-agnostic normaliser, identical to
    ``whisper_normalizer.basic.BasicTextNormalizer()``: bracketed spans removed, NFKC,
    marks, symbols and punctuation to spaces, lowercase.
``kaldi``
    a Kaldi/sclite-style convention: lowercase; markup spans ``<...>``, ``[...]`` and
    ``(%...)`` removed (``<unk>``, ``[noise]``, ``(%hesitation)``); ``’`` folded to ``'``;
    every other punctuation character (hyphens included) becomes a space, except a run
    of apostrophes with a letter or digit on both sides (``it's``, ``o'clock`` kept);
    symbols kept; split on whitespace.

The reference implementations of ``whisper`` and ``basic`` run in Python, one string at a
time (7k strings/s for ``whisper``). ``whisper`` runs in :mod:`wergap.whisper_english`:
each distinct token's work done once and cached, strings split and joined in Arrow, runs
of number-like tokens normalised once each by the package's own number normaliser (the
reasoning that each step equals the reference is there). ``basic`` runs on a batch of
strings joined by NUL: each pass once per batch (its character classes exclude the NUL
separator, so no match crosses it). ``tests/test_normalization.py`` and
``tests/test_whisper_english.py`` check the outputs against the package itself on real,
generated and Hypothesis text. Strings holding a character used as a marker (NUL) go
through the package itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from wergap._strings import filled
from wergap.errors import InputError
from wergap.whisper_english import WHISPER_MISSING, WhisperEnglish

#: Each convention's one-line description, as reports and the CLI summary print it.
CONVENTIONS: dict[str, str] = {
    "default": "lowercase, Unicode punctuation deleted (it's -> its, a-b -> ab, [x] -> x), "
    "symbols kept, Unicode whitespace split",
    "none": "jiwer's default: whitespace runs collapsed, case and punctuation kept",
    "whisper": "Whisper English normaliser (whisper-normalizer EnglishTextNormalizer): markup "
    "and fillers removed, contractions expanded, numbers as digits, American spelling",
    "basic": "Whisper basic normaliser (whisper-normalizer BasicTextNormalizer): bracketed "
    "spans removed, NFKC, marks/symbols/punctuation to spaces, lowercase",
    "kaldi": "Kaldi/sclite style: lowercase, markup <...> [...] (%...) removed, punctuation "
    "and hyphens to spaces, apostrophes inside words kept, symbols kept",
}

BAD_DROP_PATTERN = "--drop-tokens: not a valid regular expression {pattern!r}: {error}"

#: Distinct strings per batch: bounds the memory of a batch's tokens.
BATCH = 50_000

_SEP = "\x00"
_WS = re.compile(r"\s+")
# The reference's bracket and parenthesis passes, with the separator excluded from the
# classes that could otherwise run from one string into the next.
_BRACKETS = re.compile(r"[<\[][^>\]\x00]*[>\]]")
_PARENS = re.compile(r"\(([^)\x00]+?)\)")


class _CharMap(dict):
    """A ``str.translate`` table that computes each character's image once, on first use."""

    def __init__(self, image):
        super().__init__()
        self.image = image

    def __missing__(self, code: int) -> str:
        value = self[code] = self.image(chr(code))
        return value


def _basic_char(c: str) -> str:
    return " " if unicodedata.category(c)[0] in "MSP" else c


class _Basic:
    """Batch form of ``BasicTextNormalizer()``: same output, one pass per step per batch."""

    def __init__(self) -> None:
        try:
            from whisper_normalizer.basic import BasicTextNormalizer
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise InputError(WHISPER_MISSING.format(name="basic")) from exc
        self.reference = BasicTextNormalizer()
        self.table = _CharMap(_basic_char)

    def __call__(self, texts: Sequence[str]) -> list[str]:
        texts = list(texts)
        slow = [k for k, t in enumerate(texts) if _SEP in t]
        s = _SEP.join(texts)
        s = s.lower()
        s = _BRACKETS.sub("", s)
        s = _PARENS.sub("", s)
        # NFKC composes and reorders only within a character and its combining marks;
        # NUL is a starter that composes with nothing, so no effect crosses it.
        s = unicodedata.normalize("NFKC", s).translate(self.table).lower()
        out = _WS.sub(" ", s).split(_SEP) if not slow else [self.reference(t) for t in texts]
        return out


@cache
def _batch_normalizer(name: str):
    return WhisperEnglish() if name == "whisper" else _Basic()


def python_normalized(texts: Sequence[str] | np.ndarray, name: str) -> list[str]:
    """``whisper`` or ``basic`` normalisation of each string, identical to the package's.

    Batches of :data:`BATCH` strings, in this process: forked worker processes were
    slower on the 2-core machine the benchmark ran on (each starts with cold caches and
    pickles its batch both ways), so there are none. Pass distinct strings: nothing is
    deduplicated here.
    """
    texts = list(texts)
    normalizer = _batch_normalizer(name)
    return [s for a in range(0, len(texts), BATCH) for s in normalizer(texts[a : a + BATCH])]


# --- kaldi: Arrow's RE2 kernels --------------------------------------------------------

#: Markup spans removed by ``kaldi``: ``<unk>``, ``[noise]``, ``(%hesitation)`` (no nesting).
KALDI_MARKUP = r"<[^<>]*>|\[[^\[\]]*\]|\(%[^()]*\)"
# Every whitespace character str.split() accepts (RE2 syntax), folded to one space.
_ALL_WHITESPACE = (
    r"[\t\n\x{0B}\f\r\x{1C}-\x{1F}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}"
    r"\x{202F}\x{205F}\x{3000}]"
)


def kaldi_normalized(arr: pa.Array) -> pa.Array:
    """The ``kaldi`` convention on a string array, in Arrow (see the module docstring).

    Returns text whose words are separated by spaces (any number); a run of apostrophes
    is kept only with a letter or digit on both sides.
    """
    s = pc.utf8_lower(arr)
    s = pc.replace_substring_regex(s, pattern=KALDI_MARKUP, replacement=" ")
    s = pc.replace_substring(s, pattern="\u2019", replacement="'")
    s = pc.replace_substring_regex(s, pattern=r"(^|[^\p{L}\p{N}'])'+", replacement=r"\1 ")
    s = pc.replace_substring_regex(s, pattern=r"'+([^\p{L}\p{N}']|$)", replacement=r" \1")
    s = pc.replace_substring_regex(s, pattern=r"[^\P{P}']", replacement=" ")
    return pc.replace_substring_regex(s, pattern=_ALL_WHITESPACE, replacement=" ")


# --- dispatch ---------------------------------------------------------------------------

#: Internal name: text already normalised by one of the conventions, words between spaces.
PRENORMALIZED = "_prenormalized"
_MULTI_SPACE = re.compile(r"\s\s+")


def _none(text: str) -> str:
    """jiwer's own default transform: collapse runs of 2+ whitespace, strip the ends."""
    return _MULTI_SPACE.sub(" ", text).strip()


def normalized_text(uniques: Sequence[str] | np.ndarray, name: str) -> pa.LargeStringArray:
    """Each string normalised by convention ``name`` (not ``default``), words between spaces.

    ``none`` is jiwer's own transform; ``whisper`` and ``basic`` equal the
    whisper-normalizer package's output; ``kaldi`` runs in Arrow. Pass distinct strings.
    """
    if name == PRENORMALIZED:
        return pa.array(uniques, type=pa.large_string())
    if name == "kaldi":
        return kaldi_normalized(pa.array(uniques, type=pa.large_string()))
    if name == "none":
        return pa.array([_none(t) for t in uniques], type=pa.large_string())
    return pa.array(python_normalized(uniques, name), type=pa.large_string())


def prenormalized(refs: pa.Array, hyps: pa.Array, name: str) -> tuple[pa.Array, pa.Array]:
    """Reference and hypothesis columns normalised by ``name``, each distinct string once.

    For the Python conventions (``whisper``, ``basic``) on a whole log: one pass over the
    distinct strings of both columns; missing text counts as empty.
    """
    n = len(refs)
    both = pc.dictionary_encode(pa.concat_arrays([filled(refs), filled(hyps)]))
    text = normalized_text(both.dictionary.to_pylist(), name).take(both.indices)
    return text[:n], text[n:]


# --- site-specific markup ------------------------------------------------------------------


def drop_matching_tokens(arr: pa.Array, pattern: str) -> tuple[pa.Array, int]:
    """Remove every whitespace-separated token that fully matches ``pattern`` (Python ``re``).

    Applied to the raw text before any normalisation, so markup is matched as written
    (``<overlap>``, ``[noise]``, ``{laugh}``). Each distinct string is handled once; a
    string with nothing dropped is kept exactly as it was. Returns the new array and the
    number of tokens dropped over all rows.
    """
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise InputError(BAD_DROP_PATTERN.format(pattern=pattern, error=exc)) from None
    distinct = pc.dictionary_encode(arr, null_encoding="encode")
    which = distinct.indices.to_numpy(zero_copy_only=False)
    uniques = distinct.dictionary.to_pylist()
    dropped = np.zeros(len(uniques), dtype=np.int64)
    out = [u if isinstance(u, str) else None for u in uniques]
    match = rx.fullmatch
    for k, text in enumerate(uniques):
        if not isinstance(text, str):
            continue
        tokens = text.split()
        kept = [t for t in tokens if not match(t)]
        if len(kept) != len(tokens):
            dropped[k] = len(tokens) - len(kept)
            out[k] = " ".join(kept)
    new = pa.array(out, type=pa.large_string()).take(pa.array(which))
    return new, int(dropped[which].sum())
