"""Atomic output: all or nothing, with the permissions a plain open() would give."""

from __future__ import annotations

import os
import stat

import pytest

from wergap._io import atomic_path, write_text_atomic


def test_written_file_has_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "r.html", "ok")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "r.html").stat().st_mode) == 0o644
    assert (tmp_path / "r.html").read_text() == "ok"


def test_failure_leaves_no_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("previous")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
