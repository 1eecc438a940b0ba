"""The real Koenecke et al. (PNAS 2020) tables: the report names the worst groups (issue 12).

56 Black CORAAL speakers and 42 white VOC speakers. Under the old pooling (values under
``min_speakers`` = 30 merged into "other") race × gender showed only "Black women vs
other", and the report lost Black men (the paper's worst group) and Princeville (the worst
site, 11 speakers). Known attributes now have their own floor, ``min_group_speakers`` = 10.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wergap.audit import audit
from wergap.reports.html import render_html

SITES = {
    "DCB": "Washington DC",
    "PRV": "Princeville",
    "ROC": "Rochester",
    "HUM": "Humboldt County",
    "SAC": "Sacramento",
}


@pytest.fixture(scope="module")
def koenecke_log(shared_data) -> pd.DataFrame:
    path = shared_data / "asr_results" / "koenecke2020_matched_wer.csv"
    if not path.exists():
        pytest.skip(f"{path} not found")
    raw = pd.read_csv(path)
    coraal = ~raw["source"].isin(["HUM", "SAC"])
    speaker = raw["basefile"].where(~coraal, raw["basefile"].str.replace(r"_\d+$", "", regex=True))
    race = np.where(raw["black_flag"] == 1, "Black", "white")
    gender = np.where(raw["female_flag"] == 1, "women", "men")
    return pd.DataFrame(
        {
            "utt_id": raw["segment_filename"].astype(str),
            "speaker_id": speaker.astype(str),
            "ref_words": raw["wordcount"].astype("int64"),
            "errors": (raw["clean_apple_wer"] * raw["wordcount"]).round().astype("int64"),
            "race_gender": pd.Series(race, dtype="str") + " " + pd.Series(gender, dtype="str"),
            "site": raw["source"].map(SITES).astype("str"),
        }
    )


def test_report_names_black_men_and_princeville(koenecke_log):
    result = audit(koenecke_log, methods=[], known_attributes=["race_gender", "site"], n_boot=200)
    by_group = result.disaggregated["race_gender"].set_index("value")
    by_site = result.disaggregated["site"].set_index("value")
    assert by_group.loc["Black men", "speakers"] == 21 and by_site.loc["Princeville", "speakers"] == 11
    # both get their own WER: they are above the known-attribute floor of 10 speakers
    assert by_group["wer"].notna().all() and by_site["wer"].notna().all()
    assert by_group.index[0] == "Black men"  # the worst group, as in the paper
    page = render_html(result)
    assert "<td>Black men</td>" in page and "<td>Princeville</td>" in page
    assert "other" not in by_group.index
