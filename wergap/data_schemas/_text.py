"""Reading a log file's bytes as UTF-8 text, with bad input named by file and line.

Every text format goes through :func:`read_text`: the whole file is decoded once (fast, in
C), so a stray Latin-1 byte becomes an :class:`InputError` naming the line of the first bad
byte instead of a ``UnicodeDecodeError`` from deep inside a parser. Files compressed with
gzip, bzip2 or xz (``.gz``, ``.bz2``, ``.xz``, as decode logs are often archived) are
decompressed on the way; line numbers are those of the decompressed text.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from pathlib import Path

from wergap.errors import InputError

NOT_FOUND = "no such file"
IS_DIRECTORY = "is a directory, expected a decode log file"
UNREADABLE = "cannot be read: {reason}"
EMPTY_FILE = "file is empty: expected a decode log with at least one utterance"
NOT_UTF8 = "not UTF-8 text: byte 0x{byte:02x} at column {column} (re-encode the file as UTF-8)"
BAD_COMPRESSION = "not a valid {kind} file: {reason}"

#: Compression suffixes read transparently, and their decompressors.
COMPRESSIONS = {".gz": ("gzip", gzip.decompress), ".bz2": ("bzip2", bz2.decompress), ".xz": ("xz", lzma.decompress)}

_BOM = "\ufeff"


def check_file(path: Path, *, is_directory: str = IS_DIRECTORY, empty: str = EMPTY_FILE) -> None:
    """Raise :class:`InputError` unless ``path`` is an existing, non-empty regular file.

    ``is_directory`` and ``empty`` let each reader say what kind of file it expected.
    """
    if not path.exists():
        raise InputError(NOT_FOUND, file=str(path))
    if path.is_dir():
        raise InputError(is_directory, file=str(path))
    if path.stat().st_size == 0:
        raise InputError(empty, file=str(path))


#: File suffix (past a compression suffix such as ``.gz``) → the log format it names.
LOG_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".trn": "trn",
}


def format_from_name(path: str | Path) -> str | None:
    """The log format a file's name says, or ``None``.

    Parameters
    ----------
    path : str or Path
        A file name; a compression suffix is skipped (``log.csv.gz`` is ``"csv"``).

    Returns
    -------
    str or None
        A value of :data:`LOG_EXTENSIONS` (``"csv"``, ``"tsv"``, ``"jsonl"``,
        ``"parquet"``, ``"trn"``), ``None`` for any other suffix.
    """
    return LOG_EXTENSIONS.get(format_suffix(Path(path)))


def format_suffix(path: Path) -> str:
    """The lower-case suffix that names the format, past a compression suffix (``log.csv.gz`` -> ``.csv``)."""
    suffixes = [x.lower() for x in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSIONS:
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def read_text(path: Path, *, is_directory: str = IS_DIRECTORY, empty: str = EMPTY_FILE) -> str:
    """Return the file's text (UTF-8, a leading byte-order mark removed).

    ``is_directory`` and ``empty`` are the messages for those cases (see :func:`check_file`).

    Raises
    ------
    InputError
        Missing file, directory, empty file, a corrupt compressed file, or bytes that are
        not UTF-8 (naming the line and column of the first bad byte).
    """
    check_file(path, is_directory=is_directory, empty=empty)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(UNREADABLE.format(reason=err.strerror or err), file=str(path)) from None
    compression = COMPRESSIONS.get(path.suffix.lower())
    if compression is not None:
        kind, decompress = compression
        try:
            data = decompress(data)
        except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError) as err:
            raise InputError(BAD_COMPRESSION.format(kind=kind, reason=err), file=str(path)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise InputError(NOT_UTF8.format(byte=data[err.start], column=column), file=str(path), row=line) from None
    if text.startswith(_BOM):
        text = text[1:]
    if not text.strip():
        raise InputError(empty, file=str(path))
    return text


def split_lines(text: str) -> list[str]:
    """Split on ``\\n`` only (``str.splitlines`` would also split on characters such as
    U+2028 that may occur inside a transcript), dropping a trailing ``\\r``."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]
