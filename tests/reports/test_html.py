"""The HTML report of a real Audit: self-contained, escaped, private, states its definitions."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from wergap.audit import audit
from wergap.reports import render_html, write_html
from wergap.reports.html import count, interval, num, pct

from .conftest import HOSTILE_SOURCE, HOSTILE_VALUE, RARE_VALUE, speaker_frame


@pytest.fixture(scope="module")
def page(small_audit) -> str:
    return render_html(small_audit)


def test_one_self_contained_file(page):
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower() and "<link" not in page.lower()
    # every resource is inline: no src/href leaves the page except in-page anchors
    for attribute, target in re.findall(r'\b(src|href)="([^"]*)"', page):
        assert target.startswith("data:image/png;base64,") or target.startswith("#"), (attribute, target)
    assert "@import" not in page and "url(" not in page


def test_sections_and_data_summary(page, small_audit):
    for heading in ("Data summary", "Method comparison", "Known attributes", "Methodology", "Parameters"):
        assert heading in page
    overall = small_audit.overall
    assert pct(overall["wer"], 2) in page
    assert interval(overall["wer_ci_low"], overall["wer_ci_high"], fraction=True) in page
    assert count(overall["speakers"]) in page and count(overall["ref_words"]) in page
    assert "5,000" in page  # rows read
    assert "empty ref" in page and "missing &lt;speaker_id&gt;" in page
    assert ">5<" in page  # 3 + 2 rows dropped in total


def test_every_skipped_method_has_its_reason(page, small_audit):
    assert small_audit.skipped  # census and embeddings are absent from this table
    for reason in small_audit.skipped.values():
        assert reason.replace("'", "&#39;").replace('"', "&#34;") in page


def test_known_attributes_formatted_from_the_audit(page, small_audit):
    table = small_audit.disaggregated["device"]
    for _, row in table.iterrows():
        assert f"{row['value']}</td>" in page
        if row["note"]:
            continue  # under min_group_speakers: listed by name and count, no WER
        assert pct(row["wer"]) in page
        assert num(row["gap_vs_best_pct"], suffix="%", signed=True) in page


def test_user_strings_are_escaped(page):
    assert HOSTILE_VALUE not in page and HOSTILE_SOURCE not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    assert "&lt;script&gt;alert(&#39;decode&#39;)&lt;/script&gt;.tsv" in page
    escaped_title = render_html(audit(speaker_frame(n=120), methods=[], n_boot=20), title="<b>x</b>")
    assert "<b>x</b>" not in escaped_title and "&lt;b&gt;x&lt;/b&gt;" in escaped_title


def test_no_speaker_ids_and_small_values_named_without_numbers(page, small_audit):
    for speaker in small_audit.speakers["speaker_id"]:
        assert speaker not in page
    # held by 5 speakers < min_group_speakers = 10: listed by name and count, never a WER
    row = next(line for line in page.splitlines() if f"<td>{RARE_VALUE}</td>" in line)
    assert '<td class="n">5</td>' in row and "too few speakers (under 10)" in row and "%" not in row.split("too few")[0]


def test_methodology_states_definitions_and_parameters(page, small_audit):
    for phrase in (
        "Σ errors / Σ reference words",
        "jiwer.process_words",
        "100 × (WER<sub>bottom</sub> − WER<sub>top</sub>) / WER<sub>top</sub>",
        "bootstrap resamples of speakers",
        "Held-out gap",
        "Bottom-cohort share",
        "fewer than 30 speakers",
    ):
        assert phrase in page
    for name in small_audit.params:
        assert f"<th>{name}</th>" in page
    assert "100 bootstrap resamples" in page


def test_method_sections_follow_the_audit(page, small_audit):
    for method in small_audit.methods:
        assert f'<section id="{method}">' in page
        for definition in small_audit.cohorts(method)["definition"]:
            assert str(definition).replace("<", "&lt;") in page
    if not small_audit.methods:
        assert "No discovery method ran on these inputs" in page


def test_simulated_banner_only_for_the_demo(small_audit):
    assert "Simulated data" not in render_html(small_audit)
    demo = audit(speaker_frame(n=120), methods=[], n_boot=20)
    demo.provenance["simulated"] = True
    assert "Simulated data" in render_html(demo)


def test_write_html_writes_the_page_atomically(tmp_path, small_audit):
    target = tmp_path / "nested" / "report.html"
    write_html(small_audit, target)
    text = target.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]
    small_audit.to_html(tmp_path / "via_audit.html")
    assert (tmp_path / "via_audit.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_counts_only_table_without_attributes_still_renders():
    frame = speaker_frame(n=80)[["speaker_id", "utterances", "ref_words", "errors"]]
    frame.attrs = {}
    page = render_html(audit(frame, n_boot=20))
    assert "(a table passed in memory)" in page
    assert "Known attributes" not in page and "No discovery method ran" in page


@pytest.mark.parametrize(("value", "expected"), [(0.12345, "12.3%"), (float("nan"), "–"), (None, "–"), (pd.NA, "–")])
def test_percent_formatting(value, expected):
    assert pct(value) == expected


def test_a_figure_that_cannot_be_drawn_is_explained_not_fatal(speakers):
    """Estimator plotting attributes in an unexpected shape cost the figure, not the report."""
    result = audit(speakers, methods=["geo_tree"], n_boot=20, max_regions=4)
    if "geo_tree" not in result.methods:
        pytest.skip(f"geo_tree did not run: {result.skipped}")
    result.estimators["geo_tree"].regions_ = pd.DataFrame({"cohort": ["region 1"]})  # no geometry
    page = render_html(result)
    assert "figure could not be drawn" in page
    for definition in result.cohorts("geo_tree")["definition"]:
        assert definition in page  # the numbers are all still there
