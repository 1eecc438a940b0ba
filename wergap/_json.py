"""Values made JSON-ready, for every JSON file and table metadata wergap writes."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


def jsonable(value: Any) -> Any:
    """A JSON-ready copy of ``value``: numpy scalars and arrays unwrapped, NaN/inf/NA as None.

    Dicts get string keys, sequences become lists, and anything else that JSON cannot
    hold (a path, a timestamp) becomes its ``str``, so ``json.dumps`` never fails on a
    value wergap produced and never writes the non-standard ``NaN``.
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
