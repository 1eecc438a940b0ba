"""Column aliases, explicit columns= mappings and speaker derivation from utterance ids."""

from __future__ import annotations

import pandas as pd
import pytest

from wergap.data_schemas import InputError, provenance, read_log
from wergap.data_schemas._columns import ALIASES

ALIAS_CASES = [(alias, name) for name, aliases in ALIASES.items() for alias in aliases]
BASE = {
    "utt_id": "s-1",
    "speaker_id": "s",
    "ref": "a b",
    "hyp": "a",
    "errors": 1,
    "ref_words": 2,
    "substitutions": 0,
    "deletions": 1,
    "insertions": 0,
    "lat": 40.0,
    "lon": -70.0,
    "zip": "02134",
    "audio": "x.wav",
    "system": "asr",
}


@pytest.mark.parametrize(("alias", "name"), ALIAS_CASES)
@pytest.mark.parametrize("case", [str.lower, str.upper])
def test_every_alias_maps_to_its_name(alias, name, case):
    row = dict(BASE)
    value = row.pop(name)
    row[case(alias)] = value
    log = read_log(pd.DataFrame([row]))
    assert name in log and case(alias) not in log
    assert log[name].iloc[0] == value
    assert provenance(log)["renamed"] == {case(alias): name}


def test_canonical_name_wins_over_its_alias():
    log = read_log(pd.DataFrame({"utt_id": ["s-1"], "ref": ["a"], "hyp": ["a"], "text": ["z"]}))
    assert log["ref"].tolist() == ["a"] and log["text"].tolist() == ["z"]


def test_two_aliases_are_ambiguous():
    frame = pd.DataFrame({"utt_id": ["s-1"], "text": ["a"], "transcript": ["b"], "hyp": ["a"]})
    with pytest.raises(InputError) as info:
        read_log(frame)
    assert str(info.value) == ("columns ['text', 'transcript'] all mean 'ref'; choose one with columns={name: 'ref'}")
    log = read_log(frame, columns={"transcript": "ref"})
    assert log["ref"].tolist() == ["b"] and log["text"].tolist() == ["a"]


def test_columns_mapping_is_applied_before_aliases(write):
    path = write("log.csv", "seg,truth,asr_out,speaker\ns-1,a b,a,ann\n")
    log = read_log(path, columns={"seg": "utt_id", "truth": "ref", "ASR_OUT": "hyp"})
    assert log[["utt_id", "speaker_id", "ref", "hyp"]].values.tolist() == [["s-1", "ann", "a b", "a"]]


def test_columns_mapping_to_a_missing_column(write):
    path = write("log.csv", "utt_id,ref,hyp\ns-1,a,a\n")
    with pytest.raises(InputError) as info:
        read_log(path, columns={"wordcount": "ref_words"})
    assert str(info.value) == (
        f"{path}: columns= maps 'wordcount', which the log does not have (it has: utt_id, ref, hyp)"
    )


def test_two_columns_mapped_to_one_name():
    frame = pd.DataFrame({"a": ["x"], "b": ["y"], "hyp": ["z"], "utt_id": ["s-1"]})
    with pytest.raises(InputError) as info:
        read_log(frame, columns={"a": "ref", "b": "ref"})
    assert str(info.value) == "columns ['a', 'b'] are all mapped to 'ref'; map only one"


def test_duplicate_header_name(write):
    path = write("log.tsv", "utt_id\tref\tref\thyp\ns-1\ta\tb\tc\n")
    with pytest.raises(InputError) as info:
        read_log(path)
    assert str(info.value) == f"{path}, line 1: column name 'ref' appears more than once in the header"


MISSING = [
    (
        {"utt_id": ["s-1"], "ref": ["a"]},
        "missing required column(s) 'hyp': a decode log needs 'ref' and 'hyp' text or 'errors' "
        "(or per-utterance 'wer') and 'ref_words' counts; accepted names: 'hyp' (or hypothesis, pred_text, prediction, "
        "hyp_text) (or map yours with columns=); columns found: 'utt_id', 'ref'",
    ),
    (
        {"utt_id": ["s-1"], "hypothesis": ["a"]},
        "missing required column(s) 'ref': a decode log needs 'ref' and 'hyp' text or 'errors' "
        "(or per-utterance 'wer') and 'ref_words' counts; accepted names: 'ref' (or reference, text, transcript, "
        "ref_text) (or map yours with columns=); columns found: 'utt_id', 'hypothesis'",
    ),
    (
        {"utt_id": ["s-1"], "errors": [1]},
        "missing required column(s) 'ref_words': a decode log needs 'ref' and 'hyp' text or "
        "'errors' (or per-utterance 'wer') and 'ref_words' counts; accepted names: 'ref_words' (or num_words, n_words, "
        "ref_len, wc, wordcount, word_count) (or map yours with columns=); columns found: 'utt_id', 'errors'",
    ),
    (
        {"utt_id": ["s-1"], "wer": [0.1]},
        "missing required column(s) 'ref', 'hyp': a decode log needs 'ref' and 'hyp' text or "
        "'errors' (or per-utterance 'wer') and 'ref_words' counts; accepted names: 'ref' (or reference, text, transcript, "
        "ref_text); 'hyp' (or hypothesis, pred_text, prediction, hyp_text) (or map yours with "
        "columns=); columns found: 'utt_id', 'wer'",
    ),
    (
        {"ref": ["a"], "hyp": ["a"]},
        "no speaker column and no utterance id to derive one from; accepted names: 'speaker_id' "
        "(or spk, speaker, spk_id, speakerid, client_id)",
    ),
]


@pytest.mark.parametrize(("columns", "expected"), MISSING)
def test_missing_columns_name_their_aliases(columns, expected):
    with pytest.raises(InputError) as info:
        read_log(pd.DataFrame(columns), drop_invalid=True)
    assert str(info.value) == expected


def test_missing_column_error_names_the_file(write):
    path = write("log.csv", "utt_id,ref\ns-1,a\n")
    with pytest.raises(InputError) as info:
        read_log(path)
    assert str(info.value).startswith(f"{path}: missing required column(s) 'hyp'")


SPEAKERS = [
    # (utt_id, speaker_pattern, speaker)
    ("spk1-utt1", "sclite", "spk1"),
    ("spk1_utt1", "sclite", "spk1"),
    ("a_b-c", "sclite", "a_b"),
    ("a-b_c-d", "sclite", "a"),
    ("1688-142285-0000", "sclite", "1688"),  # LibriSpeech
    ("spk2-spk2_utt7", "sclite", "spk2"),  # ESPnet (<spk>-<uttid>)
    ("PRV_se0_ag3_f_02_1_1750993", r"^(\w+?_se\d+_ag\d+_[fm]_\d+)_", "PRV_se0_ag3_f_02"),
    ("call42/utt3", r"^call(\d+)/", "42"),
    ("x.y.z", r"\.(\w)\.", "y"),  # searched, not anchored
]


@pytest.mark.parametrize(("utt_id", "pattern", "speaker"), SPEAKERS)
def test_speaker_from_utt_id(write, utt_id, pattern, speaker):
    ref = write("ref.trn", f"a b ({utt_id})\n")
    hyp = write("hyp.trn", f"a ({utt_id})\n")
    log = read_log(ref=ref, hyp=hyp, speaker_pattern=pattern)
    assert log["speaker_id"].tolist() == [speaker]
    assert provenance(log)["speaker_from"] == f"utt_id, speaker_pattern '{pattern}'"


def test_speaker_column_is_not_overridden_by_pattern(write):
    path = write("log.csv", "utt_id,client_id,ref,hyp\nspk1-u1,ann,a,a\n")
    assert read_log(path)["speaker_id"].tolist() == ["ann"]
    assert provenance(read_log(path))["speaker_from"] == "column"


def test_regex_that_does_not_match_is_reported(write):
    path = write("log.csv", "utt_id,ref,hyp\ncall1/u,a,a\nother,b,b\n")
    with pytest.raises(InputError) as info:
        read_log(path, speaker_pattern=r"^call(\d+)/")
    assert str(info.value) == (
        f"{path}, line 3, column 'utt_id': cannot derive a speaker from utt_id 'other' with "
        r"speaker_pattern '^call(\d+)/'; add a speaker column (or utt2spk=) or pass another "
        "speaker_pattern"
    )


def test_kaldi_utt2spk_gives_the_speaker(write):
    ref = write("text", "u1 a b\nu2 c\n")
    hyp = write("hyp", "u2 c\nu1 a\n")
    spk = write("utt2spk", "u1 ann\nu2 bob\nu3 cat\n")
    log = read_log(ref=ref, hyp=hyp, utt2spk=spk, format="kaldi")
    assert log[["utt_id", "speaker_id"]].values.tolist() == [["u1", "ann"], ["u2", "bob"]]
    assert provenance(log)["sources"] == [str(ref), str(hyp), str(spk)]
