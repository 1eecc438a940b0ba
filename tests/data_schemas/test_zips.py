"""normalize_zip: every way a ZIP arrives in a log or census export, and what it becomes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wergap.data_schemas.zips import normalize_zip

CASES = [
    # (values, expected, n_invalid)
    ([2134, 501, 99999], ["02134", "00501", "99999"], 0),
    ([0, -5, 123456], [np.nan, np.nan, np.nan], 3),
    ([2134.0, np.nan], ["02134", np.nan], 0),
    ([2134.5, np.inf], [np.nan, np.nan], 2),
    (["02134", "2134", " 501 "], ["02134", "02134", "00501"], 0),
    (["02134-1234", "021341234", "2134.0"], ["02134", "02134", "02134"], 0),
    (["", None, np.nan], [np.nan, np.nan, np.nan], 0),
    (["abc", "00000", "123456", "02134-12", "0213a"], [np.nan] * 5, 5),
    ([None, np.nan], [np.nan, np.nan], 0),  # nothing to normalise
    (["x", "x", "02134", "x"], [np.nan, np.nan, "02134", np.nan], 3),  # repeats all counted
    (pd.Series([2134, "02134", None, 2134.0], dtype=object), ["02134", "02134", np.nan, "02134"], 0),
]


@pytest.mark.parametrize(("values", "expected", "n_invalid"), CASES)
def test_normalize_zip(values, expected, n_invalid):
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    zips, bad = normalize_zip(series)
    assert bad == n_invalid
    assert zips.dtype == "str"
    assert zips.isna().tolist() == pd.isna(pd.Series(expected, dtype=object)).tolist()
    assert zips.dropna().tolist() == [e for e in expected if isinstance(e, str)]


def test_normalize_zip_keeps_index_and_name():
    series = pd.Series([2134, 94110], index=[7, 3], name="zip")
    zips, _ = normalize_zip(series)
    assert zips.index.tolist() == [7, 3]
    assert zips.name == "zip"
    assert zips.tolist() == ["02134", "94110"]


def test_normalize_zip_string_dtype_column():
    zips, bad = normalize_zip(pd.Series(["2134", None], dtype="string"))
    assert zips.iloc[0] == "02134" and pd.isna(zips.iloc[1]) and bad == 0
