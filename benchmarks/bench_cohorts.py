"""Time the cohort statistics on a large synthetic speaker table.

Target (from the project brief): 100k speakers x 1000 bootstrap resamples for a 10-cohort
partition in at most 5 s for cohort_table. Run:

    .venv/bin/python benchmarks/bench_cohorts.py [--speakers 100000] [--cohorts 10] [--n-boot 1000]

Prints one line per function with its wall-clock time (best of --repeat runs).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from wergap.cohorts import Partition, cohort_table, disaggregate, gap_summary, overall_wer


def speaker_table(n: int, k: int, seed: int = 0) -> tuple[pd.DataFrame, Partition]:
    rng = np.random.default_rng(seed)
    cohort = rng.integers(0, k, n)
    words = rng.integers(20, 400, n)
    p = rng.beta(3, 20, n) * (1 + cohort / k)
    speakers = pd.DataFrame(
        {
            "speaker_id": [f"spk{i:07d}" for i in range(n)],
            "utterances": rng.integers(1, 30, n),
            "ref_words": words,
            "errors": rng.binomial(words, np.clip(p, 0, 1)),
            "device": rng.choice(["phone", "far_field", "headset", "car"], n),
        }
    )
    labels = pd.Series([f"c{c}" for c in cohort], index=speakers["speaker_id"].to_numpy())
    return speakers, Partition("bench", labels, {f"c{c}": f"cohort {c}" for c in range(k)})


def best_of(repeat: int, call) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speakers", type=int, default=100_000)
    parser.add_argument("--cohorts", type=int, default=10)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    speakers, partition = speaker_table(args.speakers, args.cohorts)
    options = dict(n_boot=args.n_boot, seed=0)
    runs = {
        "cohort_table": lambda: cohort_table(speakers, partition, **options),
        "gap_summary": lambda: gap_summary(speakers, partition, **options),
        "overall_wer": lambda: overall_wer(speakers, **options),
        "disaggregate(device)": lambda: disaggregate(speakers, "device", **options),
    }
    print(f"{args.speakers} speakers, {args.cohorts} cohorts, {args.n_boot} resamples (best of {args.repeat})")
    for name, call in runs.items():
        print(f"{name:24s} {best_of(args.repeat, call):7.2f} s")


if __name__ == "__main__":
    main()
