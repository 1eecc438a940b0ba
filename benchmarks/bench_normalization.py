"""Normalisation: wergap's whisper/basic against the whisper-normalizer package, and WER by convention.

1. Throughput on distinct strings, both implementations timed in the same run (the
   ratio is what counts on a shared machine): the real recognizer text alone (the
   CORAAL n-grams and hypotheses of Koenecke et al. 2020, from ../shared/data when
   present), then that text mixed into generated English sentences with numbers,
   currency, ordinals, British spellings, contractions, symbols and markup
   (tests/english_text.py; 10 % of words such forms, 0.2 % multi-word forms such as
   "and a half" / "'s been"). Prints strings/s for the package (one string at a time)
   and for wergap (one process, caches cold at the start), and checks that every output
   is identical.
2. A decode log whose strings repeat as real logs' do (Zipf reuse, 4 utterances per
   distinct string): wergap's normalisation of both columns against the package on
   each distinct string and on each utterance; then ``wergap.score`` with ``default``
   and with ``whisper``.
3. The WER of one generated log under each convention. References are written as
   corpora write them: uppercase, punctuated, numbers in words, markup (``<unk>``,
   ``[noise]``), fillers, hyphens and contractions as spoken. Hypotheses are written as
   a recognizer writes them: sentence case, punctuated, numbers and currency in digits,
   no markup, some fillers and hyphens dropped, and ~10 % real word errors.

    python benchmarks/bench_normalization.py               # 100k strings
    python benchmarks/bench_normalization.py -n 20000      # quicker
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
from whisper_normalizer.basic import BasicTextNormalizer
from whisper_normalizer.english import EnglishTextNormalizer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from english_text import real_texts, sentences  # noqa: E402

import wergap  # noqa: E402
import wergap.normalization as norm  # noqa: E402
from wergap.scoring import NORMALIZATIONS, corpus_wer  # noqa: E402

SHARED = Path(os.environ.get("WERGAP_SHARED_DATA", REPO.parent / "shared" / "data"))
REFERENCES = {"whisper": EnglishTextNormalizer(), "basic": BasicTextNormalizer()}


def throughput(texts: list[str], label: str, repeats: int = 1) -> None:
    """strings/s of the package and of wergap (caches cold each time); medians of ``repeats``."""
    for name, ref in REFERENCES.items():
        pkg, ours = [], []
        for _ in range(repeats):
            t = time.perf_counter()
            expected = [ref(s) for s in texts]
            pkg.append(len(texts) / (time.perf_counter() - t))
            norm._batch_normalizer.cache_clear()  # cold caches: no token known yet ...
            norm._batch_normalizer(name)  # ... but built outside the timing, as the package's is
            t = time.perf_counter()
            out = norm.python_normalized(texts, name)
            ours.append(len(texts) / (time.perf_counter() - t))
            bad = sum(a != b for a, b in zip(out, expected))
            assert bad == 0, f"{name}: {bad} outputs differ from the package"
        p, o = statistics.median(pkg), statistics.median(ours)
        runs = f", median of {repeats} runs" if repeats > 1 else ""
        print(
            f"{name:8} {label}, {len(texts):,} distinct strings{runs}: package {p:,.0f}/s, "
            f"wergap {o:,.0f}/s ({o / p:.1f}x), outputs identical"
        )


def log_like(texts: list[str], n: int, seed: int = 0) -> pd.DataFrame:
    rng = random.Random(seed)
    # Zipf-like reuse: a few utterances recur often, as commands and short answers do.
    weights = [1 / (k + 1) ** 0.8 for k in range(len(texts))]
    refs = rng.choices(texts, weights=weights, k=n)
    hyps = rng.choices(texts, weights=weights, k=n)
    return pd.DataFrame(
        {
            "utt_id": [f"u{k}" for k in range(n)],
            "speaker_id": [f"s{k % 500}" for k in range(n)],
            "ref": refs,
            "hyp": hyps,
        }
    )


def score_log(log: pd.DataFrame) -> None:
    ref = REFERENCES["whisper"]
    distinct = list(pd.unique(pd.concat([log["ref"], log["hyp"]])))
    norm._batch_normalizer.cache_clear()
    norm._batch_normalizer("whisper")
    t = time.perf_counter()
    norm.prenormalized(pa.array(log["ref"], pa.large_string()), pa.array(log["hyp"], pa.large_string()), "whisper")
    ours = time.perf_counter() - t
    t = time.perf_counter()
    for s in distinct:
        ref(s)
    pkg = time.perf_counter() - t
    per_utterance = pkg * 2 * len(log) / len(distinct)
    print(
        f"log      {len(log):,} utterances, {len(distinct):,} distinct strings, whisper: wergap {ours:.2f} s; "
        f"package {pkg:.2f} s on the distinct strings ({pkg / ours:.1f}x), "
        f"~{per_utterance:.1f} s one utterance at a time ({per_utterance / ours:.1f}x)"
    )
    norm._batch_normalizer.cache_clear()
    wergap.score(log.head(100), normalization="default")  # loads the compiled kernels once
    for name in ("default", "whisper"):
        t = time.perf_counter()
        wergap.score(log, normalization=name)
        print(f"score    the same log, normalization={name}: {time.perf_counter() - t:.2f} s")


# --- a realistic generated log for the WER table ---------------------------------------

MARKUP = ["<unk>", "[noise]", "<overlap>", "[laughter]", "(%hesitation)"]
FILLERS = ["uh", "um", "hmm", "mm"]
CONTRACTIONS = ["it's", "don't", "i'm", "we're", "can't", "that's", "he's", "they've", "you'll", "won't", "y'all"]
HYPHENATED = ["well-known", "e-mail", "x-ray", "follow-up", "twenty-first", "part-time", "self-made"]
# (spoken and written by a transcriber, written by a recognizer)
NUMBERS = [
    ("twenty five", "25"),
    ("two thousand and nine", "2009"),
    ("nineteen sixty", "1960"),
    ("five dollars", "$5"),
    ("ten percent", "10%"),
    ("three", "3"),
    ("the first", "the 1st"),
    ("fifteen minutes", "15 minutes"),
    ("one hundred", "100"),
    ("seven thirty", "7:30"),
]
BRITISH = [("colour", "color"), ("favourite", "favorite"), ("centre", "center"), ("realised", "realized")]


def realistic_log(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """Uppercase transcriber references and recognizer hypotheses of the same speech."""
    rng = random.Random(seed)
    real = real_texts(SHARED if SHARED.is_dir() else None)
    words = [w for t in real for w in t.split()] or "the a we went to see it was just like that".split()
    rows = []
    for k in range(n):
        ref: list[str] = []  # what the transcriber writes
        hyp: list[str] = []  # what the recognizer writes
        for _ in range(rng.randint(4, 20)):
            r = rng.random()
            if r < 0.03:
                ref.append(rng.choice(MARKUP))
            elif r < 0.06:
                ref.append(rng.choice(FILLERS))
                if rng.random() < 0.3:
                    hyp.append(ref[-1])
            elif r < 0.11:
                w = rng.choice(CONTRACTIONS)
                ref.append(w)
                hyp.append(w)
            elif r < 0.125:
                w = rng.choice(HYPHENATED)
                ref.append(w)
                hyp.append(w if rng.random() < 0.5 else w.replace("-", " "))
            elif r < 0.135:
                spoken, digits = rng.choice(NUMBERS)
                ref.append(spoken)
                hyp.append(digits)
            elif r < 0.14:
                british, american = rng.choice(BRITISH)
                ref.append(british)
                hyp.append(american)
            else:
                w = rng.choice(words)
                ref.append(w)
                hyp.append(w)
        hyp_words = " ".join(hyp).split()
        for _ in range(max(1, round(0.1 * len(hyp_words)))):  # ~10 % real word errors
            op, at = rng.random(), rng.randrange(len(hyp_words) + 1)
            if op < 0.6 and at < len(hyp_words):
                hyp_words[at] = rng.choice(words)
            elif op < 0.8 and at < len(hyp_words):
                del hyp_words[at]
            else:
                hyp_words.insert(at, rng.choice(words))
        ref_text = " ".join(ref).upper() + rng.choice([".", "?", ""])
        hyp_text = " ".join(hyp_words)
        hyp_text = (hyp_text[:1].upper() + hyp_text[1:] + rng.choice([".", "?", "!"])).replace(" and ", ", and ")
        rows.append({"utt_id": f"u{k}", "speaker_id": f"s{k % 100}", "ref": ref_text, "hyp": hyp_text})
    return pd.DataFrame(rows)


def wer_table() -> None:
    log = realistic_log()
    print(f"\nWER of one generated log ({len(log):,} utterances) under each convention, e.g.:")
    for _, row in log.head(2).iterrows():
        print(f"  ref: {row['ref']}\n  hyp: {row['hyp']}")
    print("\n| normalisation | WER |\n|---|---|")
    for name in NORMALIZATIONS:
        print(f"| `{name}` | {100 * corpus_wer(wergap.score(log, normalization=name)):.2f} % |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=100_000, help="generated strings (default 100k)")
    parser.add_argument(
        "--special",
        type=float,
        default=0.1,
        help="share of generated words that are numbers, symbols, markup, ... (default 0.1)",
    )
    args = parser.parse_args()
    real = real_texts(SHARED if SHARED.is_dir() else None)
    texts = list(dict.fromkeys(real + sentences(args.n, seed=3, real=real, phrases=0.002, special=args.special)))
    print(f"{os.cpu_count()} cores; one process; the machine may be loaded by other work (same-run ratios)")
    if real:
        throughput(real, "real CORAAL text", repeats=9)
    throughput(texts, "real + generated text")
    score_log(log_like(texts, 4 * len(texts)))
    wer_table()


if __name__ == "__main__":
    main()
