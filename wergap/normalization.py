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
time (7k strings/s for ``whisper``). Here they run on a batch of strings joined by NUL at
once: each regular-expression pass runs once per batch (its character classes exclude the
NUL separator, so no match crosses it), the per-word passes (contractions, symbol and
diacritic removal, spellings) run once per distinct word and are cached, and the number
normaliser runs once per distinct run of number-like words. The reasoning that each step
equals the reference is next to it; ``tests/test_normalization.py`` checks the outputs
against the package itself on real and generated text. Strings the fast path does not
cover (a NUL inside, ``and a half``, ``'s been``-style contractions spanning two words)
go through the package itself.
"""

from __future__ import annotations

import multiprocessing
import re
import unicodedata
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wergap.errors import InputError

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

WHISPER_MISSING = (
    "normalisation {name!r} needs the whisper-normalizer package: pip install whisper-normalizer"
)
BAD_DROP_PATTERN = "--drop-tokens: not a valid regular expression {pattern!r}: {error}"

#: Distinct strings per batch: bounds the joined string's memory and is a worker's task.
BATCH = 20_000
#: Fewer distinct strings than this are normalised in this process (a worker's start-up
#: would cost more than it saves).
PARALLEL_MIN = 40_000

_SEP = "\x00"
_SPLIT_SEP = re.compile(" ?\x00 ?")
_WS = re.compile(r"\s+")
# The reference's bracket and parenthesis passes, with the separator excluded from the
# classes that could otherwise run from one string into the next.
_BRACKETS = re.compile(r"[<\[][^>\]\x00]*[>\]]")
_PARENS = re.compile(r"\(([^)\x00]+?)\)")
_SPACE_APOSTROPHE = re.compile(r"\s+'")
# Contractions the reference rewrites across a space ("'s been" -> " has been"): such a
# string goes through the reference itself (the cached per-word pass cannot see them).
_ACROSS_WORDS = ("'d been", "'s been", "'d gone", "'s gone", "'d done", "'s got")
_AND_A_HALF = re.compile(r"\band\s+a\s+half\b")
_LETTER_DIGIT = re.compile(r"([a-z])([0-9])")
_DIGIT_LETTER = re.compile(r"([0-9])([a-z])")
_DIGIT_SUFFIX = re.compile(r"([0-9])\s+(st|nd|rd|th|s)\b")
_DIGIT_COMMA = re.compile(r"(\d),(\d)")
_PERIOD = re.compile(r"\.([^0-9]|$)")
_CENTS_COMBINE = re.compile(r"([€£$])([0-9]+) (?:and )?¢([0-9]{1,2})\b")
# The reference's "." (any character but a newline), without the separator.
_CENTS_EXTRACT = re.compile(r"[€£$]0[^\n\x00]([0-9]{1,2})\b")
_ONE = re.compile(r"\b1(s?)\b")
_LONE_PREFIX = re.compile(r"[.$¢€£]([^0-9\x00])")
_LONE_PERCENT = re.compile(r"([^0-9\x00])%")
_HAS_DIGIT = re.compile(r"\d")
_KEEP = ".%$¢€£"


def _combine_cents(m: re.Match) -> str:
    # The reference's combine_cents; its ValueError fallback cannot fire ([0-9] only).
    return f"{m.group(1)}{m.group(2)}.{int(m.group(3)):02d}"


def _extract_cents(m: re.Match) -> str:
    return f"¢{int(m.group(1))}"


class _CharMap(dict):
    """A ``str.translate`` table that computes each character's image once, on first use."""

    def __init__(self, image):
        super().__init__()
        self.image = image

    def __missing__(self, code: int) -> str:
        value = self[code] = self.image(chr(code))
        return value


class _Whisper:
    """Batch form of ``EnglishTextNormalizer``: same output, strings in batches, words cached."""

    def __init__(self) -> None:
        try:
            from whisper_normalizer.basic import remove_symbols_and_diacritics
            from whisper_normalizer.english import EnglishTextNormalizer
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise InputError(WHISPER_MISSING.format(name="whisper")) from exc
        self.reference = EnglishTextNormalizer()
        self.ignore = re.compile(self.reference.ignore_patterns)
        self.replacers = [(re.compile(p), r) for p, r in self.reference.replacers.items()]
        self.remove_symbols = remove_symbols_and_diacritics
        self.numbers = self.reference.standardize_numbers
        self.number_words = frozenset(self.numbers.words)
        self.spellings = self.reference.standardize_spellings.mapping
        self.words: dict[str, str] = {_SEP: _SEP}
        self.spelled: dict[str, str] = {_SEP: _SEP}
        self.plain: dict[str, bool] = {_SEP: True}
        self.runs: dict[tuple[str, ...], list[str]] = {}

    def word(self, token: str) -> str:
        """Steps 5-8 of the reference on one whitespace-free token (cached).

        Contractions, digit commas, periods and symbol/diacritic removal never match
        across whitespace (the cross-word contractions are routed to the reference), a
        token's edges are word boundaries on both sides, and whitespace they create only
        separates words for the number normaliser, which splits on any whitespace.
        """
        out = self.words.get(token)
        if out is None:
            s = token
            for pattern, replacement in self.replacers:
                s = pattern.sub(replacement, s)
            s = _DIGIT_COMMA.sub(r"\1\2", s)
            s = _PERIOD.sub(r" \1", s)
            s = self.remove_symbols(s, keep=_KEEP)
            # The number normaliser's first two passes act within a word too.
            s = _LETTER_DIGIT.sub(r"\1 \2", s)
            out = self.words[token] = _DIGIT_LETTER.sub(r"\1 \2", s)
        return out

    def spell(self, token: str) -> str:
        """``1`` -> ``one`` (within a word), then the British -> American spelling (cached)."""
        out = _ONE.sub(r"one\1", token)
        out = self.spelled[token] = self.spellings.get(out, out)
        return out

    def is_plain(self, token: str) -> bool:
        """True for a token the number normaliser passes through and that resets its state.

        ``process_words`` outputs a word that is neither numeric nor one of its number
        words unchanged (after flushing a pending number), and such a word as a neighbour
        acts exactly as the sequence's start or end (``prev``/``next`` None); it can never
        be swallowed by ``skip``. So the words between plain words can be normalised on
        their own, and cached.
        """
        plain = self.plain.get(token)
        if plain is None:
            plain = self.plain[token] = token not in self.number_words and not _HAS_DIGIT.search(token)
        return plain

    def number_run(self, run: tuple[str, ...]) -> list[str]:
        out = self.runs.get(run)
        if out is None:
            out = self.runs[run] = list(self.numbers.process_words(list(run)))
        return out

    def process_words(self, tokens: list[str]) -> list[str]:
        """``EnglishNumberNormalizer.process_words``: plain words kept, runs between them cached."""
        plain = self.plain
        special = [k for k, t in enumerate(tokens) if not plain.get(t) and not self.is_plain(t)]
        if not special:
            return tokens
        out: list[str] = []
        done = 0
        k = 0
        while k < len(special):
            start = end = special[k]
            while k + 1 < len(special) and special[k + 1] == end + 1:
                k += 1
                end += 1
            out += tokens[done:start]
            out += self.number_run(tuple(tokens[start : end + 1]))
            done = end + 1
            k += 1
        out += tokens[done:]
        return out

    def __call__(self, texts: Sequence[str]) -> list[str]:
        texts = list(texts)
        slow = {k for k, t in enumerate(texts) if _SEP in t}
        batch = _SEP.join(t for t in texts if _SEP not in t) if slow else _SEP.join(texts)
        kept = [k for k in range(len(texts)) if k not in slow] if slow else None
        # Steps 1-4 of the reference on the whole batch (a pass whose pattern needs a
        # character the batch lacks is skipped: it could not match).
        s = batch.lower()
        if "<" in s or "[" in s:
            s = _BRACKETS.sub("", s)
        if "(" in s:
            s = _PARENS.sub("", s)
        s = self.ignore.sub("", s)
        if "'" in s:
            s = _SPACE_APOSTROPHE.sub("'", s)
        across = [w for w in _ACROSS_WORDS if w in s]
        # Steps 5-8 (and the number normaliser's letter/digit spacing) per distinct
        # word; the separator becomes a word of its own.
        words = self.words
        word = self.word
        s = " ".join([words[t] if t in words else word(t) for t in s.replace(_SEP, " \x00 ").split()])
        # Step 9, the number normaliser: preprocess (its "and a half" rule by the
        # reference), words, postprocess.
        half = "half" in s and _AND_A_HALF.search(s) is not None
        s = _DIGIT_SUFFIX.sub(r"\1\2", s)
        s = " ".join(self.process_words(s.split()))
        if "¢" in s:
            s = _CENTS_COMBINE.sub(_combine_cents, s)
        if "0" in s:
            s = _CENTS_EXTRACT.sub(_extract_cents, s)
        # "1" -> "one" (the last postprocess pass, within a word) and step 10, spellings,
        # per distinct word.
        spelled = self.spelled
        spell = self.spell
        s = " ".join([spelled[w] if w in spelled else spell(w) for w in s.split()])
        # Steps 11-12. Only single spaces and separators are left, so "\s+" -> " " is
        # collapsing runs of spaces.
        s = s.replace(" \x00", _SEP).replace("\x00 ", _SEP)
        if any(c in s for c in ".$¢€£"):
            s = _LONE_PREFIX.sub(r" \1", s)
        if "%" in s:
            s = _LONE_PERCENT.sub(r"\1 ", s)
        while "  " in s:
            s = s.replace("  ", " ")
        out = s.split(_SEP)
        if kept is not None:
            full: list[str] = [""] * len(texts)
            for k, value in zip(kept, out):
                full[k] = value
            out = full
        if across or half:
            lowered = [t.lower() for t in texts]
            for k, t in enumerate(lowered):
                if (half and "half" in t) or (across and "'" in t and any(w[3:] in t for w in across)):
                    slow.add(k)
        for k in slow:
            out[k] = self.reference(texts[k])
        return out


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


@lru_cache(maxsize=None)
def _batch_normalizer(name: str):
    return _Whisper() if name == "whisper" else _Basic()


def _run_batch(name: str, texts: list[str]) -> list[str]:
    return _batch_normalizer(name)(texts)


def python_normalized(texts: Sequence[str], name: str, n_jobs: int = 1) -> list[str]:
    """``whisper`` or ``basic`` normalisation of each string, identical to the package's.

    Batches of :data:`BATCH` strings; with ``n_jobs > 1`` and at least
    :data:`PARALLEL_MIN` strings they run on ``n_jobs`` forked worker processes (the
    normaliser is pure Python, so threads would not help). Pass distinct strings:
    nothing is deduplicated here.
    """
    texts = list(texts)
    batches = [texts[a : a + BATCH] for a in range(0, len(texts), BATCH)]
    if n_jobs > 1 and len(texts) >= PARALLEL_MIN and "fork" in multiprocessing.get_all_start_methods():
        _batch_normalizer(name)  # built once here, inherited by the forked workers
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=min(n_jobs, len(batches)), mp_context=context) as pool:
            parts = list(pool.map(_run_batch, [name] * len(batches), batches))
    else:
        parts = [_run_batch(name, b) for b in batches]
    return [s for part in parts for s in part]


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


def normalized_text(uniques: Sequence[str] | np.ndarray, name: str, n_jobs: int = 1) -> pa.LargeStringArray:
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
    return pa.array(python_normalized(uniques, name, n_jobs), type=pa.large_string())


def prenormalized(refs: pa.Array, hyps: pa.Array, name: str, n_jobs: int) -> tuple[pa.Array, pa.Array]:
    """Reference and hypothesis columns normalised by ``name``, each distinct string once.

    For the Python conventions (``whisper``, ``basic``) on a whole log: one pass over the
    distinct strings of both columns, on ``n_jobs`` processes; missing text counts as empty.
    """
    n = len(refs)
    both = pa.concat_arrays([refs.fill_null(""), hyps.fill_null("")]).to_numpy(zero_copy_only=False)
    which, uniques = pd.factorize(both, use_na_sentinel=False)
    text = normalized_text(uniques, name, n_jobs).take(pa.array(which))
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
    values = arr.to_numpy(zero_copy_only=False)
    which, uniques = pd.factorize(values, use_na_sentinel=False)
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
