"""read_embeddings / speaker_mean_embeddings / attach_embeddings on every source shape and every bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wergap.data_schemas import InputError, attach_embeddings, read_embeddings, speaker_mean_embeddings
from wergap.data_schemas import embeddings as E

VECTORS = np.array([[1.0, 0.0, 2.0], [0.5, -1.0, 0.0], [3.0, 3.0, -3.0]])
IDS = ["spk1", "spk2", "spk3"]


def _equal(table: pd.DataFrame, ids: list[str], vectors: np.ndarray, key: str = "speaker_id") -> None:
    assert table[key].tolist() == ids
    got = np.stack(table["embedding"].to_numpy())
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, vectors.astype(np.float32))
    assert all(isinstance(v, np.ndarray) and v.dtype == np.float32 and v.ndim == 1 for v in table["embedding"])


# ----------------------------------------------------------------- every accepted shape


def _list_column(name: str) -> pd.DataFrame:
    return pd.DataFrame({"speaker_id": IDS, name: list(VECTORS)})


def _numbered(prefix: str, start: int = 0) -> pd.DataFrame:
    frame = pd.DataFrame({"speaker_id": IDS})
    for j in range(VECTORS.shape[1]):
        frame[f"{prefix}{j + start}"] = VECTORS[:, j]
    return frame


FRAMES = [
    ("embedding list column", _list_column("embedding")),
    ("vector column", _list_column("vector")),
    ("emb column", _list_column("emb")),
    ("xvector column", _list_column("xvector")),
    ("lists not arrays", pd.DataFrame({"speaker_id": IDS, "embedding": [list(v) for v in VECTORS]})),
    ("numbered 0..", _numbered("")),
    ("numbered e0..", _numbered("e")),
    ("numbered emb_0..", _numbered("emb_")),
    ("numbered from 1", _numbered("dim_", start=1)),
    ("alias spk", _list_column("embedding").rename(columns={"speaker_id": "spk"})),
]


@pytest.mark.parametrize("name, frame", FRAMES, ids=[f[0] for f in FRAMES])
def test_dataframe_shapes(name: str, frame: pd.DataFrame) -> None:
    table = read_embeddings(frame)
    _equal(table, IDS, VECTORS)
    assert table.attrs["wergap"]["embeddings"] == {"key": "speaker_id", "dim": 3}
    assert table.attrs["wergap"]["format"] == "dataframe"


@pytest.mark.parametrize("name, frame", FRAMES, ids=[f[0] for f in FRAMES])
def test_parquet_shapes(tmp_path: Path, name: str, frame: pd.DataFrame) -> None:
    path = tmp_path / "emb.parquet"
    frame.to_parquet(path, index=False)
    table = read_embeddings(path)
    _equal(table, IDS, VECTORS)
    assert table.attrs["wergap"]["sources"] == [str(path)]
    assert table.attrs["wergap"]["rows_read"] == 3


def test_integer_column_names_in_a_dataframe() -> None:
    frame = pd.concat([pd.DataFrame({"speaker_id": IDS}), pd.DataFrame(VECTORS)], axis=1)
    _equal(read_embeddings(frame), IDS, VECTORS)


def test_the_embed_command_output_shape_reads_as_utterances(tmp_path: Path) -> None:
    """What wergap embed writes: utt_id, speaker_id, embedding (list<float>)."""
    path = tmp_path / "embeddings.parquet"
    pd.DataFrame(
        {
            "utt_id": ["a-1", "a-2", "b-1"],
            "speaker_id": ["a", "a", "b"],
            "embedding": [v.astype(np.float32) for v in VECTORS],
        }
    ).to_parquet(path, index=False)
    table = read_embeddings(path)
    assert list(table.columns) == ["utt_id", "speaker_id", "embedding"]
    _equal(table, ["a-1", "a-2", "b-1"], VECTORS, key="utt_id")
    assert table["speaker_id"].tolist() == ["a", "a", "b"]
    assert table.attrs["wergap"]["embeddings"]["key"] == "utt_id"


def test_a_file_written_by_wergap_embed_keeps_its_drop_counts(tmp_path: Path) -> None:
    """The real writer of ``wergap embed``: list<float32> column, provenance in the metadata."""
    from wergap.embeddings.embed import write_embeddings

    utterances = pd.DataFrame(
        {
            "utt_id": ["a-1", "a-2", "b-1"],
            "speaker_id": ["a", "a", "b"],
            "embedding": [v.astype(np.float32) for v in VECTORS],
        }
    )
    utterances.attrs["wergap"] = {"sources": ["audio.csv"], "dropped": {"audio missing": 2}}
    path = write_embeddings(utterances, tmp_path / "emb.parquet")
    table = read_embeddings(path)
    _equal(table, ["a-1", "a-2", "b-1"], VECTORS, key="utt_id")
    meta = table.attrs["wergap"]
    assert meta["dropped"] == {"audio missing": 2}
    assert meta["sources"] == [str(path), "audio.csv"]
    speakers = pd.DataFrame({"speaker_id": ["a", "b"]})
    assert attach_embeddings(speakers, path).attrs["wergap"]["dropped"] == {"audio missing": 2}


def test_key_overrides_detection() -> None:
    frame = pd.DataFrame({"utt_id": ["u1", "u2", "u3"], "speaker_id": IDS, "embedding": list(VECTORS)})
    table = read_embeddings(frame, key="speaker_id")
    assert list(table.columns) == ["speaker_id", "embedding"]
    with pytest.raises(InputError, match=E.BAD_KEY.format(key="spk")):
        read_embeddings(frame, key="spk")


def test_fixed_size_list_parquet(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "fixed.parquet"
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(VECTORS.ravel(), type=pa.float32()), 3)
    pq.write_table(pa.table({"speaker_id": IDS, "embedding": vectors}), path)
    _equal(read_embeddings(path), IDS, VECTORS)


def test_npy_with_ids_as_list_text_and_csv(tmp_path: Path) -> None:
    path = tmp_path / "emb.npy"
    np.save(path, VECTORS)
    _equal(read_embeddings(path, ids=IDS), IDS, VECTORS)
    (tmp_path / "ids.txt").write_text("spk1\nspk2\nspk3\n\n", encoding="utf-8")
    _equal(read_embeddings(path, ids=tmp_path / "ids.txt"), IDS, VECTORS)
    (tmp_path / "ids.csv").write_text("name,speaker_id\nx,spk1\ny,spk2\nz,spk3\n", encoding="utf-8")
    _equal(read_embeddings(path, ids=tmp_path / "ids.csv"), IDS, VECTORS)
    utt = read_embeddings(path, ids=["u1", "u2", "u3"], key="utt_id")
    assert list(utt.columns) == ["utt_id", "embedding"]


def test_npz(tmp_path: Path) -> None:
    path = tmp_path / "emb.npz"
    np.savez(path, ids=np.array(IDS), embeddings=VECTORS)
    _equal(read_embeddings(path), IDS, VECTORS)


# ----------------------------------------------------------------- bad input: exact errors


def _bad_vector_frame(row: int, value: object) -> pd.DataFrame:
    vectors = [list(v) for v in VECTORS]
    vectors[row] = value
    return pd.DataFrame({"speaker_id": IDS, "embedding": vectors})


BAD_FRAMES = [
    (
        "nan in a vector",
        _bad_vector_frame(1, [0.0, float("nan"), 1.0]),
        "row 1, column 'embedding': " + E.NOT_FINITE.format(value="nan", index=1),
    ),
    (
        "inf in a vector",
        _bad_vector_frame(2, [0.0, 1.0, float("inf")]),
        "row 2, column 'embedding': " + E.NOT_FINITE.format(value="inf", index=2),
    ),
    (
        "wrong dimension",
        _bad_vector_frame(2, [1.0, 2.0]),
        "row 2, column 'embedding': " + E.WRONG_DIMENSION.format(expected=3, found=2),
    ),
    ("missing vector", _bad_vector_frame(0, None), "row 0, column 'embedding': " + E.MISSING_VECTOR),
    (
        "text vector",
        _bad_vector_frame(0, "1 2 3"),
        "row 0, column 'embedding': " + E.NOT_NUMERIC.format(value="something else"),
    ),
    (
        "duplicate id",
        pd.DataFrame({"speaker_id": ["a", "b", "a"], "embedding": list(VECTORS)}),
        "row 2, column 'speaker_id': " + E.DUPLICATE_ID.format(key="speaker_id", id="a", first="row 0"),
    ),
    (
        "missing id",
        pd.DataFrame({"speaker_id": ["a", None, "c"], "embedding": list(VECTORS)}),
        "row 1, column 'speaker_id': " + E.MISSING_ID,
    ),
    (
        "blank id",
        pd.DataFrame({"speaker_id": ["a", "  ", "c"], "embedding": list(VECTORS)}),
        "row 1, column 'speaker_id': " + E.MISSING_ID,
    ),
    (
        "non-number in a dimension column",
        pd.DataFrame({"speaker_id": IDS, "e0": [1, 2, 3], "e1": ["1", "x", "2"]}),
        "row 1, column 'e1': " + E.NOT_A_NUMBER_COLUMN.format(value="x"),
    ),
    (
        "gap in numbered columns",
        pd.DataFrame({"speaker_id": IDS, "e0": [1, 2, 3], "e2": [1, 2, 3]}),
        E.NUMBERED_GAP.format(missing="e1"),
    ),
    (
        "no vector column",
        pd.DataFrame({"speaker_id": IDS, "score": [1, 2, 3]}),
        E.NO_VECTOR.format(have="speaker_id, score"),
    ),
    ("no id column", pd.DataFrame({"name": IDS, "embedding": list(VECTORS)}), None),
    ("empty", pd.DataFrame({"speaker_id": [], "embedding": []}), E.NO_ROWS),
]


@pytest.mark.parametrize("name, frame, message", BAD_FRAMES, ids=[b[0] for b in BAD_FRAMES])
def test_bad_dataframes(name: str, frame: pd.DataFrame, message: str | None) -> None:
    with pytest.raises(InputError) as info:
        read_embeddings(frame)
    if message is None:
        assert str(info.value).startswith("no id column")
    else:
        assert str(info.value) == message


def test_bad_parquet_rows_name_file_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    _bad_vector_frame(1, [0.0, float("nan"), 1.0]).to_parquet(path, index=False)
    with pytest.raises(InputError) as info:
        read_embeddings(path)
    assert str(info.value) == f"{path}, column 'embedding': {E.NOT_FINITE.format(value='nan', index=1)} (row 1)"
    assert (info.value.file, info.value.column) == (str(path), "embedding")
    _bad_vector_frame(2, [1.0, 2.0]).to_parquet(path, index=False)
    with pytest.raises(InputError, match=r"expected 3 dimensions \(as most rows have\), got 2 \(row 2\)"):
        read_embeddings(path)
    _bad_vector_frame(0, None).to_parquet(path, index=False)
    with pytest.raises(InputError, match=r"expected a vector, got an empty value \(row 0\)"):
        read_embeddings(path)


def test_bad_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.parquet"
    cases = [(missing, {}, f"{missing}: {E.NOT_FOUND}")]
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    cases.append((empty, {}, f"{empty}: {E.EMPTY_FILE}"))
    junk = tmp_path / "junk.parquet"
    junk.write_text("not parquet", encoding="utf-8")
    cases.append((junk, {}, None))
    other = tmp_path / "emb.h5"
    other.write_bytes(b"x")
    cases.append((other, {}, f"{other}: {E.UNKNOWN_SUFFIX}"))
    npy = tmp_path / "emb.npy"
    np.save(npy, VECTORS)
    cases.append((npy, {}, f"{npy}: {E.NEEDS_IDS}"))
    cases.append((npy, {"ids": ["a", "b"]}, f"{npy}: {E.ID_COUNT.format(n_ids=2, n_rows=3)}"))
    ids = tmp_path / "ids.txt"
    ids.write_text("a\nb\na\n", encoding="utf-8")
    cases.append(
        (
            npy,
            {"ids": ids},
            f"{ids}, line 3, column 'speaker_id': " + E.DUPLICATE_ID.format(key="speaker_id", id="a", first="line 1"),
        )
    )
    ids_csv = tmp_path / "ids.csv"
    ids_csv.write_text("speaker_id\na\n\nc\n", encoding="utf-8")
    cases.append((npy, {"ids": ids_csv}, f"{ids_csv}, line 3, column 'speaker_id': {E.MISSING_ID}"))
    one_d = tmp_path / "one.npy"
    np.save(one_d, np.ones(3))
    cases.append((one_d, {"ids": IDS}, f"{one_d}: {E.NOT_2D.format(shape=(3,))}"))
    npz = tmp_path / "emb.npz"
    np.savez(npz, names=np.array(IDS), X=VECTORS)
    cases.append((npz, {}, f"{npz}: {E.NPZ_ARRAYS.format(found='names, X')}"))
    npz_count = tmp_path / "count.npz"
    np.savez(npz_count, ids=np.array(IDS[:2]), embeddings=VECTORS)
    cases.append((npz_count, {}, f"{npz_count}, column 'ids': {E.ID_COUNT.format(n_ids=2, n_rows=3)}"))
    for path, kwargs, message in cases:
        with pytest.raises(InputError) as info:
            read_embeddings(path, **kwargs)
        if message is None:
            assert str(info.value).startswith(f"{path}: cannot be read as Parquet")
        else:
            assert str(info.value) == message, path


def test_bad_source_type() -> None:
    with pytest.raises(InputError, match=E.BAD_SOURCE.format(kind="int")):
        read_embeddings(3)  # type: ignore[arg-type]


def test_drop_invalid_counts_every_reason() -> None:
    frame = pd.DataFrame(
        {
            "speaker_id": ["a", "b", None, "d", "e", "f", "a", "g"],
            "embedding": [[1, 0, 0], [0, 1, 0], [1, 1, 1], None, [1, 2], [np.nan, 0, 0], [0, 0, 1], "x"],
        }
    )
    table = read_embeddings(frame, drop_invalid=True)
    assert table["speaker_id"].tolist() == ["a", "b"]
    assert table.attrs["wergap"]["dropped"] == {
        E.DROP_MISSING_ID: 1,
        E.DROP_MISSING_VECTOR: 1,
        E.DROP_NOT_NUMERIC: 1,
        E.DROP_DIMENSION: 1,
        E.DROP_NOT_FINITE: 1,
        E.DROP_DUPLICATE: 1,
    }
    assert table.attrs["wergap"]["rows_read"] == 8
    assert len(table) + sum(table.attrs["wergap"]["dropped"].values()) == len(frame)


# ----------------------------------------------------------------- per-speaker means, attaching


def _utterances() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    utt = [f"s{s}-{u}" for s in range(4) for u in range(s + 1)]
    speaker = [u.split("-")[0] for u in utt]
    vectors = rng.normal(size=(len(utt), 5))
    emb = pd.DataFrame({"utt_id": utt, "embedding": list(vectors)})
    log = pd.DataFrame({"utt_id": utt, "speaker_id": speaker, "ref": "x", "hyp": "x"})
    return emb, log


def test_speaker_means_match_a_pandas_groupby() -> None:
    emb, log = _utterances()
    means = speaker_mean_embeddings(read_embeddings(emb), log)
    wide = pd.DataFrame(np.stack(emb["embedding"].to_numpy()))
    wide["speaker_id"] = log["speaker_id"]
    expected = wide.groupby("speaker_id").mean()
    assert means["speaker_id"].tolist() == expected.index.tolist()
    # inputs are stored as float32, so agreement is to float32 precision
    np.testing.assert_allclose(np.stack(means["embedding"].to_numpy()), expected.to_numpy(), rtol=1e-5, atol=1e-6)
    assert means["embedded_utterances"].tolist() == [1, 2, 3, 4]


def test_speaker_means_use_the_embeddings_own_speaker_column() -> None:
    emb, log = _utterances()
    with_speaker = emb.assign(speaker_id=log["speaker_id"])
    a = speaker_mean_embeddings(with_speaker)
    b = speaker_mean_embeddings(emb, log)
    np.testing.assert_array_equal(np.stack(a["embedding"].to_numpy()), np.stack(b["embedding"].to_numpy()))
    with pytest.raises(InputError, match="utterance embeddings need each utterance's speaker"):
        speaker_mean_embeddings(emb)
    with pytest.raises(InputError, match=E.LOG_COLUMNS.format(column="speaker_id")):
        speaker_mean_embeddings(emb, log.drop(columns="speaker_id"))


def test_utterances_missing_from_the_log_are_counted() -> None:
    emb, log = _utterances()
    means = speaker_mean_embeddings(emb, log.iloc[2:])  # drops s0-0 and s1-0
    assert means.attrs["wergap"]["dropped"] == {E.DROP_NOT_IN_LOG: 2}
    assert means["embedded_utterances"].sum() == len(emb) - 2


def test_attach_counts_speakers_without_an_embedding() -> None:
    emb, log = _utterances()
    speakers = pd.DataFrame({"speaker_id": ["s0", "s1", "s2", "s3", "s9"], "ref_words": [5, 6, 7, 8, 9]})
    out = attach_embeddings(speakers, emb, log)
    assert out is not speakers and "embedding" not in speakers.columns
    assert out["embedding"].iloc[4] is None
    assert all(v.dtype == np.float32 and v.shape == (5,) for v in out["embedding"].iloc[:4])
    counts = out.attrs["wergap"]["embeddings"]
    assert counts["speakers_with_embedding"] == 4
    assert counts["speakers_without_embedding"] == 1
    assert counts["embeddings_without_speaker"] == 0
    assert counts["dim"] == 5
    means = speaker_mean_embeddings(emb, log).set_index("speaker_id")["embedding"]
    np.testing.assert_array_equal(out["embedding"].iloc[2], means["s2"])


def test_attach_from_a_speaker_keyed_file(tmp_path: Path) -> None:
    path = tmp_path / "spk.npz"
    np.savez(path, ids=np.array(["b", "a", "zz"]), embeddings=VECTORS)
    speakers = pd.DataFrame({"speaker_id": ["a", "b", "c"]})
    out = attach_embeddings(speakers, path)
    np.testing.assert_array_equal(out["embedding"].iloc[0], VECTORS[1].astype(np.float32))
    assert out.attrs["wergap"]["embeddings"]["embeddings_without_speaker"] == 1
    assert out.attrs["wergap"]["embeddings"]["sources"] == [str(path)]
    again = attach_embeddings(out.drop(columns="embedding"), read_embeddings(path))
    assert again.attrs["wergap"]["embeddings"]["speakers_without_embedding"] == 1


def test_embedding_matrix_reports_bad_speaker_rows() -> None:
    values = pd.Series([np.ones(3), None, np.array([1.0, np.inf, 0.0])], dtype=object)
    with pytest.raises(InputError) as info:
        E.embedding_matrix(values)
    assert str(info.value) == "row 2, column 'embedding': " + E.NOT_FINITE.format(value="inf", index=1)
    matrix, present = E.embedding_matrix(values.iloc[:2])
    assert present.tolist() == [True, False] and matrix.shape == (1, 3)
