"""Speaker embeddings from audio with SpeechBrain's ECAPA-TDNN speaker encoder.

The embedding k-means discovery (Dheram et al., Interspeech 2022) needs one vector per
speaker. When a decode log points at its audio, :func:`embed_audio` computes those vectors
with ``speechbrain.inference.speaker.EncoderClassifier`` (by default the public
``speechbrain/spkrec-ecapa-voxceleb`` model), :func:`speaker_mean_embeddings` averages them
per speaker, and :func:`write_embeddings` stores them as Parquet for
``wergap.data_schemas.embeddings.read_embeddings``.

Design choices, and why:

- **Models.** ``model`` is a Hugging Face id (downloaded on first use) or a local folder
  holding a SpeechBrain model (``hyperparams.yaml`` + checkpoints). A local folder is how
  offline users and the tests run: it is loaded in place (no copies, no symlinks, no
  network), and when its ``hyperparams.yaml`` sets ``pretrained_path`` (as the published
  model's does, naming the Hub id) that key is overridden with the folder itself.
- **Cache.** Encoding dominates the cost, so each embedding is stored under ``cache_dir``
  as ``<model key>/<sha256 of the audio file's bytes>.npy`` (``-crop<s>`` appended for a
  file cropped to ``max_seconds``). The model key hashes the model's identity (for a
  folder: its ``hyperparams.yaml`` and ``*.ckpt`` bytes; for a Hub id: the id) and
  :data:`PIPELINE_VERSION`. A rerun computes only new or changed audio, and a renamed or
  copied file is not recomputed. Each entry is written atomically as soon as its batch is
  done, so an interrupted run (Ctrl-C, a crash) leaves a valid cache and a rerun resumes
  where it stopped. The counts are reported in ``attrs["wergap"]["embed"]``
  (``computed``, ``from_cache``) so callers can check them.
- **Memory and speed.** Batches are planned by padded seconds (``batch_seconds``), not
  only by count, from durations sorted so batch-mates are of similar length, with relative
  lengths ``wav_lens`` so SpeechBrain's feature normalisation and attentive statistics
  pooling ignore the padding. The encoder's activations grow with utterances x longest
  utterance, so this bounds memory by the batch, never by the set or the longest file
  (``_embed_plan``). A background thread decodes and resamples the next batches while the
  encoder runs under ``torch.inference_mode`` (``_embed_run``); ``device="auto"`` takes a
  CUDA GPU when torch sees one. Same inputs and options give the same vectors.
- **Long audio** is cropped to its central ``max_seconds`` (default 15 s); only those
  frames are decoded. **Many utterances per speaker**: ``max_per_speaker`` embeds at most
  N per speaker, the longest or a seeded random choice.
- **Bad audio** (no path, missing, unreadable, empty, shorter than ``min_seconds``,
  non-finite samples) never raises: the utterance is dropped and counted by reason in
  ``attrs["wergap"]["dropped"]``, and listed in ``attrs["wergap"]["embed"]["failures"]``.

torch, torchaudio, speechbrain and soundfile are the ``wergap[embed]`` extra; this module
imports them only when it needs them, so ``import wergap`` works without them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wergap._io import atomic_path
from wergap._json import jsonable
from wergap.data_schemas.embeddings import embedding_matrix
from wergap.embeddings import _audio
from wergap.embeddings import _embed_plan as _plan
from wergap.embeddings import _embed_run as _run
from wergap.errors import InputError, WergapError
from wergap.provenance import add_drops, provenance

DEFAULT_MODEL = "speechbrain/spkrec-ecapa-voxceleb"
#: Shortest usable audio, in seconds. ECAPA-TDNN's 80-band filterbank uses 25 ms windows
#: every 10 ms and attentive statistics pooling needs several frames; 0.1 s gives 10.
MIN_SECONDS = 0.1
#: Longer audio is cropped to its central part of this many seconds (see ``embed_audio``).
MAX_SECONDS = 15.0
#: Most padded audio in one batch, in seconds: the bound on the encoder's memory
#: (the published model holds about 20 MB of activations per padded second on CPU).
BATCH_SECONDS = 15.0
#: The packages of the ``[embed]`` extra.
EXTRA_MODULES = ("torch", "torchaudio", "speechbrain", "soundfile")
#: Bumped whenever preprocessing changes (mono mix, resampling, padding), so old cache
#: entries are not reused for vectors the current code would compute differently.
PIPELINE_VERSION = "wergap-embed-1"
#: Suffixes treated as audio files when a folder is given (soundfile reads them).
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".au", ".sph", ".opus")
#: Suffixes of plain lists of audio paths (one per line; ``#`` starts a comment).
LIST_SUFFIXES = (".lst", ".list")

MISSING_EXTRA = (
    "computing embeddings from audio needs the [embed] extra (torch, torchaudio, "
    "speechbrain, soundfile; {error}): pip install 'wergap[embed]' "
    "(from a source checkout: pip install -c constraints/embed.txt '.[embed]')"
)
NO_MODEL_FILE = (
    "expected a SpeechBrain model folder holding hyperparams.yaml (and its checkpoints), "
    "or a Hugging Face model id such as {default!r}"
)
MODEL_LOAD_FAILED = (
    "could not load the speaker encoder {model!r}: {error}. Offline, pass a local folder "
    "holding the SpeechBrain model (hyperparams.yaml + checkpoints)"
)
NO_AUDIO_COLUMN = "expected a column 'audio' holding audio file paths"
DUPLICATE_UTT = "utterance id {utt_id!r} appears more than once"
BAD_EMBEDDING = "expected a 1-D numeric vector of length {dim}, got {got}"
NOTHING_EMBEDDED = "none of the {n:,} audio files could be embedded ({reasons}): nothing to write"
NO_EMBEDDINGS_TO_WRITE = "missing required column {column!r} in the embeddings table"

EMBED_COLUMNS = ("utt_id", "speaker_id", "audio", "embedding")
WRITE_COLUMNS = ("utt_id", "speaker_id", "embedding")


# --------------------------------------------------------------------------- public API


def embed_audio(
    log_or_paths: pd.DataFrame | str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    model: str | os.PathLike[str] = DEFAULT_MODEL,
    cache_dir: str | os.PathLike[str] | None = None,
    batch_size: int = 16,
    batch_seconds: float = BATCH_SECONDS,
    device: str = "auto",
    progress: bool = False,
    base_dir: str | os.PathLike[str] | None = None,
    min_seconds: float = MIN_SECONDS,
    max_seconds: float | None = MAX_SECONDS,
    max_per_speaker: int | None = None,
    select: str = "longest",
    seed: int = 0,
    threads: int | None = None,
) -> pd.DataFrame:
    """Compute one ECAPA-TDNN speaker embedding per utterance from its audio file.

    Memory is bounded by the batch, not by the set: files are read batch by batch (a
    background thread decodes and resamples the next batches while the encoder runs), and
    a batch holds at most ``batch_size`` utterances and ``batch_seconds`` of padded audio.

    Parameters
    ----------
    log_or_paths : DataFrame, path or iterable of paths
        One of: an utterance table with an ``audio`` column (``utt_id`` and
        ``speaker_id`` are used when present; a ``wergap.read_log`` result qualifies);
        a decode-log file (read with ``wergap.read_log``, paths relative to its folder);
        a ``.lst``/``.list`` file of audio paths, one per line (relative to its folder);
        a folder (every audio file below it); one audio file; or an iterable of audio
        paths. For paths without a table, the speaker is the parent folder's name and the
        utterance id the file stem (the path below ``base_dir`` when stems collide).
    model : str or path, default "speechbrain/spkrec-ecapa-voxceleb"
        A Hugging Face id (downloaded on first use, needs a network) or a local folder
        holding a SpeechBrain speaker-encoder model (``hyperparams.yaml`` + checkpoints).
    cache_dir : str or path, optional
        Where embeddings (and models downloaded from the Hub) are kept between runs. Each
        vector is written (atomically) as soon as its batch is done, so an interrupted run
        (Ctrl-C, a crash) resumes where it stopped. Without it nothing is cached.
    batch_size : int, default 16
        Most utterances encoded together.
    batch_seconds : float, default 15
        Most padded audio per batch (utterances x the longest of them, in seconds): the
        bound on the encoder's memory. Utterances are sorted by duration, so batch-mates
        are of similar length and padding wastes little compute.
    device : str, default "auto"
        ``"auto"`` (a CUDA GPU when torch sees one, else the CPU), ``"cpu"``, ``"cuda"``
        or ``"cuda:N"``. The device used is reported in ``attrs``.
    progress : bool, default False
        Show a tqdm progress bar on stderr, in seconds of audio.
    base_dir : str or path, optional
        Folder that relative audio paths are resolved against. Defaults to the log's or
        list's folder, else the current directory.
    min_seconds : float, default 0.1
        Shorter audio is dropped as ``"audio too short"``.
    max_seconds : float or None, default 15
        Longer audio is **cropped** to its central ``max_seconds`` (a speaker's identity
        is well established in 15 s; a one-hour recording would otherwise cost an hour of
        compute and memory for one vector). ``None`` embeds whole files. Must be at least
        ``2 * min_seconds``.
    max_per_speaker : int, optional
        Embed at most this many utterances of each speaker (the others are counted in
        ``attrs["wergap"]["embed"]["not_selected"]``, not embedded). A speaker's mean
        embedding rarely needs more than a few; this divides the work by the typical
        utterances per speaker.
    select : {"longest", "random"}, default "longest"
        Which utterances ``max_per_speaker`` keeps: the longest, or a random choice that
        depends only on ``seed`` and the utterance ids (not on the input's order).
    seed : int, default 0
        Seed of ``select="random"``.
    threads : int, optional
        CPU threads for the encoder. By default torch's own count (the physical cores),
        lowered to the cores that are idle (CPUs minus the cores other processes keep
        busy over a 0.2 s sample, at least 1) when the machine is already busy: torch's
        threads wait for each other at every layer, so one of them losing its core to
        another process stalls all (on 2 cores with the other busy: 15.9x real time on
        2 threads, 17.7x on 1). Restored afterwards. On the CPU the convolutions run on
        torch's im2col + BLAS path, not oneDNN or NNPACK, which are several times slower
        for this encoder (see ``_embed_run.cpu_convolutions``).

    Returns
    -------
    pandas.DataFrame
        One row per embedded utterance, input order, ``RangeIndex``: ``utt_id``,
        ``speaker_id``, ``audio`` (str, as given) and ``embedding`` (object column of 1-D
        float32 arrays, all the same length). ``attrs["wergap"]`` carries ``dropped``
        ({reason: utterances}) and ``embed``: ``model``, ``model_key``, ``sample_rate``,
        ``dim``, ``device``, ``threads``, ``computed``, ``from_cache``, ``seconds`` (audio
        in the files embedded or taken from cache), ``encoded_seconds`` (audio run through
        the encoder in this call, after crops and de-duplication), ``cropped`` (files longer than
        ``max_seconds``), ``not_selected``, ``min_seconds``, ``max_seconds``,
        ``max_per_speaker``, ``select``, ``seed``, ``failures`` (``[utt_id, reason]``).

    Raises
    ------
    InputError
        The input table has no ``audio`` column or repeats an utterance id; the model
        folder has no ``hyperparams.yaml``; an option is out of range; CUDA was asked for
        where torch sees none.
    WergapError
        The ``[embed]`` extra is not installed (the message gives the install command),
        or the model cannot be loaded.

    Examples
    --------
    >>> emb = embed_audio("decode.tsv", model="models/ecapa", cache_dir="~/.cache/wergap",
    ...                   max_per_speaker=5)  # doctest: +SKIP
    >>> emb.attrs["wergap"]["embed"]["computed"], emb.attrs["wergap"]["dropped"]  # doctest: +SKIP
    (1200, {'audio missing': 3})
    """
    _check_options(batch_size, batch_seconds, min_seconds, max_seconds, max_per_speaker, select)
    require_extra()
    items, sources = _collect(log_or_paths, base_dir)
    encoder = _Encoder(model, cache_dir=cache_dir, device=device)

    failures: list[list[str]] = []
    infos: dict[int, _audio.AudioInfo] = {}
    for i, item in enumerate(items):
        if item["path"] is None:
            failures.append([item["utt_id"], _audio.NO_PATH])
            continue
        info = _audio.inspect(item["path"], min_seconds)
        if info.reason is not None:
            failures.append([item["utt_id"], info.reason])
            continue
        infos[i] = info

    usable = sorted(infos)
    keep = _plan.select_per_speaker(
        [items[i]["speaker_id"] for i in usable],
        [items[i]["utt_id"] for i in usable],
        [infos[i].seconds for i in usable],
        max_per_speaker=max_per_speaker,
        select=select,
        seed=seed,
    )
    not_selected = 0
    for i, k in zip(usable, keep):
        if not k:
            del infos[i]
            not_selected += 1

    segments: dict[int, _plan.Segment] = {
        i: _plan.crop(info.sha256, info.path, info.frames, info.samplerate, max_seconds) for i, info in infos.items()
    }
    cache = _Cache(cache_dir, encoder.model_key) if cache_dir is not None else None
    vectors: dict[str, np.ndarray] = {}  # segment key -> embedding
    from_cache = 0
    if cache is not None:
        for seg in segments.values():
            if seg.key not in vectors:
                vec = cache.get(seg.key)
                if vec is not None:
                    vectors[seg.key] = vec
                    from_cache += 1

    todo: dict[str, _plan.Segment] = {}
    for seg in segments.values():
        if seg.key not in vectors:
            todo.setdefault(seg.key, seg)
    bad_keys: dict[str, str] = {}
    computed = 0
    encoded_seconds = 0.0
    threads_used = None
    if todo:
        classifier = encoder.load()
        torch, _ = _import_torch()
        previous = torch.get_num_threads()
        threads_used = _run.choose_threads(torch, threads, encoder.device_used or "cpu")

        def keep_vector(seg: _plan.Segment, vec: np.ndarray) -> None:
            nonlocal computed
            vectors[seg.key] = vec
            computed += 1
            if cache is not None:
                cache.put(seg.key, vec)

        batches = _plan.plan_batches(list(todo.values()), batch_size=batch_size, batch_seconds=batch_seconds)
        encoded_seconds = float(sum(s.seconds for s in todo.values()))
        torch.set_num_threads(threads_used)
        try:
            bad_keys = _run.encode_batches(
                classifier,
                batches,
                rate=encoder.sample_rate,
                min_seconds=min_seconds,
                device=encoder.device_used or "cpu",
                progress=progress,
                on_vector=keep_vector,
            )
        finally:
            torch.set_num_threads(previous)

    rows = []
    seconds = 0.0
    cropped = 0
    for i, item in enumerate(items):
        if i not in segments:
            continue
        seg = segments[i]
        if seg.key in bad_keys:
            failures.append([item["utt_id"], bad_keys[seg.key]])
            continue
        seconds += infos[i].seconds
        cropped += seg.key != infos[i].sha256
        rows.append((item["utt_id"], item["speaker_id"], item["audio"], vectors[seg.key]))

    if items and not rows:
        raise InputError(
            NOTHING_EMBEDDED.format(n=len(items), reasons=_reasons_text(failures)),
            file=sources[0] if len(sources) == 1 else None,
        )
    out = pd.DataFrame(
        {
            "utt_id": pd.array([r[0] for r in rows], dtype="str"),
            "speaker_id": pd.array([r[1] for r in rows], dtype="str"),
            "audio": pd.array([r[2] for r in rows], dtype="str"),
            "embedding": pd.Series([r[3] for r in rows], dtype=object),
        }
    )
    meta = provenance(out)
    meta["sources"] = sources
    meta["rows_read"] = len(items)
    for _, reason in failures:
        add_drops(out, reason, 1)
    dims = {int(v.shape[0]) for v in vectors.values()}
    meta["embed"] = {
        "model": str(model),
        "model_key": encoder.model_key,
        "sample_rate": encoder.sample_rate_if_known(),
        "dim": dims.pop() if len(dims) == 1 else None,
        "device": encoder.device_used,
        "threads": threads_used,
        "computed": computed,
        "from_cache": from_cache,
        "seconds": round(seconds, 3),
        "encoded_seconds": round(encoded_seconds, 3),
        "cropped": int(cropped),
        "not_selected": not_selected,
        "min_seconds": float(min_seconds),
        "max_seconds": None if max_seconds is None else float(max_seconds),
        "max_per_speaker": max_per_speaker,
        "select": select,
        "seed": int(seed),
        "batch_size": int(batch_size),
        "batch_seconds": float(batch_seconds),
        "failures": failures,
        "pipeline": PIPELINE_VERSION,
    }
    return out


def require_extra() -> None:
    """Raise the install command when a package of the ``[embed]`` extra is missing.

    Raises
    ------
    WergapError
        Naming the missing packages and the exact ``pip install`` command.
    """
    missing = []
    for name in EXTRA_MODULES:
        if name in sys.modules:
            if sys.modules[name] is None:
                missing.append(name)
            continue
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    if missing:
        raise WergapError(MISSING_EXTRA.format(error="missing: " + ", ".join(missing)))


def _check_options(
    batch_size: Any, batch_seconds: Any, min_seconds: float, max_seconds: Any, max_per_speaker: Any, select: Any
) -> None:
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise InputError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not isinstance(batch_seconds, (int, float)) or not batch_seconds > 0:
        raise InputError(_plan.BAD_BATCH_SECONDS.format(got=batch_seconds))
    if max_seconds is not None and (not isinstance(max_seconds, (int, float)) or not max_seconds >= 2 * min_seconds):
        raise InputError(_plan.BAD_MAX_SECONDS.format(min_seconds=min_seconds, got=max_seconds))
    if max_per_speaker is not None and (
        not isinstance(max_per_speaker, (int, np.integer)) or isinstance(max_per_speaker, bool) or max_per_speaker < 1
    ):
        raise InputError(_plan.BAD_CAP.format(got=max_per_speaker))
    if select not in _plan.SELECT_CHOICES:
        raise InputError(_plan.BAD_SELECT.format(choices=_plan.SELECT_CHOICES, got=select))


def _reasons_text(failures: list[list[str]]) -> str:
    counts: dict[str, int] = {}
    for _, reason in failures:
        counts[reason] = counts.get(reason, 0) + 1
    return "; ".join(f"{n:,} {reason}" for reason, n in counts.items()) or "none read"


def write_embeddings(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write utterance embeddings to Parquet atomically.

    Columns written: ``utt_id`` and ``speaker_id`` (string) and ``embedding``
    (``list<float32>``), the layout ``wergap.data_schemas.embeddings.read_embeddings``
    reads. Provenance (``attrs["wergap"]``) travels in the file's pandas metadata.

    Parameters
    ----------
    df : DataFrame
        From :func:`embed_audio` (``utt_id`` may be absent for per-speaker tables).
    path : str or path
        Destination; written to a temporary file beside it, then renamed.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    InputError
        A required column is missing or a vector is not 1-D numeric of the common length.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    for column in ("speaker_id", "embedding"):
        if column not in df.columns:
            raise InputError(NO_EMBEDDINGS_TO_WRITE.format(column=column), column=column)
    matrix, present = embedding_matrix(df["embedding"])
    if not present.all():
        row = int(np.flatnonzero(~present)[0])
        raise InputError(
            BAD_EMBEDDING.format(dim=matrix.shape[1] if matrix.size else "n", got="no vector"),
            row=row,
            column="embedding",
        )
    columns = [c for c in WRITE_COLUMNS if c in df.columns]
    arrays = []
    for column in columns:
        if column == "embedding":
            flat = pa.array(matrix.reshape(-1), type=pa.float32())
            offsets = pa.array(np.arange(len(df) + 1, dtype=np.int64) * matrix.shape[1], type=pa.int32())
            arrays.append(pa.ListArray.from_arrays(offsets, flat))
        else:
            arrays.append(pa.array(df[column].astype(str).tolist(), type=pa.string()))
    table = pa.Table.from_arrays(arrays, names=columns)
    frame_meta = pd.DataFrame({c: df[c] for c in columns if c != "embedding"})
    frame_meta.attrs = {"wergap": jsonable(df.attrs.get("wergap", {}))}
    pandas_meta = pa.Schema.from_pandas(frame_meta, preserve_index=False).metadata or {}
    table = table.replace_schema_metadata({**pandas_meta})
    target = Path(path)
    with atomic_path(target) as tmp:
        pq.write_table(table, tmp)
    return target


# --------------------------------------------------------------------------- inputs


def _collect(source: Any, base_dir: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """Turn any accepted input into ``[{utt_id, speaker_id, audio, path}]`` and sources."""
    if isinstance(source, pd.DataFrame):
        base = Path(base_dir) if base_dir is not None else Path.cwd()
        return _from_table(source, base, file=None), list(provenance(source).get("sources", []))
    if isinstance(source, (str, os.PathLike)):
        p = Path(source).expanduser()
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_SUFFIXES)
            base = Path(base_dir) if base_dir is not None else p
            return _from_paths([str(f) for f in files], base), [str(p)]
        if p.suffix.lower() in AUDIO_SUFFIXES:
            base = Path(base_dir) if base_dir is not None else Path.cwd()
            return _from_paths([str(p)], base), [str(p)]
        if not p.is_file():
            raise InputError("file not found", file=str(p))
        base = Path(base_dir) if base_dir is not None else p.parent
        if p.suffix.lower() in LIST_SUFFIXES:
            return _from_paths(_read_list(p), base), [str(p)]
        from wergap.data_schemas import read_log

        log = read_log(p)
        return _from_table(log, base, file=str(p)), [str(p)]
    try:
        paths = [os.fspath(x) for x in source]
    except TypeError as err:
        raise InputError(
            f"expected a DataFrame, a file, a folder or a list of audio paths, got {type(source).__name__}"
        ) from err
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    return _from_paths(paths, base), []


def _read_list(path: Path) -> list[str]:
    """Audio paths of a list file: one per line, blank lines and ``#`` comments skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read the audio list: {err}", file=str(path)) from err
    return [s for line in text.splitlines() if (s := line.split("#", 1)[0].strip())]


def _resolve(audio: str, base: Path) -> Path:
    p = Path(audio).expanduser()
    return p if p.is_absolute() else base / p


def _from_paths(paths: Sequence[str], base: Path) -> list[dict[str, Any]]:
    """Speaker = parent folder name, utt_id = stem (relative path when stems collide)."""
    resolved = [_resolve(a, base) for a in paths]
    stems = [r.stem for r in resolved]
    seen: dict[str, int] = {}
    for s in stems:
        seen[s] = seen.get(s, 0) + 1
    items = []
    for audio, r, stem in zip(paths, resolved, stems):
        utt = stem
        if seen[stem] > 1:
            try:
                rel = r.relative_to(base)
            except ValueError:
                rel = r
            utt = rel.with_suffix("").as_posix()
        items.append({"utt_id": utt, "speaker_id": r.parent.name, "audio": audio, "path": r})
    utts: set[str] = set()
    for row, item in enumerate(items):
        if item["utt_id"] in utts:
            raise InputError(DUPLICATE_UTT.format(utt_id=item["utt_id"]), row=row, column="audio")
        utts.add(str(item["utt_id"]))
    return items


def _from_table(df: pd.DataFrame, base: Path, file: str | None) -> list[dict[str, Any]]:
    """Rows of a table with ``audio`` (+ optional ``utt_id``/``speaker_id``)."""
    if "audio" not in df.columns:
        raise InputError(NO_AUDIO_COLUMN, file=file, column="audio")
    audio = df["audio"].tolist()
    paths: list[Path | None] = []
    for a in audio:
        ok = isinstance(a, (str, os.PathLike)) and str(a).strip() != ""
        paths.append(_resolve(str(a).strip(), base) if ok else None)
    utt = (
        df["utt_id"].astype(str).tolist()
        if "utt_id" in df.columns
        else [p.stem if p is not None else f"row{k}" for k, p in enumerate(paths)]
    )
    spk = (
        df["speaker_id"].astype(str).tolist()
        if "speaker_id" in df.columns
        else [p.parent.name if p is not None else "" for p in paths]
    )
    seen: set[str] = set()
    for row, u in enumerate(utt):
        if u in seen:
            raise InputError(DUPLICATE_UTT.format(utt_id=u), file=file, row=row, column="utt_id")
        seen.add(u)
    return [
        {"utt_id": u, "speaker_id": s, "audio": "" if p is None else str(a).strip(), "path": p}
        for u, s, a, p in zip(utt, spk, audio, paths)
    ]


# --------------------------------------------------------------------------- model


def _import_torch() -> tuple[Any, Any]:
    """Import torch and torchaudio, or raise the install hint."""
    try:
        import torch
        import torchaudio.functional as taf
    except ImportError as err:  # pragma: no cover - exercised only without the extra
        raise WergapError(MISSING_EXTRA.format(error=err)) from err
    return torch, taf


def _model_key(model: str | os.PathLike[str]) -> str:
    """Hash of what determines the vectors: the model's files (or Hub id) and pipeline."""
    digest = hashlib.sha256(PIPELINE_VERSION.encode())
    folder = Path(model).expanduser()
    if folder.is_dir():
        hparams = folder / "hyperparams.yaml"
        if not hparams.is_file():
            raise InputError(NO_MODEL_FILE.format(default=DEFAULT_MODEL), file=str(folder))
        for f in [hparams, *sorted(folder.glob("*.ckpt"))]:
            digest.update(f.name.encode())
            digest.update(_audio.file_sha256(f).encode())
    else:
        digest.update(f"hub:{model}".encode())
    return digest.hexdigest()


class _Encoder:
    """A lazily loaded ``EncoderClassifier``: nothing is imported or read until needed."""

    def __init__(self, model: str | os.PathLike[str], *, cache_dir: Any, device: str) -> None:
        self.model = model
        self.cache_dir = None if cache_dir is None else Path(cache_dir).expanduser()
        self.device = device
        self.model_key = _model_key(model)
        self._classifier: Any = None
        self._sample_rate: int | None = None
        self.device_used: str | None = None

    @property
    def sample_rate(self) -> int:
        return self._sample_rate or 16000

    def sample_rate_if_known(self) -> int | None:
        return self._sample_rate

    def load(self) -> Any:
        if self._classifier is not None:
            return self._classifier
        torch, _ = _import_torch()
        self.device_used = _run.resolve_device(torch, self.device)
        try:
            from speechbrain.inference.speaker import EncoderClassifier
            from speechbrain.utils.fetching import LocalStrategy
        except ImportError as err:  # pragma: no cover - exercised only without the extra
            raise WergapError(MISSING_EXTRA.format(error=err)) from err
        folder = Path(self.model).expanduser()
        kwargs: dict[str, Any] = {"run_opts": {"device": self.device_used}}
        if folder.is_dir():
            # Load in place: no copies or symlinks, and never the network.
            kwargs.update(source=str(folder.resolve()), savedir=None, local_strategy=LocalStrategy.NO_LINK)
            if _yaml_has_key(folder / "hyperparams.yaml", "pretrained_path"):
                kwargs["overrides"] = {"pretrained_path": str(folder.resolve())}
        else:
            savedir = None
            if self.cache_dir is not None:
                safe = re.sub(r"[^A-Za-z0-9_.-]+", "--", str(self.model))
                savedir = str(self.cache_dir / "models" / safe)
            kwargs.update(source=str(self.model), savedir=savedir)
        try:
            self._classifier = EncoderClassifier.from_hparams(**kwargs)
        except Exception as err:  # SpeechBrain/HF raise many types; all mean "no model"
            raise WergapError(MODEL_LOAD_FAILED.format(model=str(self.model), error=err)) from err
        if self._classifier is None:
            raise WergapError(MODEL_LOAD_FAILED.format(model=str(self.model), error="None"))
        normalizer = getattr(self._classifier, "audio_normalizer", None)
        rate = (
            getattr(normalizer, "sample_rate", None) or getattr(self._classifier.hparams, "sample_rate", None) or 16000
        )
        self._sample_rate = int(rate)
        self._classifier.eval()
        return self._classifier


def _yaml_has_key(path: Path, key: str) -> bool:
    """Whether a top-level ``key:`` appears in a YAML file (without running its tags)."""
    pattern = re.compile(rf"^{re.escape(key)}\s*:", re.MULTILINE)
    try:
        return bool(pattern.search(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError):
        return False


# --------------------------------------------------------------------------- cache


class _Cache:
    """One ``.npy`` per (model key, audio content hash) under ``cache_dir/embeddings``."""

    def __init__(self, cache_dir: str | os.PathLike[str], model_key: str) -> None:
        self.folder = Path(cache_dir).expanduser() / "embeddings" / model_key[:24]

    def _file(self, content_hash: str) -> Path:
        return self.folder / content_hash[:2] / f"{content_hash}.npy"

    def get(self, content_hash: str) -> np.ndarray | None:
        """The stored vector, or ``None`` when absent or unreadable (then recomputed)."""
        f = self._file(content_hash)
        try:
            vec = np.load(f, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None
        if vec.ndim != 1 or vec.size == 0 or not np.isfinite(vec).all():
            return None
        return vec.astype(np.float32, copy=False)

    def put(self, content_hash: str, vec: np.ndarray) -> None:
        """Store ``vec`` atomically (a crash never leaves a half-written entry)."""
        with atomic_path(self._file(content_hash)) as tmp, open(tmp, "wb") as fh:
            np.save(fh, np.asarray(vec, dtype=np.float32), allow_pickle=False)


__all__ = [
    "BATCH_SECONDS",
    "DEFAULT_MODEL",
    "MAX_SECONDS",
    "MIN_SECONDS",
    "embed_audio",
    "require_extra",
    "write_embeddings",
]
