"""Koenecke et al. (PNAS 2020) matched WER table -> one counts-only decode log with a ``system`` column.

The replication data of "Racial disparities in automated speech recognition" gives, per
snippet, the WER of five commercial recognizers (``clean_{google,ibm,amazon,msft,apple}_wer``)
and the reference word count (``wordcount``), without transcripts. This script writes the
log ``wergap compare`` reads: one row per snippet and system, with

- ``utt_id`` = ``segment_filename``; ``system`` = google, ibm, amazon, msft, apple;
- ``errors`` = round(WER × wordcount) (every WER × wordcount in the file is an integer),
  ``ref_words`` = wordcount;
- ``speaker_id`` = ``basefile``, without its trailing ``_N`` part number for CORAAL
  snippets (sites DCB, PRV, ROC: ``DCB_se1_ag2_f_01_1`` -> ``DCB_se1_ag2_f_01``); VOC
  snippets' ``basefile`` is the speaker;
- known attributes, as readable text: ``race`` (Black / white), ``gender``, ``age_group``
  and ``site`` (DCB, PRV, ROC, HUM, SAC).

Usage::

    python examples/koenecke_to_logs.py ../shared/data/asr_results/koenecke2020_matched_wer.csv koenecke.tsv
    wergap compare koenecke.tsv -o koenecke.html

The data is research use only (CORAAL is CC BY-NC-SA 4.0): keep the output out of any
repository.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

SYSTEMS = ("google", "ibm", "amazon", "msft", "apple")
CORAAL_SITES = ("DCB", "PRV", "ROC")
AGE_BINS = [0, 29, 44, 59, 200]
AGE_LABELS = ["18-29", "30-44", "45-59", "60+"]
NOT_INTEGER = "{column}: WER x wordcount is not an integer on {n} rows (e.g. {example}): not the matched table?"


def to_log(table: pd.DataFrame) -> pd.DataFrame:
    """One row per snippet and system: utt_id, speaker_id, system, errors, ref_words, attributes."""
    coraal = table["source"].isin(CORAAL_SITES)
    speaker = table["basefile"].where(~coraal, table["basefile"].str.replace(r"_\d+$", "", regex=True))
    meta = pd.DataFrame(
        {
            "utt_id": table["segment_filename"],
            "speaker_id": speaker,
            "ref_words": table["wordcount"].astype("int64"),
            "race": np.where(table["black_flag"] == 1, "Black", "white"),
            "gender": np.where(table["female_flag"] == 1, "female", "male"),
            "age_group": pd.cut(table["age"], AGE_BINS, labels=AGE_LABELS).astype(str),
            "site": table["source"],
        }
    )
    parts = []
    for system in SYSTEMS:
        column = f"clean_{system}_wer"
        exact = table[column] * table["wordcount"]
        errors = exact.round()
        off = (exact - errors).abs() > 1e-6
        if off.any():
            raise ValueError(NOT_INTEGER.format(column=column, n=int(off.sum()), example=table.loc[off, "segment_filename"].iloc[0]))
        parts.append(meta.assign(system=system, errors=errors.astype("int64")))
    return pd.concat(parts, ignore_index=True)[
        ["utt_id", "speaker_id", "system", "errors", "ref_words", "race", "gender", "age_group", "site"]
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("matched_csv", help="koenecke2020_matched_wer.csv (the repository's output/Matched_WER.csv)")
    parser.add_argument("out", help="the log to write (.tsv, .csv or .parquet)")
    args = parser.parse_args(argv)
    log = to_log(pd.read_csv(args.matched_csv))
    if args.out.endswith(".parquet"):
        log.to_parquet(args.out, index=False)
    else:
        log.to_csv(args.out, sep="\t" if args.out.endswith(".tsv") else ",", index=False)
    print(f"wrote {args.out}: {len(log):,} rows, {log['utt_id'].nunique():,} snippets x {len(SYSTEMS)} systems, "
          f"{log['speaker_id'].nunique()} speakers", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
