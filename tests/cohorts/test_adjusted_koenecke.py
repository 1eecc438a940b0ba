"""Real check on Koenecke et al. (PNAS 2020)'s matched table: the racial gap survives adjustment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import wergap as wg

FILE = "asr_results/koenecke2020_matched_wer.csv"


@pytest.fixture(scope="module")
def matched(shared_data) -> pd.DataFrame:
    path = shared_data / FILE
    if not path.is_file():
        pytest.skip(f"{path} not found (Koenecke et al. replication data; see ../shared/data/README.md)")
    table = pd.read_csv(path)
    black = table["black_flag"].to_numpy() == 1
    log = pd.DataFrame(
        {
            "utt_id": table["segment_filename"],
            # CORAAL basefile minus its part number; VOC basefile as is (data README).
            "speaker_id": np.where(black, table["basefile"].str.replace(r"_\d+$", "", regex=True), table["basefile"]),
            "ref_words": table["wordcount"],
            "errors": (table["clean_apple_wer"] * table["wordcount"]).round().astype("int64"),
            "race": np.where(black, "Black", "white"),
            "age": table["age"],
            "female_flag": table["female_flag"],
            "duration": table["duration"],
        }
    )
    return wg.score(wg.read_log(log))


def test_race_gap_remains_after_adjusting_for_age_gender_duration(matched):
    labels = matched.groupby("speaker_id")["race"].first()
    assert (labels == "Black").sum() == 56 and (labels == "white").sum() == 42  # the paper's speakers
    result = wg.adjusted_gap(matched, labels, cohort="Black", covariates=["age", "female_flag", "duration"])
    assert result.utterances == 4282 and result.dropped == {}
    assert result.ratio_raw == pytest.approx(1.97, abs=0.01)
    assert result.ratio == pytest.approx(1.93, abs=0.01)
    assert result.ci_low > 1.5  # the disparity remains, as the paper concluded
