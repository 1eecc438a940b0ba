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
  floats and the metadata columns, never transcripts.

Partitions: a Parquet file is split into chunks of whole row groups of about
``blocksize`` rows; a CSV/TSV/JSON-lines file is one partition (naming the physical line
of a bad row needs the whole file, as quoted fields may span lines) — split large text
logs into several files, or convert them to Parquet.

Differences from :func:`wergap.read_log` on the concatenated log, by design: duplicate
``utt_id`` values are detected within a partition, not across partitions (a global check
would need a shuffle of every id); an ``utt_id`` synthesised for a log without one is
``<file stem>:<row>`` per file.
"""

from __future__ import annotations

import glob as _glob
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from wergap.data_schemas._errors import InputError
from wergap.data_schemas._provenance import provenance
from wergap.data_schemas._tables import NOT_PARQUET, Raw
from wergap.data_schemas.log import _EXTENSIONS, FORMATS, UNKNOWN_FORMAT, _speaker_regex, _Validator, read_log
from wergap.scoring import ALIGNER, COUNT_COLUMNS, score
from wergap.speaker_table import NOT_SPEAKER_METADATA, speakers

__all__ = ["DEFAULT_BLOCKSIZE", "dataset_files", "score_speakers", "scored_frame"]

#: Rows per Parquet partition (whole row groups are kept together).
DEFAULT_BLOCKSIZE = 250_000
#: Rows of the first file read to learn the scored table's column types.
META_ROWS = 1_000

NO_FILES = "no decode-log files match {source!r} (a folder, a file or a glob of .parquet/.csv/.tsv/.jsonl files)"
MIXED_FORMATS = "the dataset mixes formats {found}: give files of one format, or pass format="
NOT_A_TABLE_FORMAT = "the dask engine reads csv, tsv, jsonl and parquet datasets, not {format!r}"
BAD_BLOCKSIZE = "blocksize must be a positive number of rows, got {value!r}"

_TABLE_FORMATS = ("csv", "tsv", "jsonl", "parquet")
# Utterance-level columns never needed by the speaker table (dropped before the shuffle).
_DROP_BEFORE_SHUFFLE = tuple(sorted(c for c in NOT_SPEAKER_METADATA if c not in COUNT_COLUMNS))


@dataclass(frozen=True)
class _Chunk:
    """One partition: a whole file, or rows ``[start, stop)`` of a Parquet file."""

    file: str
    format: str
    row_groups: tuple[int, ...] | None = None
    start: int = 0


def dataset_files(source: str | os.PathLike | Sequence[str | os.PathLike], format: str | None = None) -> tuple[list[str], str]:  # noqa: A002
    """The files of a partitioned decode log, sorted, and their common format.

    Parameters
    ----------
    source : str, Path or sequence of them
        A folder (every ``.parquet``/``.pq``/``.csv``/``.tsv``/``.jsonl`` file under it,
        recursively — the layout ``dask``/``pyarrow`` write), a single file, a glob such
        as ``"logs/part-*.parquet"``, or a list of files.
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
            files += [str(p) for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in _EXTENSIONS
                      and not p.name.startswith((".", "_"))]
        elif path.is_file():
            files.append(str(path))
        else:
            files += sorted(_glob.glob(str(item), recursive=True))
    if not files:
        raise InputError(NO_FILES.format(source=str(source)))
    if format is None:
        found = sorted({_EXTENSIONS.get(Path(f).suffix.lower(), "?") for f in files})
        if len(found) > 1:
            raise InputError(MIXED_FORMATS.format(found=", ".join(found)))
        format = found[0]
        if format not in _TABLE_FORMATS:
            raise InputError(NOT_A_TABLE_FORMAT.format(format=format), file=files[0])
    return files, format


def _chunks(files: list[str], fmt: str, blocksize: int) -> list[_Chunk]:
    """Split Parquet files into runs of whole row groups of about ``blocksize`` rows."""
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
            group.append(i)
            rows += meta.row_group(i).num_rows
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

    frame = pq.ParquetFile(chunk.file).read_row_groups(list(chunk.row_groups)).to_pandas()
    return _validate_rows(frame, chunk.file, chunk.start, options)


def _validate_rows(frame: pd.DataFrame, file: str, start: int, options: Mapping[str, Any]) -> pd.DataFrame:
    """read_log's checks on rows ``start, start + 1, ...`` of the Parquet file ``file``."""
    raw = Raw(frame.reset_index(drop=True), [file], "parquet", len(frame), lambda pos: (file, None), {}, file,
              {"row_positions": True})
    pattern = options.get("speaker_pattern", "sclite")
    validator = _RowGroupValidator(raw, options.get("columns"), _speaker_regex(pattern), pattern,
                                   options.get("drop_invalid", False))
    validator.offset = start
    return validator.run()


def _score_chunk(chunk: _Chunk, options: Mapping[str, Any], normalization: str, unit: str) -> tuple[pd.DataFrame, dict]:
    """(scored rows without text, provenance) of one partition."""
    log = _read_chunk(chunk, options)
    scored = score(log, normalization=normalization, unit=unit, n_jobs=1)
    meta = dict(provenance(scored))
    out = scored.drop(columns=[c for c in _DROP_BEFORE_SHUFFLE if c in scored.columns])
    out.attrs = {}
    return out, meta


def _meta(chunk: _Chunk, options: Mapping[str, Any], normalization: str, unit: str) -> pd.DataFrame:
    """The empty scored frame (column names and types) of the dataset, from its first rows.

    Read from the first :data:`META_ROWS` rows of a Parquet file (the schema is the
    file's), or from the whole first file of a text format, and scored in this process:
    a schema that matches the data exactly, whatever aliases and dtypes it has.
    """
    if chunk.format == "parquet":
        import pyarrow.parquet as pq

        batch = next(pq.ParquetFile(chunk.file).iter_batches(batch_size=META_ROWS), None)
        if batch is not None and batch.num_rows:
            log = _validate_rows(batch.to_pandas(), chunk.file, 0, options)
            scored = score(log, normalization=normalization, unit=unit, n_jobs=1)
            return scored.drop(columns=[c for c in _DROP_BEFORE_SHUFFLE if c in scored.columns]).iloc[:0]
    return _score_chunk(chunk, options, normalization, unit)[0].iloc[:0]


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
        Rows per Parquet partition (whole row groups); bounds each worker's memory.
    format, speaker_pattern, drop_invalid, columns
        As :func:`wergap.read_log`, applied to every file.

    Returns
    -------
    scored : dask.dataframe.DataFrame
        Scored utterances without the text, audio and ``utt_id`` columns (what the
        speaker table needs), one partition per chunk; nothing is computed yet.
    metas : list of dask.delayed.Delayed
        Each partition's provenance dict (compute together with ``scored``).
    files : list of str
    format : str
    """
    import dask
    import dask.dataframe as dd

    if not isinstance(blocksize, int) or blocksize < 1:
        raise InputError(BAD_BLOCKSIZE.format(value=blocksize))
    files, fmt = dataset_files(source, format)
    _speaker_regex(speaker_pattern)  # fail early on a bad pattern
    options = {"speaker_pattern": speaker_pattern, "drop_invalid": drop_invalid, "columns": columns}
    chunks = _chunks(files, fmt, blocksize)
    parts = [dask.delayed(_score_chunk, nout=2, pure=True)(chunk, options, normalization, unit) for chunk in chunks]
    frames = dd.from_delayed([p[0] for p in parts], meta=_meta(chunks[0], options, normalization, unit),
                             verify_meta=False)
    return frames, [p[1] for p in parts], files, fmt


def _speakers_partition(part: pd.DataFrame) -> pd.DataFrame:
    """:func:`wergap.speakers` of one shuffled partition (every speaker whole in it)."""
    if part.empty:
        return _empty_speakers(part)
    out = speakers(part)
    out.attrs = {}
    return out


def _empty_speakers(part: pd.DataFrame) -> pd.DataFrame:
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
    files (see the module docstring for the two by-design differences in validation),
    with memory bounded by the partition size rather than the log size.

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
        scheduler without ``distributed`` (tests, debugging). A ``Client``: use it.
    blocksize : int
        Rows per Parquet partition.
    format, speaker_pattern, drop_invalid, columns
        As :func:`wergap.read_log`.
    n_workers : int, optional
        Worker processes of the local cluster (default: every core).

    Returns
    -------
    speakers : DataFrame
        As :func:`wergap.speakers`, sorted by ``speaker_id``, ``RangeIndex``; its
        ``attrs["wergap"]`` holds the merged provenance.
    provenance : dict
        ``sources``, ``format``, ``rows_read``, ``dropped`` (summed over partitions),
        ``normalization``, ``unit``, ``aligner``, ``empty_references``, ``engine``,
        ``partitions``, ``utterances``.
    """
    import dask

    with _scheduler(scheduler, n_workers) as compute_kwargs:
        frames, metas, files, fmt = scored_frame(
            source, normalization=normalization, unit=unit, blocksize=blocksize, format=format,
            speaker_pattern=speaker_pattern, drop_invalid=drop_invalid, columns=columns,
        )
        meta_spk = _empty_speakers(frames._meta)
        shuffled = frames.shuffle("speaker_id", npartitions=frames.npartitions)
        per_speaker = shuffled.map_partitions(_speakers_partition, meta=meta_spk)
        with warnings.catch_warnings():
            # The partitions' provenance (delayed) shares its tasks with the frame
            # (expressions): one compute runs each partition once; dask warns about
            # mixing the two kinds of graph, which is intended here.
            warnings.filterwarnings("ignore", message="Computing mixed collections")
            table, metas = dask.compute(per_speaker, metas, **compute_kwargs)
    table = table.sort_values("speaker_id", kind="stable").reset_index(drop=True)
    for col in ("utterances", "ref_words", "errors", "substitutions", "deletions", "insertions", "hits"):
        if col in table.columns and table[col].dtype == "float64":  # an empty partition's dtype
            table[col] = table[col].astype("int64")
    merged = _merge_provenance(metas, files, fmt)
    merged["utterances"] = int(table["utterances"].sum()) if len(table) else 0
    if "aligner" not in merged:
        merged["aligner"] = ALIGNER
    table.attrs["wergap"] = merged
    return table, merged


class _scheduler:
    """Context manager: the ``dask.compute`` keywords for the requested scheduler."""

    def __init__(self, scheduler: Any, n_workers: int | None) -> None:
        self.scheduler = scheduler
        self.n_workers = n_workers
        self._client = None
        self._cluster = None

    def __enter__(self) -> dict:
        import dask

        s = self.scheduler
        # Task-based shuffle: it accepts partitions whose dtypes differ slightly (a column
        # all-missing in one file), where the p2p shuffle insists on one Arrow schema.
        self._config = dask.config.set({"dataframe.shuffle.method": "tasks"})
        if s in ("threads", "synchronous", "sync", "processes", "single-threaded"):
            return {"scheduler": s}
        from distributed import Client, LocalCluster

        if s is None:
            self._cluster = LocalCluster(
                n_workers=self.n_workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self._client = Client(self._cluster)
        elif isinstance(s, Client):
            return {}
        else:
            self._client = Client(str(s))
        return {}

    def __exit__(self, *exc: object) -> None:
        self._config.__exit__(None, None, None)
        if self._client is not None and self._cluster is not None:
            self._client.close()
            self._cluster.close()
        elif self._client is not None:
            self._client.close()
