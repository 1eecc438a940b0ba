"""The five Koenecke et al. (PNAS 2020) systems compared on their matched snippets (real data)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

import wergap as wg
from wergap.data_schemas.log import split_systems

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "koenecke_to_logs.py"


def load_script():
    spec = importlib.util.spec_from_file_location("koenecke_to_logs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_five_systems_compared_by_known_attributes(shared_data):
    path = shared_data / "asr_results" / "koenecke2020_matched_wer.csv"
    if not path.exists():
        pytest.skip(f"{path} not found")
    table = pd.read_csv(path)
    log = load_script().to_log(table)
    assert len(log) == 5 * len(table) and log["speaker_id"].nunique() == 98
    # errors are the paper's WER times the word count
    google = log[log["system"] == "google"].set_index("utt_id")
    expected = (
        table.set_index("segment_filename")["clean_google_wer"] * table.set_index("segment_filename")["wordcount"]
    )
    assert (google["errors"] == expected.round().astype(int).reindex(google.index)).all()
    # one log holding five systems: split by its system column, read and score each
    result = wg.compare([wg.score(wg.read_log(part)) for part in split_systems(log)], n_boot=200)
    assert result.names == ("google", "ibm", "amazon", "msft", "apple")
    assert result.counts["shared"] == len(table)
    assert {"attribute:race", "attribute:gender", "attribute:site"} <= set(result.methods)
    race = result.cohorts("attribute:race")
    # every system serves the Black speakers worse (the paper's finding), each within its own interval
    for system, rows in race.groupby("system"):
        wer = rows.set_index("cohort")["wer"]
        assert wer["Black"] > wer["white"], system
    gaps = result.gaps("attribute:race")
    assert (gaps["gap_ci_low"] > 0).all() and (gaps["ranked_by"] == "in-sample").all()
    # the corpus-level WER of each system is errors / words over the shared snippets
    overall = result.overall.set_index("system")["wer"]
    for system in result.names:
        rows = log[log["system"] == system]
        assert overall[system] == pytest.approx(rows["errors"].sum() / rows["ref_words"].sum())
