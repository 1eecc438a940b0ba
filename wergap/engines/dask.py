"""The Dask engine: read, score and aggregate a partitioned decode log out of core.

Production decode logs run to hundreds of millions of utterances, but discovery only
needs the speaker table (one row per speaker). This module does the heavy part — read,
validate, score, aggregate — partition by partition on Dask, so memory is bounded by the
partition size, and returns the same speaker table :func:`wergap.speakers` would build
from :func:`wergap.score` on the whole log.

How it stays identical to the pandas engine:

- Each partition is validated by the very checks :func:`wergap.read_log` runs (column
  aliases, required columns, counts, coordinates, zip codes), so errors name the file, the
  line (CSV/TSV/JSON lines) or the file's 0-based row (Parquet), and the column.
- Each partition is scored by :func:`wergap.scoring.score` with ``n_jobs=1`` (Dask
  supplies the parallelism), i.e. by :func:`wergap.scoring.align_counts`.
- The text columns are dropped, the scored rows are shuffled by ``speaker_id`` so all of
  a speaker's utterances land in one partition, and :func:`wergap.speakers` runs on each
  partition. The median of ``lat``/``lon`` and the most frequent ``zip``/metadata are
  therefore *exact* (no approximate quantiles): the shuffle moves only integers, two
  floats, ``utt_id`` and the metadata columns, never transcripts.
- An ``utt_id`` that two partitions hold (a shard read twice, overlapping exports) is
  found after the shuffle and raises :class:`InputError` naming both files; with
  ``drop_invalid`` the first copy in file order is kept and the others are counted under
  ``"duplicate utt_id"``, as :func:`wergap.read_log` does within a file.

Memory: on ``distributed`` the shuffle is Dask's p2p shuffle, which writes each worker's
share of the shuffled rows to its local disk as partitions are scored, so a worker holds
a few partitions at a time, whatever the number of rows (the task-based shuffle kept
every scored partition's pieces in memory until the last partition was scored: 20M
utterances needed 4.4 GB). p2p stores the rows as Arrow, which needs one type per column:
each partition is given the first file's columns (:mod:`wergap.engines._schema`). The
local schedulers (``"threads"``, ``"synchronous"``) use the task-based shuffle in
memory, for tests and small logs.

Partitions (whole row groups of a Parquet file, or slices of a large one; a whole text
file) are found and read by :mod:`wergap.engines._files`.

Differences from :func:`wergap.read_log` on the concatenated log, by design: an ``utt_id``
repeated under two *different* speakers in two partitions is detected only when the two
speakers happen to share a shuffled partition (the shuffle brings together the rows of
one speaker, a global check would need a second shuffle of every id; within a partition
the reader's own check applies); an ``utt_id`` synthesised for a log without one is ``<file stem>:<row>`` per
file, and is not checked across files; every file needs the first file's columns, each
with one kind of value.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from wergap.data_schemas.log import DUPLICATE, DUPLICATE_UTT_ID, speaker_regex
from wergap.engines._files import DEFAULT_BLOCKSIZE, Chunk, dataset_files, make_chunks, read_chunk, validate_rows
from wergap.engines._schema import Schema, conform, learn
from wergap.errors import InputError
from wergap.provenance import provenance
from wergap.scoring import ALIGNER, COUNT_COLUMNS, score
from wergap.speaker_table import NOT_SPEAKER_METADATA, speakers

__all__ = ["DEFAULT_BLOCKSIZE", "dataset_files", "score_speakers", "scored_frame", "speaker_table"]

#: Rows of the first file read to learn the scored table's column types.
META_ROWS = 1_000

BAD_BLOCKSIZE = "blocksize must be a positive number of rows, got {value!r}"
SHUFFLE_SCHEMA = "the files' columns do not agree on their types: {reason}"
DASK_NEEDS_FILES = "engine='dask' reads files (a path, folder, glob or list), not an in-memory DataFrame"

# Utterance-level columns never needed by the speaker table (dropped before the shuffle);
# utt_id stays, for the duplicate check across partitions.
_DROP_BEFORE_SHUFFLE = tuple(sorted(c for c in NOT_SPEAKER_METADATA if c not in COUNT_COLUMNS and c != "utt_id"))
# The partition each row comes from, carried through the shuffle: which copy of an utt_id
# came first.
_PARTITION = "_wergap_partition"


def _score_chunk(
    chunk: Chunk, index: int, options: Mapping[str, Any], normalization: str, unit: str, schema: Schema | None
) -> tuple[pd.DataFrame, dict]:
    """(scored rows without text, provenance) of partition ``index``, in the dataset's schema."""
    log = read_chunk(chunk, options)
    scored = score(log, normalization=normalization, unit=unit, n_jobs=1)
    meta = dict(provenance(scored))
    out = _shuffle_columns(scored, index, meta)
    if schema is not None:
        out = conform(out, schema, chunk.file)
    return out, meta


def _shuffle_columns(scored: pd.DataFrame, index: int, meta: Mapping[str, Any]) -> pd.DataFrame:
    """What the shuffle moves: counts, ``speaker_id``, ``utt_id``, coordinates, metadata, partition."""
    out = scored.drop(columns=[c for c in _DROP_BEFORE_SHUFFLE if c in scored.columns])
    out.attrs = {}
    if str(meta.get("utt_id_from", "")).startswith("synthesised"):
        # '<file stem>:<row>' ids are unique per file by construction; two files of one
        # stem in different folders would collide without being duplicates.
        out["utt_id"] = pd.Series(None, index=out.index, dtype=object)
    out[_PARTITION] = np.int32(index)
    return out


def _meta(chunk: Chunk, options: Mapping[str, Any], normalization: str, unit: str) -> tuple[pd.DataFrame, Schema]:
    """The empty scored frame (column names and types) of the dataset and its schema.

    Read from the first :data:`META_ROWS` rows of a Parquet file (the schema is the
    file's), or from the whole first file of a text format, and scored in this process:
    a schema that matches the data exactly, whatever aliases and dtypes it has.
    """
    sample = None
    if chunk.format == "parquet":
        import pyarrow.parquet as pq

        batch = next(pq.ParquetFile(chunk.file).iter_batches(batch_size=META_ROWS), None)
        if batch is not None and batch.num_rows:
            log = validate_rows(batch.to_pandas(), chunk.file, 0, options)
            scored = score(log, normalization=normalization, unit=unit, n_jobs=1)
            sample = _shuffle_columns(scored, 0, provenance(scored))
    if sample is None:
        sample = _score_chunk(chunk, 0, options, normalization, unit, None)[0]
    schema = learn(sample, chunk.file)
    return conform(sample, schema, chunk.file).iloc[:0], schema


def _merge_provenance(metas: Sequence[dict], files: list[str], fmt: str) -> dict:
    """One provenance dict for the dataset: rows and drops summed over partitions."""
    dropped: dict[str, int] = {}
    for m in metas:
        for reason, n in (m.get("dropped") or {}).items():
            dropped[reason] = dropped.get(reason, 0) + int(n)
    merged: dict[str, Any] = {
        "sources": files,
        "format": fmt,
        "rows_read": sum(int(m.get("rows_read", 0)) for m in metas),
        "dropped": dropped,
        "engine": "dask",
        "partitions": len(metas),
    }
    for key in ("normalization", "unit", "aligner"):
        values = [m[key] for m in metas if key in m]
        if values:
            merged[key] = values[0]
    merged["empty_references"] = sum(int(m.get("empty_references", 0)) for m in metas)
    if any("invalid_zip" in m for m in metas):
        merged["invalid_zip"] = sum(int(m.get("invalid_zip", 0)) for m in metas)
    for key in ("renamed", "utt_id_from", "speaker_from"):
        if any(key in m for m in metas):
            merged[key] = next(m[key] for m in metas if key in m)
    return merged


def scored_frame(
    source: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    normalization: str = "default",
    unit: str = "word",
    blocksize: int = DEFAULT_BLOCKSIZE,
    format: str | None = None,  # noqa: A002 - the CLI flag is --format
    speaker_pattern: str = "sclite",
    drop_invalid: bool = False,
    columns: Mapping[str, str] | None = None,
) -> tuple[Any, Any, list[str], str]:
    """A lazily scored Dask DataFrame of a partitioned decode log.

    Parameters
    ----------
    source : str, Path or sequence
        Folder, file, glob or list of files (see :func:`dataset_files`).
    normalization, unit
        As :func:`wergap.score`.
    blocksize : int
        Rows per Parquet partition (whole row groups, fewer than ``2 * blocksize``; a
        larger row group is read in slices of ``blocksize`` rows); bounds each worker's
        memory.
    format, speaker_pattern, drop_invalid, columns
        As :func:`wergap.read_log`, applied to every file.

    Returns
    -------
    scored : dask.dataframe.DataFrame
        Scored utterances without the text and audio columns (what the speaker table
        and the duplicate check need: counts, ``speaker_id``, ``utt_id`` — missing where
        the file had no ids and they were synthesised —, coordinates, metadata, and the
        partition number in ``_wergap_partition``), one partition per chunk, every
        partition with the first file's columns in its order; nothing is computed yet.
    metas : list of dask.delayed.Delayed
        Each partition's provenance dict (compute together with ``scored``).
    files : list of str
    format : str
    """
    frames, metas, files, fmt, _ = _scored(
        source, normalization, unit, blocksize, format, speaker_pattern, drop_invalid, columns
    )
    return frames, metas, files, fmt


def _scored(
    source: Any,
    normalization: str,
    unit: str,
    blocksize: int,
    fmt: str | None,
    speaker_pattern: str,
    drop_invalid: bool,
    columns: Mapping[str, str] | None,
) -> tuple[Any, list, list[str], str, list[Chunk]]:
    """:func:`scored_frame` and its chunks (the file of each partition)."""
    import dask
    import dask.dataframe as dd

    if not isinstance(blocksize, int) or blocksize < 1:
        raise InputError(BAD_BLOCKSIZE.format(value=blocksize))
    files, fmt = dataset_files(source, fmt)
    speaker_regex(speaker_pattern)  # fail early on a bad pattern
    options = {"speaker_pattern": speaker_pattern, "drop_invalid": drop_invalid, "columns": columns}
    chunks = make_chunks(files, fmt, blocksize)
    meta, schema = _meta(chunks[0], options, normalization, unit)
    parts = [
        dask.delayed(_score_chunk, nout=2, pure=True)(chunk, i, options, normalization, unit, schema)
        for i, chunk in enumerate(chunks)
    ]
    frames = dd.from_delayed([p[0] for p in parts], meta=meta, verify_meta=False)
    return frames, [p[1] for p in parts], files, fmt, chunks


class _DuplicateId(Exception):
    """An ``utt_id`` in two partitions (raised on a worker, named with files on the client)."""

    def __init__(self, utt_id: str, first: int, again: int) -> None:
        super().__init__(utt_id, first, again)
        self.utt_id, self.first, self.again = utt_id, first, again


def _later_copies(part: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions of rows whose ``utt_id`` an earlier partition holds, with those partitions.

    Returns (positions, their partition, the first partition holding their id). Within a
    partition ids are unique already (the reader's check), so "earlier" is a smaller
    partition number: the file order, as reading the files one after another would see.
    """
    ids = part["utt_id"]
    candidates = np.flatnonzero((ids.duplicated(keep=False) & ids.notna()).to_numpy())
    if not len(candidates):
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    where = part[_PARTITION].to_numpy()[candidates]
    first = pd.Series(where).groupby(ids.to_numpy()[candidates], sort=False).transform("min").to_numpy()
    later = where != first
    return candidates[later], where[later], first[later]


def _speakers_partition(part: pd.DataFrame, drop_duplicates: bool) -> pd.DataFrame:
    """:func:`wergap.speakers` of one shuffled partition (every speaker whole in it).

    An ``utt_id`` seen in an earlier partition raises :class:`_DuplicateId`, or with
    ``drop_duplicates`` its later copies are left out, as :func:`wergap.read_log` does
    within a file.
    """
    positions, again, first = _later_copies(part)
    if len(positions):
        if not drop_duplicates:
            k = int(np.lexsort((first, again))[0])
            raise _DuplicateId(str(part["utt_id"].iloc[positions[k]]), int(first[k]), int(again[k]))
        keep = np.ones(len(part), dtype=bool)
        keep[positions] = False
        part = part.iloc[keep]
    part = part.drop(columns=["utt_id", _PARTITION])
    if part.empty:
        return _empty_speakers(part)
    out = speakers(part)
    out.attrs = {}
    return out


def _n_later_copies(part: pd.DataFrame) -> pd.Series:
    return pd.Series([len(_later_copies(part)[0])], dtype="int64")


def _empty_speakers(part: pd.DataFrame) -> pd.DataFrame:
    part = part.drop(columns=[c for c in ("utt_id", _PARTITION) if c in part.columns])
    return speakers(part.iloc[:0]) if len(part.columns) else pd.DataFrame()


def score_speakers(
    source: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    normalization: str = "default",
    unit: str = "word",
    scheduler: Any = None,
    blocksize: int = DEFAULT_BLOCKSIZE,
    format: str | None = None,  # noqa: A002 - the CLI flag is --format
    speaker_pattern: str = "sclite",
    drop_invalid: bool = False,
    columns: Mapping[str, str] | None = None,
    n_workers: int | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Read, score and aggregate a partitioned decode log on Dask: the speaker table.

    Equal to ``wergap.speakers(wergap.score(wergap.read_log(...)))`` on the concatenated
    files (see the module docstring for the by-design differences in validation), with
    memory bounded by the partition size rather than the log size.

    Parameters
    ----------
    source : str, Path or sequence
        A folder, file, glob or list of ``.parquet``/``.csv``/``.tsv``/``.jsonl`` files.
    normalization : {"default", "none", "whisper"}
    unit : {"word", "char"}
    scheduler : None, str or distributed.Client
        ``None``: start a local cluster (one single-threaded worker process per core,
        since alignment holds the GIL) for this call and close it after. A
        ``"tcp://host:port"`` address: connect to that existing ``dask.distributed``
        scheduler. ``"threads"``/``"synchronous"``/``"processes"``: a local Dask
        scheduler without ``distributed`` (tests, debugging; the shuffle then holds the
        whole scored table in memory). A ``Client``: use it. On ``distributed`` the
        shuffle is Dask's p2p shuffle, which keeps the shuffled rows on disk.
    blocksize : int
        Rows per Parquet partition (see :func:`scored_frame`).
    format, speaker_pattern, drop_invalid, columns
        As :func:`wergap.read_log`. With ``drop_invalid`` a duplicate ``utt_id`` keeps
        its first copy (in file order) and the others count as dropped.
    n_workers : int, optional
        Worker processes of the local cluster (default: every core).

    Returns
    -------
    speakers : DataFrame
        As :func:`wergap.speakers`, sorted by ``speaker_id``, ``RangeIndex``; its
        ``attrs["wergap"]`` holds the merged provenance.
    provenance : dict
        ``sources``, ``format``, ``rows_read``, ``dropped`` (summed over partitions,
        duplicates across partitions included), ``normalization``, ``unit``,
        ``aligner``, ``empty_references``, ``engine``, ``partitions``, ``utterances``.

    Raises
    ------
    InputError
        A bad row (naming the file, the row and the column), an ``utt_id`` in two
        partitions (naming both files), or files whose columns disagree.
    """
    import dask

    # No conversion of object columns to Arrow strings: an all-missing column must stay
    # Arrow's null type, which the p2p shuffle unifies with the other files' type of it.
    with (
        _scheduler(scheduler, n_workers) as (compute_kwargs, method),
        dask.config.set({"dataframe.convert-string": False}),
    ):
        frames, metas, files, fmt, chunks = _scored(
            source, normalization, unit, blocksize, format, speaker_pattern, drop_invalid, columns
        )
        meta_spk = _empty_speakers(frames._meta)
        shuffled = frames.shuffle("speaker_id", npartitions=frames.npartitions, method=method)
        per_speaker = shuffled.map_partitions(_speakers_partition, drop_invalid, meta=meta_spk)
        # Dask-expression collections first, then the delayed provenance: dask.compute
        # returns mixed collections grouped that way, whatever order they are given in.
        wanted: list[Any] = [per_speaker]
        if drop_invalid:
            wanted.append(shuffled.map_partitions(_n_later_copies, meta=pd.Series(dtype="int64")))
        wanted.append(metas)
        with warnings.catch_warnings():
            # The partitions' provenance (delayed) shares its tasks with the frame
            # (expressions): one compute runs each partition once; dask warns about
            # mixing the two kinds of graph, which is intended here.
            warnings.filterwarnings("ignore", message="Computing mixed collections")
            try:
                table, *copies, metas = dask.compute(*wanted, **compute_kwargs)
            except _DuplicateId as dup:
                raise InputError(
                    DUPLICATE_UTT_ID.format(utt_id=dup.utt_id, first=chunks[dup.first].file),
                    file=chunks[dup.again].file,
                    column="utt_id",
                ) from None
            except Exception as err:
                arrow = _arrow_cause(err)
                if arrow is None:
                    raise
                raise InputError(SHUFFLE_SCHEMA.format(reason=str(arrow).splitlines()[0])) from err
    table = table.sort_values("speaker_id", kind="stable").reset_index(drop=True)
    for col in ("utterances", "ref_words", "errors", "substitutions", "deletions", "insertions", "hits"):
        if col in table.columns and table[col].dtype == "float64":  # an empty partition's dtype
            table[col] = table[col].astype("int64")
    merged = _merge_provenance(metas, files, fmt)
    if copies and int(copies[0].sum()):
        merged["dropped"][DUPLICATE] = merged["dropped"].get(DUPLICATE, 0) + int(copies[0].sum())
    merged["utterances"] = int(table["utterances"].sum()) if len(table) else 0
    if "aligner" not in merged:
        merged["aligner"] = ALIGNER
    table.attrs["wergap"] = merged
    return table, merged


def speaker_table(data: Any, *, scheduler: Any = None) -> tuple[pd.DataFrame, None]:
    """The speaker table of decode-log files on Dask, as :func:`wergap.audit` asks for it.

    Parameters
    ----------
    data : str, PathLike or sequence of them
        A file, folder, glob or list of files (see :func:`score_speakers`).
    scheduler : optional
        As :func:`score_speakers`.

    Returns
    -------
    speakers : DataFrame
        :func:`score_speakers`' table.
    scored : None
        Utterances do not come back from Dask.

    Raises
    ------
    InputError
        ``data`` is an in-memory DataFrame, or as :func:`score_speakers`.
    """
    if isinstance(data, pd.DataFrame):
        raise InputError(DASK_NEEDS_FILES)
    return score_speakers(data, scheduler=scheduler)[0], None


def _arrow_cause(err: BaseException) -> BaseException | None:
    """The Arrow error behind a failed p2p shuffle (partitions Arrow cannot unify), if any."""
    import pyarrow as pa

    seen = set()
    cause: BaseException | None = err
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, pa.ArrowException):
            return cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None


class _scheduler:
    """Context manager: the ``dask.compute`` keywords and the shuffle method."""

    def __init__(self, scheduler: Any, n_workers: int | None) -> None:
        self.scheduler = scheduler
        self.n_workers = n_workers
        self._client: Any = None  # a distributed.Client while open
        self._cluster: Any = None  # a distributed.LocalCluster we started

    def __enter__(self) -> tuple[dict, str]:
        s = self.scheduler
        if s in ("threads", "synchronous", "sync", "processes", "single-threaded"):
            # Without distributed there is no p2p: the task-based shuffle, in memory.
            return {"scheduler": s}, "tasks"
        from distributed import Client, LocalCluster

        # p2p: each worker writes its share of the shuffled rows to disk as they come,
        # so memory holds a few partitions, not the dataset (the task-based shuffle keeps
        # every partition's pieces in memory until the last one is scored).
        if s is None:
            # Our own scheduler runs in this process: its p2p plugin logs a WARNING at the
            # start and end of every shuffle, which is routine here, not a warning.
            self._quiet = logging.getLogger("distributed.shuffle._scheduler_plugin")
            self._level = self._quiet.level
            self._quiet.setLevel(logging.ERROR)
            self._cluster = LocalCluster(
                n_workers=self.n_workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self._client = Client(self._cluster)
        elif isinstance(s, Client):
            return {}, "p2p"
        else:
            self._client = Client(str(s))
        return {}, "p2p"

    def __exit__(self, *exc: object) -> None:
        if self._client is not None and self._cluster is not None:
            self._client.close()
            self._cluster.close()
            self._quiet.setLevel(self._level)
        elif self._client is not None:
            self._client.close()
