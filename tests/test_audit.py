"""audit(): input detection, skip reasons, the summary table and the Audit accessors."""

from __future__ import annotations

import importlib
import importlib.util

import numpy as np
import pandas as pd
import pytest

from wergap.audit import METHODS, SUMMARY_COLUMNS, Audit, audit
from wergap.cohorts import disaggregate
from wergap.data_schemas import InputError
from wergap.discovery import registry

# wergap exports the function audit, which hides the module of the same name.
audit_module = importlib.import_module("wergap.audit")


def speaker_table(n=240, seed=0, effect=1.0):
    """Speakers on a lat/lon box; the south-west corner is served worse."""
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(30, 45, n), rng.uniform(-120, -75, n)
    words = rng.integers(40, 200, n)
    p = np.where((lat < 36) & (lon < -100), 0.1 * (1 + effect), 0.1)
    return pd.DataFrame(
        {
            "speaker_id": [f"spk{i:04d}" for i in range(n)],
            "utterances": rng.integers(2, 20, n),
            "ref_words": words,
            "errors": rng.binomial(words, p),
            "lat": lat,
            "lon": lon,
            "gender": rng.choice(["female", "male"], n),
            "device": rng.choice(["phone", "far_field", "car"], n),
            "session_note": [f"note {i}" for i in range(n)],  # many values: not an attribute
        }
    )


def has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


SKIP_CASES = [
    # columns dropped, census given, method, expected reason
    (["lat", "lon"], False, "geo_tree", registry.NO_COORDINATES),
    ([], False, "census_splits", registry.NO_CENSUS),
    ([], False, "embedding_kmeans", registry.NO_EMBEDDINGS),
]


@pytest.mark.parametrize(("drop", "census", "method", "reason"), SKIP_CASES)
def test_methods_without_inputs_are_skipped_with_reason(drop, census, method, reason):
    result = audit(speaker_table().drop(columns=drop), methods=[method], n_boot=50)
    assert result.skipped == {method: reason}
    assert result.methods == []
    assert list(result.summary().columns) == SUMMARY_COLUMNS and result.summary().empty
    with pytest.raises(KeyError, match="no results for method"):
        result.cohorts(method)


def test_missing_coordinate_and_zip_values_are_reasons_too():
    speakers = speaker_table().assign(lat=np.nan, zip=pd.NA)
    census = pd.DataFrame({"zip": ["10001"], "share_x": [0.5]})
    result = audit(speakers, census=census, methods=["geo_tree", "census_splits"], n_boot=20)
    assert result.skipped == {
        "geo_tree": registry.NO_COORDINATES_VALUES,
        "census_splits": registry.NO_ZIP_VALUES,
    }


def test_unknown_method_and_attribute_are_input_errors():
    with pytest.raises(InputError, match="unknown method 'kmeans'"):
        audit(speaker_table(), methods=["kmeans"])
    with pytest.raises(InputError, match="known attribute 'accent' is not a column"):
        audit(speaker_table(), methods=[], known_attributes=["accent"])
    with pytest.raises(InputError, match="cannot tell what this table is"):
        audit(pd.DataFrame({"a": [1]}), methods=[])
    with pytest.raises(InputError, match="expected a decode log path or a DataFrame"):
        audit(42, methods=[])


def test_overall_known_attributes_and_provenance():
    speakers = speaker_table()
    speakers.attrs["wergap"] = {"sources": ["decode.tsv"], "rows_read": 999, "dropped": {"empty ref": 2}}
    result = audit(speakers, methods=[], n_boot=100, min_speakers=30)
    overall = result.overall
    assert overall["wer"] == pytest.approx(speakers["errors"].sum() / speakers["ref_words"].sum())
    assert overall["wer_ci_low"] < overall["wer"] < overall["wer_ci_high"]
    assert sorted(result.disaggregated) == ["device", "gender"]  # not ids, not free text
    pd.testing.assert_frame_equal(
        result.disaggregated["gender"], disaggregate(speakers, "gender", min_speakers=30, n_boot=100)
    )
    assert result.provenance["dropped"] == {"empty ref": 2}
    assert result.params["n_boot"] == 100 and result.params["methods"] == []
    assert result.assignments().columns.tolist() == ["speaker_id"]
    assert len(result.assignments()) == len(speakers)


def test_repr_html_escapes_and_lists_skips():
    result = audit(speaker_table().drop(columns=["lat", "lon"]), n_boot=20, known_attributes=[])
    page = result._repr_html_()
    assert "<table" in page and "Overall WER" in page
    for method in METHODS:
        assert method in page
    assert "&#x27;embedding&#x27;" in page or "&#39;embedding&#39;" in page  # quotes escaped
    assert isinstance(result, Audit) and "Audit(" in repr(result)


@pytest.mark.skipif(not has("wergap.discovery.geo_tree"), reason="wergap.discovery.geo_tree not written yet")
def test_geo_tree_end_to_end_matches_cohort_functions():
    from wergap.cohorts import cohort_table, gap_summary

    speakers = speaker_table(n=400, effect=1.5)
    result = audit(speakers, methods=["geo_tree"], n_boot=200, max_regions=4, known_attributes=[])
    assert result.skipped == {}
    row = result.summary().iloc[0]
    partition = result.partition("geo_tree")
    gap = gap_summary(speakers, partition, n_boot=200)
    assert row["in_sample_gap_pct"] == pytest.approx(gap.gap_pct)
    assert list(row.index[4:10]) == [
        "held_out_gap_pct",
        "held_out_ci_low",
        "held_out_ci_high",
        "in_sample_gap_pct",
        "in_sample_ci_low",
        "in_sample_ci_high",
    ]
    assert row["bottom_definition"] == gap.bottom_definition
    pd.testing.assert_frame_equal(result.cohorts("geo_tree"), cohort_table(speakers, partition, n_boot=200))
    assert row["held_out_gap_pct"] > 0  # the planted corner is real: it survives held out
    assigned = result.assignments().set_index("speaker_id")["geo_tree"]
    assert assigned.dropna().to_dict() == partition.labels.to_dict()


@pytest.mark.skipif(
    not (has("wergap.scoring") and has("wergap.speaker_table")), reason="wergap.scoring / speaker_table not written yet"
)
def test_raw_log_is_scored_then_aggregated():
    rng = np.random.default_rng(3)
    refs = ["the cat sat on the mat", "turn on the kitchen light", "call mom"]
    rows = []
    for s in range(40):
        for u in range(3):
            ref = refs[u]
            hyp = ref if rng.random() < 0.7 else ref.replace("the", "a")
            rows.append({"utt_id": f"s{s}-{u}", "speaker_id": f"s{s}", "ref": ref, "hyp": hyp})
    log = pd.DataFrame(rows)
    result = audit(log, methods=[], n_boot=50)
    assert len(result.speakers) == 40
    assert result.overall["utterances"] == 120
    assert result.overall["ref_words"] == 40 * sum(len(r.split()) for r in refs)


def test_geo_tree_regions_are_pruned_by_default_and_grown_on_request():
    from wergap.cli import build_parser, run_audit
    from wergap.reports.html import render_html

    speakers = speaker_table(n=600, effect=1.5)
    pruned = audit(speakers, methods=["geo_tree"], n_boot=50, known_attributes=[])
    grown = audit(speakers, methods=["geo_tree"], n_boot=50, geo_prune=None, known_attributes=[])
    assert pruned.estimators["geo_tree"].cv_errors_ is not None
    assert pruned.estimators["geo_tree"].n_regions_ < grown.estimators["geo_tree"].n_regions_ == 8
    assert grown.params["geo_prune"] is None
    assert "chosen by 5-fold cross-validation" in render_html(pruned)
    assert "grown to at most 8 regions (pruning is off)" in render_html(grown)
    args = build_parser().parse_args(["audit", "x.tsv", "-o", "r.html", "--no-geo-prune", "--n-boot", "50"])
    via_cli = run_audit(args, speakers, ["geo_tree"])
    assert via_cli.estimators["geo_tree"].n_regions_ == 8


def test_progress_reports_every_step_in_order_and_ends_at_the_total():
    steps = []
    audit(speaker_table(), n_boot=50, progress=lambda step, done, total: steps.append((step, done, total)))
    totals = {total for _, _, total in steps}
    assert len(totals) == 1
    total = totals.pop()
    done = [d for _, d, _ in steps]
    assert done == sorted(done) and done[-1] == total and steps[-1][0] == "done"
    names = [s for s, _, _ in steps]
    assert "geo_tree: discovery" in names and "geo_tree: held-out gap" in names
    assert "census_splits: skipped" in names and "known attributes" in names
