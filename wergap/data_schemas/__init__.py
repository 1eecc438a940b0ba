"""Input contracts and readers: decode logs, census tables, embeddings."""

from wergap.data_schemas._errors import InputError, WergapError
from wergap.data_schemas._provenance import add_drops, carry, provenance
from wergap.data_schemas.census import read_census
from wergap.data_schemas.log import FORMATS, read_log
from wergap.data_schemas.zips import normalize_zip

__all__ = [
    "FORMATS",
    "InputError",
    "WergapError",
    "add_drops",
    "carry",
    "normalize_zip",
    "provenance",
    "read_census",
    "read_log",
]
