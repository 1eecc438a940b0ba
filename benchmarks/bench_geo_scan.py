"""GeoScan against a planted metro area, under no disparity, and its time at 100k speakers.

Simulated speaker tables of the kind issue 13 describes:

- speakers placed in real ZCTAs (2023 Census Gazetteer internal points), chosen with
  probability proportional to the ZCTA's population (ACS 2014–18), read from
  ``../shared/data/zcta/`` (``WERGAP_SHARED_DATA``, ``--zcta-dir``); the script stops with a message when absent;
- heavy-tailed utterances per speaker (lognormal, median 4, a long tail past 100), about
  10 words each;
- overdispersed speaker WER: each speaker's rate is beta with mean ``base`` and
  concentration 15 (speakers differ far more than word-counting noise), errors binomial;
- the planted area: every speaker within ``radius`` km of a city (the radius, at most
  150 km, that holds about 2.5 % of the population) gets ``--effect`` (1.8) times the
  base rate.

Goals (issue 13): the most likely area is the bottom cohort with speaker F1 >= 0.6
against the planted speakers and a held-out CI above 0 in >= 3 of 4 data sets; with no
disparity a significant area (p <= 0.05) in <= 5 % of >= 40 data sets; 100,000 speakers
in <= 10 s with 999 replicates on 2 cores.

``--parts poisson`` runs Kulldorff's own Monte Carlo null (errors redrawn as Poisson
counts) on the null data sets, for contrast with the permutation null GeoScan uses.

    python benchmarks/bench_geo_scan.py                       # planted, null, time
    python benchmarks/bench_geo_scan.py --parts planted --speakers 3000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from wergap.cohorts import held_out_gap
from wergap.discovery.geo_scan import GeoScan, _haversine

DATA = Path(os.environ.get("WERGAP_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
#: (name, lat, lon) of the cities planted areas are centred on, one per data set: those whose
#: 150 km circle holds 2–3 % of the US population.
CITIES = [
    ("Atlanta", 33.749, -84.388),
    ("Dallas", 32.777, -96.797),
    ("Houston", 29.760, -95.370),
    ("Detroit", 42.331, -83.046),
    ("Charlotte", 35.227, -80.843),
    ("Tampa", 27.950, -82.457),
]
TARGET_SHARE = 0.025
BASE_WER = 0.12
CONCENTRATION = 15.0


def read_zctas(folder: Path) -> pd.DataFrame:
    """ZCTA internal points with population (lat, lon, population)."""
    points = pd.read_csv(folder / "zcta_centroids_2023_gazetteer.csv", dtype={"GEOID": str})
    people = pd.read_csv(
        folder / "acs2018_zcta_demographics_oeps_DS01.csv", dtype={"ZCTA": str}, usecols=["ZCTA", "totPopE"]
    )
    table = points.merge(people, left_on="GEOID", right_on="ZCTA")
    table = table[table["totPopE"] > 0]
    return pd.DataFrame(
        {"zip": table["GEOID"], "lat": table["LAT"], "lon": table["LONG"], "population": table["totPopE"].astype(float)}
    )


def planted_radius(zctas: pd.DataFrame, lat: float, lon: float) -> tuple[float, float]:
    """Radius (km, at most 150) holding about TARGET_SHARE of the population, and its share."""
    d = _haversine(lat, lon, zctas["lat"].to_numpy(), zctas["lon"].to_numpy())
    order = np.argsort(d)
    share = np.cumsum(zctas["population"].to_numpy()[order]) / zctas["population"].sum()
    radius = min(150.0, float(d[order][np.searchsorted(share, TARGET_SHARE)]))
    return radius, float(share[np.searchsorted(d[order], radius, side="right") - 1])


def speaker_table(
    zctas: pd.DataFrame,
    n: int,
    rng: np.random.Generator,
    *,
    effect: float = 1.0,
    centre: tuple[float, float] | None = None,
    radius: float = 0.0,
) -> pd.DataFrame:
    """``n`` simulated speakers; column ``planted`` marks those in the planted area."""
    p = zctas["population"].to_numpy() / zctas["population"].sum()
    where = rng.choice(len(zctas), size=n, p=p)
    lat, lon = zctas["lat"].to_numpy()[where], zctas["lon"].to_numpy()[where]
    utterances = np.maximum(1, np.round(rng.lognormal(np.log(4), 1.1, n))).astype(np.int64)
    words = utterances + rng.poisson(9 * utterances)
    planted = np.zeros(n, bool)
    if centre is not None:
        planted = _haversine(centre[0], centre[1], lat, lon) <= radius
    mean = BASE_WER * np.where(planted, effect, 1.0)
    rate = rng.beta(CONCENTRATION * mean, CONCENTRATION * (1 - mean))
    errors = rng.binomial(words, rate)
    return pd.DataFrame(
        {
            "speaker_id": [f"s{i:06d}" for i in range(n)],
            "utterances": utterances,
            "ref_words": words,
            "errors": errors,
            "wer": errors / words,
            "lat": lat,
            "lon": lon,
            "zip": zctas["zip"].to_numpy()[where],
            "planted": planted,
        }
    )


def planted(zctas: pd.DataFrame, n: int, sets: int, effect: float, seed: int) -> None:
    print(
        f"planted area: {sets} data sets x {n} speakers, effect {effect}x, base WER {BASE_WER}, beta concentration {CONCENTRATION}"
    )
    hits = 0
    for s in range(sets):
        name, lat, lon = CITIES[s % len(CITIES)]
        radius, _ = planted_radius(zctas, lat, lon)
        rng = np.random.default_rng(seed + s)
        speakers = speaker_table(zctas, n, rng, effect=effect, centre=(lat, lon), radius=radius)
        wall = time.perf_counter()
        scan = GeoScan(random_state=s).fit(speakers)
        fit_s = time.perf_counter() - wall
        inside = (
            speakers["speaker_id"].isin(scan.partition_.labels[scan.partition_.labels == "area 1"].index).to_numpy()
        )
        truth = speakers["planted"].to_numpy()
        tp = int((inside & truth).sum())
        f1 = 2 * tp / max(int(inside.sum()) + int(truth.sum()), 1)
        held = held_out_gap(GeoScan(random_state=s, n_replicates=99), speakers, seed=s)
        ok = f1 >= 0.6 and held.ci_low > 0
        hits += ok
        area = scan.areas_.iloc[0] if len(scan.areas_) else None
        found = (
            f"found {area['radius_km']:.0f} km around {area['centre_lat']:.2f},{area['centre_lon']:.2f}, "
            f"{area['speakers']} spk, WER {100 * area['wer']:.1f}% vs {100 * area['wer_outside']:.1f}%, p={scan.p_value_:.3f}"
            if area is not None
            else "found nothing"
        )
        print(
            f"  {name:12s} r={radius:5.0f} km planted {truth.sum():4d} spk ({100 * truth.mean():.1f}%) | {found} | "
            f"F1 {f1:.2f} | held-out gap {held.gap_pct:+.0f}% CI [{held.ci_low:+.0f}, {held.ci_high:+.0f}] | "
            f"fit {fit_s:.1f} s | {'goal met' if ok else 'MISSED'}"
        )
    print(f"  goal: F1 >= 0.6 and held-out CI above 0 in {hits} of {sets} data sets (need >= 3 of 4)")


def null(zctas: pd.DataFrame, n: int, sets: int, seed: int) -> None:
    significant = 0
    p_values = []
    for s in range(sets):
        speakers = speaker_table(zctas, n, np.random.default_rng(10_000 + seed + s))
        scan = GeoScan(random_state=s).fit(speakers)
        significant += scan.significant_
        p_values.append(scan.p_value_)
    print(
        f"null: {sets} data sets x {n} speakers: significant area (p <= 0.05) in {significant} "
        f"({100 * significant / sets:.1f} %; goal <= 5 %); p-values min {min(p_values):.3f}, "
        f"median {np.median(p_values):.3f}"
    )


def poisson_null(zctas: pd.DataFrame, n: int, sets: int, seed: int) -> None:
    """How often Kulldorff's own Monte Carlo null (errors redrawn as Poisson counts, i.e.
    multinomial over locations given the total) calls a significant area on the same null
    data sets: what the permutation null over speakers avoids."""
    from wergap.discovery import geo_scan as G
    from wergap.discovery._scan_kernels import kernels

    kern = kernels()
    significant = 0
    for s in range(sets):
        speakers = speaker_table(zctas, n, np.random.default_rng(10_000 + seed + s))
        scan = GeoScan(random_state=s, n_replicates=0).fit(speakers)
        lat, lon = speakers["lat"].to_numpy(), speakers["lon"].to_numpy()
        e, w = speakers["errors"].to_numpy(float), speakers["ref_words"].to_numpy(float)
        loc_of, loc_lat, loc_lon = G._locations(lat, lon, scan.max_locations)
        k = len(loc_lat)
        loc_n = np.bincount(loc_of, minlength=k).astype(np.int64)
        loc_w = np.bincount(loc_of, weights=w, minlength=k)
        ptr, idx, _ = G._neighbours(loc_lat, loc_lon, loc_n, int(np.floor(scan.max_share * n)))
        rng = np.random.default_rng(s)
        maxima = [
            kern.scan_max(
                rng.multinomial(int(e.sum()), loc_w / w.sum()).astype(float),
                loc_w,
                loc_n,
                ptr,
                idx,
                e.sum(),
                w.sum(),
                scan.min_speakers,
            )
            for _ in range(999)
        ]
        significant += G._p_value(scan.llr_, np.asarray(maxima)) <= 0.05
    print(
        f"Poisson Monte Carlo null (Kulldorff's, for contrast): {sets} null data sets x {n} speakers: "
        f"significant area in {significant} ({100 * significant / sets:.0f} %)"
    )


def timing(zctas: pd.DataFrame, n: int, seed: int) -> None:
    _, lat, lon = CITIES[0]
    radius, _ = planted_radius(zctas, lat, lon)
    speakers = speaker_table(zctas, n, np.random.default_rng(seed), effect=1.8, centre=(lat, lon), radius=radius)
    GeoScan(n_replicates=9).fit(speakers.head(2000))  # load the compiled kernels once
    for _ in range(2):
        wall, cpu = time.perf_counter(), time.process_time()
        scan = GeoScan(n_replicates=999).fit(speakers)
        print(
            f"time: {n} speakers, {scan.n_locations_} locations, 999 replicates: "
            f"{time.perf_counter() - wall:.2f} s wall, {time.process_time() - cpu:.2f} s CPU (goal <= 10 s)"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zcta-dir", type=Path, default=DATA / "zcta")
    ap.add_argument(
        "--parts", nargs="+", default=["planted", "null", "time"], choices=["planted", "null", "poisson", "time"]
    )
    ap.add_argument("--speakers", type=int, default=10_000, help="speakers per planted data set")
    ap.add_argument("--sets", type=int, default=4, help="planted data sets")
    ap.add_argument("--effect", type=float, default=1.8)
    ap.add_argument("--null-speakers", type=int, default=3_000)
    ap.add_argument("--null-sets", type=int, default=40)
    ap.add_argument("--time-speakers", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if not (args.zcta_dir / "zcta_centroids_2023_gazetteer.csv").exists():
        print(f"bench_geo_scan: ZCTA data not found in {args.zcta_dir} (pass --zcta-dir)", file=sys.stderr)
        return 2
    zctas = read_zctas(args.zcta_dir)
    if "planted" in args.parts:
        planted(zctas, args.speakers, args.sets, args.effect, args.seed)
    if "null" in args.parts:
        null(zctas, args.null_speakers, args.null_sets, args.seed)
    if "poisson" in args.parts:
        poisson_null(zctas, args.null_speakers, min(args.null_sets, 20), args.seed)
    if "time" in args.parts:
        timing(zctas, args.time_speakers, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
