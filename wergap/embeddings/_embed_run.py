"""Running the speaker encoder over a batch plan: device, prefetching reader, progress.

Private helpers of :mod:`wergap.embeddings.embed`. The encoder works batch by batch while
one background thread decodes, mixes to mono and resamples the next batches (soundfile's
decoder and torch's resampler release the GIL, so reading overlaps inference on a second
core). At most ``PREFETCH`` batches wait in the queue, so audio in memory is bounded by
the batch plan, never by the set. Each finished vector is handed to a callback at once
(the caller writes it to the cache), so an interrupted run keeps everything finished.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from wergap.embeddings import _audio
from wergap.embeddings._embed_plan import Segment
from wergap.errors import InputError

#: Batches decoded ahead of the encoder.
PREFETCH = 2
#: glibc ``mallopt`` parameter number and the value fixed (glibc's initial threshold).
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 128 * 1024
DEVICE_CHOICES = ("auto", "cpu", "cuda")
NO_CUDA = "device {device!r} was asked for, but torch sees no CUDA GPU (use --device auto or cpu)"
BAD_THREADS = "threads must be a positive integer or None, got {got!r}"
BAD_DEVICE = "device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}"

_DONE = object()


def keep_large_blocks_off_the_heap() -> None:
    """Fix glibc's mmap threshold at its initial 128 KiB (Linux; elsewhere nothing).

    glibc raises the threshold each time a large block is freed, so after the first batch
    the encoder's activations (megabytes each, a new size every batch) are carved from
    the heap, which keeps the freed space resident and fragments: measured over eight
    15-second batches, 1.40 GB peak and 1.19-1.33 GB held between batches, against
    1.28 GB and 1.09 GB with the threshold fixed. A fixed threshold returns each large
    block to the system when torch frees it. The setting is process-wide (it is glibc's
    own starting value, made permanent).
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to fix
        pass


def choose_threads(torch: Any, threads: int | None, device: str) -> int:
    """Encoder threads: ``threads`` when given, else torch's count capped by idle cores.

    torch's intra-op threads meet at a barrier in every layer, so on a machine already
    busy with other processes a thread that loses its core stalls the others; fewer
    threads than cores then run faster (measured on 2 cores with the other one busy:
    15.9x real time on 2 threads against 17.7x on 1; idle, 33.7x against 17.7x). The idle
    cores are measured as the CPU time other processes take over a short sample
    (:func:`busy_cores`), not the load average, which remembers the last minute's work
    (a run started right after another would wrongly take one thread).

    Raises
    ------
    InputError
        ``threads`` is not a positive integer.
    """
    if threads is not None:
        if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
            raise InputError(BAD_THREADS.format(got=threads))
        return threads
    default = int(torch.get_num_threads())
    if device != "cpu" or default <= 1:
        return default
    busy = busy_cores()
    if busy is None:
        return default
    idle = (os.cpu_count() or 1) - busy
    return max(1, min(default, int(idle + 0.5)))


def busy_cores(seconds: float = 0.2) -> float | None:
    """Cores kept busy by every process over the next ``seconds`` (Linux ``/proc/stat``).

    Called while this process is idle between model load and encoding, so what it
    measures is the others' work. ``None`` where ``/proc/stat`` cannot be read.
    """

    def sample() -> tuple[int, int] | None:
        try:
            with open("/proc/stat", encoding="ascii") as fh:
                fields = [int(x) for x in fh.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        if len(fields) < 5:
            return None
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields[:8]) - idle, sum(fields[:8])

    first = sample()
    if first is None:
        return None
    time.sleep(seconds)
    second = sample()
    if second is None or second[1] <= first[1]:
        return None
    return (os.cpu_count() or 1) * (second[0] - first[0]) / (second[1] - first[1])


@contextlib.contextmanager
def cpu_convolutions(torch: Any, device: str) -> Iterator[None]:
    """Run the encoder's convolutions on torch's im2col + BLAS path on the CPU.

    torch picks oneDNN (mkldnn) or NNPACK for some of ECAPA-TDNN's 1-D convolutions, and
    both are far slower here than the im2col + MKL path they replace: on a 2-core Xeon,
    4 x 3.75 s of speech took 0.47 s on 2 threads with both off, 1.69 s with oneDNN on
    (every convolution of a multi-threaded run went to oneDNN, at 42 ms each), and NNPACK,
    which torch takes from a batch of 16 on, turned 16 x 0.94 s into 11.2 s. The flags
    are process-wide and restored on exit; a GPU run is left as it is.
    """
    if not device.startswith("cpu"):
        yield
        return
    with torch.backends.mkldnn.flags(enabled=False), torch.backends.nnpack.flags(enabled=False):
        yield


def resolve_device(torch: Any, device: str | None) -> str:
    """``"auto"`` becomes ``"cuda"`` when torch sees a GPU, else ``"cpu"``.

    Raises
    ------
    InputError
        An unknown device name, or CUDA asked for where there is none.
    """
    name = "auto" if device is None else str(device).strip().lower()
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return "cpu"
    if name == "cuda" or (name.startswith("cuda:") and name[5:].isdigit()):
        if not torch.cuda.is_available():
            raise InputError(NO_CUDA.format(device=device))
        return name
    raise InputError(BAD_DEVICE.format(device=device))


def _load(
    torch: Any, taf: Any, batch: Sequence[Segment], rate: int, min_seconds: float, pin: bool
) -> tuple[Any, Any, list[Segment], dict[str, str], float]:
    """Decode one planned batch: padded tensor, relative lengths, segments kept, failures."""
    wavs: list[Any] = []
    kept: list[Segment] = []
    bad: dict[str, str] = {}
    for seg in batch:
        samples, file_rate, reason = _audio.read_mono(seg.path, seg.start, seg.stop)
        wav: Any = None
        if reason is None and samples is not None:
            wav = samples
            if file_rate != rate:
                wav = taf.resample(torch.from_numpy(samples), file_rate, rate).numpy()
            if len(wav) < max(1, int(round(min_seconds * rate))):
                reason = _audio.TOO_SHORT
        if reason is not None:
            bad[seg.key] = reason
            continue
        wavs.append(wav)
        kept.append(seg)
    seconds = float(sum(s.seconds for s in batch))
    if not wavs:
        return None, None, kept, bad, seconds
    # Padded in numpy: a torch op here would start a second team of torch's CPU threads
    # beside the encoder's, and the two teams would take turns on the same cores.
    lengths = np.array([len(w) for w in wavs], dtype=np.float32)
    longest = int(lengths.max())
    block = np.zeros((len(wavs), longest), dtype=np.float32)
    for k, w in enumerate(wavs):
        block[k, : len(w)] = w
    padded = torch.from_numpy(block)
    if pin:
        padded = padded.pin_memory()
    return padded, torch.from_numpy(lengths / longest), kept, bad, seconds


def encode_batches(
    classifier: Any,
    batches: Sequence[Sequence[Segment]],
    *,
    rate: int,
    min_seconds: float,
    device: str,
    progress: bool,
    on_vector: Callable[[Segment, np.ndarray], None],
) -> dict[str, str]:
    """Encode planned batches, calling ``on_vector(segment, vector)`` as each is done.

    Returns ``{segment key: drop reason}`` for audio that failed to decode. A
    ``KeyboardInterrupt`` stops the reader thread and propagates; vectors handed to
    ``on_vector`` before it are kept by the caller.
    """
    import torch
    import torchaudio.functional as taf
    from tqdm.auto import tqdm

    pin = device.startswith("cuda")
    keep_large_blocks_off_the_heap()
    q: queue.Queue[Any] = queue.Queue(maxsize=PREFETCH)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def reader() -> None:
        try:
            for batch in batches:
                if stop.is_set() or not put(_load(torch, taf, batch, rate, min_seconds, pin)):
                    return
            put(_DONE)
        except BaseException as err:  # handed to the main thread, raised there
            put(err)

    thread = threading.Thread(target=reader, name="wergap-embed-reader", daemon=True)
    total = float(sum(s.seconds for b in batches for s in b))
    bar = tqdm(
        total=round(total, 1),
        disable=not progress,
        unit="s",
        unit_scale=True,
        desc="embedding audio",
        dynamic_ncols=True,
    )
    bad: dict[str, str] = {}
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                break
            if isinstance(item, BaseException):
                raise item
            padded, rel, kept, failed, seconds = item
            bad.update(failed)
            if padded is not None:
                with torch.inference_mode(), cpu_convolutions(torch, device):
                    out = classifier.encode_batch(padded.to(device, non_blocking=pin), rel.to(device))
                    out = out.reshape(len(kept), -1).to("cpu", torch.float32).numpy()
                for seg, row in zip(kept, out):
                    on_vector(seg, np.array(row, dtype=np.float32))
                del out, padded
            bar.update(round(seconds, 1))
    finally:
        stop.set()
        while True:  # unblock a reader waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                break
        thread.join(timeout=5)
        bar.close()
    return bad
