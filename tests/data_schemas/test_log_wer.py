"""Published per-utterance WER (wer + ref_words) read as error counts; derived speakers checked."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from wergap.data_schemas import InputError, read_log
from wergap.data_schemas.log import WER_ERRORS, check_derived_speakers

DATA = Path(os.environ.get("WERGAP_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))


def test_errors_are_wer_times_words_rounded():
    log = read_log(pd.DataFrame({"utt_id": ["a-1", "b-1"], "wer": [0.235294118, 0.0], "wordcount": [17, 5]}))
    assert log["errors"].tolist() == [4, 0] and log["ref_words"].tolist() == [17, 5]
    assert log.attrs["wergap"]["errors_from"] == "wer x ref_words"


def test_a_product_far_from_a_whole_number_is_an_error_or_a_counted_drop():
    frame = pd.DataFrame({"utt_id": ["a-1", "b-1"], "wer": [0.3, 0.25], "ref_words": [4, 4]})
    with pytest.raises(InputError, match=r"row 0, column 'wer'.*not within 0.01 of a whole number"):
        read_log(frame)
    log = read_log(frame, drop_invalid=True)
    assert log["errors"].tolist() == [1] and log.attrs["wergap"]["dropped"] == {WER_ERRORS: 1}


def test_percentages_are_refused():
    with pytest.raises(InputError, match="read as a fraction"):
        read_log(pd.DataFrame({"utt_id": ["a-1"], "wer": [25.0], "ref_words": [4]}))


def test_wrong_delimiter_lists_the_columns_and_suggests_the_format(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("utt_id\tspeaker_id\tref\thyp\na\tb\tc\td\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"columns found: 'utt_id\\tspeaker_id\\tref\\thyp'.*pass format='tsv'"):
        read_log(path)


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ([f"utt_{i:05d}" for i in range(20)], "give 1 speaker"),
        ([f"s{i}-1" for i in range(20)], "one speaker per utterance"),
    ],
)
def test_speakers_from_ids_that_hold_none_are_an_error(ids, message):
    log = read_log(pd.DataFrame({"utt_id": ids, "errors": 1, "ref_words": 5}))
    with pytest.raises(InputError, match=message):
        check_derived_speakers(log)


def test_derived_speakers_give_a_notice_and_a_speaker_column_none():
    log = read_log(pd.DataFrame({"utt_id": ["a-1", "a-2", "b-1"], "errors": 1, "ref_words": 5}))
    assert check_derived_speakers(log) == (
        "speakers taken from utt_id (the part before the first '-', else before the first '_'): 2 speakers"
    )
    log = read_log(pd.DataFrame({"utt_id": ["1"], "speaker_id": ["x"], "errors": 1, "ref_words": 5}))
    assert check_derived_speakers(log) is None


def test_koenecke_published_wer_reads_as_counts():
    path = DATA / "asr_results" / "koenecke2020_DDM.csv"
    if not path.exists():
        pytest.skip(f"shared data not found at {path} (set WERGAP_SHARED_DATA)")
    log = read_log(path, columns={"segment_filename": "utt_id", "clean_google_wer": "wer"})
    assert len(log) == 150 and log.attrs["wergap"]["dropped"] == {}
    raw = pd.read_csv(path)
    assert (log["errors"] - raw["clean_google_wer"] * raw["wordcount"]).abs().max() < 0.01
