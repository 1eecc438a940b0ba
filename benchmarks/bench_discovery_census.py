"""Time CensusSplits.fit on 100k speakers over the real OEPS DS01 ZCTA table.

Target (from the project brief): 100k speakers x hundreds of candidate splits in at most
5 s. The census is ../shared/data/zcta/acs2018_zcta_demographics_oeps_DS01.csv (read with
read_census; its time is printed apart) when present, else a generated table of the same
shape. Speakers are placed in ZCTAs in proportion to population. Run:

    .venv/bin/python benchmarks/bench_discovery_census.py [--speakers 100000] [--quantiles 19]

``--quantiles k`` uses k evenly spaced quantiles (1/(k+1), ..., k/(k+1)) per numeric
column, to reach hundreds of candidates. Prints the candidate count and the best-of-
``--repeat`` wall-clock time of ``fit``, then the time to build every ranked Partition
(``partitions_`` builds each one on first access) for comparison.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from wergap.data_schemas import read_census
from wergap.discovery import CensusSplits

DATA = Path(os.environ.get("WERGAP_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
DS01 = DATA / "zcta" / "acs2018_zcta_demographics_oeps_DS01.csv"


def generated_census(n: int = 33_120, seed: int = 0) -> pd.DataFrame:
    """A census with DS01's columns: race shares, 12 age counts, 6 other shares."""
    rng = np.random.default_rng(seed)
    race = rng.dirichlet([4.0, 1.0, 0.3, 0.6, 0.1, 0.5], n)
    census = pd.DataFrame(race, columns=["whiteP", "blackP", "amIndP", "asianP", "pacIsP", "otherP"])
    census.insert(0, "zip", [f"{z:05d}" for z in rng.choice(np.arange(1001, 99950), n, replace=False)])
    census.insert(1, "totPopE", rng.lognormal(8, 1.5, n).round())
    for column in ("hispP", "noHSP", "a15_24P", "und45P", "ovr65P", "disbP"):
        census[column] = rng.beta(2, 6, n)
    for column in ("age0_4", "age5_14", "age15_19", "age20_24", "age15_44", "age45_49", "age50_54"):
        census[column] = (census["totPopE"] * rng.beta(2, 20, n)).round()
    for column in ("age55_59", "age60_64", "ageOv65", "ageOv18", "age18_64"):
        census[column] = (census["totPopE"] * rng.beta(2, 20, n)).round()
    return census


def speakers_over(census: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    population = census["totPopE"].fillna(0).to_numpy(dtype="float64") + 1
    zips = rng.choice(census["zip"].to_numpy(dtype=object), n, p=population / population.sum())
    words = rng.integers(20, 400, n)
    black = census.set_index("zip").loc[zips, "blackP"].fillna(0).to_numpy()
    errors = rng.binomial(words, np.clip(0.08 + 0.06 * black + rng.normal(0, 0.02, n), 0, 1))
    speakers = pd.DataFrame(
        {
            "speaker_id": [f"spk{i:07d}" for i in range(n)],
            "utterances": rng.integers(1, 30, n),
            "ref_words": words,
            "errors": errors,
            "zip": pd.Series(zips, dtype="str"),
        }
    )
    speakers["wer"] = speakers["errors"] / speakers["ref_words"]
    return speakers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speakers", type=int, default=100_000)
    parser.add_argument("--quantiles", type=int, default=3, help="quantiles per numeric column")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    start = time.perf_counter()
    if DS01.is_file():
        census, source = read_census(DS01), f"real {DS01.name}"
    else:
        census, source = generated_census(), "generated (shared data absent)"
    read_seconds = time.perf_counter() - start
    speakers = speakers_over(census, args.speakers)
    quantiles = tuple(np.arange(1, args.quantiles + 1) / (args.quantiles + 1))

    times = []
    for _ in range(args.repeat):
        estimator = CensusSplits(census, quantiles=quantiles)
        start = time.perf_counter()
        estimator.fit(speakers)
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    built = list(estimator.partitions_)
    build_seconds = time.perf_counter() - start

    best = estimator.splits_.iloc[0]
    print(
        f"census: {source}, {len(census)} ZCTAs x {census.shape[1] - 1} attributes (read_census {read_seconds:.2f} s)"
    )
    print(
        f"{args.speakers} speakers, {len(quantiles)} quantiles: {estimator.n_candidates_} candidate splits, "
        f"{len(estimator.splits_)} with >= 30 speakers a side"
    )
    print(f"fit (best of {args.repeat}): {min(times):.2f} s   [target <= 5 s]")
    print(f"building all {len(built)} Partitions on access: {build_seconds:.2f} s")
    print(f"best split: {best['definition']}  gap {best['gap_pct']:.1f} %")


if __name__ == "__main__":
    main()
