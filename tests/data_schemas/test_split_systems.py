"""One log holding several systems' decodes, split by its ``system`` column."""

from __future__ import annotations

import pandas as pd
import pytest

from wergap.data_schemas import InputError, read_log
from wergap.data_schemas.log import split_systems

ROWS = pd.DataFrame(
    {
        "utt_id": ["a-1", "b-1", "a-1", "b-1"],
        "ref": ["hi there", "yes", "hi there", "yes"],
        "hyp": ["hi", "yes", "hi there", "no"],
        "system": ["A", "A", "B", "B"],
    }
)


@pytest.mark.parametrize("suffix", [".tsv", ".csv", ".parquet", ".jsonl"])
def test_split_takes_each_systems_rows_in_order(tmp_path, suffix):
    path = tmp_path / f"both{suffix}"
    if suffix == ".parquet":
        ROWS.to_parquet(path, index=False)
    elif suffix == ".jsonl":
        ROWS.to_json(path, orient="records", lines=True)
    else:
        ROWS.to_csv(path, sep="\t" if suffix == ".tsv" else ",", index=False)
    b, a = split_systems(path, ["B", "A"])
    assert b["hyp"].tolist() == ["hi there", "no"] and a["hyp"].tolist() == ["hi", "yes"]
    assert a.attrs["wergap"]["sources"] == [f"{path} [system=A]"]
    assert read_log(a)["speaker_id"].tolist() == ["a", "b"]


def test_unknown_system_lists_those_present(tmp_path):
    path = tmp_path / "both.tsv"
    ROWS.to_csv(path, sep="\t", index=False)
    with pytest.raises(InputError, match=r"system 'C' not found in column 'system' \(it has: A, B\)"):
        split_systems(path, ["A", "C"])


def test_no_system_column_is_an_input_error(tmp_path):
    path = tmp_path / "one.tsv"
    ROWS.drop(columns="system").to_csv(path, sep="\t", index=False)
    with pytest.raises(InputError, match="no 'system' column"):
        split_systems(path, ["A", "B"])


def test_split_a_table_into_every_system_in_order_of_appearance():
    parts = split_systems(ROWS.iloc[::-1].reset_index(drop=True))
    assert [p["system"].iloc[0] for p in parts] == ["B", "A"]
    assert all(len(p) == 2 for p in parts)
    with pytest.raises(InputError, match="system 'C' not found"):
        split_systems(ROWS, ["C"])
