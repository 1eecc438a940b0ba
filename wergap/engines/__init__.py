"""Engines: the ways wergap turns a decode log into the speaker table.

Every engine is a module with ``speaker_table(data, *, scheduler=None) -> (speakers,
scored or None)``; :func:`speaker_table` picks one by name (``audit(engine=...)``).

- ``"pandas"`` (:mod:`wergap.engines.pandas`): the whole log in memory, read → score →
  speakers; also takes a scored log or a speaker table.
- ``"dask"`` (:mod:`wergap.engines.dask`, extra ``[dask]``): :func:`score_speakers` reads,
  validates, scores and aggregates a partitioned log partition by partition, with memory
  bounded by the partition size, and returns the table
  ``wergap.speakers(wergap.score(wergap.read_log(...)))`` gives on the concatenated files.

Importing this package does not import Dask.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from wergap.engines import dask as _dask
from wergap.engines import pandas as _pandas
from wergap.engines.dask import score_speakers
from wergap.errors import InputError

__all__ = ["ENGINES", "score_speakers", "speaker_table"]

UNKNOWN_ENGINE = "unknown engine {engine!r}; choose from {choices}"

_SPEAKER_TABLE: dict[str, Callable[..., tuple[pd.DataFrame, pd.DataFrame | None]]] = {
    "pandas": _pandas.speaker_table,
    "dask": _dask.speaker_table,
}
#: Engine names, for ``audit(engine=...)`` and ``--engine``.
ENGINES = tuple(_SPEAKER_TABLE)


def speaker_table(
    data: Any, engine: str = "pandas", *, scheduler: Any = None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(speakers, scored utterances or None) of ``data`` by the engine named ``engine``.

    Parameters
    ----------
    data : path, sequence of paths or DataFrame
        What the engine reads: see :func:`wergap.engines.pandas.speaker_table` and
        :func:`wergap.engines.dask.speaker_table`.
    engine : {"pandas", "dask"}, default "pandas"
    scheduler : optional
        For ``"dask"``: see :func:`score_speakers`.

    Returns
    -------
    speakers : DataFrame
        As :func:`wergap.speakers`.
    scored : DataFrame or None
        Scored utterances (pandas engine), ``None`` when only speakers come back.

    Raises
    ------
    InputError
        An unknown engine, or input the engine cannot read.
    """
    if engine not in ENGINES:
        raise InputError(UNKNOWN_ENGINE.format(engine=engine, choices=", ".join(ENGINES)))
    return _SPEAKER_TABLE[engine](data, scheduler=scheduler)
