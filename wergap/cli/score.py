"""``wergap score``: score a decode log, print its summary, write the scored table."""

from __future__ import annotations

import argparse
from typing import Any

from wergap.cli._options import add_log_arguments, is_speaker_table, load_scored, required, summary_lines, write_table


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``score`` subcommand."""
    p = subparsers.add_parser("score", help="score a decode log: per-utterance S/D/I, WER summary")
    add_log_arguments(p)
    required(p).add_argument("-o", "--output", required=True, help="scored utterances (.parquet, .csv, .tsv, .jsonl)")
    p.add_argument("--speakers", help="also write the per-speaker table here")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Score the log and write the tables; exit status 0."""
    from wergap.speaker_table import speakers

    scored = load_scored(args)
    for line in summary_lines(scored):
        print(line, flush=True)
    write_table(scored, args.output)
    if args.speakers:
        write_table(scored if is_speaker_table(scored) else speakers(scored), args.speakers)
    print(f"wrote       {args.output}" + (f", {args.speakers}" if args.speakers else ""))
    return 0
