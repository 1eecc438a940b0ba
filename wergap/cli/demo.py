"""``wergap demo``: audit the bundled SIMULATED example and write its report."""

from __future__ import annotations

import argparse
from typing import Any

from wergap.cli._options import add_report_arguments, print_summary

SIMULATED = "SIMULATED example: a generated voice-assistant decode log with planted disparities"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``demo`` subcommand."""
    p = subparsers.add_parser("demo", help="audit the bundled SIMULATED example and write its report")
    add_report_arguments(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the example and of every random choice (default 0)")
    p.add_argument("--speakers", type=int, default=3000, help="simulated speakers (default 3000)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Generate and audit the example, write report and inputs; exit status 0."""
    from wergap.demo import run_demo, write_example

    result = run_demo(args.output, args.outdir, n_speakers=args.speakers, seed=args.seed, boundaries=args.boundaries)
    print(SIMULATED)
    print_summary(result)
    print(f"wrote       {args.output}")
    if args.outdir:
        inputs = write_example(args.outdir, n_speakers=args.speakers, seed=args.seed)
        print(
            f"wrote       exports and the simulated inputs in {args.outdir}: "
            + ", ".join(p.name for p in inputs.values())
        )
    return 0
