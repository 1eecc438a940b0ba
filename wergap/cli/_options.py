"""Option groups and helpers shared by the ``wergap`` subcommands.

Only :mod:`argparse` at import time: the library (pandas, numpy, ...) is imported inside
the functions that run a command, so ``wergap --help`` starts at once.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wergap._format import dropped_text
from wergap.defaults import MAX_BOTTOM_SHARE, MIN_GROUP_SPEAKERS
from wergap.discovery import registry

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

TABLE_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl"}
BAD_OUTPUT = "cannot write {path}: choose an output ending in {choices}"
BAD_COLUMN = "--column takes THEIRS=OURS, got {pair!r}"
NO_LOG = "give a decode log, or --ref and --hyp files"
ENGINES = ("pandas", "dask")
DASK_COMMANDS = ("score", "audit", "check")
DASK_COMMAND = "--engine dask builds the speaker table, which {command} cannot use: use it with score, audit or check"
DASK_DROP_TOKENS = "--drop-tokens is not supported with --engine dask yet; use the pandas engine"
DASK_NEEDS_TABLE = (
    "--engine dask reads a table log (a file, folder or glob of parquet/csv/tsv/jsonl), not --ref/--hyp/--utt2spk"
)
METHODS = registry.METHODS  # names only: the registry loads no method module for this
STORY_WIDTH = 60  # longest cohort definition in the terminal story (the report has it whole)
CANNOT_RUN = "--methods {method}: it cannot run: {reason} (pass --allow-skip to go on without it)"
# The choices of the options that argparse shows; the library holds the same tuples
# (wergap.data_schemas.log.FORMATS, wergap.scoring.NORMALIZATIONS, UNITS, wergap.engines.ENGINES); a test
# keeps them equal.
FORMATS = ("csv", "tsv", "jsonl", "parquet", "trn", "kaldi", "nemo")
NORMALIZATIONS = ("default", "none", "whisper", "basic", "kaldi")
UNITS = ("word", "char")

#: The library's messages name its parameters; the command's name its flags. Applied in order.
FLAG_TERMS: tuple[tuple[str, str], ...] = (
    (r"choose one with columns=\{name: '([^']+)'\}", r"choose one with --column NAME=\1"),
    (r"map yours with columns=", "map yours with --column THEIRS=OURS"),
    (r"\bcolumns= maps\b", "--column maps"),
    (r"pass format='(\w+)'", r"pass --format \1"),
    (r"pass format=", "pass --format"),
    (r"\butt2spk=", "--utt2spk"),
    (r"\bspeaker_pattern\b", "--speaker-pattern"),
    (r"\(census=\)", "(--census)"),
    (r"\(embeddings= or an", "(--embeddings or an"),
    (r"\bref= and hyp=", "--ref and --hyp"),
    (r"\bref=/hyp=", "--ref/--hyp"),
    (r"\bdrop_invalid=True\b", "--drop-invalid"),
)


def in_flags(message: str) -> str:
    """A library message in the command's terms: parameter names become flags (:data:`FLAG_TERMS`)."""
    for pattern, replacement in FLAG_TERMS:
        message = re.sub(pattern, replacement, message)
    return message


def write_table(df: pd.DataFrame, path: str | Path) -> None:
    """Write a table atomically, in the format its suffix names."""
    from wergap._io import atomic_path
    from wergap.errors import InputError

    path = Path(path)
    kind = TABLE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputError(BAD_OUTPUT.format(path=path, choices=", ".join(TABLE_SUFFIXES)))
    with atomic_path(path) as tmp:
        if kind == "parquet":
            df.to_parquet(tmp, index=False)
        elif kind == "csv":
            df.to_csv(tmp, index=False)
        elif kind == "tsv":
            df.to_csv(tmp, sep="\t", index=False)
        else:
            df.to_json(tmp, orient="records", lines=True, force_ascii=False)


def write_parquet_table(table: pa.Table, meta: dict[str, Any], path: str | Path) -> None:
    """Write an Arrow table as Parquet, atomically, as :func:`write_table` writes a DataFrame:
    its provenance goes where pandas' ``to_parquet`` puts ``attrs`` (``pd.read_parquet`` reads it back)."""
    import json

    import pyarrow.parquet as pq

    from wergap._io import atomic_path
    from wergap.provenance import KEY

    table = table.replace_schema_metadata({"PANDAS_ATTRS": json.dumps({KEY: meta})})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="snappy")


def write_json(data: object, path: str | Path) -> None:
    """Write ``data`` as indented JSON, atomically."""
    import json

    from wergap._io import write_text_atomic

    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def column_map(pairs: Sequence[str] | None) -> dict[str, str] | None:
    """``--column THEIRS=OURS`` options as the ``columns=`` mapping of :func:`wergap.read_log`."""
    if not pairs:
        return None
    mapping = {}
    for pair in pairs:
        theirs, sep, ours = pair.partition("=")
        if not sep or not theirs or not ours:
            from wergap.errors import InputError

            raise InputError(BAD_COLUMN.format(pair=pair))
        mapping[theirs] = ours
    return mapping


def add_log_arguments(p: argparse.ArgumentParser) -> None:
    """The decode-log options shared by every subcommand that reads a log."""
    p.add_argument("log", nargs="?", help="decode log: csv, tsv, jsonl, parquet or NeMo manifest")
    p.add_argument("--format", choices=FORMATS, help="override format detection")
    p.add_argument("--ref", help="reference file of a sclite trn or Kaldi text pair")
    p.add_argument("--hyp", help="hypothesis file of a sclite trn or Kaldi text pair")
    p.add_argument("--utt2spk", help="Kaldi utt2spk file")
    p.add_argument(
        "--speaker-pattern",
        default="sclite",
        help="how to take the speaker from an utterance id when no speaker column exists: "
        "'sclite' (before the first '-', else '_') or a regex with one group",
    )
    p.add_argument("--column", action="append", metavar="THEIRS=OURS", help="rename a column (repeatable)")
    p.add_argument("--drop-invalid", action="store_true", help="drop and count bad rows instead of stopping")
    p.add_argument(
        "--normalization",
        choices=NORMALIZATIONS,
        default="default",
        help="text normalisation convention; each is defined in docs/normalization.md and named in "
        "every summary and report",
    )
    p.add_argument(
        "--drop-tokens",
        metavar="REGEX",
        help="remove whitespace-separated tokens of the raw ref and hyp "
        "that fully match REGEX (Python re) before normalisation, e.g. site-specific markup; counted in "
        "the summary",
    )
    p.add_argument("--unit", choices=UNITS, default="word", help="word (WER) or char (CER)")
    p.add_argument("--jobs", type=int, default=None, help="threads for scoring (default: all cores)")
    p.add_argument(
        "--engine",
        choices=ENGINES,
        default="pandas",
        help="pandas (in memory) or dask: LOG may be a folder or glob of parquet/csv/tsv/jsonl files, read, "
        "scored and aggregated per partition to the speaker table (score then writes the speaker table to -o); "
        "for score, audit and check",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="with --engine dask: an existing dask.distributed "
        "scheduler (tcp://host:port); default: a local cluster, one worker per core",
    )


def load_scored(args: argparse.Namespace) -> pd.DataFrame:
    """Read the log named by the shared options and score it.

    With ``--engine dask`` the result is the speaker table (:mod:`wergap.engines`),
    which the audit accepts in place of scored utterances.
    """
    if getattr(args, "engine", "pandas") == "dask":
        return _load_speakers_dask(args)
    from wergap.data_schemas import read_log
    from wergap.data_schemas.log import check_derived_speakers
    from wergap.errors import InputError
    from wergap.scoring import score

    if args.log is None and not (args.ref and args.hyp):
        raise InputError(NO_LOG)
    log = read_log(
        args.log,
        format=args.format,
        ref=args.ref,
        hyp=args.hyp,
        utt2spk=args.utt2spk,
        speaker_pattern=args.speaker_pattern,
        drop_invalid=args.drop_invalid,
        columns=column_map(args.column),
    )
    notice = check_derived_speakers(log)
    if notice and not getattr(args, "_noticed", False):
        print(f"note        {notice}", flush=True)
        args._noticed = True
    return score(log, **score_options(args))


def score_options(args: argparse.Namespace) -> dict[str, Any]:
    """The scoring flags as :func:`wergap.scoring.score`'s (and ``score_table``'s) options."""
    return {
        "normalization": args.normalization,
        "unit": args.unit,
        "n_jobs": args.jobs,
        "progress": show_progress(args),
        "drop_tokens": getattr(args, "drop_tokens", None),
    }


def show_progress(args: argparse.Namespace) -> bool:
    """Progress bars go to stderr when it is a terminal, unless ``--quiet``."""
    return sys.stderr.isatty() and not getattr(args, "quiet", False)


def step_progress(args: argparse.Namespace, what: str) -> Any:
    """A ``progress(step, done, total)`` callback drawing a tqdm bar on stderr, or None when
    progress is off (not a terminal, or ``--quiet``); for library calls that report steps."""
    if not show_progress(args):
        return None
    from tqdm import tqdm

    bar: Any = None

    def update(step: str, done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="step", leave=False, file=sys.stderr)
        bar.set_description(f"{what}: {step}")
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


def _load_speakers_dask(args: argparse.Namespace) -> pd.DataFrame:
    """The speaker table of ``args.log`` (a file, folder or glob) built on Dask."""
    from wergap.errors import InputError

    if args.command not in DASK_COMMANDS:
        raise InputError(DASK_COMMAND.format(command=args.command))
    if args.log is None or args.ref or args.hyp or args.utt2spk:
        raise InputError(DASK_NEEDS_TABLE)
    if getattr(args, "drop_tokens", None):
        raise InputError(DASK_DROP_TOKENS)
    from wergap.engines import score_speakers

    table, _ = score_speakers(
        args.log,
        normalization=args.normalization,
        unit=args.unit,
        scheduler=args.scheduler,
        format=args.format,
        speaker_pattern=args.speaker_pattern,
        drop_invalid=args.drop_invalid,
        columns=column_map(args.column),
        n_workers=args.jobs,
    )
    return table


def is_speaker_table(table: pd.DataFrame) -> bool:
    """Whether ``table`` is a speaker table (the Dask engine's result) rather than utterances."""
    return "utterances" in table.columns and "utt_id" not in table.columns


def summary_lines(scored: pd.DataFrame) -> list[str]:
    """The short summary every subcommand prints after reading a log."""
    from wergap.data_schemas import provenance

    return summary_text(
        provenance(scored),
        utterances=int(scored["utterances"].sum()) if is_speaker_table(scored) else len(scored),
        speakers=scored["speaker_id"].nunique(),
        words=int(scored["ref_words"].sum()),
        errors=int(scored["errors"].sum()),
    )


def summary_text(meta: dict[str, Any], *, utterances: int, speakers: int, words: int, errors: int) -> list[str]:
    """:func:`summary_lines` from a table's provenance and its totals (the Arrow path has no DataFrame)."""
    unit = "characters" if meta.get("unit") == "char" else "words"
    wer = errors / words if words else float("nan")
    lines = [
        f"read        {', '.join(map(str, meta.get('sources', [])))} ({meta.get('format', '?')})",
        f"utterances  {utterances:,} of {int(meta.get('rows_read', utterances)):,} rows read",
        f"speakers    {speakers:,}",
        f"{unit:<11} {words:,} reference, {errors:,} errors",
        f"{'CER' if unit == 'characters' else 'WER':<11} {100 * wer:.2f} % (normalisation: {meta.get('normalization')})",
    ]
    if meta.get("normalization_detail"):
        lines.append(f"normalised  {meta['normalization']}: {meta['normalization_detail']}")
    if meta.get("drop_tokens"):
        n = meta.get("dropped_tokens") or {}
        lines.append(
            f"tokens      {int(n.get('ref', 0)):,} dropped from references, {int(n.get('hyp', 0)):,} from "
            f"hypotheses (--drop-tokens {meta['drop_tokens']})"
        )
    lines.append("dropped     " + dropped_text(meta.get("dropped")))
    if meta.get("invalid_zip"):
        lines.append(f"excluded    {int(meta['invalid_zip']):,} rows with an invalid ZIP code (read as missing)")
    if meta.get("empty_references"):
        lines.append(
            f"note        {meta['empty_references']:,} empty references: "
            "their insertions count as errors, they add no reference words"
        )
    return lines


NOT_AT_LEAST_ONE = "expected a whole number of at least 1, got {value!r}"


def at_least_one(value: str) -> int:
    """argparse type of counts such as ``--min-speakers``: a whole number, at least 1."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(NOT_AT_LEAST_ONE.format(value=value))
    return number


def add_discovery_arguments(p: argparse.ArgumentParser) -> None:
    """The audit options shared by ``audit``, ``check``, ``compare`` and ``export-weights``."""
    p.add_argument(
        "--allow-skip",
        action="store_true",
        help="go on when a method named in --methods cannot run (default: stop with exit status 2)",
    )
    p.add_argument("--census", help="ZCTA census table (tidy CSV or an ACS data-profile export)")
    p.add_argument("--embeddings", help="speaker or utterance embeddings (.parquet, .npy, .npz)")
    p.add_argument("--min-speakers", type=at_least_one, default=30, help="smallest cohort reported (default 30)")
    p.add_argument("--seed", type=int, default=0, help="seed for every random choice (default 0)")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples (default 1000)")
    p.add_argument("--max-regions", type=int, default=8, help="most geo tree regions (default 8)")
    p.add_argument(
        "--no-geo-prune",
        dest="geo_prune",
        action="store_const",
        const=None,
        default="cv",
        help="grow the geo tree to --max-regions regions instead of keeping the number "
        "that cross-validates best (one-SE rule)",
    )
    p.add_argument("--n-clusters", type=int, default=10, help="k-means clusters (default 10)")
    p.add_argument("--bottom-share", type=float, help="pool the worst cohorts up to this share of speakers (0-1)")
    p.add_argument(
        "--max-bottom-share",
        type=float,
        default=MAX_BOTTOM_SHARE,
        help="a binary split's worse side holding more of the speakers is never the bottom cohort "
        f"(0-1, default {MAX_BOTTOM_SHARE})",
    )
    p.add_argument(
        "--min-group-speakers",
        type=int,
        default=MIN_GROUP_SPEAKERS,
        help="smallest value of a known attribute given a WER; smaller values are listed as "
        f"'too few speakers' (default {MIN_GROUP_SPEAKERS})",
    )


def add_report_arguments(p: argparse.ArgumentParser) -> None:
    """Where the report and exports go (``audit`` and ``demo``)."""
    required(p).add_argument("-o", "--output", required=True, help="the HTML report to write")
    p.add_argument("--outdir", help="also write summary.json, cohorts.csv, assignments.parquet, regions.geojson here")
    add_boundaries_argument(p)


def add_boundaries_argument(p: argparse.ArgumentParser) -> None:
    """``--boundaries``: outlines under the maps (``audit``, ``demo``, ``compare``)."""
    p.add_argument(
        "--boundaries",
        help="GeoJSON of outlines drawn under every map instead of the shipped country and US state outlines",
    )


def required(p: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """The parser's "required arguments" group (help lists them apart from the options)."""
    for group in p._action_groups:
        if group.title == "required arguments":
            return group
    return p.add_argument_group("required arguments")


def add_methods_argument(p: argparse.ArgumentParser, help: str, nargs: str | int = "+") -> None:  # noqa: A002
    """``--methods`` (and the old ``--method``, hidden, for scripts written before it)."""
    p.add_argument(
        "--methods",
        nargs=nargs,
        choices=METHODS,
        metavar="METHOD",
        help=f"{help}; one or more of {', '.join(METHODS)}" if nargs == "+" else f"{help}: one of {', '.join(METHODS)}",
    )
    p.add_argument("--method", dest="methods", nargs=nargs, choices=METHODS, help=argparse.SUPPRESS)


def refuse_skipped(args: argparse.Namespace, methods: Sequence[str] | None, skipped: dict[str, str]) -> None:
    """Exit status 2 when a method asked for by name could not run, unless ``--allow-skip``."""
    if not methods or getattr(args, "allow_skip", False):
        return
    for method in methods:
        if method in skipped:
            from wergap.errors import InputError

            raise InputError(CANNOT_RUN.format(method=method, reason=skipped[method]))


def run_audit(args: argparse.Namespace, scored: pd.DataFrame, methods: Sequence[str] | None) -> Any:
    """:func:`wergap.audit` with the options of :func:`add_discovery_arguments`."""
    result = _audit(args, scored, methods)
    refuse_skipped(args, methods, result.skipped)
    return result


def discovery_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options of :func:`add_discovery_arguments` as keyword arguments of
    :func:`wergap.audit` and :func:`wergap.compare` (the census is read by the caller)."""
    return {
        "embeddings": args.embeddings,
        "min_speakers": args.min_speakers,
        "seed": args.seed,
        "n_boot": args.n_boot,
        "max_regions": args.max_regions,
        "geo_prune": args.geo_prune,
        "n_clusters": args.n_clusters,
        "bottom_share": args.bottom_share,
        "max_bottom_share": getattr(args, "max_bottom_share", MAX_BOTTOM_SHARE),
        "min_group_speakers": getattr(args, "min_group_speakers", MIN_GROUP_SPEAKERS),
    }


def _audit(args: argparse.Namespace, scored: pd.DataFrame, methods: Sequence[str] | None) -> Any:
    from wergap.audit import audit
    from wergap.data_schemas.census import read_census

    return audit(
        scored,
        census=read_census(args.census) if args.census else None,
        methods=methods,
        **discovery_options(args),
        adjust_for=adjust_for_list(getattr(args, "adjust_for", None)),
        # check, compare and export-weights show no explanation
        explain=args.command == "audit" and not getattr(args, "no_explain", False),
        progress=step_progress(args, "audit"),
    )


#: Columns of the terminal's method table: the held-out gap (the headline) first, then the
#: in-sample gap, labelled optimistic and shown without an interval.
SUMMARY_TABLE = {
    "method": "method",
    "held_out_gap_pct": "held-out gap %",
    "held_out_ci_low": "CI low",
    "held_out_ci_high": "CI high",
    "in_sample_gap_pct": "in-sample % (optimistic)",
    "bottom_share_pct": "bottom share %",
}


def adjust_for_list(value: str | None) -> list[str] | None:
    """``--adjust-for col,col`` as a list (None: the default covariates)."""
    if value is None:
        return None
    return [c.strip() for c in value.split(",") if c.strip()]


def print_summary(result: Any) -> None:
    """The method comparison table, why any held-out gap is missing, and skip reasons."""
    table = result.summary()
    cols = [c for c in SUMMARY_TABLE if c in table]
    if len(table):
        print()
        shown = table[cols].rename(columns=SUMMARY_TABLE)
        print(shown.to_string(index=False, na_rep="n/a", float_format=lambda v: f"{v:.1f}"))
        for row in table.to_dict("records"):
            if isinstance(row.get("note"), str) and row["note"]:
                print(f"note        {row['method']}: {row['note']}")
    for method, reason in getattr(result, "skipped", {}).items():
        print(f"skipped     {method}: {in_flags(reason)}")
    for line in story_lines(result):
        print(line)
    for line in exclusion_text(result):
        print(f"excluded    {line}")
    left_out = getattr(result, "attributes_left_out", {})
    if left_out:
        print("not shown   " + "; ".join(f"{column} ({reason})" for column, reason in left_out.items()))


def exclusion_text(result: Any, *, reader: bool = False) -> list[str]:
    """Rows and speakers the audit counted out: embeddings, each method's excluded
    speakers, and with ``reader=True`` the reader's invalid ZIPs (which
    :func:`summary_lines` prints otherwise; dropped rows have their own line)."""
    from wergap.cohorts.exclusions import exclusion_lines

    table = result.exclusions()
    if reader:
        table = table[~table["reason"].str.startswith("dropped: ")]
    else:
        table = table[table["stage"] != "read"]
    return exclusion_lines(table)


def story_lines(result: Any) -> list[str]:
    """After the method table: each method's bottom cohort, then the known attributes, worst first."""
    import math

    lines = []
    table = result.summary()
    for row in table.to_dict("records"):
        if not row.get("bottom_definition") and not row.get("bottom_cohort"):
            continue
        held = row.get("held_out_gap_pct")
        held_text = "n/a" if held is None or (isinstance(held, float) and math.isnan(held)) else f"{held:.1f} %"
        what = str(row.get("bottom_definition") or row.get("bottom_cohort"))
        what = what if len(what) <= STORY_WIDTH else what[: STORY_WIDTH - 1].rstrip(" ;,") + "…"
        lines.append(
            f"bottom      {row['method']}: {what}: "
            f"{row['bottom_share_pct']:.1f} % of speakers, held-out gap {held_text}"
        )
    for column, rows in getattr(result, "disaggregated", {}).items():
        if rows is None or not len(rows):
            continue
        ordered = rows.sort_values("wer", ascending=False, na_position="last")
        parts = []
        for row in ordered.to_dict("records"):
            wer = row.get("wer")
            if wer is None or (isinstance(wer, float) and math.isnan(wer)):
                parts.append(f"{row['value']} (too few speakers: {int(row['speakers']):,})")
            else:
                parts.append(f"{row['value']} {100 * wer:.1f} % ({int(row['speakers']):,} speakers)")
        lines.append(f"attribute   {column}: WER " + ", ".join(parts))
    return lines
