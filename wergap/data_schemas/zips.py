"""US ZIP codes as 5-digit strings.

ZIP codes and ZCTAs are identifiers, not numbers: ``02134`` (Boston) becomes ``2134`` as
soon as a spreadsheet or ``pd.read_csv`` reads it as an integer, and ``2134.0`` once the
column also holds a blank. Decode logs and census tables meet on this key, so both sides
go through :func:`normalize_zip` before they are joined.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["ZIP_PATTERN", "normalize_zip"]

#: What a ZIP may look like in text once stripped: 1–5 digits (leading zeros lost by a
#: numeric reader are restored), optionally a float's ``.0`` tail or a ZIP+4 ``-dddd``
#: suffix; or exactly nine digits (ZIP+4 written without its hyphen).
ZIP_PATTERN = r"^(?:(?P<zip>\d{1,5})(?:\.0+|-\d{4})?|(?P<zip9>\d{5})\d{4})$"

#: The largest 5-digit ZIP.
_MAX_ZIP = 99999


def normalize_zip(values: pd.Series) -> tuple[pd.Series, int]:
    """Return ``values`` as 5-digit ZIP strings, and how many were not ZIPs.

    Accepted, and what they become: ``2134`` or ``2134.0`` (a number that lost its leading
    zero) → ``"02134"``; ``"02134"``, ``" 02134 "`` → ``"02134"``; ``"02134-1234"`` and
    ``"021341234"`` (ZIP+4) → ``"02134"``. Anything else — letters, negative or fractional
    numbers, more than five digits, ``00000`` — becomes missing and is counted as invalid,
    so a reader can report it instead of joining it to the wrong area. Values that were
    already missing (``None``, NaN, empty string) stay missing and are not counted.

    Parameters
    ----------
    values : pandas.Series
        ZIP codes of any dtype (integer, float, string or a mix in an object column).

    Returns
    -------
    zips : pandas.Series
        Same index and name, dtype ``str``; NaN where missing or invalid.
    n_invalid : int
        Number of non-missing values that were not ZIP codes.

    Examples
    --------
    >>> import pandas as pd
    >>> zips, bad = normalize_zip(pd.Series([2134, "02134-1234", "N/A", None]))
    >>> zips.tolist(), bad
    (['02134', '02134', nan, nan], 1)
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        n_given = int(values.notna().sum())
        return pd.Series(np.nan, index=values.index, name=values.name, dtype="str"), n_given
    # A log has millions of rows but only tens of thousands of ZIPs: normalise each
    # distinct value once.
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques = pd.Series(uniques)
    if pd.api.types.is_numeric_dtype(uniques.dtype):
        normal, bad = _from_numbers(uniques)
    else:
        normal, bad = _from_text(uniques)
    taken = np.full(len(codes), np.nan, dtype=object)
    taken[codes >= 0] = normal.to_numpy(dtype=object)[codes[codes >= 0]]
    zips = pd.Series(taken, index=values.index, name=values.name).astype("str")
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    return zips, int(counts[bad.to_numpy()].sum())


def _from_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Integer or float ZIPs: whole numbers in 1..99999, zero-padded; and the invalid mask."""
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    given = numbers.notna()
    ok = given & np.isfinite(numbers) & (numbers == np.floor(numbers))
    ok &= (numbers >= 1) & (numbers <= _MAX_ZIP)
    out = pd.Series(np.nan, index=values.index, name=values.name, dtype="str")
    out[ok] = numbers[ok].astype("int64").astype("str").str.zfill(5)
    return out, given & ~ok


def _from_text(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """String or mixed object ZIPs, matched against :data:`ZIP_PATTERN`; and the invalid mask."""
    text = values.astype("str").str.strip()
    # astype("str") keeps missing values missing; blanks are missing too, not invalid.
    given = text.notna() & (text != "")
    parts = text.str.extract(ZIP_PATTERN)
    code = parts["zip"].fillna(parts["zip9"]).str.zfill(5)
    ok = given & code.notna() & (code != "00000")
    out = pd.Series(np.nan, index=values.index, name=values.name, dtype="str")
    out[ok] = code[ok]
    return out, given & ~ok
