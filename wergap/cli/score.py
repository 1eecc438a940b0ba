"""``wergap score``: score a decode log, print its summary, write the scored table."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from wergap.cli._options import (
    TABLE_SUFFIXES,
    add_log_arguments,
    column_map,
    is_speaker_table,
    load_scored,
    required,
    score_options,
    summary_lines,
    summary_text,
    write_parquet_table,
    write_table,
)


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
    if _score_in_arrow(args):
        return 0
    from wergap.speaker_table import speakers

    scored = load_scored(args)
    for line in summary_lines(scored):
        print(line, flush=True)
    write_table(scored, args.output)
    if args.speakers:
        write_table(scored if is_speaker_table(scored) else speakers(scored), args.speakers)
    print(f"wrote       {args.output}" + (f", {args.speakers}" if args.speakers else ""))
    return 0


def _score_in_arrow(args: argparse.Namespace) -> bool:
    """Score a clean CSV or TSV log to Parquet in Arrow alone; ``False`` where it does not apply.

    Importing pandas takes longer than reading and scoring a 45,000-utterance log, and a
    clean log needs none of it: :func:`~wergap.data_schemas.arrow_log.read_clean_log`
    reads it as read_log would keep it, :func:`~wergap.scoring.score_table` scores it as
    :func:`~wergap.scoring.score` does, and the Parquet file holds the same table and
    provenance. A log that needs read_log's checks, or output that needs a DataFrame
    (CSV, JSON lines, ``--speakers``), takes the usual path.
    """
    if (
        args.engine != "pandas"
        or args.log is None
        or args.ref
        or args.hyp
        or args.utt2spk
        or args.speakers
        or TABLE_SUFFIXES.get(Path(args.output).suffix.lower()) != "parquet"
    ):
        return False
    from wergap.data_schemas.arrow_log import read_clean_log

    clean = read_clean_log(
        args.log, format=args.format, columns=column_map(args.column), drop_invalid=args.drop_invalid
    )
    if clean is None:
        return False
    import pyarrow.compute as pc

    from wergap.scoring import score_table

    table, meta = score_table(clean.table, clean.provenance, **score_options(args))
    totals = {name: int(pc.sum(table[name]).as_py() or 0) for name in ("ref_words", "errors")}
    speakers = int(pc.count_distinct(table["speaker_id"]).as_py())
    for line in summary_text(
        meta, utterances=table.num_rows, speakers=speakers, words=totals["ref_words"], errors=totals["errors"]
    ):
        print(line, flush=True)
    write_parquet_table(table, meta, args.output)
    print(f"wrote       {args.output}")
    return True
