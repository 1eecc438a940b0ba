"""Reading a log file's bytes as UTF-8 text, with bad input named by file and line.

Every text format goes through :func:`read_text`: the whole file is decoded once (fast, in
C), so a stray Latin-1 byte becomes an :class:`InputError` naming the line of the first bad
byte instead of a ``UnicodeDecodeError`` from deep inside a parser.
"""

from __future__ import annotations

from pathlib import Path

from wergap.data_schemas._errors import InputError

NOT_FOUND = "no such file"
IS_DIRECTORY = "is a directory, expected a decode log file"
UNREADABLE = "cannot be read: {reason}"
EMPTY_FILE = "file is empty: expected a decode log with at least one utterance"
NOT_UTF8 = "not UTF-8 text: byte 0x{byte:02x} at column {column} (re-encode the file as UTF-8)"

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


def read_text(path: Path, *, is_directory: str = IS_DIRECTORY, empty: str = EMPTY_FILE) -> str:
    """Return the file's text (UTF-8, a leading byte-order mark removed).

    ``is_directory`` and ``empty`` are the messages for those cases (see :func:`check_file`).

    Raises
    ------
    InputError
        Missing file, directory, empty file, or bytes that are not UTF-8 (naming the line
        and column of the first bad byte).
    """
    check_file(path, is_directory=is_directory, empty=empty)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(UNREADABLE.format(reason=err.strerror or err), file=str(path)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise InputError(
            NOT_UTF8.format(byte=data[err.start], column=column), file=str(path), row=line
        ) from None
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
