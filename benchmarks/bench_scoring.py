"""Scoring throughput: wergap.score against jiwer.process_words on the same corpus.

Generates a voice-assistant-like corpus (Zipf vocabulary, 2–20 words per utterance,
hypotheses with ~10 % word errors), scores it with wergap (normalisation included) and
with jiwer one utterance at a time on the already-normalised strings (so jiwer is not
charged for normalisation), checks that every utterance's S, D, I and hits agree, and
prints utterances/s for both, their ratio and wergap's peak memory. wergap's first call
in a process loads its compiled kernels; that one-off is timed and printed on its own.

    python benchmarks/bench_scoring.py            # 1M utterances
    python benchmarks/bench_scoring.py -n 200000  # quicker
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import jiwer
import numpy as np
import pandas as pd

import wergap
import wergap.scoring
from wergap.scoring import normalize


def make_corpus(n: int, seed: int = 0, vocab_size: int = 20_000) -> pd.DataFrame:
    """``n`` (ref, hyp) pairs with ~10 % word errors: 6 % sub, 2 % del, 2 % ins."""
    rng = np.random.default_rng(seed)
    vocab = np.array([f"word{i}" for i in range(vocab_size)], dtype=object)
    p = 1.0 / np.arange(1, vocab_size + 1)
    p /= p.sum()
    lengths = rng.integers(2, 21, size=n)
    total = int(lengths.sum())
    ref_tok = vocab[rng.choice(vocab_size, size=total, p=p)]
    op = rng.random(total)
    hyp_tok = ref_tok.copy()
    sub = op < 0.06
    hyp_tok[sub] = vocab[rng.choice(vocab_size, size=int(sub.sum()), p=p)]
    delete = (op >= 0.06) & (op < 0.08)
    insert = op >= 0.98
    extra = vocab[rng.choice(vocab_size, size=total, p=p)]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    refs, hyps = [], []
    for s, ln in zip(starts.tolist(), lengths.tolist()):
        e = s + ln
        refs.append(" ".join(ref_tok[s:e]))
        words = []
        for k in range(s, e):
            if not delete[k]:
                words.append(hyp_tok[k])
            if insert[k]:
                words.append(extra[k])
        hyps.append(" ".join(words))
    return pd.DataFrame(
        {
            "utt_id": [f"u{i}" for i in range(n)],
            "speaker_id": [f"s{i % max(n // 10, 1)}" for i in range(n)],
            "ref": refs,
            "hyp": hyps,
        }
    )


def peak_rss_mb() -> float:
    """Peak resident memory of this process (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=1_000_000, help="utterances (default 1M)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=None, help="wergap worker processes")
    args = ap.parse_args(argv)

    log = make_corpus(args.n, args.seed)
    log = wergap.read_log(log)
    rss_before = peak_rss_mb()

    # Loading the compiled kernels (numba import, code from the on-disk cache) is a
    # one-off per process; reported on its own line, not charged to the throughput.
    t0 = time.perf_counter()
    wergap.scoring.load_kernels()
    t_load = time.perf_counter() - t0

    t0 = time.perf_counter()
    scored = wergap.score(log, n_jobs=args.jobs)
    t_wergap = time.perf_counter() - t0
    rss_wergap = peak_rss_mb()

    refs = normalize(log["ref"])
    hyps = normalize(log["hyp"])
    t0 = time.perf_counter()
    jw = np.empty((args.n, 4), dtype=np.int64)
    for k, (r, h) in enumerate(zip(refs, hyps)):
        out = jiwer.process_words(r, h)
        jw[k] = (out.substitutions, out.deletions, out.insertions, out.hits)
    t_jiwer = time.perf_counter() - t0

    ours = scored[["substitutions", "deletions", "insertions", "hits"]].to_numpy()
    mismatches = int((ours != jw).any(axis=1).sum())
    wer = scored["errors"].sum() / scored["ref_words"].sum()
    print(f"utterances            {args.n:,}")
    print(f"corpus WER            {100 * wer:.2f} %")
    print(f"wergap.score          {args.n / t_wergap:,.0f} utt/s  ({t_wergap:.2f} s, normalisation included)")
    print(f"jiwer.process_words   {args.n / t_jiwer:,.0f} utt/s  ({t_jiwer:.2f} s, one call per utterance)")
    print(f"speed-up              {t_jiwer / t_wergap:.1f}x")
    print(f"kernel load           {t_load:.2f} s once per process (numba; the first run after install also compiles)")
    print(f"count mismatches      {mismatches} (S, D, I, hits compared per utterance)")
    print(f"peak RSS              {rss_wergap:,.0f} MB after scoring ({rss_before:,.0f} MB with the corpus loaded)")
    return 0 if mismatches == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
