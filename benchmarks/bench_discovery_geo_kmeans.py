"""Time GeoTree and EmbeddingKMeans fits (and reading/attaching embeddings) at scale.

Target (from the project brief): fit on 100k speakers in at most 5 s per method, with
192-dimensional embeddings (the ECAPA-TDNN size) for k-means. Run:

    .venv/bin/python benchmarks/bench_discovery_geo_kmeans.py [--speakers 100000] [--dim 192] [--repeat 3]

Prints one line per step with its wall-clock and CPU time (best of --repeat runs; CPU time
counts every thread). On a machine shared with other jobs, scikit-learn's OpenMP/BLAS
threads spin-wait and inflate both; ``OMP_NUM_THREADS=1`` measures the code alone. The speaker
table is generated (uniform over the contiguous US, 10 Gaussian voice clusters); the
numbers measure the code, not a data set.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from wergap.data_schemas.embeddings import attach_embeddings, read_embeddings
from wergap.discovery.embedding_kmeans import EmbeddingKMeans
from wergap.discovery.geo_tree import GeoTree


def speaker_table(n: int, dim: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    words = rng.integers(20, 400, n)
    lat, lon = rng.uniform(25, 49, n), rng.uniform(-124, -67, n)
    cluster = rng.integers(0, 10, n)
    p = np.where((lat < 33) & (lon > -95), 0.2, 0.1) + 0.01 * cluster
    ids = [f"spk{i:07d}" for i in range(n)]
    speakers = pd.DataFrame(
        {
            "speaker_id": ids,
            "utterances": rng.integers(1, 30, n),
            "ref_words": words,
            "errors": rng.binomial(words, p),
            "wer": np.nan,
            "lat": lat,
            "lon": lon,
            "gender": rng.choice(["female", "male"], n),
        }
    )
    speakers["wer"] = speakers["errors"] / speakers["ref_words"]
    centres = rng.normal(size=(10, dim))
    vectors = (centres[cluster] + 2.0 * rng.normal(size=(n, dim))).astype(np.float32)
    embeddings = pd.DataFrame({"speaker_id": ids, "embedding": list(vectors)})
    return speakers, embeddings


def best_of(repeat: int, call: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of the fastest of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speakers", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=192)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    speakers, embeddings = speaker_table(args.speakers, args.dim)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "embeddings.parquet"
        embeddings.to_parquet(path, index=False)
        read_s = best_of(args.repeat, lambda: read_embeddings(path))
        emb = read_embeddings(path)
    attach_s = best_of(args.repeat, lambda: attach_embeddings(speakers, emb))
    table = attach_embeddings(speakers, emb)

    geo_s = best_of(args.repeat, lambda: GeoTree(max_regions=8, min_speakers=30).fit(speakers))
    kmeans_s = best_of(args.repeat, lambda: EmbeddingKMeans(n_clusters=10, min_speakers=30).fit(table))
    small = table.sample(n=min(args.speakers, 20_000), random_state=0)  # at the threshold: full KMeans
    full_s = best_of(args.repeat, lambda: EmbeddingKMeans(n_clusters=10, min_speakers=30).fit(small))

    n, d = args.speakers, args.dim
    rows = [
        (f"read_embeddings (parquet, {n} x {d})", read_s, ""),
        (f"attach_embeddings ({n} speakers)", attach_s, ""),
        (f"GeoTree.fit ({n} speakers)", geo_s, "target <= 5 s"),
        (f"EmbeddingKMeans.fit ({n} x {d}, minibatch)", kmeans_s, "target <= 5 s"),
        (f"EmbeddingKMeans.fit ({len(small)} x {d}, full KMeans)", full_s, ""),
    ]
    for name, (wall, cpu), note in rows:
        print(f"{name:<50} {wall:6.2f} s wall {cpu:6.2f} s cpu   {note}")


if __name__ == "__main__":
    main()
