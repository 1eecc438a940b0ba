"""The wergap command: summaries, outputs, one-line errors with exit status 2."""

from __future__ import annotations

import pandas as pd
import pytest

from wergap.cli import main

LOG = "utt_id\tspeaker_id\tref\thyp\na-1\ta\tturn on the lights\tturn on lights\nb-1\tb\tplay jazz\tplay jazz\n"


@pytest.fixture
def log_file(tmp_path):
    path = tmp_path / "decode.tsv"
    path.write_text(LOG, encoding="utf-8")
    return path


def test_score_writes_scored_table_and_prints_summary(log_file, tmp_path, capsys):
    out, spk = tmp_path / "out" / "scored.parquet", tmp_path / "spk.csv"
    assert main(["score", str(log_file), "-o", str(out), "--speakers", str(spk)]) == 0
    scored = pd.read_parquet(out)
    assert scored["errors"].tolist() == [1, 0]
    assert scored.attrs["wergap"]["normalization"] == "default"
    assert pd.read_csv(spk)["speaker_id"].tolist() == ["a", "b"]
    text = capsys.readouterr().out
    assert "WER         16.67 %" in text and "speakers    2" in text and "dropped     none" in text


def test_score_reads_trn_pairs(tmp_path, capsys):
    (tmp_path / "ref.trn").write_text("hello world (spk1-u1)\nyes (spk2-u1)\n", encoding="utf-8")
    (tmp_path / "hyp.trn").write_text("hello word (spk1-u1)\nyes (spk2-u1)\n", encoding="utf-8")
    out = tmp_path / "s.csv"
    code = main(["score", "--ref", str(tmp_path / "ref.trn"), "--hyp", str(tmp_path / "hyp.trn"), "-o", str(out)])
    assert code == 0
    assert pd.read_csv(out)["speaker_id"].tolist() == ["spk1", "spk2"]


@pytest.mark.parametrize(
    "content,needle",
    [
        ("utt_id\tspeaker_id\tref\n1\ts\tx\n", "hyp"),
        ("", "empty"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, content, needle):
    path = tmp_path / "bad.tsv"
    path.write_text(content, encoding="utf-8")
    out = tmp_path / "o.parquet"
    assert main(["score", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("wergap: error: ") and "\n" not in err and needle in err
    assert "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".o.parquet*"))


def test_unknown_output_suffix_is_an_error(log_file, tmp_path, capsys):
    assert main(["score", str(log_file), "-o", str(tmp_path / "x.xlsx")]) == 2
    assert "choose an output ending in" in capsys.readouterr().err


def test_missing_log_is_an_error(capsys):
    assert main(["score", "-o", "x.parquet"]) == 2
    assert "give a decode log" in capsys.readouterr().err


def test_audit_says_why_the_held_out_gap_is_missing(tmp_path, capsys):
    """Small data: the held-out gap cannot be measured; the table says n/a and a note says what to change."""
    import numpy as np

    rng = np.random.default_rng(0)
    n = 80
    lat, lon = rng.uniform(30, 45, n), rng.uniform(-120, -75, n)
    rows = [
        (f"s{i:03d}-{u}", f"s{i:03d}", lat[i], lon[i], 20, int(rng.binomial(20, 0.2 if lat[i] < 36 else 0.1)))
        for i in range(n)
        for u in range(3)
    ]
    log = pd.DataFrame(rows, columns=["utt_id", "speaker_id", "lat", "lon", "ref_words", "errors"])
    path = tmp_path / "small.tsv"
    log.to_csv(path, sep="\t", index=False)
    code = main(["audit", str(path), "-o", str(tmp_path / "r.html"), "--n-boot", "50", "--min-speakers", "30"])
    assert code == 0
    text = capsys.readouterr().out
    assert text.index("held-out gap %") < text.index("in-sample % (optimistic)")
    table_row = next(line for line in text.splitlines() if line.strip().startswith("geo_tree"))
    assert "n/a" in table_row
    note = next(line for line in text.splitlines() if line.startswith("note        geo_tree"))
    assert "held-out" in note and "--min-speakers" in note
