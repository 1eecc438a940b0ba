"""Normalisation: wergap's whisper/basic against the whisper-normalizer package, and WER by convention.

1. Throughput on distinct strings: real recognizer text (the CORAAL n-grams and
   hypotheses of Koenecke et al. 2020, from ../shared/data when present) mixed into
   generated English sentences with numbers, currency, ordinals, British spellings,
   contractions, symbols and markup (tests/english_text.py; 10 % of words such forms, 0.2 % are the
   multi-word forms "and a half" / "'s been", which wergap hands to the package). Prints strings/s for the
   package (one string at a time, as ``wergap`` called it before) and for wergap on one
   process and on every core, and checks that every output is identical.
2. A decode-log run: ``wergap.score(normalization="whisper")`` on a log whose strings
   repeat as real logs' do (each distinct string normalised once).
3. The WER of one generated log under each convention: uppercase references with
   markup, hyphens and contractions; lowercase, punctuated hypotheses.

    python benchmarks/bench_normalization.py               # 100k strings
    python benchmarks/bench_normalization.py -n 20000      # quicker
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import pandas as pd
from whisper_normalizer.basic import BasicTextNormalizer
from whisper_normalizer.english import EnglishTextNormalizer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import wergap  # noqa: E402
from english_text import real_texts, sentences  # noqa: E402
from wergap.normalization import python_normalized  # noqa: E402
from wergap.scoring import NORMALIZATIONS, corpus_wer  # noqa: E402

SHARED = Path(os.environ.get("WERGAP_SHARED_DATA", REPO.parent / "shared" / "data"))
MARKUP = ["<overlap>", "<unk>", "[noise]", "[laughter]", "(%hesitation)"]


def throughput(texts: list[str]) -> None:
    for name, ref in (("whisper", EnglishTextNormalizer()), ("basic", BasicTextNormalizer())):
        t = time.perf_counter()
        expected = [ref(s) for s in texts]
        t_pkg = time.perf_counter() - t
        rates = {}
        for jobs in (1, os.cpu_count() or 1):
            import wergap.normalization as n

            n._batch_normalizer.cache_clear()  # no words cached from an earlier run
            t = time.perf_counter()
            ours = python_normalized(texts, name, n_jobs=jobs)
            rates[jobs] = len(texts) / (time.perf_counter() - t)
            bad = sum(a != b for a, b in zip(ours, expected))
            assert bad == 0, f"{name}: {bad} outputs differ from the package"
        pkg = len(texts) / t_pkg
        line = ", ".join(f"{r:,.0f}/s on {j} process{'es' if j > 1 else ''} ({r / pkg:.1f}x)" for j, r in rates.items())
        print(f"{name:8} {len(texts):,} distinct strings: package {pkg:,.0f}/s; wergap {line}; identical")


def log_like(texts: list[str], n: int, seed: int = 0) -> pd.DataFrame:
    rng = random.Random(seed)
    # Zipf-like reuse: a few utterances recur often, as commands and short answers do.
    weights = [1 / (k + 1) ** 0.8 for k in range(len(texts))]
    refs = rng.choices(texts, weights=weights, k=n)
    hyps = rng.choices(texts, weights=weights, k=n)
    return pd.DataFrame({"utt_id": [f"u{k}" for k in range(n)], "speaker_id": [f"s{k % 500}" for k in range(n)],
                         "ref": refs, "hyp": hyps})


def score_log(log: pd.DataFrame) -> None:
    ref = EnglishTextNormalizer()
    distinct = pd.unique(pd.concat([log["ref"], log["hyp"]]))
    t = time.perf_counter()
    for s in distinct[: min(len(distinct), 20_000)]:
        ref(s)
    pkg = min(len(distinct), 20_000) / (time.perf_counter() - t)
    import wergap.normalization as n

    n._batch_normalizer.cache_clear()
    for norm in ("default", "whisper"):
        t = time.perf_counter()
        wergap.score(log, normalization=norm)
        dt = time.perf_counter() - t
        print(f"score    {len(log):,} utterances ({len(distinct):,} distinct strings), normalization={norm}: {dt:.2f} s")
    print(f"         the package alone would take {len(distinct) / pkg:.1f} s to normalise its distinct strings "
          f"({len(log) * 2 / pkg:.1f} s one utterance at a time)")


def wer_table(seed: int = 0, n: int = 3000) -> None:
    """WER of one generated log under each convention."""
    rng = random.Random(seed)
    base = sentences(n, seed=seed + 7, real=real_texts(SHARED if SHARED.is_dir() else None))
    norm = EnglishTextNormalizer()
    rows = []
    for k, text in enumerate(base):
        hyp = norm(text)  # the recognizer writes Whisper-style text ...
        words = hyp.split()
        for _ in range(max(1, len(words) // 10)):  # ... with ~10 % word errors
            if words:
                words[rng.randrange(len(words))] = rng.choice(["uh", "the", "a", "and"])
        ref_words = text.upper().split()
        ref_words.insert(rng.randrange(len(ref_words) + 1), rng.choice(MARKUP).upper())
        rows.append({"utt_id": f"u{k}", "speaker_id": f"s{k % 100}", "ref": " ".join(ref_words),
                     "hyp": " ".join(words)})
    log = pd.DataFrame(rows)
    print("\n| normalisation | WER |\n|---|---|")
    for name in NORMALIZATIONS:
        print(f"| `{name}` | {100 * corpus_wer(wergap.score(log, normalization=name)):.2f} % |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=100_000, help="generated strings (default 100k)")
    parser.add_argument("--special", type=float, default=0.1,
                        help="share of generated words that are numbers, symbols, markup, ... (default 0.1)")
    args = parser.parse_args()
    real = real_texts(SHARED if SHARED.is_dir() else None)
    texts = list(dict.fromkeys(real + sentences(args.n, seed=3, real=real, phrases=0.002, special=args.special)))
    print(f"{len(real):,} real strings (CORAAL n-grams and hypotheses) + generated; {os.cpu_count()} cores")
    throughput(texts)
    score_log(log_like(texts, 4 * len(texts)))
    wer_table()


if __name__ == "__main__":
    main()
