"""Input contracts and readers: decode logs, census tables, embeddings.

Errors (:mod:`wergap.errors`) and provenance (:mod:`wergap.provenance`) live on the
ground floor, below every package; they are re-exported here for older imports.

Names load on first use (PEP 562): the command line's Arrow path imports one reader
module of this package without loading pandas through the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> the module that defines it
_WHERE = {
    "private_column_names": "wergap.data_schemas._columns",
    "read_census": "wergap.data_schemas.census",
    "attach_embeddings": "wergap.data_schemas.embeddings",
    "read_embeddings": "wergap.data_schemas.embeddings",
    "speaker_mean_embeddings": "wergap.data_schemas.embeddings",
    "FORMATS": "wergap.data_schemas.log",
    "read_log": "wergap.data_schemas.log",
    "normalize_zip": "wergap.data_schemas.zips",
    "InputError": "wergap.errors",
    "WergapError": "wergap.errors",
    "add_drops": "wergap.provenance",
    "carry": "wergap.provenance",
    "provenance": "wergap.provenance",
}

__all__ = [
    "FORMATS",
    "InputError",
    "WergapError",
    "add_drops",
    "attach_embeddings",
    "carry",
    "normalize_zip",
    "private_column_names",
    "provenance",
    "read_census",
    "read_embeddings",
    "read_log",
    "speaker_mean_embeddings",
]


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on first use."""
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from wergap.data_schemas._columns import private_column_names
    from wergap.data_schemas.census import read_census
    from wergap.data_schemas.embeddings import attach_embeddings, read_embeddings, speaker_mean_embeddings
    from wergap.data_schemas.log import FORMATS, read_log
    from wergap.data_schemas.zips import normalize_zip
    from wergap.errors import InputError, WergapError
    from wergap.provenance import add_drops, carry, provenance
