"""held_out_gap: a gap found by search shrinks on speakers the search never saw."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator

from wergap.cohorts import FOLD_COLUMNS, Partition, held_out_gap
from wergap.cohorts import heldout as heldout_module
from wergap.data_schemas import InputError


class QuantileBinsOnX(BaseEstimator):
    """Test-only discovery estimator: cohorts are quantile bins of a column ``x``.

    It follows the discovery contract (fit -> partition_, predict -> Series of labels)
    so held_out_gap can be tested without the real estimators' data requirements.
    """

    def __init__(self, n_bins=4, min_speakers=5):
        self.n_bins = n_bins
        self.min_speakers = min_speakers

    def fit(self, speakers):
        if len(speakers) < self.n_bins * self.min_speakers:
            raise InputError(f"need {self.n_bins * self.min_speakers} speakers, got {len(speakers)}")
        self.edges_ = np.quantile(speakers["x"], np.linspace(0, 1, self.n_bins + 1)[1:-1])
        labels = self.predict(speakers)
        self.partition_ = Partition("bins", labels, {str(i): f"x bin {i}" for i in range(self.n_bins)})
        return self

    def predict(self, speakers):
        bins = np.searchsorted(self.edges_, speakers["x"].to_numpy()).astype(str)
        return pd.Series(bins, index=speakers["speaker_id"].astype(str).to_numpy())


class SpeakerLookup(BaseEstimator):
    """Test-only estimator that cannot generalise: predicts only speakers it was fit on."""

    def __init__(self, min_speakers=5):
        self.min_speakers = min_speakers

    def fit(self, speakers):
        labels = pd.Series(speakers["group"].to_numpy(), index=speakers["speaker_id"].to_numpy())
        self.partition_ = Partition("lookup", labels, {g: g for g in labels.unique()})
        return self

    def predict(self, speakers):
        return self.partition_.labels.reindex(speakers["speaker_id"].to_numpy())


def speakers_with_effect(n, effect, seed):
    rng = np.random.default_rng(seed)
    x = rng.random(n)
    words = rng.integers(50, 150, n)
    p = np.where(x > 0.75, 0.1 * (1 + effect), 0.1)
    return pd.DataFrame(
        {
            "speaker_id": [f"s{i}" for i in range(n)],
            "x": x,
            "group": np.where(x > 0.5, "hi", "lo"),
            "utterances": 5,
            "ref_words": words,
            "errors": rng.binomial(words, p),
        }
    )


def test_null_effect_held_out_ci_covers_zero_for_most_seeds():
    covered, in_sample, held_out = 0, [], []
    for seed in range(12):
        speakers = speakers_with_effect(240, 0.0, seed)
        result = held_out_gap(QuantileBinsOnX(n_bins=6), speakers, seed=seed, n_boot=300)
        covered += result.ci_low <= 0 <= result.ci_high
        in_sample.append(result.in_sample_gap_pct)
        held_out.append(result.gap_pct)
    assert covered >= 9
    # the search's own gap is optimistic; the held-out one is not
    assert np.mean(in_sample) > np.mean(held_out) + 5


def test_planted_effect_survives_held_out():
    speakers = speakers_with_effect(400, 1.0, 7)
    result = held_out_gap(QuantileBinsOnX(), speakers, seed=1, n_boot=300)
    assert result.ci_low > 30 and result.reason is None
    assert result.folds["bottom"].tolist() == ["3", "3"]
    assert result.n_folds == 2
    assert list(result.folds.columns) == FOLD_COLUMNS
    # the mean is the mean of the folds, each measured as a pandas gap on its half
    assert result.gap_pct == pytest.approx(result.folds["gap_pct"].mean())
    for _, fold in result.folds.iterrows():
        assert fold["gap_pct"] == pytest.approx(100 * (fold["wer_bottom"] - fold["wer_top"]) / fold["wer_top"])
        assert fold["speakers_bottom"] + fold["speakers_top"] <= 200


def test_fold_wers_match_pandas_on_the_measuring_half():
    speakers = speakers_with_effect(200, 0.5, 3)
    estimator = QuantileBinsOnX()
    result = held_out_gap(estimator, speakers, seed=5, n_boot=50)
    assert not hasattr(estimator, "partition_")  # cloned, never fitted in place
    # reproduce the split and fold 1 by hand
    split_seed, _ = np.random.SeedSequence(5).spawn(2)
    order = np.random.default_rng(split_seed).permutation(len(speakers))
    half_a, half_b = speakers.iloc[np.sort(order[:100])], speakers.iloc[np.sort(order[100:])]
    fitted = QuantileBinsOnX().fit(half_a)
    labels = fitted.predict(half_b).to_numpy()
    fold = result.folds.iloc[0]
    for side in ("bottom", "top"):
        part = half_b[labels == fold[side]]
        assert fold[f"speakers_{side}"] == len(part)
        assert fold[f"wer_{side}"] == pytest.approx(part["errors"].sum() / part["ref_words"].sum(), rel=1e-12)


def test_cohorts_empty_on_other_half_give_nan_with_reason():
    speakers = speakers_with_effect(100, 0.5, 2)
    result = held_out_gap(SpeakerLookup(), speakers, n_boot=50)
    assert math.isnan(result.gap_pct) and result.reason.startswith(heldout_module.NO_FOLD.split("(")[0])
    assert result.folds["unassigned"].tolist() == [50, 50]
    assert all("has no speakers with reference words on half" in r for r in result.folds["reason"])


def test_discovery_failing_on_a_half_is_reported_not_raised():
    speakers = speakers_with_effect(30, 0.0, 2)
    result = held_out_gap(QuantileBinsOnX(n_bins=4, min_speakers=5), speakers, n_boot=20)
    assert math.isnan(result.gap_pct)
    assert all(r.startswith("discovery on half") for r in result.folds["reason"])


def test_too_few_speakers_and_bad_options():
    speakers = speakers_with_effect(3, 0.0, 2)
    with pytest.raises(InputError, match="need at least 4 speakers"):
        held_out_gap(QuantileBinsOnX(), speakers)
    with pytest.raises(InputError, match="bottom_share"):
        held_out_gap(QuantileBinsOnX(), speakers_with_effect(50, 0, 1), bottom_share=0)


def test_bottom_share_pools_on_the_discovery_half():
    speakers = speakers_with_effect(400, 1.0, 9)
    result = held_out_gap(QuantileBinsOnX(n_bins=8), speakers, bottom_share=0.2, n_boot=100)
    assert all(" + " in b for b in result.folds["bottom"])
    assert result.gap_pct > 0
    assert result.to_dict()["folds"][0]["fold"] == 1


@pytest.mark.skipif(
    importlib.util.find_spec("wergap.discovery.geo_tree") is None, reason="wergap.discovery.geo_tree not written yet"
)
def test_null_effect_with_the_real_geo_tree():
    from wergap.discovery.geo_tree import GeoTree

    covered = 0
    for seed in range(8):
        rng = np.random.default_rng(100 + seed)
        n = 300
        words = rng.integers(50, 150, n)
        speakers = pd.DataFrame(
            {
                "speaker_id": [f"s{i}" for i in range(n)],
                "utterances": 5,
                "ref_words": words,
                "errors": rng.binomial(words, 0.12),
                "lat": rng.uniform(30, 45, n),
                "lon": rng.uniform(-120, -75, n),
            }
        )
        result = held_out_gap(
            GeoTree(max_regions=4, min_speakers=20, random_state=seed), speakers, seed=seed, n_boot=200
        )
        covered += result.ci_low <= 0 <= result.ci_high
    assert covered >= 6


def test_a_fold_never_reports_a_cohort_under_min_speakers_on_its_measuring_half():
    hits = 0
    for seed in range(6):
        # cohorts of ~25 speakers on the discovery half: on the other half some have fewer
        result = held_out_gap(
            QuantileBinsOnX(n_bins=2, min_speakers=25), speakers_with_effect(100, 0.5, seed), n_boot=20
        )
        for fold in result.folds.to_dict("records"):
            small = min(fold["speakers_bottom"], fold["speakers_top"]) < 25
            if small:
                hits += 1
                assert "fewer than min_speakers=25" in fold["reason"]
                assert all(math.isnan(fold[k]) for k in ("wer_bottom", "wer_top", "gap_pct", "gap_ci_low"))
            else:
                assert not math.isnan(fold["gap_pct"])
    assert hits
