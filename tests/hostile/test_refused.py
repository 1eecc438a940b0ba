"""Hostile inputs that must stop a run: the exit code, one line naming the problem, the
inputs untouched and nothing left behind (issue 14, classes 1, 2, 5 and 6).

Each case builds its bad input in its own folder and returns the argv; the table says
what the run must do. Exit 2: bad input or argument; exit 1: the environment.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pandas as pd
import pytest

from .harness import assert_refused, log_frame, run_cli, write_census, write_embeddings, write_log

IS_INPUT = "it is the input"


def _base(tmp: Path) -> None:
    write_log(tmp / "log.tsv")
    write_census(tmp / "census.csv")
    write_embeddings(tmp / "emb.parquet", [f"s{i:03d}" for i in range(80)])


def _readonly(tmp: Path) -> Path:
    """A folder nobody may write into (root ignores modes: /sys refuses even root)."""
    if os.geteuid() == 0:
        return Path("/sys")
    folder = tmp / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    return folder


# Each case: (id, setup(tmp) -> argv, exit code, text of the one-line message)
CASES = [
    # 1. inputs destroyed: every command, every output option, every spelling of the path
    ("score -o log", lambda t: ["score", "log.tsv", "-o", "log.tsv"], 2, IS_INPUT),
    ("score -o ./log", lambda t: ["score", "log.tsv", "-o", "./log.tsv"], 2, IS_INPUT),
    ("score -o sub/../log", lambda t: ["score", "log.tsv", "-o", "sub/../log.tsv"], 2, IS_INPUT),
    ("score -o absolute log", lambda t: ["score", "log.tsv", "-o", str(t / "log.tsv")], 2, IS_INPUT),
    (
        "score -o symlink to log",
        lambda t: (os.symlink("log.tsv", t / "link.tsv"), ["score", "log.tsv", "-o", "link.tsv"])[1],
        2,
        IS_INPUT,
    ),
    (
        "score -o hard link of log",
        lambda t: (os.link(t / "log.tsv", t / "hard.tsv"), ["score", "log.tsv", "-o", "hard.tsv"])[1],
        2,
        IS_INPUT,
    ),
    ("score --speakers log", lambda t: ["score", "log.tsv", "-o", "o.parquet", "--speakers", "log.tsv"], 2, IS_INPUT),
    (
        "score two outputs one file",
        lambda t: ["score", "log.tsv", "-o", "o.parquet", "--speakers", "./o.parquet"],
        2,
        "is named as two outputs",
    ),
    (
        "score -o ref of a trn pair",
        lambda t: (
            (t / "r.trn").write_text("a b (s1-u1)\n"),
            (t / "h.trn").write_text("a (s1-u1)\n"),
            ["score", "--ref", "r.trn", "--hyp", "h.trn", "-o", "h.trn"],
        )[2],
        2,
        IS_INPUT,
    ),
    (
        "score -o utt2spk",
        lambda t: (
            (t / "text").write_text("u1 a b\n"),
            (t / "hyp").write_text("u1 a\n"),
            (t / "utt2spk").write_text("u1 s1\n"),
            ["score", "--ref", "text", "--hyp", "hyp", "--utt2spk", "utt2spk", "-o", "utt2spk"],
        )[3],
        2,
        IS_INPUT,
    ),
    ("audit -o log", lambda t: ["audit", "log.tsv", "-o", "log.tsv"], 2, IS_INPUT),
    ("audit -o census", lambda t: ["audit", "log.tsv", "--census", "census.csv", "-o", "census.csv"], 2, IS_INPUT),
    (
        "audit -o embeddings",
        lambda t: ["audit", "log.tsv", "--embeddings", "emb.parquet", "-o", "emb.parquet"],
        2,
        IS_INPUT,
    ),
    (
        "audit --outdir holding the log as cohorts.csv",
        lambda t: (
            write_log(t / "cohorts.csv", log_frame()),
            ["audit", "cohorts.csv", "-o", "r.html", "--outdir", "."],
        )[1],
        2,
        IS_INPUT,
    ),
    (
        "audit --outdir holding the census as summary.json",
        lambda t: (
            (t / "out").mkdir(),
            write_census(t / "out" / "summary.json"),
            ["audit", "log.tsv", "--census", "out/summary.json", "-o", "r.html", "--outdir", "out"],
        )[2],
        2,
        IS_INPUT,
    ),
    (
        "audit --outdir holding the embeddings as assignments.parquet",
        lambda t: (
            (t / "o").mkdir(),
            write_embeddings(t / "o" / "assignments.parquet", ["s000"]),
            ["audit", "log.tsv", "--embeddings", "o/assignments.parquet", "-o", "r.html", "--outdir", "o"],
        )[2],
        2,
        IS_INPUT,
    ),
    (
        "audit -o boundaries",
        lambda t: (
            (t / "b.geojson").write_text("{}"),
            ["audit", "log.tsv", "--boundaries", "b.geojson", "-o", "b.geojson"],
        )[1],
        2,
        IS_INPUT,
    ),
    (
        "audit -o log in a log folder (dask engine)",
        lambda t: (
            (t / "logs").mkdir(),
            write_log(t / "logs" / "a.tsv"),
            ["audit", "logs", "--engine", "dask", "-o", "logs/a.tsv"],
        )[2],
        2,
        IS_INPUT,
    ),
    ("audit -o a glob's match", lambda t: ["audit", "*.tsv", "--engine", "dask", "-o", "log.tsv"], 2, IS_INPUT),
    ("check --json log", lambda t: ["check", "log.tsv", "--max-gap", "10", "--json", "log.tsv"], 2, IS_INPUT),
    (
        "check --json census",
        lambda t: ["check", "log.tsv", "--census", "census.csv", "--max-gap", "10", "--json", "census.csv"],
        2,
        IS_INPUT,
    ),
    (
        "compare --json baseline",
        lambda t: (write_log(t / "cand.tsv"), ["compare", "log.tsv", "cand.tsv", "--json", "log.tsv"])[1],
        2,
        IS_INPUT,
    ),
    (
        "compare -o candidate",
        lambda t: (write_log(t / "cand.tsv"), ["compare", "log.tsv", "cand.tsv", "-o", "cand.tsv"])[1],
        2,
        IS_INPUT,
    ),
    (
        "compare --html candidate",
        lambda t: (write_log(t / "cand.tsv"), ["compare", "log.tsv", "cand.tsv", "--html", "./cand.tsv"])[1],
        2,
        IS_INPUT,
    ),
    (
        "compare -o third log",
        lambda t: (
            write_log(t / "c.tsv"),
            write_log(t / "d.tsv"),
            ["compare", "log.tsv", "c.tsv", "d.tsv", "-o", "d.tsv"],
        )[2],
        2,
        IS_INPUT,
    ),
    (
        "compare --outdir holding a log as gaps.csv",
        lambda t: (
            (t / "o").mkdir(),
            write_log(t / "o" / "gaps.csv"),
            ["compare", "log.tsv", "o/gaps.csv", "--outdir", "o"],
        )[2],
        2,
        IS_INPUT,
    ),
    (
        "compare --json assignments",
        lambda t: (
            (t / "a.parquet").write_bytes(b"x"),
            ["compare", "log.tsv", "--systems", "a", "b", "--assignments", "a.parquet", "--json", "a.parquet"],
        )[1],
        2,
        IS_INPUT,
    ),
    ("export-weights -o log", lambda t: ["export-weights", "log.tsv", "-o", "log.tsv"], 2, IS_INPUT),
    (
        "export-weights --utterances-out log",
        lambda t: ["export-weights", "log.tsv", "-o", "w.parquet", "--utterances-out", "log.tsv"],
        2,
        IS_INPUT,
    ),
    (
        "export-weights --speakers-out census",
        lambda t: [
            "export-weights",
            "log.tsv",
            "--census",
            "census.csv",
            "-o",
            "w.csv",
            "--speakers-out",
            "census.csv",
        ],
        2,
        IS_INPUT,
    ),
    ("embed -o its source", lambda t: ["embed", "log.tsv", "-o", "log.tsv"], 2, IS_INPUT),
    # 2. rows lost without a count: a whole-file error naming the line the quote opened
    ("unclosed quote swallowing rows", lambda t: _unclosed(t, drop=False), 2, "line 5: a quote opened on this line"),
    ("unclosed quote with --drop-invalid", lambda t: _unclosed(t, drop=True), 2, "line 5: a quote opened on this line"),
    (
        "unclosed quote to the end of the file",
        lambda t: (
            (t / "q.csv").write_text('utt_id,speaker_id,ref,hyp\nu1,s1,a,a\nu2,s1,"b c,b\nu3,s1,d,d\nu4,s1,e,e\n'),
            ["score", "q.csv", "-o", "o.parquet", "--drop-invalid"],
        )[1],
        2,
        "q.csv, line 3: a quote opened",
    ),
    (
        "unclosed quote in a gzip CSV",
        lambda t: (
            (t / "q.csv.gz").write_bytes(
                gzip.compress(b'utt_id,speaker_id,ref,hyp\nu1,s1,"a,a\nu2,s1,b,b\nu3,s1,"c",c\n')
            ),
            ["score", "q.csv.gz", "-o", "o.parquet"],
        )[1],
        2,
        "line 2: a quote opened",
    ),
    # 5. the operating system's errors: one line, exit 2 (bad path) or 1 (environment)
    (
        "output in a read-only folder",
        lambda t: ["score", "log.tsv", "-o", str(_readonly(t) / "o.parquet")],
        1,
        "permission denied",
    ),
    (
        "--outdir under a read-only folder",
        lambda t: ["audit", "log.tsv", "-o", "r.html", "--n-boot", "0", "--outdir", str(_readonly(t) / "x")],
        1,
        "cannot write",
    ),
    (
        "--json in a read-only folder",
        lambda t: ["check", "log.tsv", "--max-gap", "10", "--n-boot", "0", "--json", str(_readonly(t) / "g.json")],
        1,
        "permission denied",
    ),
    ("output is a folder", lambda t: ((t / "d").mkdir(), ["score", "log.tsv", "-o", "d"])[1], 2, "is a folder"),
    (
        "report is a folder",
        lambda t: ((t / "d.html").mkdir(), ["audit", "log.tsv", "-o", "d.html"])[1],
        2,
        "is a folder",
    ),
    (
        "--outdir is a file",
        lambda t: ["audit", "log.tsv", "-o", "r.html", "--outdir", "census.csv"],
        2,
        "is a file: expected a folder",
    ),
    ("output under a file", lambda t: ["score", "log.tsv", "-o", "census.csv/o.parquet"], 2, "is a file, not a folder"),
    (
        "--utterances-out is a folder",
        lambda t: ((t / "u").mkdir(), ["export-weights", "log.tsv", "-o", "w.parquet", "--utterances-out", "u"])[1],
        2,
        "is a folder",
    ),
    ("output name too long", lambda t: ["score", "log.tsv", "-o", "x" * 300 + ".parquet"], 2, "ile name too long"),
    (
        "log is a folder",
        lambda t: ((t / "d.tsv").mkdir(), ["score", "d.tsv", "-o", "o.parquet"])[1],
        2,
        "is a directory",
    ),
    ("log missing", lambda t: ["score", "nope.tsv", "-o", "o.parquet"], 2, "nope.tsv: no such file"),
    (
        "census is a folder",
        lambda t: ((t / "c").mkdir(), ["audit", "log.tsv", "--census", "c", "-o", "r.html"])[1],
        2,
        "c",
    ),
    (
        "embeddings missing",
        lambda t: ["audit", "log.tsv", "--embeddings", "none.parquet", "-o", "r.html"],
        2,
        "none.parquet",
    ),
    # 6. false or missing validation
    (
        "field beyond Python's csv limit on a bad line",
        lambda t: (
            (t / "big.csv").write_text("utt_id,speaker_id,ref,hyp\nu1,s1,a,a\nu2,s1," + "w " * 100_000 + ",a,extra\n"),
            ["score", "big.csv", "-o", "o.parquet"],
        )[1],
        2,
        "line 3: expected 4 fields as in the header, found 5",
    ),
    (
        "numeric ref in Parquet",
        lambda t: (
            pd.DataFrame({"utt_id": ["a", "b"], "speaker_id": ["s", "s"], "ref": [528, 1], "hyp": [5, 1]}).to_parquet(
                t / "n.parquet"
            ),
            ["score", "n.parquet", "-o", "o.csv"],
        )[1],
        2,
        "expected text, got the number 528",
    ),
    (
        "numeric ref in JSON lines",
        lambda t: (
            (t / "n.jsonl").write_text(
                '{"utt_id": "a", "speaker_id": "s", "ref": "a b", "hyp": "a"}\n{"utt_id": "b", "speaker_id": "s", "ref": 528, "hyp": "x"}\n'
            ),
            ["score", "n.jsonl", "-o", "o.csv"],
        )[1],
        2,
        "n.jsonl, line 2, column 'ref': expected text, got the number 528",
    ),
    (
        "S + D above ref_words",
        lambda t: (
            (t / "c.csv").write_text(
                "utt_id,speaker_id,errors,ref_words,substitutions,deletions,insertions\nu1,s1,5,3,2,2,1\n"
            ),
            ["score", "c.csv", "-o", "o.csv"],
        )[1],
        2,
        "line 2, column 'ref_words': substitutions + deletions = 4 but ref_words = 3",
    ),
    (
        "negative error count",
        lambda t: (
            (t / "c.csv").write_text("utt_id,speaker_id,errors,ref_words\nu1,s1,-1,3\n"),
            ["score", "c.csv", "-o", "o.csv"],
        )[1],
        2,
        "line 2, column 'errors'",
    ),
    (
        "latitude out of range",
        lambda t: (
            (t / "l.csv").write_text("utt_id,speaker_id,ref,hyp,lat,lon\nu1,s1,a,a,95,10\n"),
            ["score", "l.csv", "-o", "o.csv"],
        )[1],
        2,
        "column 'lat': 95.0 is outside",
    ),
    (
        "duplicate utt_id",
        lambda t: (
            (t / "d.csv").write_text("utt_id,speaker_id,ref,hyp\nu1,s1,a,a\nu1,s1,b,b\n"),
            ["score", "d.csv", "-o", "o.csv"],
        )[1],
        2,
        "line 3, column 'utt_id': duplicate utt_id",
    ),
    (
        "not UTF-8",
        lambda t: (
            (t / "e.csv").write_bytes(b"utt_id,speaker_id,ref,hyp\nu1,s1,caf\xe9,a\n"),
            ["score", "e.csv", "-o", "o.csv"],
        )[1],
        2,
        "line 2: not UTF-8 text",
    ),
    ("empty file", lambda t: ((t / "e.csv").write_text(""), ["score", "e.csv", "-o", "o.csv"])[1], 2, "file is empty"),
    (
        "missing ref and hyp",
        lambda t: ((t / "m.csv").write_text("utt_id,speaker_id,words\nu1,s1,a\n"), ["score", "m.csv", "-o", "o.csv"])[
            1
        ],
        2,
        "missing required column(s)",
    ),
    (
        "not Parquet",
        lambda t: ((t / "x.parquet").write_bytes(b"PAR1 nonsense"), ["score", "x.parquet", "-o", "o.csv"])[1],
        2,
        "cannot be read as Parquet",
    ),
    (
        "corrupt gzip",
        lambda t: ((t / "x.csv.gz").write_bytes(b"\x1f\x8b\x08 broken"), ["score", "x.csv.gz", "-o", "o.csv"])[1],
        2,
        "not a valid gzip file",
    ),
    (
        "--min-speakers negative",
        lambda t: ["audit", "log.tsv", "-o", "r.html", "--min-speakers", "-5"],
        2,
        "argument --min-speakers: expected a whole number of at least 1",
    ),
    (
        "--min-speakers zero",
        lambda t: ["check", "log.tsv", "--max-gap", "5", "--min-speakers", "0"],
        2,
        "argument --min-speakers",
    ),
    (
        "--min-speakers not a number",
        lambda t: ["compare", "log.tsv", "log.tsv", "--min-speakers", "lots"],
        2,
        "argument --min-speakers",
    ),
    (
        "embed with every audio file missing",
        lambda t: (
            (t / "a.tsv").write_text(
                "utt_id\tspeaker_id\tref\thyp\taudio\nu1\ts1\ta\ta\tm1.wav\nu2\ts2\tb\tb\tm2.wav\n"
            ),
            ["embed", "a.tsv", "--model", str(t / "no-model"), "-o", "e.parquet"],
        )[1],
        2,
        "none of the 2 audio files could be embedded (2 audio missing)",
    ),
    (
        "embeddings matching no speaker",
        lambda t: (
            write_embeddings(t / "other.parquet", ["x1", "x2", "x3"]),
            ["audit", "log.tsv", "--embeddings", "other.parquet", "-o", "r.html", "--n-boot", "0"],
        )[1],
        2,
        "none of the 3 embedding speakers matches",
    ),
    ("unknown format", lambda t: ["score", "log.tsv", "--format", "xml", "-o", "o.csv"], 2, "argument --format"),
    ("bad --column", lambda t: ["score", "log.tsv", "--column", "nonsense", "-o", "o.csv"], 2, "THEIRS=OURS"),
    ("unsupported output suffix", lambda t: ["score", "log.tsv", "-o", "o.xlsx"], 2, "choose an output ending in"),
]


def _unclosed(tmp: Path, *, drop: bool) -> list[str]:
    """120 rows, a quote opened on line 5 and closed by a quote in the last transcript."""
    rows = ["utt_id,speaker_id,ref,hyp"]
    for i in range(120):
        ref = f"hello world {i}"
        if i == 3:
            ref = f'"hello world {i}'
        if i == 119:
            ref = 'say "hi" now'
        rows.append(f"u{i},s{i % 10},{ref},hello word {i}")
    (tmp / "q.csv").write_text("\n".join(rows) + "\n")
    return ["score", "q.csv", "-o", "o.parquet"] + (["--drop-invalid"] if drop else [])


@pytest.mark.parametrize(("setup", "code", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_refused(tmp_path, setup, code, message):
    _base(tmp_path)
    argv = setup(tmp_path)
    run = run_cli(argv, tmp_path)
    assert_refused(run, code, message)
