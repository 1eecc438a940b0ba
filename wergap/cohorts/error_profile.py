"""Which words fail for a cohort: its error profile against the rest of the speakers.

Finding the bottom cohort says *who* is served worst; a speech team then asks *what* to
fix. From the word alignments of every utterance with errors, this module counts three
kinds of error event:

- ``missed``: a reference word that was deleted or substituted;
- ``substitution``: a reference word replaced by a hypothesis word (the pair ``ref → hyp``);
- ``insertion``: a hypothesis word with no reference word.

Each event type (word or pair) is compared between the cohort and the rest with the
weighted log-odds ratio with an informative Dirichlet prior of Monroe, Colaresi & Quinn
(2008, "Fightin' Words", *Political Analysis* 16(4)): the log-odds of the event among the
cohort's events of that kind minus the same among the rest's, each smoothed by a prior
proportional to the event's pooled frequency, divided by its standard error. The z-score
ranks frequent and rare words fairly: a word seen twice cannot top the list by a large
raw ratio alone.

The alignments are re-done here with rapidfuzz's ``Levenshtein.editops`` (the backtrace
jiwer calls, so ties break as in jiwer and as in :func:`wergap.score`) on the words
:func:`wergap.normalize` makes, so the words are the ones that were scored; only
utterances with errors are re-aligned.

Privacy (DESIGN.md): a word or pair is listed only when it occurs for at least
``min_speakers`` distinct speakers of the cohort; the table never holds an utterance, a
transcript or a speaker id — only words and counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from wergap.cohorts._target import in_cohort
from wergap.cohorts.partition import Partition
from wergap.errors import InputError
from wergap.provenance import provenance
from wergap.scoring import NORMALIZATIONS, encoded_words
from wergap.scoring_numpy import code_strings

#: Event kinds, in the order the profile lists ties.
KINDS = ("missed", "substitution", "insertion")
#: Event kinds by the code ``_events`` gives them.
KINDS_BY_CODE = KINDS

#: Columns of :func:`error_profile`, in order.
ERROR_PROFILE_COLUMNS = [
    "kind",
    "ref_word",
    "hyp_word",
    "errors_cohort",
    "errors_rest",
    "share_cohort",
    "share_rest",
    "speakers_cohort",
    "ref_count_cohort",
    "ref_count_rest",
    "rate_cohort",
    "rate_rest",
    "log_odds",
    "z",
]

NO_TEXT = "the log holds error counts only (no ref/hyp text): there are no word errors to profile"
CHAR_UNIT = "the log was scored per character (unit='char'): the error profile lists words"
NO_ERRORS = "no word errors among the labelled speakers' utterances"
BAD_PRIOR = "prior_scale must be a positive number, got {value!r}"
BAD_MIN_SPEAKERS = "min_speakers must be a positive integer, got {value!r}"


@dataclass
class RefWords:
    """Reference words of every row as integer codes: row ``i``'s words are
    ``codes[starts[text_of[i]]:starts[text_of[i] + 1]]`` and code ``c`` is ``vocabulary[c]``."""

    text_of: np.ndarray
    starts: np.ndarray
    codes: np.ndarray
    vocabulary: Any

    def counts(self, rows: np.ndarray) -> np.ndarray:
        """How often each word code occurs in the references of the rows flagged in ``rows``."""
        per_text = np.bincount(self.text_of[rows], minlength=len(self.starts) - 1)
        lengths = np.diff(self.starts)
        weights = np.repeat(per_text, lengths).astype(np.float64)
        return np.bincount(self.codes, weights=weights, minlength=len(self.vocabulary)) if len(self.codes) else weights


@dataclass
class WordErrors:
    """Every error event of a scored log, re-aligned once and shared by several cohorts.

    Attributes
    ----------
    events : DataFrame
        ``row`` (position in the scored table), ``kind``, ``ref_word``, ``hyp_word``.
    ref_words : RefWords
        Each row's normalised reference words, as codes (for per-occurrence rates).
    normalization : str
    realigned, count_mismatches : int
        Utterances re-aligned, and how many of them disagree with the scored error count
        (0 unless the table was scored with another normalisation).
    reason : str or None
        Why there are no events to profile (counts-only or per-character log).
    """

    events: pd.DataFrame
    ref_words: RefWords | None
    normalization: str
    realigned: int = 0
    count_mismatches: int = 0
    reason: str | None = None


def word_errors(scored: pd.DataFrame, *, normalization: str | None = None) -> WordErrors:
    """Re-align the utterances with errors and list their word error events (see :func:`error_profile`)."""
    meta = provenance(scored)
    if normalization is None:
        normalization = meta.get("normalization", "default")
        if normalization not in NORMALIZATIONS:
            normalization = "default"
    empty = pd.DataFrame(
        {
            "row": pd.Series(dtype="int64"),
            "kind": pd.Series(dtype="str"),
            "ref_word": pd.Series(dtype="str"),
            "hyp_word": pd.Series(dtype="str"),
        }
    )
    if not {"ref", "hyp"} <= set(scored.columns):
        return WordErrors(empty, None, normalization, reason=NO_TEXT)
    if meta.get("unit", "word") == "char":
        return WordErrors(empty, None, normalization, reason=CHAR_UNIT)
    n = len(scored)
    both = np.concatenate([scored["ref"].to_numpy(dtype=object), scored["hyp"].to_numpy(dtype=object)])
    text_of, starts, codes, vocabulary = encoded_words(both, normalization)
    errors = scored["errors"].to_numpy() if "errors" in scored.columns else None
    events, realigned, mismatches = _events(text_of[:n], text_of[n:], starts, codes, vocabulary, errors)
    return WordErrors(events, RefWords(text_of[:n], starts, codes, vocabulary), normalization, realigned, mismatches)


def error_profile(
    scored: pd.DataFrame,
    cohort_labels: Partition | pd.Series,
    *,
    cohort: str | Sequence[str] | None = None,
    min_speakers: int = 30,
    prior_scale: float = 0.1,
    normalization: str | None = None,
    errors: WordErrors | None = None,
) -> pd.DataFrame:
    """Words and word pairs the cohort gets wrong more (or less) often than the rest.

    Parameters
    ----------
    scored : DataFrame
        Scored utterances (:func:`wergap.score`) with ``speaker_id``, ``ref`` and ``hyp``.
        A counts-only log yields an empty table whose ``attrs["wergap"]["error_profile"]
        ["reason"]`` says why.
    cohort_labels : Partition or Series
        Speaker id -> cohort label. Utterances of unlabelled speakers are left out.
    cohort : str or sequence of str, optional
        The cohort to explain (several labels: pooled). Default: the labelled cohort with
        the highest WER among those with at least ``min_speakers`` speakers.
    min_speakers : int, default 30
        Privacy floor: a word or pair is listed only when its event occurs for at least
        this many distinct speakers of the cohort.
    prior_scale : float, default 0.1
        Strength of the informative Dirichlet prior: each event type gets prior counts
        ``prior_scale`` × its pooled count (cohort + rest), i.e. a prior worth 10 % of the
        events, spread by pooled frequency. It pulls rare events' log-odds towards 0.
    normalization : str, optional
        Text normalisation for re-alignment; default the one ``scored`` was scored with
        (its provenance), else ``"default"``.
    errors : WordErrors, optional
        :func:`word_errors` of ``scored``, computed once when several cohorts of one log
        are profiled (as :func:`wergap.audit` does).

    Returns
    -------
    DataFrame
        :data:`ERROR_PROFILE_COLUMNS`, ranked by ``z`` (most over-represented in the
        cohort first). ``kind`` is one of :data:`KINDS`; ``ref_word`` is NA for
        insertions, ``hyp_word`` NA unless a substitution. ``errors_*``: events in the
        cohort / the rest; ``share_*``: their share of that side's events of the kind;
        ``ref_count_*``: occurrences of ``ref_word`` in that side's references and
        ``rate_*`` = errors / ref_count (how often the word is missed or replaced so).
        ``log_odds`` is Monroe et al.'s δ (cohort vs rest) and ``z`` = δ / its SE.
        ``attrs["wergap"]["error_profile"]`` records the cohort, event totals, rows below
        the privacy floor (``hidden``) and options.

    Examples
    --------
    >>> profile = error_profile(scored, audit.partition("geo_tree"))  # doctest: +SKIP
    >>> profile[profile["z"] > 0].head(20)  # doctest: +SKIP
    """
    if isinstance(min_speakers, bool) or not isinstance(min_speakers, (int, np.integer)) or min_speakers < 1:
        raise InputError(BAD_MIN_SPEAKERS.format(value=min_speakers))
    if not isinstance(prior_scale, (int, float)) or not prior_scale > 0:
        raise InputError(BAD_PRIOR.format(value=prior_scale))
    if errors is None:
        errors = word_errors(scored, normalization=normalization)
    if errors.reason is not None:
        return _empty(errors.reason, min_speakers=min_speakers)
    flag, name = in_cohort(scored, cohort_labels, cohort, min_speakers)
    keep = flag.notna().to_numpy()
    side = flag.to_numpy(dtype="bool", na_value=False)
    speakers = scored["speaker_id"].astype("str").to_numpy()
    rows = errors.events["row"].to_numpy()
    events = errors.events[keep[rows]].assign(speaker=speakers[rows[keep[rows]]], in_cohort=side[rows[keep[rows]]])
    info: dict[str, Any] = {
        "cohort": name,
        "min_speakers": int(min_speakers),
        "prior_scale": float(prior_scale),
        "normalization": errors.normalization,
        "utterances": int(keep.sum()),
        "realigned": int(errors.realigned),
        "count_mismatches": int(errors.count_mismatches),
        "speakers_cohort": int(len(set(speakers[keep & side]))),
        "reason": None,
    }
    if events.empty:
        return _empty(NO_ERRORS, **info)
    table = _log_odds(events, prior_scale)
    info["events"] = {
        kind: {"cohort": int(g["errors_cohort"].sum()), "rest": int(g["errors_rest"].sum())}
        for kind, g in table.groupby("kind", sort=False)
    }
    shown = table["speakers_cohort"] >= min_speakers
    info["hidden"] = int((~shown).sum())
    table = table[shown].copy()
    _add_rates(table, errors.ref_words, keep, side)
    table["kind"] = pd.Categorical(table["kind"], categories=KINDS)
    table = table.sort_values(["z", "kind"], ascending=[False, True], kind="stable").reset_index(drop=True)
    table["kind"] = table["kind"].astype("str")
    out = table[ERROR_PROFILE_COLUMNS]
    out.attrs["wergap"] = {"error_profile": info}
    return out


def _empty(reason: str, **info: Any) -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype="float64") for c in ERROR_PROFILE_COLUMNS})
    for col in ("kind", "ref_word", "hyp_word"):
        out[col] = out[col].astype("str")
    info["reason"] = reason
    out.attrs["wergap"] = {"error_profile": info}
    return out


def _events(
    ref_text: np.ndarray,
    hyp_text: np.ndarray,
    starts: np.ndarray,
    codes: np.ndarray,
    vocabulary: Any,
    errors: np.ndarray | None,
) -> tuple[pd.DataFrame, int, int]:
    """One row per error event (row, kind, ref_word, hyp_word); utterances re-aligned; count mismatches.

    Each distinct text becomes one string with a code point per word (what rapidfuzz
    compares fastest, and its backtrace depends only on which words are equal, so the
    alignment is jiwer's); events carry word codes until the end.
    """
    from rapidfuzz.distance import Levenshtein

    # More words than code points: lists of codes, as jiwer passes them.
    strings = code_strings(codes, starts, np.arange(len(starts) - 1), len(vocabulary))
    word_start = starts.tolist()
    editops = Levenshtein.editops
    kind: list[int] = []  # 0 missed, 1 substitution, 2 insertion
    ref_pos: list[int] = []  # index into codes, or -1
    hyp_pos: list[int] = []
    where: list[int] = []
    realigned = mismatches = 0
    candidates = range(len(ref_text)) if errors is None else np.flatnonzero(errors != 0).tolist()
    for k in candidates:
        rt, ht = int(ref_text[k]), int(hyp_text[k])
        if rt == ht:
            continue
        r, h = strings[rt], strings[ht]
        realigned += 1
        ops = editops(r, h)
        if errors is not None and len(ops) != errors[k]:
            mismatches += 1
        r0, h0 = word_start[rt], word_start[ht]
        for op in ops:
            tag = op.tag
            if tag == "replace":
                a, b = r0 + op.src_pos, h0 + op.dest_pos
                kind += (0, 1)
                ref_pos += (a, a)
                hyp_pos += (-1, b)
                where += (k, k)
            elif tag == "delete":
                kind.append(0)
                ref_pos.append(r0 + op.src_pos)
                hyp_pos.append(-1)
                where.append(k)
            else:
                kind.append(2)
                ref_pos.append(-1)
                hyp_pos.append(h0 + op.dest_pos)
                where.append(k)
    words = np.asarray(vocabulary.to_pylist(), dtype=object)
    names = np.asarray(KINDS_BY_CODE, dtype=object)

    def word(pos: list[int]) -> pd.Series:
        at = np.asarray(pos, dtype=np.int64)
        out = np.full(at.size, None, dtype=object)
        hit = at >= 0
        out[hit] = words[codes[at[hit]]]
        return pd.Series(out, dtype="str")

    events = pd.DataFrame(
        {
            "row": np.asarray(where, dtype=np.int64),
            "kind": pd.Series(names[np.asarray(kind, dtype=np.int64)], dtype="str"),
            "ref_word": word(ref_pos),
            "hyp_word": word(hyp_pos),
        }
    )
    return events, realigned, mismatches


def _log_odds(events: pd.DataFrame, prior_scale: float) -> pd.DataFrame:
    """Monroe et al.'s weighted log-odds (informative Dirichlet prior) per event type, by kind."""
    keys = ["kind", "ref_word", "hyp_word"]
    cohort_events = events[events["in_cohort"]]
    counts = events.groupby(keys + ["in_cohort"], dropna=False).size().unstack("in_cohort", fill_value=0)
    counts = counts.reindex(columns=[True, False], fill_value=0)
    counts.columns = ["errors_cohort", "errors_rest"]
    spk = cohort_events.groupby(keys, dropna=False)["speaker"].nunique().rename("speakers_cohort")
    # merge on columns (missing words match each other), not a join on a MultiIndex holding
    # NaN, which pandas sorts and rebuilds in Python
    table = counts.reset_index().merge(spk.reset_index(), on=keys, how="left").fillna({"speakers_cohort": 0})
    table["speakers_cohort"] = table["speakers_cohort"].astype("int64")
    y_c = table["errors_cohort"].to_numpy(dtype="float64")
    y_r = table["errors_rest"].to_numpy(dtype="float64")
    by_kind = table.groupby("kind")
    n_c = by_kind["errors_cohort"].transform("sum").to_numpy(dtype="float64")
    n_r = by_kind["errors_rest"].transform("sum").to_numpy(dtype="float64")
    alpha = prior_scale * (y_c + y_r)
    alpha_0 = prior_scale * (n_c + n_r)
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = np.log((y_c + alpha) / (n_c + alpha_0 - y_c - alpha)) - np.log(
            (y_r + alpha) / (n_r + alpha_0 - y_r - alpha)
        )
        variance = 1.0 / (y_c + alpha) + 1.0 / (y_r + alpha)
        table["share_cohort"] = y_c / n_c
        table["share_rest"] = y_r / n_r
    table["log_odds"] = delta
    table["z"] = delta / np.sqrt(variance)
    return table


def _add_rates(table: pd.DataFrame, refs: RefWords | None, keep: np.ndarray, side: np.ndarray) -> None:
    """``ref_count_*`` and ``rate_*`` for the listed rows with a reference word."""
    cohort_counts: dict[str, float] = {}
    rest_counts: dict[str, float] = {}
    if refs is not None and table["ref_word"].notna().any():  # counted per side over every reference word
        vocabulary = refs.vocabulary.to_pylist()
        cohort_counts = dict(zip(vocabulary, refs.counts(np.flatnonzero(keep & side)).tolist()))
        rest_counts = dict(zip(vocabulary, refs.counts(np.flatnonzero(keep & ~side)).tolist()))
    ref_c = table["ref_word"].map(lambda w: cohort_counts.get(w, 0) if isinstance(w, str) else np.nan)
    ref_r = table["ref_word"].map(lambda w: rest_counts.get(w, 0) if isinstance(w, str) else np.nan)
    table["ref_count_cohort"] = ref_c.astype("float64")
    table["ref_count_rest"] = ref_r.astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        table["rate_cohort"] = table["errors_cohort"] / table["ref_count_cohort"]
        table["rate_rest"] = table["errors_rest"] / table["ref_count_rest"]
