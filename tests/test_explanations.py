"""audit() explains each bottom cohort: Audit.explanations, summary(), summary.json, the report, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import wergap as wg
from wergap.cli import main
from wergap.cohorts.explain import NO_UTTERANCES

VOCAB = "the a to play music turn on off lights weather today call mom set timer for ten minutes".split()


def regional_log(seed=0, n_speakers=240, per_speaker=8) -> pd.DataFrame:
    """Speakers in the south-east (60 of them) say "going" as "gonna" and speak on a car device more."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_speakers):
        south = s < 60
        lat = rng.uniform(25, 32) if south else rng.uniform(38, 48)
        lon = rng.uniform(-85, -80) if south else rng.uniform(-120, -90)
        device = "car" if rng.random() < (0.6 if south else 0.2) else "phone"
        for u in range(per_speaker):
            ref = list(rng.choice(VOCAB, size=rng.integers(3, 9)))
            ref.insert(1, "going")
            hyp = []
            for word in ref:
                r = rng.random()
                if south and word == "going" and r < 0.6:
                    hyp.append("gonna")
                elif r < 0.06:
                    continue
                elif r < 0.10:
                    hyp.append(str(rng.choice(VOCAB)))
                else:
                    hyp.append(word)
            rows.append((f"s{s:03d}-{u}", f"s{s:03d}", " ".join(ref), " ".join(hyp), lat, lon, device))
    return pd.DataFrame(rows, columns=["utt_id", "speaker_id", "ref", "hyp", "lat", "lon", "device"])


@pytest.fixture(scope="module")
def result():
    return wg.audit(wg.read_log(regional_log()), methods=["geo_tree"], n_boot=50, geo_prune=None, max_regions=3)


def test_audit_explains_the_bottom_cohort(result):
    item = result.explanations["geo_tree"]
    assert item.cohort == result.gaps["geo_tree"].bottom
    top = item.top_errors()
    assert set(top["ref_word"].head(2)) == {"going"}
    adjusted = item.adjusted
    assert adjusted.covariates == ("length", "device")  # the defaults: length and the known attribute
    assert adjusted.ratio_raw == pytest.approx(1 + result.gaps["geo_tree"].gap_vs_rest_pct / 100, rel=1e-9)
    assert adjusted.ratio > 1.3 and adjusted.ci_low > 1
    car = item.profile.query("attribute == 'device' and value == 'car'").iloc[0]
    assert car["cohort"] > car["rest"]
    row = result.summary().iloc[0]
    assert row["raw_ratio"] == pytest.approx(adjusted.ratio_raw) and row["adjusted_ratio"] == pytest.approx(
        adjusted.ratio
    )


def test_summary_json_and_report_carry_the_explanation(result, tmp_path):
    wg.write_exports(result, tmp_path)
    data = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    explained = data["explanations"]["geo_tree"]
    assert explained["error_profile"][0]["ref_word"] == "going"
    assert explained["adjusted_gap"]["covariates"] == ["length", "device"]
    assert {r["attribute"] for r in explained["cohort_profile"]} == {"device"}
    page = wg.render_html(result)
    assert "Explaining the bottom cohort" in page and "going → gonna" in page
    assert "s000" not in page  # no speaker id


def test_speaker_table_audits_say_why_there_is_no_error_profile(result):
    speakers_only = wg.audit(result.speakers, methods=["geo_tree"], n_boot=20, geo_prune=None, max_regions=3)
    item = speakers_only.explanations["geo_tree"]
    assert item.error_profile is None and item.error_profile_reason == NO_UTTERANCES
    assert item.adjusted is None and item.profile is not None
    assert np.isnan(speakers_only.summary().iloc[0]["adjusted_ratio"])


def test_cli_adjust_for(tmp_path, capsys):
    log = tmp_path / "decode.tsv"
    regional_log(n_speakers=200, per_speaker=5).to_csv(log, sep="\t", index=False)
    out = tmp_path / "report.html"
    args = ["audit", str(log), "-o", str(out), "--outdir", str(tmp_path), "--methods", "geo_tree", "--n-boot", "20"]
    assert main(args + ["--adjust-for", "length"]) == 0
    data = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert data["explanations"]["geo_tree"]["adjusted_gap"]["covariates"] == ["length"]
    capsys.readouterr()
    assert main(args + ["--adjust-for", "length,nope"]) == 2
    assert "cannot adjust for 'nope'" in capsys.readouterr().err


def test_cli_no_explain_leaves_the_explanations_out(tmp_path):
    log = tmp_path / "decode.tsv"
    regional_log(n_speakers=200, per_speaker=5).to_csv(log, sep="\t", index=False)
    args = ["audit", str(log), "-o", str(tmp_path / "r.html"), "--outdir", str(tmp_path), "--methods", "geo_tree"]
    assert main([*args, "--n-boot", "20", "--no-explain"]) == 0
    data = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert not data["explanations"]


def test_reference_word_counts_agree_per_row_and_per_distinct_text():
    """Counting the chosen rows' reference words directly (texts encoded per row) equals
    weighting every distinct text by how many chosen rows hold it."""
    from wergap.cohorts.error_profile import RefWords

    rng = np.random.default_rng(0)
    n = 400
    lengths = rng.integers(0, 12, 2 * n)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    codes = rng.integers(0, 50, starts[-1])
    rows = np.union1d(np.flatnonzero(rng.random(n) < 0.4), [1])
    per_row = RefWords(np.arange(n), starts, codes, np.arange(50), per_row=True).counts(rows)
    assert np.array_equal(per_row, RefWords(np.arange(n), starts, codes, np.arange(50)).counts(rows))
    # The same references, the first row's text shared by row 1 (a repeated prompt).
    shared = np.arange(n)
    shared[1] = 0
    as_distinct = RefWords(shared, starts, codes, np.arange(50)).counts(rows)
    expected = np.zeros(50)
    for r in rows:
        t = shared[r]
        np.add.at(expected, codes[starts[t] : starts[t + 1]], 1)
    assert np.array_equal(as_distinct, expected)
    expected_rows = np.zeros(50)
    for r in rows:
        np.add.at(expected_rows, codes[starts[r] : starts[r + 1]], 1)
    assert np.array_equal(per_row, expected_rows)
