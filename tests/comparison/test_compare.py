"""compare(): paired cohort WER change between two systems on the same utterances; check()."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from wergap.cohorts import Partition, partition_from_column
from wergap.comparison import (
    COMPARE_COLUMNS,
    COMPARE_SUMMARY_COLUMNS,
    check,
    compare,
    partitions_from_assignments,
)
from wergap.comparison.paired_bootstrap import paired_totals
from wergap.data_schemas import InputError


def make_pair(
    *,
    gap_base: float,
    gap_cand: float,
    n_speakers: int = 240,
    utts: int = 6,
    base: float = 0.10,
    seed: int = 0,
    rest_cand: float | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Two scored logs of the same utterances (same reference words) and the speaker groups.

    A quarter of the speakers (``group = "accent"``) have WER ``base * (1 + gap)``; the rest
    ``base`` (baseline) or ``rest_cand`` (candidate).
    """
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_speakers):
        group = "accent" if s % 4 == 0 else "standard"
        for u in range(utts):
            words = int(rng.integers(5, 20))
            p_base = base * (1 + gap_base) if group == "accent" else base
            rest = base if rest_cand is None else rest_cand
            p_cand = base * (1 + gap_cand) if group == "accent" else rest
            rows.append(
                (
                    f"s{s:04d}-{u}",
                    f"s{s:04d}",
                    group,
                    words,
                    int(rng.binomial(words, p_base)),
                    int(rng.binomial(words, p_cand)),
                )
            )
    frame = pd.DataFrame(rows, columns=["utt_id", "speaker_id", "group", "ref_words", "errors_b", "errors_c"])
    base_log = frame.drop(columns="errors_c").rename(columns={"errors_b": "errors"})
    cand_log = frame.drop(columns="errors_b").rename(columns={"errors_c": "errors"})
    groups = frame.drop_duplicates("speaker_id")[["speaker_id", "group"]].reset_index(drop=True)
    return base_log, cand_log, groups


def partition_of(groups: pd.DataFrame) -> Partition:
    return partition_from_column(groups, "group")


def test_narrowed_gap_is_called_narrowed_with_ci_below_zero():
    b, c, g = make_pair(gap_base=1.0, gap_cand=0.0)
    result = compare(b, c, partitions=[partition_of(g)], n_boot=400)
    row = result.summary().iloc[0]
    assert row["outcome"] == "narrowed"
    assert row["bottom"] == "accent" and row["top"] == "standard"
    assert row["gap_change_ci_high"] < 0 and row["gap_change_pts"] < 0
    assert row["gap_base_ci_low"] <= row["gap_base_pct"] <= row["gap_base_ci_high"]
    verdict = result.verdict("attribute:group")
    assert "gap narrowed from" in verdict and "overall WER changed by" in verdict and "CI of the change" in verdict


def test_widened_gap_is_called_widened():
    b, c, g = make_pair(gap_base=0.3, gap_cand=1.5)
    result = compare(b, c, partitions=[partition_of(g)], n_boot=400)
    row = result.summary().iloc[0]
    assert row["outcome"] == "widened" and row["gap_change_ci_low"] > 0
    assert "gap widened from" in result.verdict()


def test_unchanged_system_shows_no_detectable_change_and_ci_contains_zero():
    b, c, g = make_pair(gap_base=0.8, gap_cand=0.8, seed=3)
    result = compare(b, c, partitions=[partition_of(g)], n_boot=400)
    row = result.summary().iloc[0]
    assert row["outcome"] == "no detectable change"
    assert row["gap_change_ci_low"] <= 0 <= row["gap_change_ci_high"]
    assert "no detectable change" in result.verdict()


def test_numbers_match_direct_pandas_computation():
    b, c, g = make_pair(gap_base=1.0, gap_cand=0.2, rest_cand=0.08)
    result = compare(b, c, partitions=[partition_of(g)], n_boot=50)
    table = result.cohorts("attribute:group").set_index("cohort")
    assert list(result.cohorts().columns) == COMPARE_COLUMNS
    assert list(result.summary().columns) == COMPARE_SUMMARY_COLUMNS
    for log, col in ((b, "wer_base"), (c, "wer_candidate")):
        sums = log.groupby("group")[["errors", "ref_words"]].sum()
        expected = sums["errors"] / sums["ref_words"]
        for cohort in ("accent", "standard"):
            assert table.loc[cohort, col] == pytest.approx(expected[cohort])
    assert table.loc["accent", "role"] == "bottom" and table.loc["standard", "role"] == "top"
    row = result.summary().iloc[0]
    wer = lambda log, grp: log.loc[log.group == grp, "errors"].sum() / log.loc[log.group == grp, "ref_words"].sum()  # noqa: E731
    gap_b = 100 * (wer(b, "accent") - wer(b, "standard")) / wer(b, "standard")
    gap_c = 100 * (wer(c, "accent") - wer(c, "standard")) / wer(c, "standard")
    assert row["gap_base_pct"] == pytest.approx(gap_b)
    assert row["gap_candidate_pct"] == pytest.approx(gap_c)
    assert row["gap_change_pts"] == pytest.approx(gap_c - gap_b)
    overall = result.overall
    assert overall["wer_base"] == pytest.approx(b["errors"].sum() / b["ref_words"].sum())
    assert overall["change_pts"] == pytest.approx(
        100 * (c["errors"].sum() / c["ref_words"].sum() - overall["wer_base"])
    )
    assert table.loc["accent", "change_pts"] == pytest.approx(100 * (wer(c, "accent") - wer(b, "accent")))


def test_paired_bootstrap_is_paired():
    # Identical systems: every paired resample has change exactly 0, an unpaired one would not.
    b, _, g = make_pair(gap_base=1.0, gap_cand=1.0)
    result = compare(b, b.copy(), partitions=[partition_of(g)], n_boot=200)
    row = result.summary().iloc[0]
    assert row["gap_change_ci_low"] == 0 and row["gap_change_ci_high"] == 0
    assert result.overall["change_ci_low"] == 0 and result.overall["change_ci_high"] == 0
    assert (result.cohorts()[["change_ci_low", "change_ci_high"]] == 0).all().all()


def test_paired_totals_draw_the_same_speakers_for_every_column():
    values = np.arange(20, dtype=float).reshape(10, 2)
    values[:, 1] = values[:, 0]
    boot = paired_totals(np.repeat([0, 1], 5), values, 2, 30, np.random.default_rng(1))
    assert boot.shape == (30, 2, 2)
    assert np.array_equal(boot[..., 0], boot[..., 1])


def test_utterances_in_one_log_only_are_counted_not_lost():
    b, c, g = make_pair(gap_base=1.0, gap_cand=0.0)
    c = c.iloc[7:].reset_index(drop=True)
    extra = c.iloc[:2].assign(utt_id=["new-1", "new-2"])
    c = pd.concat([c, extra], ignore_index=True)
    result = compare(b, c, partitions=[partition_of(g)], n_boot=20)
    assert result.counts["shared"] == len(b) - 7
    assert result.counts["only_base"] == 7 and result.counts["only_candidate"] == 2
    assert result.to_dict()["counts"]["only_base"] == 7
    # the comparison uses the shared utterances only
    shared = b.iloc[7:]
    assert result.overall["wer_base"] == pytest.approx(shared["errors"].sum() / shared["ref_words"].sum())


def test_speaker_disagreement_is_an_input_error():
    b, c, g = make_pair(gap_base=1.0, gap_cand=0.0)
    c.loc[3, "speaker_id"] = "someone-else"
    with pytest.raises(InputError, match="belongs to speaker"):
        compare(b, c, partitions=[partition_of(g)], n_boot=10)


def test_no_shared_utterances_is_an_input_error():
    b, c, g = make_pair(gap_base=1.0, gap_cand=0.0, n_speakers=8)
    c["utt_id"] = "x" + c["utt_id"]
    with pytest.raises(InputError, match="share no utt_id"):
        compare(b, c, partitions=[partition_of(g)], n_boot=10)


def test_assignments_file_round_trip():
    b, c, g = make_pair(gap_base=1.0, gap_cand=0.0)
    assignments = pd.DataFrame({"speaker_id": g["speaker_id"], "grp": g["group"]})
    assignments.loc[0, "grp"] = None
    parts = partitions_from_assignments(assignments)
    assert parts["grp"].excluded == {"not assigned in the assignments file": 1}
    result = compare(b, c, partitions=parts, n_boot=50)
    assert result.methods == ["grp"]
    assert result.summary().iloc[0]["speakers"] == len(g) - 1


def test_to_dict_is_json_ready():
    import json

    b, c, g = make_pair(gap_base=1.0, gap_cand=0.0, n_speakers=120)
    d = compare(b, c, partitions=[partition_of(g)], n_boot=20).to_dict()
    text = json.dumps(d, allow_nan=False)
    assert "verdicts" in d and "narrowed" in text


def test_small_cohorts_are_pooled_and_not_measured():
    b, c, g = make_pair(gap_base=1.0, gap_cand=0.0, n_speakers=40)  # 10 accent speakers
    result = compare(b, c, partitions=[partition_of(g)], min_speakers=30, n_boot=20)
    row = result.summary().iloc[0]
    assert row["outcome"] == "unmeasured" and "fewer than two cohorts" in row["note"]
    assert "gap not measurable" in result.verdict()


# --------------------------------------------------------------------------- check


class FakeHeld:
    def __init__(self, gap, low, high, reason=None):
        self.gap_pct, self.ci_low, self.ci_high, self.reason = gap, low, high, reason


class FakeAudit:
    """The parts of an Audit that check() reads."""

    def __init__(self, held, skipped=None):
        self.held_out = held
        self.skipped = skipped or {}
        self.methods = list(held)
        self.params = {"methods": [*held, *self.skipped]}


def test_check_point_estimate_vs_strict_lower_bound():
    audit = FakeAudit({"geo_tree": FakeHeld(30.0, 5.0, 55.0)})
    assert check(audit, 20).exit_code == 1
    assert check(audit, 20, strict=True).exit_code == 0
    assert check(audit, 40).exit_code == 0
    assert check(FakeAudit({"geo_tree": FakeHeld(30.0, 25.0, 35.0)}), 20, strict=True).exit_code == 1


def test_check_nan_gap_is_reported_and_fails_closed_only_with_strict():
    audit = FakeAudit(
        {
            "geo_tree": FakeHeld(10.0, 2.0, 18.0),
            "census_splits": FakeHeld(math.nan, math.nan, math.nan, "neither fold could be measured"),
        }
    )
    loose = check(audit, 20)
    assert loose.exit_code == 0
    assert any(line.startswith("UNMEASURED  census_splits") and "neither fold" in line for line in loose.lines())
    strict = check(audit, 20, strict=True)
    assert strict.exit_code == 1
    assert any(line.startswith("FAIL  census_splits") for line in strict.lines())


def test_check_fails_when_nothing_was_measured():
    audit = FakeAudit({"geo_tree": FakeHeld(math.nan, math.nan, math.nan, "no fold")})
    result = check(audit, 20)
    assert result.exit_code == 1 and "nothing was gated" in result.lines()[-1]


def test_check_skipped_methods_fail_only_when_named():
    audit = FakeAudit({"census_splits": FakeHeld(5.0, 1.0, 9.0)}, skipped={"geo_tree": "no lat/lon columns in the log"})
    assert check(audit, 20, strict=True).exit_code == 0
    named = check(audit, 20, methods=["geo_tree", "census_splits"], strict=True)
    assert named.exit_code == 1 and "no lat/lon" in named.lines()[0]
    assert check(audit, 20, methods=["geo_tree", "census_splits"]).exit_code == 0


def test_check_rejects_bad_threshold():
    with pytest.raises(InputError):
        check(FakeAudit({}), -1)


def test_html_page_escapes_and_shows_verdict(tmp_path):
    from wergap.reports.compare import write_compare_html

    b, c, g = make_pair(gap_base=1.0, gap_cand=0.0, n_speakers=120)
    g.loc[g.group == "accent", "group"] = "<script>x</script>"
    b = b.assign(group=b["speaker_id"].map(g.set_index("speaker_id")["group"]))
    result = compare(b, c, partitions=[partition_of(g)], n_boot=50)
    path = tmp_path / "cmp.html"
    write_compare_html(result, path)
    text = path.read_text()
    assert "<script>x" not in text and "&lt;script&gt;" in text
    assert "narrowed" in text and "only in base" in text


def census_pair(*, gap_base: float, gap_cand: float, seed: int = 0, n_speakers: int = 400, n_zip: int = 40):
    """Two systems on the same utterances; low-income ZIPs get WER 0.1 * (1 + gap); census table."""
    rng = np.random.default_rng(seed)
    zips = [f"{10000 + 7 * i:05d}" for i in range(n_zip)]
    income = np.linspace(20000, 120000, n_zip)
    rows = []
    for s in range(n_speakers):
        z = s % n_zip
        low = income[z] < 45000
        for u in range(5):
            w = int(rng.integers(5, 15))
            pb, pc = 0.1 * (1 + gap_base * low), 0.1 * (1 + gap_cand * low)
            rows.append((f"s{s:04d}-{u}", f"s{s:04d}", zips[z], w, int(rng.binomial(w, pb)), int(rng.binomial(w, pc))))
    frame = pd.DataFrame(rows, columns=["utt_id", "speaker_id", "zip", "ref_words", "eb", "ec"])
    base = frame.drop(columns="ec").rename(columns={"eb": "errors"})
    cand = frame.drop(columns="eb").rename(columns={"ec": "errors"})
    return base, cand, pd.DataFrame({"zip": zips, "median_income": income})


def test_discovered_on_baseline_held_out_change_with_real_estimator():
    import wergap as wg

    base, cand, census = census_pair(gap_base=1.0, gap_cand=0.0)
    audit = wg.audit(wg.score(wg.read_log(base)), census=census, methods=["census_splits"], n_boot=0)
    result = compare(base, cand, audit=audit, n_boot=200)
    row = result.summary().iloc[0]
    assert row["outcome"] == "narrowed" and row["held_out_outcome"] == "narrowed"
    assert row["held_out_change_ci_high"] < 0
    assert "held out" in result.verdict("census_splits")


def test_equivalent_systems_held_out_change_covers_zero():
    import wergap as wg

    # no disparity anywhere, independent errors: any gap the baseline search finds is noise
    base, cand, census = census_pair(gap_base=0.0, gap_cand=0.0, seed=0)
    audit = wg.audit(wg.score(wg.read_log(base)), census=census, methods=["census_splits"], n_boot=0)
    result = compare(base, cand, audit=audit, n_boot=300)
    row = result.summary().iloc[0]
    assert row["held_out_change_ci_low"] <= 0 <= row["held_out_change_ci_high"]
    assert row["held_out_outcome"] == "no detectable change"


def test_partitions_without_estimator_say_held_out_not_computed():
    b, c, g = make_pair(gap_base=1.0, gap_cand=0.0, n_speakers=120)
    row = compare(b, c, partitions=[partition_of(g)], n_boot=20).summary().iloc[0]
    assert row["held_out_outcome"] == "not computed" and math.isnan(row["held_out_change_pts"])


def test_speakers_outside_the_partition_are_counted():
    b, c, g = make_pair(gap_base=1.0, gap_cand=0.0)
    part = partition_from_column(g.iloc[5:], "group")
    result = compare(b, c, partitions=[part], n_boot=10)
    assert result.excluded["attribute:group"]["not in the partition"] == 5


def test_geo_tree_pair_narrowed_in_sample_and_held_out():
    pytest.importorskip("wergap.discovery.geo_tree")
    import wergap as wg

    rng = np.random.default_rng(0)
    rows = []
    for s in range(400):
        lat, lon = rng.uniform(30, 45), rng.uniform(-120, -75)
        for u in range(5):
            w = int(rng.integers(5, 15))
            rows.append(
                (
                    f"s{s}-{u}",
                    f"s{s}",
                    lat,
                    lon,
                    w,
                    int(rng.binomial(w, 0.2 if lat < 34 else 0.1)),
                    int(rng.binomial(w, 0.1)),
                )
            )
    frame = pd.DataFrame(rows, columns=["utt_id", "speaker_id", "lat", "lon", "ref_words", "eb", "ec"])
    base = frame.drop(columns="ec").rename(columns={"eb": "errors"})
    cand = frame.drop(columns="eb").rename(columns={"ec": "errors"})
    audit = wg.audit(wg.score(wg.read_log(base)), methods=["geo_tree"], n_boot=50)
    assert check(audit, 20).exit_code == 1
    row = compare(base, cand, audit=audit, n_boot=200).summary().iloc[0]
    assert row["outcome"] == "narrowed" and row["held_out_outcome"] == "narrowed"
    # the search's own gap overstates; the held-out baseline gap is the audit's held-out gap
    assert row["held_out_gap_base_pct"] == pytest.approx(audit.held_out["geo_tree"].gap_pct)
