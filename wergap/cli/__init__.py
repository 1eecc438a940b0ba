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
from wergap.cli._options import in_flags, load_scored, print_summary, run_audit, summary_lines, write_table

__all__ = [
    "build_parser",
    "in_flags",
    "load_scored",
    "main",
    "print_summary",
    "run_audit",
    "summary_lines",
    "write_table",
]

SUBCOMMANDS = (score, audit, demo, embed, check, compare, export_weights)
INTERRUPTED = "wergap: interrupted; no output was written"
#: A missing optional dependency (the top-level module name) -> the extra and how to install it.
EXTRAS = {
    "dask": "pip install 'wergap[dask]'",
    "distributed": "pip install 'wergap[dask]'",
    "speechbrain": "pip install -c constraints/embed.txt 'wergap[embed]'",
    "torch": "pip install -c constraints/embed.txt 'wergap[embed]'",
    "torchaudio": "pip install -c constraints/embed.txt 'wergap[embed]'",
    "soundfile": "pip install -c constraints/embed.txt 'wergap[embed]'",
}
MISSING_EXTRA = "this needs the optional package {module!r}, which is not installed: {command}"


class _Parser(argparse.ArgumentParser):
    """argparse, with a bad argument reported in one line (exit 2) instead of the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``wergap`` argument parser, one subparser per subcommand module."""
    from wergap._version import __version__

    parser = _Parser(
        prog="wergap",
        description="Find the speakers a speech recognizer serves worst.",
    )
    parser.add_argument("--version", action="version", version=f"wergap {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in SUBCOMMANDS:
        p = module.add_parser(sub)
        p.add_argument(
            "-q", "--quiet", action="store_true", help="no progress bars (they go to stderr, and only to a terminal)"
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``wergap`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from wergap._io import os_error
    from wergap.cli._paths import check_paths, new_outputs, snapshot
    from wergap.errors import WergapError

    before: dict = {}
    try:
        check_paths(args)
        before = snapshot(args)
        return int(args.func(args) or 0)
    except WergapError as exc:
        _remove(new_outputs(before))
        print(f"wergap: error: {in_flags(str(exc))}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 2))
    except OSError as exc:  # an OS error no writer or reader turned into a WergapError
        _remove(new_outputs(before))
        error = os_error(exc, writing=None)
        print(f"wergap: error: {in_flags(str(error))}", file=sys.stderr)
        return error.exit_code
    except ModuleNotFoundError as exc:
        _remove(new_outputs(before))
        module = (exc.name or "").split(".")[0]
        if module not in EXTRAS:
            raise
        print(f"wergap: error: {MISSING_EXTRA.format(module=module, command=EXTRAS[module])}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        _remove(new_outputs(before))
        print(INTERRUPTED, file=sys.stderr)
        return 130


def _remove(paths: Sequence[object]) -> None:
    """Remove what a failed run wrote (it did not exist before the run)."""
    import contextlib
    import os

    for path in paths:
        with contextlib.suppress(OSError):
            os.unlink(path)  # type: ignore[arg-type]
