"""The one place that checks every command's output paths against its input paths.

Before any work, :func:`check_paths` collects the files a command will read and the
files and folders it will write (from the parsed options, whatever the subcommand) and
refuses, with exit status 2, an output that is an input — compared after resolving
symlinks and ``./x`` against ``x`` — an output file that is a folder, and an ``--outdir``
that is a file (:func:`wergap._io.check_outputs`). :func:`new_outputs` lets ``main``
remove what a failed run had already written, so a failed run leaves nothing new behind.
"""

from __future__ import annotations

import argparse
import glob
import os
from pathlib import Path

#: Options naming files a command reads.
INPUT_OPTIONS = (
    "log",
    "others",
    "candidate",
    "ref",
    "hyp",
    "utt2spk",
    "census",
    "embeddings",
    "assignments",
    "boundaries",
    "source",
)
#: Options naming files a command writes (``speakers`` is a file for ``score`` only).
OUTPUT_OPTIONS = ("output", "json", "html", "utterances_out", "speakers_out")
#: Options naming folders a command writes into, and the files it writes there.
FOLDER_OPTIONS = ("outdir",)
FOLDER_FILES = (
    "summary.json",
    "cohorts.csv",
    "assignments.parquet",
    "regions.geojson",
    "hot_spots.geojson",
    "simulated_decode_log.tsv",
    "simulated_census.csv",
    "simulated_embeddings.parquet",
    "simulated_planted.json",
    "overall.csv",
    "gaps.csv",
    "changes.csv",
    "cohort_changes.csv",
)
_GLOB = set("*?[")


def _expand(value: object) -> list[str]:
    """The files an input option names: a file, every file of a folder, every match of a
    glob; a list of them (``compare``'s logs)."""
    if isinstance(value, (list, tuple)):
        return [path for item in value for path in _expand(item)]
    if not isinstance(value, (str, os.PathLike)):
        return []
    text = os.fspath(value)
    if _GLOB & set(text):
        return glob.glob(text, recursive=True) or [text]
    if os.path.isdir(text):
        return [entry.path for entry in os.scandir(text) if entry.is_file()]
    return [text]


def inputs_of(args: argparse.Namespace) -> list[str]:
    """Every input file named by ``args``."""
    found: list[str] = []
    for name in INPUT_OPTIONS:
        found += _expand(getattr(args, name, None))
    return found


def outputs_of(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """(output files, output folders) named by ``args``."""
    files = [getattr(args, name) for name in OUTPUT_OPTIONS if isinstance(getattr(args, name, None), str)]
    if getattr(args, "command", None) == "score" and isinstance(getattr(args, "speakers", None), str):
        files.append(args.speakers)
    folders = [getattr(args, name) for name in FOLDER_OPTIONS if isinstance(getattr(args, name, None), str)]
    return files, folders


def check_paths(args: argparse.Namespace) -> None:
    """Refuse bad output paths before any work (see the module docstring)."""
    from wergap._io import check_outputs

    files, folders = outputs_of(args)
    if files or folders:
        check_outputs(files, folders=folders, inputs=inputs_of(args), folder_files=FOLDER_FILES)


def snapshot(args: argparse.Namespace) -> dict[Path, tuple[int, int] | None]:
    """(inode, mtime) of every output path before the run (None: it did not exist)."""
    files, folders = outputs_of(args)
    paths = [Path(f) for f in files] + [Path(d) / name for d in folders for name in FOLDER_FILES]
    state: dict[Path, tuple[int, int] | None] = {}
    for path in paths:
        try:
            st = path.stat()
            state[path] = (st.st_ino, st.st_mtime_ns)
        except OSError:
            state[path] = None
    return state


def new_outputs(before: dict[Path, tuple[int, int] | None]) -> list[Path]:
    """Output files that did not exist before the run and exist now."""
    return [path for path, was in before.items() if was is None and path.is_file()]
