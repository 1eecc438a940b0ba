"""Speaker embeddings: read them, average them per speaker, attach them to the speaker table.

Embedding k-means (Dheram et al., Interspeech 2022) clusters speakers by a fixed-length
voice vector (x-vector, ECAPA-TDNN, ...). Those vectors arrive in many shapes — a Parquet
file with a list column or with one column per dimension, a NumPy ``.npy`` matrix with its
ids beside it, an ``.npz`` archive, a DataFrame in a notebook — keyed by speaker or by
utterance. :func:`read_embeddings` turns every one of them into one table
(``speaker_id`` or ``utt_id``, ``embedding``: 1-D ``float32`` arrays, all the same length),
and says exactly where a bad vector is, so a NaN from a crashed encoder run never reaches
k-means. :func:`speaker_mean_embeddings` averages utterance vectors per speaker, and
:func:`attach_embeddings` adds them to the speaker table, counting the speakers left
without one.

Rows are named like the log reader names them: a DataFrame's 0-based position as
``row``; in a Parquet/NumPy file (which has no lines) the 0-based row in the message; in
an ids text file the 1-based line.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from wergap._strings import isin
from wergap.data_schemas._text import check_file
from wergap.errors import InputError
from wergap.provenance import add_drops, carry, provenance

#: Names of a column holding one whole vector per row (first found wins).
VECTOR_COLUMNS = ("embedding", "vector", "emb", "xvector")
#: The two keys an embedding table can have.
KEYS = ("speaker_id", "utt_id")
#: Other names accepted for the keys (case-insensitive).
KEY_ALIASES: dict[str, tuple[str, ...]] = {
    "utt_id": ("utt", "uttid", "utterance_id", "utterance"),
    "speaker_id": ("spk", "speaker", "spk_id", "speakerid"),
}
#: Where :func:`attach_embeddings` records its counts, inside ``attrs["wergap"]``.
PROVENANCE_KEY = "embeddings"
NO_MATCH = (
    "none of the {n:,} embedding speakers matches a speaker of the log (an embedding is for "
    "{example!r}, a log speaker is {speaker!r}): check that both use the same speaker or utterance ids"
)

# Messages (module constants so tests can assert them).
NOT_FOUND = "no such file"
IS_DIRECTORY = "is a directory, expected an embeddings file"
EMPTY_FILE = "file is empty: expected embeddings"
NO_ROWS = "no embeddings: expected at least one row"
BAD_SOURCE = "embeddings must be a path or a pandas DataFrame, not {kind}"
UNKNOWN_SUFFIX = "cannot tell the embeddings format from the file name: expected .parquet, .npy or .npz"
NOT_PARQUET = "cannot be read as Parquet: {reason}"
NOT_NUMPY = "cannot be read as a NumPy {kind} file: {reason}"
NOT_2D = "expected a 2-D array (one row per id, one column per dimension), got shape {shape}"
NEEDS_IDS = "a .npy file holds no ids: pass ids= (a list, or a text/CSV file with one id per row)"
IDS_NOT_ALLOWED = "ids= is only for .npy files; this source carries its own ids"
NPZ_ARRAYS = "expected arrays 'ids' and 'embeddings' in the .npz file, found {found}"
ID_COUNT = "{n_ids} ids for {n_rows} embedding rows: expected exactly one id per row"
BAD_KEY = "key must be 'speaker_id' or 'utt_id', got {key!r}"
KEY_NOT_FOUND = "no {key!r} column (or {aliases}); the table has: {have}"
NO_KEY = "no id column: expected 'speaker_id' or 'utt_id' (or an alias: {aliases}); the table has: {have}"
NO_VECTOR = (
    "no embedding column: expected a column of vectors named one of "
    + ", ".join(VECTOR_COLUMNS)
    + ", or numbered columns (0, 1, ... or e0, e1, ... or emb_0, emb_1, ...); the table has: {have}"
)
NUMBERED_GAP = "numbered embedding columns must run from 0 (or 1) without gaps: {missing!r} is missing"
NOT_A_NUMBER_COLUMN = "expected numbers in an embedding dimension column, got {value!r}"
MISSING_ID = "expected an id, got an empty value"
DUPLICATE_ID = "duplicate {key} {id!r} (first at {first})"
MISSING_VECTOR = "expected a vector, got an empty value"
NOT_NUMERIC = "expected a 1-D vector of numbers, got {value}"
WRONG_DIMENSION = "expected {expected} dimensions (as most rows have), got {found}"
NOT_FINITE = "vector has a non-finite value ({value}) at dimension {index}"
ZERO_DIMENSIONS = "vectors have 0 dimensions: expected at least one"
LOG_COLUMNS = "the log has no {column!r} column: expected utt_id and speaker_id to map utterances to speakers"
NO_SPEAKER_MAP = (
    "utterance embeddings need each utterance's speaker: pass log= (a table with utt_id and "
    "speaker_id) or keep a speaker_id column beside utt_id"
)
NO_SPEAKER_ID = "the speaker table has no 'speaker_id' column"
NO_UTTERANCE_LEFT = "no embedded utterance belongs to a speaker in the log"

# Drop reasons (keys of provenance["dropped"]) with drop_invalid=True.
DROP_MISSING_ID = "missing id"
DROP_DUPLICATE = "duplicate id"
DROP_MISSING_VECTOR = "missing vector"
DROP_NOT_NUMERIC = "non-numeric vector"
DROP_DIMENSION = "wrong dimension"
DROP_NOT_FINITE = "non-finite vector"
DROP_NOT_IN_LOG = "utterance not in log"

_NUMBERED = re.compile(r"^(|e|emb|emb_|dim|dim_)(\d+)$", re.IGNORECASE)
_MISSING, _NOT_NUMERIC = -1, -2


# ---------------------------------------------------------------------------- public


def read_embeddings(
    source: str | Path | pd.DataFrame,
    *,
    ids: str | Path | Sequence[Any] | None = None,
    key: str | None = None,
    drop_invalid: bool = False,
) -> pd.DataFrame:
    """Read speaker or utterance embeddings into one validated table.

    Parameters
    ----------
    source : path or DataFrame
        - ``.parquet`` / ``.pq``: an id column and either a column of vectors (list or
          array per row) named ``embedding``, ``vector``, ``emb`` or ``xvector``, or one
          column per dimension (``0..D-1``, ``e0..``, ``emb_0..``, ``dim_0..``; numbering
          may start at 1). The output of ``wergap embed`` (``utt_id``, ``speaker_id``,
          ``embedding``) reads as is.
        - ``.npy``: a 2-D array, one row per id; the ids come from ``ids=``.
        - ``.npz``: arrays ``ids`` (strings) and ``embeddings`` (2-D).
        - a DataFrame shaped like the Parquet case.
    ids : path or sequence, optional
        Only for ``.npy``: a list of ids, or a file of ids — plain text with one id per
        line, or a ``.csv``/``.tsv`` whose ``key`` column (else ``id``, else its first
        column) holds them.
    key : {"speaker_id", "utt_id"}, optional
        What the ids are. Default: ``utt_id`` when the table has an utterance-id column,
        else ``speaker_id``; for ``.npy``/``.npz`` (unnamed ids) ``speaker_id``.
    drop_invalid : bool, default False
        Drop bad rows (missing or duplicate id — the first occurrence is kept —, missing,
        non-numeric, wrong-length or non-finite vector) and count them by reason in
        ``attrs["wergap"]["dropped"]`` instead of raising.

    Returns
    -------
    DataFrame
        ``key`` (str), for utterance tables also ``speaker_id`` when the source had it,
        and ``embedding``: one 1-D ``float32`` array per row, every one of the same
        length. Other columns are not kept. ``attrs["wergap"]`` records ``sources``,
        ``format``, ``rows_read``, ``dropped`` and ``embeddings`` = ``{"key", "dim"}``.

    Raises
    ------
    InputError
        Missing or unreadable file, no id or vector column, an id count that does not
        match the rows, and (unless ``drop_invalid``) the first bad row, named by file,
        row and column.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> emb = read_embeddings(pd.DataFrame({"speaker_id": ["a", "b"], "e0": [1.0, 0.0], "e1": [0.0, 1.0]}))
    >>> emb["embedding"].iloc[1]
    array([0., 1.], dtype=float32)
    """
    if key is not None and key not in KEYS:
        raise InputError(BAD_KEY.format(key=key))
    if isinstance(source, pd.DataFrame):
        if ids is not None:
            raise InputError(IDS_NOT_ALLOWED)
        raw = _from_frame(source, key=key, file=None, fmt="dataframe")
    elif isinstance(source, (str, Path)):
        path = Path(source)
        check_file(path, is_directory=IS_DIRECTORY, empty=EMPTY_FILE)
        suffix = path.suffix.lower()
        if suffix in (".parquet", ".pq"):
            if ids is not None:
                raise InputError(IDS_NOT_ALLOWED, file=str(path))
            raw = _from_parquet(path, key=key)
        elif suffix == ".npy":
            raw = _from_npy(path, ids=ids, key=key or "speaker_id")
        elif suffix == ".npz":
            if ids is not None:
                raise InputError(IDS_NOT_ALLOWED, file=str(path))
            raw = _from_npz(path, key=key or "speaker_id")
        else:
            raise InputError(UNKNOWN_SUFFIX, file=str(path))
    else:
        raise InputError(BAD_SOURCE.format(kind=type(source).__name__))
    return _validate(raw, drop_invalid=drop_invalid)


def embedding_matrix(values: pd.Series, *, column: str = "embedding") -> tuple[np.ndarray, np.ndarray]:
    """Stack a column of vectors into a matrix, for estimators that read a speaker table.

    Parameters
    ----------
    values : Series
        One vector (array or list) per row, or a missing value (``None``/NaN).
    column : str, default "embedding"
        Named in errors.

    Returns
    -------
    matrix : ndarray of float32, shape (rows with a vector, dim)
    present : ndarray of bool, shape (len(values),)
        Which rows had a vector (in order).

    Raises
    ------
    InputError
        A vector that is not numeric, not of the common length, or not finite (naming
        the 0-based row of ``values`` and the column).
    """
    vectors = _column_vectors(values.to_numpy(dtype=object))
    lengths = vectors.lengths
    present = lengths != _MISSING
    bad = np.flatnonzero(lengths == _NOT_NUMERIC)
    if bad.size:
        pos = int(bad[0])
        raise InputError(NOT_NUMERIC.format(value=_describe(values.iloc[pos])), row=pos, column=column)
    if not present.any():
        return np.zeros((0, 0), dtype=np.float32), present
    dim = _common_dimension(lengths[present])
    wrong = np.flatnonzero(present & (lengths != dim))
    if wrong.size:
        pos = int(wrong[0])
        raise InputError(WRONG_DIMENSION.format(expected=dim, found=int(lengths[pos])), row=pos, column=column)
    matrix = vectors.matrix(present, dim)
    finite = np.isfinite(matrix)
    if not finite.all():
        row, index = (int(v) for v in np.argwhere(~finite)[0])
        pos = int(np.flatnonzero(present)[row])
        raise InputError(NOT_FINITE.format(value=matrix[row, index], index=index), row=pos, column=column)
    return matrix, present


def speaker_mean_embeddings(emb: pd.DataFrame, log: pd.DataFrame | None = None) -> pd.DataFrame:
    """Average utterance embeddings per speaker (the per-speaker vector k-means clusters).

    Parameters
    ----------
    emb : DataFrame
        Embeddings as :func:`read_embeddings` returns them (any source it accepts is read
        first). A table already keyed by ``speaker_id`` is returned as a copy.
    log : DataFrame, optional
        A table with ``utt_id`` and ``speaker_id`` (the decode log) mapping utterances
        to speakers; it takes precedence over a ``speaker_id`` column in ``emb``.
        Embedded utterances the log does not know are dropped and counted as
        ``"utterance not in log"``.

    Returns
    -------
    DataFrame
        ``speaker_id`` (sorted), ``embedding`` (float32, the mean of the speaker's
        utterance vectors — not length-normalised; normalisation is the clustering's
        choice), ``embedded_utterances`` (how many vectors were averaged).
    """
    emb = _as_embeddings(emb)
    meta = provenance(emb)
    key = meta.get(PROVENANCE_KEY, {}).get("key", "speaker_id" if "speaker_id" in emb.columns else "utt_id")
    if key == "speaker_id":
        return emb.copy()
    utt = emb["utt_id"]
    dropped = 0
    if log is not None:
        for column in ("utt_id", "speaker_id"):
            if column not in log.columns:
                raise InputError(LOG_COLUMNS.format(column=column), column=column)
        pairs = log[["utt_id", "speaker_id"]].drop_duplicates("utt_id")
        mapping = pd.Series(
            pairs["speaker_id"].astype("str").to_numpy(), index=pairs["utt_id"].astype("str").to_numpy()
        )
        speaker = utt.map(mapping)
        known = speaker.notna().to_numpy()
        dropped = int((~known).sum())
    elif "speaker_id" in emb.columns:
        speaker = emb["speaker_id"]
        known = np.ones(len(emb), dtype=bool)
    else:
        raise InputError(NO_SPEAKER_MAP)
    if not known.any():
        raise InputError(NO_UTTERANCE_LEFT, column="utt_id")
    matrix = np.stack(emb["embedding"].to_numpy()[known]).astype(np.float64)
    codes, names = pd.factorize(speaker[known].astype(str), sort=True)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=len(names))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    sums = np.add.reduceat(matrix[order], starts, axis=0)
    means = (sums / counts[:, None]).astype(np.float32)
    out = pd.DataFrame(
        {
            "speaker_id": pd.Series(np.asarray(names, dtype=object), dtype="str"),
            "embedding": _object_column(means),
            "embedded_utterances": counts.astype(np.int64),
        }
    )
    carry(emb, out)
    add_drops(out, DROP_NOT_IN_LOG, dropped)
    out.attrs["wergap"][PROVENANCE_KEY] = {
        "key": "speaker_id",
        "dim": int(means.shape[1]),
        "utterances": int(known.sum()),
    }
    return out


def attach_embeddings(
    speakers: pd.DataFrame, emb: pd.DataFrame | str | Path, log: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Return a copy of the speaker table with an ``embedding`` column.

    Parameters
    ----------
    speakers : DataFrame
        The speaker table (``speaker_id``, ...). An existing ``embedding`` column is
        replaced.
    emb : DataFrame or path
        Speaker or utterance embeddings, in any form :func:`read_embeddings` reads
        (utterance vectors are averaged with :func:`speaker_mean_embeddings`).
    log : DataFrame, optional
        Maps utterances to speakers when ``emb`` is keyed by ``utt_id``.

    Returns
    -------
    DataFrame
        ``speakers`` with ``embedding`` (object column: a 1-D float32 array, or ``None``
        for a speaker without one). ``attrs["wergap"]["embeddings"]`` records ``dim``,
        ``speakers_with_embedding``, ``speakers_without_embedding`` and
        ``embeddings_without_speaker`` (vectors of ids not in the table); the reader's
        drop counts are added to ``dropped``.
    """
    if "speaker_id" not in speakers.columns:
        raise InputError(NO_SPEAKER_ID, column="speaker_id")
    emb = _as_embeddings(emb)
    per_speaker = speaker_mean_embeddings(emb, log)
    lookup = pd.Series(per_speaker["embedding"].to_numpy(), index=per_speaker["speaker_id"].astype(str).to_numpy())
    ids = speakers["speaker_id"].astype(str)
    found = isin(ids, lookup.index)
    if len(lookup) and not found.any():
        sources = ", ".join(map(str, provenance(emb).get("sources", []))) or None
        raise InputError(
            NO_MATCH.format(
                n=len(lookup), example=str(lookup.index[0]), speaker=str(ids.iloc[0]) if len(ids) else "none"
            ),
            file=sources,
        )
    column = np.full(len(speakers), None, dtype=object)
    column[found] = lookup.reindex(ids[found].to_numpy()).to_numpy()
    out = speakers.copy()
    out["embedding"] = pd.Series(column, index=out.index, dtype=object)
    meta = provenance(out)
    for reason, rows in provenance(per_speaker)["dropped"].items():
        meta["dropped"][reason] = int(meta["dropped"].get(reason, 0)) + int(rows)
    dim = provenance(per_speaker).get(PROVENANCE_KEY, {}).get("dim")
    meta[PROVENANCE_KEY] = {
        "dim": dim,
        "sources": list(provenance(emb).get("sources", [])),
        "speakers_with_embedding": int(found.sum()),
        "speakers_without_embedding": int((~found).sum()),
        "embeddings_without_speaker": int((~isin(lookup.index, ids)).sum()),
    }
    return out


# ---------------------------------------------------------------------------- sources


class _Vectors:
    """Vectors as read: a length per row (``-1`` missing, ``-2`` not numeric) and a way
    to gather the rows of one length into a float32 matrix."""

    def __init__(self, lengths: np.ndarray, gather: Callable[[np.ndarray, int], np.ndarray]):
        self.lengths = lengths
        self._gather = gather

    def matrix(self, rows: np.ndarray, dim: int) -> np.ndarray:
        """float32 matrix of the ``rows`` (bool mask; all of length ``dim``)."""
        return self._gather(rows, dim)


class _Raw:
    """A table before validation: ids, optional speaker ids, vectors, where rows are."""

    def __init__(
        self,
        *,
        ids: np.ndarray,
        key: str,
        vectors: _Vectors,
        file: str | None,
        fmt: str,
        vector_column: str,
        key_column: str | None = None,
        speaker: np.ndarray | None = None,
        ids_file: str | None = None,
        ids_first_line: int = 1,
        upstream: dict | None = None,
    ):
        self.ids, self.key, self.vectors = ids, key, vectors
        self.upstream = upstream or {}  # provenance stored in the file (e.g. by wergap embed)
        self.file, self.format, self.vector_column = file, fmt, vector_column
        self.key_column = key_column or key
        self.speaker = speaker
        self.ids_file = ids_file
        self.ids_first_line = ids_first_line

    def error(self, message: str, pos: int, column: str, *, in_ids_file: bool = False) -> InputError:
        if in_ids_file and self.ids_file is not None:
            return InputError(message, file=self.ids_file, row=pos + self.ids_first_line, column=column)
        if self.file is None:
            return InputError(message, row=pos, column=column)
        return InputError(f"{message} (row {pos})", file=self.file, column=column)


def _find_key(columns: Sequence[Any], key: str | None, file: str | None) -> tuple[str, str | None]:
    """(column holding the key, its canonical name) and the speaker column of an utt table."""
    names = {str(c).lower(): c for c in columns}
    have = ", ".join(map(str, columns))

    def lookup(canonical: str) -> Any:
        for name in (canonical, *KEY_ALIASES[canonical]):
            if name in names:
                return names[name]
        return None

    if key is not None:
        found = lookup(key)
        if found is None:
            aliases = ", ".join(KEY_ALIASES[key])
            raise InputError(KEY_NOT_FOUND.format(key=key, aliases=aliases, have=have), file=file, column=key)
        return key, found
    for canonical in ("utt_id", "speaker_id"):
        found = lookup(canonical)
        if found is not None:
            return canonical, found
    aliases = ", ".join(a for names_ in KEY_ALIASES.values() for a in names_)
    raise InputError(NO_KEY.format(aliases=aliases, have=have), file=file)


def _from_frame(frame: pd.DataFrame, *, key: str | None, file: str | None, fmt: str) -> _Raw:
    if len(frame) == 0:
        raise InputError(NO_ROWS, file=file)
    canonical, key_column = _find_key(list(frame.columns), key, file)
    speaker = None
    if canonical == "utt_id":
        names = {str(c).lower(): c for c in frame.columns}
        for name in ("speaker_id", *KEY_ALIASES["speaker_id"]):
            if name in names:
                speaker = _id_values(frame[names[name]])
                break
    vector_column, vectors = _frame_vectors(frame, file)
    return _Raw(
        ids=_id_values(frame[key_column]),
        key=canonical,
        vectors=vectors,
        file=file,
        fmt=fmt,
        vector_column=vector_column,
        key_column=str(key_column),
        speaker=speaker,
    )


def _frame_vectors(frame: pd.DataFrame, file: str | None) -> tuple[str, _Vectors]:
    lower = {str(c).lower(): c for c in frame.columns}
    for name in VECTOR_COLUMNS:
        if name in lower:
            column = lower[name]
            return str(column), _column_vectors(frame[column].to_numpy(dtype=object))
    numbered: dict[str, dict[int, Any]] = {}
    for column in frame.columns:
        match = _NUMBERED.match(str(column))
        if match:
            numbered.setdefault(match.group(1).lower(), {})[int(match.group(2))] = column
    if not numbered:
        raise InputError(NO_VECTOR.format(have=", ".join(map(str, frame.columns))), file=file)
    prefix = max(numbered, key=lambda p: (len(numbered[p]), p == ""))
    by_index = numbered[prefix]
    start = 0 if 0 in by_index else 1
    for i in range(start, start + len(by_index)):
        if i not in by_index:
            first = _NUMBERED.match(str(next(iter(by_index.values()))))
            assert first is not None  # by_index holds numbered columns only
            written = first.group(1)
            raise InputError(NUMBERED_GAP.format(missing=f"{written}{i}"), file=file)
    columns = [by_index[i] for i in range(start, start + len(by_index))]
    block = frame[columns]
    for column in columns:
        values = block[column]
        if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            converted = pd.to_numeric(values, errors="coerce")
            bad = converted.isna() & values.notna()
            if bad.any():
                pos = int(np.flatnonzero(bad.to_numpy())[0])
                message = NOT_A_NUMBER_COLUMN.format(value=values.iloc[pos])
                raise (
                    InputError(message, row=pos, column=str(column))
                    if file is None
                    else InputError(f"{message} (row {pos})", file=file, column=str(column))
                )
    matrix = block.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    lengths = np.full(len(frame), matrix.shape[1], dtype=np.int64)
    return f"{columns[0]}..{columns[-1]}", _Vectors(lengths, lambda rows, dim: matrix[rows].astype(np.float32))


def _column_vectors(values: np.ndarray) -> _Vectors:
    """Lengths and a gatherer for an object column of vectors (arrays, lists, missing)."""
    n = len(values)
    missing = np.fromiter((v is None for v in values), dtype=bool, count=n)
    arrays_only = [v for v in values if v is not None]
    if arrays_only and all(type(v) is np.ndarray and v.ndim == 1 and v.dtype.kind in "fiu" for v in arrays_only):
        # Fast path (a table wergap wrote): numeric 1-D arrays of one length, or None.
        if len({v.shape[0] for v in arrays_only}) == 1:
            stacked = np.stack(arrays_only).astype(np.float32, copy=False)
            lengths = np.where(missing, _MISSING, stacked.shape[1]).astype(np.int64)
            position = np.cumsum(~missing) - 1  # row -> row of stacked

            def gather_stacked(rows: np.ndarray, dim: int) -> np.ndarray:
                return stacked[position[rows]]

            return _Vectors(lengths, gather_stacked)
    lengths = np.empty(n, dtype=np.int64)
    arrays: dict[int, np.ndarray] = {}  # row -> its vector (rows with one)
    for i, value in enumerate(values):
        if value is None or (np.isscalar(value) and not isinstance(value, (str, bytes)) and pd.isna(value)):
            lengths[i] = _MISSING
            continue
        if isinstance(value, (str, bytes)):
            lengths[i] = _NOT_NUMERIC
            continue
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            lengths[i] = _NOT_NUMERIC
            continue
        if array.ndim != 1:
            lengths[i] = _NOT_NUMERIC
            continue
        lengths[i] = array.shape[0]
        arrays[i] = array

    def gather(rows: np.ndarray, dim: int) -> np.ndarray:
        picked = [arrays[i] for i in np.flatnonzero(rows).tolist()]
        if not picked:
            return np.zeros((0, dim), dtype=np.float32)
        return np.stack(picked).astype(np.float32)

    return _Vectors(lengths, gather)


def _arrow_vectors(column: pa.ChunkedArray) -> _Vectors | None:
    """Fast path for a Parquet list column of numbers; None when it is something else."""
    kind = column.type
    if not (pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)):
        return None
    if not (pa.types.is_floating(kind.value_type) or pa.types.is_integer(kind.value_type)):
        return None
    array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if pa.types.is_fixed_size_list(kind):
        lengths = np.full(len(array), kind.list_size, dtype=np.int64)
    else:
        lengths = pc.list_value_length(array).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    null = array.is_null().to_numpy(zero_copy_only=False)
    # float32 is what we keep; a null inside a vector becomes NaN (then "non-finite").
    flat = array.flatten().cast(pa.float32(), safe=False).to_numpy(zero_copy_only=False)
    sizes = np.where(null, 0, lengths)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    lengths = np.where(null, _MISSING, lengths)

    def gather(rows: np.ndarray, dim: int) -> np.ndarray:
        present = ~null
        if (sizes[present] == dim).all():  # the usual case: one block, no index matrix
            return flat.reshape(-1, dim)[rows[present]]
        index = starts[rows][:, None] + np.arange(dim)
        return flat[index]

    return _Vectors(lengths, gather)


def _from_parquet(path: Path, *, key: str | None) -> _Raw:
    file = str(path)
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as err:
        raise InputError(NOT_PARQUET.format(reason=str(err).splitlines()[0]), file=file) from None
    names = table.column_names
    lower = {name.lower(): name for name in names}
    upstream = _stored_provenance(table)
    vector_name = next((lower[n] for n in VECTOR_COLUMNS if n in lower), None)
    vectors = _arrow_vectors(table.column(vector_name)) if vector_name is not None else None
    if vector_name is None or vectors is None:  # numbered columns, or an unusual list type: the DataFrame path
        raw = _from_frame(table.to_pandas(), key=key, file=file, fmt="parquet")
        raw.upstream = upstream
        return raw
    if table.num_rows == 0:
        raise InputError(NO_ROWS, file=file)
    canonical, key_column = _find_key(names, key, file)
    speaker = None
    if canonical == "utt_id":
        for name in ("speaker_id", *KEY_ALIASES["speaker_id"]):
            if name in lower:
                speaker = _id_values(table.column(lower[name]).to_pandas())
                break
    ids = _id_values(table.column(key_column).to_pandas())
    return _Raw(
        ids=ids,
        key=canonical,
        vectors=vectors,
        file=file,
        fmt="parquet",
        vector_column=vector_name,
        key_column=key_column,
        speaker=speaker,
        upstream=upstream,
    )


def _stored_provenance(table: pa.Table) -> dict:
    """``attrs["wergap"]`` saved in a Parquet file (pandas' or pyarrow's metadata), or {}."""
    metadata = table.schema.metadata or {}
    try:
        if b"PANDAS_ATTRS" in metadata:
            attrs = json.loads(metadata[b"PANDAS_ATTRS"])
        else:
            attrs = (table.schema.pandas_metadata or {}).get("attributes", {})
    except (ValueError, TypeError):
        return {}
    stored = attrs.get("wergap") if isinstance(attrs, dict) else None
    return stored if isinstance(stored, dict) else {}


def _load_numpy(path: Path, kind: str) -> Any:
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(NOT_NUMPY.format(kind=kind, reason=reason), file=str(path)) from None


def _matrix_vectors(matrix: np.ndarray, file: str) -> _Vectors:
    if matrix.ndim != 2:
        raise InputError(NOT_2D.format(shape=matrix.shape), file=file)
    if not (np.issubdtype(matrix.dtype, np.number) and not np.issubdtype(matrix.dtype, np.complexfloating)):
        raise InputError(NOT_NUMERIC.format(value=f"an array of {matrix.dtype}"), file=file)
    lengths = np.full(matrix.shape[0], matrix.shape[1], dtype=np.int64)
    return _Vectors(lengths, lambda rows, dim: matrix[rows].astype(np.float32))


def _from_npy(path: Path, *, ids: Any, key: str) -> _Raw:
    file = str(path)
    if ids is None:
        raise InputError(NEEDS_IDS, file=file)
    matrix = _load_numpy(path, ".npy")
    if not isinstance(matrix, np.ndarray):
        raise InputError(NOT_NUMPY.format(kind=".npy", reason="not a single array"), file=file)
    vectors = _matrix_vectors(matrix, file)
    ids_file, first_line = None, 1
    if isinstance(ids, (str, Path)):
        ids_file = str(ids)
        id_values, first_line = _read_ids(Path(ids), key)
    else:
        id_values = _id_values(pd.Series(list(ids), dtype=object))
    if len(id_values) != matrix.shape[0]:
        raise InputError(ID_COUNT.format(n_ids=len(id_values), n_rows=matrix.shape[0]), file=ids_file or file)
    if matrix.shape[0] == 0:
        raise InputError(NO_ROWS, file=file)
    return _Raw(
        ids=id_values,
        key=key,
        vectors=vectors,
        file=file,
        fmt="npy",
        vector_column="embedding",
        ids_file=ids_file,
        ids_first_line=first_line,
    )


def _read_ids(path: Path, key: str) -> tuple[np.ndarray, int]:
    """Ids from a file, and the line number of the first one."""
    check_file(path, is_directory=IS_DIRECTORY, empty=EMPTY_FILE)
    if path.suffix.lower() in (".csv", ".tsv"):
        try:
            table = pd.read_csv(
                path,
                sep="," if path.suffix.lower() == ".csv" else "\t",
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,
            )
        except (ValueError, OSError) as err:
            raise InputError(f"cannot read ids: {str(err).splitlines()[0]}", file=str(path)) from None
        lower = {str(c).lower(): c for c in table.columns}
        column = next((lower[n] for n in (key, *KEY_ALIASES[key], "id") if n in lower), table.columns[0])
        return _id_values(table[column]), 2  # the header is line 1
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read ids: {err}", file=str(path)) from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return _id_values(pd.Series([line.strip() for line in lines], dtype=object)), 1


def _from_npz(path: Path, *, key: str) -> _Raw:
    file = str(path)
    archive = _load_numpy(path, ".npz")
    if not hasattr(archive, "files"):
        raise InputError(NOT_NUMPY.format(kind=".npz", reason="not an archive of arrays"), file=file)
    with archive:
        if not {"ids", "embeddings"} <= set(archive.files):
            raise InputError(NPZ_ARRAYS.format(found=", ".join(archive.files) or "none"), file=file)
        try:
            id_array, matrix = archive["ids"], archive["embeddings"]
        except ValueError as err:  # object arrays need pickle, which we never load
            raise InputError(NOT_NUMPY.format(kind=".npz", reason=str(err).splitlines()[0]), file=file) from None
    vectors = _matrix_vectors(matrix, file)
    if id_array.ndim != 1 or len(id_array) != matrix.shape[0]:
        raise InputError(ID_COUNT.format(n_ids=id_array.size, n_rows=matrix.shape[0]), file=file, column="ids")
    if matrix.shape[0] == 0:
        raise InputError(NO_ROWS, file=file)
    ids = _id_values(pd.Series(id_array.astype(str) if id_array.dtype.kind in "US" else id_array, dtype=object))
    return _Raw(ids=ids, key=key, vectors=vectors, file=file, fmt="npz", vector_column="embeddings", key_column="ids")


def _id_values(values: pd.Series) -> np.ndarray:
    """Ids as an object array of str, None where missing or blank."""
    text = pd.Series(values, dtype=object).astype("str").str.strip()
    text = text.where(text != "")
    return text.to_numpy(dtype=object, na_value=None)


# ---------------------------------------------------------------------------- validation


def _common_dimension(lengths: np.ndarray) -> int:
    values, counts = np.unique(lengths, return_counts=True)
    best = counts.max()
    candidates = set(values[counts == best].tolist())
    return int(next(v for v in lengths if int(v) in candidates))  # ties: the first seen


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _validate(raw: _Raw, *, drop_invalid: bool) -> pd.DataFrame:
    n = len(raw.ids)
    keep = np.ones(n, dtype=bool)
    dropped: dict[str, int] = {}

    def reject(
        bad: np.ndarray, reason: str, column: str, message: Callable[[int], str], in_ids_file: bool = False
    ) -> None:
        bad = bad & keep
        if not bad.any():
            return
        if not drop_invalid:
            pos = int(np.flatnonzero(bad)[0])
            raise raw.error(message(pos), pos, column, in_ids_file=in_ids_file)
        dropped[reason] = dropped.get(reason, 0) + int(bad.sum())
        keep[bad] = False

    in_ids = raw.ids_file is not None
    key_column = raw.key_column
    reject(
        np.array([v is None for v in raw.ids], dtype=bool), DROP_MISSING_ID, key_column, lambda pos: MISSING_ID, in_ids
    )

    lengths = raw.vectors.lengths
    column = raw.vector_column
    reject(lengths == _MISSING, DROP_MISSING_VECTOR, column, lambda pos: MISSING_VECTOR)
    reject(lengths == _NOT_NUMERIC, DROP_NOT_NUMERIC, column, lambda pos: NOT_NUMERIC.format(value="something else"))
    if keep.any():
        dim = _common_dimension(lengths[keep])
        if dim == 0:
            raise InputError(ZERO_DIMENSIONS, file=raw.file, column=column)
        reject(
            lengths != dim,
            DROP_DIMENSION,
            column,
            lambda pos: WRONG_DIMENSION.format(expected=dim, found=int(lengths[pos])),
        )
    else:
        dim = 0
    if keep.any():
        matrix = raw.vectors.matrix(keep, dim)
        finite = np.isfinite(matrix)
        row_ok = finite.all(axis=1)
        if not row_ok.all():
            kept_positions = np.flatnonzero(keep)
            bad = np.zeros(n, dtype=bool)
            bad[kept_positions[~row_ok]] = True
            first = {int(kept_positions[r]): r for r in np.flatnonzero(~row_ok)[:1]}

            def not_finite(pos: int) -> str:
                r = first[pos]
                index = int(np.flatnonzero(~finite[r])[0])
                return NOT_FINITE.format(value=matrix[r, index], index=index)

            reject(bad, DROP_NOT_FINITE, column, not_finite)
            matrix = matrix[row_ok]
    else:
        matrix = np.zeros((0, dim), dtype=np.float32)

    ids = pd.Series(raw.ids, dtype=object)
    kept_ids = ids[keep]
    duplicated = kept_ids.duplicated(keep="first")
    if duplicated.any():
        positions = kept_ids.index.to_numpy()
        first_at = kept_ids[~duplicated]
        first_of = pd.Series(first_at.index.to_numpy(), index=first_at.to_numpy())
        bad = np.zeros(n, dtype=bool)
        bad[positions[duplicated.to_numpy()]] = True

        def duplicate(pos: int) -> str:
            first = int(first_of[raw.ids[pos]])
            where = f"line {first + raw.ids_first_line}" if in_ids else f"row {first}"
            return DUPLICATE_ID.format(key=raw.key, id=raw.ids[pos], first=where)

        keep_before = keep.copy()
        reject(bad, DROP_DUPLICATE, key_column, duplicate, in_ids)
        matrix = matrix[keep[keep_before]]
    if not keep.any():
        raise InputError(NO_ROWS, file=raw.file)

    out = pd.DataFrame({raw.key: pd.Series(raw.ids[keep], dtype="str")})
    if raw.speaker is not None:
        out["speaker_id"] = pd.Series(raw.speaker[keep], dtype="str")
    out["embedding"] = _object_column(matrix)
    meta = provenance(out)
    meta.update(copy.deepcopy(raw.upstream))  # e.g. audio files wergap embed could not use
    upstream_drops = raw.upstream.get("dropped")
    if not isinstance(upstream_drops, dict):
        upstream_drops = {}
    for reason, rows in dropped.items():
        upstream_drops = {**upstream_drops, reason: int(upstream_drops.get(reason, 0)) + rows}
    earlier = [str(x) for x in raw.upstream.get("sources", []) if str(x) != raw.file]
    meta.update(
        sources=([raw.file] if raw.file is not None else []) + earlier,
        format=raw.format,
        rows_read=int(n),
        dropped=dict(upstream_drops),
    )
    meta[PROVENANCE_KEY] = {"key": raw.key, "dim": int(dim)}
    return out


def _object_column(matrix: np.ndarray) -> pd.Series:
    """One float32 row view per element (the rows share the matrix's memory)."""
    column = np.empty(matrix.shape[0], dtype=object)
    for i, row in enumerate(matrix):
        column[i] = row
    return pd.Series(column, dtype=object)


def _as_embeddings(emb: Any) -> pd.DataFrame:
    """Validated embeddings: read a path; re-check a DataFrame, keeping the story of the
    file it was read from (sources, drops) when it carries one."""
    if not isinstance(emb, pd.DataFrame):
        return read_embeddings(emb)
    before = emb.attrs.get("wergap")
    key = before.get(PROVENANCE_KEY, {}).get("key") if isinstance(before, dict) else None
    out = read_embeddings(emb, key=key)
    if isinstance(before, dict) and before.get("sources"):
        checked = provenance(out)[PROVENANCE_KEY]
        carry(emb, out)
        provenance(out)[PROVENANCE_KEY] = checked
    return out
