"""Which method a mitigation export uses: the named one, else the largest held-out gap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wergap.audit import audit
from wergap.comparison.mitigation import DID_NOT_RUN, export_method
from wergap.errors import InputError


def counts_log(n_speakers: int = 200, n_zip: int = 20, gap: float = 1.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A counts-only log whose low-income ZIPs have twice the WER, and its census table."""
    rng = np.random.default_rng(0)
    zips = [f"{10000 + 7 * i:05d}" for i in range(n_zip)]
    income = np.linspace(20000, 120000, n_zip)
    rows = []
    for s in range(n_speakers):
        z = s % n_zip
        p = 0.1 * (1 + gap) if income[z] < 45000 else 0.1
        for u in range(4):
            words = int(rng.integers(5, 15))
            rows.append((f"s{s:04d}-{u}", f"s{s:04d}", zips[z], words, int(rng.binomial(words, p))))
    log = pd.DataFrame(rows, columns=["utt_id", "speaker_id", "zip", "ref_words", "errors"])
    return log, pd.DataFrame({"zip": zips, "median_income": income})


@pytest.fixture(scope="module")
def result():
    log, census = counts_log()
    return audit(log, census=census, n_boot=20)


def test_default_is_a_method_with_a_bottom_cohort(result):
    assert export_method(result) == "census_splits"


def test_a_named_method_that_ran_is_kept(result):
    assert export_method(result, "census_splits") == "census_splits"


def test_a_named_method_that_did_not_run_says_why(result):
    with pytest.raises(InputError) as err:
        export_method(result, "geo_tree")
    assert str(err.value) == DID_NOT_RUN.format(method="geo_tree", reason=result.skipped["geo_tree"])


def test_no_method_at_all_lists_the_reasons():
    log, _ = counts_log(n_speakers=20)
    with pytest.raises(InputError, match="no discovery method found a bottom cohort to export"):
        export_method(audit(log, n_boot=10))
