"""A bundled, simulated example: a US voice-assistant decode log with planted disparities.

Users (and the test suite) need a decode log that exercises every discovery method at
once, with effects whose size and location are known, so that a report can be checked
against the truth. Nothing here is real speech: references are short voice-assistant
commands, hypotheses are the references perturbed by substitutions, deletions and
insertions at a per-speaker error rate, and speakers live near real US city centres
(coordinates and ZIP codes from the 2023 Census Gazetteer). The census table and the
speaker embeddings are simulated too. Every artifact says so: the log and tables carry
``attrs["wergap"]["simulated"] = True``, files written by :func:`write_example` start with
``simulated_``, and the report built by :func:`run_demo` shows a banner.

Three disparities are planted, of different sizes (see :attr:`Example.planted`):
a geographic region (cities in the south-east), a census attribute (speakers in ZIPs whose
simulated population is majority Hispanic) and one embedding cluster.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wergap._io import atomic_path, write_text_atomic

#: (city, state, ZIP, lat, lon): ZCTA internal points from the 2023 Census Gazetteer.
CITIES: tuple[tuple[str, str, str, float, float], ...] = (
    ("New York", "NY", "10001", 40.750649, -73.997298),
    ("Los Angeles", "CA", "90012", 34.065975, -118.238642),
    ("Chicago", "IL", "60601", 41.885155, -87.621512),
    ("Houston", "TX", "77002", 29.756845, -95.365652),
    ("Phoenix", "AZ", "85004", 33.451609, -112.06988),
    ("Philadelphia", "PA", "19103", 39.953372, -75.174187),
    ("San Antonio", "TX", "78205", 29.423945, -98.48642),
    ("San Diego", "CA", "92101", 32.717807, -117.172086),
    ("Dallas", "TX", "75201", 32.788309, -96.799572),
    ("San Jose", "CA", "95113", 37.334013, -121.890443),
    ("Austin", "TX", "78701", 30.270569, -97.742589),
    ("Jacksonville", "FL", "32202", 30.32462, -81.647232),
    ("Columbus", "OH", "43215", 39.966856, -83.01296),
    ("Charlotte", "NC", "28202", 35.227271, -80.844194),
    ("Indianapolis", "IN", "46204", 39.770593, -86.157054),
    ("San Francisco", "CA", "94103", 37.772983, -122.411343),
    ("Seattle", "WA", "98101", 47.610902, -122.336422),
    ("Denver", "CO", "80202", 39.751526, -104.997673),
    ("Washington", "DC", "20001", 38.910353, -77.017739),
    ("Boston", "MA", "02108", 42.355097, -71.065737),
    ("Nashville", "TN", "37203", 36.149775, -86.789146),
    ("El Paso", "TX", "79901", 31.759397, -106.480128),
    ("Detroit", "MI", "48226", 42.331815, -83.050354),
    ("Oklahoma City", "OK", "73102", 35.470652, -97.51909),
    ("Portland", "OR", "97204", 45.518371, -122.673946),
    ("Las Vegas", "NV", "89101", 36.172788, -115.122324),
    ("Memphis", "TN", "38103", 35.156214, -90.055462),
    ("Louisville", "KY", "40202", 38.252811, -85.751946),
    ("Baltimore", "MD", "21201", 39.294961, -76.622341),
    ("Milwaukee", "WI", "53202", 43.049673, -87.892384),
    ("Albuquerque", "NM", "87102", 35.082357, -106.646768),
    ("Tucson", "AZ", "85701", 32.217037, -110.971338),
    ("Fresno", "CA", "93721", 36.732808, -119.783829),
    ("Sacramento", "CA", "95814", 38.580568, -121.49559),
    ("Kansas City", "MO", "64106", 39.105274, -94.570088),
    ("Atlanta", "GA", "30303", 33.752845, -84.390226),
    ("Miami", "FL", "33130", 25.768524, -80.203359),
    ("Minneapolis", "MN", "55401", 44.985367, -93.270208),
    ("New Orleans", "LA", "70112", 29.95609, -90.07735),
    ("Cleveland", "OH", "44113", 41.483241, -81.697166),
    ("Salt Lake City", "UT", "84101", 40.756311, -111.899962),
    ("Birmingham", "AL", "35203", 33.518381, -86.810067),
    ("Jackson", "MS", "39201", 32.289606, -90.184324),
    ("St. Louis", "MO", "63101", 38.631397, -90.192753),
)

#: The planted geographic region: a lat/lon box around these south-eastern cities.
GEO_BOX = {"lat": (29.0, 36.5), "lon": (-91.5, -83.5)}
#: ZIPs whose simulated census population is majority Hispanic (the planted census effect).
HISPANIC_MAJORITY_ZIPS = ("79901", "78205", "93721", "87102", "33130")
#: Multiplicative effects on a speaker's error rate.
EFFECTS = {"geo": 1.9, "census": 1.5, "embedding": 2.2}
DEVICE_EFFECT = {"phone": 1.0, "smart_speaker": 1.15, "car": 1.35}
AGE_EFFECT = {"18-29": 1.0, "30-44": 1.0, "45-64": 1.05, "65+": 1.2}
#: Embedding mixture: components, dimension, and the planted component's weight.
N_COMPONENTS, EMBEDDING_DIM, PLANTED_COMPONENT_WEIGHT = 8, 64, 0.06
BASE_ERROR_RATE = 0.06
SIMULATED_NOTE = "simulated by wergap.demo: not real speech, speakers or census data"

_TEMPLATES = (
    "set a timer for {number} minutes",
    "play {genre} in the {room}",
    "turn {onoff} the {room} lights",
    "what is the weather in {city} {day}",
    "add {item} to my shopping list",
    "call {person}",
    "remind me to {task} at {number} o'clock",
    "what time is it in {city}",
    "set an alarm for {number} {ampm}",
    "turn the volume up",
    "stop the music",
    "how long will it take to drive to {city}",
    "play the news",
    "set the thermostat to {temperature} degrees",
    "read my messages",
    "skip this song",
)
_SLOTS = {
    "number": ("one", "two", "three", "five", "seven", "eight", "ten", "twelve", "fifteen", "twenty"),
    "genre": ("jazz", "rock", "country music", "classical music", "hip hop", "the blues", "pop"),
    "room": ("kitchen", "bedroom", "living room", "office", "garage"),
    "onoff": ("on", "off"),
    "city": ("boston", "chicago", "denver", "seattle", "austin", "miami", "phoenix", "atlanta"),
    "day": ("today", "tomorrow", "this weekend", "on friday"),
    "item": ("milk", "eggs", "coffee", "bread", "paper towels", "apples", "dish soap"),
    "person": ("mom", "dad", "grandma", "the office", "my sister", "doctor lee"),
    "task": ("call the bank", "take my medicine", "water the plants", "pick up the kids"),
    "ampm": ("a m", "p m"),
    "temperature": ("sixty eight", "seventy", "seventy two", "sixty five"),
}
#: Plausible ASR confusions; other substitutions draw from the command vocabulary.
_CONFUSIONS = {
    "ten": "then",
    "timer": "time",
    "jazz": "jess",
    "kitchen": "chicken",
    "lights": "likes",
    "play": "pay",
    "weather": "whether",
    "two": "to",
    "for": "four",
    "eight": "ate",
    "call": "cole",
    "milk": "mill",
    "music": "muse",
    "the": "a",
    "to": "too",
    "set": "said",
    "alarm": "along",
    "mom": "mum",
    "coffee": "copy",
    "austin": "boston",
    "seventy": "seventeen",
    "news": "noose",
    "song": "son",
    "stop": "top",
    "read": "red",
    "remind": "remine",
}
_INSERTIONS = ("the", "a", "uh", "and", "to", "um", "it")


@dataclass
class Example:
    """The simulated example: a decode log, a census table, speaker embeddings, the truth.

    Attributes
    ----------
    log : DataFrame
        One row per utterance: ``utt_id, speaker_id, ref, hyp, lat, lon, zip, gender,
        device, age_band``; ``attrs["wergap"]["simulated"]`` is True.
    census : DataFrame
        One row per ZIP: ``zip``, simulated race/ethnicity shares (``share_*``, summing
        to 1) and ``median_household_income``; labelled simulated in ``attrs``.
    embeddings : DataFrame
        ``speaker_id, embedding`` (64-dim float32 vectors from a Gaussian mixture).
    planted : dict
        The planted effects: for ``geo``, ``census`` and ``embedding`` the rule, the
        multiplier on the error rate and the speakers affected; plus the seed.
    """

    log: pd.DataFrame
    census: pd.DataFrame
    embeddings: pd.DataFrame
    planted: dict[str, Any] = field(default_factory=dict)


def _label(df: pd.DataFrame, what: str) -> pd.DataFrame:
    df.attrs["wergap"] = {
        "sources": [f"wergap.demo ({what}, simulated)"],
        "simulated": True,
        "note": SIMULATED_NOTE,
        "rows_read": len(df),
        "dropped": {},
    }
    return df


def _command(rng: np.random.Generator) -> str:
    template = _TEMPLATES[rng.integers(len(_TEMPLATES))]
    values = {slot: options[rng.integers(len(options))] for slot, options in _SLOTS.items()}
    return template.format(**values)


def _vocabulary() -> list[str]:
    words = {w for t in _TEMPLATES for w in t.split() if not w.startswith("{")}
    words.update(w for options in _SLOTS.values() for o in options for w in o.split())
    return sorted(words)


def _perturb(ref: str, rate: float, rng: np.random.Generator, vocab: list[str]) -> str:
    """Hypothesis from ``ref``: each word substituted, deleted or followed by an insertion.

    Substitutions are 60 % of the errors, deletions 25 %, insertions 15 %, roughly the
    mix production ASR logs show, so the expected word error rate is about ``rate``.
    """
    out: list[str] = []
    for word in ref.split():
        u = rng.random()
        if u < 0.60 * rate:
            alternative = _CONFUSIONS.get(word) if rng.random() < 0.7 else None
            if alternative is None:
                alternative = vocab[rng.integers(len(vocab))]
                if alternative == word:
                    alternative = vocab[(vocab.index(word) + 1) % len(vocab)]
            out.append(alternative)
        elif u < 0.85 * rate:
            continue
        else:
            out.append(word)
        if rng.random() < 0.15 * rate:
            out.append(_INSERTIONS[rng.integers(len(_INSERTIONS))])
    return " ".join(out)


def _census(rng: np.random.Generator) -> pd.DataFrame:
    """Simulated shares and income per ZIP; the planted census effect is majority Hispanic.

    Non-majority ZIPs stay at or under 30 % Hispanic, so the best threshold on the share
    is the majority split itself. The cities of the planted south-eastern box sit mid-range
    on every column: with 44 ZIPs, a best threshold on whichever column happens to sort
    those cities together would otherwise find the geographic effect again, and the census
    section would not show the census effect.
    """
    rows = []
    for _, _, zip_code, lat, lon in CITIES:
        south_east = GEO_BOX["lat"][0] <= lat <= GEO_BOX["lat"][1] and GEO_BOX["lon"][0] <= lon <= GEO_BOX["lon"][1]
        if zip_code in HISPANIC_MAJORITY_ZIPS:
            hispanic = rng.uniform(0.55, 0.8)
        elif south_east:
            hispanic = rng.uniform(0.14, 0.18)
        else:
            hispanic = rng.uniform(0.03, 0.30)
        concentration = 200.0 if south_east else 1.0
        white, black, asian, other = rng.dirichlet(np.array([5.0, 2.0, 1.0, 0.5]) * concentration) * (1 - hispanic)
        income = rng.lognormal(np.log(62000), 0.03 if south_east else 0.35)
        rows.append(
            {
                "zip": zip_code,
                "share_white": white,
                "share_black": black,
                "share_hispanic": hispanic,
                "share_asian": asian,
                "share_other": other,
                "median_household_income": float(np.round(income, -2)),
            }
        )
    return _label(pd.DataFrame(rows).astype({"zip": "str"}), "census")


def make_example(n_speakers: int = 3000, seed: int = 0) -> Example:
    """Simulate a US voice-assistant decode log with three planted disparities.

    Parameters
    ----------
    n_speakers : int, default 3000
        Speakers to simulate; each says 5 to 20 commands.
    seed : int, default 0
        Seed of every random choice: the same seed gives identical tables.

    Returns
    -------
    Example
        The log, census table, embeddings and the ``planted`` description.
    """
    rng = np.random.default_rng(seed)
    n_cities = len(CITIES)
    city_weights = rng.dirichlet(np.full(n_cities, 6.0))
    city = rng.choice(n_cities, size=n_speakers, p=city_weights)
    lat0 = np.array([c[3] for c in CITIES])[city]
    lon0 = np.array([c[4] for c in CITIES])[city]
    zips = np.array([c[2] for c in CITIES], dtype=object)[city]
    lat = lat0 + rng.normal(0, 0.08, n_speakers)
    lon = lon0 + rng.normal(0, 0.08, n_speakers)

    weights = np.full(N_COMPONENTS, (1 - PLANTED_COMPONENT_WEIGHT) / (N_COMPONENTS - 1))
    weights[0] = PLANTED_COMPONENT_WEIGHT
    component = rng.choice(N_COMPONENTS, size=n_speakers, p=weights)
    means = rng.normal(0, 1, (N_COMPONENTS, EMBEDDING_DIM))
    vectors = (means[component] + rng.normal(0, 0.6, (n_speakers, EMBEDDING_DIM))).astype(np.float32)

    gender = rng.choice(["female", "male"], size=n_speakers)
    device = rng.choice(list(DEVICE_EFFECT), size=n_speakers, p=[0.5, 0.35, 0.15])
    age_band = rng.choice(list(AGE_EFFECT), size=n_speakers, p=[0.25, 0.3, 0.3, 0.15])

    in_geo = (
        (lat0 >= GEO_BOX["lat"][0])
        & (lat0 <= GEO_BOX["lat"][1])
        & (lon0 >= GEO_BOX["lon"][0])
        & (lon0 <= GEO_BOX["lon"][1])
    )
    in_census = np.isin(zips, HISPANIC_MAJORITY_ZIPS)
    in_cluster = component == 0
    rate = BASE_ERROR_RATE * rng.lognormal(0.0, 0.3, n_speakers)
    rate *= np.where(in_geo, EFFECTS["geo"], 1.0)
    rate *= np.where(in_census, EFFECTS["census"], 1.0)
    rate *= np.where(in_cluster, EFFECTS["embedding"], 1.0)
    rate *= np.array([DEVICE_EFFECT[d] for d in device]) * np.array([AGE_EFFECT[a] for a in age_band])
    rate = np.minimum(rate, 0.6)

    speaker_ids = [f"sim{i:05d}" for i in range(n_speakers)]
    vocab = _vocabulary()
    rows: dict[str, list[Any]] = {k: [] for k in ("utt_id", "speaker_id", "ref", "hyp", "lat", "lon", "zip")}
    rows.update(gender=[], device=[], age_band=[])
    n_utts = rng.integers(5, 21, n_speakers)
    for s in range(n_speakers):
        for _ in range(n_utts[s]):
            ref = _command(rng)
            rows["utt_id"].append(f"{speaker_ids[s]}-{len(rows['utt_id']):07d}")
            rows["speaker_id"].append(speaker_ids[s])
            rows["ref"].append(ref)
            rows["hyp"].append(_perturb(ref, float(rate[s]), rng, vocab))
            rows["lat"].append(float(lat[s]))
            rows["lon"].append(float(lon[s]))
            rows["zip"].append(zips[s])
            rows["gender"].append(gender[s])
            rows["device"].append(device[s])
            rows["age_band"].append(age_band[s])
    log = pd.DataFrame(rows)
    for column in ("utt_id", "speaker_id", "ref", "hyp", "zip", "gender", "device", "age_band"):
        log[column] = log[column].astype("str")
    _label(log, "decode log")

    embeddings = _label(pd.DataFrame({"speaker_id": speaker_ids, "embedding": list(vectors)}), "embeddings")
    geo_cities = [
        c[0]
        for c, hit in zip(
            CITIES,
            [
                GEO_BOX["lat"][0] <= c[3] <= GEO_BOX["lat"][1] and GEO_BOX["lon"][0] <= c[4] <= GEO_BOX["lon"][1]
                for c in CITIES
            ],
        )
        if hit
    ]
    planted = {
        "seed": seed,
        "n_speakers": n_speakers,
        "base_error_rate": BASE_ERROR_RATE,
        "geo": {
            "rule": f"lat {GEO_BOX['lat'][0]}–{GEO_BOX['lat'][1]}, lon {GEO_BOX['lon'][0]}–{GEO_BOX['lon'][1]}",
            "box": copy.deepcopy(GEO_BOX),
            "cities": geo_cities,
            "multiplier": EFFECTS["geo"],
            "speakers": int(in_geo.sum()),
        },
        "census": {
            "rule": "ZIP whose simulated population is majority Hispanic (share_hispanic > 0.5)",
            "attribute": "share_hispanic",
            "zips": list(HISPANIC_MAJORITY_ZIPS),
            "multiplier": EFFECTS["census"],
            "speakers": int(in_census.sum()),
        },
        "embedding": {
            "rule": "speakers drawn from Gaussian-mixture component 0",
            "component": 0,
            "multiplier": EFFECTS["embedding"],
            "speakers": int(in_cluster.sum()),
            "speaker_ids": [speaker_ids[i] for i in np.flatnonzero(in_cluster)],
        },
        "device": dict(DEVICE_EFFECT),
        "age_band": dict(AGE_EFFECT),
    }
    return Example(log=log, census=_census(rng), embeddings=embeddings, planted=planted)


def write_example(directory: str | os.PathLike[str], n_speakers: int = 3000, seed: int = 0) -> dict[str, Path]:
    """Write the example to ``directory``; every file name starts with ``simulated_``.

    Files: ``simulated_decode_log.tsv``, ``simulated_census.csv``,
    ``simulated_embeddings.parquet``, ``simulated_planted.json``. Returns name -> path.
    """
    import json

    example = make_example(n_speakers=n_speakers, seed=seed)
    out = Path(directory)
    paths = {
        "log": out / "simulated_decode_log.tsv",
        "census": out / "simulated_census.csv",
        "embeddings": out / "simulated_embeddings.parquet",
        "planted": out / "simulated_planted.json",
    }
    write_text_atomic(paths["log"], example.log.to_csv(sep="\t", index=False))
    write_text_atomic(paths["census"], example.census.to_csv(index=False))
    embeddings = pd.DataFrame(
        {
            "speaker_id": example.embeddings["speaker_id"],
            "embedding": [v.tolist() for v in example.embeddings["embedding"]],
        }
    )
    with atomic_path(paths["embeddings"]) as tmp:
        embeddings.to_parquet(tmp, index=False)
    write_text_atomic(paths["planted"], json.dumps(example.planted, indent=2, ensure_ascii=False))
    return paths


def run_demo(
    output_html: str | os.PathLike[str],
    outdir: str | os.PathLike[str] | None = None,
    *,
    n_speakers: int = 3000,
    seed: int = 0,
    boundaries: str | os.PathLike[str] | None = None,
) -> Any:
    """Build the example, audit it with every method and write the HTML report.

    Parameters
    ----------
    output_html : path
        Where the self-contained report goes.
    outdir : path, optional
        Also write the exports (:func:`wergap.reports.exports.write_exports`) here.
    n_speakers, seed
        Passed to :func:`make_example`; ``seed`` also seeds the audit.
    boundaries : path, optional
        GeoJSON of state outlines drawn under the geographic regions.

    Returns
    -------
    Audit
        Its ``provenance`` carries ``simulated: True`` (the report shows a banner).
    """
    from wergap.audit import audit
    from wergap.reports.exports import write_exports
    from wergap.reports.html import write_html

    example = make_example(n_speakers=n_speakers, seed=seed)
    result = audit(example.log, census=example.census, embeddings=example.embeddings, seed=seed)
    result.provenance["simulated"] = True
    result.provenance.setdefault("note", SIMULATED_NOTE)
    write_html(result, output_html, boundaries=boundaries)
    if outdir is not None:
        write_exports(result, outdir)
    return result
