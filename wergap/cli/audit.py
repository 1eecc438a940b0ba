"""``wergap audit``: discover cohorts in a decode log and write the disparity report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from wergap.cli._options import (
    add_discovery_arguments,
    add_log_arguments,
    add_methods_argument,
    add_report_arguments,
    load_scored,
    print_summary,
    run_audit,
    show_progress,
    summary_lines,
)

AUDIO_AND_EMBEDDINGS = "give --embeddings or --audio, not both"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``audit`` subcommand."""
    p = subparsers.add_parser("audit", help="discover cohorts and write the disparity report")
    add_log_arguments(p)
    add_report_arguments(p)
    add_discovery_arguments(p)
    add_methods_argument(p, "discovery methods to run (default: every one the inputs allow)")
    p.add_argument(
        "--audio",
        action="store_true",
        help="compute speaker embeddings from the log's 'audio' column with SpeechBrain ([embed] extra)",
    )
    p.add_argument(
        "--embed-model",
        default="speechbrain/spkrec-ecapa-voxceleb",
        help="with --audio: Hugging Face id or local SpeechBrain model folder",
    )
    p.add_argument("--embed-cache", help="with --audio: embedding cache folder, so reruns skip known audio")
    p.add_argument(
        "--adjust-for",
        metavar="COL,COL",
        help="covariates of each bottom cohort's adjusted gap: 'length', 'rate' (needs duration) and "
        "log columns (default: length, rate when duration is given, and the known attributes)",
    )
    p.add_argument(
        "--no-explain",
        action="store_true",
        help="skip explaining the bottom cohorts (error profile, adjusted gap, cohort profile): on a log of "
        "millions of utterances they are most of the audit's time",
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Audit the log, write the report (and exports), print the method table; exit status 0."""
    from wergap.errors import InputError
    from wergap.reports.exports import write_exports
    from wergap.reports.html import write_html

    scored = load_scored(args)
    for line in summary_lines(scored):  # now, not after the (longer) discovery
        print(line, flush=True)
    if args.audio:
        if args.embeddings:
            raise InputError(AUDIO_AND_EMBEDDINGS)
        from wergap.embeddings.embed import embed_audio

        base = Path(args.log).parent if args.log else None
        args.embeddings = embed_audio(
            scored, model=args.embed_model, cache_dir=args.embed_cache, base_dir=base, progress=show_progress(args)
        )
    result = run_audit(args, scored, args.methods)
    write_html(result, args.output, boundaries=args.boundaries)
    written = [str(args.output)]
    if args.outdir:
        written += [str(p) for p in write_exports(result, args.outdir).values()]
    print_summary(result)
    print("wrote       " + ", ".join(written))
    return 0
