"""Which speaker-table columns a report may break WER down by, and which it must not.

A decode log's extra columns become "known attributes" (gender, accent, device, ...)
whose WER the report shows by value. A transcript must never be one: a column that is a
``ref``/``hyp`` alias (``text``, ``transcript``, ...) kept beside the canonical column,
an id or a path, or any free text (values of several words) would print people's words
or identities in a report. When in doubt a column is left out, and the reason is kept so
the report can say which columns were left out and why.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from wergap.data_schemas import private_column_names
from wergap.errors import InputError

#: Columns of the speaker table that are never attributes (contract columns).
CONTRACT_COLUMNS = frozenset(
    {
        "speaker_id",
        "utt_id",
        "zip",
        "audio",
        "ref",
        "hyp",
        "system",
        "embedding",
        "lat",
        "lon",
        "cohort",
        "utterances",
        "ref_words",
        "errors",
        "substitutions",
        "deletions",
        "insertions",
        "hits",
        "wer",
    }
)
#: Most distinct values an automatically chosen known attribute may have.
MAX_ATTRIBUTE_VALUES = 12
#: Values with more words than this on average are free text, not a category.
MAX_WORDS_PER_VALUE = 3
#: Values longer than this (characters, on average) are free text.
MAX_VALUE_LENGTH = 40

TRANSCRIPT_OR_ID = "a transcript, id or path column (an alias of {canonical}): never shown in a report"
FREE_TEXT = "free text (values of {words:.1f} words, {chars:.0f} characters on average): could hold transcripts"
TOO_MANY_VALUES = "{n} distinct values (more than {limit}): could single out speakers"
ONE_VALUE = "a single value"
NOT_CATEGORY = "not text or a category ({dtype})"
ID_NAME = "an identifier (name ends in _id)"
REFUSED_ATTRIBUTE = "column {column!r} cannot be a known attribute: {reason}"
UNKNOWN_ATTRIBUTE = "known attribute {column!r} is not a column of the speaker table (it has: {have})"


def _text_reason(series: pd.Series) -> str | None:
    values = series.dropna().astype(str)
    if values.empty:
        return None
    words = values.str.split().str.len().mean()
    chars = values.str.len().mean()
    if words > MAX_WORDS_PER_VALUE or chars > MAX_VALUE_LENGTH:
        return FREE_TEXT.format(words=words, chars=chars)
    return None


def attribute_exclusion(column: str, series: pd.Series) -> str | None:
    """Why ``column`` of the speaker table may never be a known attribute, or None.

    Transcript, id and path columns (and their aliases) and free text are refused even
    when asked for by name.
    """
    name = str(column).lower()
    private = private_column_names()
    if name in private:
        return TRANSCRIPT_OR_ID.format(canonical=private.get(name, column))
    if name.endswith("_id"):
        return ID_NAME
    if pd.api.types.is_string_dtype(series) or series.dtype == object:
        return _text_reason(series)
    return None


def choose_attributes(
    speakers: pd.DataFrame, requested: Sequence[str] | None = None
) -> tuple[list[str], dict[str, str]]:
    """The known attributes to break WER down by, and the columns left out with why.

    Parameters
    ----------
    speakers : DataFrame
        The speaker table.
    requested : sequence of str, optional
        Columns asked for by name. Default: every text or categorical column with 2 to
        :data:`MAX_ATTRIBUTE_VALUES` distinct values that is not a transcript, id, path
        or free text.

    Returns
    -------
    (list of str, dict of str to str)
        The attributes, and ``{column: reason}`` for every other metadata column.

    Raises
    ------
    InputError
        A requested column that does not exist, or that is a transcript, id or path
        column, or free text with more than :data:`MAX_ATTRIBUTE_VALUES` values.
    """
    left_out: dict[str, str] = {}
    if requested is not None:
        for column in requested:
            if column not in speakers.columns:
                have = ", ".join(map(str, speakers.columns))
                raise InputError(UNKNOWN_ATTRIBUTE.format(column=column, have=have), column=column)
            series = speakers[column]
            reason = attribute_exclusion(column, series)
            if reason is not None and reason.startswith("free text") and series.nunique() <= MAX_ATTRIBUTE_VALUES:
                reason = None  # a few long category names, asked for by name
            if reason is not None:
                raise InputError(REFUSED_ATTRIBUTE.format(column=column, reason=reason), column=column)
        return list(requested), left_out
    found = []
    for column in speakers.columns:
        if column in CONTRACT_COLUMNS:
            continue
        series = speakers[column]
        reason = attribute_exclusion(column, series)
        if reason is None:
            if not (pd.api.types.is_string_dtype(series) or isinstance(series.dtype, pd.CategoricalDtype)):
                reason = NOT_CATEGORY.format(dtype=series.dtype)
            else:
                n = int(series.nunique(dropna=True))
                if n > MAX_ATTRIBUTE_VALUES:
                    reason = TOO_MANY_VALUES.format(n=n, limit=MAX_ATTRIBUTE_VALUES)
                elif n < 2:
                    reason = ONE_VALUE
        if reason is None:
            found.append(column)
        else:
            left_out[str(column)] = reason
    return found, left_out
