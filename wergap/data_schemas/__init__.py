"""Input contracts and readers: decode logs, census tables, embeddings.

Errors (:mod:`wergap.errors`) and provenance (:mod:`wergap.provenance`) live on the
ground floor, below every package; they are re-exported here for older imports.
"""

from wergap.data_schemas._columns import private_column_names
from wergap.data_schemas.census import read_census
from wergap.data_schemas.embeddings import attach_embeddings, read_embeddings, speaker_mean_embeddings
from wergap.data_schemas.log import FORMATS, read_log
from wergap.data_schemas.zips import normalize_zip
from wergap.errors import InputError, WergapError
from wergap.provenance import add_drops, carry, provenance

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
