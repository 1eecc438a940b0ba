"""Coverage of the per-group WER intervals of ``wergap.disaggregate``, by simulation.

Each repetition draws one group of ``--speakers`` speakers whose words per speaker are
heavy-tailed (lognormal, a few speakers hold many of the words) and whose own error rates
are overdispersed (beta around the true WER, independent of how much they speak, so the
word-weighted population WER is the beta mean exactly). :func:`wergap.disaggregate`
computes the group's 95 % interval (studentised speaker bootstrap); the script counts how
often it covers the true WER, and for comparison how often the plain percentile interval
of the same resamples does, each with its Monte-Carlo standard error sqrt(p (1 − p) / reps).

    python benchmarks/bench_coverage.py                       # 150 speakers, 2000 reps
    python benchmarks/bench_coverage.py --speakers 1500 --reps 1000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from wergap.cohorts import disaggregate
from wergap.cohorts.bootstrap import percentile_interval, ratio, stratified_totals


def group(rng: np.random.Generator, n: int, wer: float, sigma: float, kappa: float) -> pd.DataFrame:
    words = np.maximum(3, rng.lognormal(np.log(60), sigma, n).round()).astype(np.int64)
    rate = rng.beta(kappa * wer, kappa * (1 - wer), n)
    return pd.DataFrame(
        {
            "speaker_id": [f"s{i}" for i in range(n)],
            "ref_words": words,
            "errors": rng.binomial(words, rate),
            "group": "g",
        }
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--speakers", type=int, default=150)
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--wer", type=float, default=0.12)
    ap.add_argument("--sigma", type=float, default=1.5, help="lognormal sigma of words per speaker (heavy tail)")
    ap.add_argument("--kappa", type=float, default=10.0, help="beta concentration of speaker error rates")
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    hits = {"studentised": [0, 0], "percentile": [0, 0]}  # [true WER below, above]
    start = time.perf_counter()
    for rep in range(args.reps):
        table = group(rng, args.speakers, args.wer, args.sigma, args.kappa)
        row = disaggregate(table, "group", min_speakers=1, n_boot=args.n_boot, seed=rep).iloc[0]
        eb, wb = stratified_totals(
            np.zeros(len(table), dtype=np.intp),
            table["errors"].to_numpy(),
            table["ref_words"].to_numpy(),
            1,
            args.n_boot,
            np.random.default_rng(rep),
        )
        p_low, p_high = percentile_interval(ratio(eb[:, 0], wb[:, 0]), 0.95)
        for name, (low, high) in (
            ("studentised", (row["wer_ci_low"], row["wer_ci_high"])),
            ("percentile", (p_low, p_high)),
        ):
            hits[name][0] += args.wer < low
            hits[name][1] += args.wer > high
    elapsed = time.perf_counter() - start
    print(
        f"{args.reps} groups of {args.speakers} speakers, true WER {args.wer}, words/speaker lognormal "
        f"sigma {args.sigma}, speaker rates beta kappa {args.kappa}, {args.n_boot} resamples ({elapsed:.0f} s)"
    )
    for name, (low, high) in hits.items():
        cover = 1 - (low + high) / args.reps
        se = np.sqrt(cover * (1 - cover) / args.reps)
        print(
            f"{name:<12} coverage {100 * cover:.1f} % ± {100 * se:.1f} (MC s.e.); "
            f"true WER below the interval {100 * low / args.reps:.1f} %, above it {100 * high / args.reps:.1f} % "
            "(nominal 2.5 % each)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
