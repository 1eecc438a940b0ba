"""``wergap compare``: did a new system narrow the gap? Cohort WER of a baseline and a candidate."""

from __future__ import annotations

import argparse
import copy
from typing import Any

from wergap.cli._options import add_discovery_arguments, add_log_arguments, load_scored, write_json, write_table

SYSTEMS_NEED_ONE_LOG = "--systems A B compares two systems of one log: give one log, not two"
NEED_TWO_LOGS = "give a baseline and a candidate log, or one log with a 'system' column and --systems A B"
UNREADABLE = "cannot read {path}: {error}"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``compare`` subcommand."""
    p = subparsers.add_parser("compare", help="cohort WER change between a baseline and a candidate system")
    add_log_arguments(p)
    p.add_argument("candidate", nargs="?", help="the candidate system's decode log of the same utterances")
    add_discovery_arguments(p)
    p.add_argument("--systems", nargs=2, metavar=("BASE", "CANDIDATE"), help="compare two systems of one log's 'system' column")
    p.add_argument("--assignments", help="cohorts from a previous audit's assignments.parquet instead of discovering")
    p.add_argument("--methods", nargs="+", help="methods to compare (default: all that ran, or all in --assignments)")
    p.add_argument("--json", help="write the comparison as JSON here")
    p.add_argument("-o", "--output", help="write the per-cohort table here (.csv, .tsv, .parquet, .jsonl)")
    p.add_argument("--html", help="write an HTML page of the comparison here")
    p.set_defaults(func=run)
    return p


def scored_systems(args: argparse.Namespace) -> tuple[Any, Any, tuple[str, str]]:
    """(baseline, candidate, names) scored, from two logs or from one log with a system column."""
    from wergap.errors import InputError
    from wergap.data_schemas.log import split_systems

    if args.systems:
        if args.candidate or args.log is None:
            raise InputError(SYSTEMS_NEED_ONE_LOG if args.candidate else NEED_TWO_LOGS)
        parts = []
        for rows in split_systems(args.log, args.systems):
            sub = copy.copy(args)
            sub.log = rows
            sub.format = None
            parts.append(load_scored(sub))
        return parts[0], parts[1], (args.systems[0], args.systems[1])
    if args.candidate is None:
        raise InputError(NEED_TWO_LOGS)
    base = load_scored(args)
    sub = copy.copy(args)
    sub.log = args.candidate
    return base, load_scored(sub), ("base", "candidate")


def run(args: argparse.Namespace) -> int:
    """Compare the two systems on shared utterances, print verdicts; exit status 0."""
    import pandas as pd

    from wergap.comparison import compare, partitions_from_assignments
    from wergap.errors import InputError
    from wergap.provenance import provenance

    base, cand, names = scored_systems(args)
    partitions = None
    if args.assignments:
        try:
            assignments = pd.read_parquet(args.assignments)
        except (OSError, ValueError) as error:
            raise InputError(UNREADABLE.format(path=args.assignments, error=error), file=args.assignments) from error
        partitions = partitions_from_assignments(assignments)
    census = None
    if args.census:
        from wergap.data_schemas.census import read_census

        census = read_census(args.census)
    result = compare(
        base,
        cand,
        partitions=partitions,
        census=census,
        embeddings=args.embeddings,
        methods=args.methods,
        min_speakers=args.min_speakers,
        bottom_share=args.bottom_share,
        n_boot=args.n_boot,
        seed=args.seed,
        names=names,
        max_regions=args.max_regions,
        geo_prune=args.geo_prune,
        n_clusters=args.n_clusters,
    )
    if args.json:
        write_json(result.to_dict(), args.json)
    if args.output:
        write_table(result.cohorts(), args.output)
    if args.html:
        from wergap.reports.compare import write_compare_html

        write_compare_html(result, args.html)
    counts = result.counts
    print(
        f"utterances  {counts['shared']:,} shared; {counts[f'only_{names[0]}']:,} only in {names[0]}, "
        f"{counts[f'only_{names[1]}']:,} only in {names[1]} (left out); speakers {counts['speakers']:,}"
    )
    if counts["reference_words_differ"]:
        print(
            f"note        {counts['reference_words_differ']:,} shared utterances have different reference "
            "word counts in the two logs: each system is scored against its own reference"
        )
    for name, table in zip(names, (base, cand)):
        dropped = provenance(table).get("dropped") or {}
        if dropped:
            print(f"dropped     {name}: " + "; ".join(f"{n:,} {why}" for why, n in dropped.items()))
    for method, why in result.excluded.items():
        if why:
            print(f"excluded    {method}: " + "; ".join(f"{n:,} speakers {reason}" for reason, n in why.items()))
    for method, reason in result.skipped.items():
        print(f"skipped     {method}: {reason}")
    for line in result.verdicts():
        print(line)
    written = [str(p) for p in (args.json, args.output, args.html) if p]
    if written:
        print("wrote       " + ", ".join(written))
    return 0
