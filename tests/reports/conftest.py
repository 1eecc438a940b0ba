"""Real Audits for the report tests: built by :func:`wergap.audit.audit` from generated data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wergap.audit import audit

#: Strings a hostile or careless log could carry; the report must show them escaped.
HOSTILE_VALUE = '<img src=x onerror="alert(1)">'
HOSTILE_SOURCE = "<script>alert('decode')</script>.tsv"
#: A metadata value held by too few speakers to be reported.
RARE_VALUE = "rare_device_xyz"


def speaker_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A speaker table: the south-west of a lat/lon box served worse, two attributes."""
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(30, 45, n), rng.uniform(-120, -75, n)
    words = rng.integers(40, 200, n)
    p = np.where((lat < 36) & (lon < -100), 0.2, 0.1)
    device = rng.choice(["phone", "far_field", "car"], n).astype(object)
    device[:5] = RARE_VALUE
    frame = pd.DataFrame(
        {
            "speaker_id": [f"spk{i:04d}" for i in range(n)],
            "utterances": rng.integers(2, 20, n),
            "ref_words": words,
            "errors": rng.binomial(words, p),
            "lat": lat,
            "lon": lon,
            "gender": rng.choice(["female", "male", HOSTILE_VALUE], n),
            "device": pd.array(device, dtype="str"),
        }
    )
    frame.attrs["wergap"] = {
        "sources": [HOSTILE_SOURCE],
        "format": "tsv",
        "rows_read": 5000,
        "dropped": {"empty ref": 3, "missing <speaker_id>": 2},
        "normalization": "default",
    }
    return frame


@pytest.fixture(scope="session")
def speakers() -> pd.DataFrame:
    return speaker_frame()


@pytest.fixture(scope="session")
def small_audit(speakers):
    """An Audit of the generated speaker table with every method that is installed."""
    return audit(speakers, n_boot=100, max_regions=4)
