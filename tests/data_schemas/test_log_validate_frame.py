"""validate_frame: read_log's checks on rows already in memory, errors naming the file's row."""

from __future__ import annotations

import pandas as pd
import pandas.testing as pdt
import pytest

from wergap.data_schemas import InputError, provenance, read_log
from wergap.data_schemas.log import (
    BAD_PATTERN,
    INVALID_COORDINATES,
    OUT_OF_RANGE,
    format_from_name,
    speaker_regex,
    validate_frame,
)


def _rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a-1", "a-2", "b-1", "b-2"],
            "reference": ["one two", "three", "four five", "six"],
            "hypothesis": ["one", "three", None, "six"],
            "latitude": [30.0, 31.0, 32.0, 33.0],
        }
    )


def test_rows_of_a_parquet_file_read_as_read_log_reads_the_file(tmp_path):
    path = tmp_path / "part.parquet"
    _rows().to_parquet(path, index=False)
    expected = read_log(path)
    got = validate_frame(pd.read_parquet(path), source=str(path))
    pdt.assert_frame_equal(got, expected)
    assert provenance(got) == provenance(expected)


def test_an_error_names_the_file_the_row_of_the_file_and_the_column():
    rows = _rows()
    rows.loc[2, "latitude"] = 123.0
    with pytest.raises(InputError) as err:
        validate_frame(rows, source="logs/part-3.parquet", first_row=1000)
    message = OUT_OF_RANGE.format(value=123.0, low=-90.0, high=90.0)
    assert str(err.value) == f"logs/part-3.parquet, column 'latitude': {message} (row 1002)"
    assert (err.value.file, err.value.row, err.value.column) == ("logs/part-3.parquet", None, "latitude")


def test_drop_invalid_counts_the_rows_and_keeps_the_rest():
    rows = _rows()
    rows.loc[[0, 3], "latitude"] = 123.0
    got = validate_frame(rows, source="part.parquet", first_row=50, drop_invalid=True)
    assert got["utt_id"].tolist() == ["a-2", "b-1"]
    meta = provenance(got)
    assert meta["dropped"] == {INVALID_COORDINATES: 2} and meta["rows_read"] == 4
    assert meta["sources"] == ["part.parquet"] and meta["format"] == "parquet"


def test_without_a_source_rows_are_positions_offset_by_first_row():
    rows = _rows()
    rows.loc[1, "latitude"] = -100.0
    with pytest.raises(InputError) as err:
        validate_frame(rows, first_row=10)
    assert err.value.file is None and err.value.row == 11
    assert provenance(validate_frame(_rows()))["format"] == "dataframe"


def test_speaker_pattern_and_columns_apply_as_in_read_log():
    rows = _rows().rename(columns={"latitude": "where"})
    got = validate_frame(rows, source="p.parquet", speaker_pattern=r"^(\w)-", columns={"where": "lat"})
    assert got["speaker_id"].tolist() == ["a", "a", "b", "b"] and "lat" in got


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("log.csv", "csv"),
        ("a/b/log.TSV", "tsv"),
        ("log.csv.gz", "csv"),
        ("x.ndjson", "jsonl"),
        ("part-0.pq", "parquet"),
        ("ref.trn", "trn"),
        ("notes.txt", None),
        ("README", None),
    ],
)
def test_format_from_name(name, expected):
    assert format_from_name(name) == expected


def test_speaker_regex():
    assert speaker_regex("sclite") is None
    assert speaker_regex(r"^(\w+)_").groups == 1
    with pytest.raises(InputError, match="^" + BAD_PATTERN.split(":")[0]):
        speaker_regex(r"(a)(b)")
