"""adjusted_gap: a gap made only by longer utterances vanishes after adjustment; a real one stays."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from wergap.cohorts import COVARIATE_COLUMNS, AdjustedGap, adjusted_gap
from wergap.cohorts.adjusted import CONFOUNDED, DROP_EMPTY, DROP_MISSING, DROP_UNLABELLED, RATE_NEEDS_DURATION
from wergap.data_schemas import InputError


def simulated(*, cohort_effect=1.0, seed=0, n_speakers=300, per_speaker=20) -> tuple[pd.DataFrame, pd.Series]:
    """Counts-only utterances: cohort B speaks mostly long utterances, which are harder.

    Short utterances (4 words) have a per-word error rate of 5 %, long ones (12 words) 15 %;
    cohort B's are 80 % long, A's 20 %. Each speaker's rate is scaled by a gamma factor
    (mean 1), so utterances of one speaker are alike, and cohort B's by ``cohort_effect``.
    """
    rng = np.random.default_rng(seed)
    speaker = np.repeat([f"spk{i:03d}" for i in range(n_speakers)], per_speaker)
    in_b = np.repeat(np.arange(n_speakers) < n_speakers // 3, per_speaker)
    long = rng.random(len(speaker)) < np.where(in_b, 0.8, 0.2)
    words = np.where(long, 12, 4)
    frailty = np.repeat(rng.gamma(8.0, 1 / 8.0, n_speakers), per_speaker)
    p = np.clip(np.where(long, 0.15, 0.05) * frailty * np.where(in_b, cohort_effect, 1.0), 0, 0.95)
    gender = np.repeat(rng.choice(["female", "male"], n_speakers), per_speaker)
    log = pd.DataFrame(
        {
            "utt_id": [f"u{i}" for i in range(len(speaker))],
            "speaker_id": speaker,
            "ref_words": words,
            "errors": rng.binomial(words, p),
            "duration": words / rng.uniform(2.0, 3.0, len(speaker)),
            "gender": gender,
        }
    )
    labels = pd.Series(
        np.where(np.arange(n_speakers) < n_speakers // 3, "B", "A"), index=[f"spk{i:03d}" for i in range(n_speakers)]
    )
    return log, labels


def wer_ratio(log: pd.DataFrame, labels: pd.Series, cohort: str) -> float:
    side = log["speaker_id"].map(labels) == cohort
    return (log.loc[side, "errors"].sum() / log.loc[side, "ref_words"].sum()) / (
        log.loc[~side, "errors"].sum() / log.loc[~side, "ref_words"].sum()
    )


def test_a_gap_made_by_length_shrinks_to_nothing():
    log, labels = simulated(cohort_effect=1.0)
    result = adjusted_gap(log, labels, covariates=["length"])
    assert isinstance(result, AdjustedGap) and result.cohort == "B"
    assert result.ratio_raw > 1.3 and result.ratio_raw_ci_low > 1.15  # a clear raw gap (planted: 1.53)
    assert result.ratio_raw == pytest.approx(wer_ratio(log, labels, "B"), rel=1e-9)
    assert abs(result.gap_pct) < 6 and result.ci_low < 1 < result.ci_high  # gone after adjustment
    row = result.covariate_ratios.set_index("level").loc["12"]
    assert row["covariate"] == "length" and row["reference"] == "4"
    assert row["ratio"] == pytest.approx(3.0, rel=0.1)  # the planted 15 % vs 5 %


def test_a_true_cohort_effect_stays():
    log, labels = simulated(cohort_effect=1.5)
    result = adjusted_gap(log, labels, covariates=["length", "gender"])
    assert result.ratio_raw > 1.9  # planted: 1.5 × 1.53
    assert result.ratio == pytest.approx(1.5, rel=0.1) and result.ci_low > 1.25
    assert result.p_value < 1e-6
    assert list(result.covariate_ratios.columns) == COVARIATE_COLUMNS
    gender = result.covariate_ratios.query("covariate == 'gender'").iloc[0]
    assert gender["ci_low"] < 1 < gender["ci_high"]  # no gender effect was planted


def test_default_covariates_are_length_and_rate_when_duration_is_given():
    log, labels = simulated(cohort_effect=1.0, seed=1)
    result = adjusted_gap(log, labels)
    assert result.covariates == ("length", "rate")
    assert set(result.covariate_ratios["covariate"]) == {"length", "rate"}
    assert result.ci_low < 1 < result.ci_high
    assert adjusted_gap(log.drop(columns="duration"), labels).covariates == ("length",)


def test_exchangeable_correlation_gives_the_same_answer_here():
    log, labels = simulated(cohort_effect=1.0, seed=2)
    result = adjusted_gap(log, labels, covariates=["length"], correlation="exchangeable")
    assert result.correlation == "exchangeable" and result.ci_low < 1 < result.ci_high


def test_dropped_rows_are_counted_by_reason():
    log, labels = simulated(seed=3)
    log.loc[:9, "gender"] = None
    log.loc[10:14, "ref_words"] = 0
    log.loc[10:14, "errors"] = 0
    labels = labels.drop(["spk299"])  # 20 utterances of an unlabelled speaker
    result = adjusted_gap(log, labels, covariates=["length", "gender"])
    assert result.dropped == {DROP_UNLABELLED: 20, DROP_EMPTY: 5, DROP_MISSING.format(column="gender"): 10}
    assert result.utterances == len(log) - 35


def test_a_covariate_that_is_the_cohort_gives_nan_with_the_reason():
    log, labels = simulated(cohort_effect=1.5, seed=4)
    log["site"] = log["speaker_id"].map(labels).map({"A": "north", "B": "south"})
    result = adjusted_gap(log, labels, covariates=["length", "site"])
    assert math.isnan(result.ratio) and result.reason == CONFOUNDED.format(covariates="length, site")
    assert result.ratio_raw > 2  # the raw ratio is still reported


def test_a_single_level_covariate_is_dropped_and_said():
    log, labels = simulated(seed=5)
    log["device"] = "phone"
    result = adjusted_gap(log, labels, covariates=["length", "device"])
    assert result.dropped_covariates == ("device",) and not math.isnan(result.ratio)


def test_to_dict_is_plain():
    log, labels = simulated(seed=6, n_speakers=60, per_speaker=5)
    out = adjusted_gap(log, labels, covariates=["length"]).to_dict()
    assert out["covariates"] == ["length"] and isinstance(out["covariate_ratios"], list)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"covariates": ["nope"]}, "covariate 'nope' is neither"),
        ({"correlation": "ar1"}, "unknown working correlation"),
        ({"n_bins": 1}, "n_bins"),
        ({"confidence": 1.5}, "confidence"),
    ],
)
def test_bad_options(kwargs, match):
    log, labels = simulated(n_speakers=30, per_speaker=2)
    with pytest.raises(InputError, match=match):
        adjusted_gap(log, labels, **kwargs)


def test_rate_needs_duration():
    log, labels = simulated(n_speakers=30, per_speaker=2)
    with pytest.raises(InputError, match="duration"):
        adjusted_gap(log.drop(columns="duration"), labels, covariates=["rate"])
    assert "duration" in RATE_NEEDS_DURATION
