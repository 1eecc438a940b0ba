"""String columns as Arrow arrays, and membership tests on them (ids) hashed in Arrow.

Scoring reads ``ref``/``hyp`` as Arrow strings (:func:`text_array`). pandas 3's ``str`` dtype answers ``isin`` by boxing every candidate into a Python scalar
(about 5 µs each: half a second for 100k speaker ids, seconds for utterance ids), so the
id joins of the cohort statistics and of ``compare`` go through Arrow's ``is_in`` instead.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    import pandas as pd

#: Every character ``str.isspace()`` accepts beyond ASCII's space, \t, \n, \v, \f, \r (RE2 syntax).
NON_ASCII_WHITESPACE = r"[\x{1C}-\x{1F}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]"
#: A string whose first character is whitespace to ``str.isspace()`` (RE2 syntax).
STARTS_WITH_WHITESPACE = r"^(?:[\t-\r ]|" + NON_ASCII_WHITESPACE + ")"


def text_array(values: Iterable[object]) -> pa.LargeStringArray:
    """``values`` as one Arrow large_string array (zero-copy for pandas' ``str`` dtype).

    Missing values stay null. Raises ``pyarrow.ArrowTypeError`` (or another
    ``ArrowException``) for values that are not text; a column with no value at all
    counts as text (all null).
    """
    pandas = sys.modules.get("pandas")  # a pandas object exists only once pandas is imported
    if pandas is not None and isinstance(values, (pandas.Series, pandas.Index)):
        values = values.array
    if isinstance(values, (set, frozenset)):
        values = list(values)
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        arr = values
    elif isinstance(values, (np.ndarray, list, tuple)) or (
        pandas is not None and isinstance(values, pandas.api.extensions.ExtensionArray)
    ):
        arr = pa.array(values, from_pandas=True)
    else:
        arr = pa.array(list(values), from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    kind = arr.type.value_type if pa.types.is_dictionary(arr.type) else arr.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or arr.null_count == len(arr)):
        raise pa.ArrowTypeError(f"got {kind} values")
    return arr.cast(pa.large_string())


def filled(values: pa.Array) -> pa.Array:
    """``values`` with missing strings as ``""``; the array itself when none is missing
    (``fill_null`` builds a scalar, and pyarrow imports pandas to build one)."""
    return values.fill_null("") if values.null_count else values


def isin(values: pd.Series | pd.Index | np.ndarray, candidates: Iterable[object]) -> np.ndarray:
    """``values.isin(candidates)`` as a bool array, for string (or null) values.

    Missing values match missing candidates, as in pandas. Non-string values fall back
    to pandas' own ``isin``.
    """
    try:
        left, right = text_array(values), text_array(candidates)
    except pa.ArrowException:
        import pandas as pd

        return np.asarray(pd.Index(np.asarray(values, dtype=object)).isin(list(candidates)), dtype=bool)
    return pc.is_in(left, value_set=right).to_numpy(zero_copy_only=False).astype(bool)
