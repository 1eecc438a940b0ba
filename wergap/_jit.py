"""numba compilation for wergap's compiled loops (scoring, bootstrap sums)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def compiled(fn: Callable[..., Any]) -> Callable[..., Any]:
    """numba-compile ``fn`` without the GIL, cached on disk so later runs skip the compile.

    Where no cache folder is writable (a read-only install and home), compile once per
    process instead of failing.
    """
    from numba import njit

    try:
        return njit(cache=True, nogil=True)(fn)
    except RuntimeError:
        return njit(nogil=True)(fn)
