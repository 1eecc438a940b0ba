"""read_log reads the same three utterances from every format ASR teams keep."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from wergap.data_schemas import provenance, read_log

UTTS = [
    # utt_id, speaker, ref, hyp
    ("spk1-utt1", "spk1", "the cat sat", "the bat sat"),
    ("spk1-utt2", "spk1", "hello there", ""),
    ("spk2-utt1", "spk2", "", "uh"),
]
EXPECTED = pd.DataFrame(UTTS, columns=["utt_id", "speaker_id", "ref", "hyp"]).astype("str")


def _frame():
    return pd.DataFrame({"utt_id": [u[0] for u in UTTS], "ref": [u[2] for u in UTTS], "hyp": [u[3] for u in UTTS]})


def _csv(write):
    return {"source": write("log.csv", _frame().to_csv(index=False))}


def _tsv(write):
    return {"source": write("log.tsv", _frame().to_csv(index=False, sep="\t"))}


def _txt(write):
    return {"source": write("log.txt", _frame().to_csv(index=False, sep="\t"))}


def _jsonl(write):
    lines = [json.dumps({"key": u, "transcript": r, "hypothesis": h}) for u, _, r, h in UTTS]
    return {"source": write("log.jsonl", "\n".join(lines) + "\n")}


def _json(write):
    lines = [json.dumps({"id": u, "ref": r, "hyp": h}) for u, _, r, h in UTTS]
    return {"source": write("log.json", "\n".join(lines))}


def _parquet(write):
    path = write("log.parquet", b"")
    _frame().to_parquet(path)
    return {"source": path}


def _nemo(write):
    # NeMo: text = reference, pred_text = hypothesis, utterance id = audio file name;
    # an empty reference may carry wer = Infinity, which is not valid JSON.
    lines = [
        f'{{"audio_filepath": "/data/wav/{u}.wav", "duration": 1.5, "text": {json.dumps(r)}, '
        f'"pred_text": {json.dumps(h)}, "wer": {"Infinity" if not r else 33.3}}}'
        for u, _, r, h in UTTS
    ]
    return {"source": write("manifest.json", "\n".join(lines) + "\n")}


def _trn(write):
    return {
        "ref": write("ref.trn", "".join(f"{r} ({u})\n" for u, _, r, _ in UTTS)),
        "hyp": write("hyp.trn", "".join(f"{h} ({u})\n" for u, _, _, h in reversed(UTTS))),
    }


def _kaldi(write):
    return {
        "ref": write("text", "".join(f"{u} {r}\n" for u, _, r, _ in UTTS)),
        "hyp": write("hyp_text", "".join(f"{u}\t{h}\n" for u, _, _, h in UTTS)),
        "format": "kaldi",
    }


def _kaldi_detected(write):
    return {k: v for k, v in _kaldi(write).items() if k != "format"}


def _kaldi_utt2spk(write):
    spk = write("utt2spk", "".join(f"{u} {s}\n" for u, s, _, _ in UTTS))
    return {**_kaldi(write), "utt2spk": spk}


def _dataframe(write):
    return {"source": _frame()}


FORMATS = [
    (_csv, "csv"),
    (_tsv, "tsv"),
    (_txt, "tsv"),
    (_jsonl, "jsonl"),
    (_json, "jsonl"),
    (_parquet, "parquet"),
    (_nemo, "nemo"),
    (_trn, "trn"),
    (_kaldi, "kaldi"),
    (_kaldi_detected, "kaldi"),
    (_kaldi_utt2spk, "kaldi"),
    (_dataframe, "dataframe"),
]


@pytest.mark.parametrize(("make", "fmt"), FORMATS, ids=[m.__name__[1:] for m, _ in FORMATS])
def test_every_format_reads_the_same_utterances(write, make, fmt):
    kwargs = make(write)
    log = read_log(**kwargs)
    pd.testing.assert_frame_equal(log[EXPECTED.columns], EXPECTED)
    assert isinstance(log.index, pd.RangeIndex)
    meta = provenance(log)
    assert meta["format"] == fmt
    assert meta["rows_read"] == 3 and meta["dropped"] == {}
    expected_sources = (
        ["<DataFrame>"]
        if fmt == "dataframe"
        else [str(kwargs[k]) for k in ("source", "ref", "hyp", "utt2spk") if k in kwargs]
    )
    assert meta["sources"] == expected_sources


def test_nemo_keeps_extra_fields_and_reads_infinity(write):
    log = read_log(**_nemo(write))
    assert log["wer"].tolist()[:2] == [33.3, 33.3]
    assert log["wer"].iloc[2] == float("inf")
    assert log["audio"].iloc[0] == "/data/wav/spk1-utt1.wav"
    assert log["duration"].dtype == "float64"
    assert provenance(log)["utt_id_from"] == "audio file name (NeMo manifest)"


def test_explicit_format_overrides_extension(write):
    path = write("decode.log", "utt_id,ref,hyp\na-1,x,y\n")
    assert read_log(path, format="csv")["utt_id"].tolist() == ["a-1"]


def test_csv_quoting_and_text_kept_verbatim(write):
    path = write(
        "log.csv",
        'utt_id,ref,hyp\ns-1,"a, b ""c""",NA\ns-2,"two\nlines",null\n',
    )
    log = read_log(path)
    assert log["ref"].tolist() == ['a, b "c"', "two\nlines"]
    # "NA" and "null" are words a recognizer may output, not missing values.
    assert log["hyp"].tolist() == ["NA", "null"]


def test_tsv_quotes_are_plain_characters(write):
    path = write("log.tsv", 'utt_id\tref\thyp\ns-1\t"quoted" words\the said "hi\n')
    log = read_log(path)
    assert log["ref"].tolist() == ['"quoted" words']
    assert log["hyp"].tolist() == ['he said "hi']


def test_ids_and_zips_stay_strings(write):
    path = write("log.csv", "utt_id,speaker_id,ref,hyp,zip\n0001,007,a,a,02134\n0002,007,b,b,501\n")
    log = read_log(path)
    assert log["utt_id"].tolist() == ["0001", "0002"]
    assert log["speaker_id"].tolist() == ["007", "007"]
    assert log["zip"].tolist() == ["02134", "00501"]


def test_extra_columns_are_kept_untouched_and_rows_in_order(write):
    rows = "".join(f"s{i % 3}-{i},w{i},w{i},{i * 0.5},x{i}\n" for i in range(20, 0, -1))
    log = read_log(write("log.csv", "utt_id,ref,hyp,snr,note\n" + rows))
    assert log["utt_id"].tolist() == [f"s{i % 3}-{i}" for i in range(20, 0, -1)]
    assert log["snr"].tolist() == [i * 0.5 for i in range(20, 0, -1)]
    assert log["note"].iloc[0] == "x20"
    assert list(log.columns) == ["utt_id", "speaker_id", "ref", "hyp", "snr", "note"]


def test_counts_only_log(write):
    path = write(
        "counts.tsv",
        "utt\tspk\tnum_errors\tnum_words\tS\tD\tI\nu1\ta\t3\t10\t1\t1\t1\nu2\ta\t0\t0\t0\t0\t0\nu3\tb\t2.0\t5\t\t\t\n",
    )
    log = read_log(path)
    assert log["errors"].dtype == "int64" and log["ref_words"].dtype == "int64"
    assert log["errors"].tolist() == [3, 0, 2]
    assert log["substitutions"].dtype == "Int64"
    assert log["substitutions"].isna().tolist() == [False, False, True]
    assert "ref" not in log


def test_coordinates_become_float64(write):
    path = write("geo.csv", "utt_id,ref,hyp,latitude,lng\na-1,x,x,42.36,-71.06\na-2,y,y,,\n")
    log = read_log(path)
    assert log["lat"].dtype == "float64" and log["lon"].dtype == "float64"
    assert log["lat"].iloc[0] == 42.36 and pd.isna(log["lon"].iloc[1])


def test_kaldi_id_without_words_is_an_empty_transcript(write):
    ref = write("text", "a-1 hello world\na-2\n")
    hyp = write("hyp", "a-1 hello\na-2   \n")
    log = read_log(ref=ref, hyp=hyp, format="kaldi")
    assert log["ref"].tolist() == ["hello world", ""]
    assert log["hyp"].tolist() == ["hello", ""]


def test_utf8_bom_and_crlf_are_accepted(write):
    path = write("log.csv", "\ufeffutt_id,ref,hyp\r\na-1,caf\u00e9,cafe\r\n")
    log = read_log(path)
    assert log.columns[0] == "utt_id"
    assert log["ref"].tolist() == ["caf\u00e9"] and log["hyp"].tolist() == ["cafe"]
    trn = read_log(ref=write("r.trn", "\ufeffx y (a-1)\r\n"), hyp=write("h.trn", "x (a-1)\r\n"))
    assert trn["ref"].tolist() == ["x y"] and trn["utt_id"].tolist() == ["a-1"]


def test_synthesised_utt_ids_are_recorded(write):
    log = read_log(write("decode.csv", "speaker,ref,hyp\nann,a,a\nbob,b,c\n"))
    assert log["utt_id"].tolist() == ["decode:0", "decode:1"]
    assert log["speaker_id"].tolist() == ["ann", "bob"]
    assert "synthesised" in provenance(log)["utt_id_from"]


def test_dataframe_source_is_not_modified():
    frame = _frame()
    before = frame.copy()
    read_log(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_jsonl_with_changing_types_and_blank_lines(write):
    # Arrow's reader refuses a field whose type changes between lines; the line-by-line
    # fallback reads it, and ids stay text either way.
    path = write(
        "log.jsonl",
        '{"id": 7, "ref": "a", "hyp": "a", "spk": "s"}\n\n'
        '{"id": "s-8", "ref": "b", "hyp": null, "spk": "s", "wer": NaN}\n',
    )
    log = read_log(path)
    assert log["utt_id"].tolist() == ["7", "s-8"]
    assert log["hyp"].tolist() == ["a", ""]
    assert provenance(log)["rows_read"] == 2


def test_dates_and_late_text_in_extra_columns_are_kept_as_text(write):
    rows = "".join(f"s-{i},a,a,{i},2020-01-0{1 + i % 9}\n" for i in range(5))
    log = read_log(write("log.csv", "utt_id,ref,hyp,snr,day\n" + rows + "s-9,a,a,loud,x\n"))
    assert log["day"].tolist()[:2] == ["2020-01-01", "2020-01-02"]
    assert log["snr"].tolist()[-2:] == ["4", "loud"]
    numeric = read_log(write("n.csv", "utt_id,ref,hyp,snr\n" + "s-1,a,a,2.5\n"))
    assert numeric["snr"].dtype == "float64"


COMPRESSED = [_csv, _tsv, _txt, _jsonl, _nemo, _trn, _kaldi_detected, _kaldi_utt2spk]


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
@pytest.mark.parametrize("make", COMPRESSED, ids=[m.__name__[1:] for m in COMPRESSED])
def test_compressed_text_logs_read_like_plain_ones(write, make, suffix):
    import bz2
    import gzip
    import lzma

    compress = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}[suffix]

    def write_compressed(name, content):
        data = content.encode("utf-8") if isinstance(content, str) else content
        return write(name + suffix, compress(data))

    plain = read_log(**make(write))
    log = read_log(**make(write_compressed))
    pd.testing.assert_frame_equal(log, plain)
    assert provenance(log)["format"] == provenance(plain)["format"]
    assert all(s.endswith(suffix) for s in provenance(log)["sources"])
