"""The pandas engine: the whole log in memory, read → score → speaker table.

What :func:`wergap.audit` does with a path or a DataFrame by default. It also accepts a
table already part of the way: scored utterances are not scored again, and a speaker
table (no ``utt_id``; ``speaker_id``, ``ref_words``, ``errors``) is used as it is.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from wergap.data_schemas import read_log
from wergap.errors import InputError
from wergap.scoring import score
from wergap.speaker_table import speakers

__all__ = ["speaker_table"]

NOT_A_TABLE = "expected a decode log path or a DataFrame, got {kind}"
NOT_RECOGNISED = (
    "cannot tell what this table is: a decode log needs utt_id, speaker_id and ref/hyp or "
    "errors/ref_words; a speaker table needs speaker_id, ref_words, errors"
)

#: Columns that mark a table as scored utterances.
SCORED_COLUMNS = frozenset({"substitutions", "deletions", "insertions", "hits", "ref_words", "errors"})
#: Columns that mark a table without ``utt_id`` as a speaker table.
SPEAKER_TABLE_COLUMNS = frozenset({"speaker_id", "ref_words", "errors"})


def speaker_table(data: Any, *, scheduler: Any = None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The speaker table of a decode log, a scored log or a speaker table, in memory.

    Parameters
    ----------
    data : str, PathLike or DataFrame
        A decode-log file (read with :func:`wergap.read_log`'s defaults), a log as
        :func:`wergap.read_log` returns it, scored utterances (:func:`wergap.score`), or
        a speaker table (:func:`wergap.speakers`).
    scheduler : None
        Ignored: the pandas engine has none (the parameter every engine takes).

    Returns
    -------
    speakers : DataFrame
        As :func:`wergap.speakers`.
    scored : DataFrame or None
        The scored utterances, ``None`` when ``data`` was a speaker table.

    Raises
    ------
    InputError
        ``data`` is neither a path nor a DataFrame, or a table of neither kind; or a bad
        row in the log.
    """
    if isinstance(data, (str, os.PathLike)):
        data = read_log(data)
    if not isinstance(data, pd.DataFrame):
        raise InputError(NOT_A_TABLE.format(kind=type(data).__name__))
    columns = set(data.columns)
    if "utt_id" not in columns:
        if SPEAKER_TABLE_COLUMNS <= columns:
            return data, None
        raise InputError(NOT_RECOGNISED)
    scored = data if SCORED_COLUMNS <= columns else score(data)
    return speakers(scored), scored
