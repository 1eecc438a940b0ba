"""The uncompiled scoring path (numpy, Arrow, rapidfuzz) equals the numba kernels and jiwer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wergap.scoring as scoring
from tests.test_scoring import jiwer_counts, sentences
from wergap.scoring import align_counts, normalize

COLUMNS = ["substitutions", "deletions", "insertions", "hits"]


def counts(refs, hyps, *, compiled: bool, monkeypatch, **kw) -> pd.DataFrame:
    monkeypatch.setattr(scoring, "_use_compiled", lambda n: compiled)
    return align_counts(refs, hyps, **kw)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(sentences(), sentences()), min_size=1, max_size=20))
def test_uncompiled_path_matches_jiwer(pairs):
    with pytest.MonkeyPatch.context() as mp:
        refs, hyps = zip(*pairs)
        for normalization in ("default", "none"):
            got = counts(list(refs), list(hyps), compiled=False, monkeypatch=mp, normalization=normalization)
            for row, r, h in zip(got.itertuples(), normalize(refs, normalization), normalize(hyps, normalization)):
                assert (row.substitutions, row.deletions, row.insertions, row.hits) == jiwer_counts(r, h)


def test_both_paths_agree_on_a_messy_corpus(monkeypatch):
    rng = np.random.default_rng(3)
    vocab = np.array(["a", "B", "c,", "d'e", "", "...", "naïve", "日本", "x\ty", "  ", "z\x00z", "U.S."])
    refs = [" ".join(rng.choice(vocab, size=rng.integers(0, 9))) for _ in range(4000)]
    hyps = [" ".join(rng.choice(vocab, size=rng.integers(0, 9))) for _ in range(4000)]
    hyps[5] = None
    for normalization in ("default", "none"):
        fast = counts(refs, hyps, compiled=False, monkeypatch=monkeypatch, normalization=normalization)
        slow = counts(refs, hyps, compiled=True, monkeypatch=monkeypatch, normalization=normalization)
        pd.testing.assert_frame_equal(fast, slow)
    clean = [r.replace("\x00", "") for r in refs]
    fast = counts(clean, hyps, compiled=False, monkeypatch=monkeypatch)
    pd.testing.assert_frame_equal(fast, counts(clean, hyps, compiled=True, monkeypatch=monkeypatch))


def test_small_logs_skip_the_kernels_until_they_are_loaded(monkeypatch):
    monkeypatch.setattr(scoring, "_KERNELS_LOADED", False)
    assert not scoring._use_compiled(1000) and scoring._use_compiled(scoring.COMPILED_FROM)
    monkeypatch.setattr(scoring, "_KERNELS_LOADED", True)
    assert scoring._use_compiled(10)


@pytest.mark.parametrize("rows", [[], [""], ["", ""], ["a"], ["  a  b  ", "c"]])
def test_edge_rows(rows, monkeypatch):
    fast = counts(rows, rows[::-1], compiled=False, monkeypatch=monkeypatch)
    slow = counts(rows, rows[::-1], compiled=True, monkeypatch=monkeypatch)
    pd.testing.assert_frame_equal(fast, slow)
    assert fast[COLUMNS].shape == (len(rows), 4)


def test_a_large_uncompiled_call_preloads_the_kernels_for_the_next(monkeypatch):
    monkeypatch.setattr(scoring, "_KERNELS_LOADED", False)
    monkeypatch.setattr(scoring, "_PRELOAD", __import__("threading").Lock())
    monkeypatch.setattr(scoring, "_LOADER", None)
    monkeypatch.setattr(scoring, "PRELOAD_FROM", 4)
    text = pa.array(["a b c", "a c", "b", "c c"], pa.large_string())
    assert not scoring._use_compiled(4)  # the call itself runs uncompiled: no loading thread competes
    scoring._counts(text, text, "default", "word", 1)  # ... and starts the load when it is done
    assert scoring._LOADER is not None
    assert scoring._use_compiled(4)  # the next large call waits for the load and runs compiled
    assert scoring._KERNELS_LOADED
