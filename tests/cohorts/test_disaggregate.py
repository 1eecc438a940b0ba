"""disaggregate: WER per value of a known attribute, from utterances or speakers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from wergap.cohorts import DISAGGREGATE_COLUMNS, OTHER, disaggregate
from wergap.data_schemas import InputError


def scored_utterances(seed=0, n_speakers=60, per_speaker=8):
    """Utterances where each speaker mostly uses one device but sometimes another."""
    rng = np.random.default_rng(seed)
    n = n_speakers * per_speaker
    speaker = np.repeat([f"s{i:03d}" for i in range(n_speakers)], per_speaker)
    home = np.repeat(rng.choice(["phone", "far_field", "headset"], n_speakers), per_speaker)
    device = np.where(rng.random(n) < 0.8, home, rng.choice(["phone", "far_field", "headset"], n))
    words = rng.integers(3, 25, n)
    p = pd.Series(device).map({"phone": 0.10, "far_field": 0.25, "headset": 0.06}).to_numpy()
    gender = np.repeat(np.where(np.arange(n_speakers) % 2, "female", "male"), per_speaker)
    return pd.DataFrame(
        {
            "utt_id": [f"u{i}" for i in range(n)],
            "speaker_id": speaker,
            "device": device,
            "gender": gender,
            "ref_words": words,
            "errors": rng.binomial(words, p),
        }
    )


@pytest.mark.parametrize("by", ["device", "gender", ["device", "gender"]])
def test_matches_pandas_groupby_on_utterances(by):
    utts = scored_utterances()
    out = disaggregate(utts, by, n_boot=200)
    columns = [by] if isinstance(by, str) else by
    key = utts[columns].astype(str).agg(" · ".join, axis=1)
    g = utts.groupby(key).agg(
        speakers=("speaker_id", "nunique"),
        utterances=("utt_id", "size"),
        ref_words=("ref_words", "sum"),
        errors=("errors", "sum"),
    )
    g["wer"] = g["errors"] / g["ref_words"]
    g = g.sort_values("wer", ascending=False)
    assert list(out.columns) == DISAGGREGATE_COLUMNS
    assert out["value"].tolist() == g.index.tolist()
    for column in ("speakers", "utterances", "ref_words", "errors"):
        assert out[column].tolist() == g[column].tolist(), column
    np.testing.assert_allclose(out["wer"], g["wer"], rtol=1e-12)
    best = g["wer"].min()
    np.testing.assert_allclose(out["gap_vs_best_pct"], 100 * (g["wer"] - best) / best, rtol=1e-9, atol=1e-12)
    assert out["gap_vs_best_pct"].iloc[-1] == 0
    assert ((out["wer_ci_low"] <= out["wer"]) & (out["wer"] <= out["wer_ci_high"])).all()
    if by == "device":  # far-field is planted 4x worse than headset: the interval excludes 0
        assert out.loc[0, "value"] == "far_field" and out.loc[0, "gap_vs_best_ci_low"] > 0


def test_speaker_with_two_devices_counts_in_both_groups():
    utts = scored_utterances()
    out = disaggregate(utts, "device", n_boot=50).set_index("value")
    per_device = utts.groupby("device")["speaker_id"].nunique()
    assert out["speakers"].sum() == per_device.sum() > utts["speaker_id"].nunique()


def test_speaker_table_input_uses_speakers_as_units():
    utts = scored_utterances()
    speakers = utts.groupby("speaker_id", as_index=False).agg(
        utterances=("utt_id", "size"),
        ref_words=("ref_words", "sum"),
        errors=("errors", "sum"),
        gender=("gender", "first"),
    )
    out = disaggregate(speakers, "gender", n_boot=50).set_index("value")
    from_utts = disaggregate(utts, "gender", n_boot=50).set_index("value")
    pd.testing.assert_frame_equal(
        out[["speakers", "utterances", "ref_words", "errors", "wer"]],
        from_utts[["speakers", "utterances", "ref_words", "errors", "wer"]],
    )


def test_missing_values_are_counted_not_lost():
    utts = scored_utterances()
    utts.loc[[0, 5, 9], "device"] = None
    out = disaggregate(utts, "device", n_boot=20)
    assert out["utterances"].sum() == len(utts) - 3
    assert out.attrs["wergap"]["dropped"] == {"missing device": 3}


def test_small_groups_are_listed_by_name_without_numbers():
    """Issue 12: a value under the floor is listed with its count and "too few speakers", never pooled."""
    utts = scored_utterances(n_speakers=40)
    utts["accent"] = np.where(
        utts["speaker_id"].isin(["s000", "s001"]), "rare", np.where(utts["speaker_id"].isin(["s002"]), "odd", "common")
    )
    out = disaggregate(utts, "accent", min_speakers=5, n_boot=20)
    assert out["value"].tolist() == ["common", "odd", "rare"]
    assert out["speakers"].tolist() == [37, 1, 2]
    small = out.iloc[1:]
    assert small["note"].str.startswith("too few speakers").all() and out["note"].iloc[0] == ""
    assert small[["wer", "wer_ci_low", "gap_vs_best_pct", "errors", "ref_words"]].isna().all().all()
    assert out.attrs["wergap"]["disaggregation"]["too_few"] == {"odd": 1, "rare": 2}
    assert OTHER not in out["value"].tolist()


def test_default_floor_is_min_group_speakers():
    from wergap.defaults import MIN_GROUP_SPEAKERS

    utts = scored_utterances(n_speakers=40)
    utts["site"] = np.where(utts["speaker_id"] < "s009", "small site", "big site")
    out = disaggregate(utts, "site", n_boot=20).set_index("value")
    assert MIN_GROUP_SPEAKERS == 10
    assert out.loc["small site", "speakers"] == 9 and out.loc["small site", "note"].startswith("too few")


def test_zero_wer_best_group_gives_nan_gaps():
    speakers = pd.DataFrame(
        {"speaker_id": list("abcd"), "ref_words": [10, 10, 10, 10], "errors": [0, 0, 3, 4], "g": ["x", "x", "y", "y"]}
    )
    out = disaggregate(speakers, "g", min_speakers=1, n_boot=50)
    assert out["wer"].tolist() == [0.35, 0.0]
    assert out["gap_vs_best_pct"].isna().all()
    assert math.isnan(out["gap_vs_best_ci_low"].iloc[0])


@pytest.mark.parametrize(
    ("mutate", "message", "column"),
    [
        (lambda t: t.drop(columns="device"), "missing attribute column 'device'", "device"),
        (lambda t: t.drop(columns="errors"), "missing required column 'errors'", "errors"),
        (lambda t: t.assign(device=None), "no rows with a value for 'device'", "device"),
        (lambda t: t.assign(errors=t["errors"].where(t.index != 4, -2)), "non-negative whole number", "errors"),
    ],
)
def test_bad_input(mutate, message, column):
    with pytest.raises(InputError) as err:
        disaggregate(mutate(scored_utterances()), "device", n_boot=10)
    assert message in str(err.value) and err.value.column == column


def test_resample_jackknife_variance_matches_numpy():
    from wergap.cohorts.bootstrap import _row_jackknife, _row_sums

    rng = np.random.default_rng(3)
    errors, words = rng.integers(0, 20, 12).astype(float), rng.integers(5, 60, 12).astype(float)
    draws = rng.integers(0, 12, (5, 12)).astype(np.int32)
    e_sum, w_sum = _row_sums(draws, errors, words)
    variance = _row_jackknife(draws, errors, words, e_sum, w_sum)
    for i, row in enumerate(draws):
        e, w = errors[row], words[row]
        leave_out = (e.sum() - e) / (w.sum() - w)
        assert (e_sum[i], w_sum[i]) == (e.sum(), w.sum())
        assert variance[i] == pytest.approx(11 / 12 * np.sum((leave_out - leave_out.mean()) ** 2))


def test_studentised_interval_is_not_shorter_on_the_high_side_with_heavy_tails():
    """A few talkative speakers: the interval reaches above the percentile one (bench_coverage.py measures coverage)."""
    from wergap.cohorts.bootstrap import percentile_interval, ratio, stratified_totals

    rng = np.random.default_rng(5)
    words = np.maximum(3, rng.lognormal(np.log(60), 1.5, 150).round()).astype(int)
    speakers = pd.DataFrame(
        {
            "speaker_id": [f"s{i}" for i in range(150)],
            "ref_words": words,
            "errors": rng.binomial(words, rng.beta(1.2, 8.8, 150)),
            "g": "all",
        }
    )
    row = disaggregate(speakers, "g", min_speakers=1, n_boot=500, seed=1).iloc[0]
    e, w = stratified_totals(
        np.zeros(150, dtype=int), speakers["errors"], speakers["ref_words"], 1, 500, np.random.default_rng(1)
    )
    low, high = percentile_interval(ratio(e[:, 0], w[:, 0]), 0.95)
    assert row["wer_ci_low"] < row["wer"] < row["wer_ci_high"]
    assert row["wer_ci_high"] > high
