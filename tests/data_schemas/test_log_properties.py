"""Property tests: what goes into a log comes back out of read_log unchanged."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wergap.data_schemas import normalize_zip, provenance, read_log

# No bare CR: pandas' writer leaves a field holding "\r" unquoted (its line terminator is
# "\n"), and every CSV reader, pandas' own included, then ends the line there.
WORDS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), include_characters='\n\t,";'),
    max_size=20,
)


@given(st.integers(min_value=1, max_value=99999), st.integers(min_value=0, max_value=9999))
def test_zip_forms_agree(code, plus4):
    expected = f"{code:05d}"
    forms = pd.Series([code, float(code), expected, f"{expected}-{plus4:04d}", str(code)], dtype=object)
    zips, bad = normalize_zip(forms)
    assert bad == 0 and zips.tolist() == [expected] * 5


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(WORDS, WORDS), min_size=1, max_size=8))
def test_csv_round_trip(write, pairs):
    frame = pd.DataFrame(
        {
            "utt_id": [f"spk{i % 3}-{i}" for i in range(len(pairs))],
            "ref": [r for r, _ in pairs],
            "hyp": [h for _, h in pairs],
        }
    )
    path = write("log.csv", "")
    frame.to_csv(path, index=False)
    log = read_log(path)
    assert log["utt_id"].tolist() == frame["utt_id"].tolist()
    # pandas writes an empty string as an empty field; wergap reads it back as "".
    assert log["ref"].tolist() == frame["ref"].tolist()
    assert log["hyp"].tolist() == frame["hyp"].tolist()
    assert provenance(log)["rows_read"] == len(pairs)


@pytest.mark.parametrize("ref", ["\n,", "a\nb,c,d\ne", 'say "hi"\nu2,b,c\n'])
def test_a_well_quoted_field_with_line_breaks_is_not_an_unclosed_quote(write, ref):
    """A field holding line breaks, even one whose middle line looks like a row, is legal
    CSV when its quotes are well formed: only broken quoting is refused."""
    frame = pd.DataFrame({"utt_id": ["s0-0", "s1-1"], "ref": [ref, "x"], "hyp": ["", "x"]})
    path = write("log.csv", "")
    frame.to_csv(path, index=False)
    assert read_log(path)["ref"].tolist() == [ref, "x"]
