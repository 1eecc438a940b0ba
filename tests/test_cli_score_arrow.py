"""``wergap score`` of a clean CSV/TSV to Parquet runs in Arrow without pandas, and writes
what the pandas path writes: the same table, types and provenance, and the same summary."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from wergap.cli import main
from wergap.cli._options import summary_lines, write_table
from wergap.data_schemas import read_log
from wergap.data_schemas.log import DUPLICATE
from wergap.scoring import score

ROOT = Path(__file__).resolve().parents[1]

LOG = (
    "utt_id,speaker_id,ref,hyp,accent,age,lat,lon,zip\n"
    'a-1,a,"Hello, world! <noise>",hello word,southern,34,40.1,-75,19104\n'
    "a-2,a,It's five o'clock.,its five oclock [laugh],southern,34,40.1,-75,19104\n"
    "b-1,b,Ünïcödé straße,unicode strasse,new england,61,42.4,-71.1,02139\n"
    "b-2,b,!!!,uh,new england,61,42.4,-71.1,02139\n"
    "c-1,c,the cat sat on the mat,the cat sat on a mat mat,midland,25,39.1,-94.6,64108\n"
    "c-2,c,Mr. Smith's 2 dogs,mister smiths two dogs,midland,25,39.1,-94.6,64108\n"
)

OPTIONS = [
    [],
    ["--normalization", "none"],
    ["--normalization", "whisper"],
    ["--normalization", "basic"],
    ["--normalization", "kaldi"],
    ["--unit", "char"],
    ["--drop-tokens", r"<[^>]*>|\[[^]]*\]"],
    ["--jobs", "1"],
]


def _slow(path: Path, options: list[str], out: Path) -> list[str]:
    """The pandas path's output file and summary for the same log and options."""
    opts = dict(zip(options[::2], options[1::2]))
    scored = score(
        read_log(path),
        normalization=opts.get("--normalization", "default"),
        unit=opts.get("--unit", "word"),
        drop_tokens=opts.get("--drop-tokens"),
    )
    write_table(scored, out)
    return summary_lines(scored)


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: " ".join(o) or "default")
def test_arrow_path_writes_what_the_pandas_path_writes(tmp_path, capsys, options):
    path = tmp_path / "log.csv"
    path.write_text(LOG, encoding="utf-8")
    fast, slow = tmp_path / "fast.parquet", tmp_path / "slow.parquet"
    assert main(["score", str(path), "-o", str(fast), *options]) == 0
    printed = capsys.readouterr().out.splitlines()
    expected_lines = _slow(path, options, slow)
    assert printed == [*expected_lines, f"wrote       {fast}"]
    got, expected = pd.read_parquet(fast), pd.read_parquet(slow)
    pd.testing.assert_frame_equal(got, expected)
    assert got.attrs == expected.attrs and got.attrs["wergap"]["rows_read"] == 6
    assert pq.read_schema(fast).remove_metadata().equals(pq.read_schema(slow).remove_metadata())


def test_arrow_path_output_reads_back_as_a_log(tmp_path, capsys):
    """The Parquet file is an input wergap reads (audit of a scored table) with its provenance."""
    path = tmp_path / "log.tsv"
    path.write_text(
        "utt_id\tspeaker_id\tref\thyp\nu1\ts1\tHello, world!\thello word\nu2\ts2\tyes\tyes\n", encoding="utf-8"
    )
    out = tmp_path / "scored.parquet"
    assert main(["score", str(path), "-o", str(out)]) == 0
    again = read_log(out)
    assert again.attrs["wergap"]["normalization"] == "default"
    assert again["errors"].sum() == score(read_log(path))["errors"].sum()


def test_a_log_that_needs_checks_takes_the_pandas_path(tmp_path, capsys):
    path = tmp_path / "log.csv"
    path.write_text("utt_id,speaker_id,ref,hyp\nu1,s1,a,a\nu1,s1,b,b\n", encoding="utf-8")
    assert main(["score", str(path), "-o", str(tmp_path / "x.parquet")]) == 2
    assert "u1" in capsys.readouterr().err and not (tmp_path / "x.parquet").exists()
    assert main(["score", str(path), "-o", str(tmp_path / "x.parquet"), "--drop-invalid"]) == 0
    assert pd.read_parquet(tmp_path / "x.parquet").attrs["wergap"]["dropped"] == {DUPLICATE: 1}


def test_scoring_a_clean_csv_loads_no_pandas(tmp_path):
    """The reason for the Arrow path: pandas' import alone outlasts scoring a 45k-utterance log."""
    path = tmp_path / "log.csv"
    path.write_text(LOG, encoding="utf-8")
    out = tmp_path / "scored.parquet"
    code = (
        "import sys\n"
        "from wergap.cli import main\n"
        f"rc = main(['score', {str(path)!r}, '-o', {str(out)!r}])\n"
        "print(rc, 'pandas' in sys.modules, 'numba' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.splitlines()[-1] == "0 False False"
    assert out.exists()
