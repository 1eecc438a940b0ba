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
import pyarrow as pa

from wergap._strings import text_array
from wergap.cohorts._target import in_cohort
from wergap.cohorts.partition import Partition
from wergap.errors import InputError
from wergap.provenance import provenance
from wergap.scoring import NORMALIZATIONS, encoded_columns
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
    #: Row ``i``'s reference is text ``i`` (texts encoded per row, references first).
    per_row: bool = False

    def counts(self, rows: np.ndarray) -> np.ndarray:
        """How often each word code occurs in the references of the rows ``rows`` (indices)."""
        n = len(self.text_of)
        if self.per_row:
            # Count the chosen rows' words directly instead of weighting every word of the log.
            chosen = np.zeros(n, bool)
            chosen[rows] = True
            words = self.codes[: self.starts[n]][np.repeat(chosen, np.diff(self.starts[: n + 1]))]
            return np.bincount(words, minlength=len(self.vocabulary)).astype(np.float64)
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
    text_of, starts, codes, vocabulary = encoded_columns(
        [text_array(scored["ref"]), text_array(scored["hyp"])], normalization
    )
    errors = scored["errors"].to_numpy() if "errors" in scored.columns else None
    events, realigned, mismatches = _events(text_of[:n], text_of[n:], starts, codes, vocabulary, errors)
    per_row = bool(len(text_of) == 2 * n and (text_of == np.arange(2 * n)).all())
    refs = RefWords(text_of[:n], starts, codes, vocabulary, per_row)
    return WordErrors(events, refs, normalization, realigned, mismatches)


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
    vocabulary: pa.Array,
    errors: np.ndarray | None,
) -> tuple[pd.DataFrame, int, int]:
    """One row per error event (row, kind, ref_word, hyp_word); utterances re-aligned; count mismatches.

    Each utterance with errors is aligned again, on word codes, by the compiled kernels of
    :mod:`wergap.scoring_kernels`: the counts, then each operation of rapidfuzz's editops
    backtrace (jiwer's alignment) as events. References of more than 64 words past their
    common prefix and suffix go to rapidfuzz's editops itself. Events carry word codes
    until the words are looked up in Arrow at the end.
    """
    from wergap import scoring_kernels as kern

    if errors is None:
        candidates = np.flatnonzero(ref_text != hyp_text)
    else:
        candidates = np.flatnonzero((errors != 0) & (ref_text != hyp_text))
    ref_rows, hyp_rows = ref_text[candidates], hyp_text[candidates]
    counts, flagged = kern.aligned_counts(codes, starts, ref_rows, hyp_rows)
    sizes = np.where(flagged, 0, 2 * counts[:, 0] + counts[:, 1] + counts[:, 2])
    slots = np.zeros(len(candidates) + 1, np.int64)
    np.cumsum(sizes, out=slots[1:])
    kind, ref_pos, hyp_pos, skipped = kern.alignment_events(codes, starts, ref_rows, hyp_rows, slots)
    owner = np.repeat(candidates, sizes)
    keep = ~np.repeat(skipped, sizes)
    kind, ref_pos, hyp_pos, owner = kind[keep], ref_pos[keep], hyp_pos[keep], owner[keep]
    total = counts[:, 0] + counts[:, 1] + counts[:, 2]
    rest = np.flatnonzero(flagged | skipped)
    if len(rest):  # long references: rapidfuzz's own editops, pair by pair
        more_kind, more_ref, more_hyp, more_owner = _editops_events(
            codes, starts, len(vocabulary), ref_rows[rest], hyp_rows[rest], candidates[rest], total, rest
        )
        kind = np.concatenate([kind, more_kind])
        ref_pos = np.concatenate([ref_pos, more_ref])
        hyp_pos = np.concatenate([hyp_pos, more_hyp])
        owner = np.concatenate([owner, more_owner])
    mismatches = 0 if errors is None else int((total != errors[candidates]).sum())
    names = pa.array(KINDS_BY_CODE, pa.string()).take(pa.array(kind.astype(np.int64)))

    def word(pos: np.ndarray) -> pd.Series:
        at = pa.array(np.where(pos >= 0, codes[np.maximum(pos, 0)], 0), mask=pos < 0)
        return pd.Series(vocabulary.take(at).cast(pa.string()).to_pandas(types_mapper=pd.ArrowDtype), dtype="str")

    events = pd.DataFrame(
        {
            "row": owner.astype(np.int64),
            "kind": pd.Series(names.to_pandas(), dtype="str"),
            "ref_word": word(ref_pos),
            "hyp_word": word(hyp_pos),
        }
    )
    return events, len(candidates), mismatches


def _editops_events(
    codes: np.ndarray,
    starts: np.ndarray,
    vocabulary_size: int,
    ref_rows: np.ndarray,
    hyp_rows: np.ndarray,
    rows: np.ndarray,
    total: np.ndarray,
    at: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_events`' events for pairs the kernels leave to rapidfuzz (writes their ``total``)."""
    from rapidfuzz.distance import Levenshtein

    seqs = code_strings(codes, starts, np.concatenate([ref_rows, hyp_rows]), vocabulary_size)
    kind: list[int] = []
    ref_pos: list[int] = []
    hyp_pos: list[int] = []
    owner: list[int] = []
    for k in range(len(rows)):
        ops = Levenshtein.editops(seqs[k], seqs[len(rows) + k])
        total[at[k]] = len(ops)
        r0, h0, row = int(starts[ref_rows[k]]), int(starts[hyp_rows[k]]), int(rows[k])
        for op in ops:
            if op.tag == "replace":
                kind += (0, 1)
                ref_pos += (r0 + op.src_pos, r0 + op.src_pos)
                hyp_pos += (-1, h0 + op.dest_pos)
                owner += (row, row)
            elif op.tag == "delete":
                kind.append(0)
                ref_pos.append(r0 + op.src_pos)
                hyp_pos.append(-1)
                owner.append(row)
            else:
                kind.append(2)
                ref_pos.append(-1)
                hyp_pos.append(h0 + op.dest_pos)
                owner.append(row)
    return (
        np.asarray(kind, np.int8),
        np.asarray(ref_pos, np.int64),
        np.asarray(hyp_pos, np.int64),
        np.asarray(owner, np.int64),
    )


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
