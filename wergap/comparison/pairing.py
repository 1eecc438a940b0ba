"""Pairing two scored logs utterance by utterance, for a comparison of systems.

Both systems must have decoded the same utterances: the logs are joined on ``utt_id``,
and a ``utt_id`` that names different speakers in the two logs is an error, not a match.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from wergap.errors import InputError

MISSING_COLUMN = (
    "{which} table has no {column!r} column (compare needs scored utterances: utt_id, speaker_id, ref_words, errors)"
)
DUPLICATE_UTT = "{which} table repeats utt_id {utt_id!r} (row {row})"
SPEAKER_MISMATCH = (
    "utt_id {utt_id!r} belongs to speaker {base!r} in the {base_name} log but {cand!r} in the "
    "{cand_name} log ({n} such utterances): the logs do not describe the same utterances"
)
NO_SHARED = "the two logs share no utt_id ({n_base} in {base_name}, {n_cand} in {cand_name})"


def require_scored(table: pd.DataFrame, which: str) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"{which} must be a DataFrame of scored utterances, got {type(table).__name__}")
    for column in ("utt_id", "speaker_id", "ref_words", "errors"):
        if column not in table.columns:
            raise InputError(MISSING_COLUMN.format(which=which, column=column), column=column)
    ids = table["utt_id"].astype("str")
    dup = ids.duplicated().to_numpy()
    if dup.any():
        row = int(dup.argmax())
        raise InputError(DUPLICATE_UTT.format(which=which, utt_id=ids.iloc[row], row=row), row=row, column="utt_id")
    return table


def align_logs(base: pd.DataFrame, cand: pd.DataFrame, names: tuple[str, str]) -> tuple[pd.DataFrame, dict[str, int]]:
    """Per-utterance counts of both systems on the utterances both logs hold."""
    base = require_scored(base, names[0])
    cand = require_scored(cand, names[1])
    left = pd.DataFrame(
        {
            "utt_id": base["utt_id"].astype("str").to_numpy(),
            "speaker_id": base["speaker_id"].astype("str").to_numpy(),
            "errors_base": pd.to_numeric(base["errors"]).to_numpy(dtype=np.float64),
            "words_base": pd.to_numeric(base["ref_words"]).to_numpy(dtype=np.float64),
        }
    )
    right = pd.DataFrame(
        {
            "utt_id": cand["utt_id"].astype("str").to_numpy(),
            "speaker_cand": cand["speaker_id"].astype("str").to_numpy(),
            "errors_cand": pd.to_numeric(cand["errors"]).to_numpy(dtype=np.float64),
            "words_cand": pd.to_numeric(cand["ref_words"]).to_numpy(dtype=np.float64),
        }
    )
    merged = left.merge(right, on="utt_id", how="inner", sort=False)
    if merged.empty:
        raise InputError(NO_SHARED.format(n_base=len(left), n_cand=len(right), base_name=names[0], cand_name=names[1]))
    differ = (merged["speaker_id"] != merged["speaker_cand"]).to_numpy()
    if differ.any():
        i = int(differ.argmax())
        raise InputError(
            SPEAKER_MISMATCH.format(
                utt_id=merged["utt_id"].iloc[i],
                base=merged["speaker_id"].iloc[i],
                cand=merged["speaker_cand"].iloc[i],
                base_name=names[0],
                cand_name=names[1],
                n=int(differ.sum()),
            ),
            column="speaker_id",
        )
    counts = {
        "shared": len(merged),
        f"only_{names[0]}": len(left) - len(merged),
        f"only_{names[1]}": len(right) - len(merged),
        "reference_words_differ": int((merged["words_base"] != merged["words_cand"]).sum()),
    }
    return merged.drop(columns="speaker_cand"), counts


def per_speaker(merged: pd.DataFrame) -> pd.DataFrame:
    grouped = merged.groupby("speaker_id", sort=True)
    out = grouped[["errors_base", "words_base", "errors_cand", "words_cand"]].sum()
    out["utterances"] = grouped.size()
    return out.reset_index()
