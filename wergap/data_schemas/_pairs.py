"""Decode logs kept as two files, references and hypotheses, keyed by utterance id.

sclite ``trn`` (``words (utt_id)`` per line) and Kaldi ``text`` (``utt_id words...`` per
line) differ only in how a line is split, so both are parsed line by line here (plain
Python is fast enough: one split per line) and paired by id in reference-file order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from wergap.data_schemas._tables import MALFORMED, Raw
from wergap.data_schemas._text import read_text, split_lines
from wergap.errors import InputError

TRN_MALFORMED = "expected 'words (utt_id)': no utterance id in parentheses at the end of the line"
TRN_ALTERNATION = (
    "sclite alternations are not supported; expand them to plain words before scoring "
    "(found {markup!r}: '{{a / b / @}}' alternatives and '(word)' optional words)"
)
KALDI_MALFORMED = "expected 'utt_id word word ...'"
UTT2SPK_MALFORMED = "expected 'utt_id speaker_id', found {found} fields"
DUPLICATE_ID = "duplicate utt_id {utt_id!r} (first at line {first})"
NO_HYPOTHESIS = "utt_id {utt_id!r} has a reference but no hypothesis in {other}"
NO_REFERENCE = "utt_id {utt_id!r} has a hypothesis but no reference in {other}"
NO_SPEAKER = "utt_id {utt_id!r} has no speaker in {other}"
NO_UTTERANCES = "no utterances: every line is blank"

DUPLICATE = "duplicate utt_id"
NO_HYP = "no hypothesis"
NO_REF = "no reference"
NO_SPK = "no speaker in utt2spk"

_TRN_MARKUP = re.compile(r"[{}()]")
_FIELDS = re.compile(r"[ \t]+")


@dataclass
class Entries:
    """The id → text lines of one file, in file order, with their line numbers."""

    file: str
    texts: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)

    def drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1


def parse_trn_line(line: str) -> tuple[str, str] | str:
    """``(utt_id, words)`` of a trn line, or the error message for it.

    The id is the last parenthesised group, at the end of the line. Plain string methods,
    not a regular expression: this runs once per line of logs with millions of lines.
    """
    stripped = line.rstrip(" \t")
    start = stripped.rfind("(")
    utt_id = stripped[start + 1 : -1].strip(" \t")
    if not stripped.endswith(")") or start < 0 or not utt_id or ")" in utt_id:
        return TRN_MALFORMED
    words = stripped[:start].strip(" \t")
    if "{" in words or "}" in words or "(" in words or ")" in words:
        markup = _TRN_MARKUP.search(words)
        assert markup is not None  # words holds one of its characters
        raise _Fatal(TRN_ALTERNATION.format(markup=_markup_around(words, markup.start())))
    return utt_id, words


def parse_kaldi_line(line: str) -> tuple[str, str] | str:
    """``(utt_id, words)`` of a Kaldi ``text`` line; an id alone is an empty transcript."""
    parts = _FIELDS.split(line.strip(" \t"), maxsplit=1)
    if not parts[0]:
        return KALDI_MALFORMED
    return parts[0], parts[1] if len(parts) > 1 else ""


def parse_utt2spk_line(line: str) -> tuple[str, str] | str:
    """``(utt_id, speaker_id)`` of a Kaldi ``utt2spk`` line."""
    parts = _FIELDS.split(line.strip(" \t"))
    if len(parts) != 2:
        return UTT2SPK_MALFORMED.format(found=len(parts))
    return parts[0], parts[1]


class _Fatal(ValueError):
    """A problem that ``drop_invalid`` must not hide (it concerns the whole file)."""


def _markup_around(words: str, at: int) -> str:
    start = words.rfind(" ", 0, at) + 1
    end = words.find(" ", at)
    if words[at] == "{":
        end = words.find("}", at) + 1 or len(words)
    return words[start : end if end > 0 else len(words)]


def read_entries(path: Path, parse: Callable[[str], tuple[str, str] | str], *, drop_invalid: bool) -> Entries:
    """Parse every non-blank line of ``path`` with ``parse``; duplicates keep the first."""
    file = str(path)
    entries = Entries(file)
    for number, line in enumerate(split_lines(read_text(path)), start=1):
        if not line.strip():
            continue
        try:
            parsed = parse(line)
        except _Fatal as err:
            raise InputError(str(err), file=file, row=number) from None
        if isinstance(parsed, str):
            if not drop_invalid:
                raise InputError(parsed, file=file, row=number)
            entries.drop(MALFORMED)
            continue
        utt_id, text = parsed
        if utt_id in entries.texts:
            if not drop_invalid:
                message = DUPLICATE_ID.format(utt_id=utt_id, first=entries.lines[utt_id])
                raise InputError(message, file=file, row=number)
            entries.drop(DUPLICATE)
            continue
        entries.texts[utt_id] = text
        entries.lines[utt_id] = number
    if not entries.texts and not entries.dropped:
        raise InputError(NO_UTTERANCES, file=file)
    return entries


def pair(ref: Entries, hyp: Entries, fmt: str, *, drop_invalid: bool, spk: Entries | None = None) -> Raw:
    """Join references and hypotheses (and speakers) by utt_id, in reference order."""
    dropped: dict[str, int] = {}
    for entries in (ref, hyp):
        for reason, n in entries.dropped.items():
            dropped[reason] = dropped.get(reason, 0) + n

    missing = [u for u in ref.texts if u not in hyp.texts]
    extra = [u for u in hyp.texts if u not in ref.texts]
    if missing and not drop_invalid:
        u = missing[0]
        raise InputError(NO_HYPOTHESIS.format(utt_id=u, other=hyp.file), file=ref.file, row=ref.lines[u])
    if extra and not drop_invalid:
        u = extra[0]
        raise InputError(NO_REFERENCE.format(utt_id=u, other=ref.file), file=hyp.file, row=hyp.lines[u])
    ids = [u for u in ref.texts if u in hyp.texts]
    no_speaker = [u for u in ids if spk is not None and u not in spk.texts]
    if spk is not None and no_speaker:  # empty without spk
        if not drop_invalid:
            u = no_speaker[0]
            raise InputError(NO_SPEAKER.format(utt_id=u, other=spk.file), file=ref.file, row=ref.lines[u])
        lost = set(no_speaker)
        ids = [u for u in ids if u not in lost]
    for reason, n in ((NO_HYP, len(missing)), (NO_REF, len(extra)), (NO_SPK, len(no_speaker))):
        if n:
            dropped[reason] = dropped.get(reason, 0) + n

    columns = {"utt_id": ids}
    if spk is not None:
        columns["speaker_id"] = [spk.texts[u] for u in ids]
    columns["ref"] = [ref.texts[u] for u in ids]
    columns["hyp"] = [hyp.texts[u] for u in ids]
    frame = pd.DataFrame({name: pd.Series(values, dtype="str") for name, values in columns.items()})
    lines = np.array([ref.lines[u] for u in ids], dtype=np.int64)
    # Rows: every utterance id seen in either file, plus each line skipped as malformed or
    # duplicate (utt2spk lines are not rows: that file only annotates them).
    rows_read = len(ids) + sum(dropped.values())
    sources = [ref.file, hyp.file] + ([spk.file] if spk else [])
    # Bad utt2spk lines skipped under drop_invalid are not utterances; their utterances
    # are counted under NO_SPK. Say how many there were all the same.
    notes = {"utt2spk_lines_skipped": sum(spk.dropped.values())} if spk and spk.dropped else {}
    return Raw(frame, sources, fmt, rows_read, lambda pos: (ref.file, int(lines[pos])), dropped, ref.file, notes)
