"""wergap check (release gate exit codes), wergap compare and wergap export-weights, end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from wergap.cli import main


def make_log(
    *, gap: float, seed: int = 0, n_speakers: int = 400, n_zip: int = 40, base: float = 0.1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A counts-only decode log whose low-income ZIPs have WER ``base * (1 + gap)``, and its census table."""
    rng = np.random.default_rng(seed)
    zips = [f"{10000 + 7 * i:05d}" for i in range(n_zip)]
    income = np.linspace(20000, 120000, n_zip)
    rows = []
    for s in range(n_speakers):
        z = s % n_zip
        p = base * (1 + gap) if income[z] < 45000 else base
        for u in range(5):
            words = int(rng.integers(5, 15))
            rows.append((f"s{s:04d}-{u}", f"s{s:04d}", zips[z], words, int(rng.binomial(words, p))))
    log = pd.DataFrame(rows, columns=["utt_id", "speaker_id", "zip", "ref_words", "errors"])
    return log, pd.DataFrame({"zip": zips, "median_income": income})


@pytest.fixture
def files(tmp_path):
    def write(gap: float, seed: int = 0) -> tuple[str, str]:
        log, census = make_log(gap=gap, seed=seed)
        log_path, census_path = tmp_path / f"log_{gap}_{seed}.tsv", tmp_path / "census.csv"
        log.to_csv(log_path, sep="\t", index=False)
        census.to_csv(census_path, index=False)
        return str(log_path), str(census_path)

    return write


def test_check_fails_on_planted_gap_and_writes_json(files, tmp_path, capsys):
    log, census = files(1.0)
    out = tmp_path / "check.json"
    code = main(["check", log, "--census", census, "--max-gap", "20", "--n-boot", "200", "--json", str(out)])
    assert code == 1
    text = capsys.readouterr().out
    assert "FAIL  census_splits: held-out gap" in text and "SKIPPED  geo_tree" in text
    data = json.loads(out.read_text())
    assert data["passed"] is False and data["exit_code"] == 1
    assert [m["status"] for m in data["methods"] if m["method"] == "census_splits"] == ["fail"]


def test_check_passes_on_null_log(files, capsys):
    log, census = files(0.0, seed=2)
    code = main(["check", log, "--census", census, "--max-gap", "40", "--n-boot", "200", "--method", "census_splits"])
    assert code == 0
    assert "PASS  census_splits" in capsys.readouterr().out


def test_check_strict_uses_the_lower_bound(files, capsys):
    log, census = files(1.0)
    # the planted gap is ~80 % held out: above 70 by its point estimate, not by its lower bound
    assert (
        main(["check", log, "--census", census, "--max-gap", "70", "--n-boot", "200", "--method", "census_splits"]) == 1
    )
    assert (
        main(
            [
                "check",
                log,
                "--census",
                census,
                "--max-gap",
                "70",
                "--n-boot",
                "200",
                "--method",
                "census_splits",
                "--strict",
            ]
        )
        == 0
    )
    assert "CI lower bound" in capsys.readouterr().out


def test_check_strict_fails_closed_on_a_named_method_that_cannot_run(files, capsys):
    log, census = files(0.0)
    args = [
        "check",
        log,
        "--census",
        census,
        "--max-gap",
        "1000",
        "--n-boot",
        "50",
        "--method",
        "geo_tree",
        "census_splits",
    ]
    assert main(args) == 2  # a method asked for by name that cannot run
    assert "--methods geo_tree: it cannot run" in capsys.readouterr().err
    assert main([*args, "--allow-skip"]) == 0
    assert "UNMEASURED  geo_tree" in capsys.readouterr().out
    assert main([*args, "--strict", "--allow-skip"]) == 1
    assert "FAIL  geo_tree: did not run" in capsys.readouterr().out


def test_check_bad_input_exits_2(tmp_path, capsys):
    path = tmp_path / "bad.tsv"
    path.write_text("utt_id\tspeaker_id\tref\n1\ts\tx\n", encoding="utf-8")
    assert main(["check", str(path), "--max-gap", "10"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("wergap: error: ") and err.count("\n") == 1


def test_compare_two_logs_counts_unshared_utterances(files, tmp_path, capsys):
    log, census = files(1.0)
    base = pd.read_csv(log, sep="\t", dtype={"zip": str})
    rng = np.random.default_rng(5)
    cand = base.assign(errors=rng.binomial(base["ref_words"], 0.1)).iloc[4:]
    cand_path = tmp_path / "cand.tsv"
    cand.to_csv(cand_path, sep="\t", index=False)
    out = tmp_path / "cmp.json"
    html = tmp_path / "cmp.html"
    args = [
        "compare",
        log,
        str(cand_path),
        "--census",
        census,
        "--n-boot",
        "200",
        "--json",
        str(out),
        "--html",
        str(html),
    ]
    code = main(args)
    assert code == 0
    text = capsys.readouterr().out
    stem = log.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    assert f"4 only in {stem}'s log" in text and f"census_splits: cand vs {stem}: gap narrowed" in text
    data = json.loads(out.read_text())
    assert data["counts"]["not_shared"][stem] == 4
    assert data["changes"][0]["verdict"] == "narrowed" and data["names"] == [stem, "cand"]
    page = html.read_text()
    assert "narrowed" in page and page.count("data:image/png;base64,") >= 3  # dots, gaps, change per cohort


def test_compare_systems_of_one_log(files, tmp_path, capsys):
    log, census = files(1.0)
    base = pd.read_csv(log, sep="\t", dtype={"zip": str})
    both = pd.concat([base.assign(system="A"), base.assign(system="B")])
    path = tmp_path / "both.tsv"
    both.to_csv(path, sep="\t", index=False)
    assert main(["compare", str(path), "--systems", "A", "B", "--census", census, "--n-boot", "100"]) == 0
    assert "B vs A: no detectable change" in capsys.readouterr().out
    assert main(["compare", str(path), "--census", census, "--n-boot", "50", "--methods", "census_splits"]) == 0
    assert "decoded by both systems" in capsys.readouterr().out
    assert main(["compare", str(path), "--systems", "A", "C", "--census", census]) == 2
    assert "system 'C' not found" in capsys.readouterr().err


def test_export_weights_writes_weights_ids_and_features(files, tmp_path, capsys):
    log, census = files(1.0)
    out, utts, feats = tmp_path / "w.parquet", tmp_path / "bottom.txt", tmp_path / "features.csv"
    args = [
        "export-weights",
        log,
        "--census",
        census,
        "-o",
        str(out),
        "--target-share",
        "0.5",
        "--utterances-out",
        str(utts),
        "--speakers-out",
        str(feats),
        "--n-boot",
        "50",
    ]
    assert main(args) == 0
    table = pd.read_parquet(out)
    n_log = len(pd.read_csv(log, sep="\t"))
    assert len(table) == n_log  # no utterance lost
    bottom = table["bottom"].to_numpy()
    assert (table.loc[~bottom, "weight"] == 1).all()
    share = table.loc[bottom, "weight"].sum() / table["weight"].sum()
    assert share == pytest.approx(0.5)
    assert utts.read_text().split() == table.loc[bottom, "utt_id"].tolist()
    assert "census_splits" in pd.read_csv(feats).columns
    assert "bottom share 50.0 %" in capsys.readouterr().out


def test_export_weights_without_any_method_is_one_line_error(tmp_path, capsys):
    path = tmp_path / "log.tsv"
    path.write_text("utt_id\tspeaker_id\tref_words\terrors\na-1\ta\t5\t1\nb-1\tb\t4\t0\n", encoding="utf-8")
    assert main(["export-weights", str(path), "-o", str(tmp_path / "w.parquet"), "--n-boot", "10"]) == 2
    err = capsys.readouterr().err
    assert "no discovery method found a bottom cohort" in err and err.count("\n") == 1
    assert not (tmp_path / "w.parquet").exists()


def test_check_reports_dropped_rows(tmp_path, capsys):
    log, census = make_log(gap=1.0)
    text = log.to_csv(sep="\t", index=False) + "bad-1\tbad\t10000\tnotanumber\t1\n"
    path = tmp_path / "log.tsv"
    path.write_text(text, encoding="utf-8")
    census_path = tmp_path / "census.csv"
    census.to_csv(census_path, index=False)
    code = main(
        ["check", str(path), "--census", str(census_path), "--max-gap", "20", "--n-boot", "50", "--drop-invalid"]
    )
    assert code == 1
    assert "dropped     1 " in capsys.readouterr().out


def test_compare_with_assignments_from_a_previous_audit(files, tmp_path, capsys):
    log, _ = files(1.0)
    base = pd.read_csv(log, sep="\t", dtype={"zip": str})
    speakers = base.drop_duplicates("speaker_id")
    low = speakers["zip"].isin(sorted(speakers["zip"].unique())[:10])
    assignments = pd.DataFrame({"speaker_id": speakers["speaker_id"], "census_splits": np.where(low, "low", "high")})
    path = tmp_path / "assignments.parquet"
    assignments.to_parquet(path, index=False)
    cand = base.assign(errors=np.random.default_rng(1).binomial(base["ref_words"], 0.1))
    extra = cand.iloc[:3].assign(utt_id=["x1", "x2", "x3"])
    cand_path = tmp_path / "cand.tsv"
    pd.concat([cand, extra]).to_csv(cand_path, sep="\t", index=False)
    out = tmp_path / "cohorts.csv"
    assert main(["compare", log, str(cand_path), "--assignments", str(path), "--n-boot", "200", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "3 only in cand's log" in text and "census_splits: cand vs" in text and "gap narrowed" in text
    table = pd.read_csv(out)
    assert set(table["cohort"]) == {"low", "high"}
    assert (table.loc[table["cohort"] == "low", "role"] == "bottom").all()


def test_compare_three_logs_table_verdicts_and_outdir(files, tmp_path, capsys):
    log, census = files(1.0)
    base = pd.read_csv(log, sep="\t", dtype={"zip": str})
    rng = np.random.default_rng(7)
    low = base["zip"].isin(sorted(base["zip"].unique())[:10])
    paths = []
    for name, p_low in (("fixed", 0.1), ("worse", 0.35)):
        path = tmp_path / f"{name}.tsv"
        base.assign(errors=rng.binomial(base["ref_words"], np.where(low, p_low, 0.1))).to_csv(
            path, sep="\t", index=False
        )
        paths.append(str(path))
    outdir = tmp_path / "tables"
    args = [
        "compare",
        log,
        *paths,
        "--names",
        "v1",
        "v2",
        "v3",
        "--census",
        census,
        "--n-boot",
        "200",
        "--methods",
        "census_splits",
        "--outdir",
        str(outdir),
        "-o",
        str(tmp_path / "r.html"),
    ]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert (
        "gap (%) by system and method" in text and "v2 vs v1: gap narrowed" in text and "v3 vs v1: gap widened" in text
    )
    assert "ranked by held-out gap, smallest first: 1. v2" in text
    gaps = pd.read_csv(outdir / "gaps.csv")
    assert set(gaps["system"]) == {"v1", "v2", "v3"} and list(gaps.columns[:6]) == [
        "system",
        "method",
        "kind",
        "bottom",
        "top",
        "held_out_gap_pct",
    ]
    assert (tmp_path / "r.html").read_text().count("data:image/png;base64,") >= 2
    assert main(["compare", log, *paths, "--names", "a", "b"]) == 2
    assert "--names gives 2 names for 3 systems" in capsys.readouterr().err


def test_compare_honours_every_discovery_option(files, tmp_path, capsys):
    """--max-bottom-share reaches compare as it reaches audit (it was accepted and ignored)."""
    log, census = files(1.0)
    base = pd.read_csv(log, sep="\t", dtype={"zip": str})
    other = tmp_path / "other.tsv"
    base.assign(errors=np.random.default_rng(7).binomial(base["ref_words"], 0.1)).to_csv(other, sep="\t", index=False)
    bottoms = []
    for extra in ([], ["--max-bottom-share", "0.05"]):
        outdir = tmp_path / f"out{len(extra)}"
        args = ["compare", log, str(other), "--census", census, "--methods", "census_splits", "--n-boot", "50"]
        assert main([*args, "--outdir", str(outdir), *extra]) == 0
        bottoms.append(pd.read_csv(outdir / "gaps.csv")["bottom"].iloc[0])
    capsys.readouterr()
    assert bottoms[0] != bottoms[1]
