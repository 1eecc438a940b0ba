"""``wergap check``: release gate, exit 1 when a held-out WER gap exceeds a threshold."""

from __future__ import annotations

import argparse
from typing import Any

from wergap._format import dropped_text
from wergap.cli._options import (
    add_discovery_arguments,
    add_log_arguments,
    add_methods_argument,
    exclusion_text,
    load_scored,
    required,
    run_audit,
    write_json,
)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``check`` subcommand."""
    p = subparsers.add_parser("check", help="release gate: exit 1 when a held-out WER gap exceeds a threshold")
    add_log_arguments(p)
    add_discovery_arguments(p)
    required(p).add_argument(
        "--max-gap", type=float, required=True, metavar="PCT", help="largest acceptable held-out gap, in percent"
    )
    add_methods_argument(p, "methods to gate on (default: all)")
    p.add_argument(
        "--strict", action="store_true", help="gate on the CI lower bound, and fail when a method cannot be measured"
    )
    p.add_argument("--json", help="write the decision per method as JSON here")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Audit and gate; exit status 0 pass, 1 fail."""
    from wergap.comparison import check
    from wergap.data_schemas import provenance

    scored = load_scored(args)
    result = run_audit(args, scored, args.methods)
    outcome = check(result, args.max_gap, methods=args.methods, strict=args.strict)
    if args.json:
        payload = outcome.to_dict()
        payload["provenance"] = {
            k: v for k, v in provenance(scored).items() if k in ("sources", "rows_read", "dropped")
        }
        write_json(payload, args.json)
    dropped = provenance(scored).get("dropped") or {}
    if dropped:
        print("dropped     " + dropped_text(dropped))
    for line in exclusion_text(result, reader=True):
        print(f"excluded    {line}")
    for line in outcome.lines():
        print(line)
    return outcome.exit_code
