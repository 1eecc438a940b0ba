"""The per-speaker table: sufficient statistics every discovery method works on.

Utterances of one speaker are not independent, and every cohort WER is a ratio of sums,
so one row per speaker with summed counts is all discovery and the bootstrap need. It is
small (one row per speaker) where the log is large.
"""

from __future__ import annotations

import pandas as pd

from wergap.errors import InputError
from wergap.provenance import carry

SUM_COLUMNS = ("ref_words", "errors", "substitutions", "deletions", "insertions", "hits")
# Utterance-level columns that say nothing about a speaker (or must never leave the log).
NOT_SPEAKER_METADATA = frozenset({"utt_id", "ref", "hyp", "audio", "wer", "cer", "duration", *SUM_COLUMNS})

NOT_SCORED = "the table has no {column!r} column; score it first with wergap.score(log)"


def speakers(scored: pd.DataFrame) -> pd.DataFrame:
    """Aggregate scored utterances to one row per speaker.

    Parameters
    ----------
    scored : DataFrame
        Output of :func:`wergap.score`.

    Returns
    -------
    DataFrame
        ``speaker_id, utterances, ref_words, errors, substitutions, deletions,
        insertions, hits, wer`` (``wer`` = Σ errors / Σ ref_words, NaN for a speaker
        with no reference words), then ``lat``/``lon`` (median over the speaker's
        utterances), ``zip`` and every other metadata column (the most frequent
        non-missing value). Sorted by ``speaker_id``; provenance carried over.
    """
    for col in ("speaker_id", "ref_words", "errors"):
        if col not in scored.columns:
            raise InputError(NOT_SCORED.format(column=col))
    grouped = scored.groupby("speaker_id", sort=True, observed=True)
    out = grouped.size().rename("utterances").to_frame()
    for col in SUM_COLUMNS:
        if col in scored.columns:
            out[col] = grouped[col].sum(min_count=1) if scored[col].hasnans else grouped[col].sum()
    words = out["ref_words"].astype("float64")
    out["wer"] = (out["errors"].astype("float64") / words).where(words > 0)
    for col in ("lat", "lon"):
        if col in scored.columns:
            out[col] = grouped[col].median()
    meta = [
        c
        for c in scored.columns
        if c not in NOT_SPEAKER_METADATA and c not in out.columns and c not in ("speaker_id", "lat", "lon")
    ]
    for col in meta:
        out[col] = _most_frequent(scored, col)
    out = out.reset_index()
    out["speaker_id"] = out["speaker_id"].astype(str)
    return carry(scored, out)


def _most_frequent(scored: pd.DataFrame, column: str) -> pd.Series:
    """Most frequent non-missing value of ``column`` per speaker (ties: the smallest)."""
    pairs = scored[["speaker_id", column]].dropna()
    if pairs.empty:
        return pd.Series(dtype=scored[column].dtype)
    counts = pairs.value_counts(sort=False).rename("n").reset_index()
    counts = counts.sort_values(["speaker_id", "n", column], ascending=[True, False, True], kind="stable")
    first = counts.drop_duplicates("speaker_id")
    return first.set_index("speaker_id")[column]
