"""wergap.engines picks an engine by name; the pandas engine takes a log at any stage."""

from __future__ import annotations

import pandas as pd
import pandas.testing as pdt
import pytest

import wergap as wg
from wergap import engines
from wergap.data_schemas import InputError
from wergap.demo import make_example
from wergap.engines import dask as dask_engine
from wergap.engines import pandas as pandas_engine


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return make_example(n_speakers=40, seed=5).log


def test_engines_are_named():
    assert engines.ENGINES == ("pandas", "dask")
    with pytest.raises(InputError, match="^" + engines.UNKNOWN_ENGINE.format(engine="spark", choices="pandas, dask")):
        engines.speaker_table("decode.tsv", "spark")


def test_the_pandas_engine_takes_a_file_a_log_a_scored_log_or_speakers(log, tmp_path):
    path = tmp_path / "decode.tsv"
    log.to_csv(path, sep="\t", index=False)
    scored = wg.score(wg.read_log(path))
    expected = wg.speakers(scored)
    for data in (path, str(path), wg.read_log(path), scored):
        got, got_scored = engines.speaker_table(data)
        pdt.assert_frame_equal(got, expected)
        pdt.assert_frame_equal(got_scored, scored)
    got, none = engines.speaker_table(expected, "pandas")
    assert got is expected and none is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (pd.DataFrame({"a": [1]}), pandas_engine.NOT_RECOGNISED),
        (42, pandas_engine.NOT_A_TABLE.format(kind="int")),
    ],
)
def test_the_pandas_engine_names_what_it_cannot_read(data, message):
    with pytest.raises(InputError) as err:
        engines.speaker_table(data)
    assert str(err.value) == message


def test_the_dask_engine_reads_files_not_frames(log):
    with pytest.raises(InputError) as err:
        engines.speaker_table(log, "dask")
    assert str(err.value) == dask_engine.DASK_NEEDS_FILES
