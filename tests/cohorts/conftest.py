"""Small speaker tables and partitions for the cohort tests, built in code (seeded)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pytest

from wergap.cohorts import Partition


def build_speakers(
    sizes: Sequence[int], wers: Sequence[float], *, seed: int = 0, words: tuple[int, int] = (20, 200)
) -> tuple[pd.DataFrame, Partition]:
    """A speaker table with cohorts of the given sizes and expected WERs, and its Partition.

    Errors are binomial in each speaker's words, so the cohort WERs are near ``wers`` but
    not equal: tests compare against a direct pandas computation, never against ``wers``.
    """
    rng = np.random.default_rng(seed)
    cohort = np.repeat([f"c{i}" for i in range(len(sizes))], sizes)
    n = len(cohort)
    ref_words = rng.integers(words[0], words[1], n)
    p = np.repeat(np.asarray(wers, dtype=float), sizes)
    speakers = pd.DataFrame(
        {
            "speaker_id": [f"spk{i:05d}" for i in range(n)],
            "utterances": rng.integers(1, 12, n),
            "ref_words": ref_words,
            "errors": rng.binomial(ref_words, p),
        }
    )
    speakers["wer"] = speakers["errors"] / speakers["ref_words"]
    labels = pd.Series(cohort, index=speakers["speaker_id"].to_numpy())
    partition = Partition("test", labels, {c: f"cohort {c}" for c in np.unique(cohort)})
    return speakers, partition


@pytest.fixture
def make_speakers() -> Callable[..., tuple[pd.DataFrame, Partition]]:
    """Factory: ``make_speakers(sizes, wers, seed=0)`` -> (speaker table, partition)."""
    return build_speakers
