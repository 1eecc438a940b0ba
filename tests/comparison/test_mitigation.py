"""Mitigation exports: utterance cohort labels, oversampling weights, cohort ids, bottom lists."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wergap.cohorts import Partition, gap_summary
from wergap.comparison.mitigation import (
    bottom_utterances,
    oversampling_weights,
    speaker_cohort_ids,
    utterance_cohorts,
)
from wergap.data_schemas import InputError


class MiniAudit:
    """What the mitigation functions read from an Audit, around one real Partition."""

    def __init__(self, speakers: pd.DataFrame, partition: Partition, min_speakers: int = 2):
        self.speakers = speakers
        self.params = {"min_speakers": min_speakers}
        self._part = {partition.method: partition}
        self.gaps = {partition.method: gap_summary(speakers, partition, min_speakers=min_speakers, n_boot=0)}

    @property
    def methods(self) -> list[str]:
        return list(self._part)

    def partition(self, method: str) -> Partition:
        return self._part[method]


def setup(n_bad: int = 3, n_good: int = 9, n_tiny: int = 1, utts: int = 4):
    """Speakers in cohorts bad (high WER), good, tiny (pooled into other), plus one unplaced speaker."""
    rng = np.random.default_rng(0)
    cohorts = ["bad"] * n_bad + ["good"] * n_good + ["tiny"] * n_tiny + [None]
    rows, spk = [], []
    for i, cohort in enumerate(cohorts):
        sid = f"s{i:02d}"
        rate = 0.4 if cohort == "bad" else 0.1
        for u in range(utts):
            w = 10
            rows.append((f"{sid}-{u}", sid, w, int(rng.binomial(w, rate))))
        spk.append((sid, cohort))
    scored = pd.DataFrame(rows, columns=["utt_id", "speaker_id", "ref_words", "errors"])
    speakers = scored.groupby("speaker_id", as_index=False)[["ref_words", "errors"]].sum()
    placed = [(s, c) for s, c in spk if c is not None]
    labels = pd.Series([c for _, c in placed], index=[s for s, _ in placed])
    part = Partition(
        "attr", labels, {"bad": "the bad ones", "good": "the good ones", "tiny": "tiny"}, excluded={"no attr": 1}
    )
    return scored, MiniAudit(speakers, part)


def test_utterance_cohorts_labels_every_row_pools_small_and_marks_bottom():
    scored, audit = setup()
    out = utterance_cohorts(scored, audit)
    assert len(out) == len(scored) and out["utt_id"].tolist() == scored["utt_id"].tolist()
    assert set(out["attr"].dropna()) == {"bad", "good", "other"}  # tiny pooled, never named
    assert out["attr"].isna().sum() == 4  # the unplaced speaker's utterances stay, labelled NA
    assert out.loc[out["attr_bottom"], "attr"].eq("bad").all()
    assert out["attr_bottom"].sum() == 12


def test_weights_formula_reaches_target_share_exactly():
    scored, audit = setup()
    target = 0.5
    w = oversampling_weights(scored, audit, "attr", target)
    n_bottom, n_rest = 12, len(scored) - 12
    expected = target * n_rest / ((1 - target) * n_bottom)
    assert w.loc[w["bottom"], "weight"].unique().tolist() == [pytest.approx(expected)]
    assert (w.loc[~w["bottom"], "weight"] == 1).all()
    share = w.loc[w["bottom"], "weight"].sum() / w["weight"].sum()
    assert share == pytest.approx(target)
    info = w.attrs["wergap"]["oversampling"]
    assert info["share_after"] == pytest.approx(target) and info["share_before"] == pytest.approx(12 / 56)


def test_weights_never_below_one():
    scored, audit = setup()
    w = oversampling_weights(scored, audit, "attr", 0.1)  # bottom already holds 21 %
    assert (w["weight"] == 1).all()
    assert w.attrs["wergap"]["oversampling"]["weight"] == 1


@pytest.mark.parametrize("target", [0, 1, -0.2, 1.5, True])
def test_bad_target_share_is_an_input_error(target):
    scored, audit = setup()
    with pytest.raises(InputError, match="target_share"):
        oversampling_weights(scored, audit, "attr", target)


def test_no_bottom_utterances_in_log_is_an_input_error():
    scored, audit = setup()
    other = scored[~scored["speaker_id"].isin(["s00", "s01", "s02"])]
    with pytest.raises(InputError, match="no utterances"):
        oversampling_weights(other, audit, "attr", 0.3)


def test_bottom_utterances_and_speaker_ids():
    scored, audit = setup()
    ids = bottom_utterances(scored, audit, "attr")
    assert ids == [f"s{i:02d}-{u}" for i in range(3) for u in range(4)]
    feats = speaker_cohort_ids(audit)
    legend = {d["cohort"]: d["id"] for d in feats.attrs["wergap"]["cohort_ids"]["attr"]}
    assert set(legend) == {"bad", "good", "other"}
    by_speaker = feats.set_index("speaker_id")["attr"]
    assert by_speaker["s00"] == legend["bad"] and by_speaker["s12"] == legend["other"]
    assert by_speaker["s13"] == -1 and feats["attr"].dtype == np.int64


def test_missing_columns_are_named():
    scored, audit = setup()
    with pytest.raises(InputError, match="utt_id"):
        utterance_cohorts(scored.drop(columns="utt_id"), audit)
