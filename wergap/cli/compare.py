"""``wergap compare``: how do N systems serve the same cohorts? Gaps, verdicts against the first, ranking."""

from __future__ import annotations

import argparse
import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from wergap._format import dropped_text
from wergap.cli._options import (
    TABLE_SUFFIXES,
    add_boundaries_argument,
    add_discovery_arguments,
    add_log_arguments,
    add_methods_argument,
    discovery_options,
    in_flags,
    load_scored,
    refuse_skipped,
    write_json,
    write_table,
)

if TYPE_CHECKING:
    from wergap.comparison import SystemsComparison

SYSTEMS_NEED_ONE_LOG = "--systems chooses systems of one log's 'system' column: give one log, not several"
NEED_TWO_LOGS = "give two or more decode logs of the same utterances, or one log with a 'system' column"
NAMES_COUNT = "--names gives {n_names} names for {n_logs} systems"
UNREADABLE = "cannot read {path}: {error}"
#: Tables written under ``--outdir``: file name -> SystemsComparison method.
OUTDIR_TABLES = {
    "overall.csv": None,
    "gaps.csv": "gaps",
    "changes.csv": "changes",
    "cohorts.csv": "cohorts",
    "cohort_changes.csv": "cohort_changes",
}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``compare`` subcommand."""
    p = subparsers.add_parser(
        "compare",
        help="cohort WER and gaps of several systems on the same utterances",
        description="Compare two or more ASR systems decoded on the same utterances: cohorts are found once, "
        "every system is measured on the utterances all of them decoded with the same paired speaker resamples; "
        "each system gets a verdict against the first and the systems are ranked by held-out gap.",
    )
    add_log_arguments(p)
    p.add_argument("others", nargs="*", metavar="LOG", help="the other systems' decode logs of the same utterances")
    add_discovery_arguments(p)
    p.add_argument(
        "--systems",
        nargs="+",
        metavar="NAME",
        help="with one log holding a 'system' column: the systems to compare, in order (default: all, "
        "in order of appearance); the first is the reference",
    )
    p.add_argument("--names", nargs="+", metavar="NAME", help="names of the logs' systems (default: the file names)")
    p.add_argument(
        "--discover-on",
        choices=("first", "pooled"),
        default="first",
        help="find cohorts on the first system's errors (default) or on every system's pooled",
    )
    p.add_argument("--assignments", help="cohorts from a previous audit's assignments.parquet instead of discovering")
    add_methods_argument(p, "methods to compare (default: all that ran, or all in --assignments)")
    p.add_argument(
        "-o",
        "--output",
        help="the HTML report of the comparison (a name ending in .csv, .tsv, .parquet "
        "or .jsonl writes the per-cohort table instead)",
    )
    p.add_argument("--html", dest="output", help=argparse.SUPPRESS)
    add_boundaries_argument(p)
    p.add_argument("--json", help="write the comparison as JSON here")
    p.add_argument("--outdir", help="write overall.csv, gaps.csv, changes.csv, cohorts.csv, cohort_changes.csv here")
    p.set_defaults(func=run)
    return p


def _names_from_paths(paths: list[str]) -> list[str]:
    stems = [Path(p).stem for p in paths]
    if len(set(stems)) == len(stems):
        return stems
    return [f"system {i}" for i in range(1, len(paths) + 1)]


def scored_systems(args: argparse.Namespace) -> tuple[list[Any], list[str]]:
    """(scored tables, names) from several logs, or from one log with a ``system`` column."""
    from wergap.data_schemas.log import split_systems
    from wergap.errors import InputError

    if args.log is None:
        raise InputError(NEED_TWO_LOGS)
    if args.others:
        if args.systems:
            raise InputError(SYSTEMS_NEED_ONE_LOG)
        paths = [args.log, *args.others]
        names = list(args.names) if args.names else _names_from_paths(paths)
        if len(names) != len(paths):
            raise InputError(NAMES_COUNT.format(n_names=len(names), n_logs=len(paths)))
        tables = []
        for path in paths:
            sub = copy.copy(args)
            sub.log = path
            tables.append(load_scored(sub))
        return tables, names
    rows = split_systems(args.log, args.systems)
    names = [str(part["system"].iloc[0]) for part in rows]
    if len(rows) < 2:
        raise InputError(NEED_TWO_LOGS)
    if args.names:
        if len(args.names) != len(rows):
            raise InputError(NAMES_COUNT.format(n_names=len(args.names), n_logs=len(rows)))
        names = list(args.names)
    tables = []
    for part in rows:
        sub = copy.copy(args)
        sub.log = part
        sub.format = None
        tables.append(load_scored(sub))
    return tables, names


def _cell(value: float, low: float, high: float) -> str:
    import math

    if value is None or not math.isfinite(value):
        return "n/a"
    ci = f" [{low:.1f}, {high:.1f}]" if low == low and high == high else ""
    return f"{value:.1f}{ci}"


def headline_lines(result: Any) -> list[str]:
    """The compact system × method table of headline gaps (held-out; * = known attribute)."""
    gaps = result.gaps()
    if gaps.empty:
        return []
    held = gaps["ranked_by"] == "held-out"
    gaps = gaps.assign(
        cell=[
            _cell(r["held_out_gap_pct"], r["held_out_ci_low"], r["held_out_ci_high"])
            if h
            else _cell(r["gap_pct"], r["gap_ci_low"], r["gap_ci_high"])
            + (" *" if str(r["method"]).startswith("attribute:") else " †")
            for h, (_, r) in zip(held, gaps.iterrows())
        ]
    )
    table = gaps.pivot(index="system", columns="method", values="cell").reindex(
        index=list(result.names), columns=result.methods
    )
    first = max(len("system"), *(len(n) for n in result.names))
    widths = [max(len(m), *(len(str(v)) for v in table[m])) for m in table.columns]
    if held.any():
        head = (
            "gap (%) by system and method: held-out gap [95 % CI]; * = known attribute (not searched), gap measured "
            "directly; † = held-out gap not measurable (see the notes), in-sample gap shown: optimistic"
        )
    else:
        head = (
            "gap (%) by system and method [95 % CI]; * = known attribute (not searched: no held-out gap needed); "
            "† = held-out gap not measurable, in-sample gap shown: optimistic"
        )
    lines = [head]
    lines.append("  ".join([f"{'system':<{first}}", *(f"{m:>{w}}" for m, w in zip(table.columns, widths))]))
    for name, row in table.iterrows():
        lines.append("  ".join([f"{name:<{first}}", *(f"{str(v):>{w}}" for v, w in zip(row, widths))]))
    return lines


def run(args: argparse.Namespace) -> int:
    """Compare the systems on their shared utterances, print the table, verdicts and ranking; exit status 0."""
    import pandas as pd

    from wergap.comparison import compare
    from wergap.errors import InputError
    from wergap.provenance import provenance

    tables, names = scored_systems(args)
    assignments = None
    if args.assignments:
        try:
            assignments = pd.read_parquet(args.assignments)
        except (OSError, ValueError) as error:
            raise InputError(UNREADABLE.format(path=args.assignments, error=error), file=args.assignments) from error
    census = None
    if args.census:
        from wergap.data_schemas.census import read_census

        census = read_census(args.census)
    # A list of tables: compare() returns a SystemsComparison.
    result = cast(
        "SystemsComparison",
        compare(
            tables,
            names=names,
            discover_on=args.discover_on,
            assignments=assignments,
            census=census,
            methods=args.methods,
            **discovery_options(args),
        ),
    )
    refuse_skipped(args, args.methods, result.skipped)
    written = []
    if args.json:
        write_json(result.to_dict(), args.json)
        written.append(str(args.json))
    if args.output and Path(args.output).suffix.lower() in TABLE_SUFFIXES:
        write_table(result.cohorts(), args.output)
        written.append(str(args.output))
    elif args.output:
        result.to_html(args.output, boundaries=args.boundaries)
        written.append(str(args.output))
    if args.outdir:
        for name, attr in OUTDIR_TABLES.items():
            path = Path(args.outdir) / name
            write_table(result.overall if attr is None else getattr(result, attr)(), path)
            written.append(str(path))
    counts = result.counts
    left_out = "; ".join(f"{n:,} only in {s}'s log" for s, n in counts["not_shared"].items() if n)
    print(
        f"utterances  {counts['shared']:,} decoded by {'both' if len(names) == 2 else f'all {len(names)}'} systems"
        + (f" (left out: {left_out})" if left_out else "")
        + f"; speakers {counts['speakers']:,}"
    )
    differ = "; ".join(f"{n:,} of {s}" for s, n in counts["reference_words_differ"].items() if n)
    if differ:
        print(
            f"note        shared utterances whose reference word count differs from {names[0]}'s: {differ} "
            "(each system is scored against its own reference)"
        )
    for name, table in zip(names, tables):
        dropped = provenance(table).get("dropped") or {}
        if dropped:
            print(f"dropped     {name}: " + dropped_text(dropped))
    for method, why in result.excluded.items():
        if why:
            print(f"excluded    {method}: " + "; ".join(f"{n:,} speakers {reason}" for reason, n in why.items()))
    for method, reason in result.skipped.items():
        print(f"skipped     {method}: {in_flags(reason)}")
    overall = "; ".join(f"{r['system']} {100 * r['wer']:.2f} %" for _, r in result.overall.iterrows())
    print(f"WER         {overall}")
    print(
        f"cohorts     found on {names[0] if args.discover_on == 'first' else 'all systems pooled'}; "
        f"changes are against {names[0]}"
    )
    for line in headline_lines(result):
        print(line)
    for line in result.verdicts():
        print(line)
    for method in result.methods:
        print(result.ranking_line(method))
    if written:
        print("wrote       " + ", ".join(written))
    return 0
