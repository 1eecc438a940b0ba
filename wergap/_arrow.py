"""Arrow arrays as numpy arrays and back, through their buffers.

pyarrow imports pandas the first time it converts between Arrow and numpy
(``Array.to_numpy``, ``pa.array(ndarray)``, ``fill_null``), and importing pandas takes
longer than scoring a 45,000-utterance log. The command line scores a clean CSV without
pandas (:mod:`wergap.data_schemas.arrow_log`), so the code on that path views the buffers
instead: the same values, no copy for numbers, and no pandas.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_NUMPY = {
    pa.int8(): np.int8,
    pa.int16(): np.int16,
    pa.int32(): np.int32,
    pa.int64(): np.int64,
    pa.uint8(): np.uint8,
    pa.uint16(): np.uint16,
    pa.uint32(): np.uint32,
    pa.uint64(): np.uint64,
    pa.float32(): np.float32,
    pa.float64(): np.float64,
}


def as_numpy(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A number or boolean array without missing values as numpy (numbers: a read-only view).

    Raises ``ValueError`` for missing values or another type, which numpy cannot hold as
    they are.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        raise ValueError(f"{arr.null_count} missing values")
    data = arr.buffers()[1]
    if pa.types.is_boolean(arr.type):
        if data is None:
            return np.zeros(0, bool)
        bits = np.unpackbits(np.frombuffer(data, np.uint8), bitorder="little", count=arr.offset + len(arr))
        return bits[arr.offset :].view(bool)
    dtype = _NUMPY.get(arr.type)
    if dtype is None:
        raise ValueError(f"{arr.type} is not a number type")
    if data is None:
        return np.zeros(0, dtype)
    return np.frombuffer(data, dtype, count=len(arr), offset=arr.offset * np.dtype(dtype).itemsize)


def from_numpy(values: np.ndarray) -> pa.Array:
    """A one-dimensional numpy array of numbers or booleans as an Arrow array (no missing values)."""
    values = np.ascontiguousarray(values)
    if values.dtype == bool:
        bits = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values), [None, pa.py_buffer(values)])
