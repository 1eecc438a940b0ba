"""Embedding at scale: batch plan, per-speaker caps, crops, device, progress, resume after Ctrl-C.

The encoder is the tiny randomly initialised SpeechBrain ECAPA-TDNN of ``test_embed.py``;
audio is made here (tones and noise written with soundfile).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from wergap.data_schemas import InputError
from wergap.embeddings import _embed_plan as P
from wergap.embeddings import embed as E

REPO = Path(__file__).resolve().parents[2]


def _sibling(name: str):
    """A helper test module of this folder (tests are not a package: importlib mode)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_wergap_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_base = _sibling("test_embed")
_stack, _tone, needs_embed = _base._stack, _base._tone, _base.needs_embed
# the same fixtures: the tiny model (once per module) and no network, no ./pretrained_models
model_dir, _offline = _base.model_dir, _base._offline


# --------------------------------------------------------------------------- plan (no torch)


def _seg(key: str, seconds: float) -> P.Segment:
    return P.Segment(key, Path(key), 0, int(seconds * 16000), seconds)


def test_batches_stay_within_padded_seconds_and_count() -> None:
    rng = np.random.default_rng(0)
    segs = [_seg(f"k{i}", float(s)) for i, s in enumerate(rng.uniform(0.5, 35, 300))]
    segs.append(_seg("huge", 200.0))
    batches = P.plan_batches(segs, batch_size=16, batch_seconds=60)
    assert sorted(s.key for b in batches for s in b) == sorted(s.key for s in segs)
    for b in batches:
        padded = len(b) * max(s.seconds for s in b)
        assert len(b) <= 16
        assert padded <= 60 or len(b) == 1  # a segment over the budget goes alone
    assert [s.key for s in batches[0]] == ["huge"]
    # Sorted by duration: little padding in total.
    padded = sum(len(b) * max(s.seconds for s in b) for b in batches)
    assert padded < 1.1 * sum(s.seconds for s in segs)


def test_crop_keeps_the_centre_and_changes_the_key() -> None:
    whole = P.crop("abc", Path("x.wav"), 16000 * 10, 16000, 30.0)
    assert (whole.key, whole.start, whole.stop) == ("abc", 0, 160000)
    cut = P.crop("abc", Path("x.wav"), 16000 * 10, 16000, 4.0)
    assert cut.key == "abc-crop4" and (cut.start, cut.stop) == (48000, 112000)
    assert cut.seconds == 4.0
    assert P.crop("abc", Path("x.wav"), 100, 16000, None).stop == 100


CAP_CASES = [
    # (max_per_speaker, select, seed, expected kept utt ids)
    (None, "longest", 0, ["a1", "a2", "a3", "b1", "b2"]),
    (2, "longest", 0, ["a1", "a3", "b1", "b2"]),
    (1, "longest", 0, ["a3", "b1"]),
]


@pytest.mark.parametrize(("cap", "select", "seed", "expected"), CAP_CASES)
def test_select_per_speaker(cap, select, seed, expected) -> None:
    spk = ["A", "A", "A", "B", "B"]
    utt = ["a1", "a2", "a3", "b1", "b2"]
    sec = [2.0, 1.0, 3.0, 5.0, 5.0]  # b1/b2 tie: input order wins
    keep = P.select_per_speaker(spk, utt, sec, max_per_speaker=cap, select=select, seed=seed)
    assert [u for u, k in zip(utt, keep) if k] == expected


def test_random_selection_is_seeded_and_order_free() -> None:
    spk = [f"s{i % 7}" for i in range(140)]
    utt = [f"u{i}" for i in range(140)]
    sec = [1.0] * 140
    one = P.select_per_speaker(spk, utt, sec, max_per_speaker=3, select="random", seed=1)
    chosen = {u for u, k in zip(utt, one) if k}
    assert len(chosen) == 21
    rev = P.select_per_speaker(spk[::-1], utt[::-1], sec, max_per_speaker=3, select="random", seed=1)
    assert {u for u, k in zip(utt[::-1], rev) if k} == chosen
    other = P.select_per_speaker(spk, utt, sec, max_per_speaker=3, select="random", seed=2)
    assert {u for u, k in zip(utt, other) if k} != chosen


# --------------------------------------------------------------------------- with the encoder


@needs_embed
def test_max_per_speaker_embeds_fewer(model_dir: Path, tmp_path: Path) -> None:
    paths = [
        _tone(tmp_path / "a" / f"s{s}" / f"s{s}u{u}.wav", 0.3 + 0.1 * u, 200 + 50 * s, seed=10 * s + u)
        for s in range(3)
        for u in range(4)
    ]
    df = E.embed_audio(paths, model=model_dir, max_per_speaker=2)
    assert df["utt_id"].tolist() == [f"s{s}u{u}" for s in range(3) for u in (2, 3)]  # longest
    meta = df.attrs["wergap"]["embed"]
    assert (meta["computed"], meta["not_selected"]) == (6, 6)
    assert df.attrs["wergap"]["dropped"] == {}  # not chosen is not bad data
    rnd = E.embed_audio(paths, model=model_dir, max_per_speaker=2, select="random", seed=3)
    again = E.embed_audio(paths, model=model_dir, max_per_speaker=2, select="random", seed=3)
    assert rnd["utt_id"].tolist() == again["utt_id"].tolist()
    assert rnd.groupby("speaker_id").size().tolist() == [2, 2, 2]


@needs_embed
def test_long_audio_is_cropped_to_its_centre(model_dir: Path, tmp_path: Path) -> None:
    import soundfile as sf

    rng = np.random.default_rng(0)
    rate = 16000
    audio = rng.standard_normal(rate * 3).astype(np.float32) * 0.1
    d = tmp_path / "long" / "spk"
    d.mkdir(parents=True)
    sf.write(str(d / "whole.wav"), audio, rate)
    sf.write(str(d / "centre.wav"), audio[rate : 2 * rate], rate)
    df = E.embed_audio(
        [d / "whole.wav", d / "centre.wav"],
        model=model_dir,
        max_seconds=1.0,
        batch_size=1,
        cache_dir=tmp_path / "cache",
    )
    np.testing.assert_allclose(df["embedding"][0], df["embedding"][1], rtol=1e-5, atol=1e-6)
    meta = df.attrs["wergap"]["embed"]
    assert meta["cropped"] == 1 and meta["seconds"] == 4.0  # the files' own durations
    assert meta["encoded_seconds"] == 2.0  # what the encoder ran on
    # Cropped and whole vectors of one file never share a cache entry.
    full = E.embed_audio([d / "whole.wav"], model=model_dir, max_seconds=None, cache_dir=tmp_path / "cache")
    assert full.attrs["wergap"]["embed"]["computed"] == 1
    assert not np.allclose(full["embedding"][0], df["embedding"][0])


@needs_embed
def test_small_batch_budget_gives_the_same_vectors(model_dir: Path, tmp_path: Path) -> None:
    paths = [_tone(tmp_path / "b" / "s" / f"u{u}.flac", 0.4 + 0.2 * u, 300, seed=u) for u in range(6)]
    big = _stack(E.embed_audio(paths, model=model_dir, batch_seconds=1000, batch_size=1))
    small = _stack(E.embed_audio(paths, model=model_dir, batch_seconds=0.5, batch_size=16))
    np.testing.assert_allclose(big, small, rtol=1e-4, atol=1e-5)


@needs_embed
def test_device_auto_progress_and_bad_options(model_dir: Path, tmp_path: Path, capsys) -> None:
    import torch

    path = _tone(tmp_path / "d" / "s" / "u.wav", 1.0, 300)
    df = E.embed_audio([path], model=model_dir, progress=True)
    meta = df.attrs["wergap"]["embed"]
    assert meta["device"] == ("cuda" if torch.cuda.is_available() else "cpu")
    assert meta["threads"] >= 1
    err = capsys.readouterr().err
    assert "embedding audio" in err and "1.00/1.00" in err  # counted in seconds of audio
    cases = [
        (dict(max_per_speaker=0), "max_per_speaker"),
        (dict(select="shortest"), "select must be one of"),
        (dict(max_seconds=0.1), "max_seconds"),
        (dict(batch_seconds=0), "batch_seconds"),
        (dict(device="tpu"), "device must be"),
        (dict(threads=0), "threads must be a positive integer"),
    ]
    if not torch.cuda.is_available():
        cases.append((dict(device="cuda"), "torch sees no CUDA GPU"))
    for kwargs, message in cases:
        with pytest.raises(InputError, match=message):
            E.embed_audio([path], model=model_dir, **kwargs)


def test_missing_extra_is_an_install_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys) -> None:
    """Without speechbrain (hidden from import), `wergap embed` exits 2 with the command."""
    from wergap.cli import main

    monkeypatch.setitem(sys.modules, "speechbrain", None)
    code = main(["embed", str(tmp_path), "-o", str(tmp_path / "e.parquet")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("wergap: error: computing embeddings from audio needs the [embed] extra")
    assert "missing: speechbrain" in err and "pip install 'wergap[embed]'" in err
    assert "Traceback" not in err


@needs_embed
def test_ctrl_c_leaves_a_valid_cache_and_the_rerun_resumes(model_dir: Path, tmp_path: Path) -> None:
    """SIGINT to a real `wergap embed` run: exit 130, only whole cache entries, then resume."""
    root = tmp_path / "many"
    for s in range(20):
        for u in range(15):
            _tone(root / f"s{s}" / f"u{u}.wav", 1.0, 150 + 10 * s + u, seed=100 * s + u)
    cache = tmp_path / "cache"
    out = tmp_path / "emb.parquet"
    cmd = [
        sys.executable,
        "-m",
        "wergap",
        "embed",
        str(root),
        "--model",
        str(model_dir),
        "-o",
        str(out),
        "--cache-dir",
        str(cache),
        "--batch-size",
        "1",
        "--device",
        "cpu",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while proc.poll() is None and not list(cache.rglob("*.npy")):
            time.sleep(0.01)
        if proc.poll() is not None:
            pytest.skip("the run finished before it could be interrupted")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "rerun the same command to resume" in err
    assert not out.exists()
    entries = list(cache.rglob("*.npy"))
    assert 0 < len(entries) < 300
    assert not [f for f in cache.rglob("*") if f.name.endswith(".tmp")]
    for f in entries:
        assert np.load(f).shape == (32,)
    df = E.embed_audio(root, model=model_dir, cache_dir=cache)
    meta = df.attrs["wergap"]["embed"]
    assert meta["from_cache"] == len(entries) and meta["computed"] == 300 - len(entries)


# --------------------------------------------------------------------------- threads and kernels


def test_busy_cores_sees_another_process_spinning() -> None:
    """The idle-core measure is of what other processes take now, not last minute's load."""
    from wergap.embeddings import _embed_run as R

    if R.busy_cores(0.05) is None:
        pytest.skip("no /proc/stat on this system")
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)  # let it start
        busy = R.busy_cores(0.5)
    finally:
        spinner.kill()
        spinner.wait()
    assert busy is not None and 0.6 <= busy <= (os.cpu_count() or 1) + 0.01


@needs_embed
def test_threads_follow_idle_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from wergap.embeddings import _embed_run as R

    cores = torch.get_num_threads()
    monkeypatch.setattr(R.os, "cpu_count", lambda: cores)
    monkeypatch.setattr(R, "busy_cores", lambda seconds=0.2: 0.0)
    assert R.choose_threads(torch, None, "cpu") == cores
    monkeypatch.setattr(R, "busy_cores", lambda seconds=0.2: float(cores))
    assert R.choose_threads(torch, None, "cpu") == 1  # never fewer than one
    monkeypatch.setattr(R, "busy_cores", lambda seconds=0.2: None)
    assert R.choose_threads(torch, None, "cpu") == cores  # cannot tell: torch's own count
    assert R.choose_threads(torch, 3, "cpu") == 3  # asked for: taken as given


@needs_embed
def test_cpu_convolutions_bypass_onednn_and_nnpack_and_restore(model_dir: Path) -> None:
    """The flags are off while the encoder runs on the CPU, back afterwards; vectors agree."""
    import torch

    from wergap.embeddings import _embed_run as R

    before = (torch.backends.mkldnn.enabled, torch._C._get_nnpack_enabled())
    with R.cpu_convolutions(torch, "cpu"):
        assert not torch.backends.mkldnn.enabled and not torch._C._get_nnpack_enabled()
    assert (torch.backends.mkldnn.enabled, torch._C._get_nnpack_enabled()) == before
    with R.cpu_convolutions(torch, "cuda"):
        assert (torch.backends.mkldnn.enabled, torch._C._get_nnpack_enabled()) == before

    classifier = E._Encoder(model_dir, cache_dir=None, device="cpu").load()
    rng = np.random.default_rng(0)
    batch = torch.from_numpy(rng.standard_normal((16, 8000)).astype(np.float32))  # NNPACK from 16 on
    with torch.inference_mode():
        theirs = classifier.encode_batch(batch).numpy()
        with R.cpu_convolutions(torch, "cpu"):
            ours = classifier.encode_batch(batch).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
