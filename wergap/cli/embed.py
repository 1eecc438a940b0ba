"""``wergap embed``: speaker embeddings from audio with SpeechBrain's ECAPA-TDNN."""

from __future__ import annotations

import argparse
from typing import Any

from wergap.cli._options import dropped_text, required, show_progress


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``embed`` subcommand."""
    p = subparsers.add_parser(
        "embed", help="speaker embeddings from audio with SpeechBrain's ECAPA-TDNN ([embed] extra)"
    )
    p.add_argument(
        "source", help="decode log with an 'audio' column, a .lst of audio paths, a folder, or one audio file"
    )
    p.add_argument(
        "--model",
        default="speechbrain/spkrec-ecapa-voxceleb",
        help="Hugging Face id or a local SpeechBrain model folder (hyperparams.yaml + checkpoints)",
    )
    required(p).add_argument("-o", "--output", required=True, help="embeddings parquet (utt_id, speaker_id, embedding)")
    p.add_argument("--cache-dir", help="keep embeddings here, keyed by audio content and model, so reruns skip them")
    p.add_argument("--batch-size", type=int, default=16, help="audio files per forward pass of the model (default 16)")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cuda:0")
    p.add_argument(
        "--base-dir", help="folder relative audio paths are resolved against (default: the log's or list's folder)"
    )
    p.add_argument(
        "--min-seconds",
        type=float,
        default=0.1,
        help="drop audio shorter than this, counted as 'audio too short' (default 0.1)",
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Embed the audio, write the table, print counts; exit status 0."""
    from wergap.data_schemas import provenance
    from wergap.embeddings.embed import embed_audio, write_embeddings

    emb = embed_audio(
        args.source,
        model=args.model,
        cache_dir=args.cache_dir,
        batch_size=args.batch_size,
        device=args.device,
        progress=show_progress(args),
        base_dir=args.base_dir,
        min_seconds=args.min_seconds,
    )
    write_embeddings(emb, args.output)
    meta = provenance(emb)
    info = meta.get("embed", {})
    print(
        f"embedded    {len(emb):,} utterances of {emb['speaker_id'].nunique():,} speakers "
        f"({info.get('computed', 0):,} computed, {info.get('from_cache', 0):,} from cache; dim {info.get('dim')})"
    )
    print("dropped     " + dropped_text(meta.get("dropped")))
    print(f"wrote       {args.output}")
    return 0
