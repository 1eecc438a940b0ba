"""Generated English text for normalisation tests and benchmarks: what the Whisper normaliser rewrites.

Sentences mix words of real recognizer output (the CORAAL n-grams and hypotheses of
Koenecke et al. 2020 when the shared data is present) with the cases the normaliser
treats specially: numbers and number words, currency, ordinals, percentages, British
spellings, contractions, titles, fillers, symbols, markup and non-ASCII letters.
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd

SPECIAL = (
    "one two three ten eleven twenty thirty-five forty ninety hundred thousand million billion "
    "first second third fourth twelfth twentieth hundredth thousandth millionth ones twos sixes "
    "zero oh o double triple point and a half minus plus positive negative per cent percent "
    "dollar dollars cent cents pound pounds euro euros "
    "1 2 7 10 15 21 100 1,000 3.5 0.25 1960s 274th 32nd 1st 2nd 3rd 4th 1s 101 1.2.3.4 "
    "$20 $5.50 $0.07 £3 €100 ¢5 50% 7.5% -3 +4 $2 ¢7 "
    "colour colours organise realised theatre travelling grey centre favourite "
    "it's won't can't let's ain't y'all wanna kinda gonna gotta i'ma ma'am cause I'd I'll "
    "you're they've we'd he's she'd o'clock rock'n'roll Mr. Mrs Dr. St. Jr prof gen col "
    "hmm mm mhm uh um Uh-huh "
    "[noise] [laughter] <unk> <overlap> (laughs) (%hesitation) {breath} C14-P1 e-mail well-known "
    "Café naïve Zoë Øresund straße Æsop œuvre ﬁne ΑΣ – — … “quoted” ‘single’ & @ # * / \\ ~ ^ _ = | "
    ". , ? ! ; : ' \" - ( ) [ ] < >"
).split()
PHRASES = (
    "and a half",
    "'s been",
    "'d been",
    "'s got",
    "'d done",
    "one oh one",
    "two and a half",
    "ten thousand dollars",
    "five per cent",
    "double oh seven",
    "point five",
    "it 's",
    "he 'd been",
    "$2 and ¢7",
    "three and a half million",
    "one hundred and one",
)


def real_texts(shared_data: Path | None) -> list[str]:
    """Distinct reference n-grams and hypotheses of the Koenecke et al. file (empty if absent)."""
    if shared_data is None:
        return []
    path = shared_data / "asr_results" / "koenecke2020_CORAAL_ngrams_with_asr_wer.csv"
    if not path.exists():
        return []
    df = pd.read_csv(path)
    cols = [c for c in df.columns if c == "ngram" or c.endswith("_phrase")]
    return sorted({t for t in df[cols].to_numpy().ravel() if isinstance(t, str)})


def sentences(
    n: int, seed: int = 0, real: list[str] | None = None, phrases: float = 0.07, special: float = 0.38
) -> list[str]:
    """``n`` generated sentences of 1-30 words, some capitalised, some with punctuation.

    ``phrases``: the share of words that are one of :data:`PHRASES` (multi-word number and
    contraction forms; tests use many, a realistic text few); ``special``: the share that
    are one of :data:`SPECIAL` (numbers, symbols, markup, spellings, contractions).
    """
    rng = random.Random(seed)
    words = [w for t in (real or []) for w in t.split()] or "the a we went to see it was just like that".split()
    out = []
    for _ in range(n):
        k = rng.randint(1, 30)
        toks = []
        for _ in range(k):
            r = rng.random()
            if r < 1 - phrases - special:
                toks.append(rng.choice(words))
            elif r < 1 - phrases:
                toks.append(rng.choice(SPECIAL))
            else:
                toks.append(rng.choice(PHRASES))
        s = rng.choice([" ", " ", " ", "  ", "\t"]).join(toks)
        if rng.random() < 0.3:
            s = s.capitalize()
        if rng.random() < 0.1:
            s = s.upper()
        out.append(s + rng.choice(["", "", ".", "?", "!", " "]))
    return out
