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


def test_stale_temporaries_of_dead_runs_are_removed_live_ones_kept(tmp_path):
    dead = tmp_path / ".out.html.wergap-999999999-x.tmp"
    live = tmp_path / f".out.html.wergap-{os.getpid()}-y.tmp"
    other = tmp_path / ".out.html.abc.tmp"  # not wergap's naming: never touched
    for p in (dead, live, other):
        p.write_text("t")
    write_text_atomic(tmp_path / "out.html", "ok")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name, "out.html"])


@pytest.mark.parametrize("output", ["./log.tsv", "sub/../log.tsv", "link.tsv", "hard.tsv"])
def test_an_output_naming_an_input_is_refused(tmp_path, monkeypatch, output):
    from wergap._io import check_not_inputs
    from wergap.errors import InputError

    monkeypatch.chdir(tmp_path)
    (tmp_path / "log.tsv").write_text("x")
    os.symlink("log.tsv", "link.tsv")
    os.link("log.tsv", "hard.tsv")
    with pytest.raises(InputError, match="it is the input log.tsv"):
        check_not_inputs([output], ["log.tsv"])


def test_os_errors_become_one_line_errors_with_exit_codes(tmp_path):
    from wergap.errors import InputError

    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="is a folder") as err:
        write_text_atomic(tmp_path, "x")
    assert err.value.exit_code == 2
    with pytest.raises(InputError, match="is a file, not a folder"):
        write_text_atomic(tmp_path / "f" / "out.html", "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_library_writers_refuse_to_overwrite_the_audited_log(tmp_path):
    import pandas as pd

    import wergap as wg
    from wergap.errors import InputError
    from wergap.reports.exports import write_exports
    from wergap.reports.html import write_html

    rows = [
        {"utt_id": f"s{s}-{u}", "speaker_id": f"s{s}", "ref": "a b c", "hyp": "a b" if s % 3 else "a b c"}
        for s in range(12)
        for u in range(2)
    ]
    log = tmp_path / "summary.json"  # a log that happens to have an export's name
    pd.DataFrame(rows).to_json(log, orient="records", lines=True)
    before = log.read_bytes()
    result = wg.audit(wg.read_log(log, format="jsonl"), n_boot=0)
    with pytest.raises(InputError, match="it is the input"):
        write_exports(result, tmp_path)
    with pytest.raises(InputError, match="it is the input"):
        write_html(result, log)
    assert log.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_the_cli_output_guard_knows_every_export_name():
    from wergap.cli._paths import FOLDER_FILES
    from wergap.discovery import registry

    names = {str(spec.geojson) for spec in registry.specs() if spec.geojson}
    assert names | {"summary.json", "cohorts.csv", "assignments.parquet"} <= set(FOLDER_FILES)
