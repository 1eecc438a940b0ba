"""Speaker embeddings from audio: a real (small, randomly initialised) SpeechBrain ECAPA-TDNN.

The model folder is built here in SpeechBrain's own format (hyperparams.yaml with a
pretrainer, checkpoints written by SpeechBrain's save hooks) and loaded through the same
``EncoderClassifier.from_hparams`` path users take. Its yaml names the Hub id as
``pretrained_path``, like the published model's, so a missing override would try the
network, which the tests forbid (HF_HUB_OFFLINE=1).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wergap.data_schemas import InputError
from wergap.embeddings import embed as E

_MISSING = [m for m in ("torch", "torchaudio", "speechbrain", "soundfile") if importlib.util.find_spec(m) is None]
needs_embed = pytest.mark.skipif(
    bool(_MISSING),
    reason=f"the [embed] extra is not installed (missing: {', '.join(_MISSING)}); "
    "pip install -c constraints/embed.txt '.[embed]'",
)
pytestmark = [pytest.mark.embed, pytest.mark.slow, needs_embed]

DIM = 32
HPARAMS = """\
# A tiny ECAPA-TDNN speaker encoder in the layout of speechbrain/spkrec-ecapa-voxceleb.
n_mels: 80
pretrained_path: speechbrain/spkrec-ecapa-voxceleb

compute_features: !new:speechbrain.lobes.features.Fbank
    n_mels: !ref <n_mels>

mean_var_norm: !new:speechbrain.processing.features.InputNormalization
    norm_type: sentence
    std_norm: False

embedding_model: !new:speechbrain.lobes.models.ECAPA_TDNN.ECAPA_TDNN
    input_size: !ref <n_mels>
    channels: [64, 64, 64, 64, 192]
    kernel_sizes: [5, 3, 3, 3, 1]
    dilations: [1, 2, 3, 4, 1]
    attention_channels: 16
    lin_neurons: 32

classifier: !new:speechbrain.lobes.models.ECAPA_TDNN.Classifier
    input_size: 32
    out_neurons: 4

mean_var_norm_emb: !new:speechbrain.processing.features.InputNormalization
    norm_type: global
    std_norm: False

modules:
    compute_features: !ref <compute_features>
    mean_var_norm: !ref <mean_var_norm>
    embedding_model: !ref <embedding_model>
    mean_var_norm_emb: !ref <mean_var_norm_emb>
    classifier: !ref <classifier>

pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer
    loadables:
        embedding_model: !ref <embedding_model>
        mean_var_norm_emb: !ref <mean_var_norm_emb>
        classifier: !ref <classifier>
    paths:
        embedding_model: !ref <pretrained_path>/embedding_model.ckpt
        mean_var_norm_emb: !ref <pretrained_path>/mean_var_norm_emb.ckpt
        classifier: !ref <pretrained_path>/classifier.ckpt
"""


def _build_model(folder: Path, seed: int = 0) -> Path:
    """Write a randomly initialised ECAPA-TDNN model folder with SpeechBrain's save hooks."""
    import torch
    from hyperpyyaml import load_hyperpyyaml
    from speechbrain.utils.checkpoints import DEFAULT_SAVE_HOOKS, get_default_hook

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hyperparams.yaml").write_text(HPARAMS, encoding="utf-8")
    torch.manual_seed(seed)
    hparams = load_hyperpyyaml(HPARAMS, {"pretrained_path": str(folder)})
    # Give the global embedding normaliser real statistics, as training would.
    norm = hparams["mean_var_norm_emb"]
    norm.train()
    norm(torch.randn(8, 1, DIM), torch.ones(8))
    norm.eval()
    pretrainer = hparams["pretrainer"]
    for name, obj in pretrainer.loadables.items():
        get_default_hook(obj, DEFAULT_SAVE_HOOKS)(obj, Path(pretrainer.paths[name]))
    return folder


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build_model(tmp_path_factory.mktemp("ecapa") / "tiny-ecapa")


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.chdir(tmp_path)  # SpeechBrain must not write ./pretrained_models


def _tone(
    path: Path, seconds: float, freq: float, rate: int = 16000, channels: int = 1, seed: int = 0, noise: float = 0.05
) -> Path:
    import soundfile as sf

    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(seed)
    sig = 0.3 * np.sin(2 * np.pi * freq * t) + noise * rng.standard_normal(t.size)
    data = np.stack([sig * (0.5 + 0.5 * c) for c in range(channels)], axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), data.astype(np.float32), rate)
    return path


@pytest.fixture
def tones(tmp_path: Path) -> list[Path]:
    """Six synthetic utterances, two speaker folders, mixed lengths, rates and channels."""
    root = tmp_path / "audio"
    return [
        _tone(root / "spkA" / "a1.wav", 1.2, 220, seed=1),
        _tone(root / "spkA" / "a2.flac", 0.7, 230, seed=2),
        _tone(root / "spkA" / "a3.wav", 2.0, 210, rate=8000, seed=3),
        _tone(root / "spkB" / "b1.wav", 1.0, 440, channels=2, seed=4),
        _tone(root / "spkB" / "b2.wav", 1.5, 450, rate=22050, seed=5),
        _tone(root / "spkB" / "b3.flac", 0.5, 460, seed=6),
    ]


def _stack(df: pd.DataFrame) -> np.ndarray:
    return np.stack(df["embedding"].tolist())


# --------------------------------------------------------------------------- shapes


def test_paths_give_one_vector_per_file(model_dir: Path, tones: list[Path]) -> None:
    df = E.embed_audio(tones, model=model_dir, batch_size=4)
    assert df.columns.tolist() == ["utt_id", "speaker_id", "audio", "embedding"]
    assert df["utt_id"].tolist() == ["a1", "a2", "a3", "b1", "b2", "b3"]
    assert df["speaker_id"].tolist() == ["spkA"] * 3 + ["spkB"] * 3
    mat = _stack(df)
    assert mat.shape == (6, DIM) and mat.dtype == np.float32
    assert np.isfinite(mat).all()
    meta = df.attrs["wergap"]
    assert meta["dropped"] == {}
    assert meta["embed"]["computed"] == 6 and meta["embed"]["from_cache"] == 0
    assert meta["embed"]["dim"] == DIM and meta["embed"]["sample_rate"] == 16000
    # Distinct audio gives distinct vectors.
    assert len({v.tobytes() for v in mat}) == 6


def test_deterministic_and_batch_padding_respected(model_dir: Path, tones: list[Path]) -> None:
    one = _stack(E.embed_audio(tones, model=model_dir, batch_size=3))
    two = _stack(E.embed_audio(tones, model=model_dir, batch_size=3))
    np.testing.assert_array_equal(one, two)
    # Alone (no padding) vs zero-padded in a batch: wav_lens masks the padding in the
    # normalisation and pooling, so only convolution edges differ (here up to 4x padding
    # on an untrained model; the benchmark measures the real model).
    single = _stack(E.embed_audio(tones, model=model_dir, batch_size=1))
    cos = (one * single).sum(1) / np.linalg.norm(one, axis=1) / np.linalg.norm(single, axis=1)
    assert cos.min() > 0.9
    unmasked = _stack(E.embed_audio(tones, model=model_dir, batch_size=6))
    assert np.isfinite(unmasked).all()


def test_resampling_matches_model_rate(model_dir: Path, tmp_path: Path) -> None:
    """A tone stored at 8 kHz embeds like the same tone at 16 kHz, not like its samples
    played at 16 kHz (an octave up, half as long), which is what skipping resampling does."""
    d = tmp_path / "r" / "s"
    lo = _tone(d / "lo.wav", 1.0, 300, rate=8000, noise=0.0)
    hi = _tone(d / "hi.wav", 1.0, 300, rate=16000, noise=0.0)
    wrong = _tone(d / "wrong.wav", 0.5, 600, rate=16000, noise=0.0)
    m = _stack(E.embed_audio([lo, hi, wrong], model=model_dir, batch_size=1))
    m = m / np.linalg.norm(m, axis=1, keepdims=True)
    assert m[0] @ m[1] > 0.99
    assert m[0] @ m[1] > m[0] @ m[2]


# --------------------------------------------------------------------------- cache


def test_cache_counts_and_content_key(model_dir: Path, tones: list[Path], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = E.embed_audio(tones[:4], model=model_dir, cache_dir=cache)
    assert first.attrs["wergap"]["embed"]["computed"] == 4
    second = E.embed_audio(tones, model=model_dir, cache_dir=cache)
    emb = second.attrs["wergap"]["embed"]
    assert (emb["computed"], emb["from_cache"]) == (2, 4)
    np.testing.assert_array_equal(_stack(first), _stack(second)[:4])
    # A renamed copy has the same content: taken from cache, under its new id.
    copy = tmp_path / "audio" / "spkC" / "c1.wav"
    copy.parent.mkdir(parents=True)
    shutil.copy(tones[0], copy)
    third = E.embed_audio([copy], model=model_dir, cache_dir=cache)
    assert third.attrs["wergap"]["embed"]["from_cache"] == 1
    assert third["speaker_id"].tolist() == ["spkC"]
    # Changed content under the same name is recomputed.
    _tone(tones[0], 1.2, 999, seed=1)
    fourth = E.embed_audio(tones[:1], model=model_dir, cache_dir=cache)
    assert fourth.attrs["wergap"]["embed"]["computed"] == 1


def test_cache_is_per_model(model_dir: Path, tones: list[Path], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    E.embed_audio(tones[:2], model=model_dir, cache_dir=cache)
    other = _build_model(tmp_path / "other-ecapa", seed=1)
    df = E.embed_audio(tones[:2], model=other, cache_dir=cache)
    assert df.attrs["wergap"]["embed"]["computed"] == 2


def test_corrupt_cache_entry_is_recomputed(model_dir: Path, tones: list[Path], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    E.embed_audio(tones[:2], model=model_dir, cache_dir=cache)
    entries = sorted((cache / "embeddings").rglob("*.npy"))
    assert len(entries) == 2
    entries[0].write_bytes(b"not an npy file")
    df = E.embed_audio(tones[:2], model=model_dir, cache_dir=cache)
    emb = df.attrs["wergap"]["embed"]
    assert (emb["computed"], emb["from_cache"]) == (1, 1)


def test_duplicate_content_is_encoded_once(model_dir: Path, tones: list[Path], tmp_path: Path) -> None:
    copy = tmp_path / "audio" / "spkB" / "dup.wav"
    shutil.copy(tones[0], copy)
    df = E.embed_audio([tones[0], copy], model=model_dir)
    assert df.attrs["wergap"]["embed"]["computed"] == 1
    np.testing.assert_array_equal(df["embedding"][0], df["embedding"][1])


# --------------------------------------------------------------------------- bad audio


def test_bad_audio_is_counted_by_reason(model_dir: Path, tones: list[Path], tmp_path: Path) -> None:
    import soundfile as sf

    bad = tmp_path / "audio" / "spkX"
    bad.mkdir(parents=True)
    (bad / "garbage.wav").write_bytes(b"RIFF....this is not audio")
    sf.write(str(bad / "empty.wav"), np.zeros((0, 1), dtype=np.float32), 16000)
    _tone(bad / "short.wav", 0.05, 300)
    nan = np.full(16000, np.nan, dtype=np.float32)
    sf.write(str(bad / "nan.wav"), nan, 16000, subtype="FLOAT")
    paths = [
        *tones[:2],
        bad / "missing.wav",
        bad / "garbage.wav",
        bad / "empty.wav",
        bad / "short.wav",
        bad / "nan.wav",
    ]
    df = E.embed_audio(paths, model=model_dir)
    assert df["utt_id"].tolist() == ["a1", "a2"]
    assert df.attrs["wergap"]["dropped"] == {
        "audio missing": 1,
        "audio unreadable": 1,
        "audio empty": 1,
        "audio too short": 1,
        "audio not finite": 1,
    }
    failures = dict(map(tuple, df.attrs["wergap"]["embed"]["failures"]))
    assert failures["missing"] == "audio missing" and failures["short"] == "audio too short"


def test_all_bad_is_an_error_without_loading(tmp_path: Path) -> None:
    # issue 14: an empty table and exit 0 hid that nothing was embedded; the model (a
    # folder that does not exist) is never loaded
    with pytest.raises(InputError, match=r"none of the 1 audio files could be embedded \(1 audio missing\)"):
        E.embed_audio([tmp_path / "nope.wav"], model=tmp_path / "no-model")


def test_min_seconds_is_an_option(model_dir: Path, tones: list[Path]) -> None:
    df = E.embed_audio(tones, model=model_dir, min_seconds=1.0)
    assert df.attrs["wergap"]["dropped"] == {"audio too short": 2}  # a2 0.7 s, b3 0.5 s


# --------------------------------------------------------------------------- inputs


def test_decode_log_paths_are_relative_to_its_folder(model_dir: Path, tones: list[Path], tmp_path: Path) -> None:
    log = tmp_path / "audio" / "decode.tsv"
    lines = [
        "utt_id\tspeaker_id\tref\thyp\taudio",
        "u1\tS1\thello there\thello\tspkA/a1.wav",
        "u2\tS1\tgood day\tgood day\tspkB/b1.wav",
        "u3\tS2\tyes\tyes\tspkB/gone.wav",
        "u4\tS2\tno\tno\t",
    ]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    df = E.embed_audio(log, model=model_dir)
    assert df["utt_id"].tolist() == ["u1", "u2"]
    assert df["speaker_id"].tolist() == ["S1", "S1"]
    assert df["audio"].tolist() == ["spkA/a1.wav", "spkB/b1.wav"]
    assert df.attrs["wergap"]["dropped"] == {"audio missing": 1, "audio path missing": 1}
    assert df.attrs["wergap"]["sources"] == [str(log)]


def test_dataframe_with_base_dir(model_dir: Path, tones: list[Path], tmp_path: Path) -> None:
    table = pd.DataFrame({"utt_id": ["x", "y"], "speaker_id": ["p", "q"], "audio": ["spkA/a1.wav", "spkB/b2.wav"]})
    df = E.embed_audio(table, model=model_dir, base_dir=tmp_path / "audio")
    assert df["speaker_id"].tolist() == ["p", "q"]
    with pytest.raises(InputError, match="'audio'"):
        E.embed_audio(table.drop(columns="audio"), model=model_dir)
    dup = table.assign(utt_id=["x", "x"])
    with pytest.raises(InputError, match="more than once"):
        E.embed_audio(dup, model=model_dir, base_dir=tmp_path / "audio")


def test_folder_and_list_file(model_dir: Path, tones: list[Path], tmp_path: Path) -> None:
    folder = E.embed_audio(tmp_path / "audio", model=model_dir)
    assert sorted(folder["utt_id"]) == ["a1", "a2", "a3", "b1", "b2", "b3"]
    lst = tmp_path / "audio" / "files.lst"
    lst.write_text("# two files\nspkA/a1.wav\n\nspkB/b3.flac  # short one\n", encoding="utf-8")
    listed = E.embed_audio(lst, model=model_dir)
    assert listed["utt_id"].tolist() == ["a1", "b3"]


def test_colliding_stems_use_relative_paths(model_dir: Path, tmp_path: Path) -> None:
    a = _tone(tmp_path / "c" / "s1" / "0001.wav", 0.5, 200)
    b = _tone(tmp_path / "c" / "s2" / "0001.wav", 0.5, 300)
    df = E.embed_audio([a, b], model=model_dir, base_dir=tmp_path / "c")
    assert df["utt_id"].tolist() == ["s1/0001", "s2/0001"]


def test_bad_model_and_options(tmp_path: Path, tones: list[Path]) -> None:
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    with pytest.raises(InputError, match="hyperparams.yaml"):
        E.embed_audio(tones, model=empty)
    with pytest.raises(InputError, match="batch_size"):
        E.embed_audio(tones, model=empty, batch_size=0)
    with pytest.raises(InputError, match="not found"):
        E.embed_audio(tmp_path / "no-such-log.tsv", model=empty)


def test_hub_id_offline_fails_cleanly(tones: list[Path], tmp_path: Path) -> None:
    from wergap.data_schemas import WergapError

    with pytest.raises(WergapError, match="could not load the speaker encoder"):
        E.embed_audio(tones[:1], model="nobody/no-such-model", cache_dir=tmp_path / "c")


# --------------------------------------------------------------------------- outputs


def test_speaker_means(model_dir: Path, tones: list[Path]) -> None:
    df = E.embed_audio(tones, model=model_dir)
    from wergap.data_schemas import speaker_mean_embeddings

    means = speaker_mean_embeddings(df)  # the one averaging, shared with attach_embeddings
    assert means["speaker_id"].tolist() == ["spkA", "spkB"]
    assert means["embedded_utterances"].tolist() == [3, 3]
    np.testing.assert_allclose(means["embedding"][0], _stack(df)[:3].mean(0), rtol=1e-5, atol=1e-6)


def test_parquet_round_trip(model_dir: Path, tones: list[Path], tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    df = E.embed_audio(tones, model=model_dir)
    out = E.write_embeddings(df, tmp_path / "out" / "embeddings.parquet")
    table = pq.read_table(out)
    assert table.column_names == ["utt_id", "speaker_id", "embedding"]
    assert table.schema.field("embedding").type == pa.list_(pa.float32())
    back = pd.read_parquet(out)
    assert back["utt_id"].tolist() == df["utt_id"].tolist()
    np.testing.assert_array_equal(np.stack(back["embedding"].tolist()), _stack(df))
    assert back.attrs["wergap"]["embed"]["computed"] == 6
    assert not list(out.parent.glob(".*.tmp"))


def test_write_rejects_ragged_vectors(tmp_path: Path) -> None:
    ragged = pd.DataFrame(
        {
            "utt_id": ["a", "b"],
            "speaker_id": ["s", "s"],
            "embedding": [np.zeros(3, np.float32), np.zeros(4, np.float32)],
        }
    )
    with pytest.raises(InputError, match="row 1, column 'embedding'"):
        E.write_embeddings(ragged, tmp_path / "x.parquet")
    assert not (tmp_path / "x.parquet").exists()


def test_read_embeddings_handoff(model_dir: Path, tones: list[Path], tmp_path: Path) -> None:
    schema = pytest.importorskip("wergap.data_schemas.embeddings", reason="read_embeddings has not landed yet")
    df = E.embed_audio(tones, model=model_dir)
    out = E.write_embeddings(df, tmp_path / "embeddings.parquet")
    back = schema.read_embeddings(out)
    assert set(back["speaker_id"]) == {"spkA", "spkB"}
    assert len(np.asarray(back["embedding"].iloc[0])) == DIM


# --------------------------------------------------------------------------- real speech


def test_real_speech(model_dir: Path, shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "audio" / "speechbrain_samples"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    df = E.embed_audio(folder, model=model_dir, cache_dir=tmp_path / "cache", batch_size=5)
    assert len(df) == 12 and df.attrs["wergap"]["dropped"] == {}
    assert df["speaker_id"].unique().tolist() == ["speechbrain_samples"]
    again = E.embed_audio(folder, model=model_dir, cache_dir=tmp_path / "cache", batch_size=5)
    assert again.attrs["wergap"]["embed"]["from_cache"] == 12
    np.testing.assert_array_equal(_stack(df), _stack(again))


def test_cli_embed_and_audit_audio_hand_off_to_kmeans(model_dir: Path, tmp_path: Path, capsys) -> None:
    """`wergap embed` writes what EmbeddingKMeans reads; `wergap audit --audio` embeds then clusters."""
    from wergap.cli import main

    rows = []
    for s in range(40):
        for u in range(2):
            path = _tone(tmp_path / "wav" / f"s{s}" / f"u{u}.wav", 0.5, 150 + 20 * (s % 4), seed=100 * s + u)
            rows.append(
                (
                    f"s{s}-u{u}",
                    f"s{s}",
                    "play some jazz",
                    "play jazz" if s % 4 == 0 else "play some jazz",
                    str(path.relative_to(tmp_path)),
                )
            )
    log = tmp_path / "decode.tsv"
    pd.DataFrame(rows, columns=["utt_id", "speaker_id", "ref", "hyp", "audio"]).to_csv(log, sep="\t", index=False)

    out = tmp_path / "emb.parquet"
    assert main(["embed", str(log), "--model", str(model_dir), "-o", str(out)]) == 0
    assert "embedded    80 utterances of 40 speakers" in capsys.readouterr().out

    report = tmp_path / "r.html"
    code = main(
        [
            "audit",
            str(log),
            "--audio",
            "--embed-model",
            str(model_dir),
            "--n-clusters",
            "2",
            "--min-speakers",
            "5",
            "--n-boot",
            "50",
            "--methods",
            "embedding_kmeans",
            "-o",
            str(report),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0 and report.exists()
    assert "embedding_kmeans" in text and "skipped" not in text


def test_cli_embed_base_dir_and_min_seconds(model_dir: Path, tones: list[Path], tmp_path: Path, capsys) -> None:
    """Paths in a list relative to another folder, and a stricter length floor, from the CLI."""
    from wergap.cli import main

    root = tmp_path / "audio"
    listing = tmp_path / "lists" / "utts.lst"
    listing.parent.mkdir()
    listing.write_text("".join(f"{p.relative_to(root)}\n" for p in tones), encoding="utf-8")
    out = tmp_path / "emb.parquet"
    assert (
        main(
            [
                "embed",
                str(listing),
                "--model",
                str(model_dir),
                "-o",
                str(out),
                "--base-dir",
                str(root),
                "--min-seconds",
                "0.8",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    # a2 (0.7 s) and b3 (0.5 s) are under 0.8 s
    assert "embedded    4 utterances of 2 speakers" in text and "2 audio too short" in text
    assert len(pd.read_parquet(out)) == 4
