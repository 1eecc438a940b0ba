"""Read a decode log in any of the formats ASR teams keep, as wergap's utterance table.

:func:`read_log` is the one entry point. It reads CSV/TSV/JSON-lines/Parquet tables, NeMo
manifests, sclite ``trn`` pairs and Kaldi ``text``/``utt2spk`` files, renames the columns
other tools use to wergap's names (:mod:`wergap.data_schemas._columns`), and checks every
row against the contract in ``docs/architecture.md``. Bad input raises an
:class:`~wergap.data_schemas.InputError` naming the file, the line and the column; with
``drop_invalid=True`` the bad rows are dropped instead and counted, by reason, in the
table's provenance, so that ``rows_read == len(table) + sum(dropped.values())``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from wergap.data_schemas._columns import (
    COUNT_COLUMNS,
    SPLIT_COLUMNS,
    aliases_text,
    rename_map,
)
from wergap.data_schemas._pairs import (
    pair,
    parse_kaldi_line,
    parse_trn_line,
    parse_utt2spk_line,
    read_entries,
)
from wergap.data_schemas._tables import (
    NOT_PARQUET,
    Raw,
    from_frame,
    read_delimited,
    read_jsonl,
    read_parquet,
)
from wergap.data_schemas._text import LOG_EXTENSIONS, check_file, format_from_name, format_suffix, read_text
from wergap.data_schemas.zips import normalize_zip
from wergap.errors import InputError
from wergap.provenance import provenance, read_provenance

__all__ = [
    "FORMATS",
    "LOG_EXTENSIONS",
    "NOT_PARQUET",
    "format_from_name",
    "read_log",
    "speaker_regex",
    "validate_frame",
]

#: Formats ``read_log(format=...)`` accepts.
FORMATS = ("csv", "tsv", "jsonl", "parquet", "trn", "kaldi", "nemo")

UNKNOWN_FORMAT = "unknown log format {format!r}: accepted formats are " + ", ".join(FORMATS)
UNDETECTED_FORMAT = (
    "cannot tell the log format from the name {name!r}: pass format= (one of " + ", ".join(FORMATS) + ")"
)
NO_SOURCE = "nothing to read: pass a log file or DataFrame, or ref= and hyp= files"
SOURCE_AND_PAIR = "pass either a log (source) or ref=/hyp= files, not both"
PAIR_INCOMPLETE = "ref= and hyp= go together: pass both files"
PAIR_FORMAT = "format {format!r} is one file; ref=/hyp= pairs are 'trn' or 'kaldi'"
NEEDS_PAIR = "format {format!r} needs ref= and hyp= files (source must be None)"
UTT2SPK_NOT_KALDI = "utt2spk= is a Kaldi file; it goes with format 'kaldi'"
BAD_SOURCE = "source must be a path or a pandas DataFrame, not {kind}"
BAD_PATTERN = "speaker_pattern must be 'sclite' or a regular expression with exactly one group: {reason}"

MISSING_COLUMNS = (
    "missing required column(s) {missing}: a decode log needs 'ref' and 'hyp' text or "
    "'errors' (or per-utterance 'wer') and 'ref_words' counts; accepted names: {accepted} (or map yours with columns=)"
)
FOUND_COLUMNS = "; columns found: {found}"
WRONG_DELIMITER = "; the header looks {kind}-separated: pass format={fmt!r}"
MISSING_SPEAKER_COLUMN = "no speaker column and no utterance id to derive one from; accepted names: {accepted}"
MISSING_VALUE = "expected {what}, got an empty value"
DUPLICATE_UTT_ID = "duplicate utt_id {utt_id!r} (first at {first})"
NO_SPEAKER_IN_ID = (
    "cannot derive a speaker from utt_id {utt_id!r} with speaker_pattern '{pattern}'; "
    "add a speaker column (or utt2spk=) or pass another speaker_pattern"
)
WER_NOT_WHOLE = "wer {wer!r} x ref_words {words} = {product:.4g} errors, not within 0.01 of a whole number"
WER_LOOKS_PERCENT = (
    "column 'wer' holds {value!r}: it is read as a fraction of the reference words (0.25 = 25 %); "
    "divide percentages by 100 first"
)
NOT_TEXT = (
    "expected text, got {kind} {value!r}: a transcript column holds words (word counts go in 'ref_words' and 'errors')"
)
SPLIT_OVER_WORDS = (
    "substitutions + deletions = {total} but ref_words = {words}: a reference of {words} words "
    "cannot have more substituted and deleted words"
)
#: Largest per-utterance WER read as a fraction; above it a 'wer' column looks like percentages.
WER_FRACTION_MAX = 5.0
WER_ERRORS = "wer x ref_words not whole"
SPEAKERS_FROM_IDS_ONE = (
    "speakers derived from utt_id ({rule}) give {speakers} speaker(s) for {utterances:,} utterances: "
    "add a speaker column, utt2spk=, or another speaker_pattern"
)
SPEAKERS_FROM_IDS_ALL = (
    "speakers derived from utt_id ({rule}) give one speaker per utterance ({utterances:,}): "
    "add a speaker column, utt2spk=, or another speaker_pattern"
)
#: Logs this small may have one utterance per speaker; larger ones with derived speakers may not.
MIN_UTTERANCES_PER_SPEAKER_CHECK = 10
SCLITE_RULE = "the part before the first '-', else before the first '_'"
BAD_COUNT = "expected a non-negative whole number of words, got {value!r}"
SPLIT_MISMATCH = "substitutions + deletions + insertions = {total} but errors = {errors}: the counts disagree"
NOT_A_NUMBER = "expected a number in decimal degrees, got {value!r}"
OUT_OF_RANGE = "{value!r} is outside {low}..{high} degrees"

# Drop reasons (keys of provenance["dropped"]).
MISSING_UTT_ID = "missing utt_id"
DUPLICATE = "duplicate utt_id"
MISSING_SPEAKER = "missing speaker_id"
NO_SPEAKER = "no speaker in utt_id"
MISSING_REFERENCE = "missing reference"
INVALID_COUNTS = "invalid counts"
INVALID_TEXT = "transcript not text"
INVALID_COORDINATES = "invalid coordinates"

_NEMO_FIELDS = {"audio_filepath", "text", "pred_text"}
_SCLITE = "sclite"
_COORDINATES = {"lat": (-90.0, 90.0), "lon": (-180.0, 180.0)}


def read_log(
    source: str | Path | pd.DataFrame | None = None,
    *,
    format: str | None = None,  # noqa: A002 - the CLI flag is --format
    ref: str | Path | None = None,
    hyp: str | Path | None = None,
    utt2spk: str | Path | None = None,
    speaker_pattern: str = _SCLITE,
    drop_invalid: bool = False,
    columns: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Read a decode log as wergap's utterance table, checking every row.

    Parameters
    ----------
    source : str, Path or DataFrame, optional
        A table log (``.csv``, ``.tsv``/``.txt`` with a tab header, ``.jsonl``/``.json``
        JSON lines, NeMo manifest, ``.parquet``/``.pq``) or an in-memory DataFrame. Leave
        it ``None`` for two-file logs given as ``ref=``/``hyp=``.
    format : {"csv", "tsv", "jsonl", "parquet", "trn", "kaldi", "nemo"}, optional
        Detected from the file name (and, for ref/hyp pairs, the first lines) when omitted.
    ref, hyp : str or Path, optional
        sclite ``trn`` files (``words (utt_id)`` per line) or Kaldi ``text`` files
        (``utt_id words...``) holding references and hypotheses; paired by utterance id.
    utt2spk : str or Path, optional
        Kaldi ``utt2spk`` (``utt_id speaker_id``). Without it the speaker comes from the
        utterance id (see ``speaker_pattern``).
    speaker_pattern : str, default "sclite"
        How to find the speaker in an utterance id when the log has no speaker column:
        ``"sclite"`` takes the part before the first ``-`` (before the first ``_`` when
        there is no ``-``), as sclite's ``-i rm`` and ESPnet's ``(<spk>-<uttid>)`` ids do;
        any other value is a regular expression with one group, searched in each id.
    drop_invalid : bool, default False
        Drop bad rows and count them by reason in ``provenance(df)["dropped"]`` instead of
        raising. Problems with the whole file (format, encoding, missing columns, sclite
        alternations) still raise.
    columns : mapping, optional
        ``{their_name: our_name}`` applied before the built-in aliases, e.g.
        ``{"wordcount": "ref_words"}``.

    Returns
    -------
    pandas.DataFrame
        One row per utterance, in file order, ``RangeIndex``: ``utt_id`` (unique str),
        ``speaker_id`` (str), ``ref`` and ``hyp`` (str; a missing hypothesis is ``""``)
        and/or ``errors``, ``ref_words`` (int64) with optional ``substitutions``,
        ``deletions``, ``insertions``; optional ``lat``, ``lon`` (float64), ``zip``
        (5-digit str or NaN), ``audio``, ``system`` (str); other columns as read.
        ``df.attrs["wergap"]`` holds ``sources``, ``format``, ``rows_read``, ``dropped``,
        and, when they apply, ``invalid_zip``, ``renamed``, ``utt_id_from`` and
        ``speaker_from``.

    Raises
    ------
    InputError
        Bad input, naming the file, the 1-based line (for a DataFrame, the 0-based row)
        and the column.

    Examples
    --------
    >>> import pandas as pd
    >>> log = read_log(pd.DataFrame({"id": ["spk1-a", "spk1-b"], "reference": ["hi", "yo"],
    ...                              "hypothesis": ["hi", None]}))
    >>> log[["utt_id", "speaker_id", "ref", "hyp"]].values.tolist()
    [['spk1-a', 'spk1', 'hi', 'hi'], ['spk1-b', 'spk1', 'yo', '']]
    """
    pattern = speaker_regex(speaker_pattern)
    raw = _read_raw(source, format, ref, hyp, utt2spk, columns, drop_invalid)
    return _Validator(raw, columns, pattern, speaker_pattern, drop_invalid).run()


def validate_frame(
    frame: pd.DataFrame,
    *,
    source: str | None = None,
    first_row: int = 0,
    format: str | None = None,  # noqa: A002 - as read_log's format=
    speaker_pattern: str = _SCLITE,
    drop_invalid: bool = False,
    columns: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Check a slice of a decode log already in memory, as :func:`read_log` checks a file.

    For readers that split a log into partitions themselves (the Dask engine reads a
    Parquet file by row groups): every check, rename and provenance entry of
    :func:`read_log`, with errors naming the partition's file and the row's position in
    that file rather than in the slice.

    Parameters
    ----------
    frame : DataFrame
        The rows as read, with the log's own column names (aliases are mapped here).
    source : str, optional
        The file the rows come from. Errors then say ``(row N)`` with ``N`` the 0-based
        row of the file (files without line numbers, such as Parquet). ``None``: an
        in-memory table, whose errors name the row position as :func:`read_log` does.
    first_row : int, default 0
        The file's row number of ``frame``'s first row.
    format : str, optional
        Recorded as the provenance's ``format`` (``"nemo"`` also derives a missing
        ``utt_id`` from the audio file name). Default: ``"parquet"`` with a ``source``,
        ``"dataframe"`` without.
    speaker_pattern, drop_invalid, columns
        As :func:`read_log`.

    Returns
    -------
    pandas.DataFrame
        The utterance table :func:`read_log` would return for these rows, ``RangeIndex``,
        with its provenance in ``attrs["wergap"]`` (``rows_read`` is ``len(frame)``).

    Raises
    ------
    InputError
        A bad row (naming the file, the row and the column) or a missing column.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"id": ["spk1-a"], "reference": ["hi"], "hypothesis": ["ho"]})
    >>> validate_frame(rows, source="part-0.parquet", first_row=500)["speaker_id"].tolist()
    ['spk1']
    """
    pattern = speaker_regex(speaker_pattern)
    frame = frame.reset_index(drop=True)
    if source is None:
        raw = Raw(frame, ["<DataFrame>"], format or "dataframe", len(frame), lambda pos: (None, pos + first_row))
    else:
        raw = Raw(frame, [source], format or "parquet", len(frame), lambda pos: (source, None), {}, source)
    return _Validator(raw, columns, pattern, speaker_pattern, drop_invalid, row_offset=first_row).run()


# --------------------------------------------------------------------------- reading


def _read_raw(source, fmt, ref, hyp, utt2spk, columns, drop_invalid) -> Raw:
    if fmt is not None and fmt not in FORMATS:
        raise InputError(UNKNOWN_FORMAT.format(format=fmt))
    if ref is not None or hyp is not None:
        if source is not None:
            raise InputError(SOURCE_AND_PAIR)
        if ref is None or hyp is None:
            raise InputError(PAIR_INCOMPLETE)
        return _read_pair(Path(ref), Path(hyp), utt2spk, fmt, drop_invalid)
    if utt2spk is not None:
        raise InputError(UTT2SPK_NOT_KALDI)
    if source is None:
        raise InputError(NO_SOURCE)
    if fmt in ("trn", "kaldi"):
        raise InputError(NEEDS_PAIR.format(format=fmt))
    if isinstance(source, pd.DataFrame):
        return from_frame(source)
    if not isinstance(source, (str, Path)):
        raise InputError(BAD_SOURCE.format(kind=type(source).__name__))
    path = Path(source)
    check_file(path)
    fmt = fmt or _detect_table(path)
    if fmt in ("csv", "tsv"):
        return read_delimited(path, sep="," if fmt == "csv" else "\t", columns=columns, drop_invalid=drop_invalid)
    if fmt == "parquet":
        return read_parquet(path)
    raw = read_jsonl(path, drop_invalid=drop_invalid, fmt=fmt)
    if fmt == "jsonl" and _NEMO_FIELDS <= {str(c).lower() for c in raw.frame.columns}:
        raw.format = "nemo"
    return raw


def _detect_table(path: Path) -> str:
    suffix = format_suffix(path)
    if suffix in LOG_EXTENSIONS:
        fmt = LOG_EXTENSIONS[suffix]
        if fmt == "trn":
            raise InputError(NEEDS_PAIR.format(format="trn"), file=str(path))
        return fmt
    if suffix == ".txt":
        first = read_text(path).split("\n", 1)[0]
        if "\t" in first:
            return "tsv"
    raise InputError(UNDETECTED_FORMAT.format(name=path.name), file=str(path))


def _read_pair(ref: Path, hyp: Path, utt2spk, fmt, drop_invalid) -> Raw:
    if fmt is not None and fmt not in ("trn", "kaldi"):
        raise InputError(PAIR_FORMAT.format(format=fmt))
    if fmt is None:
        fmt = "trn" if ".trn" in (format_suffix(ref), format_suffix(hyp)) else _sniff_pair(ref)
    if utt2spk is not None and fmt != "kaldi":
        raise InputError(UTT2SPK_NOT_KALDI)
    parse = parse_trn_line if fmt == "trn" else parse_kaldi_line
    refs = read_entries(ref, parse, drop_invalid=drop_invalid)
    hyps = read_entries(hyp, parse, drop_invalid=drop_invalid)
    spk = None
    if utt2spk is not None:
        spk = read_entries(Path(utt2spk), parse_utt2spk_line, drop_invalid=drop_invalid)
    return pair(refs, hyps, fmt, drop_invalid=drop_invalid, spk=spk)


def _sniff_pair(ref: Path) -> str:
    """trn when the first lines all end in ``(id)``, else Kaldi ``text``."""
    head = [line for line in read_text(ref).split("\n", 50)[:50] if line.strip()][:5]
    return "trn" if head and all(_trn_like(line) for line in head) else "kaldi"


def _trn_like(line: str) -> bool:
    try:
        return isinstance(parse_trn_line(line), tuple)
    except ValueError:  # sclite alternation markup: trn all the same (read_entries says so)
        return True


def speaker_regex(speaker_pattern: str) -> re.Pattern | None:
    """The compiled ``speaker_pattern`` of :func:`read_log`, checked.

    Parameters
    ----------
    speaker_pattern : str
        ``"sclite"`` or a regular expression with exactly one group.

    Returns
    -------
    re.Pattern or None
        ``None`` for ``"sclite"`` (the speaker is the part of the id before the first
        ``-``, or ``_``).

    Raises
    ------
    InputError
        Not a regular expression, or not exactly one group.
    """
    if speaker_pattern == _SCLITE:
        return None
    try:
        regex = re.compile(speaker_pattern)
    except (re.error, TypeError) as err:
        raise InputError(BAD_PATTERN.format(reason=err)) from None
    if regex.groups != 1:
        raise InputError(BAD_PATTERN.format(reason=f"{speaker_pattern!r} has {regex.groups}"))
    return regex


# --------------------------------------------------------------------------- validation


class _Validator:
    """Checks a raw table row by row (vectorised), raising at or dropping bad rows."""

    def __init__(self, raw, columns, pattern, speaker_pattern, drop_invalid, row_offset=0):
        self.raw = raw
        self.row_offset = row_offset  # the file's row of raw.frame's first row
        self.columns = columns
        self.pattern = pattern
        self.speaker_pattern = speaker_pattern
        self.drop_invalid = drop_invalid
        self.dropped = dict(raw.dropped)
        self.notes = dict(raw.notes)
        self.notes.pop("row_positions", None)

    def run(self) -> pd.DataFrame:
        raw = self.raw
        renames = rename_map(raw.frame.columns, self.columns, file=raw.file)
        self.original = {ours: theirs for theirs, ours in renames.items()}
        df = raw.frame.rename(columns=renames)
        self.df = df
        self.keep = np.ones(len(df), dtype=bool)
        self._require_columns()
        self._utt_ids()
        self._speakers()
        self._texts()
        self._errors_from_wer()
        self._counts()
        self._coordinates()
        self._strings()
        out = df.loc[self.keep].reset_index(drop=True) if not self.keep.all() else df
        provenance(out).update(
            read_provenance(raw.sources, raw.format, raw.rows_read, self.dropped, renames, self.notes)
        )
        return out

    # -- helpers

    def _where(self, pos: int, column: str | None) -> dict:
        file, line = self.raw.locate(pos)
        theirs = self.original.get(column, column) if column else None
        return {"file": file, "row": line, "column": theirs}

    def _error(self, message: str, pos: int, column: str | None) -> InputError:
        where = self._where(pos, column)
        if where["file"] is not None and where["row"] is None:  # Parquet: rows, not lines
            message = f"{message} (row {pos + self.row_offset})"
        return InputError(message, **where)

    def _reject(self, bad: np.ndarray, reason: str, column: str, message: Callable[[int], str]) -> None:
        """Raise at the first ``bad`` kept row, or drop the bad kept rows under ``reason``."""
        bad = np.asarray(bad, dtype=bool) & self.keep
        if not bad.any():
            return
        if not self.drop_invalid:
            pos = int(np.flatnonzero(bad)[0])
            raise self._error(message(pos), pos, column)
        self.dropped[reason] = self.dropped.get(reason, 0) + int(bad.sum())
        self.keep &= ~bad

    @staticmethod
    def _missing(values: pd.Series) -> np.ndarray:
        missing = values.isna().to_numpy(dtype=bool, copy=True)
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            text = values.astype("str")
            missing |= (text.str.strip() == "").fillna(True).to_numpy(dtype=bool)
        return missing

    # -- checks

    def _require_columns(self) -> None:
        df = self.df
        has_text = "ref" in df and "hyp" in df
        has_counts = ("errors" in df or "wer" in df) and "ref_words" in df
        if has_text or has_counts:
            return
        if "ref" in df or "hyp" in df:
            missing = ["hyp" if "ref" in df else "ref"]
        elif "errors" in df or "ref_words" in df:
            missing = ["ref_words" if "errors" in df else "errors"]
        else:
            missing = ["ref", "hyp"]
        accepted = "; ".join(aliases_text(name) for name in missing)
        found = [str(self.original.get(c, c)) for c in df.columns]
        message = MISSING_COLUMNS.format(missing=", ".join(map(repr, missing)), accepted=accepted)
        message += FOUND_COLUMNS.format(found=", ".join(map(repr, found[:12])) + (", ..." if len(found) > 12 else ""))
        if len(found) == 1:
            for sep, kind, fmt in (("\t", "tab", "tsv"), (",", "comma", "csv")):
                if sep in found[0]:
                    message += WRONG_DELIMITER.format(kind=kind, fmt=fmt)
                    break
        raise InputError(message, file=self.raw.file)

    def _utt_ids(self) -> None:
        df = self.df
        if "utt_id" not in df:
            if self.raw.format == "nemo" and "audio" in df:
                ids = df["audio"].astype("str").str.extract(r"([^/\\]+?)(?:\.[^./\\]*)?$")[0]
                self.notes["utt_id_from"] = "audio file name (NeMo manifest)"
            else:
                if "speaker_id" not in df:
                    raise InputError(
                        MISSING_SPEAKER_COLUMN.format(accepted=aliases_text("speaker_id")),
                        file=self.raw.file,
                    )
                stem = Path(self.raw.file).stem if self.raw.file else "dataframe"
                ids = pd.Series([f"{stem}:{i}" for i in range(len(df))], dtype="str")
                self.notes["utt_id_from"] = f"synthesised as '{stem}:<row>' (0-based data row)"
            df.insert(0, "utt_id", ids)
        self._reject(
            self._missing(df["utt_id"]),
            MISSING_UTT_ID,
            "utt_id",
            lambda pos: MISSING_VALUE.format(what="an utterance id"),
        )
        ids = df["utt_id"].astype("str")
        df["utt_id"] = ids
        kept = ids[self.keep]
        dup = kept.duplicated(keep="first")
        if dup.any():
            bad = np.zeros(len(df), dtype=bool)
            bad[dup.index[dup.to_numpy()]] = True
            first_pos = kept.drop_duplicates(keep="first")
            first_of = pd.Series(first_pos.index, index=first_pos.to_numpy())

            def message(pos: int) -> str:
                first = int(first_of[ids.iloc[pos]])
                file, line = self.raw.locate(first)
                where = f"line {line}" if line is not None else f"row {first}"
                return DUPLICATE_UTT_ID.format(utt_id=ids.iloc[pos], first=where)

            self._reject(bad, DUPLICATE, "utt_id", message)

    def _speakers(self) -> None:
        df = self.df
        if "speaker_id" in df:
            self._reject(
                self._missing(df["speaker_id"]),
                MISSING_SPEAKER,
                "speaker_id",
                lambda pos: MISSING_VALUE.format(what="a speaker id"),
            )
            df["speaker_id"] = df["speaker_id"].astype("str")
            self.notes.setdefault("speaker_from", "column")
            return
        ids = df["utt_id"]
        if self.pattern is None:
            speakers = ids.str.extract(r"^([^-]+)-", expand=False)
            speakers = speakers.fillna(ids.str.extract(r"^([^_]+)_", expand=False))
        else:
            speakers = ids.str.extract(self.pattern, expand=False)
        speakers = speakers.astype("str")
        no_speaker = (speakers.isna() | (speakers == "")).to_numpy()
        self._reject(
            no_speaker,
            NO_SPEAKER,
            "utt_id",
            lambda pos: NO_SPEAKER_IN_ID.format(utt_id=ids.iloc[pos], pattern=self.speaker_pattern),
        )
        df.insert(1, "speaker_id", speakers)
        self.notes["speaker_from"] = f"utt_id, speaker_pattern '{self.speaker_pattern}'"

    def _texts(self) -> None:
        df = self.df
        for name in ("ref", "hyp"):
            if name in df:
                not_text = _not_text(df[name])

                def not_text_message(pos: int, v: pd.Series = df[name]) -> str:
                    return NOT_TEXT.format(kind=_kind(v.iloc[pos]), value=_plain(v.iloc[pos]))

                self._reject(not_text, INVALID_TEXT, name, not_text_message)
        if "ref" in df:
            self._reject(
                df["ref"].isna().to_numpy(),
                MISSING_REFERENCE,
                "ref",
                lambda pos: MISSING_VALUE.format(what="reference text"),
            )
            df["ref"] = df["ref"].astype("str")
        if "hyp" in df:
            df["hyp"] = df["hyp"].astype("str").fillna("")

    def _errors_from_wer(self) -> None:
        """Published per-utterance WER (``wer`` + ``ref_words``) as error counts: round(wer x ref_words)."""
        df = self.df
        if "errors" in df or "wer" not in df or "ref_words" not in df or ("ref" in df and "hyp" in df):
            return
        words = pd.to_numeric(df["ref_words"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        wer = pd.to_numeric(df["wer"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            high = np.flatnonzero(np.isfinite(wer) & (wer > WER_FRACTION_MAX))
            if high.size:
                raise self._error(WER_LOOKS_PERCENT.format(value=_plain(df["wer"].iloc[high[0]])), int(high[0]), "wer")
            product = wer * words
            errors = np.round(product)
            bad = np.isfinite(words) & ~(np.isfinite(product) & (np.abs(product - errors) <= 0.01) & (wer >= 0))
        self._reject(
            bad,
            WER_ERRORS,
            "wer",
            lambda pos: WER_NOT_WHOLE.format(
                wer=_plain(df["wer"].iloc[pos]), words=_plain(df["ref_words"].iloc[pos]), product=product[pos]
            ),
        )
        df["errors"] = np.where(bad, np.nan, errors)
        self.notes["errors_from"] = "wer x ref_words"

    def _counts(self) -> None:
        df = self.df
        numbers = {}
        for name in COUNT_COLUMNS:
            if name not in df:
                continue
            values = df[name]
            blank = self._missing(values)
            num = pd.to_numeric(values.where(~blank), errors="coerce")
            num = num.to_numpy(dtype="float64", na_value=np.nan)
            required = name in ("errors", "ref_words")
            with np.errstate(invalid="ignore"):
                bad = ~np.isnan(num) & ((num < 0) | (num != np.floor(num)) | ~np.isfinite(num))
            bad |= ~blank & np.isnan(num)
            if required:
                bad |= blank

            def count_message(pos: int, v: pd.Series = values, b: np.ndarray = blank) -> str:
                return _count_message(v, b, pos)

            self._reject(bad, INVALID_COUNTS, name, count_message)
            numbers[name] = num
        if all(name in numbers for name in SPLIT_COLUMNS + ("errors",)):
            total = sum(numbers[name] for name in SPLIT_COLUMNS)
            errors = numbers["errors"]
            with np.errstate(invalid="ignore"):
                bad = ~np.isnan(total) & ~np.isnan(errors) & (total != errors)
            self._reject(
                bad,
                INVALID_COUNTS,
                "errors",
                lambda pos: SPLIT_MISMATCH.format(total=int(total[pos]), errors=int(errors[pos])),
            )
        if all(name in numbers for name in ("substitutions", "deletions", "ref_words")):
            total = numbers["substitutions"] + numbers["deletions"]
            words = numbers["ref_words"]
            with np.errstate(invalid="ignore"):
                bad = ~np.isnan(total) & ~np.isnan(words) & (total > words)
            self._reject(
                bad,
                INVALID_COUNTS,
                "ref_words",
                lambda pos: SPLIT_OVER_WORDS.format(total=int(total[pos]), words=int(words[pos])),
            )
        for name, num in numbers.items():
            kept = num[self.keep]
            if np.isnan(kept).any():
                df[name] = pd.array(np.where(np.isnan(num), 0, num).astype("int64"), dtype="Int64")
                df.loc[np.isnan(num), name] = pd.NA
            else:
                df[name] = np.where(self.keep, np.nan_to_num(num), 0).astype("int64")

    def _coordinates(self) -> None:
        df = self.df
        for name, (low, high) in _COORDINATES.items():
            if name not in df:
                continue
            values = df[name]
            blank = self._missing(values)
            num = pd.to_numeric(values.where(~blank), errors="coerce")
            num = num.to_numpy(dtype="float64", na_value=np.nan)

            def not_a_number(pos: int, v: pd.Series = values) -> str:
                return NOT_A_NUMBER.format(value=_plain(v.iloc[pos]))

            self._reject(~blank & np.isnan(num), INVALID_COORDINATES, name, not_a_number)
            with np.errstate(invalid="ignore"):
                outside = (num < low) | (num > high)

            def out_of_range(pos: int, n: np.ndarray = num, lo: float = low, hi: float = high) -> str:
                return OUT_OF_RANGE.format(value=float(n[pos]), low=lo, high=hi)

            self._reject(outside, INVALID_COORDINATES, name, out_of_range)
            df[name] = num
        if "zip" in df:
            zips, n_invalid = normalize_zip(df["zip"].where(self.keep))
            df["zip"] = zips
            self.notes["invalid_zip"] = int(n_invalid)

    def _strings(self) -> None:
        df = self.df
        for name in ("audio", "system"):
            if name in df:
                df[name] = df[name].astype("str")


def _not_text(values: pd.Series) -> np.ndarray:
    """Cells of a transcript column that hold something other than text (numbers from a
    typed format such as Parquet or JSON); missing cells are not flagged here."""
    if pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        return np.zeros(len(values), dtype=bool)
    if values.dtype != object:  # a numeric or boolean column: every present cell
        return values.notna().to_numpy(dtype=bool)
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):  # in C: the usual case
        return np.zeros(len(values), dtype=bool)
    return np.fromiter(
        (not (isinstance(v, str) or v is None or v is pd.NA or (isinstance(v, float) and v != v)) for v in values),
        dtype=bool,
        count=len(values),
    )


def _kind(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "a boolean"
    if isinstance(value, (int, float, np.number)):
        return "the number"
    return f"a {type(value).__name__}"


def _count_message(values: pd.Series, blank: np.ndarray, pos: int) -> str:
    if blank[pos]:
        return MISSING_VALUE.format(what="a non-negative whole number of words")
    return BAD_COUNT.format(value=_plain(values.iloc[pos]))


def _plain(value):
    """A cell as shown in an error: numpy scalars as plain Python values."""
    return value.item() if isinstance(value, np.generic) else value


# --------------------------------------------------------------------------- systems

NO_SYSTEM_COLUMN = "{path} has no 'system' column (needed to compare systems of one log)"
UNKNOWN_SYSTEM = "{path}: system {name!r} not found in column 'system' (it has: {have})"
UNREADABLE = "cannot read {path}: {error}"


def split_systems(
    source: str | Path | pd.DataFrame, systems: tuple[str, ...] | list[str] | None = None
) -> list[pd.DataFrame]:
    """The rows of each named ASR system in a log holding several (a ``system`` column).

    Parameters
    ----------
    source : str, Path or DataFrame
        A table log (``.csv``, ``.tsv``/``.txt``, ``.jsonl``/``.json``, ``.parquet``/``.pq``)
        with a ``system`` column, e.g. a baseline's and a candidate's decodes of the same
        utterances stacked; or such a table already read (a log or scored utterances).
    systems : sequence of str, optional
        The system names to take, in order. Default: every system, in order of first
        appearance (:func:`system_names`).

    Returns
    -------
    list of pandas.DataFrame
        One raw table per name (all columns, text as read, ``RangeIndex``), ready for
        :func:`read_log`; ``attrs["wergap"]["sources"]`` names the file and the system.

    Raises
    ------
    InputError
        The file cannot be read, has no ``system`` column, or lacks a named system (the
        message lists the systems it has).
    """
    if isinstance(source, pd.DataFrame):
        table, source = source, "the table"
    else:
        table = _read_system_table(source)
    if "system" not in table.columns:
        raise InputError(NO_SYSTEM_COLUMN.format(path=source), file=str(source), column="system")
    have = sorted(map(str, table["system"].dropna().unique()))
    parts = []
    for name in system_names(table) if systems is None else systems:
        rows = table[table["system"].astype(str) == name].reset_index(drop=True)
        if rows.empty:
            raise InputError(UNKNOWN_SYSTEM.format(path=source, name=name, have=", ".join(have)), column="system")
        rows.attrs["wergap"] = {**table.attrs.get("wergap", {}), "sources": [f"{source} [system={name}]"]}
        parts.append(rows)
    return parts


def system_names(table: pd.DataFrame) -> list[str]:
    """The distinct values of ``table["system"]``, in order of first appearance."""
    return list(dict.fromkeys(table["system"].dropna().astype(str)))


def _read_system_table(source: str | Path) -> pd.DataFrame:
    path = Path(source)
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            table = pd.read_parquet(path)
        elif suffix in (".jsonl", ".json"):
            table = pd.read_json(path, lines=True, dtype=False)
        else:
            sep = "\t" if suffix in (".tsv", ".txt") else ","
            table = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as error:
        raise InputError(UNREADABLE.format(path=source, error=error), file=str(source)) from error
    return table


def check_derived_speakers(log: pd.DataFrame) -> str | None:
    """Check speakers taken from utterance ids; return a one-line notice saying how, or ``None``.

    Parameters
    ----------
    log : pandas.DataFrame
        A table from :func:`read_log`.

    Returns
    -------
    str or None
        ``None`` when the log had speakers (a column or utt2spk); otherwise the rule and the
        count, e.g. ``"speakers taken from utt_id (the part before the first '-', ...): 5"``.

    Raises
    ------
    InputError
        The rule gives fewer than 2 speakers, or one speaker per utterance in a log of
        :data:`MIN_UTTERANCES_PER_SPEAKER_CHECK` utterances or more: the ids hold no
        speaker (``utt_00001``) or the wrong part of one (a site, a session).
    """
    meta = provenance(log)
    source = str(meta.get("speaker_from", "column"))
    if not source.startswith("utt_id"):
        return None
    pattern = source.split("speaker_pattern ", 1)[-1].strip("'")
    rule = SCLITE_RULE if pattern == _SCLITE else f"regular expression {pattern!r}"
    n_utt, n_spk = len(log), int(log["speaker_id"].nunique())
    if n_utt >= 2 and n_spk < 2:
        raise InputError(SPEAKERS_FROM_IDS_ONE.format(rule=rule, speakers=n_spk, utterances=n_utt), column="speaker_id")
    if n_spk == n_utt >= MIN_UTTERANCES_PER_SPEAKER_CHECK:
        raise InputError(SPEAKERS_FROM_IDS_ALL.format(rule=rule, utterances=n_utt), column="speaker_id")
    return f"speakers taken from utt_id ({rule}): {n_spk:,} speakers"
