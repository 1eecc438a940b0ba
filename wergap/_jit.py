"""numba compilation for wergap's compiled loops (scoring, bootstrap sums)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


def _jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    from numba import njit

    try:
        return njit(cache=True, nogil=True)(fn)
    except RuntimeError:
        return njit(nogil=True)(fn)


def compiled(fn: Callable[..., Any]) -> Callable[..., Any]:
    """numba-compile ``fn`` without the GIL, cached on disk so later runs skip the compile.

    The compile (or the load from the cache, ~0.5 s with numba's import) happens at the
    first call, not at import: a module holding kernels imports in milliseconds and a
    process that never calls them never loads numba. Where no cache folder is writable (a
    read-only install and home), compile once per process instead of failing.
    """
    jitted: list[Callable[..., Any]] = []

    @functools.wraps(fn)
    def call(*args: Any) -> Any:
        if not jitted:
            jitted.append(_jit(fn))
        return jitted[0](*args)

    return call


def dispatcher(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` as a numba dispatcher (compiled, or loaded from the cache, at its first call).

    For kernels that call one another inside compiled code, where the Python wrapper
    :func:`compiled` returns cannot be called; import numba only where that is wanted
    (inside the function that builds the kernels).
    """
    return _jit(fn)
