"""``wergap export-weights``: per-utterance cohort labels and oversampling weights for retraining."""

from __future__ import annotations

import argparse
from typing import Any

from wergap.cli._options import (
    add_discovery_arguments,
    add_log_arguments,
    add_methods_argument,
    load_scored,
    required,
    run_audit,
    write_table,
)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``export-weights`` subcommand."""
    p = subparsers.add_parser(
        "export-weights", help="per-utterance cohort labels and oversampling weights for retraining"
    )
    add_log_arguments(p)
    add_discovery_arguments(p)
    required(p).add_argument("-o", "--output", required=True, help="weights table (.parquet, .csv, .tsv, .jsonl)")
    add_methods_argument(p, "whose bottom cohort to oversample (default: the largest held-out gap)", nargs=1)
    p.add_argument(
        "--target-share",
        type=float,
        default=0.2,
        help="bottom-cohort share of utterances after weighting (default 0.2)",
    )
    p.add_argument("--utterances-out", help="also write the bottom-cohort utterance ids here, one per line")
    p.add_argument("--speakers-out", help="also write per-speaker integer cohort ids (model features) here")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Audit, weight the bottom cohort's utterances, write the tables; exit status 0."""
    from wergap._io import write_text_atomic
    from wergap.comparison.mitigation import export_method, oversampling_weights, speaker_cohort_ids, utterance_cohorts

    scored = load_scored(args)
    result = run_audit(args, scored, args.methods)
    method = export_method(result, args.methods[0] if args.methods else None)
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
        write_table(speaker_cohort_ids(result), args.speakers_out)
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
