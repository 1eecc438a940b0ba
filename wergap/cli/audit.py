"""``wergap audit``: discover cohorts in a decode log and write the disparity report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from wergap.cli._options import (
    METHODS,
    add_discovery_arguments,
    add_log_arguments,
    add_report_arguments,
    load_scored,
    print_summary,
    run_audit,
    summary_lines,
)

AUDIO_AND_EMBEDDINGS = "give --embeddings or --audio, not both"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``audit`` subcommand."""
    p = subparsers.add_parser("audit", help="discover cohorts and write the disparity report")
    add_log_arguments(p)
    add_report_arguments(p)
    add_discovery_arguments(p)
    p.add_argument("--methods", nargs="+", choices=METHODS)
    p.add_argument("--audio", action="store_true",
                   help="compute speaker embeddings from the log's 'audio' column with SpeechBrain ([embed] extra)")
    p.add_argument("--embed-model", default="speechbrain/spkrec-ecapa-voxceleb",
                   help="with --audio: Hugging Face id or local SpeechBrain model folder")
    p.add_argument("--embed-cache", help="with --audio: embedding cache folder, so reruns skip known audio")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Audit the log, write the report (and exports), print the method table; exit status 0."""
    from wergap.errors import InputError
    from wergap.reports.exports import write_exports
    from wergap.reports.html import write_html

    scored = load_scored(args)
    if args.audio:
        if args.embeddings:
            raise InputError(AUDIO_AND_EMBEDDINGS)
        from wergap.embeddings.embed import embed_audio

        base = Path(args.log).parent if args.log else None
        args.embeddings = embed_audio(
            scored, model=args.embed_model, cache_dir=args.embed_cache, base_dir=base, progress=sys.stderr.isatty()
        )
    result = run_audit(args, scored, args.methods)
    write_html(result, args.output, boundaries=args.boundaries)
    written = [str(args.output)]
    if args.outdir:
        written += [str(p) for p in write_exports(result, args.outdir).values()]
    for line in summary_lines(scored):
        print(line)
    print_summary(result)
    print("wrote       " + ", ".join(written))
    return 0
