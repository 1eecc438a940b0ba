"""Parameter checks shared by the discovery estimators (done in ``fit``, as scikit-learn does)."""

from __future__ import annotations

import operator
from typing import SupportsIndex

from wergap.errors import InputError

BAD_PARAMETER = "{name} must be an integer >= {low}, got {value!r}"


def check_int(name: str, value: object, low: int) -> int:
    """Return ``value`` as an int if it is a whole number ``>= low`` (bools refused)."""
    number = low - 1
    if isinstance(value, SupportsIndex):  # has __index__: ints, numpy integers (not floats)
        try:
            number = operator.index(value)
        except TypeError:  # an __index__ that returns no int
            pass
    if isinstance(value, bool) or number < low:
        raise InputError(BAD_PARAMETER.format(name=name, low=low, value=value))
    return number
