"""The files of a partitioned decode log and the partitions the Dask engine reads them in.

Partitions: a Parquet file is split into chunks of whole row groups of about
``blocksize`` rows (fewer than twice that), and a row group larger than ``blocksize``
(pyarrow and pandas write up to a million rows in one by default) into slices of
``blocksize`` rows; a CSV/TSV/JSON-lines file is one partition (naming the physical line
of a bad row needs the whole file, as quoted fields may span lines) — split large text
logs into several files, or convert them to Parquet.

Each partition is read and validated exactly as :func:`wergap.read_log` reads a file
(through :func:`wergap.data_schemas.log.validate_frame` for a slice of a Parquet file), so
errors name the file, the line (CSV/TSV/JSON lines) or the file's 0-based row (Parquet),
and the column.
"""

from __future__ import annotations

import glob as _glob
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from wergap.data_schemas.log import (
    FORMATS,
    NOT_PARQUET,
    UNKNOWN_FORMAT,
    format_from_name,
    read_log,
    validate_frame,
)
from wergap.errors import InputError

#: Rows per Parquet partition (whole row groups are kept together).
DEFAULT_BLOCKSIZE = 250_000
#: Rows per batch when reading a slice of a row group larger than a partition.
SLICE_BATCH_ROWS = 65_536
#: The formats the engine reads (one file is one table; no ref/hyp pairs).
TABLE_FORMATS = ("csv", "tsv", "jsonl", "parquet")

NO_FILES = "no decode-log files match {source!r} (a folder, a file or a glob of .parquet/.csv/.tsv/.jsonl files)"
MIXED_FORMATS = "the dataset mixes formats {found}: give files of one format, or pass format="
NOT_A_TABLE_FORMAT = "the dask engine reads csv, tsv, jsonl and parquet datasets, not {format!r}"


@dataclass(frozen=True)
class Chunk:
    """One partition: a whole file, or rows ``[start, stop)`` of a Parquet file."""

    file: str
    format: str
    row_groups: tuple[int, ...] | None = None
    start: int = 0
    #: Rows ``[skip, skip + take)`` of the one row group in ``row_groups``, when that row
    #: group alone is larger than a partition.
    skip: int = 0
    take: int | None = None


def dataset_files(
    source: str | os.PathLike | Sequence[str | os.PathLike], format: str | None = None
) -> tuple[list[str], str]:  # noqa: A002
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
    if format is not None and format not in TABLE_FORMATS:
        raise InputError(
            UNKNOWN_FORMAT.format(format=format) if format not in FORMATS else NOT_A_TABLE_FORMAT.format(format=format)
        )
    sources = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    files: list[str] = []
    for item in sources:
        path = Path(item)
        if path.is_dir():
            files += [
                str(p)
                for p in sorted(path.rglob("*"))
                if p.is_file() and format_from_name(p) is not None and not p.name.startswith((".", "_"))
            ]
        elif path.is_file():
            files.append(str(path))
        else:
            files += sorted(_glob.glob(str(item), recursive=True))
    if not files:
        raise InputError(NO_FILES.format(source=str(source)))
    if format is None:
        found = sorted({format_from_name(f) or "?" for f in files})
        if len(found) > 1:
            raise InputError(MIXED_FORMATS.format(found=", ".join(found)))
        format = found[0]
        if format not in TABLE_FORMATS:
            raise InputError(NOT_A_TABLE_FORMAT.format(format=format), file=files[0])
    return files, format


def make_chunks(files: list[str], fmt: str, blocksize: int) -> list[Chunk]:
    """Split Parquet files into runs of whole row groups of about ``blocksize`` rows.

    A run closes once it reaches ``blocksize`` rows, so it holds fewer than
    ``2 * blocksize``; a row group larger than ``blocksize`` (pyarrow and pandas write up
    to a million rows in one by default) is read in slices of ``blocksize`` rows instead,
    so that no partition outgrows the memory ``blocksize`` promises.
    """
    if fmt != "parquet":
        return [Chunk(f, fmt) for f in files]
    import pyarrow as pa
    import pyarrow.parquet as pq

    out: list[Chunk] = []
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
                    out.append(Chunk(f, fmt, tuple(group), start))
                    start += rows
                    group, rows = [], 0
                out += [
                    Chunk(f, fmt, (i,), start + skip, skip, min(blocksize, n - skip)) for skip in range(0, n, blocksize)
                ]
                start += n
                continue
            group.append(i)
            rows += n
            if rows >= blocksize:
                out.append(Chunk(f, fmt, tuple(group), start))
                start += rows
                group, rows = [], 0
        if group or not out or out[-1].file != f:
            out.append(Chunk(f, fmt, tuple(group), start))
    return out


def read_chunk(chunk: Chunk, options: Mapping[str, Any]) -> pd.DataFrame:
    """Read and validate one partition exactly as :func:`wergap.read_log` would."""
    if chunk.row_groups is None:
        return read_log(chunk.file, format=chunk.format, **options)
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(chunk.file)
    if chunk.take is None:
        table = parquet.read_row_groups(list(chunk.row_groups))
    else:
        table = group_slice(parquet, chunk.row_groups[0], chunk.skip, chunk.take)
    return validate_rows(table.to_pandas(), chunk.file, chunk.start, options)


def group_slice(parquet: Any, group: int, skip: int, take: int) -> Any:
    """Rows ``[skip, skip + take)`` of one row group, streamed in batches (an Arrow table)."""
    import pyarrow as pa

    batches, seen = [], 0
    for batch in parquet.iter_batches(batch_size=SLICE_BATCH_ROWS, row_groups=[group]):
        end = seen + batch.num_rows
        if end > skip:
            first = max(skip, seen)
            batches.append(batch.slice(first - seen, min(end, skip + take) - first))
        seen = end
        if seen >= skip + take:
            break
    return pa.Table.from_batches(batches, schema=parquet.schema_arrow)


def validate_rows(frame: pd.DataFrame, file: str, start: int, options: Mapping[str, Any]) -> pd.DataFrame:
    """read_log's checks on rows ``start, start + 1, ...`` of the Parquet file ``file``."""
    return validate_frame(
        frame,
        source=file,
        first_row=start,
        format="parquet",
        speaker_pattern=options.get("speaker_pattern", "sclite"),
        drop_invalid=options.get("drop_invalid", False),
        columns=options.get("columns"),
    )
