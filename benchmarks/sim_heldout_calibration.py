"""Calibration of the held-out gap: false alarms without a disparity, power with one.

``wergap check --strict`` fails a release when the held-out gap's interval lies above a
threshold, so that interval must not claim a disparity where there is none. This script
simulates speaker tables where WER has nothing to do with place or voice (the null), and
tables with a planted region / voice group served worse, runs
:func:`wergap.cohorts.held_out_gap` with ``GeoTree`` and ``EmbeddingKMeans`` on each, and
prints per method and scenario:

- the mean in-sample gap (what the search itself reports — inflated under the null),
- the mean held-out gap (should centre near 0 under the null),
- how often the interval's lower bound is above 0 (a "disparity" call; nominal 2.5 % for a
  95 % two-sided interval under the null; the higher the better with an effect).

Speakers differ from one another as real ones do: each speaker's error rate is drawn from
a beta distribution around the base rate (overdispersion), so the bootstrap over speakers
has real between-speaker variance to capture.

    python benchmarks/sim_heldout_calibration.py                 # 200 repetitions
    python benchmarks/sim_heldout_calibration.py --reps 50 --n 1000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from wergap.cohorts import held_out_gap
from wergap.discovery import EmbeddingKMeans, GeoTree


def speaker_table(rng: np.random.Generator, n: int, effect: float, dim: int = 16) -> pd.DataFrame:
    """``n`` speakers; those in the south-east corner and in voice group 0 get ``effect`` x the error rate."""
    lat, lon = rng.uniform(25, 49, n), rng.uniform(-124, -67, n)
    group = rng.integers(0, 5, n)
    centres = rng.standard_normal((5, dim)) * 2.0
    emb = centres[group] + rng.standard_normal((n, dim))
    words = rng.integers(30, 300, n)
    base = 0.08 * np.where((lat < 34) & (lon > -92), effect, 1.0) * np.where(group == 0, effect, 1.0)
    # Between-speaker spread: beta with mean `base` and concentration 40.
    rate = rng.beta(40 * base, 40 * (1 - base))
    return pd.DataFrame(
        {
            "speaker_id": [f"s{i:05d}" for i in range(n)],
            "utterances": np.maximum(words // 8, 1),
            "ref_words": words,
            "errors": rng.binomial(words, rate),
            "lat": lat,
            "lon": lon,
            "embedding": list(emb.astype(np.float32)),
        }
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--n", type=int, default=2000, help="speakers per table")
    ap.add_argument("--effect", type=float, default=1.3, help="error-rate multiplier of the planted groups")
    ap.add_argument("--n-boot", type=int, default=500)
    args = ap.parse_args(argv)

    estimators = {
        "geo_tree": GeoTree(max_regions=8, min_speakers=30),
        "embedding_kmeans": EmbeddingKMeans(n_clusters=10, min_speakers=30),
    }
    rows = []
    start = time.perf_counter()
    for scenario, effect in (("null", 1.0), (f"effect x{args.effect:g}", args.effect)):
        for rep in range(args.reps):
            speakers = speaker_table(np.random.default_rng(rep), args.n, effect)
            for name, estimator in estimators.items():
                result = held_out_gap(estimator, speakers, seed=rep, n_boot=args.n_boot)
                rows.append(
                    {
                        "scenario": scenario,
                        "method": name,
                        "in_sample": result.in_sample_gap_pct,
                        "held_out": result.gap_pct,
                        "called": bool(result.ci_low > 0),
                        "covers_zero": bool(result.ci_low <= 0 <= result.ci_high),
                    }
                )
    table = pd.DataFrame(rows)
    summary = table.groupby(["scenario", "method"], sort=False).agg(
        reps=("called", "size"),
        mean_in_sample_gap_pct=("in_sample", "mean"),
        mean_held_out_gap_pct=("held_out", "mean"),
        called_pct=("called", lambda x: 100 * x.mean()),
        interval_covers_0_pct=("covers_zero", lambda x: 100 * x.mean()),
    )
    print(f"{args.reps} tables of {args.n:,} speakers per scenario, {args.n_boot} resamples, "
          f"{time.perf_counter() - start:.0f} s")
    print(summary.round(1).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
