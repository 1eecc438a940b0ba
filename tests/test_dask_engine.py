"""The Dask engine gives exactly the pandas engine's counts, speaker table and cohort stats."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

pytest.importorskip("dask.dataframe")

import wergap as wg
from wergap.cohorts.partition import partition_from_column
from wergap.cohorts.stats import cohort_table
from wergap.data_schemas import InputError
from wergap.demo import make_example
from wergap.engines import _files as engine_files
from wergap.engines import dask as dask_engine

#: Runs the whole demo / starts Dask clusters: `make test-quick` leaves these out.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    """A simulated log with per-utterance jitter in lat/lon (so medians are non-trivial)."""
    frame = make_example(n_speakers=80, seed=3).log.copy()
    frame.attrs = {}
    rng = np.random.default_rng(0)
    frame["lat"] = frame["lat"] + rng.normal(0, 0.05, len(frame))
    frame["lon"] = frame["lon"] + rng.normal(0, 0.05, len(frame))
    # A speaker whose utterances straddle files, and ties in the most frequent device.
    frame.loc[frame.index[::7], "device"] = "speaker"
    return frame


def _write(frame: pd.DataFrame, folder: Path, kind: str, parts: int = 4) -> Path:
    """Write ``frame`` as ``parts`` files, rows interleaved so speakers span files."""
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(parts):
        chunk = frame.iloc[k::parts].rename(columns={"speaker_id": "spk", "ref": "reference"})
        path = folder / f"part-{k}.{kind}"
        if kind == "parquet":
            chunk.to_parquet(path, index=False, row_group_size=50)
        else:
            chunk.to_csv(path, sep="\t" if kind == "tsv" else ",", index=False)
    return folder


def _pandas_engine(files: list[Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    frames = [wg.read_log(f) for f in files]
    log = pd.concat(frames, ignore_index=True)
    scored = wg.score(log, n_jobs=1)
    return scored, wg.speakers(scored)


@pytest.mark.parametrize("kind", ["parquet", "tsv", "csv"])
def test_speaker_table_equals_pandas_engine(log, tmp_path, kind):
    folder = _write(log, tmp_path / kind, kind)
    files = sorted(folder.glob(f"*.{kind}"))
    scored, expected = _pandas_engine(files)
    got, meta = dask_engine.score_speakers(folder, scheduler="synchronous", blocksize=100)
    pdt.assert_frame_equal(got, expected, check_dtype=False)
    for col in ("utterances", "ref_words", "errors", "substitutions", "deletions", "insertions", "hits"):
        assert got[col].dtype == expected[col].dtype, col
    assert meta["rows_read"] == len(log)
    assert meta["utterances"] == len(scored)
    assert meta["sources"] == [str(f) for f in files]
    assert meta["normalization"] == "default" and meta["engine"] == "dask"
    if kind == "parquet":  # 4 files of ~187 rows in row groups of 50, ~100 rows per chunk
        assert meta["partitions"] > len(files)


def test_a_folder_of_gzipped_text_logs_reads_like_plain_files(log, tmp_path):
    import gzip

    plain = _write(log, tmp_path / "plain", "tsv")
    packed = tmp_path / "packed"
    packed.mkdir()
    for f in sorted(plain.glob("*.tsv")):
        (packed / (f.name + ".gz")).write_bytes(gzip.compress(f.read_bytes()))
    expected, _ = dask_engine.score_speakers(plain, scheduler="synchronous")
    got, meta = dask_engine.score_speakers(packed, scheduler="synchronous")
    pdt.assert_frame_equal(got, expected)
    assert meta["format"] == "tsv" and all(s.endswith(".tsv.gz") for s in meta["sources"])


def test_scored_counts_equal_pandas_engine(log, tmp_path):
    folder = _write(log, tmp_path / "pq", "parquet")
    frames, metas, files, fmt = dask_engine.scored_frame(folder, blocksize=60)
    got = frames.compute(scheduler="synchronous")
    scored, _ = _pandas_engine([Path(f) for f in files])
    assert fmt == "parquet" and frames.npartitions > len(files)
    key = ["speaker_id", "lat", "lon"]
    cols = key + ["substitutions", "deletions", "insertions", "hits", "ref_words", "errors"]
    pdt.assert_frame_equal(
        got[cols].sort_values(key).reset_index(drop=True),
        scored[cols].sort_values(key).reset_index(drop=True),
    )
    assert "ref" not in got.columns and "hyp" not in got.columns


def test_cohort_statistics_and_audit_equal(log, tmp_path):
    folder = _write(log, tmp_path / "pq", "parquet")
    _, expected = _pandas_engine(sorted(folder.glob("*.parquet")))
    got, _ = dask_engine.score_speakers(str(folder / "*.parquet"), scheduler="threads", blocksize=80)
    for col in ("gender", "device"):
        table_pd = cohort_table(expected, partition_from_column(expected, col), min_speakers=5, n_boot=200)
        table_dk = cohort_table(got, partition_from_column(got, col), min_speakers=5, n_boot=200)
        pdt.assert_frame_equal(table_dk, table_pd)
    a = wg.audit(expected, methods=["geo_tree"], min_speakers=10, n_boot=50)
    b = wg.audit(got, methods=["geo_tree"], min_speakers=10, n_boot=50)
    pdt.assert_frame_equal(a.summary(), b.summary())


def test_audit_with_engine_dask_equals_the_pandas_engine(log, tmp_path):
    folder = _write(log, tmp_path / "pq", "parquet")
    options = {"methods": ["geo_tree"], "n_boot": 50, "known_attributes": ["device"]}
    on_dask = wg.audit(folder, engine="dask", scheduler="synchronous", **options)
    on_pandas = wg.audit(_pandas_engine(sorted(folder.glob("*.parquet")))[0], **options)
    # The adjusted gap is fitted on utterances, which do not come back from Dask: NaN there.
    adjusted = ["raw_ratio", "adjusted_ratio", "adjusted_ci_low", "adjusted_ci_high"]
    assert on_dask.summary()[adjusted].isna().all().all()
    pdt.assert_frame_equal(on_dask.summary().drop(columns=adjusted), on_pandas.summary().drop(columns=adjusted))
    pdt.assert_frame_equal(on_dask.speakers, on_pandas.speakers, check_dtype=False)
    # Only the speaker table comes back from Dask: an attribute is each speaker's most
    # frequent value (the pandas engine can count a speaker under two devices).
    expected = wg.disaggregate(on_pandas.speakers, "device", min_speakers=10, n_boot=50)  # min_group_speakers
    pdt.assert_frame_equal(on_dask.disaggregated["device"], expected)
    assert on_dask.params["engine"] == "dask" and on_dask.provenance["engine"] == "dask"
    with pytest.raises(InputError, match="not an in-memory DataFrame"):
        wg.audit(log, engine="dask")
    with pytest.raises(InputError, match="unknown engine 'spark'"):
        wg.audit(folder, engine="spark")


def test_distributed_local_cluster(log, tmp_path):
    distributed = pytest.importorskip("distributed")
    folder = _write(log, tmp_path / "pq", "parquet", parts=2)
    _, expected = _pandas_engine(sorted(folder.glob("*.parquet")))
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        got, _ = dask_engine.score_speakers(folder, scheduler=cluster.scheduler_address)
    pdt.assert_frame_equal(got, expected, check_dtype=False)


def test_counts_only_logs(tmp_path):
    rows = pd.DataFrame(
        {
            "utt_id": [f"u{i}" for i in range(12)],
            "speaker_id": ["a", "b", "c"] * 4,
            "errors": list(range(12)),
            "ref_words": [20] * 12,
        }
    )
    folder = tmp_path / "counts"
    folder.mkdir()
    rows.iloc[:6].to_csv(folder / "a.csv", index=False)
    rows.iloc[6:].to_csv(folder / "b.csv", index=False)
    got, meta = dask_engine.score_speakers(folder, scheduler="synchronous")
    assert got["errors"].tolist() == [0 + 3 + 6 + 9, 1 + 4 + 7 + 10, 2 + 5 + 8 + 11]
    assert got["ref_words"].tolist() == [80, 80, 80]


def test_row_errors_name_the_file_and_row(log, tmp_path):
    folder = _write(log.head(200), tmp_path / "bad", "parquet", parts=2)
    bad = pd.read_parquet(folder / "part-1.parquet")
    bad.loc[57, "lat"] = 123.0
    bad.to_parquet(folder / "part-1.parquet", index=False, row_group_size=50)
    with pytest.raises(InputError) as err:
        dask_engine.score_speakers(folder, scheduler="synchronous", blocksize=50)
    assert err.value.file == str(folder / "part-1.parquet")
    assert err.value.column == "lat"
    assert "(row 57)" in str(err.value)

    got, meta = dask_engine.score_speakers(folder, scheduler="synchronous", blocksize=50, drop_invalid=True)
    assert meta["dropped"] == {"invalid coordinates": 1}
    assert meta["rows_read"] == 200 and meta["utterances"] == 199


def test_tsv_error_names_the_line(tmp_path):
    folder = tmp_path / "tsv"
    folder.mkdir()
    (folder / "a.tsv").write_text("utt_id\tspk\tref\thyp\nu1\ts1\thi\thi\n")
    (folder / "b.tsv").write_text("utt_id\tspk\tref\thyp\nu2\ts1\thi\thi\nu3\t\tyo\tyo\n")
    with pytest.raises(InputError) as err:
        dask_engine.score_speakers(folder, scheduler="synchronous")
    assert (err.value.file, err.value.row, err.value.column) == (str(folder / "b.tsv"), 3, "spk")


def test_missing_columns_and_no_files(tmp_path):
    folder = tmp_path / "x"
    folder.mkdir()
    with pytest.raises(InputError, match="no decode-log files"):
        dask_engine.score_speakers(folder, scheduler="synchronous")
    (folder / "a.csv").write_text("utt_id,speaker_id,ref\nu1,s1,hi\n")
    with pytest.raises(InputError, match="missing required column") as err:
        dask_engine.score_speakers(folder, scheduler="synchronous")
    assert err.value.file == str(folder / "a.csv")
    (folder / "b.parquet").write_bytes(b"")
    with pytest.raises(InputError, match="mixes formats"):
        dask_engine.score_speakers(folder, scheduler="synchronous")


def test_cli_score_and_audit_with_dask(log, tmp_path, capsys):
    from wergap.cli import main

    folder = _write(log, tmp_path / "pq", "parquet", parts=2)
    _, expected = _pandas_engine(sorted(folder.glob("*.parquet")))
    out = tmp_path / "speakers.parquet"
    assert main(["score", str(folder), "--engine", "dask", "--scheduler", "synchronous", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"utterances  {len(log):,} of {len(log):,} rows read" in printed
    pdt.assert_frame_equal(pd.read_parquet(out), expected, check_dtype=False)

    html = tmp_path / "report.html"
    code = main(
        [
            "audit",
            str(folder / "*.parquet"),
            "--engine",
            "dask",
            "--scheduler",
            "threads",
            "--methods",
            "geo_tree",
            "--min-speakers",
            "10",
            "--n-boot",
            "50",
            "-o",
            str(html),
        ]
    )
    assert code == 0 and html.stat().st_size > 0
    assert "geo_tree" in capsys.readouterr().out


def test_cli_dask_refuses_what_it_cannot_do(log, tmp_path, capsys):
    from wergap.cli import main

    folder = _write(log, tmp_path / "pq", "parquet", parts=2)
    code = main(["export-weights", str(folder), "--engine", "dask", "-o", str(tmp_path / "w.parquet")])
    assert code == 2 and "export-weights cannot use" in capsys.readouterr().err
    code = main(["score", "--ref", "a.trn", "--hyp", "b.trn", "--engine", "dask", "-o", str(tmp_path / "s.parquet")])
    assert code == 2 and "not --ref/--hyp" in capsys.readouterr().err


def _local_cluster():
    distributed = pytest.importorskip("distributed")
    return distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None)


@pytest.mark.parametrize("scheduler", ["synchronous", "distributed"])
def test_a_shard_read_twice_is_a_duplicate(log, tmp_path, scheduler):
    """The same utt_id in two files: an error naming both, or (drop_invalid) the first copy kept."""
    folder = _write(log, tmp_path / "pq", "parquet", parts=3)
    files = sorted(folder.glob("*.parquet"))
    _, expected = _pandas_engine(files)
    again = folder / "part-9.parquet"  # sorts after the others: the second copy of part-1
    again.write_bytes(files[1].read_bytes())
    n_copies = len(pd.read_parquet(again))

    def run(**kwargs):
        if scheduler == "synchronous":
            return dask_engine.score_speakers(folder, scheduler="synchronous", blocksize=100, **kwargs)
        with _local_cluster() as cluster:
            return dask_engine.score_speakers(folder, scheduler=cluster.scheduler_address, blocksize=100, **kwargs)

    with pytest.raises(InputError, match="duplicate utt_id") as err:
        run()
    assert err.value.file == str(again) and err.value.column == "utt_id"
    assert str(files[1]) in str(err.value)
    utt_id = re.search(r"duplicate utt_id '([^']+)'", str(err.value)).group(1)
    assert utt_id in set(pd.read_parquet(again)["utt_id"])

    got, meta = run(drop_invalid=True)
    pdt.assert_frame_equal(got, expected, check_dtype=False)
    assert meta["dropped"] == {"duplicate utt_id": n_copies}
    assert meta["rows_read"] == len(log) + n_copies and meta["utterances"] == len(log)


def test_duplicates_keep_the_first_file_as_read_log_does(tmp_path):
    """drop_invalid keeps the copy in the earlier file, as read_log keeps the earlier row."""
    folder = tmp_path / "dup"
    folder.mkdir()
    a = pd.DataFrame({"utt_id": ["u1", "u2"], "speaker_id": ["s1", "s1"], "ref": ["a b", "c d"], "hyp": ["a b", "c d"]})
    b = pd.DataFrame({"utt_id": ["u2", "u3"], "speaker_id": ["s1", "s1"], "ref": ["c d", "e f"], "hyp": ["x y", "e f"]})
    a.to_csv(folder / "a.csv", index=False)
    b.to_csv(folder / "b.csv", index=False)
    expected = wg.speakers(wg.score(wg.read_log(pd.concat([a, b], ignore_index=True), drop_invalid=True), n_jobs=1))
    got, meta = dask_engine.score_speakers(folder, scheduler="synchronous", drop_invalid=True)
    pdt.assert_frame_equal(got, expected, check_dtype=False)
    assert got["errors"].tolist() == [0] and meta["dropped"] == {"duplicate utt_id": 1}


def test_synthesised_ids_are_not_duplicates(tmp_path):
    """Logs without utt_id get '<stem>:<row>' per file: two folders' x.csv do not collide."""
    rows = pd.DataFrame({"speaker_id": ["a", "b"], "errors": [1, 2], "ref_words": [10, 10]})
    for sub in ("day1", "day2"):
        (tmp_path / "logs" / sub).mkdir(parents=True)
        rows.to_csv(tmp_path / "logs" / sub / "x.csv", index=False)
    got, meta = dask_engine.score_speakers(tmp_path / "logs", scheduler="synchronous")
    assert got["utterances"].tolist() == [2, 2] and got["errors"].tolist() == [2, 4]
    assert meta["dropped"] == {}


def _files_with(frames: list[pd.DataFrame], folder: Path) -> list[Path]:
    folder.mkdir()
    paths = []
    for k, frame in enumerate(frames):
        frame.to_parquet(folder / f"part-{k}.parquet", index=False)
        paths.append(folder / f"part-{k}.parquet")
    return paths


def _rows(start: int, n: int = 6) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "utt_id": [f"u{start + i}" for i in range(n)],
            "speaker_id": [f"s{i % 3}" for i in range(n)],
            "ref": ["one two three"] * n,
            "hyp": ["one too three"] * n,
            "lat": np.linspace(30.0, 31.0, n) + start / 1000,
            "lon": np.linspace(-90.0, -89.0, n),
            "zip": ["02139"] * n,
            "age": [30, 40, 30, 50, 40, 30][:n],
        }
    )


@pytest.mark.parametrize(
    "case", ["all missing in the first file", "missing from a later file", "all missing in a later file"]
)
def test_files_whose_columns_differ_shuffle_on_distributed(tmp_path, case):
    """The p2p shuffle (Arrow) gets one schema: missing values and columns are unified."""
    first, later = _rows(0), _rows(100)
    if case == "all missing in the first file":
        first["age"] = None
        first["zip"] = None
    elif case == "missing from a later file":
        later = later.drop(columns=["age", "lat", "lon"])
    else:
        later["age"] = None
        later["zip"] = None
    files = _files_with([first, later], tmp_path / "pq")
    _, expected = _pandas_engine(files)
    with _local_cluster() as cluster:
        got, _ = dask_engine.score_speakers(tmp_path / "pq", scheduler=cluster.scheduler_address)
    pdt.assert_frame_equal(got, expected, check_dtype=False)
    sync, _ = dask_engine.score_speakers(tmp_path / "pq", scheduler="synchronous")
    pdt.assert_frame_equal(sync, expected, check_dtype=False)


def test_a_column_of_another_kind_names_the_file(tmp_path):
    later = _rows(100)
    later["age"] = ["thirty"] * len(later)
    files = _files_with([_rows(0), later], tmp_path / "pq")
    with pytest.raises(InputError, match="holds text values where .* holds number values") as err:
        dask_engine.score_speakers(tmp_path / "pq", scheduler="synchronous")
    assert (err.value.file, err.value.column) == (str(files[1]), "age")

    extra = _rows(200)
    extra["device"] = "phone"
    _files_with([_rows(0), extra], tmp_path / "extra")
    with pytest.raises(InputError, match="'device' is not in .*part-0.parquet, the first file"):
        dask_engine.score_speakers(tmp_path / "extra", scheduler="synchronous")


@pytest.mark.parametrize("batch_rows", [65_536, 7])
def test_a_row_group_larger_than_a_partition_is_read_in_slices(log, tmp_path, monkeypatch, batch_rows):
    """The whole log in one row group, blocksize=100: slices of 100 rows, same table, rows still named."""
    monkeypatch.setattr(engine_files, "SLICE_BATCH_ROWS", batch_rows)  # slices across batches too
    folder = tmp_path / "big"
    folder.mkdir()
    frame = log.reset_index(drop=True)
    frame.to_parquet(folder / "one.parquet", index=False, row_group_size=len(frame))
    chunks = engine_files.make_chunks([str(folder / "one.parquet")], "parquet", 100)
    assert [(c.start, c.take) for c in chunks] == [(k, min(100, len(frame) - k)) for k in range(0, len(frame), 100)]
    _, expected = _pandas_engine([folder / "one.parquet"])
    got, meta = dask_engine.score_speakers(folder, scheduler="synchronous", blocksize=100)
    pdt.assert_frame_equal(got, expected, check_dtype=False)
    assert meta["partitions"] == len(chunks) and meta["rows_read"] == len(frame)

    frame.loc[257, "lat"] = 123.0
    frame.to_parquet(folder / "one.parquet", index=False, row_group_size=len(frame))
    with pytest.raises(InputError) as err:
        dask_engine.score_speakers(folder, scheduler="synchronous", blocksize=100)
    assert "(row 257)" in str(err.value) and err.value.column == "lat"
