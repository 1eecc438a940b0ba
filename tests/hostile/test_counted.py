"""Hostile inputs a run survives: every row and speaker counted out is counted in every
output, no transcript reaches a report, no statistic of fewer than ``min_speakers``
speakers is exported, and a killed run's temporary file does not outlive the next run
(issue 14, classes 2, 3, 4 and 7)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from .harness import SECRET, log_frame, run_cli, summary_json, write_census, write_embeddings, write_log

REPO = Path(__file__).resolve().parents[2]
FAST = ["--n-boot", "20"]


def _speakers(frame: pd.DataFrame) -> list[str]:
    return sorted(frame["speaker_id"].unique())


def _outputs_text(folder: Path, run) -> str:
    """Everything a run showed or wrote, as text (Parquet bytes decoded leniently)."""
    parts = [run.out, run.err]
    for path in folder.rglob("*"):
        if path.is_file() and path.name not in {"log.tsv", "census.csv", "emb.parquet"}:
            parts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


def _no_temporaries(folder: Path) -> None:
    assert not [p for p in folder.rglob("*.tmp")], list(folder.rglob("*.tmp"))


# ------------------------------------------------------------------ 2. counted, never lost


def test_dropped_malformed_line_is_counted_against_the_file_lines(tmp_path):
    (tmp_path / "m.csv").write_text("utt_id,speaker_id,ref,hyp\nu1,s1,a b,a b\nu2,s1,a,a,extra\nu3,s1,c,c\n")
    run = run_cli(["score", "m.csv", "-o", "o.parquet", "--drop-invalid"], tmp_path)
    assert run.code == 0, run.err
    assert "utterances  2 of 3 rows read" in run.out and "1 malformed line" in run.out
    assert len(pd.read_parquet(tmp_path / "o.parquet")) == 2
    _no_temporaries(tmp_path)


def test_a_field_longer_than_pythons_csv_limit_is_read(tmp_path):
    (tmp_path / "big.csv").write_text("utt_id,speaker_id,ref,hyp\nu1,s1,a,a\nu2,s1," + "w " * 100_000 + ",w\n")
    run = run_cli(["score", "big.csv", "-o", "o.parquet"], tmp_path)
    assert run.code == 0, run.err
    assert "utterances  2 of 2 rows read" in run.out


def test_invalid_zip_codes_are_counted_by_score(tmp_path):
    frame = log_frame(20)
    frame.loc[:4, "zip"] = "ABCDE"
    write_log(tmp_path / "log.tsv", frame)
    run = run_cli(["score", "log.tsv", "-o", "o.parquet"], tmp_path)
    assert run.code == 0, run.err
    assert "excluded    5 rows with an invalid ZIP code" in run.out


def _no_coordinates(frame, tmp):
    frame.loc[frame["speaker_id"] < "s007", ["lat", "lon"]] = None
    return [], "geo_tree", "no coordinates", 7


def _invalid_zip(frame, tmp):
    frame.loc[frame["speaker_id"] < "s004", "zip"] = "12AB5"
    return ["--census", "census.csv"], "read", "invalid ZIP code", 12


def _zip_not_in_census(frame, tmp):
    frame.loc[frame["speaker_id"] < "s005", "zip"] = "99999"
    return ["--census", "census.csv"], "census_splits", "zip not in census table", 5


def _zero_vectors(frame, tmp):
    write_embeddings(tmp / "emb.parquet", _speakers(frame), zero=6)
    return ["--embeddings", "emb.parquet", "--n-clusters", "2"], "embedding_kmeans", "zero embedding vector", 6


def _audit_with_every_input(tmp_path: Path, frame: pd.DataFrame, *, n_clusters: int, min_speakers: int):
    """``wergap audit`` of ``frame`` with a census, embeddings, the report and every export."""
    write_log(tmp_path / "log.tsv", frame)
    write_census(tmp_path / "census.csv")
    write_embeddings(tmp_path / "emb.parquet", _speakers(frame))
    args = ["audit", "log.tsv", "-o", "report.html", "--outdir", "out", "--census", "census.csv"]
    args += ["--embeddings", "emb.parquet", "--n-clusters", str(n_clusters), "--min-speakers", str(min_speakers)]
    return run_cli([*args, *FAST], tmp_path)


def _speakers_without_embedding(frame, tmp):
    write_embeddings(tmp / "emb.parquet", _speakers(frame)[8:])
    return ["--embeddings", "emb.parquet", "--n-clusters", "2"], "embeddings", "without an embedding", 8


@pytest.mark.parametrize(
    "damage", [_no_coordinates, _invalid_zip, _zip_not_in_census, _zero_vectors, _speakers_without_embedding]
)
def test_exclusions_appear_in_the_summary_the_report_and_summary_json(tmp_path, damage):
    frame = log_frame(100)
    write_census(tmp_path / "census.csv")
    options, stage, reason, count = damage(frame, tmp_path)
    write_log(tmp_path / "log.tsv", frame)
    run = run_cli(
        ["audit", "log.tsv", "-o", "report.html", "--outdir", "out", "--min-speakers", "10", *FAST, *options], tmp_path
    )
    assert run.code == 0, run.err
    assert reason in run.out and f"{count:,}" in run.out, run.out
    rows = [r for r in summary_json(tmp_path / "out")["exclusions"] if r["stage"] == stage and reason in r["reason"]]
    assert [r["count"] for r in rows] == [count]
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert reason in report
    _no_temporaries(tmp_path)


# ------------------------------------------------------------------ 3. no transcript leaks

LEAKY_COLUMNS = [
    "text",
    "transcript",
    "reference",
    "ref_text",
    "Transcript",
    "hypothesis",
    "pred_text",
    "prediction",
    "hyp_text",
    "notes",
    "utterance",
]


@pytest.mark.parametrize("column", LEAKY_COLUMNS)
def test_transcript_columns_never_reach_any_output(tmp_path, column):
    frame = log_frame(90)
    # few distinct values, as a column of a log with few speakers would have: the old
    # "2 to 12 values" rule took such a column as a known attribute and printed it
    frame[column] = [f"{SECRET} {i % 3}" for i in range(len(frame))]
    run = _audit_with_every_input(tmp_path, frame, n_clusters=2, min_speakers=10)
    assert run.code == 0, run.err
    assert SECRET not in _outputs_text(tmp_path, run)
    left_out = summary_json(tmp_path / "out")["attributes_left_out"]
    assert column in left_out
    assert "gender" in summary_json(tmp_path / "out")["known_attributes"]
    assert f"{column}:" in (tmp_path / "report.html").read_text(encoding="utf-8")


# ------------------------------------------------------------------ 4. no tiny cohort exported


@pytest.mark.parametrize("min_speakers", [10, 25, 40])
def test_no_output_shows_a_statistic_of_fewer_than_min_speakers(tmp_path, min_speakers):
    frame = log_frame(120)
    run = _audit_with_every_input(tmp_path, frame, n_clusters=4, min_speakers=min_speakers)
    assert run.code == 0, run.err
    data = summary_json(tmp_path / "out")
    for method, folds in data["held_out_folds"].items():
        for fold in folds:
            if fold["wer_bottom"] is not None or fold["gap_pct"] is not None:
                assert fold["speakers_bottom"] >= min_speakers and fold["speakers_top"] >= min_speakers, (method, fold)
    cohorts = pd.read_csv(tmp_path / "out" / "cohorts.csv")
    assert (cohorts["speakers"] >= min_speakers).all()
    if (tmp_path / "out" / "regions.geojson").exists():
        regions = json.loads((tmp_path / "out" / "regions.geojson").read_text())
        for feature in regions["features"]:
            props = feature["properties"]
            if props.get("wer") is not None:
                assert props["speakers"] >= min_speakers
    for row in data["comparison"]:
        assert row["cohorts"] is None or row["cohorts"] >= 0


# ------------------------------------------------------------------ 7. killed runs, real processes


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_a_temporary_file_left_by_sigkill_is_removed_by_the_next_run(tmp_path):
    write_log(tmp_path / "log.tsv", log_frame(10))
    killed = _python(
        "import os, signal\n"
        "from wergap._io import atomic_path\n"
        "with atomic_path('o.parquet') as tmp:\n"
        "    tmp.write_text('half a file')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n",
        tmp_path,
    )
    assert killed.returncode == -signal.SIGKILL
    stale = [p.name for p in tmp_path.glob(".o.parquet.wergap-*.tmp")]
    assert len(stale) == 1 and not (tmp_path / "o.parquet").exists()
    run = run_cli(["score", "log.tsv", "-o", "o.parquet"], tmp_path)
    assert run.code == 0, run.err
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))
    assert len(pd.read_parquet(tmp_path / "o.parquet")) == 30


@pytest.mark.slow
@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["score", "log.tsv", "-o", "./log.tsv"], 2, "it is the input"),
        (["score", "log.tsv", "-o", "/sys/wergap-out.parquet"], 1, "permission denied"),
        (["audit", "log.tsv", "-o", "r.html", "--min-speakers", "-1"], 2, "--min-speakers"),
    ],
)
def test_the_installed_command_exits_with_one_line(tmp_path, argv, code, message):
    if "/sys/" in argv[-1] and os.geteuid() != 0:
        pytest.skip("/sys refuses writes to root; other users are refused everywhere outside their folders")
    write_log(tmp_path / "log.tsv", log_frame(10))
    before = (tmp_path / "log.tsv").read_bytes()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "wergap", *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == code, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in done.stderr
    assert (tmp_path / "log.tsv").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.tsv"]
