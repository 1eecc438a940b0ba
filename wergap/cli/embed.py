"""``wergap embed``: speaker embeddings from audio with SpeechBrain's ECAPA-TDNN."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from wergap.cli._options import dropped_text, required, show_progress

INTERRUPTED_RESUMABLE = (
    "wergap: interrupted; embeddings finished so far are kept in {cache}: rerun the same command to resume"
)


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
    p.add_argument(
        "--cache-dir",
        help="keep embeddings here, keyed by audio content and model, so reruns skip them "
        "and an interrupted run resumes where it stopped",
    )
    p.add_argument(
        "--batch-size", type=int, default=16, help="most audio files per forward pass of the model (default 16)"
    )
    p.add_argument(
        "--batch-seconds",
        type=float,
        default=15.0,
        help="most padded audio per forward pass, in seconds: bounds memory (default 15)",
    )
    p.add_argument(
        "--device",
        default="auto",
        help="auto (a CUDA GPU when torch sees one, else cpu), cpu, cuda or cuda:N (default auto)",
    )
    p.add_argument(
        "--base-dir", help="folder relative audio paths are resolved against (default: the log's or list's folder)"
    )
    p.add_argument(
        "--min-seconds",
        type=float,
        default=0.1,
        help="drop audio shorter than this, counted as 'audio too short' (default 0.1)",
    )
    p.add_argument(
        "--max-seconds",
        type=float,
        default=15.0,
        help="crop longer audio to its central part of this length; 0 embeds whole files (default 15)",
    )
    p.add_argument(
        "--max-per-speaker", type=int, metavar="N", help="embed at most N utterances per speaker (default: all)"
    )
    p.add_argument(
        "--select",
        choices=("longest", "random"),
        default="longest",
        help="with --max-per-speaker: keep the longest, or a seeded random choice (default longest)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of --select random (default 0)")
    p.add_argument(
        "--threads",
        type=int,
        help="CPU threads for the encoder (default: the cores not busy with other processes, at most torch's count)",
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Embed the audio, write the table, print counts, device and speed; exit status 0 (130 on Ctrl-C)."""
    from wergap.data_schemas import provenance
    from wergap.embeddings.embed import embed_audio, write_embeddings

    started = time.perf_counter()
    try:
        emb = embed_audio(
            args.source,
            model=args.model,
            cache_dir=args.cache_dir,
            batch_size=args.batch_size,
            batch_seconds=args.batch_seconds,
            device=args.device,
            progress=show_progress(args),
            base_dir=args.base_dir,
            min_seconds=args.min_seconds,
            max_seconds=args.max_seconds if args.max_seconds > 0 else None,
            max_per_speaker=args.max_per_speaker,
            select=args.select,
            seed=args.seed,
            threads=args.threads,
        )
    except KeyboardInterrupt:
        if not args.cache_dir:
            raise
        print(INTERRUPTED_RESUMABLE.format(cache=args.cache_dir), file=sys.stderr)
        return 130
    write_embeddings(emb, args.output)
    wall = time.perf_counter() - started
    meta = provenance(emb)
    info = meta.get("embed", {})
    print(
        f"embedded    {len(emb):,} utterances of {emb['speaker_id'].nunique():,} speakers "
        f"({info.get('computed', 0):,} computed, {info.get('from_cache', 0):,} from cache; dim {info.get('dim')})"
    )
    seconds = float(info.get("seconds") or 0.0)
    encoded = float(info.get("encoded_seconds") or 0.0)
    device = info.get("device") or "none (nothing to compute)"
    if info.get("device") == "cpu":
        threads = int(info.get("threads") or 1)
        device += f" ({threads} thread{'s' if threads != 1 else ''})"
    print(
        f"device      {device}; {seconds:,.1f} s of audio ({encoded:,.1f} s encoded after crops and cache) "
        f"in {wall:,.1f} s wall: {seconds / max(wall, 1e-9):,.1f}x real time, model load included"
    )
    notes = []
    if info.get("cropped"):
        notes.append(f"{info['cropped']:,} cropped to their central {info['max_seconds']:g} s")
    if info.get("not_selected"):
        notes.append(
            f"{info['not_selected']:,} not selected (at most {info['max_per_speaker']} per speaker, {info['select']})"
        )
    if notes:
        print("selected    " + "; ".join(notes))
    print("dropped     " + dropped_text(meta.get("dropped")))
    print(f"wrote       {args.output}")
    return 0
