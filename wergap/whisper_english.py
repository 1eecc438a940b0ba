"""Whisper's English normaliser on many strings at once, output identical to the package's.

``whisper_normalizer.english.EnglishTextNormalizer`` rewrites one string at a time with
about fifty regular-expression passes (7k strings/s). Almost all of its work depends on
one whitespace-separated token at a time, so :class:`WhisperEnglish` does that work once
per distinct token, caches it, and runs the passes that look across tokens only where
they can act. For a batch of strings:

1. Arrow splits every string where ``str.split`` does (Unicode whitespace mapped to a
   space, then ``ascii_split_whitespace``; checked for every code point) and
   dictionary-encodes the tokens, so Python sees each distinct token once per batch,
   and works it once per process (cached).
2. Per distinct token (its *entry*): lowercase, the filler-word pass, then steps 5-8 of
   the reference (contractions, digit commas, periods, symbols and diacritics). Every
   one of these passes acts within a token, reading only whitespace or the string's
   ends around it, which look the same to ``\\b`` and ``$``: so they equal the passes
   over the whole string. ``str.lower`` is per character except for the Greek final
   sigma, whose context never crosses whitespace (checked for every whitespace
   character). A token is *plain* when what it becomes holds no digit, no number word
   of the number normaliser, none of ``.$¢€£%`` and does not start with an ordinal
   suffix (``st nd rd th s``): then steps 9-12 leave it as the spelling normaliser
   writes it, and its final text is cached too. A token that becomes nothing
   (``-``, ``uh``) is dropped: no later pass sees it, so it does not end a run either.
3. A string of plain tokens is their final texts joined by spaces (in Arrow). In any
   other string the non-plain tokens form *runs* between plain ones. The number
   normaliser treats a plain word exactly as the start or end of its input (it outputs
   it unchanged and resets its state; no prefix or ``skip`` can reach it), the currency
   and ``1`` passes match only digits, symbols and number words, and the last two passes
   read one character beyond a symbol, which is the space next to the run. So each run
   is normalised on its own by the reference's own number and spelling normalisers and
   final passes, with a space on either side where the string goes on (cached per run).
4. What needs the whole string goes the longer way: a token opening a bracket or a
   parenthesis, one starting with an apostrophe (``\\s+'`` glues it to the previous
   token), and a string holding both a token ending in ``'s``/``'d`` and one starting
   with ``been``/``gone``/``done``/``got`` (the reference rewrites ``'s been`` across the
   space). Those strings get steps 1-4 by regular expressions on the batch joined by NUL
   (no class can match NUL), each ``'s been``-style pair becomes one token, and steps 2-3
   follow on their tokens. A string with ``half`` in it (``two and a half``) is one run
   from end to end, which is exactly the reference's steps 9-12; a string holding a
   marker character (NUL, ``\\x01``, ``\\x02``) or a lone surrogate goes to the package.

``tests/test_whisper_english.py`` checks every path above against the package
(Hypothesis batches of tokens aimed at each), ``tests/test_normalization.py`` real and
generated text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from wergap.errors import InputError

WHISPER_MISSING = "normalisation {name!r} needs the whisper-normalizer package: pip install whisper-normalizer"

# Bits of a token's entry and of a string (the OR of its tokens').
RUN = 1  # not plain: part of a run the number normaliser must see
DROP = 2  # becomes nothing
WHOLE = 4  # needs steps 1-4 on the whole string
APOSTROPHE_S = 8  # ends in 's or 'd
BEEN = 16  # starts with been/gone/done/got
HALF = 32  # holds "half": the string is one run
REFERENCE = 64  # holds a character this module uses as a marker: the package does it

#: Entries cached per process before the caches are emptied (bounds memory).
CACHE_MAX = 2_000_000

_SEP = "\x00"
_JOIN = "\x01"  # joins an 's been-style pair into one token on the longer way
_MARK = "\x02"  # starts a run token's placeholder in a string's text
_MARKERS = (_SEP, _JOIN, _MARK)
_PLACEHOLDERS = re.compile("\x02[^ \x00]*(?: \x02[^ \x00]*)*")
_OPENERS = ("<", "[", "(")
_FILLER_HINTS = ("mm", "mh", "uh", "um")  # every filler word holds one of these
_KEEP = ".%$¢€£"
_PLAIN_EXCLUDED = frozenset(_KEEP)
_HAS_DIGIT = re.compile(r"\d")
_SUFFIX = re.compile(r"(?:st|nd|rd|th|s)\b")
# The reference's steps 1-4, with the NUL separator excluded from the classes that could
# otherwise run from one string into the next.
_BRACKETS = re.compile(r"[<\[][^>\]\x00]*[>\]]")
_PARENS = re.compile(r"\(([^)\x00]+?)\)")
_SPACE_APOSTROPHE = re.compile(r"\s+'")
# The pairs the reference rewrites across a space ("'s been" -> " has been"); joining a
# few more pairs than it rewrites is harmless (a token group is normalised as a whole).
_ACROSS = re.compile(r"'([sd]) (?=been|gone|done|got)")
_BEEN = ("been", "gone", "done", "got")
# The reference's steps 7 and 11-12, as it writes them.
_DIGIT_COMMA = re.compile(r"(\d),(\d)")
_PERIOD = re.compile(r"\.([^0-9]|$)")
_LONE_PREFIX = re.compile(r"[.$¢€£]([^0-9])")
_LONE_PERCENT = re.compile(r"([^0-9])%")
_WS = re.compile(r"\s+")
# Every character str.split() splits on that ascii_split_whitespace does not (RE2 syntax).
_UNICODE_WHITESPACE = r"[\x{1C}-\x{1F}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]"


def _split_whitespace(arr: pa.LargeStringArray) -> pa.LargeListArray:
    """Each string's tokens, split where ``str.split()`` splits (empty tokens may appear).

    Arrow's ``utf8_split_whitespace`` gives run-to-run different tokens on some strings
    ending in whitespace (pyarrow 26: a token keeps a trailing space), so the rows
    holding Unicode whitespace get it mapped to a space, then every row is split on
    ASCII whitespace (which never occurs inside a multi-byte UTF-8 character).
    """
    other = pc.invert(pc.string_is_ascii(arr))
    for c in "\x1c\x1d\x1e\x1f":
        other = pc.or_(other, pc.match_substring(arr, c))
    if pc.any(other).as_py():
        mapped = pc.replace_substring_regex(arr.filter(other), pattern=_UNICODE_WHITESPACE, replacement=" ")
        arr = pc.replace_with_mask(arr, other, mapped)
    return pc.ascii_split_whitespace(arr)


def _needed(pattern: str) -> str:
    """The text a ``\\bliteral\\b`` pattern cannot match without ("" for any other pattern)."""
    literal = pattern.removeprefix(r"\b").removesuffix(r"\b")
    return literal if re.fullmatch(r"[a-z' ]+", literal) else ""


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class WhisperEnglish:
    """Batch form of ``EnglishTextNormalizer``: same output, each distinct token worked once.

    Call it on a sequence of strings; it returns their normalised texts in order. Caches
    persist between calls (up to :data:`CACHE_MAX` entries).

    Examples
    --------
    >>> WhisperEnglish()(["It's twenty-five dollars.", "Colour [noise] uh"])
    ['it is $25', 'color']
    """

    def __init__(self) -> None:
        try:
            from whisper_normalizer.basic import remove_symbols_and_diacritics
            from whisper_normalizer.english import EnglishTextNormalizer
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise InputError(WHISPER_MISSING.format(name="whisper")) from exc
        self.reference = EnglishTextNormalizer()
        self.ignore = re.compile(self.reference.ignore_patterns)
        # Each contraction/title pass with the text it needs to match (skipped without it).
        self.replacers = [(_needed(p), re.compile(p), r) for p, r in self.reference.replacers.items()]
        self.remove_symbols = remove_symbols_and_diacritics
        self.numbers = self.reference.standardize_numbers
        self.number_words = frozenset(self.numbers.words)
        self.spellings = self.reference.standardize_spellings.mapping
        self.spell = self.reference.standardize_spellings
        self._clear()

    def _clear(self) -> None:
        self.tokens: dict[str, tuple[int, str, str]] = {}
        self.units: dict[str, tuple[int, str]] = {}
        self.words: dict[str, str] = {}
        self.runs: dict = {}  # placeholders -> steps 9-10; (placeholders, before, after) -> text

    # --- per distinct token -------------------------------------------------------------

    def word(self, unit: str) -> str:
        """Steps 5-8 of the reference on one token (or a joined 's-been pair), cached."""
        out = self.words.get(unit)
        if out is None:
            s = unit.replace(_JOIN, " ")
            for needed, pattern, replacement in self.replacers:
                if needed in s:
                    s = pattern.sub(replacement, s)
            if "," in s:
                s = _DIGIT_COMMA.sub(r"\1\2", s)
            if "." in s:
                s = _PERIOD.sub(r" \1", s)
            out = self.words[unit] = self.remove_symbols(s, keep=_KEEP)
        return out

    def _plain(self, word: str) -> bool:
        return word not in self.number_words and _HAS_DIGIT.search(word) is None and _PLAIN_EXCLUDED.isdisjoint(word)

    def unit(self, unit: str) -> tuple[int, str]:
        """(bits, text) of a token after steps 1-4, cached.

        The text is the token's final text if it is plain, its placeholder (``\\x02``
        and the token) if it belongs to a run, empty if it becomes nothing.
        """
        entry = self.units.get(unit)
        if entry is None:
            w = self.word(unit)
            words = w.split()
            if "half" in w:
                entry = (RUN | HALF, _MARK + unit)
            elif not words:
                entry = (DROP, "")
            elif _SUFFIX.match(words[0]) or not all(self._plain(x) for x in words):
                entry = (RUN, _MARK + unit)
            else:
                out = " ".join([self.spellings.get(x, x) for x in words])
                entry = (RUN, _MARK + unit) if not _PLAIN_EXCLUDED.isdisjoint(out) else (0, out)
            self.units[unit] = entry
        return entry

    def token(self, token: str) -> tuple[int, str, str]:
        """(bits, final text if plain, token after steps 1-4) of a raw token, cached."""
        entry = self.tokens.get(token)
        if entry is None:
            s = token.lower()
            if any(c in s for c in _MARKERS):
                entry = (REFERENCE, "", s)
            elif any(c in s for c in _OPENERS):
                entry = (WHOLE, "", s)
            else:
                if any(h in s for h in _FILLER_HINTS):
                    s = self.ignore.sub("", s)
                if s.startswith("'"):
                    entry = (WHOLE, "", s)
                elif not s:
                    entry = (DROP, "", s)
                else:
                    bits, out = self.unit(s)
                    if s.endswith(("'s", "'d")):
                        bits |= APOSTROPHE_S
                    if s.startswith(_BEEN):
                        bits |= BEEN
                    entry = (bits, out, s)
            self.tokens[token] = entry
        return entry

    # --- per string --------------------------------------------------------------------

    def run(self, units: tuple[str, ...], before: bool, after: bool) -> str:
        """Steps 9-12 of the reference on a run of tokens, with a space on either side
        where the string goes on."""
        s = self.spell(self.numbers(" ".join([self.words[u] for u in units])))
        return self._ends(s, before, after)

    @staticmethod
    def _ends(s: str, before: bool, after: bool) -> str:
        """Steps 11-12 (the only ones that see a run's neighbours) on a run's text."""
        s = (" " if before else "") + s + (" " if after else "")
        if _PLAIN_EXCLUDED.isdisjoint(s):
            return s  # neither pass can match; the text is single-spaced already
        s = _LONE_PREFIX.sub(r" \1", s)
        s = _LONE_PERCENT.sub(r"\1 ", s)
        return _WS.sub(" ", s)

    def _run_text(self, m: re.Match) -> str:
        s = m.string
        a, b = m.span()
        key = (m.group(), a > 0 and s[a - 1] != _SEP, b < len(s) and s[b] != _SEP)
        out = self.runs.get(key)
        if out is None:
            middle = self.runs.get(key[0])  # steps 9-10, the same whatever the neighbours
            if middle is None:
                units = key[0][1:].split(" " + _MARK)
                middle = self.runs[key[0]] = self.spell(self.numbers(" ".join([self.words[u] for u in units])))
            out = self.runs[key] = self._ends(middle, key[1], key[2])
        return out

    def _texts(self, arr: pa.Array, lookup) -> tuple[list[str], np.ndarray]:
        """Each string's text from its tokens' entries (``lookup(token)``), runs resolved,
        and each string's bits."""
        n = len(arr)
        lists = _split_whitespace(arr)
        offsets = lists.offsets.to_numpy()
        offsets = offsets - offsets[0]
        counts = np.diff(offsets)
        encoded = pc.dictionary_encode(lists.flatten())
        codes = encoded.indices.to_numpy()
        entries = [lookup(t) for t in encoded.dictionary.to_pylist()]
        bits_of = np.fromiter((e[0] for e in entries), dtype=np.uint8, count=len(entries))
        tok_bits = bits_of[codes]
        bits = np.zeros(n, dtype=np.uint8)
        filled = counts > 0
        if filled.any():
            bits[filled] = np.bitwise_or.reduceat(tok_bits, offsets[:-1][filled])
        # Every string's tokens' texts (a run token's is its placeholder) joined, in Arrow.
        keep = (tok_bits & DROP) == 0
        owner = np.repeat(np.arange(n), counts)
        kept = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner[keep], minlength=n), out=kept[1:])
        texts_of = pa.array([e[1] for e in entries], type=pa.large_string())
        joined = pa.LargeListArray.from_arrays(pa.array(kept), texts_of.take(pa.array(codes[keep])))
        out = pc.binary_join(joined, pa.scalar(" ", type=pa.large_string())).to_pylist()
        # Strings with runs: each run normalised on its own (cached).
        runs = np.flatnonzero((bits & (RUN | HALF | WHOLE | REFERENCE)) == RUN).tolist()
        if runs:
            s = _PLACEHOLDERS.sub(self._run_text, _SEP.join([out[k] for k in runs]))
            while "  " in s:
                s = s.replace("  ", " ")
            for k, text in zip(runs, s.split(_SEP)):
                out[k] = text
        # Strings holding "half": one run from end to end.
        for k in np.flatnonzero((bits & (HALF | WHOLE | REFERENCE)) == HALF).tolist():
            mine = [entries[c] for c in codes[offsets[k] : offsets[k + 1]].tolist()]
            units = tuple(e[2] for e in mine if not e[0] & DROP)
            out[k] = self.run(units, False, False) if units else ""
        return out, bits

    def _unit_entry(self, unit: str) -> tuple[int, str, str]:
        bits, text = self.unit(unit)
        return bits, text, unit

    def _whole(self, texts: list[str]) -> list[str]:
        """Strings that need steps 1-4 on the whole string (see the module docstring)."""
        s = _SEP.join(texts).lower()
        if "<" in s or "[" in s:
            s = _BRACKETS.sub("", s)
        if "(" in s:
            s = _PARENS.sub("", s)
        s = self.ignore.sub("", s)
        if "'" in s:
            s = _SPACE_APOSTROPHE.sub("'", s)
            s = _ACROSS.sub("'\\1" + _JOIN, s)
        return self._texts(pa.array(s.split(_SEP), type=pa.large_string()), self._unit_entry)[0]

    def __call__(self, texts: Sequence[str]) -> list[str]:
        texts = list(texts)
        if not texts:
            return []
        if len(self.tokens) + len(self.units) + len(self.runs) + len(self.words) > CACHE_MAX:
            self._clear()
        try:
            arr = pa.array(texts, type=pa.large_string())
            bad: list[int] = []
        except (UnicodeEncodeError, pa.ArrowException):
            bad = [k for k, t in enumerate(texts) if not _encodable(t)]
            skip = set(bad)
            arr = pa.array(["" if k in skip else t for k, t in enumerate(texts)], type=pa.large_string())
        tokens = self.tokens
        token = self.token
        out, bits = self._texts(arr, lambda t: tokens.get(t) or token(t))
        both = APOSTROPHE_S | BEEN
        whole = ((bits & WHOLE) != 0) | ((bits & both) == both)
        slow = set(bad) | set(np.flatnonzero(bits & REFERENCE).tolist())
        longer = [k for k in np.flatnonzero(whole).tolist() if k not in slow]
        if longer:
            for k, value in zip(longer, self._whole([texts[k] for k in longer])):
                out[k] = value
        for k in slow:
            out[k] = self.reference(texts[k])
        return out
