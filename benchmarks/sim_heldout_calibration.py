"""Calibration of the held-out gap: false alarms without a disparity, power with one.

``wergap check --strict`` fails a release when the held-out gap's interval lies above a
threshold, so that interval must not claim a disparity where there is none. This script
simulates speaker tables where WER has nothing to do with place, ZIP or voice (the null),
and tables with a planted region / voice group served worse, runs
:func:`wergap.cohorts.held_out_gap` with ``GeoTree``, ``CensusSplits`` (speakers in the
ZCTAs of a simulated census: race shares, Hispanic share, income, age; or the real OEPS
table with ``--census``) and ``EmbeddingKMeans`` on each, and prints per method and
scenario:

- the mean in-sample gap (what the search itself reports — inflated under the null),
- the mean held-out gap (should centre near 0 under the null),
- how often the held-out interval's lower bound is above 0 (a "disparity" call of the
  headline number; nominal 2.5 % for a 95 % two-sided interval under the null, at most 5 %
  is the project's bar; the higher the better with an effect),
- how often the in-sample interval's lower bound is above 0 (what the headline was before
  issue 12: the search is not in that interval).

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

from wergap.cohorts import gap_summary, held_out_gap
from wergap.data_schemas import read_census
from wergap.discovery import CensusSplits, EmbeddingKMeans, GeoTree


def simulated_census(n_zctas: int = 400, seed: int = 12345) -> pd.DataFrame:
    """ZCTAs with race shares summing to 1, a Hispanic share, income and median age."""
    rng = np.random.default_rng(seed)
    race = rng.dirichlet([4.0, 1.0, 0.3, 0.6, 0.1, 0.5], n_zctas)
    census = pd.DataFrame(race, columns=["whiteP", "blackP", "amIndP", "asianP", "pacIsP", "otherP"])
    census.insert(0, "zip", [f"{z:05d}" for z in rng.choice(np.arange(1001, 99950), n_zctas, replace=False)])
    census["hispP"] = rng.beta(1, 5, n_zctas)
    census["median household income"] = rng.lognormal(np.log(60000), 0.4, n_zctas).round()
    census["median age"] = rng.normal(38, 6, n_zctas).round(1)
    return census


def speaker_table(rng: np.random.Generator, n: int, effect: float, zips: np.ndarray, dim: int = 16) -> pd.DataFrame:
    """``n`` speakers; those in the south-east corner and in voice group 0 get ``effect`` x the error rate."""
    lat, lon = rng.uniform(25, 49, n), rng.uniform(-124, -67, n)
    group = rng.integers(0, 5, n)
    centres = rng.standard_normal((5, dim)) * 2.0
    emb = centres[group] + rng.standard_normal((n, dim))
    # heavy-tailed words per speaker: a few speakers hold many of the words
    words = np.maximum(10, rng.lognormal(np.log(120), 0.8, n).round()).astype(np.int64)
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
            "zip": rng.choice(zips, n),
        }
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--n", type=int, default=2000, help="speakers per table")
    ap.add_argument("--effect", type=float, default=1.3, help="error-rate multiplier of the planted groups")
    ap.add_argument("--n-boot", type=int, default=500)
    ap.add_argument("--census", help="census table (read_census); default: a simulated one of 400 ZCTAs")
    ap.add_argument("--null-only", action="store_true", help="only the scenario without disparity")
    args = ap.parse_args(argv)

    census = read_census(args.census) if args.census else simulated_census()
    zips = census["zip"].to_numpy(dtype=object)
    estimators = {
        "geo_tree": GeoTree(max_regions=8, min_speakers=30),
        "census_splits": CensusSplits(census, min_speakers=30),
        "embedding_kmeans": EmbeddingKMeans(n_clusters=10, min_speakers=30),
    }
    rows = []
    start = time.perf_counter()
    scenarios = [("null", 1.0)] + ([] if args.null_only else [(f"effect x{args.effect:g}", args.effect)])
    for scenario, effect in scenarios:
        for rep in range(args.reps):
            speakers = speaker_table(np.random.default_rng(rep), args.n, effect, zips)
            for name, estimator in estimators.items():
                result = held_out_gap(estimator, speakers, seed=rep, n_boot=args.n_boot)
                found = gap_summary(speakers, estimator.fit(speakers).partition_, seed=rep, n_boot=args.n_boot)
                rows.append(
                    {
                        "scenario": scenario,
                        "method": name,
                        "in_sample": result.in_sample_gap_pct,
                        "held_out": result.gap_pct,
                        "called": bool(result.ci_low > 0),
                        "covers_zero": bool(result.ci_low <= 0 <= result.ci_high),
                        "in_sample_called": bool(found.gap_ci_low > 0),
                    }
                )
    table = pd.DataFrame(rows)
    summary = table.groupby(["scenario", "method"], sort=False).agg(
        reps=("called", "size"),
        mean_in_sample_gap_pct=("in_sample", "mean"),
        mean_held_out_gap_pct=("held_out", "mean"),
        held_out_ci_above_0_pct=("called", lambda x: 100 * x.mean()),
        held_out_ci_covers_0_pct=("covers_zero", lambda x: 100 * x.mean()),
        in_sample_ci_above_0_pct=("in_sample_called", lambda x: 100 * x.mean()),
    )
    null = table[table["scenario"] == "null"]
    n_null = null.groupby("method")["called"].size()
    rate = null.groupby("method")["called"].mean()
    mc = np.sqrt(rate * (1 - rate) / n_null)
    print(
        f"{args.reps} tables of {args.n:,} speakers per scenario, {args.n_boot} resamples, "
        f"{time.perf_counter() - start:.0f} s"
    )
    print(summary.round(1).to_string())
    for method in rate.index:
        print(
            f"null, {method}: headline (held-out) CI above 0 in {100 * rate[method]:.1f} % "
            f"± {100 * mc[method]:.1f} (MC s.e.) of {n_null[method]} tables; bar: <= 5 %"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
