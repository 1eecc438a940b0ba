"""The N-system comparison report: one self-contained file with the figures the issue asks for."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

import wergap as wg
from wergap.cohorts import partition_from_column


def three_systems(n_speakers: int = 240, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Three systems on the same utterances; speakers south of 34° N served worse by the first."""
    rng = np.random.default_rng(seed)
    lat = rng.uniform(30, 45, n_speakers)
    lon = rng.uniform(-120, -75, n_speakers)
    rows = []
    for s in range(n_speakers):
        for u in range(5):
            rows.append((f"s{s}-{u}", f"s{s}", lat[s], lon[s], "<b>x</b>" if s % 2 else "y", int(rng.integers(5, 15))))
    frame = pd.DataFrame(rows, columns=["utt_id", "speaker_id", "lat", "lon", "group", "ref_words"])
    south = frame["lat"] < 34
    out = {}
    for name, p_south in (("v1", 0.2), ("v2", 0.1), ("v3", 0.3)):
        out[name] = frame.assign(errors=rng.binomial(frame["ref_words"], np.where(south, p_south, 0.1)))
    return out


def images(text: str) -> int:
    return len(re.findall(r"<img src=\"data:image/png;base64,", text))


def test_report_has_dots_gaps_maps_and_escapes(tmp_path):
    logs = three_systems()
    result = wg.compare(logs, methods=["geo_tree"], n_boot=100)
    path = tmp_path / "r.html"
    result.to_html(path)
    text = path.read_text()
    assert "geo_tree" in result.methods and "attribute:group" in result.methods
    # geo_tree: dots, gaps, maps side by side; the attribute: dots, gaps
    assert images(text) == 5
    assert "Maps of the Geographic clustering tree cohorts" in text
    assert "<b>x</b>" not in text and "&lt;b&gt;x&lt;/b&gt;" in text
    assert "v2: narrowed" in text and "v3: widened" in text
    assert "http://" not in text.replace("http://www.w3.org", "") and "<script" not in text  # self-contained


def test_two_systems_add_the_change_per_cohort(tmp_path):
    logs = three_systems(n_speakers=120)
    part = partition_from_column(logs["v1"].drop_duplicates("speaker_id"), "group")
    result = wg.compare([logs["v1"], logs["v2"]], names=["old", "new"], partitions=[part], n_boot=50, min_speakers=10)
    path = tmp_path / "r.html"
    result.to_html(path)
    text = path.read_text()
    assert images(text) == 3 and "WER change of each cohort, new against old" in text
