"""What to embed, and in which batches: per-speaker caps, crops and duration-sorted batches.

Private helpers of :mod:`wergap.embeddings.embed`. Nothing here reads audio samples or
imports torch: the plan is made from file headers (durations), so it is cheap, and the
encoder then follows it batch by batch.

Why batches are planned by seconds, not by count: the encoder's activations grow with
``utterances x longest utterance`` of a batch. In the published ECAPA-TDNN the largest is
the attentive-statistics-pooling input, the 3,072-channel frame features concatenated
with their utterance mean and standard deviation (9,216 channels x 100 frames/s x 4
bytes), held beside the 1,024- and 3,072-channel features of the layers before it:
measured on CPU, about 20 MB per padded second of audio in the batch. A batch of 16
utterances padded to 35 s (560 padded seconds) therefore holds about 10 GB. Planning by a
budget of padded seconds (``batch_seconds``), with utterances sorted by duration so that
batch-mates are of similar length, bounds memory by the batch rather than by the longest
file or by the set, and wastes almost no compute on padding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: How ``max_per_speaker`` chooses utterances.
SELECT_CHOICES = ("longest", "random")
BAD_SELECT = "select must be one of {choices}, got {got!r}"
BAD_CAP = "max_per_speaker must be a positive integer or None, got {got!r}"
BAD_MAX_SECONDS = "max_seconds must be None or at least twice min_seconds ({min_seconds:g} s), got {got!r}"
BAD_BATCH_SECONDS = "batch_seconds must be a positive number, got {got!r}"


@dataclass(frozen=True)
class Segment:
    """The part of one audio file that is encoded.

    Attributes
    ----------
    key : str
        Cache key: the file's SHA-256, with ``-crop<seconds>`` appended when cropped (a
        cropped vector differs from the whole file's, so they never share an entry).
    path : pathlib.Path
        The file.
    start, stop : int
        Frames of the file (at its own sample rate) to decode.
    seconds : float
        ``(stop - start) / samplerate``.
    """

    key: str
    path: Path
    start: int
    stop: int
    seconds: float


def select_per_speaker(
    speakers: Sequence[str],
    utt_ids: Sequence[str],
    seconds: Sequence[float],
    *,
    max_per_speaker: int | None,
    select: str = "longest",
    seed: int = 0,
) -> list[bool]:
    """Choose at most ``max_per_speaker`` utterances of each speaker, reproducibly.

    Parameters
    ----------
    speakers, utt_ids, seconds : sequences of equal length
        The usable utterances (bad files already removed).
    max_per_speaker : int or None
        The cap; ``None`` keeps everything.
    select : {"longest", "random"}
        ``"longest"``: the longest utterances (ties: input order). ``"random"``: ranked by
        a hash of ``(seed, utt_id)``, so the choice does not depend on the input's order
        and adding utterances to a log never swaps out ones chosen before (unless a new
        one ranks higher).
    seed : int
        Seed of ``"random"``.

    Returns
    -------
    list of bool
        ``True`` for each utterance to embed.
    """
    n = len(speakers)
    if max_per_speaker is None:
        return [True] * n
    rank: list[tuple[float | str, int]]
    if select == "longest":
        rank = [(-float(s), i) for i, s in enumerate(seconds)]
    else:
        rank = [(hashlib.sha256(f"{seed}\0{u}".encode()).hexdigest(), i) for i, u in enumerate(utt_ids)]
    keep = [False] * n
    taken: dict[str, int] = {}
    for _, i in sorted(rank):
        spk = speakers[i]
        if taken.get(spk, 0) < max_per_speaker:
            taken[spk] = taken.get(spk, 0) + 1
            keep[i] = True
    return keep


def crop(key: str, path: Path, frames: int, samplerate: int, max_seconds: float | None) -> Segment:
    """The segment to encode: the whole file, or its central ``max_seconds``.

    The centre is taken (rather than the start) because recordings often open and close
    with silence or a prompt; a speaker's voice is in the middle.
    """
    if max_seconds is None or frames <= max_seconds * samplerate:
        return Segment(key, path, 0, frames, frames / samplerate)
    keep = int(round(max_seconds * samplerate))
    start = (frames - keep) // 2
    return Segment(f"{key}-crop{max_seconds:g}", path, start, start + keep, keep / samplerate)


def plan_batches(segments: Sequence[Segment], *, batch_size: int, batch_seconds: float) -> list[list[Segment]]:
    """Group segments, longest first, into batches of at most ``batch_size`` segments
    whose padded size (segments x longest) stays within ``batch_seconds``.

    A segment longer than ``batch_seconds`` forms a batch of its own. Sorting by duration
    keeps batch-mates of similar length, so padding wastes little compute.
    """
    ordered = sorted(segments, key=lambda s: (-s.seconds, s.key))
    batches: list[list[Segment]] = []
    current: list[Segment] = []
    for seg in ordered:
        longest = current[0].seconds if current else seg.seconds
        if current and (len(current) >= batch_size or (len(current) + 1) * longest > batch_seconds):
            batches.append(current)
            current = []
        current.append(seg)
    if current:
        batches.append(current)
    return batches
