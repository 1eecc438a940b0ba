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
each partition is given the first file's columns, in order (a column a file lacks is
all-missing, an all-missing text column is Arrow's null type), and a file whose column
holds another kind of value than the first file's (text where it held numbers) or a
column the first file lacks is an :class:`InputError` naming the file and the column.
The local schedulers (``"threads"``, ``"synchronous"``) use the task-based shuffle in
memory, for tests and small logs.

Partitions: a Parquet file is split into chunks of whole row groups of about
``blocksize`` rows (fewer than twice that), and a row group larger than ``blocksize``
(pyarrow and pandas write up to a million rows in one by default) into slices of
``blocksize`` rows; a CSV/TSV/JSON-lines file is one partition (naming the physical line
of a bad row needs the whole file, as quoted fields may span lines) — split large text
logs into several files, or convert them to Parquet.

Differences from :func:`wergap.read_log` on the concatenated log, by design: an ``utt_id``
repeated under two *different* speakers in two partitions is detected only when the two
speakers happen to share a shuffled partition (the shuffle brings together the rows of
one speaker, a global check would need a second shuffle of every id; within a partition
the reader's own check applies); an ``utt_id`` synthesised for a log without one is ``<file stem>:<row>`` per
file, and is not checked across files; every file needs the first file's columns, each
with one kind of value.
"""

from __future__ import annotations

import glob as _glob
import logging
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wergap.errors import InputError
from wergap.provenance import provenance
from wergap.data_schemas._tables import NOT_PARQUET, Raw
from wergap.data_schemas._text import format_suffix
from wergap.data_schemas.log import (
    _EXTENSIONS,
    DUPLICATE,
    DUPLICATE_UTT_ID,
    FORMATS,
    UNKNOWN_FORMAT,
    _speaker_regex,
    _Validator,
    read_log,
)
from wergap.scoring import ALIGNER, COUNT_COLUMNS, score
from wergap.speaker_table import NOT_SPEAKER_METADATA, speakers

__all__ = ["DEFAULT_BLOCKSIZE", "dataset_files", "score_speakers", "scored_frame"]

#: Rows per Parquet partition (whole row groups are kept together).
DEFAULT_BLOCKSIZE = 250_000
#: Rows of the first file read to learn the scored table's column types.
META_ROWS = 1_000
#: Rows per batch when reading a slice of a row group larger than a partition.
_SLICE_BATCH_ROWS = 65_536

NO_FILES = "no decode-log files match {source!r} (a folder, a file or a glob of .parquet/.csv/.tsv/.jsonl files)"
MIXED_FORMATS = "the dataset mixes formats {found}: give files of one format, or pass format="
NOT_A_TABLE_FORMAT = "the dask engine reads csv, tsv, jsonl and parquet datasets, not {format!r}"
BAD_BLOCKSIZE = "blocksize must be a positive number of rows, got {value!r}"
EXTRA_COLUMN = ("column {column!r} is not in {first}, the first file: every file of a dataset needs the same "
                "columns (the Dask engine learns them from the first file)")
COLUMN_KIND = ("column {column!r} holds {kind} values where {first}, the first file, holds {expected} values: "
               "every file of a dataset needs one kind of value per column")
MIXED_COLUMN = "column {column!r} mixes kinds of values (numbers and text, say): give it one kind"
SHUFFLE_SCHEMA = "the files' columns do not agree on their types: {reason}"

_TABLE_FORMATS = ("csv", "tsv", "jsonl", "parquet")
# Utterance-level columns never needed by the speaker table (dropped before the shuffle);
# utt_id stays, for the duplicate check across partitions.
_DROP_BEFORE_SHUFFLE = tuple(sorted(c for c in NOT_SPEAKER_METADATA if c not in COUNT_COLUMNS and c != "utt_id"))
# The partition each row comes from, carried through the shuffle: which copy of an utt_id
# came first.
_PARTITION = "_wergap_partition"
# pandas' inferred type of an object column → the kind of value Arrow stores.
_INFERRED_KINDS = {"string": "text", "integer": "number", "floating": "number", "mixed-integer-float": "number",
                   "decimal": "number", "boolean": "boolean", "datetime64": "datetime", "datetime": "datetime"}
_MIXED_KINDS = ("mixed", "mixed-integer")


@dataclass(frozen=True)
class _Chunk:
    """One partition: a whole file, or rows ``[start, stop)`` of a Parquet file."""

    file: str
    format: str
    row_groups: tuple[int, ...] | None = None
    start: int = 0
    #: Rows ``[skip, skip + take)`` of the one row group in ``row_groups``, when that row
    #: group alone is larger than a partition.
    skip: int = 0
    take: int | None = None


def dataset_files(source: str | os.PathLike | Sequence[str | os.PathLike], format: str | None = None) -> tuple[list[str], str]:  # noqa: A002
    """The files of a partitioned decode log, sorted, and their common format.

    Parameters
    ----------
    source : str, Path or sequence of them
        A folder (every ``.parquet``/``.pq``/``.csv``/``.tsv``/``.jsonl`` file under it,
        recursively — the layout ``dask``/``pyarrow`` write; text files may be compressed,
        ``.csv.gz``), a single file, a glob such as ``"logs/part-*.parquet"``, or a list
        of files.
    format : {"csv", "tsv", "jsonl", "parquet"}, optional
        Needed only when the file names do not say it.

    Returns
    -------
    files : list of str
    format : str

    Raises
    ------
    InputError
        No matching file, a format the engine does not read, or mixed formats.
    """
    if format is not None and format not in _TABLE_FORMATS:
        raise InputError(UNKNOWN_FORMAT.format(format=format) if format not in FORMATS
                         else NOT_A_TABLE_FORMAT.format(format=format))
    sources = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    files: list[str] = []
    for item in sources:
        path = Path(item)
        if path.is_dir():
            files += [str(p) for p in sorted(path.rglob("*")) if p.is_file() and format_suffix(p) in _EXTENSIONS
                      and not p.name.startswith((".", "_"))]
        elif path.is_file():
            files.append(str(path))
        else:
            files += sorted(_glob.glob(str(item), recursive=True))
    if not files:
        raise InputError(NO_FILES.format(source=str(source)))
    if format is None:
        found = sorted({_EXTENSIONS.get(format_suffix(Path(f)), "?") for f in files})
        if len(found) > 1:
            raise InputError(MIXED_FORMATS.format(found=", ".join(found)))
        format = found[0]
        if format not in _TABLE_FORMATS:
            raise InputError(NOT_A_TABLE_FORMAT.format(format=format), file=files[0])
    return files, format


def _chunks(files: list[str], fmt: str, blocksize: int) -> list[_Chunk]:
    """Split Parquet files into runs of whole row groups of about ``blocksize`` rows.

    A run closes once it reaches ``blocksize`` rows, so it holds fewer than
    ``2 * blocksize``; a row group larger than ``blocksize`` (pyarrow and pandas write up
    to a million rows in one by default) is read in slices of ``blocksize`` rows instead,
    so that no partition outgrows the memory ``blocksize`` promises.
    """
    if fmt != "parquet":
        return [_Chunk(f, fmt) for f in files]
    import pyarrow as pa
    import pyarrow.parquet as pq

    out: list[_Chunk] = []
    for f in files:
        try:
            meta = pq.ParquetFile(f).metadata
        except (OSError, pa.ArrowException) as err:
            raise InputError(NOT_PARQUET.format(reason=str(err).splitlines()[0]), file=f) from None
        group: list[int] = []
        rows = start = 0
        for i in range(meta.num_row_groups):
            n = meta.row_group(i).num_rows
            if n > blocksize:
                if group:
                    out.append(_Chunk(f, fmt, tuple(group), start))
                    start += rows
                    group, rows = [], 0
                out += [_Chunk(f, fmt, (i,), start + skip, skip, min(blocksize, n - skip))
                        for skip in range(0, n, blocksize)]
                start += n
                continue
            group.append(i)
            rows += n
            if rows >= blocksize:
                out.append(_Chunk(f, fmt, tuple(group), start))
                start += rows
                group, rows = [], 0
        if group or not out or out[-1].file != f:
            out.append(_Chunk(f, fmt, tuple(group), start))
    return out


class _RowGroupValidator(_Validator):
    """read_log's checks on a slice of a Parquet file: errors name the file's row."""

    offset = 0

    def _error(self, message: str, pos: int, column: str | None) -> InputError:
        where = self._where(pos, column)
        return InputError(f"{message} (row {pos + self.offset})", **where)


def _read_chunk(chunk: _Chunk, options: Mapping[str, Any]) -> pd.DataFrame:
    """Read and validate one partition exactly as :func:`wergap.read_log` would."""
    if chunk.row_groups is None:
        return read_log(chunk.file, format=chunk.format, **options)
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(chunk.file)
    if chunk.take is None:
        table = parquet.read_row_groups(list(chunk.row_groups))
    else:
        table = _group_slice(parquet, chunk.row_groups[0], chunk.skip, chunk.take)
    return _validate_rows(table.to_pandas(), chunk.file, chunk.start, options)


def _group_slice(parquet: Any, group: int, skip: int, take: int) -> Any:
    """Rows ``[skip, skip + take)`` of one row group, streamed in batches (an Arrow table)."""
    import pyarrow as pa

    batches, seen = [], 0
    for batch in parquet.iter_batches(batch_size=_SLICE_BATCH_ROWS, row_groups=[group]):
        end = seen + batch.num_rows
        if end > skip:
            first = max(skip, seen)
            batches.append(batch.slice(first - seen, min(end, skip + take) - first))
        seen = end
        if seen >= skip + take:
            break
    return pa.Table.from_batches(batches, schema=parquet.schema_arrow)


def _validate_rows(frame: pd.DataFrame, file: str, start: int, options: Mapping[str, Any]) -> pd.DataFrame:
    """read_log's checks on rows ``start, start + 1, ...`` of the Parquet file ``file``."""
    raw = Raw(frame.reset_index(drop=True), [file], "parquet", len(frame), lambda pos: (file, None), {}, file,
              {"row_positions": True})
    pattern = options.get("speaker_pattern", "sclite")
    validator = _RowGroupValidator(raw, options.get("columns"), _speaker_regex(pattern), pattern,
                                   options.get("drop_invalid", False))
    validator.offset = start
    return validator.run()


def _score_chunk(chunk: _Chunk, index: int, options: Mapping[str, Any], normalization: str, unit: str,
                 schema: _Schema | None) -> tuple[pd.DataFrame, dict]:
    """(scored rows without text, provenance) of partition ``index``, in the dataset's schema."""
    log = _read_chunk(chunk, options)
    scored = score(log, normalization=normalization, unit=unit, n_jobs=1)
    meta = dict(provenance(scored))
    out = _shuffle_columns(scored, index, meta)
    if schema is not None:
        out = _conform(out, schema, chunk.file)
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


@dataclass(frozen=True)
class _Schema:
    """The shuffled table's columns, in order, with the kind of values each holds.

    ``None`` where the first rows hold no value (any kind is then accepted); ``file``
    is where the kinds were learned, for error messages.
    """

    kinds: dict[str, str | None]
    file: str


def _kind(values: pd.Series) -> str | None:
    """What Arrow makes of a column: number, text, boolean, datetime, ... (None: all missing)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return _kind(pd.Series(values.cat.categories)) if values.notna().any() else None
    if not values.notna().any():
        return None
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if dtype != object and pd.api.types.is_string_dtype(dtype):
        return "text"
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    return _INFERRED_KINDS.get(inferred, inferred)


def _conform(out: pd.DataFrame, schema: _Schema, file: str) -> pd.DataFrame:
    """``out`` with the schema's columns in its order, or an error naming the file and column.

    The p2p shuffle stores each partition as Arrow and needs types it can unify: a
    column missing from a file becomes all-missing, an all-missing text column becomes
    Arrow's null type (which unifies with anything), and a column holding another kind
    of value than the first file's (text where it held numbers) is an error here rather
    than an Arrow error deep inside the shuffle.
    """
    for column in out.columns:
        if column not in schema.kinds:
            raise InputError(EXTRA_COLUMN.format(column=column, first=schema.file), file=file, column=column)
    for column, expected in schema.kinds.items():
        if column not in out.columns:
            out[column] = pd.Series(None, index=out.index, dtype=object)
            continue
        kind = _kind(out[column])
        if kind is None:
            if not (pd.api.types.is_numeric_dtype(out[column].dtype)
                    or pd.api.types.is_datetime64_any_dtype(out[column].dtype)):
                out[column] = pd.Series(None, index=out.index, dtype=object)
        elif kind in _MIXED_KINDS:
            raise InputError(MIXED_COLUMN.format(column=column), file=file, column=column)
        elif expected is not None and kind != expected:
            raise InputError(COLUMN_KIND.format(column=column, kind=kind, expected=expected, first=schema.file),
                             file=file, column=column)
    return out[list(schema.kinds)]


def _meta(chunk: _Chunk, options: Mapping[str, Any], normalization: str, unit: str) -> tuple[pd.DataFrame, _Schema]:
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
            log = _validate_rows(batch.to_pandas(), chunk.file, 0, options)
            scored = score(log, normalization=normalization, unit=unit, n_jobs=1)
            sample = _shuffle_columns(scored, 0, provenance(scored))
    if sample is None:
        sample = _score_chunk(chunk, 0, options, normalization, unit, None)[0]
    schema = _Schema({column: _kind(sample[column]) for column in sample.columns}, chunk.file)
    return _conform(sample, schema, chunk.file).iloc[:0], schema


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
    frames, metas, files, fmt, _ = _scored(source, normalization, unit, blocksize, format, speaker_pattern,
                                           drop_invalid, columns)
    return frames, metas, files, fmt


def _scored(source: Any, normalization: str, unit: str, blocksize: int, fmt: str | None, speaker_pattern: str,
            drop_invalid: bool, columns: Mapping[str, str] | None) -> tuple[Any, list, list[str], str, list[_Chunk]]:
    """:func:`scored_frame` and its chunks (the file of each partition)."""
    import dask
    import dask.dataframe as dd

    if not isinstance(blocksize, int) or blocksize < 1:
        raise InputError(BAD_BLOCKSIZE.format(value=blocksize))
    files, fmt = dataset_files(source, fmt)
    _speaker_regex(speaker_pattern)  # fail early on a bad pattern
    options = {"speaker_pattern": speaker_pattern, "drop_invalid": drop_invalid, "columns": columns}
    chunks = _chunks(files, fmt, blocksize)
    meta, schema = _meta(chunks[0], options, normalization, unit)
    parts = [dask.delayed(_score_chunk, nout=2, pure=True)(chunk, i, options, normalization, unit, schema)
             for i, chunk in enumerate(chunks)]
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
    with _scheduler(scheduler, n_workers) as (compute_kwargs, method), \
            dask.config.set({"dataframe.convert-string": False}):
        frames, metas, files, fmt, chunks = _scored(source, normalization, unit, blocksize, format,
                                                     speaker_pattern, drop_invalid, columns)
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
                raise InputError(DUPLICATE_UTT_ID.format(utt_id=dup.utt_id, first=chunks[dup.first].file),
                                 file=chunks[dup.again].file, column="utt_id") from None
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


def _arrow_cause(err: BaseException) -> BaseException | None:
    """The Arrow error behind a failed p2p shuffle (partitions Arrow cannot unify), if any."""
    import pyarrow as pa

    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, pa.ArrowException):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


class _scheduler:
    """Context manager: the ``dask.compute`` keywords and the shuffle method."""

    def __init__(self, scheduler: Any, n_workers: int | None) -> None:
        self.scheduler = scheduler
        self.n_workers = n_workers
        self._client = None
        self._cluster = None

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
