"""error_profile: word errors over-represented in a cohort, on simulated logs with a planted confusion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import wergap as wg
from wergap.cohorts import ERROR_PROFILE_COLUMNS, Partition, error_profile
from wergap.cohorts.error_profile import CHAR_UNIT, NO_TEXT
from wergap.data_schemas import InputError

VOCAB = "the a to play music turn on off lights weather today call mom set timer for ten minutes".split()


def simulated_log(
    *, n_speakers=200, in_cohort=60, planted_speakers=None, seed=0, per_speaker=10, confusion=("going", "gonna")
) -> pd.DataFrame:
    """Utterances with random errors everywhere; cohort speakers also say ``going`` as ``gonna``.

    ``planted_speakers``: how many cohort speakers have the confusion (default: all).
    """
    rng = np.random.default_rng(seed)
    planted = in_cohort if planted_speakers is None else planted_speakers
    rows = []
    for s in range(n_speakers):
        cohort = "accent B" if s < in_cohort else "accent A"
        for u in range(per_speaker):
            ref = list(rng.choice(VOCAB, size=rng.integers(3, 9)))
            if rng.random() < 0.5:
                ref.insert(1, confusion[0])
            hyp = []
            for word in ref:
                r = rng.random()
                if s < planted and word == confusion[0] and r < 0.5:
                    hyp.append(confusion[1])
                elif r < 0.05:
                    continue  # deletion
                elif r < 0.10:
                    hyp.append(str(rng.choice(VOCAB)))
                else:
                    hyp.append(word)
            if rng.random() < 0.05:
                hyp.append("uh")
            rows.append((f"s{s:03d}-{u}", f"s{s:03d}", " ".join(ref), " ".join(hyp).capitalize() + ".", cohort))
    return pd.DataFrame(rows, columns=["utt_id", "speaker_id", "ref", "hyp", "accent"])


def labels_of(scored: pd.DataFrame) -> pd.Series:
    return scored.groupby("speaker_id")["accent"].first()


@pytest.fixture(scope="module")
def scored() -> pd.DataFrame:
    return wg.score(wg.read_log(simulated_log()))


def test_planted_confusion_is_the_top_row(scored):
    profile = error_profile(scored, labels_of(scored))
    assert list(profile.columns) == ERROR_PROFILE_COLUMNS
    # The two top rows are the planted confusion: "going" missed, and going -> gonna.
    assert set(profile["ref_word"].head(2)) == {"going"}
    top = profile[profile["kind"] == "substitution"].iloc[0]
    assert (top["ref_word"], top["hyp_word"]) == ("going", "gonna")
    assert top["z"] > 5 and top["errors_rest"] == 0
    missed = profile[profile["kind"] == "missed"].iloc[0]
    assert missed["ref_word"] == "going" and missed["rate_cohort"] > 3 * missed["rate_rest"]
    assert missed["z"] > 5
    # Nothing else comes close: the random errors are spread evenly.
    wide = error_profile(scored, labels_of(scored), min_speakers=5)
    assert len(wide) > 20 and set(wide["ref_word"].head(2)) == {"going"} and wide["z"].iloc[2] < 3
    info = profile.attrs["wergap"]["error_profile"]
    assert info["cohort"] == "accent B"  # the worst cohort by default
    assert info["count_mismatches"] == 0  # the re-alignment agrees with the scored counts


def test_event_totals_equal_the_scored_counts(scored):
    """Every S, D and I the scorer counted is one event here (same normalisation, same aligner)."""
    profile = error_profile(scored, labels_of(scored), min_speakers=1)
    events = profile.attrs["wergap"]["error_profile"]["events"]
    side = scored["speaker_id"].map(labels_of(scored)) == "accent B"
    for kind, columns in {
        "substitution": ["substitutions"],
        "insertion": ["insertions"],
        "missed": ["substitutions", "deletions"],
    }.items():
        assert events[kind]["cohort"] == int(scored.loc[side, columns].to_numpy().sum())
        assert events[kind]["rest"] == int(scored.loc[~side, columns].to_numpy().sum())
    # With the floor at 1, every event type is listed: the rows add up to the totals.
    subs = profile[profile["kind"] == "substitution"]
    assert subs["errors_cohort"].sum() == events["substitution"]["cohort"]


def test_privacy_floor_hides_a_confusion_of_few_speakers():
    scored = wg.score(wg.read_log(simulated_log(planted_speakers=8, seed=1)))
    labels = labels_of(scored)
    shown = error_profile(scored, labels, cohort="accent B", min_speakers=30)
    pairs = shown[shown["kind"] == "substitution"]
    assert not ((pairs["ref_word"] == "going") & (pairs["hyp_word"] == "gonna")).any()
    assert (shown["speakers_cohort"] >= 30).all()
    assert shown.attrs["wergap"]["error_profile"]["hidden"] > 0
    low = error_profile(scored, labels, cohort="accent B", min_speakers=5)
    assert ((low["ref_word"] == "going") & (low["hyp_word"] == "gonna")).any()


def test_no_speaker_id_or_transcript_in_the_table(scored):
    profile = error_profile(scored, labels_of(scored), min_speakers=1)
    cells = set(profile[["kind", "ref_word", "hyp_word"]].astype("str").to_numpy().ravel())
    assert not cells & set(scored["speaker_id"])
    texts = set(scored["ref"]) | set(scored["hyp"])
    assert not cells & (texts - set(VOCAB) - {"going", "gonna", "uh"})  # one-word texts are words
    assert not {"speaker_id", "utt_id", "ref", "hyp"} & set(profile.columns)


def test_a_partition_and_a_pooled_cohort(scored):
    labels = labels_of(scored)
    # Split accent A in two: pooling B with one half still finds the planted pair first.
    labels = labels.where(~((labels == "accent A") & (labels.index < "s130")), "accent A1")
    partition = Partition("test", labels, {c: c for c in labels.unique()})
    profile = error_profile(scored, partition, cohort=["accent B", "accent A1"])
    assert profile.attrs["wergap"]["error_profile"]["cohort"] == "accent B + accent A1"
    assert tuple(profile.iloc[0][["ref_word", "hyp_word"]]) == ("going", "gonna")


def test_counts_only_and_char_logs_are_skipped_with_the_reason(scored):
    counts = scored.drop(columns=["ref", "hyp"])
    out = error_profile(counts, labels_of(scored))
    assert out.empty and out.attrs["wergap"]["error_profile"]["reason"] == NO_TEXT
    chars = wg.score(wg.read_log(simulated_log(n_speakers=40, in_cohort=10)), unit="char")
    out = error_profile(chars, labels_of(chars))
    assert out.empty and out.attrs["wergap"]["error_profile"]["reason"] == CHAR_UNIT


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"cohort": "nobody"}, "is not one of the labels"),
        ({"min_speakers": 0}, "min_speakers"),
        ({"prior_scale": -1}, "prior_scale"),
    ],
)
def test_bad_options(scored, kwargs, match):
    with pytest.raises(InputError, match=match):
        error_profile(scored, labels_of(scored), **kwargs)
