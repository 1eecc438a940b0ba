"""Real check: does the racial gap of Koenecke et al. (PNAS 2020) survive adjustment?

Koenecke et al. matched 2,141 snippets of 56 Black speakers (CORAAL) with 2,141 of 42
white speakers (Voices of California) on age, gender and snippet duration, and found the
five commercial recognisers' error rates about twice as high for the Black speakers; the
disparity remained after matching. This script reads their matched table
(``../shared/data/asr_results/koenecke2020_matched_wer.csv``; see the data README) as a
counts-only decode log — errors = round(WER × wordcount), speaker = CORAAL ``basefile``
without its part number, VOC ``basefile`` as is — and for each system prints the Black
speakers' WER ratio to the white speakers', raw and adjusted for age, gender and duration
with :func:`wergap.adjusted_gap` (Poisson GEE, speakers as clusters, 95 % intervals).

    python benchmarks/koenecke_adjusted_gap.py [--data PATH] [--correlation exchangeable]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import wergap as wg

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "asr_results" / "koenecke2020_matched_wer.csv"
SYSTEMS = ("amazon", "apple", "google", "ibm", "msft")
COVARIATES = ["age", "female_flag", "duration"]


def matched_log(path: str | Path, system: str) -> pd.DataFrame:
    """The matched table as a scored counts-only log for one system (race in ``race``)."""
    table = pd.read_csv(path)
    black = table["black_flag"].to_numpy() == 1
    speaker = np.where(black, table["basefile"].str.replace(r"_\d+$", "", regex=True), table["basefile"])
    log = pd.DataFrame(
        {
            "utt_id": table["segment_filename"],
            "speaker_id": speaker,
            "ref_words": table["wordcount"],
            "errors": (table[f"clean_{system}_wer"] * table["wordcount"]).round().astype("int64"),
            "race": np.where(black, "Black", "white"),
            "age": table["age"],
            "female_flag": table["female_flag"],
            "duration": table["duration"],
        }
    )
    return wg.score(wg.read_log(log))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--correlation", default="independence", choices=["independence", "exchangeable"])
    args = parser.parse_args()
    rows = []
    for system in SYSTEMS:
        log = matched_log(args.data, system)
        labels = log.groupby("speaker_id")["race"].first()
        result = wg.adjusted_gap(log, labels, cohort="Black", covariates=COVARIATES, correlation=args.correlation)
        rows.append(
            {
                "system": system,
                "speakers": result.speakers,
                "snippets": result.utterances,
                "raw_ratio": f"{result.ratio_raw:.2f} ({result.ratio_raw_ci_low:.2f}–{result.ratio_raw_ci_high:.2f})",
                "adjusted_ratio": f"{result.ratio:.2f} ({result.ci_low:.2f}–{result.ci_high:.2f})",
                "p_value": f"{result.p_value:.1e}",
            }
        )
    print(
        f"Black vs white speakers' WER ratio, adjusted for {', '.join(COVARIATES)} "
        f"(Poisson GEE, speaker clusters, {args.correlation} working correlation, 95 % CI)"
    )
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
