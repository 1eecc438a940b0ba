"""The ``wergap`` command: a thin layer over the library.

One module per subcommand (``score``, ``audit``, ``demo``, ``check``, ``compare``,
``export_weights``, ``embed``), each with ``add_parser(subparsers)`` and ``run(args) ->
int``; shared option groups live in :mod:`wergap.cli._options`. Each subcommand parses its
arguments and calls the same functions a notebook would; no logic lives only here. Bad
input prints one line (``wergap: error: ...``) and exits 2.

Importing this package loads only :mod:`argparse`: the library is imported by each
subcommand's ``run``, so ``wergap --version`` and ``--help`` start at once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from wergap.cli import audit, check, compare, demo, embed, export_weights, score
from wergap.cli._options import load_scored, print_summary, run_audit, summary_lines, write_table

__all__ = ["build_parser", "load_scored", "main", "print_summary", "run_audit", "summary_lines", "write_table"]

SUBCOMMANDS = (score, audit, demo, embed, check, compare, export_weights)
INTERRUPTED = "wergap: interrupted; no output was written"


def build_parser() -> argparse.ArgumentParser:
    """The ``wergap`` argument parser, one subparser per subcommand module."""
    from wergap._version import __version__

    parser = argparse.ArgumentParser(
        prog="wergap",
        description="Find the speakers a speech recognizer serves worst.",
    )
    parser.add_argument("--version", action="version", version=f"wergap {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``wergap`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from wergap.errors import WergapError

    try:
        return int(args.func(args) or 0)
    except WergapError as exc:
        print(f"wergap: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
