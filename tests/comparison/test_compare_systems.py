"""compare() of N systems: cohorts found once, every system measured with the same paired resamples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import wergap as wg
from wergap.cohorts import partition_from_column
from wergap.comparison import (
    SYSTEM_CHANGE_COLUMNS,
    SYSTEM_COHORT_COLUMNS,
    SYSTEM_GAP_COLUMNS,
    SystemsComparison,
    compare,
)
from wergap.errors import InputError

#: Each system's WER multiplier for the disadvantaged group: base has a gap of 1.0 (WER 2x).
SYSTEMS = {"base": 1.0, "fixed": 0.0, "worse": 2.5, "same": 1.0}


def make_systems(
    *, n_speakers: int = 400, utts: int = 5, seed: int = 0, gaps: dict[str, float] = SYSTEMS
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Scored logs of the same utterances by several systems, low-income ZIPs served worse, and a census.

    The base system has WER 0.10 in ZIPs with income under 45k and 0.10 * (1 + gap) there;
    ``fixed`` has no gap, ``worse`` a larger one, ``same`` the base's (independent errors).
    """
    rng = np.random.default_rng(seed)
    n_zip = 40
    zips = [f"{10000 + 7 * i:05d}" for i in range(n_zip)]
    income = np.linspace(20000, 120000, n_zip)
    speaker = np.repeat(np.arange(n_speakers), utts)
    zip_of = speaker % n_zip
    low = income[zip_of] < 45000
    words = rng.integers(5, 15, size=len(speaker))
    frame = pd.DataFrame(
        {
            "utt_id": [f"s{s:04d}-{u}" for s in range(n_speakers) for u in range(utts)],
            "speaker_id": [f"s{s:04d}" for s in speaker],
            "zip": [zips[z] for z in zip_of],
            "accent": np.where(speaker % 4 == 0, "a", "b"),
            "ref_words": words,
        }
    )
    logs = {}
    for name, gap in gaps.items():
        p = 0.10 * (1 + gap * low)
        logs[name] = frame.assign(errors=rng.binomial(words, p))
    return logs, pd.DataFrame({"zip": zips, "median_income": income})


@pytest.fixture(scope="module")
def discovered():
    logs, census = make_systems()
    return logs, compare(list(logs.values()), names=list(logs), census=census, methods=["census_splits"], n_boot=300)


def test_three_candidates_get_the_right_verdicts(discovered):
    logs, result = discovered
    assert isinstance(result, SystemsComparison)
    changes = result.changes("census_splits").set_index("system")
    assert changes.loc["fixed", "verdict"] == "narrowed"
    assert changes.loc["worse", "verdict"] == "widened"
    assert changes.loc["same", "verdict"] == "no detectable change"
    assert (changes["verdict_from"] == "held-out").all()
    assert changes.loc["fixed", "held_out_change_ci_high"] < 0 < changes.loc["worse", "held_out_change_ci_low"]
    assert changes.loc["same", "held_out_change_ci_low"] <= 0 <= changes.loc["same", "held_out_change_ci_high"]
    text = " ".join(result.verdicts())
    assert "fixed vs base: gap narrowed" in text and "worse vs base: gap widened" in text
    assert "same vs base: no detectable change" in text


def test_ranking_by_held_out_gap(discovered):
    _, result = discovered
    ranked = result.ranking("census_splits")
    assert ranked["system"].tolist()[0] == "fixed" and ranked["system"].tolist()[-1] == "worse"
    assert (ranked["ranked_by"] == "held-out").all()
    assert "ranked by held-out gap" in result.ranking_line("census_splits")


def test_tidy_tables_and_direct_numbers(discovered):
    logs, result = discovered
    cohorts = result.cohorts("census_splits")
    assert list(cohorts.columns) == SYSTEM_COHORT_COLUMNS
    assert list(result.gaps().columns) == SYSTEM_GAP_COLUMNS
    assert list(result.changes().columns) == SYSTEM_CHANGE_COLUMNS
    assert len(cohorts) == 2 * len(logs)  # a binary split: two cohorts per system
    assert set(cohorts["system"]) == set(logs)
    # the same cohorts and roles for every system
    roles = cohorts.groupby("cohort")["role"].nunique()
    assert (roles == 1).all()
    # each system's cohort WER is its own errors / words over the cohort's speakers
    part = result.estimators["census_splits"].partition_
    for name, log in logs.items():
        cohort = log["speaker_id"].map(part.labels)
        sums = log.groupby(cohort)[["errors", "ref_words"]].sum()
        mine = cohorts[cohorts["system"] == name].set_index("cohort")["wer"]
        for label, wer in mine.items():
            assert wer == pytest.approx(sums.loc[label, "errors"] / sums.loc[label, "ref_words"])
    gaps = result.gaps("census_splits").set_index("system")
    for name in logs:
        mine = cohorts[cohorts["system"] == name].set_index("role")["wer"]
        assert gaps.loc[name, "gap_pct"] == pytest.approx(100 * (mine["bottom"] - mine["top"]) / mine["top"])
        assert (
            gaps.loc[name, "held_out_ci_low"]
            <= gaps.loc[name, "held_out_gap_pct"]
            <= gaps.loc[name, "held_out_ci_high"]
        )
    overall = result.overall.set_index("system")
    for name, log in logs.items():
        assert overall.loc[name, "wer"] == pytest.approx(log["errors"].sum() / log["ref_words"].sum())
    assert overall.loc["base", "change_pts"] == 0


def test_known_attribute_is_measured_per_system(discovered):
    _, result = discovered
    assert "attribute:accent" in result.methods
    gaps = result.gaps("attribute:accent")
    assert (gaps["kind"] == "known attribute").all() and gaps["held_out_gap_pct"].isna().all()
    assert (gaps["ranked_by"] == "in-sample").all()


def test_same_resamples_for_every_system():
    # two identical systems: every paired resample's difference is exactly 0
    logs, _ = make_systems(n_speakers=160, gaps={"a": 1.0, "b": 0.0})
    logs["a2"] = logs["a"].copy()
    part = partition_from_column(logs["a"].drop_duplicates("speaker_id"), "accent")
    result = compare(logs, partitions=[part], n_boot=100)
    assert result.names == ("a", "b", "a2")
    change = result.changes().set_index("system").loc["a2"]
    assert change["gap_change_ci_low"] == 0 == change["gap_change_ci_high"]
    cc = result.cohort_changes().query("system == 'a2'")
    assert (cc[["change_ci_low", "change_ci_high"]] == 0).all().all()
    assert result.changes().set_index("system").loc["a2", "verdict_from"] == "in-sample"


def test_only_utterances_shared_by_all_are_measured_and_the_rest_counted():
    logs, _ = make_systems(n_speakers=120, gaps={"a": 1.0, "b": 0.0, "c": 0.5})
    logs["b"] = logs["b"].iloc[3:]
    logs["c"] = pd.concat([logs["c"], logs["c"].iloc[:2].assign(utt_id=["x1", "x2"])])
    part = partition_from_column(logs["a"].drop_duplicates("speaker_id"), "accent")
    result = compare(logs, partitions=[part], n_boot=20, min_speakers=10)
    assert result.counts["shared"] == len(logs["a"]) - 3
    assert result.counts["not_shared"] == {"a": 3, "b": 0, "c": 5}


def test_one_table_with_a_system_column_and_pooled_discovery():
    logs, census = make_systems(n_speakers=200, gaps={"v1": 1.0, "v2": 0.5, "v3": 0.0})
    stacked = pd.concat([log.assign(system=name) for name, log in logs.items()], ignore_index=True)
    result = compare(stacked, census=census, methods=["census_splits"], discover_on="pooled", n_boot=50)
    assert result.names == ("v1", "v2", "v3") and result.discover_on == "pooled"
    chosen = compare(stacked, census=census, methods=["census_splits"], select=["v3", "v1"], n_boot=20)
    assert chosen.names == ("v3", "v1")


def test_errors():
    logs, _ = make_systems(n_speakers=40, gaps={"a": 1.0, "b": 0.0})
    with pytest.raises(InputError, match="at least two systems"):
        compare([logs["a"]])
    with pytest.raises(InputError, match="discover_on"):
        compare(list(logs.values()), discover_on="best")
    bad = logs["b"].copy()
    bad.loc[0, "speaker_id"] = "other"
    with pytest.raises(InputError, match="belongs to speaker"):
        compare([logs["a"], bad])


def test_two_table_call_still_returns_the_two_system_comparison():
    logs, _ = make_systems(n_speakers=120, gaps={"a": 1.0, "b": 0.0})
    part = partition_from_column(logs["a"].drop_duplicates("speaker_id"), "accent")
    assert isinstance(compare(logs["a"], logs["b"], partitions=[part], n_boot=10), wg.Comparison)
