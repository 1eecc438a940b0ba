"""Audio files for the speaker encoder: content hash, header check, mono float32 samples.

Private helpers of :mod:`wergap.embeddings.embed`. They need only ``soundfile`` and
``numpy`` (resampling to the model's rate happens in ``embed`` with torchaudio), and they
never raise on a bad file: each problem becomes one of the reasons below, which
``embed_audio`` counts in ``attrs["wergap"]["dropped"]``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Drop reasons, as they appear in ``attrs["wergap"]["dropped"]``.
MISSING = "audio missing"
UNREADABLE = "audio unreadable"
EMPTY = "audio empty"
TOO_SHORT = "audio too short"
NOT_FINITE = "audio not finite"
NO_PATH = "audio path missing"

_CHUNK = 1 << 20


@dataclass
class AudioInfo:
    """What the first pass learns about one file without decoding it.

    Attributes
    ----------
    path : Path
        Resolved path.
    sha256 : str
        Hex digest of the file's bytes (the cache key's content part), ``""`` if unread.
    frames, samplerate, channels : int
        From the file header.
    reason : str or None
        Why the file cannot be used (one of the module's reasons), ``None`` if usable.
    """

    path: Path
    sha256: str = ""
    frames: int = 0
    samplerate: int = 0
    channels: int = 0
    reason: str | None = None

    @property
    def seconds(self) -> float:
        """Duration from the header (0.0 when unknown)."""
        return self.frames / self.samplerate if self.samplerate else 0.0


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks (bounded memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def inspect(path: str | os.PathLike[str], min_seconds: float) -> AudioInfo:
    """Hash ``path`` and read its header; classify it as usable or give a reason.

    Parameters
    ----------
    path : path-like
        The audio file.
    min_seconds : float
        Files shorter than this are ``TOO_SHORT`` (the encoder's pooling needs frames).

    Returns
    -------
    AudioInfo
        Never raises for a missing or unreadable file: ``reason`` says what went wrong.
    """
    import soundfile as sf

    p = Path(path)
    info = AudioInfo(path=p)
    if not p.is_file():
        info.reason = MISSING
        return info
    try:
        info.sha256 = file_sha256(p)
        header = sf.info(str(p))
    except (OSError, RuntimeError, sf.SoundFileError, ValueError):
        info.reason = UNREADABLE
        return info
    info.frames = int(header.frames)
    info.samplerate = int(header.samplerate)
    info.channels = int(header.channels)
    if info.frames <= 0 or info.samplerate <= 0:
        info.reason = EMPTY
    elif info.seconds < min_seconds:
        info.reason = TOO_SHORT
    return info


def read_mono(path: Path, start: int = 0, stop: int | None = None) -> tuple[np.ndarray | None, int, str | None]:
    """Decode frames ``start:stop`` of ``path`` to mono float32 (channel mean) at its own rate.

    Only the requested frames are decoded (soundfile seeks), so cropping a long recording
    never holds the whole of it in memory.

    Returns
    -------
    samples : numpy.ndarray or None
        1-D float32 samples in [-1, 1], ``None`` when decoding failed.
    samplerate : int
        The file's sample rate.
    reason : str or None
        ``UNREADABLE``, ``EMPTY`` or ``NOT_FINITE`` when the samples cannot be used.
    """
    import soundfile as sf

    try:
        data, rate = sf.read(str(path), start=start, stop=stop, dtype="float32", always_2d=True)
    except (OSError, RuntimeError, sf.SoundFileError, ValueError):
        return None, 0, UNREADABLE
    if data.shape[0] == 0:
        return None, int(rate), EMPTY
    mono = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
    if not np.isfinite(mono).all():
        return None, int(rate), NOT_FINITE
    return np.ascontiguousarray(mono, dtype=np.float32), int(rate), None
