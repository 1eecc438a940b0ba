"""read_clean_log: a clean CSV/TSV as Arrow is exactly what read_log returns, and anything
read_log would drop, convert or refuse is left to read_log (``None``)."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from wergap._arrow import as_numpy, from_numpy
from wergap.data_schemas import read_log
from wergap.data_schemas.arrow_log import read_clean_log
from wergap.errors import InputError
from wergap.provenance import provenance

from .test_log_properties import WORDS

CLEAN = {
    "plain.csv": (
        "utt_id,speaker_id,ref,hyp\n"
        'a-1,a,"Hello, world!",hello word\n'
        "a-2,a,It's 5 o'clock.,\n"
        'b-1,b,"two\nlines",two lines\n'
        "b-2,b,Ünïcödé straße 東京,unicode strasse 東京\n"
        "0001,c,!!!,uh\n"
    ),
    "aliases.tsv": (
        "id\tspeaker\treference\thypothesis\tage\tscore\tnative\taccent\tlatitude\tlng\n"
        'x1\ts1\tsay "hi"\tsay hi\t34\t0.5\ttrue\tsouthern\t40\t-75.5\n'
        "x2\ts2\tno\tnope\t61\t1.25\tfalse\tnew england\t-33\t151\n"
    ),
    "zips.csv": (
        "utt_id,speaker_id,ref,hyp,zip,lat,lon\n"
        "u1,s1,hello there,hello,02139,42.36,-71.09\n"
        "u2,s2,good morning,good morning,94110,37.75,-122.42\n"
    ),
    "extras.csv": (
        "utt_id,speaker_id,ref,hyp,audio,system,hits,device\n"
        "u1,s1,a b c,a b,/d/u1.wav,sysA,9,phone\n"
        "u2,s2,d e,d e f,/d/u2.wav,sysA,9,far-field\n"
    ),
}


def _write(tmp_path, name: str, text: str, *, bom: bool = False, crlf: bool = False, gz: bool = False):
    data = text.replace("\n", "\r\n") if crlf else text
    raw = (("\ufeff" if bom else "") + data).encode("utf-8")
    path = tmp_path / (name + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


def _assert_same_as_read_log(path, **kwargs) -> None:
    clean = read_clean_log(path, **kwargs)
    assert clean is not None, "a clean log must take the Arrow path"
    expected = read_log(path, **kwargs)
    got = clean.table.to_pandas()
    pd.testing.assert_frame_equal(got, expected)
    assert clean.provenance == provenance(expected)
    # pandas writes its str columns as large_string: the Arrow path's Parquet types match
    assert clean.table.schema.equals(pa.Table.from_pandas(expected, preserve_index=False).schema.remove_metadata())


@pytest.mark.parametrize("name", sorted(CLEAN))
def test_clean_logs_read_as_read_log_reads_them(tmp_path, name):
    _assert_same_as_read_log(_write(tmp_path, name, CLEAN[name]))


def test_bom_crlf_and_gzip_read_alike(tmp_path):
    _assert_same_as_read_log(_write(tmp_path, "plain.csv", CLEAN["plain.csv"], bom=True, crlf=True, gz=True))


def test_explicit_format_and_column_mapping(tmp_path):
    text = "U;S;R;H\n".replace(";", ",") + "k1,p,one two,one too\nk2,q,three,three\n"
    path = _write(tmp_path, "log.txt", text)
    assert read_clean_log(path) is None  # a .txt name alone does not say CSV
    _assert_same_as_read_log(path, format="csv", columns={"U": "utt_id", "S": "speaker_id", "R": "ref", "H": "hyp"})
    clean = read_clean_log(path, format="csv", columns={"U": "utt_id", "S": "speaker_id", "R": "ref", "H": "hyp"})
    assert clean.provenance["renamed"] == {"U": "utt_id", "S": "speaker_id", "R": "ref", "H": "hyp"}


HEADER = "utt_id,speaker_id,ref,hyp"
NOT_CLEAN = {
    "blank id": HEADER + "\n,s1,a,a\nu2,s1,b,b\n",
    "id of spaces": HEADER + '\n"  ",s1,a,a\nu2,s1,b,b\n',
    "id starting with a space": HEADER + '\n" u1",s1,a,a\nu2,s1,b,b\n',
    "id starting with a unicode space": HEADER + "\n\u3000u1,s1,a,a\nu2,s1,b,b\n",
    "repeated id": HEADER + "\nu1,s1,a,a\nu1,s1,b,b\n",
    "blank speaker": HEADER + "\nu1,,a,a\nu2,s1,b,b\n",
    "speaker from the id": "utt_id,ref,hyp\ns1-u1,a,a\ns2-u2,b,b\n",
    "counts beside the text": HEADER + ",errors,ref_words\nu1,s1,a,a,0,1\nu2,s1,b,c,1,1\n",
    "published wer": HEADER + ",wer\nu1,s1,a,a,0\nu2,s1,b,c,1\n",
    "zip codes": HEADER + ",zip\nu1,s1,a,a,02139\nu2,s1,b,c,2139\n",
    "zip missing": HEADER + ",zip\nu1,s1,a,a,02139\nu2,s1,b,c,\n",
    "zip 00000": HEADER + ",zip\nu1,s1,a,a,02139\nu2,s1,b,c,00000\n",
    "zip+4": HEADER + ",zip\nu1,s1,a,a,02139-1234\nu2,s1,b,c,02139\n",
    "latitude out of range": HEADER + ",lat\nu1,s1,a,a,95\nu2,s1,b,c,40\n",
    "latitude missing": HEADER + ",lat\nu1,s1,a,a,\nu2,s1,b,c,40\n",
    "latitude as text": HEADER + ",lat\nu1,s1,a,a,north\nu2,s1,b,c,40\n",
    "number with a gap": HEADER + ",age\nu1,s1,a,a,\nu2,s1,b,c,40\n",
    "empty column": HEADER + ",notes\nu1,s1,a,a,\nu2,s1,b,c,\n",
    "not a number": HEADER + ",score\nu1,s1,a,a,nan\nu2,s1,b,c,1.5\n",
    "no hypothesis column": "utt_id,speaker_id,ref\nu1,s1,a\n",
}


@pytest.mark.parametrize("case", sorted(NOT_CLEAN))
def test_logs_read_log_would_change_are_left_to_it(tmp_path, case):
    path = _write(tmp_path, "log.csv", NOT_CLEAN[case])
    assert read_clean_log(path) is None


def test_malformed_lines_raise_as_read_log_does_or_are_left_to_it(tmp_path):
    path = _write(tmp_path, "log.csv", HEADER + "\nu1,s1,a,a\nu2,s1,b\nu3,s1,c,c\n")
    with pytest.raises(InputError) as ours:
        read_clean_log(path)
    with pytest.raises(InputError) as theirs:
        read_log(path)
    assert str(ours.value) == str(theirs.value)
    assert ours.value.row == theirs.value.row == 3
    # dropped and counted: read_log's job
    assert read_clean_log(path, drop_invalid=True) is None


def test_jsonl_and_parquet_are_left_to_read_log(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"utt_id": "u1", "speaker_id": "s", "ref": "a", "hyp": "a"}\n', encoding="utf-8")
    assert read_clean_log(path) is None


@pytest.mark.parametrize(
    "arr",
    [
        pa.array([1, 2, 3, 4], pa.int64()).slice(1, 2),
        pa.array([1.5, -2.0], pa.float64()),
        pa.array(np.arange(10, dtype=np.int32)).slice(3),
        pa.array([True, False, True] * 5).slice(3, 9),
        pa.array([], pa.int64()),
        pa.array([], pa.bool_()),
    ],
)
def test_numpy_views_hold_the_arrow_values(arr):
    values = as_numpy(arr)
    assert values.tolist() == arr.to_pylist()
    assert from_numpy(values).equals(arr if len(arr) else arr.cast(arr.type))


def test_numpy_view_refuses_missing_values():
    with pytest.raises(ValueError, match="missing"):
        as_numpy(pa.array([1, None]))


# Values drawn to hit read_log's edges: an id that is blank, starts with whitespace of any
# kind or repeats another (at most one such id a log, so that many logs are clean), and
# extra columns with gaps, numbers that look like text and text like numbers.
ODD_ID = st.tuples(
    st.sampled_from(["utt_id", "speaker_id"]),
    st.integers(0, 4),
    st.sampled_from(["", " ", " u", "\u3000u", "\x1cu", "\x85u", "0001", "1e3", "u ", "s-0"]),
)
CELLS = st.one_of(
    st.sampled_from(["1", "2.5", "-7", "40", "-75.5", "true", "False", "x"]),
    st.sampled_from(["", "nan", "inf", "95", "-181", "2020-01-02", "02139", "00000", "2139", "02139-1234"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=6),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(WORDS, WORDS, CELLS, CELLS), min_size=1, max_size=5),
    st.one_of(st.none(), ODD_ID),
    st.sampled_from(
        [("lat", "lon"), ("age", "accent"), ("lon", "score"), ("device", "age"), ("accent", "score"), ("zip", "age")]
    ),
    st.sampled_from(["csv", "tsv"]),
)
def test_whenever_the_arrow_reader_takes_a_log_it_equals_read_log(tmp_path_factory, rows, odd, extra, fmt):
    """It may leave any log to read_log, but a log it takes is the table read_log returns."""
    frame = pd.DataFrame(rows, columns=["ref", "hyp", *extra])
    frame.insert(0, "utt_id", [f"s-{i}" for i in range(len(frame))])
    frame.insert(1, "speaker_id", [f"s{i % 2}" for i in range(len(frame))])
    if odd is not None:
        column, row, value = odd
        frame.loc[row % len(frame), column] = value
    path = tmp_path_factory.mktemp("logs") / f"log.{fmt}"
    if fmt == "tsv":  # TSV has no quoting: keep separators and line breaks out of the cells
        frame = frame.replace({r"[\t\n\r]": " "}, regex=True)
    frame.to_csv(path, index=False, sep="," if fmt == "csv" else "\t")
    try:
        expected = read_log(path)
    except InputError:
        assert read_clean_log(path) is None
        return
    clean = read_clean_log(path)
    event("taken by the Arrow reader" if clean is not None else "left to read_log")
    if clean is not None:
        pd.testing.assert_frame_equal(clean.table.to_pandas(), expected)
        assert clean.provenance == provenance(expected)


def test_most_clean_logs_take_the_arrow_path(tmp_path):
    frame = pd.DataFrame(
        {
            "utt_id": [f"s{i % 7}-{i}" for i in range(200)],
            "speaker_id": [f"s{i % 7}" for i in range(200)],
            "ref": [f"word {i} and more" for i in range(200)],
            "hyp": [f"word {i} or more" for i in range(200)],
            "lat": [30 + i / 100 for i in range(200)],
            "device": ["phone", "far-field"] * 100,
        }
    )
    frame.to_csv(tmp_path / "log.csv", index=False)
    _assert_same_as_read_log(tmp_path / "log.csv")
