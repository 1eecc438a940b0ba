"""A counts-only log's report says its errors were used as logged, not aligned here."""

from __future__ import annotations

import pandas as pd

from wergap.audit import audit
from wergap.reports.html import render_html


def test_counts_only_report_does_not_claim_an_alignment():
    log = pd.DataFrame(
        {
            "utt_id": [f"s{i}-1" for i in range(40)],
            "speaker_id": [f"s{i}" for i in range(40)],
            "wer": [0.2] * 40,
            "ref_words": [5] * 40,
        }
    )
    from wergap.data_schemas import read_log

    html = render_html(audit(read_log(log), methods=[], n_boot=10))
    assert "exactly those of <code>jiwer.process_words</code>" not in html and "S + D + I" not in html
    assert "used as logged (errors = round(wer x ref_words)" in html


def test_text_report_keeps_the_jiwer_sentence():
    log = pd.DataFrame({"utt_id": [f"s{i}-1" for i in range(40)], "ref": ["a b"] * 40, "hyp": ["a"] * 40})
    from wergap.data_schemas import read_log
    from wergap.scoring import score

    html = render_html(audit(score(read_log(log)), methods=[], n_boot=10))
    assert "exactly those of <code>jiwer.process_words</code>" in html and "S + D + I" in html
