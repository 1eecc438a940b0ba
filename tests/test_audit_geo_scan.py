"""audit() runs the spatial scan whenever lat/lon are present, and says plainly what it found."""

from __future__ import annotations

import numpy as np
import pandas as pd

from wergap.audit import audit
from wergap.comparison.gate import check
from wergap.discovery import registry
from wergap.discovery.geo_scan import NOTE_NOT_SIGNIFICANT


def speakers(n: int = 1200, seed: int = 0, effect: float = 1.0) -> pd.DataFrame:
    """Speakers in 300 towns; those within 250 km of (35, -95) get ``effect`` x the rate."""
    rng = np.random.default_rng(seed)
    town_lat, town_lon = rng.uniform(30, 45, 300), rng.uniform(-110, -80, 300)
    town = rng.integers(0, 300, n)
    lat, lon = town_lat[town], town_lon[town]
    near = (lat - 35) ** 2 + ((lon + 95) * 0.82) ** 2 < (250 / 111) ** 2
    words = rng.integers(40, 300, n)
    mean = np.where(near, 0.1 * effect, 0.1)
    return pd.DataFrame(
        {
            "speaker_id": [f"spk{i:05d}" for i in range(n)],
            "utterances": 1 + words // 10,
            "ref_words": words,
            "errors": rng.binomial(words, rng.beta(30 * mean, 30 * (1 - mean))),
            "lat": lat,
            "lon": lon,
        }
    )


def test_runs_beside_the_tree_whenever_coordinates_are_present():
    assert registry.METHODS.index("geo_scan") == registry.METHODS.index("geo_tree") + 1
    data = speakers(effect=2.0)
    data.loc[:4, ["lat", "lon"]] = np.nan
    result = audit(data, n_boot=100, known_attributes=[])
    assert result.methods == ["geo_tree", "geo_scan"]
    scan = result.estimators["geo_scan"]
    assert scan.significant_ and result.partition("geo_scan").excluded == {"no coordinates": 5}
    row = result.summary().set_index("method").loc["geo_scan"]
    assert row["bottom_cohort"] == "area 1" and row["held_out_ci_low"] > 0
    assert "hot spot significant: p = 0.001" in row["note"]
    # the held-out refits skip the replicates; the full fit keeps them
    assert scan.n_replicates == 999 and len(scan.replicate_llr_) == 999
    gate = check(result, max_gap=5.0)
    scan_check = next(c for c in gate.checks if c.method == "geo_scan")
    assert scan_check.status == "fail" and not gate.passed  # the planted area's held-out gap is far past 5 %


def test_says_plainly_when_no_area_is_significant():
    result = audit(speakers(seed=3), methods=["geo_scan"], n_boot=50, known_attributes=[])
    scan = result.estimators["geo_scan"]
    assert not scan.significant_
    assert result.summary()["note"].iloc[0].startswith(NOTE_NOT_SIGNIFICANT.split("(")[0])


def test_skipped_without_coordinates():
    result = audit(speakers().drop(columns=["lat", "lon"]), methods=["geo_scan"], n_boot=20)
    assert result.skipped == {"geo_scan": registry.NO_COORDINATES}
