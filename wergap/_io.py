"""File output that never destroys an input and never leaves a half-written file.

Every file wergap writes goes through :func:`atomic_path`: the content goes to a
temporary file beside the output (same folder, so the final ``os.replace`` is atomic),
named ``.<output name>.wergap-<pid>-<random>.tmp`` so that it cannot be mistaken for
anything else. A run killed before the rename (SIGKILL, power loss) leaves that file
behind; the next write to the same output removes every such file whose process is gone.

:func:`check_outputs` refuses, before any work, an output that is one of the inputs
(compared after resolving symlinks, ``./x`` against ``x``, hard links), a folder, or in a
folder that cannot be made; operating-system errors become one-line
:class:`~wergap.errors.InputError` (a bad path: exit 2) or
:class:`~wergap.errors.ResourceError` (permissions, disk: exit 1).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from wergap.errors import InputError, ResourceError

OUTPUT_IS_INPUT = "refusing to write {output}: it is the input {input} (choose another output path)"
SAME_OUTPUT_TWICE = "{output} is named as two outputs ({first} and {second}): choose different paths"
OUTPUT_IS_FOLDER = "is a folder: expected a file name to write"
PARENT_NOT_FOLDER = "cannot write here: {parent} is a file, not a folder"
OUTDIR_IS_FILE = "is a file: expected a folder to write into"
CANNOT_WRITE = "cannot write: {reason}"
CANNOT_READ = "cannot read: {reason}"
OS_ERROR = "{reason}"

#: Errors of the path given (exit 2); every other OSError is the environment's (exit 1).
_PATH_ERRNOS = {errno.EISDIR, errno.ENOTDIR, errno.EEXIST, errno.ENOENT, errno.ENAMETOOLONG, errno.EINVAL}
_TEMP_MARK = ".wergap-"


def os_error(
    error: OSError, path: str | os.PathLike[str] | None = None, *, writing: bool | None = True
) -> InputError | ResourceError:
    """The one-line wergap error for an operating-system error on ``path``.

    A path that cannot be one (a folder where a file is expected, a file where a folder
    is, a missing folder, a name too long) is the caller's input: :class:`InputError`
    (exit 2). Permission denied, a full disk, a read-only file system and the rest are
    the environment's: :class:`ResourceError` (exit 1). ``writing=None``: the operation
    is not known (the message is the system's reason only).
    """
    where = str(path if path is not None else (error.filename or ""))
    reason = error.strerror or str(error)
    reason = reason[:1].lower() + reason[1:]
    template = OS_ERROR if writing is None else CANNOT_WRITE if writing else CANNOT_READ
    if error.errno == errno.EISDIR:
        message = OUTPUT_IS_FOLDER if writing else template.format(reason="is a folder, expected a file")
    else:
        message = template.format(reason=reason)
    if error.errno in _PATH_ERRNOS:
        return InputError(message, file=where or None)
    return ResourceError(message, file=where or None)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def stale_temporaries(target: Path) -> list[Path]:
    """wergap's own temporary files of ``target`` left by runs that are no longer alive."""
    pattern = re.compile(re.escape(f".{target.name}{_TEMP_MARK}") + r"(\d+)-[^/]*\.tmp$")
    found = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            match = pattern.match(entry.name)
            if match and not _pid_alive(int(match.group(1))):
                found.append(Path(entry.path))
    return found


def _make_parent(target: Path) -> None:
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(PARENT_NOT_FOLDER.format(parent=_first_file(parent)), file=str(target)) from None
    except NotADirectoryError:
        raise InputError(PARENT_NOT_FOLDER.format(parent=_first_file(parent)), file=str(target)) from None
    except OSError as error:
        raise os_error(error, parent) from None


def make_folder(folder: str | os.PathLike[str]) -> Path:
    """Create ``folder`` (and its parents) for outputs; OS errors as :func:`os_error` says."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(OUTDIR_IS_FILE, file=str(folder))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise InputError(PARENT_NOT_FOLDER.format(parent=_first_file(folder)), file=str(folder)) from None
    except OSError as error:
        raise os_error(error, folder) from None
    return folder


def _first_file(folder: Path) -> Path:
    """The first part of ``folder`` that exists and is not a folder."""
    for part in reversed([folder, *folder.parents]):
        if part.exists() and not part.is_dir():
            return part
    return folder


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    On any exception the temporary file is removed and ``path`` is left untouched; an
    ``OSError`` becomes :class:`InputError` or :class:`ResourceError` (:func:`os_error`).
    Stale temporary files of ``path`` from killed runs are removed first.
    """
    target = Path(path)
    if target.is_dir():
        raise InputError(OUTPUT_IS_FOLDER, file=str(target))
    _make_parent(target)
    for stale in stale_temporaries(target):
        with contextlib.suppress(OSError):
            stale.unlink()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}{_TEMP_MARK}{os.getpid()}-", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as error:
        raise os_error(error, target) from None
    tmp_path = Path(tmp)
    try:
        # mkstemp creates 0600; give the output the mode a plain open() would (0666 less umask).
        os.chmod(tmp_path, 0o666 & ~_umask())
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException as error:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        if isinstance(error, OSError):
            raise os_error(error, target) from None
        raise


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _same_file(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_not_inputs(
    outputs: Iterable[str | os.PathLike[str] | None], inputs: Iterable[str | os.PathLike[str] | None]
) -> None:
    """Raise :class:`InputError` when an output path names an input file, or two outputs
    name the same file.

    Paths are compared after resolving symlinks and ``.``/``..`` (``./log.tsv`` is
    ``log.tsv``), and existing files by device and inode (hard links). ``None`` entries
    (options not given) and in-memory inputs are ignored. Call it before any work, so a
    refused run has read nothing and written nothing.
    """
    ins = [(str(p), Path(p).resolve()) for p in inputs if isinstance(p, (str, os.PathLike))]
    seen: dict[Path, str] = {}
    for out in outputs:
        if out is None:
            continue
        resolved = Path(out).resolve()
        for name, path in ins:
            if _same_file(resolved, path):
                raise InputError(OUTPUT_IS_INPUT.format(output=out, input=name))
        for other, first in seen.items():
            if _same_file(resolved, other):
                raise InputError(SAME_OUTPUT_TWICE.format(output=resolved, first=first, second=out))
        seen[resolved] = str(out)


def check_outputs(
    files: Iterable[str | os.PathLike[str] | None] = (),
    *,
    folders: Iterable[str | os.PathLike[str] | None] = (),
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    folder_files: Iterable[str] = (),
) -> None:
    """Check every output of a run before any work: none is an input, an output file is
    not a folder, an output folder is not a file, and the folders can be written.

    Parameters
    ----------
    files : paths
        Output files (``None`` for options not given).
    folders : paths
        Output folders (``--outdir``); ``folder_files`` are the names written into each,
        checked against the inputs too.
    inputs : paths
        Every file the run reads.

    Raises
    ------
    InputError
        A bad output path (exit 2).
    ResourceError
        An output folder that exists but cannot be written (exit 1).
    """
    out_files = [Path(f) for f in files if f is not None]
    out_folders = [Path(d) for d in folders if d is not None]
    in_files = [i for i in inputs if isinstance(i, (str, os.PathLike))]
    for folder in out_folders:
        if folder.exists() and not folder.is_dir():
            raise InputError(OUTDIR_IS_FILE, file=str(folder))
    in_folders = [folder / name for folder in out_folders for name in folder_files]
    check_not_inputs([*out_files, *in_folders], in_files)
    for file in out_files:
        if file.is_dir():
            raise InputError(OUTPUT_IS_FOLDER, file=str(file))
        parent = file.parent
        if parent.exists() and not parent.is_dir():
            raise InputError(PARENT_NOT_FOLDER.format(parent=parent), file=str(file))
    for folder in [*out_folders, *(f.parent for f in out_files)]:
        existing = next((p for p in [folder, *folder.parents] if p.exists()), None)
        if existing is not None and existing.is_dir() and not os.access(existing, os.W_OK | os.X_OK):
            raise ResourceError(CANNOT_WRITE.format(reason="permission denied"), file=str(folder))
        if existing is not None and not existing.is_dir():
            raise InputError(PARENT_NOT_FOLDER.format(parent=existing), file=str(folder))
