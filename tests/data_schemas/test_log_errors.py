"""Every kind of bad decode log gives one exact line naming file, line and column, and
with ``drop_invalid=True`` the right rows are dropped and counted by reason."""

from __future__ import annotations

import pandas as pd
import pytest

from wergap.data_schemas import InputError, provenance, read_log

HEAD = "utt_id,ref,hyp\n"


def csv(text):
    return lambda w: {"source": w("log.csv", text)}


def jsonl(text):
    return lambda w: {"source": w("log.jsonl", text)}


def trn(ref, hyp):
    return lambda w: {"ref": w("ref.trn", ref), "hyp": w("hyp.trn", hyp)}


def kaldi(ref, hyp, utt2spk=None):
    def make(w):
        kwargs = {"ref": w("text", ref), "hyp": w("hyp", hyp), "format": "kaldi"}
        if utt2spk is not None:
            kwargs["utt2spk"] = w("utt2spk", utt2spk)
        return kwargs

    return make


def frame(**columns):
    return lambda w: {"source": pd.DataFrame(columns)}


# (case id, make kwargs, expected str(error), dropped under drop_invalid (None: still
# raises), rows kept under drop_invalid)
CASES = [
    (
        "csv too many fields",
        csv(HEAD + "a-1,x,x\na-2,y,y,z\na-3,z,z\n"),
        "{source}, line 3: expected 3 fields as in the header, found 4",
        {"malformed line": 1},
        2,
    ),
    (
        "csv too few fields",
        csv(HEAD + "a-1,x,x\na-2,y\n"),
        "{source}, line 3: expected 3 fields as in the header, found 2",
        {"malformed line": 1},
        1,
    ),
    (
        "csv line numbers count quoted newlines",
        csv(HEAD + 'a-1,"two\nlines",x\na-2,y,y,y\n'),
        "{source}, line 4: expected 3 fields as in the header, found 4",
        {"malformed line": 1},
        1,
    ),
    (
        "bad json",
        jsonl('{"id": "a-1", "ref": "x", "hyp": "x"}\n\n{"id": "a-2", "ref": "y" "hyp": "y"}\n'),
        "{source}, line 3: not valid JSON: Expecting ',' delimiter at column 26",
        {"malformed line": 1},
        1,
    ),
    (
        "json line not an object",
        jsonl('{"id": "a-1", "ref": "x", "hyp": "x"}\n["a-2", "y", "y"]\n'),
        "{source}, line 2: expected one JSON object per line, found list",
        {"malformed line": 1},
        1,
    ),
    (
        "missing reference",
        jsonl('{"id": "a-1", "reference": "x", "hyp": "x"}\n{"id": "a-2", "reference": null}\n'),
        "{source}, line 2, column 'reference': expected reference text, got an empty value",
        {"missing reference": 1},
        1,
    ),
    (
        "duplicate utt_id",
        csv(HEAD + "a-1,x,x\na-2,y,y\na-1,z,z\n"),
        "{source}, line 4, column 'utt_id': duplicate utt_id 'a-1' (first at line 2)",
        {"duplicate utt_id": 1},
        2,
    ),
    (
        "missing utt_id value",
        csv(HEAD + "a-1,x,x\n,y,y\n"),
        "{source}, line 3, column 'utt_id': expected an utterance id, got an empty value",
        {"missing utt_id": 1},
        1,
    ),
    (
        "missing speaker value",
        csv("utt_id,spk,ref,hyp\na-1,a,x,x\na-2,,y,y\n"),
        "{source}, line 3, column 'spk': expected a speaker id, got an empty value",
        {"missing speaker_id": 1},
        1,
    ),
    (
        "speaker not in utt_id",
        csv(HEAD + "a-1,x,x\nplain,y,y\n"),
        "{source}, line 3, column 'utt_id': cannot derive a speaker from utt_id 'plain' with "
        "speaker_pattern 'sclite'; add a speaker column (or utt2spk=) or pass another "
        "speaker_pattern",
        {"no speaker in utt_id": 1},
        1,
    ),
    (
        "negative count",
        csv("utt_id,errors,ref_words\na-1,1,3\na-2,-1,3\n"),
        "{source}, line 3, column 'errors': expected a non-negative whole number of words, got -1",
        {"invalid counts": 1},
        1,
    ),
    (
        "fractional count",
        csv("utt_id,errors,wc\na-1,1,3.5\n"),
        "{source}, line 2, column 'wc': expected a non-negative whole number of words, got 3.5",
        {"invalid counts": 1},
        0,
    ),
    (
        "non-numeric count",
        csv("utt_id,errors,ref_words\na-1,1,3\na-2,two,3\n"),
        "{source}, line 3, column 'errors': expected a non-negative whole number of words, got 'two'",
        {"invalid counts": 1},
        1,
    ),
    (
        "missing required count",
        csv("utt_id,errors,ref_words\na-1,1,\n"),
        "{source}, line 2, column 'ref_words': expected a non-negative whole number of words, got an empty value",
        {"invalid counts": 1},
        0,
    ),
    (
        "S+D+I disagree with errors",
        csv("utt_id,errors,ref_words,sub,del,ins\na-1,2,3,1,1,0\na-2,2,3,1,1,1\n"),
        "{source}, line 3, column 'errors': substitutions + deletions + insertions = 3 but "
        "errors = 2: the counts disagree",
        {"invalid counts": 1},
        1,
    ),
    (
        "latitude not a number",
        csv("utt_id,ref,hyp,lat,lon\na-1,x,x,north,1\n"),
        "{source}, line 2, column 'lat': expected a number in decimal degrees, got 'north'",
        {"invalid coordinates": 1},
        0,
    ),
    (
        "longitude out of range",
        csv("utt_id,ref,hyp,lat,longitude\na-1,x,x,10,1\na-2,x,x,10,200\n"),
        "{source}, line 3, column 'longitude': 200.0 is outside -180.0..180.0 degrees",
        {"invalid coordinates": 1},
        1,
    ),
    (
        "trn without an id",
        trn("x (a-1)\ny z\n", "x (a-1)\n"),
        "{ref}, line 2: expected 'words (utt_id)': no utterance id in parentheses at the end of the line",
        {"malformed line": 1},
        1,
    ),
    (
        "trn alternation",
        trn("x (a-1)\n{ uh / um / @ } yes (a-2)\n", "x (a-1)\nyes (a-2)\n"),
        "{ref}, line 2: sclite alternations are not supported; expand them to plain words "
        "before scoring (found '{{ uh / um / @ }}': '{{a / b / @}}' alternatives and '(word)' "
        "optional words)",
        None,
        0,
    ),
    (
        "trn optional word",
        trn("x (a-1)\n", "(uh) x (a-1)\n"),
        "{hyp}, line 1: sclite alternations are not supported; expand them to plain words "
        "before scoring (found '(uh)': '{{a / b / @}}' alternatives and '(word)' optional "
        "words)",
        None,
        0,
    ),
    (
        "trn reference without hypothesis",
        trn("x (a-1)\ny (a-2)\n", "x (a-1)\n"),
        "{ref}, line 2: utt_id 'a-2' has a reference but no hypothesis in {hyp}",
        {"no hypothesis": 1},
        1,
    ),
    (
        "trn hypothesis without reference",
        trn("x (a-1)\n", "x (a-1)\n\nz (a-3)\n"),
        "{hyp}, line 3: utt_id 'a-3' has a hypothesis but no reference in {ref}",
        {"no reference": 1},
        1,
    ),
    (
        "trn duplicate id",
        trn("x (a-1)\ny (a-1)\n", "x (a-1)\n"),
        "{ref}, line 2: duplicate utt_id 'a-1' (first at line 1)",
        {"duplicate utt_id": 1},
        1,
    ),
    (
        "kaldi hypothesis without reference",
        kaldi("a-1 x\n", "a-1 x\na-2 y\n"),
        "{hyp}, line 2: utt_id 'a-2' has a hypothesis but no reference in {ref}",
        {"no reference": 1},
        1,
    ),
    (
        "kaldi utterance without speaker",
        kaldi("u1 x\nu2 y\n", "u1 x\nu2 y\n", "u1 ann\n"),
        "{ref}, line 2: utt_id 'u2' has no speaker in {utt2spk}",
        {"no speaker in utt2spk": 1},
        1,
    ),
    (
        "kaldi malformed utt2spk",
        kaldi("u1 x\nu2 y\n", "u1 x\nu2 y\n", "u1 ann\nu2 bob extra\n"),
        "{utt2spk}, line 2: expected 'utt_id speaker_id', found 3 fields",
        {"no speaker in utt2spk": 1},
        1,
    ),
    (
        "dataframe rows are 0-based positions",
        frame(utt_id=["a-1", "a-2", "a-3"], ref=["x", None, "z"], hyp=["x", "y", None]),
        "row 1, column 'ref': expected reference text, got an empty value",
        {"missing reference": 1},
        2,
    ),
]


def _format(template, kwargs):
    return template.format(**{k: v for k, v in kwargs.items() if k != "format"})


@pytest.mark.parametrize(("make", "expected"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_one_exact_line(write, make, expected):
    kwargs = make(write)
    with pytest.raises(InputError) as info:
        read_log(**kwargs)
    assert str(info.value) == _format(expected, kwargs)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("make", "expected", "dropped", "kept"), [(c[1], c[2], c[3], c[4]) for c in CASES], ids=[c[0] for c in CASES]
)
def test_drop_invalid_drops_and_counts(write, make, expected, dropped, kept):
    kwargs = make(write)
    if dropped is None:  # a problem with the whole file: never silently dropped
        with pytest.raises(InputError) as info:
            read_log(**kwargs, drop_invalid=True)
        assert str(info.value) == _format(expected, kwargs)
        return
    log = read_log(**kwargs, drop_invalid=True)
    meta = provenance(log)
    assert meta["dropped"] == dropped
    assert len(log) == kept
    assert meta["rows_read"] == len(log) + sum(meta["dropped"].values())
    assert isinstance(log.index, pd.RangeIndex)


def test_drops_are_counted_once_per_row_and_in_order(write):
    path = write(
        "log.csv",
        "utt_id,ref,hyp,lat,lon\n"
        "a-1,x,x,1,1\n"
        "a-2,,y,95,1\n"  # empty reference is valid; the latitude is not
        "a-3,z,z,1,1\n"
        "a-1,w,w,95,1\n"  # duplicate and bad latitude: one row, one reason
        ",v,v,1,1\n"
        "a-6,u,u,1,1,1\n",
    )
    log = read_log(path, drop_invalid=True)
    assert log["utt_id"].tolist() == ["a-1", "a-3"]
    assert provenance(log)["dropped"] == {
        "malformed line": 1,
        "missing utt_id": 1,
        "duplicate utt_id": 1,
        "invalid coordinates": 1,
    }
    assert provenance(log)["rows_read"] == 6


def test_parquet_errors_name_the_row(write):
    path = write("log.parquet", b"")
    pd.DataFrame({"utt_id": ["a-1", "a-2"], "ref": ["x", None], "hyp": ["x", "y"]}).to_parquet(path)
    with pytest.raises(InputError) as info:
        read_log(path)
    assert str(info.value) == (f"{path}, column 'ref': expected reference text, got an empty value (row 1)")


FILE_CASES = [
    ("missing file", lambda w: w("x.csv", "").parent / "nope.csv", "{p}: no such file"),
    ("directory", lambda w: w("x.csv", "").parent, "{p}: is a directory, expected a decode log file"),
    ("empty file", lambda w: w("e.csv", ""), "{p}: file is empty: expected a decode log with at least one utterance"),
    (
        "blank file",
        lambda w: w("e.jsonl", "\n  \n"),
        "{p}: file is empty: expected a decode log with at least one utterance",
    ),
    ("header only", lambda w: w("h.csv", HEAD), "{p}: no data rows after the header: expected at least one utterance"),
    (
        "not utf-8",
        lambda w: w("l.csv", HEAD.encode() + b"a-1,x,x\na-2,caf\xe9,y\n"),
        "{p}, line 3: not UTF-8 text: byte 0xe9 at column 8 (re-encode the file as UTF-8)",
    ),
    (
        "not utf-8 in jsonl",
        lambda w: w("l.jsonl", b'{"id": "\xff"}\n'),
        "{p}, line 1: not UTF-8 text: byte 0xff at column 9 (re-encode the file as UTF-8)",
    ),
    (
        "unknown extension",
        lambda w: w("decode.log", HEAD),
        "{p}: cannot tell the log format from the name 'decode.log': pass format= (one of csv, "
        "tsv, jsonl, parquet, trn, kaldi, nemo)",
    ),
    (
        "txt without tabs",
        lambda w: w("decode.txt", HEAD),
        "{p}: cannot tell the log format from the name 'decode.txt': pass format= (one of csv, "
        "tsv, jsonl, parquet, trn, kaldi, nemo)",
    ),
    ("not parquet", lambda w: w("l.parquet", HEAD), None),
    (
        "not utf-8 inside gzip",
        lambda w: w("l.csv.gz", __import__("gzip").compress(HEAD.encode() + b"a-1,caf\xe9,y\n")),
        "{p}, line 2: not UTF-8 text: byte 0xe9 at column 8 (re-encode the file as UTF-8)",
    ),
]


@pytest.mark.parametrize(("make", "expected"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_bad_files(write, make, expected):
    path = make(write)
    with pytest.raises(InputError) as info:
        read_log(path, drop_invalid=True)
    if expected is None:
        assert str(info.value).startswith(f"{path}: cannot be read as Parquet: ")
    else:
        assert str(info.value) == expected.format(p=path)


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("l.csv.gz", b"\x1f\x8b\x08\x00garbage", "gzip"),
        ("l.jsonl.xz", b"not xz at all", "xz"),
        ("ref.trn.bz2", b"BZh9 truncated", "bzip2"),
    ],
)
def test_corrupt_compressed_files_are_named(write, name, content, kind):
    path = write(name, content)
    with pytest.raises(InputError) as info:
        read_log(path) if ".trn" not in name else read_log(ref=path, hyp=path)
    assert str(info.value).startswith(f"{path}: not a valid {kind} file: ")


def test_non_utf8_in_trn_names_the_line(write):
    ref = write("r.trn", b"ok (a-1)\nna\xefve (a-2)\n")
    hyp = write("h.trn", "ok (a-1)\n")
    with pytest.raises(InputError) as info:
        read_log(ref=ref, hyp=hyp)
    assert str(info.value) == (f"{ref}, line 2: not UTF-8 text: byte 0xef at column 3 (re-encode the file as UTF-8)")
    assert (info.value.file, info.value.row, info.value.column) == (str(ref), 2, None)


USAGE = [
    (
        {"format": "xlsx", "source": "x.xlsx"},
        "unknown log format 'xlsx': accepted formats are csv, tsv, jsonl, parquet, trn, kaldi, nemo",
    ),
    ({}, "nothing to read: pass a log file or DataFrame, or ref= and hyp= files"),
    ({"source": "a.csv", "ref": "r.trn", "hyp": "h.trn"}, "pass either a log (source) or ref=/hyp= files, not both"),
    ({"ref": "r.trn"}, "ref= and hyp= go together: pass both files"),
    ({"source": "a.txt", "format": "kaldi"}, "format 'kaldi' needs ref= and hyp= files (source must be None)"),
    ({"ref": "r", "hyp": "h", "format": "csv"}, "format 'csv' is one file; ref=/hyp= pairs are 'trn' or 'kaldi'"),
    ({"source": "a.csv", "utt2spk": "u"}, "utt2spk= is a Kaldi file; it goes with format 'kaldi'"),
    ({"source": 3}, "source must be a path or a pandas DataFrame, not int"),
    (
        {"source": "a.csv", "speaker_pattern": "spk"},
        "speaker_pattern must be 'sclite' or a regular expression with exactly one group: 'spk' has 0",
    ),
    (
        {"source": "a.csv", "speaker_pattern": "(unclosed"},
        "speaker_pattern must be 'sclite' or a regular expression with exactly one group: "
        "missing ), unterminated subpattern at position 0",
    ),
]


@pytest.mark.parametrize(("kwargs", "expected"), USAGE)
def test_usage_errors(kwargs, expected):
    with pytest.raises(InputError) as info:
        read_log(**kwargs)
    assert str(info.value) == expected


def test_trn_source_alone_asks_for_the_pair(write):
    path = write("hyp.trn", "x (a-1)\n")
    with pytest.raises(InputError) as info:
        read_log(path)
    assert str(info.value) == f"{path}: format 'trn' needs ref= and hyp= files (source must be None)"
