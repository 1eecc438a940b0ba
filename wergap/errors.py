"""The errors wergap raises on purpose (the ground floor, like ``sklearn.exceptions``).

Every reader raises :class:`InputError` for bad input, so the CLI can print one line and
exit with status 2, and a notebook user sees where to look instead of a traceback deep in
pandas.
"""

from __future__ import annotations

from dataclasses import dataclass


class WergapError(Exception):
    """Base class of every error wergap raises on purpose.

    ``exit_code`` is the status the ``wergap`` command exits with: 2 for bad input or a
    bad argument (the default), 1 for the environment (permissions, a full disk).
    """

    exit_code = 2


@dataclass
class InputError(WergapError, ValueError):
    """Bad input: what was expected, and where it was not found.

    Parameters
    ----------
    message : str
        What is wrong and what was expected.
    file : str, optional
        The file the bad input came from (``None`` for an in-memory DataFrame).
    row : int, optional
        1-based line number in the file (for a DataFrame: the 0-based row position).
    column : str, optional
        The column (field) at fault.
    """

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"line {self.row}" if self.file is not None else f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


@dataclass
class ResourceError(WergapError):
    """The environment stopped wergap, not the input: permission denied, disk full,
    read-only file system. The ``wergap`` command exits 1 (bad input exits 2).

    Parameters
    ----------
    message : str
        What failed and why (the operating system's reason).
    file : str, optional
        The file or folder concerned.
    """

    message: str
    file: str | None = None
    exit_code = 1

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.file}: {self.message}" if self.file is not None else self.message
