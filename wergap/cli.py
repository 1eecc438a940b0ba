"""The ``wergap`` command: a thin layer over the library.

Each subcommand parses its arguments and calls the same functions a notebook would; no
logic lives only here. Bad input prints one line (``wergap: error: ...``) and exits 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from wergap import __version__
from wergap._io import atomic_path
from wergap.data_schemas import InputError, WergapError, provenance, read_log
from wergap.data_schemas.log import FORMATS
from wergap.scoring import NORMALIZATIONS, UNITS, corpus_wer, score
from wergap.speaker_table import speakers

TABLE_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl"}
BAD_OUTPUT = "cannot write {path}: choose an output ending in {choices}"
ENGINES = ("pandas", "dask")
DASK_COMMANDS = ("score", "audit", "check")
DASK_COMMAND = "--engine dask builds the speaker table, which {command} cannot use: use it with score, audit or check"
DASK_NEEDS_TABLE = "--engine dask reads a table log (a file, folder or glob of parquet/csv/tsv/jsonl), not --ref/--hyp/--utt2spk"


def write_table(df: pd.DataFrame, path: str | Path) -> None:
    """Write a table atomically, in the format its suffix names."""
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


def _column_map(pairs: Sequence[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    mapping = {}
    for pair in pairs:
        theirs, sep, ours = pair.partition("=")
        if not sep or not theirs or not ours:
            raise InputError(f"--column takes THEIRS=OURS, got {pair!r}")
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
    p.add_argument("--normalization", choices=NORMALIZATIONS, default="default", help="text normalisation")
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
    p.add_argument("--scheduler", metavar="ADDRESS", help="with --engine dask: an existing dask.distributed "
                   "scheduler (tcp://host:port); default: a local cluster, one worker per core")


def load_scored(args: argparse.Namespace) -> pd.DataFrame:
    """Read the log named by the shared options and score it.

    With ``--engine dask`` the result is the speaker table (:mod:`wergap.dask_engine`),
    which the audit accepts in place of scored utterances.
    """
    if getattr(args, "engine", "pandas") == "dask":
        return _load_speakers_dask(args)
    if args.log is None and not (args.ref and args.hyp):
        raise InputError("give a decode log, or --ref and --hyp files")
    log = read_log(
        args.log,
        format=args.format,
        ref=args.ref,
        hyp=args.hyp,
        utt2spk=args.utt2spk,
        speaker_pattern=args.speaker_pattern,
        drop_invalid=args.drop_invalid,
        columns=_column_map(args.column),
    )
    return score(
        log,
        normalization=args.normalization,
        unit=args.unit,
        n_jobs=args.jobs,
        progress=sys.stderr.isatty(),
    )


def _load_speakers_dask(args: argparse.Namespace) -> pd.DataFrame:
    """The speaker table of ``args.log`` (a file, folder or glob) built on Dask."""
    if args.command not in DASK_COMMANDS:
        raise InputError(DASK_COMMAND.format(command=args.command))
    if args.log is None or args.ref or args.hyp or args.utt2spk:
        raise InputError(DASK_NEEDS_TABLE)
    from wergap.dask_engine import score_speakers

    table, _ = score_speakers(
        args.log,
        normalization=args.normalization,
        unit=args.unit,
        scheduler=args.scheduler,
        format=args.format,
        speaker_pattern=args.speaker_pattern,
        drop_invalid=args.drop_invalid,
        columns=_column_map(args.column),
        n_workers=args.jobs,
    )
    return table


def _is_speaker_table(table: pd.DataFrame) -> bool:
    return "utterances" in table.columns and "utt_id" not in table.columns


def summary_lines(scored: pd.DataFrame) -> list[str]:
    """The short summary every subcommand prints after reading a log."""
    meta = provenance(scored)
    words = int(scored["ref_words"].sum())
    unit = "characters" if meta.get("unit") == "char" else "words"
    lines = [
        f"read        {', '.join(map(str, meta.get('sources', [])))} ({meta.get('format', '?')})",
        f"utterances  {int(scored['utterances'].sum()) if _is_speaker_table(scored) else len(scored):,} of {int(meta.get('rows_read', len(scored))):,} rows read",
        f"speakers    {scored['speaker_id'].nunique():,}",
        f"{unit:<11} {words:,} reference, {int(scored['errors'].sum()):,} errors",
        f"{'CER' if unit == 'characters' else 'WER':<11} {100 * corpus_wer(scored):.2f} % "
        f"(normalisation: {meta.get('normalization')})",
    ]
    dropped = meta.get("dropped") or {}
    if dropped:
        lines.append("dropped     " + "; ".join(f"{n:,} {why}" for why, n in dropped.items()))
    else:
        lines.append("dropped     none")
    if meta.get("empty_references"):
        lines.append(
            f"note        {meta['empty_references']:,} empty references: "
            "their insertions count as errors, they add no reference words"
        )
    return lines


def cmd_score(args: argparse.Namespace) -> int:
    scored = load_scored(args)
    write_table(scored, args.output)
    if args.speakers:
        write_table(scored if _is_speaker_table(scored) else speakers(scored), args.speakers)
    for line in summary_lines(scored):
        print(line)
    print(f"wrote       {args.output}" + (f", {args.speakers}" if args.speakers else ""))
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from wergap.reports.exports import write_exports
    from wergap.reports.html import write_html

    scored = load_scored(args)
    if args.audio:
        if args.embeddings:
            raise InputError("give --embeddings or --audio, not both")
        from wergap.discovery.embed import embed_audio

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


def print_summary(result: object) -> None:
    """The method comparison table and skip reasons, as plain text."""
    table = result.summary()  # type: ignore[attr-defined]
    cols = [c for c in ("method", "gap_pct", "gap_ci_low", "gap_ci_high", "held_out_gap_pct", "bottom_share_pct") if c in table]
    if len(table):
        print()
        print(table[cols].to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    for method, reason in getattr(result, "skipped", {}).items():
        print(f"skipped     {method}: {reason}")


def cmd_demo(args: argparse.Namespace) -> int:
    from wergap.demo import run_demo, write_example

    result = run_demo(args.output, args.outdir, n_speakers=args.speakers, seed=args.seed, boundaries=args.boundaries)
    print("SIMULATED example: a generated voice-assistant decode log with planted disparities")
    print_summary(result)
    print(f"wrote       {args.output}")
    if args.outdir:
        inputs = write_example(args.outdir, n_speakers=args.speakers, seed=args.seed)
        print(f"wrote       exports and the simulated inputs in {args.outdir}: " + ", ".join(p.name for p in inputs.values()))
    return 0


def add_discovery_arguments(p: argparse.ArgumentParser) -> None:
    """The audit options shared by ``check``, ``compare`` and ``export-weights``."""
    p.add_argument("--census", help="ZCTA census table (tidy CSV or an ACS data-profile export)")
    p.add_argument("--embeddings", help="speaker or utterance embeddings (.parquet, .npy, .npz)")
    p.add_argument("--min-speakers", type=int, default=30, help="smallest cohort reported (default 30)")
    p.add_argument("--seed", type=int, default=0, help="seed for every random choice (default 0)")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples (default 1000)")
    p.add_argument("--max-regions", type=int, default=8, help="most geo tree regions (default 8)")
    p.add_argument("--no-geo-prune", dest="geo_prune", action="store_const", const=None, default="cv",
                   help="grow the geo tree to --max-regions regions instead of keeping the number "
                        "that cross-validates best (one-SE rule)")
    p.add_argument("--n-clusters", type=int, default=10, help="k-means clusters (default 10)")
    p.add_argument("--bottom-share", type=float, help="pool the worst cohorts up to this share of speakers (0-1)")


def run_audit(args: argparse.Namespace, scored: pd.DataFrame, methods: Sequence[str] | None) -> object:
    """:func:`wergap.audit` with the options of :func:`add_discovery_arguments`."""
    from wergap.audit import audit
    from wergap.data_schemas.census import read_census

    return audit(
        scored,
        census=read_census(args.census) if args.census else None,
        embeddings=args.embeddings,
        methods=methods,
        min_speakers=args.min_speakers,
        seed=args.seed,
        n_boot=args.n_boot,
        max_regions=args.max_regions,
        geo_prune=args.geo_prune,
        n_clusters=args.n_clusters,
        bottom_share=args.bottom_share,
    )


def write_json(data: object, path: str | Path) -> None:
    """Write ``data`` as indented JSON, atomically."""
    import json

    from wergap._io import write_text_atomic

    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def cmd_check(args: argparse.Namespace) -> int:
    from wergap.cohorts.compare import check

    scored = load_scored(args)
    result = run_audit(args, scored, args.method)
    outcome = check(result, args.max_gap, methods=args.method, strict=args.strict)
    if args.json:
        payload = outcome.to_dict()
        payload["provenance"] = {k: v for k, v in provenance(scored).items() if k in ("sources", "rows_read", "dropped")}
        write_json(payload, args.json)
    dropped = provenance(scored).get("dropped") or {}
    if dropped:
        print("dropped     " + "; ".join(f"{n:,} {why}" for why, n in dropped.items()))
    for line in outcome.lines():
        print(line)
    return outcome.exit_code


SYSTEMS_NEED_ONE_LOG = "--systems A B compares two systems of one log: give one log, not two"
NEED_TWO_LOGS = "give a baseline and a candidate log, or one log with a 'system' column and --systems A B"
NO_SYSTEM_COLUMN = "{path} has no 'system' column (needed by --systems)"
UNKNOWN_SYSTEM = "{path}: system {name!r} not found in column 'system' (it has: {have})"


def _read_table(path: str) -> pd.DataFrame:
    suffix = Path(path).suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix in (".jsonl", ".json"):
        return pd.read_json(path, lines=True, dtype=False)
    return pd.read_csv(path, sep="\t" if suffix in (".tsv", ".txt") else ",", dtype=str, keep_default_na=False)


def _scored_systems(args: argparse.Namespace) -> tuple[pd.DataFrame, pd.DataFrame, tuple[str, str]]:
    """(baseline, candidate, names) from two logs or from one log with a system column."""
    import copy as _copy

    if args.systems:
        if args.candidate or args.log is None:
            raise InputError(SYSTEMS_NEED_ONE_LOG if args.candidate else NEED_TWO_LOGS)
        try:
            table = _read_table(args.log)
        except (OSError, ValueError) as error:
            raise InputError(f"cannot read {args.log}: {error}", file=args.log) from error
        if "system" not in table.columns:
            raise InputError(NO_SYSTEM_COLUMN.format(path=args.log), file=args.log, column="system")
        have = sorted(map(str, table["system"].dropna().unique()))
        parts = []
        for name in args.systems:
            rows = table[table["system"].astype(str) == name].reset_index(drop=True)
            if rows.empty:
                raise InputError(UNKNOWN_SYSTEM.format(path=args.log, name=name, have=", ".join(have)), column="system")
            rows.attrs["wergap"] = {"sources": [f"{args.log} [system={name}]"]}
            sub = _copy.copy(args)
            sub.log = rows
            sub.format = None
            parts.append(load_scored(sub))
        return parts[0], parts[1], (args.systems[0], args.systems[1])
    if args.candidate is None:
        raise InputError(NEED_TWO_LOGS)
    base = load_scored(args)
    sub = _copy.copy(args)
    sub.log = args.candidate
    cand = load_scored(sub)
    return base, cand, ("base", "candidate")


def cmd_compare(args: argparse.Namespace) -> int:
    from wergap.cohorts.compare import compare, partitions_from_assignments

    base, cand, names = _scored_systems(args)
    partitions = None
    if args.assignments:
        try:
            assignments = pd.read_parquet(args.assignments)
        except (OSError, ValueError) as error:
            raise InputError(f"cannot read {args.assignments}: {error}", file=args.assignments) from error
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


NO_METHOD_TO_EXPORT = "no discovery method found a bottom cohort to export ({why})"


def cmd_export_weights(args: argparse.Namespace) -> int:
    import math

    from wergap._io import write_text_atomic
    from wergap.cohorts.mitigation import oversampling_weights, speaker_cohort_ids, utterance_cohorts

    scored = load_scored(args)
    result = run_audit(args, scored, [args.method] if args.method else None)
    method = args.method
    if method is None:  # the method whose bottom cohort is worst on held-out speakers
        ranked = [m for m in result.methods if result.gaps[m].bottom_cohorts]
        if not ranked:
            why = "; ".join([f"{m}: {r}" for m, r in result.skipped.items()] + [f"{m}: {result.gaps[m].reason}" for m in result.methods])
            raise InputError(NO_METHOD_TO_EXPORT.format(why=why or "none ran"))
        held = {m: result.held_out[m].gap_pct for m in ranked}
        method = max(ranked, key=lambda m: -math.inf if math.isnan(held[m]) else held[m])
    elif method not in result.methods:
        raise InputError(f"method {method} did not run: {result.skipped.get(method, 'unknown')}")
    weights = oversampling_weights(scored, result, method, args.target_share)
    info = weights.attrs["wergap"]["oversampling"]
    table = utterance_cohorts(scored, result)
    table["bottom"] = weights["bottom"].to_numpy()
    table["weight"] = weights["weight"].to_numpy()
    table = table.drop(columns=[c for c in table.columns if c.endswith("_bottom")])
    write_table(table, args.output)
    written = [str(args.output)]
    if args.utterances_out:
        ids = table.loc[table["bottom"], "utt_id"].tolist()
        write_text_atomic(args.utterances_out, "".join(f"{i}\n" for i in ids))
        written.append(str(args.utterances_out))
    if args.speakers_out:
        features = speaker_cohort_ids(result)
        write_table(features, args.speakers_out)
        written.append(str(args.speakers_out))
    print(
        f"method      {method}: bottom {' + '.join(info['bottom_cohorts'])} "
        f"({info['n_bottom']:,} of {info['n_bottom'] + info['n_rest']:,} utterances, "
        f"{100 * info['share_before']:.1f} %)"
    )
    print(
        f"weights     bottom utterances {info['weight']:.3f}, others 1: bottom share "
        f"{100 * info['share_after']:.1f} % (target {100 * info['target_share']:.1f} %; weights never below 1)"
    )
    print("wrote       " + ", ".join(written))
    return 0


def cmd_embed(args: argparse.Namespace) -> int:
    import time

    from wergap.discovery.embed import embed_audio, write_embeddings

    started = time.perf_counter()
    try:
        emb = embed_audio(
            args.source,
            model=args.model,
            cache_dir=args.cache_dir,
            batch_size=args.batch_size,
            batch_seconds=args.batch_seconds,
            device=args.device,
            progress=sys.stderr.isatty() and not args.quiet,
            base_dir=args.base_dir,
            min_seconds=args.min_seconds,
            max_seconds=args.max_seconds if args.max_seconds > 0 else None,
            max_per_speaker=args.max_per_speaker,
            select=args.select,
            seed=args.seed,
        )
    except KeyboardInterrupt:
        if args.cache_dir:
            print(f"wergap: interrupted; embeddings finished so far are kept in {args.cache_dir}: "
                  "rerun the same command to resume", file=sys.stderr)
            return 130
        raise
    write_embeddings(emb, args.output)
    wall = time.perf_counter() - started
    meta = provenance(emb)
    info = meta.get("embed", {})
    print(f"embedded    {len(emb):,} utterances of {emb['speaker_id'].nunique():,} speakers "
          f"({info.get('computed', 0):,} computed, {info.get('from_cache', 0):,} from cache; dim {info.get('dim')})")
    seconds = float(info.get("seconds") or 0.0)
    device = info.get("device") or "none (nothing to compute)"
    if info.get("device") == "cpu":
        device += f" ({info.get('threads')} threads)"
    print(f"device      {device}; {seconds:,.1f} s of audio in {wall:,.1f} s wall "
          f"({seconds / max(wall, 1e-9):,.1f}x real time, model load included)")
    notes = []
    if info.get("cropped"):
        notes.append(f"{info['cropped']:,} cropped to their central {info['max_seconds']:g} s")
    if info.get("not_selected"):
        notes.append(f"{info['not_selected']:,} not selected (at most {info['max_per_speaker']} per speaker, "
                     f"{info['select']})")
    if notes:
        print("selected    " + "; ".join(notes))
    dropped = meta.get("dropped") or {}
    print("dropped     " + ("; ".join(f"{n:,} {why}" for why, n in dropped.items()) if dropped else "none"))
    print(f"wrote       {args.output}")
    return 0


def add_report_arguments(p: argparse.ArgumentParser) -> None:
    """Where the report and exports go (``audit`` and ``demo``)."""
    p.add_argument("-o", "--output", required=True, help="the HTML report to write")
    p.add_argument("--outdir", help="also write summary.json, cohorts.csv, assignments.parquet, regions.geojson here")
    p.add_argument("--boundaries", help="GeoJSON of outlines (e.g. US states) drawn under the regions map")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wergap",
        description="Find the speakers a speech recognizer serves worst.",
    )
    parser.add_argument("--version", action="version", version=f"wergap {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("score", help="score a decode log: per-utterance S/D/I, WER summary")
    add_log_arguments(p)
    p.add_argument("-o", "--output", required=True, help="scored utterances (.parquet, .csv, .tsv, .jsonl)")
    p.add_argument("--speakers", help="also write the per-speaker table here")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("audit", help="discover cohorts and write the disparity report")
    add_log_arguments(p)
    add_report_arguments(p)
    add_discovery_arguments(p)
    p.add_argument("--methods", nargs="+", choices=("geo_tree", "census_splits", "embedding_kmeans"))
    p.add_argument("--audio", action="store_true",
                   help="compute speaker embeddings from the log's 'audio' column with SpeechBrain ([embed] extra)")
    p.add_argument("--embed-model", default="speechbrain/spkrec-ecapa-voxceleb",
                   help="with --audio: Hugging Face id or local SpeechBrain model folder")
    p.add_argument("--embed-cache", help="with --audio: embedding cache folder, so reruns skip known audio")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("demo", help="audit the bundled SIMULATED example and write its report")
    add_report_arguments(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the example and of every random choice (default 0)")
    p.add_argument("--speakers", type=int, default=3000, help="simulated speakers (default 3000)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("embed", help="speaker embeddings from audio with SpeechBrain's ECAPA-TDNN ([embed] extra)")
    p.add_argument("source", help="decode log with an 'audio' column, a .lst of audio paths, a folder, or one audio file")
    p.add_argument("--model", default="speechbrain/spkrec-ecapa-voxceleb",
                   help="Hugging Face id or a local SpeechBrain model folder (hyperparams.yaml + checkpoints)")
    p.add_argument("-o", "--output", required=True, help="embeddings parquet (utt_id, speaker_id, embedding)")
    p.add_argument("--cache-dir", help="keep embeddings here, keyed by audio content and model, so reruns skip them "
                                       "and an interrupted run resumes where it stopped")
    p.add_argument("--batch-size", type=int, default=16, help="most utterances per batch (default 16)")
    p.add_argument("--batch-seconds", type=float, default=120.0,
                   help="most padded audio per batch, in seconds: bounds memory (default 120)")
    p.add_argument("--device", default="auto",
                   help="auto (a CUDA GPU when torch sees one, else cpu), cpu, cuda or cuda:N (default auto)")
    p.add_argument("--base-dir", help="folder relative audio paths are resolved against "
                                      "(default: the log's or list's folder)")
    p.add_argument("--min-seconds", type=float, default=0.1,
                   help="drop audio shorter than this, counted as 'audio too short' (default 0.1)")
    p.add_argument("--max-seconds", type=float, default=30.0,
                   help="crop longer audio to its central part of this length; 0 embeds whole files (default 30)")
    p.add_argument("--max-per-speaker", type=int, metavar="N",
                   help="embed at most N utterances per speaker (default: all)")
    p.add_argument("--select", choices=("longest", "random"), default="longest",
                   help="with --max-per-speaker: keep the longest, or a seeded random choice (default longest)")
    p.add_argument("--seed", type=int, default=0, help="seed of --select random (default 0)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_embed)

    p = sub.add_parser("check", help="release gate: exit 1 when a held-out WER gap exceeds a threshold")
    add_log_arguments(p)
    add_discovery_arguments(p)
    p.add_argument("--max-gap", type=float, required=True, metavar="PCT", help="largest acceptable held-out gap, in percent")
    p.add_argument("--method", nargs="+", choices=("geo_tree", "census_splits", "embedding_kmeans"), help="methods to gate on (default: all)")
    p.add_argument("--strict", action="store_true", help="gate on the CI lower bound, and fail when a method cannot be measured")
    p.add_argument("--json", help="write the decision per method as JSON here")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("compare", help="cohort WER change between a baseline and a candidate system")
    add_log_arguments(p)
    p.add_argument("candidate", nargs="?", help="the candidate system's decode log of the same utterances")
    add_discovery_arguments(p)
    p.add_argument("--systems", nargs=2, metavar=("BASE", "CANDIDATE"), help="compare two systems of one log's 'system' column")
    p.add_argument("--assignments", help="cohorts from a previous audit's assignments.parquet instead of discovering")
    p.add_argument("--methods", nargs="+", help="methods to compare (default: all that ran, or all in --assignments)")
    p.add_argument("--json", help="write the comparison as JSON here")
    p.add_argument("-o", "--output", help="write the per-cohort table here (.csv, .tsv, .parquet, .jsonl)")
    p.add_argument("--html", help="write an HTML page of the comparison here")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("export-weights", help="per-utterance cohort labels and oversampling weights for retraining")
    add_log_arguments(p)
    add_discovery_arguments(p)
    p.add_argument("-o", "--output", required=True, help="weights table (.parquet, .csv, .tsv, .jsonl)")
    p.add_argument("--method", choices=("geo_tree", "census_splits", "embedding_kmeans"),
                   help="whose bottom cohort to oversample (default: the largest held-out gap)")
    p.add_argument("--target-share", type=float, default=0.2, help="bottom-cohort share of utterances after weighting (default 0.2)")
    p.add_argument("--utterances-out", help="also write the bottom-cohort utterance ids here, one per line")
    p.add_argument("--speakers-out", help="also write per-speaker integer cohort ids (model features) here")
    p.set_defaults(func=cmd_export_weights)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``wergap`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except WergapError as exc:
        print(f"wergap: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("wergap: interrupted; no output was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
