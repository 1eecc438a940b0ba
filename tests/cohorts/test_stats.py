"""cohort_table, gap_summary and overall_wer against direct pandas computations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from wergap.cohorts import COHORT_TABLE_COLUMNS, OTHER, Partition, cohort_table, gap_summary, overall_wer
from wergap.cohorts import stats as stats_module
from wergap.data_schemas import InputError

TABLE_CASES = [
    # sizes, expected WERs, min_speakers
    ((40, 50, 60), (0.30, 0.10, 0.20), 30),
    ((40, 10, 12, 60), (0.30, 0.10, 0.20, 0.15), 30),  # two small cohorts pooled: 22 < 30, unreported
    ((40, 20, 15, 60), (0.30, 0.10, 0.20, 0.15), 30),  # pooled "other" of 35 reported
    ((5, 6, 7), (0.1, 0.2, 0.3), 1),
]


def expected_table(speakers: pd.DataFrame, part: Partition, min_speakers: int) -> pd.DataFrame:
    """The same numbers the slow, obvious way."""
    merged = part.merge_small(min_speakers)
    df = speakers.assign(cohort=speakers["speaker_id"].map(merged.labels))
    g = df.groupby("cohort").agg(
        speakers=("speaker_id", "size"),
        utterances=("utterances", "sum"),
        ref_words=("ref_words", "sum"),
        errors=("errors", "sum"),
    )
    g["wer"] = g["errors"] / g["ref_words"]
    rest_err = g["errors"].sum() - g["errors"]
    rest_words = g["ref_words"].sum() - g["ref_words"]
    g["gap_vs_rest_pct"] = 100 * (g["wer"] - rest_err / rest_words) / (rest_err / rest_words)
    g["share_speakers_pct"] = 100 * g["speakers"] / g["speakers"].sum()
    g["share_utterances_pct"] = 100 * g["utterances"] / g["utterances"].sum()
    g = g.drop(index=list(merged.unreported))
    return g.sort_values("wer", ascending=False)


@pytest.mark.parametrize(("sizes", "wers", "min_speakers"), TABLE_CASES)
def test_cohort_table_matches_pandas(make_speakers, sizes, wers, min_speakers):
    speakers, part = make_speakers(sizes, wers, seed=sum(sizes))
    table = cohort_table(speakers, part, min_speakers=min_speakers, n_boot=200)
    expected = expected_table(speakers, part, min_speakers)
    assert list(table.columns) == COHORT_TABLE_COLUMNS
    assert table["cohort"].tolist() == expected.index.tolist()
    for column in ("speakers", "utterances", "ref_words", "errors"):
        assert table[column].tolist() == expected[column].tolist(), column
    for column in ("wer", "gap_vs_rest_pct", "share_speakers_pct", "share_utterances_pct"):
        np.testing.assert_allclose(table[column], expected[column], rtol=1e-12, err_msg=column)
    assert (table["wer_ci_low"] <= table["wer"]).all() and (table["wer"] <= table["wer_ci_high"]).all()
    assert table["wer"].is_monotonic_decreasing


def test_intervals_match_a_naive_bootstrap(make_speakers):
    """Same draws, one resample at a time in pandas: the vectorised intervals agree."""
    speakers, part = make_speakers((30, 45), (0.2, 0.1), seed=3)
    n_boot, seed = 60, 11
    table = cohort_table(speakers, part, n_boot=n_boot, seed=seed).set_index("cohort")
    rng = np.random.default_rng(seed)
    by_cohort = {c: speakers[speakers["speaker_id"].map(part.labels) == c] for c in part.cohorts}
    draws = {c: rng.integers(0, len(g), size=(n_boot, len(g)), dtype=np.int32) for c, g in by_cohort.items()}
    sums = {c: pd.DataFrame([g.iloc[d][["errors", "ref_words"]].sum() for d in draws[c]]) for c, g in by_cohort.items()}
    for c in part.cohorts:
        wer = sums[c]["errors"] / sums[c]["ref_words"]
        np.testing.assert_allclose(
            table.loc[c, ["wer_ci_low", "wer_ci_high"]].astype(float), np.quantile(wer, [0.025, 0.975]), rtol=1e-12
        )
        other = next(o for o in part.cohorts if o != c)
        rest = sums[other]["errors"] / sums[other]["ref_words"]
        gap = 100 * (wer - rest) / rest
        np.testing.assert_allclose(
            table.loc[c, ["gap_vs_rest_ci_low", "gap_vs_rest_ci_high"]].astype(float),
            np.quantile(gap, [0.025, 0.975]),
            rtol=1e-12,
        )


def test_speaker_bootstrap_covers_true_wer_at_about_nominal_rate():
    """Speakers differ (beta-distributed WER): the true corpus WER is the beta mean."""
    rng = np.random.default_rng(2024)
    true_wer, hits, reps = 0.15, 0, 200
    for rep in range(reps):
        n = 80
        words = rng.integers(20, 150, n)
        p = rng.beta(3, 17, n)  # mean 0.15, independent of words
        speakers = pd.DataFrame(
            {"speaker_id": [f"s{i}" for i in range(n)], "ref_words": words, "errors": rng.binomial(words, p)}
        )
        overall = overall_wer(speakers, n_boot=300, seed=rep)
        hits += overall["wer_ci_low"] <= true_wer <= overall["wer_ci_high"]
    assert 0.85 <= hits / reps <= 0.99


def test_gap_summary_matches_table_and_pandas(make_speakers):
    speakers, part = make_speakers((40, 50, 60, 10), (0.30, 0.10, 0.20, 0.5), seed=5)
    table = cohort_table(speakers, part, n_boot=300, seed=4)
    summary = gap_summary(speakers, part, n_boot=300, seed=4)
    expected = expected_table(speakers, part, 30)
    bottom, top = expected.index[0], expected.index[-1]
    assert (summary.bottom, summary.top) == (bottom, top)
    assert summary.bottom_definition == "cohort c0" and summary.top_definition == "cohort c1"
    assert summary.wer_bottom == pytest.approx(expected.loc[bottom, "wer"], rel=1e-12)
    assert summary.wer_top == pytest.approx(expected.loc[top, "wer"], rel=1e-12)
    assert summary.gap_pct == pytest.approx(
        100 * (expected.loc[bottom, "wer"] - expected.loc[top, "wer"]) / expected.loc[top, "wer"], rel=1e-12
    )
    assert summary.bottom_share_pct == pytest.approx(100 * 40 / 160)
    assert summary.bottom_utterance_share_pct == pytest.approx(expected.loc[bottom, "share_utterances_pct"])
    assert summary.n_speakers == 160 and summary.n_cohorts == 3  # the 10-speaker cohort is unreported
    # same seed, same resamples: the bottom row of the table and the summary agree exactly
    row = table.iloc[0]
    assert (summary.gap_vs_rest_pct, summary.gap_vs_rest_ci_low, summary.gap_vs_rest_ci_high) == (
        row["gap_vs_rest_pct"],
        row["gap_vs_rest_ci_low"],
        row["gap_vs_rest_ci_high"],
    )
    assert summary.gap_ci_low < summary.gap_pct < summary.gap_ci_high
    assert summary.reason is None
    assert summary.to_dict()["bottom_cohorts"] == [bottom]


def test_binary_partition_gap_is_inside_vs_rest(make_speakers):
    speakers, part = make_speakers((45, 70), (0.25, 0.12), seed=8)
    binary = Partition("census_splits", part.labels, part.definitions, binary=True)
    summary = gap_summary(speakers, binary, n_boot=200)
    assert summary.gap_pct == pytest.approx(summary.gap_vs_rest_pct, rel=1e-12)
    assert (summary.gap_ci_low, summary.gap_ci_high) == pytest.approx(
        (summary.gap_vs_rest_ci_low, summary.gap_vs_rest_ci_high)
    )


POOL_CASES = [
    # sizes, WERs (c0 worst ... ), bottom_share, expected pooled bottom
    ((10 * [40]), [0.30 - 0.02 * i for i in range(10)], 0.10, ("c0",)),
    ((10 * [40]), [0.30 - 0.02 * i for i in range(10)], 0.25, ("c0", "c1", "c2")),
    ((40, 40, 40), (0.3, 0.2, 0.1), 0.99, ("c0", "c1")),  # the best cohort is never pooled
]


@pytest.mark.parametrize(("sizes", "wers", "share", "pool"), POOL_CASES)
def test_bottom_share_pools_worst_cohorts(make_speakers, sizes, wers, share, pool):
    speakers, part = make_speakers(sizes, wers, seed=1, words=(400, 500))
    summary = gap_summary(speakers, part, bottom_share=share, n_boot=100)
    assert summary.bottom_cohorts == pool
    assert summary.bottom == " + ".join(pool)
    inside = speakers["speaker_id"].map(part.labels).isin(pool)
    wer_pool = speakers.loc[inside, "errors"].sum() / speakers.loc[inside, "ref_words"].sum()
    assert summary.wer_bottom == pytest.approx(wer_pool, rel=1e-12)
    assert summary.bottom_share_pct == pytest.approx(100 * inside.mean())
    rest = ~inside
    wer_rest = speakers.loc[rest, "errors"].sum() / speakers.loc[rest, "ref_words"].sum()
    assert summary.gap_vs_rest_pct == pytest.approx(100 * (wer_pool - wer_rest) / wer_rest, rel=1e-12)


def test_zero_wer_top_gives_nan_gap_with_reason(make_speakers):
    speakers, part = make_speakers((40, 40), (0.2, 0.0), seed=2)
    summary = gap_summary(speakers, part, n_boot=100)
    assert summary.wer_top == 0
    assert math.isnan(summary.gap_pct) and math.isnan(summary.gap_ci_low)
    assert stats_module.ZERO_TOP.format(top="c1") in summary.reason
    table = cohort_table(speakers, part, n_boot=100)
    assert math.isnan(table.loc[table["cohort"] == "c0", "gap_vs_rest_pct"].iloc[0])


def test_fewer_than_two_reportable_cohorts(make_speakers):
    speakers, part = make_speakers((40, 10), (0.2, 0.1), seed=2)
    summary = gap_summary(speakers, part, n_boot=50)
    assert summary.bottom is None and math.isnan(summary.gap_pct)
    assert summary.reason == stats_module.FEWER_THAN_TWO.format(min_speakers=30, besides="")
    table = cohort_table(speakers, part, n_boot=50)
    assert table["cohort"].tolist() == ["c0"]
    assert table.attrs["wergap"]["cohort_stats"]["unreported"] == {OTHER: 10}
    assert table["share_speakers_pct"].iloc[0] == pytest.approx(80.0)


def test_speakers_outside_the_partition_are_ignored_and_seed_reproduces(make_speakers):
    speakers, part = make_speakers((40, 40), (0.2, 0.1), seed=2)
    extra = pd.DataFrame({"speaker_id": ["x1"], "utterances": [1], "ref_words": [10], "errors": [10], "wer": [1.0]})
    a = cohort_table(pd.concat([speakers, extra], ignore_index=True), part, n_boot=100, seed=3)
    b = cohort_table(speakers, part, n_boot=100, seed=3)
    pd.testing.assert_frame_equal(a, b)
    c = cohort_table(speakers, part, n_boot=100, seed=4)
    assert not np.allclose(b["wer_ci_low"], c["wer_ci_low"])


def test_no_bootstrap_gives_nan_intervals(make_speakers):
    speakers, part = make_speakers((40, 40), (0.2, 0.1))
    table = cohort_table(speakers, part, n_boot=0)
    assert table["wer_ci_low"].isna().all() and table["wer"].notna().all()


BAD_INPUTS = [
    ("missing errors", lambda s: s.drop(columns="errors"), "missing required column 'errors'", "errors", None),
    (
        "negative words",
        lambda s: s.assign(ref_words=s["ref_words"].where(s.index != 3, -1)),
        "non-negative whole",
        "ref_words",
        3,
    ),
    (
        "fractional errors",
        lambda s: s.assign(errors=s["errors"].astype(float).where(s.index != 5, 1.5)),
        "non-negative whole",
        "errors",
        5,
    ),
    (
        "NaN errors",
        lambda s: s.assign(errors=s["errors"].astype(float).where(s.index != 2)),
        "non-negative whole",
        "errors",
        2,
    ),
    (
        "duplicate speaker",
        lambda s: pd.concat([s, s.iloc[[7]]], ignore_index=True),
        "more than one row",
        "speaker_id",
        80,
    ),
    ("partition speaker missing", lambda s: s.iloc[1:], "not in the speaker table", "speaker_id", None),
]


@pytest.mark.parametrize(("case", "mutate", "message", "column", "row"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_speaker_tables_raise_input_error(make_speakers, case, mutate, message, column, row):
    speakers, part = make_speakers((40, 40), (0.2, 0.1))
    for call in (cohort_table, gap_summary):
        with pytest.raises(InputError) as err:
            call(mutate(speakers), part, n_boot=10)
        assert message in str(err.value)
        assert err.value.column == column and err.value.row == row


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"confidence": 1.0}, "confidence must be strictly between 0 and 1"),
        ({"n_boot": -1}, "n_boot must be a non-negative integer"),
    ],
)
def test_bad_options(make_speakers, kwargs, message):
    speakers, part = make_speakers((40, 40), (0.2, 0.1))
    with pytest.raises(InputError, match=message):
        cohort_table(speakers, part, **kwargs)
    with pytest.raises(InputError, match="bottom_share must be strictly between 0 and 1"):
        gap_summary(speakers, part, bottom_share=1.5)


def test_missing_speaker_id_is_named():
    speakers = pd.DataFrame({"speaker_id": ["a", None], "ref_words": [3, 4], "errors": [1, 1]})
    part = Partition("m", pd.Series(["x"], index=["a"]), {"x": "X"})
    with pytest.raises(InputError) as err:
        cohort_table(speakers, part, n_boot=5)
    assert str(err.value) == f"row 1, column 'speaker_id': {stats_module.MISSING_SPEAKER}"


def test_split_intervals_are_each_splits_cohort_table_intervals(make_speakers):
    speakers, part = make_speakers((60, 80, 50), (0.25, 0.12, 0.15), seed=4)
    partitions, rows = [], []
    for cohort in ("c0", "c1", "c2"):
        labels = part.labels.where(part.labels == cohort, "rest").where(part.labels != cohort, "in")
        partitions.append(Partition("census_splits", labels, {"in": cohort, "rest": "rest"}, binary=True))
        rows.append({"definition": cohort, "cohort_in": "in", "cohort_out": "rest"})
    splits = pd.DataFrame(rows)
    out = stats_module.split_intervals(speakers, splits, partitions, top=2, n_boot=300, seed=5)
    assert len(out) == 2 and list(out.columns[-4:]) == list(stats_module.SPLIT_INTERVAL_COLUMNS)
    for i in range(2):
        table = cohort_table(speakers, partitions[i], min_speakers=1, n_boot=300, seed=5).set_index("cohort")
        assert out.at[i, "wer_in_ci_low"] == table.at["in", "wer_ci_low"]
        assert out.at[i, "wer_out_ci_high"] == table.at["rest", "wer_ci_high"]
        assert out.at[i, "wer_in_ci_low"] < table.at["in", "wer"] < out.at[i, "wer_in_ci_high"]


def test_pooled_other_is_never_bottom_or_top(make_speakers):
    """k-means on small data: the pool of small clusters holds most speakers and the worst WER."""
    speakers, part = make_speakers((40, 12, 12, 12, 12, 35), (0.10, 0.3, 0.3, 0.3, 0.3, 0.12), seed=3)
    merged = part.merge_small(30)
    assert merged.pooled == ("other",)
    table = cohort_table(speakers, part, n_boot=20)
    assert table["cohort"].iloc[0] == "other"  # still a row of the table ...
    summary = gap_summary(speakers, part, n_boot=20)
    assert "other" not in (summary.bottom, summary.top)  # ... never the bottom or the top
    assert summary.n_cohorts == 3


def test_only_the_pool_besides_one_cohort_says_why(make_speakers):
    speakers, part = make_speakers((40, 12, 12, 12), (0.10, 0.3, 0.3, 0.3), seed=3)
    summary = gap_summary(speakers, part, n_boot=20)
    assert summary.bottom is None and "besides the pooled 'other'" in summary.reason
    assert "--min-speakers" in summary.reason


def test_binary_worse_side_over_max_bottom_share_is_not_a_bottom(make_speakers):
    speakers, part = make_speakers((200, 40), (0.12, 0.08), seed=4)
    binary = Partition(part.method, part.labels, part.definitions, binary=True)
    summary = gap_summary(speakers, binary, n_boot=20)
    assert summary.bottom is None and "max_bottom_share" in summary.reason
    loose = gap_summary(speakers, binary, n_boot=20, max_bottom_share=None)
    assert loose.bottom is not None and loose.bottom_share_pct > 80
