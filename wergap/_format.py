"""Numbers as every wergap surface prints them: the report, the comparison pages, the terminal.

One set of formatters, so a gap reads the same in the HTML report, a verdict sentence and
the CLI. A missing value (None, NaN, NA, ±inf) prints as ``na``: ``–`` in tables, ``n/a``
in prose.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def missing(x: Any) -> bool:
    """Whether ``x`` is absent: None, pandas NA/NaT, NaN or an infinite float."""
    if x is None:
        return True
    try:
        import pandas as pd

        if x is pd.NA or x is pd.NaT:
            return True
    except ImportError:  # pragma: no cover - pandas is a core dependency
        pass
    try:
        return not math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def pct(x: Any, digits: int = 1, *, na: str = "–") -> str:
    """A fraction as a percentage (``0.1234`` -> ``12.3%``)."""
    return na if missing(x) else f"{100 * float(x):.{digits}f}%"


def num(x: Any, digits: int = 1, suffix: str = "", *, signed: bool = False, na: str = "–") -> str:
    """A number already in the unit shown: a gap ``+42.0%`` (``signed``), a share ``12.0 %``."""
    return na if missing(x) else f"{float(x):{'+' if signed else ''}.{digits}f}{suffix}"


def count(x: Any, *, na: str = "–") -> str:
    """An integer with thousands separators."""
    return na if missing(x) else f"{int(x):,}"


def interval(low: Any, high: Any, *, fraction: bool, digits: int = 1) -> str:
    """``[low, high]``, as percentages when ``fraction``; empty when either end is missing."""
    if missing(low) or missing(high):
        return ""
    scale = 100 if fraction else 1
    return f"[{scale * float(low):.{digits}f}, {scale * float(high):.{digits}f}]"


def dropped_text(dropped: Mapping[str, int] | None) -> str:
    """Rows (or speakers) left out, by reason, as every summary prints them; ``none`` when none."""
    return "; ".join(f"{int(n):,} {why}" for why, n in dropped.items()) if dropped else "none"
