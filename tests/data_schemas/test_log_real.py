"""read_log on real public logs (../shared/data; skipped when absent)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wergap.data_schemas import InputError, provenance, read_log

CORAAL_SPEAKER = r"^([A-Z]+_se\d+_ag\d+_[fm]_\d+)_"


def test_koenecke_counts_only_log(shared_data):
    """CORAAL snippets scored by five commercial recognizers (Koenecke et al., PNAS 2020):
    word counts and per-snippet WER only, no text — a counts-only log."""
    path = shared_data / "asr_results" / "koenecke2020_DDM.csv"
    table = pd.read_csv(path)
    # The file has WER fractions; errors are whole numbers of words behind them.
    errors = table["clean_google_wer"] * table["wordcount"]
    assert np.allclose(errors, errors.round(), atol=1e-6)
    table["google_errors"] = errors.round().astype("int64")

    log = read_log(
        table,
        columns={"segment_filename": "utt_id", "wordcount": "ref_words", "google_errors": "errors", "source": "site"},
        speaker_pattern=CORAAL_SPEAKER,
    )
    assert len(log) == 150 and provenance(log)["dropped"] == {}
    assert log["speaker_id"].nunique() == 43
    assert log["errors"].dtype == "int64" and log["ref_words"].dtype == "int64"
    assert set(log["site"]) == {"DCB", "PRV", "ROC"}
    # Extra columns (the other systems' WER, demographics) are kept as read.
    assert log["clean_apple_wer"].equals(table["clean_apple_wer"])
    assert log["errors"].sum() / log["ref_words"].sum() == pytest.approx(
        (table["clean_google_wer"] * table["wordcount"]).sum() / table["wordcount"].sum()
    )


def test_koenecke_file_read_in_place_needs_error_counts(shared_data):
    """The file itself holds WER fractions, not error counts: read_log says what is missing
    instead of guessing a rounding."""
    path = shared_data / "asr_results" / "koenecke2020_DDM.csv"
    with pytest.raises(InputError) as info:
        read_log(path, columns={"segment_filename": "utt_id", "wordcount": "ref_words"}, speaker_pattern=CORAAL_SPEAKER)
    assert str(info.value).startswith(f"{path}: missing required column(s) 'errors'")


def test_coraal_ngrams_text_log(shared_data):
    """Reference n-grams with one system's hypothesis text: a real text log, where some
    snippets hold several n-grams (so the snippet name is not an utterance id)."""
    path = shared_data / "asr_results" / "koenecke2020_CORAAL_ngrams_with_asr_wer.csv"
    table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    columns = {"ngram": "ref", "clean_google_phrase": "hyp", "basefile": "speaker_id"}

    log = read_log(path, columns=columns)
    assert len(log) == 206 and provenance(log)["rows_read"] == 206
    assert log["utt_id"].iloc[0] == "koenecke2020_CORAAL_ngrams_with_asr_wer:0"
    assert log["ref"].iloc[0] == "it was a lot of"
    # Google returned nothing for some n-grams: an empty hypothesis, not a lost row.
    assert (log["hyp"] == "").sum() == table["clean_google_phrase"].isna().sum() == 4
    assert log["speaker_id"].nunique() == table["basefile"].nunique()

    first_dup = int(np.flatnonzero(table["segment_filename"].duplicated())[0])
    with_ids = {**columns, "segment_filename": "utt_id"}
    with pytest.raises(InputError) as info:
        read_log(path, columns=with_ids)
    assert str(info.value).startswith(
        f"{path}, line {first_dup + 2}, column 'segment_filename': duplicate utt_id "
        f"{table['segment_filename'].iloc[first_dup]!r} (first at line "
    )
    kept = read_log(path, columns=with_ids, drop_invalid=True)
    assert provenance(kept)["dropped"] == {"duplicate utt_id": 9}
    assert kept["utt_id"].tolist() == table["segment_filename"].drop_duplicates().tolist()


def test_speechbrain_annotations_have_no_hypotheses(shared_data):
    """SpeechBrain's sample annotations hold references but no recognizer output, and two
    files without words or speaker: read_log says so rather than scoring nothing."""
    path = shared_data / "audio" / "speechbrain_samples" / "transcripts_from_annotations.tsv"
    words = "words(from speechbrain test annotation; may be reused/fake for some ids)"
    with pytest.raises(InputError) as info:
        read_log(path, columns={"file": "utt_id", words: "ref"})
    assert str(info.value) == (
        f"{path}: missing required column(s) 'hyp': a decode log needs 'ref' and 'hyp' text "
        "or 'errors' (or per-utterance 'wer') and 'ref_words' counts; accepted names: 'hyp' (or hypothesis, pred_text, "
        "prediction, hyp_text) (or map yours with columns=); columns found: 'file', 'sr', 'channels', "
        f"'sampwidth', 'seconds', 'spk_id', {words!r}, 'source'"
    )
    # With the references themselves as a (perfect) hypothesis column, the rows without a
    # speaker are dropped and counted.
    table = pd.read_csv(path, sep="\t")
    table["hyp"] = table[words]
    log = read_log(table, columns={"file": "utt_id", words: "ref"}, drop_invalid=True)
    assert len(log) == 10
    assert provenance(log)["dropped"] == {"missing speaker_id": 2}
    assert sorted(log["speaker_id"].unique()) == ["spk1", "spk2"]
