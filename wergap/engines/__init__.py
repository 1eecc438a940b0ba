"""Engines: the ways wergap turns decode-log files into the speaker table.

:func:`score_speakers` is the Dask engine (extra ``[dask]``): it reads, validates, scores
and aggregates a partitioned log partition by partition, with memory bounded by the
partition size, and returns the table ``wergap.speakers(wergap.score(wergap.read_log(...)))``
gives on the concatenated files. Importing this package does not import Dask.
"""

from wergap.engines.dask import score_speakers

__all__ = ["score_speakers"]
