"""cohort_profile: who is in a cohort, against the rest, in attributes and census columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wergap.cohorts import COHORT_PROFILE_COLUMNS, Partition, cohort_profile
from wergap.cohorts.cohort_profile import RARE_VALUES
from wergap.data_schemas import InputError


def speaker_table(seed=0, n=300):
    """Cohort "cluster 1" (first 100 speakers) is 80 % female and lives in poorer ZIPs."""
    rng = np.random.default_rng(seed)
    inside = np.arange(n) < 100
    speakers = pd.DataFrame(
        {
            "speaker_id": [f"spk{i:03d}" for i in range(n)],
            "utterances": 5,
            "ref_words": 50,
            "errors": np.where(inside, 10, 5),
            "gender": np.where(rng.random(n) < np.where(inside, 0.8, 0.3), "female", "male"),
            "device": rng.choice(["phone", "speaker"], n).astype(object),
            "age": rng.normal(np.where(inside, 60, 40), 8),
            "zip": np.where(inside, "10001", rng.choice(["20002", "30003"], n)),
        }
    )
    speakers.loc[:4, "device"] = "smartwatch"  # 5 speakers: under the floor of 10
    speakers["wer"] = speakers["errors"] / speakers["ref_words"]
    labels = pd.Series(np.where(inside, "cluster 1", "cluster 2"), index=speakers["speaker_id"].to_numpy())
    census = pd.DataFrame(
        {
            "zip": ["10001", "20002", "30003"],
            "median_income": [30000.0, 70000.0, 90000.0],
            "share_black": [0.6, 0.1, 0.2],
            "state": ["NY", "DC", "GA"],
        }
    )
    return speakers, Partition("embedding_kmeans", labels, {"cluster 1": "c1", "cluster 2": "c2"}), census


def test_shares_means_and_census():
    speakers, partition, census = speaker_table()
    out = cohort_profile(speakers, partition, census=census)
    assert list(out.columns) == COHORT_PROFILE_COLUMNS
    assert out.attrs["wergap"]["cohort_profile"] == {
        "cohort": "cluster 1",
        "speakers_cohort": 100,
        "speakers_rest": 200,
        "min_group_speakers": 10,
    }
    female = out.query("attribute == 'gender' and value == 'female'").iloc[0]
    truth = speakers["gender"].eq("female").groupby(speakers["speaker_id"].map(partition.labels)).mean()
    assert female["cohort"] == pytest.approx(truth["cluster 1"]) and female["rest"] == pytest.approx(truth["cluster 2"])
    assert female["difference"] > 0.3 and female["speakers_cohort"] == int(
        (speakers["gender"].eq("female") & (np.arange(300) < 100)).sum()
    )
    age = out.query("attribute == 'age'").iloc[0]
    assert age["statistic"] == "mean" and age["std_difference"] > 1.5
    income = out.query("source == 'census' and attribute == 'median_income'").iloc[0]
    assert income["cohort"] == 30000 and income["difference"] < -30000
    assert set(out.query("source == 'census'")["attribute"]) == {"median_income", "share_black"}
    # Census rows come last, strongest difference first.
    assert list(out["source"]).index("census") == len(out) - 2


def test_rare_values_are_pooled():
    speakers, partition, _ = speaker_table()
    out = cohort_profile(speakers, partition, attributes=["device"])
    assert "smartwatch" not in set(out["value"])
    assert RARE_VALUES.format(n=10) in set(out["value"])
    assert out["cohort"].sum() == pytest.approx(1.0)


def test_default_cohort_is_the_worst_and_bad_names_raise():
    speakers, partition, census = speaker_table()
    assert (
        cohort_profile(speakers, partition.labels, cohort="cluster 2").attrs["wergap"]["cohort_profile"]["cohort"]
        == "cluster 2"
    )
    with pytest.raises(InputError, match="attribute 'nope'"):
        cohort_profile(speakers, partition, attributes=["nope"])
    with pytest.raises(InputError, match="no 'zip' column"):
        cohort_profile(speakers.drop(columns="zip"), partition, census=census)
