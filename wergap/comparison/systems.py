"""Compare many ASR systems on the same utterances: cohorts found once, every system measured alike.

:func:`compare_systems` generalises :func:`wergap.comparison.compare` from a baseline and
a candidate to N systems (Koenecke et al. compare five commercial recognizers on the same
snippets; a team compares its last N releases; a mitigation study has a baseline and
several treatments):

1. The logs are paired on ``utt_id``: only utterances *every* system decoded are measured;
   the others are counted per system, never silently lost.
2. Cohorts are found once: by each discovery method of the registry on the first system
   (``discover_on="first"``) or on the systems' pooled counts (``"pooled"``), or read from
   an ``assignments`` export; the log's known attributes (gender, site, ...) are
   measured too, which is all a comparison has when no method can run.
3. Every system is measured on the same cohorts with the **same** paired speaker
   resamples (one draw of speakers, within each cohort, sums every system's counts), so
   the difference between any two systems has a valid interval. The bottom and top
   cohorts are fixed by the discovery basis: each system's gap is between the same two
   cohorts, which is what a mitigation targeted at them must move.
4. The held-out gap (each half of the speakers discovers, the other half measures every
   system) leads every table and decides the verdict of each system against the first;
   the in-sample gap (found and measured on the same speakers, optimistic) follows it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from wergap._strings import isin
from wergap.audit import Audit
from wergap.audit import audit as run_audit
from wergap.cohorts.bootstrap import percentile_interval, ratio, relative_gap_pct
from wergap.cohorts.partition import Partition, partition_from_column
from wergap.cohorts.stats import check_options, gap_summary
from wergap.comparison.assignments import partitions_from_assignments
from wergap.comparison.paired_bootstrap import held_out_systems, outcome, paired_totals
from wergap.comparison.pairing import require_scored
from wergap.comparison.systems_result import (
    SYSTEM_CHANGE_COLUMNS,
    SYSTEM_COHORT_CHANGE_COLUMNS,
    SYSTEM_COHORT_COLUMNS,
    SYSTEM_GAP_COLUMNS,
    SYSTEM_OVERALL_COLUMNS,
    SystemsComparison,
)
from wergap.data_schemas.log import split_systems
from wergap.defaults import CONFIDENCE, MIN_SPEAKERS, N_BOOT, SEED
from wergap.errors import InputError
from wergap.speaker_table import speakers as speaker_table

#: Where cohorts are discovered: on the first system's counts, or on every system's pooled.
DISCOVER_ON = ("first", "pooled")
#: Smallest group of a known attribute measured on its own (DESIGN: ``min_group_speakers``).
MIN_GROUP_SPEAKERS = 10

TOO_FEW_SYSTEMS = "a comparison needs at least two systems, got {n}"
BAD_NAMES = "names must give one distinct name per system ({n} systems), got {names}"
BAD_DISCOVER_ON = "discover_on must be one of {choices}, got {value!r}"
NOT_TABLES = (
    "systems must be a list of scored tables, a mapping name -> table, or one table with a 'system' column; got {kind}"
)
SPEAKER_MISMATCH = (
    "utt_id {utt_id!r} belongs to speaker {first!r} in the {first_name} log but {other!r} in the "
    "{other_name} log ({n} such utterances): the logs do not describe the same utterances"
)
NO_SHARED = "the systems' logs share no utt_id ({sizes})"
NO_COHORTS = (
    "no cohorts to compare: no discovery method ran ({skipped}) and no known attribute has two "
    "groups of {floor}+ speakers"
)
TOO_FEW_IN_GROUP = "{column} = {value}: too few speakers (under {floor})"
HELD_OUT_KNOWN = "known attribute: nothing was searched, so there is no held-out gap"
HELD_OUT_NO_ESTIMATOR = "cohorts read, not discovered here: no estimator to refit on held-out halves"


def _tables_and_names(
    systems: Any, names: Sequence[str] | None, choose: Sequence[str] | None
) -> tuple[list[pd.DataFrame], list[str]]:
    """The systems' scored tables and their names, from a list, a mapping or one table."""
    if isinstance(systems, pd.DataFrame):
        if "system" not in systems.columns:
            raise InputError(NOT_TABLES.format(kind="a DataFrame without a 'system' column"), column="system")
        chosen = list(choose) if choose else list(dict.fromkeys(systems["system"].dropna().astype(str)))
        tables = split_systems(systems, chosen)
        return tables, list(names) if names is not None else chosen
    if isinstance(systems, Mapping):
        tables, keys = list(systems.values()), [str(k) for k in systems]
    elif isinstance(systems, Sequence) and not isinstance(systems, str):
        tables, keys = list(systems), []
    else:
        raise InputError(NOT_TABLES.format(kind=type(systems).__name__))
    if names is None:
        names = keys or _names_from_tables(tables)
    return tables, [str(n) for n in names]


def _names_from_tables(tables: list[pd.DataFrame]) -> list[str]:
    """Each table's one ``system`` value when every table has a distinct one, else "system 1", ..."""
    found = []
    for table in tables:
        values = (
            table["system"].dropna().unique() if isinstance(table, pd.DataFrame) and "system" in table.columns else []
        )
        if len(values) == 1:
            found.append(str(values[0]))
    if len(found) == len(tables) and len(set(found)) == len(found):
        return found
    return [f"system {i}" for i in range(1, len(tables) + 1)]


def align_systems(tables: Sequence[pd.DataFrame], names: Sequence[str]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per-utterance counts of every system on the utterances all of them decoded.

    Parameters
    ----------
    tables : sequence of DataFrame
        Scored utterances of each system (``utt_id``, ``speaker_id``, ``ref_words``, ``errors``).
    names : sequence of str
        The systems' names, in the same order.

    Returns
    -------
    merged : DataFrame
        ``utt_id``, ``speaker_id`` (the first system's), then ``errors_<i>``, ``words_<i>``
        for system ``i`` = 0, 1, ...
    counts : dict
        ``shared`` utterances, ``not_shared`` {system: its utterances left out because some
        other system lacks them}, ``reference_words_differ`` {system: shared utterances
        whose reference word count differs from the first system's}.
    """
    merged = None
    frames = []
    for i, (table, name) in enumerate(zip(tables, names)):
        table = require_scored(table, name)
        frame = pd.DataFrame(
            {
                "utt_id": table["utt_id"].astype("str").to_numpy(),
                f"speaker_{i}": table["speaker_id"].astype("str").to_numpy(),
                f"errors_{i}": pd.to_numeric(table["errors"]).to_numpy(dtype=np.float64),
                f"words_{i}": pd.to_numeric(table["ref_words"]).to_numpy(dtype=np.float64),
            }
        )
        frames.append(frame)
        merged = frame if merged is None else merged.merge(frame, on="utt_id", how="inner", sort=False)
    assert merged is not None
    if merged.empty:
        raise InputError(NO_SHARED.format(sizes=", ".join(f"{len(f):,} in {n}" for f, n in zip(frames, names))))
    for i in range(1, len(frames)):
        differ = (merged["speaker_0"] != merged[f"speaker_{i}"]).to_numpy()
        if differ.any():
            row = int(differ.argmax())
            raise InputError(
                SPEAKER_MISMATCH.format(
                    utt_id=merged["utt_id"].iloc[row],
                    first=merged["speaker_0"].iloc[row],
                    other=merged[f"speaker_{i}"].iloc[row],
                    first_name=names[0],
                    other_name=names[i],
                    n=int(differ.sum()),
                ),
                column="speaker_id",
            )
    counts = {
        "shared": len(merged),
        "not_shared": {name: len(f) - len(merged) for f, name in zip(frames, names)},
        "reference_words_differ": {
            name: int((merged[f"words_{i}"] != merged["words_0"]).sum()) for i, name in enumerate(names) if i
        },
    }
    merged = merged.drop(columns=[f"speaker_{i}" for i in range(1, len(frames))]).rename(
        columns={"speaker_0": "speaker_id"}
    )
    return merged, counts


def _basis(values: np.ndarray, discover_on: str) -> np.ndarray:
    """(errors, words) columns cohorts are discovered and ranked on."""
    if discover_on == "first":
        return values[:, :2]
    return np.column_stack([values[:, 0::2].sum(axis=1), values[:, 1::2].sum(axis=1)])


def _discovery_table(first: pd.DataFrame, merged: pd.DataFrame, basis: np.ndarray, discover_on: str) -> pd.DataFrame:
    """The first system's shared utterances, with the basis counts when discovering on pooled systems."""
    shared = first[isin(first["utt_id"].astype("str"), merged["utt_id"])].reset_index(drop=True)
    if discover_on == "first":
        return shared
    order = pd.Series(np.arange(len(merged)), index=merged["utt_id"].to_numpy())
    rows = order.reindex(shared["utt_id"].astype("str").to_numpy()).to_numpy()
    # pooled counts have no S/D/I split and no single transcript: a counts-only log
    shared = shared.drop(columns=["ref", "hyp", "substitutions", "deletions", "insertions", "hits"], errors="ignore")
    shared["errors"] = basis[rows, 0].astype(np.int64)
    shared["ref_words"] = basis[rows, 1].astype(np.int64)
    shared.attrs = dict(first.attrs)
    return shared


def _attribute_partitions(
    speakers: pd.DataFrame, columns: Sequence[str], floor: int
) -> tuple[list[Partition], dict[str, dict[str, int]]]:
    """One partition per known attribute; groups under ``floor`` speakers named and counted, not pooled."""
    parts, excluded = [], {}
    for column in columns:
        if column not in speakers.columns:
            raise InputError(f"known attribute {column!r} is not a column of the speaker table", column=column)
        part = partition_from_column(speakers, column)
        sizes = part.labels.value_counts()
        small = sizes[sizes < floor]
        dropped = dict(part.excluded)
        for value, n in small.items():
            dropped[TOO_FEW_IN_GROUP.format(column=column, value=value, floor=floor)] = int(n)
        labels = part.labels[~part.labels.isin(small.index)]
        parts.append(
            Partition(part.method, labels, {c: part.definitions[c] for c in labels.unique()}, excluded=dropped)
        )
        excluded[part.method] = dropped
    return parts, excluded


def compare_systems(
    systems: Any,
    *,
    names: Sequence[str] | None = None,
    select: Sequence[str] | None = None,
    discover_on: str = "first",
    audit: Audit | None = None,
    partitions: Mapping[str, Partition] | Sequence[Partition] | None = None,
    assignments: pd.DataFrame | None = None,
    census: pd.DataFrame | None = None,
    embeddings: pd.DataFrame | None = None,
    methods: Sequence[str] | None = None,
    known_attributes: Sequence[str] | None = None,
    min_speakers: int = MIN_SPEAKERS,
    min_group_speakers: int = MIN_GROUP_SPEAKERS,
    bottom_share: float | None = None,
    confidence: float = CONFIDENCE,
    n_boot: int = N_BOOT,
    seed: int = SEED,
    held_out: bool = True,
    **audit_options: Any,
) -> SystemsComparison:
    """Measure cohorts found once on every one of N systems decoded on the same utterances.

    Parameters
    ----------
    systems : list of DataFrame, mapping of str to DataFrame, or DataFrame
        Scored utterances of each system (:func:`wergap.score`), in order: the first is
        the reference every other system is compared against. One table with a
        ``system`` column is split by it (every system in order of first appearance, or
        those named in ``select``).
    names : sequence of str, optional
        The systems' names. Default: the mapping's keys, the ``system`` column's values,
        or each table's single ``system`` value, else ``"system 1"``, ...
    select : sequence of str, optional
        With one table holding a ``system`` column: the systems to compare, in order.
    discover_on : {"first", "pooled"}, default "first"
        Discover cohorts (and fix each partition's bottom and top) on the first
        system's counts, or on every system's counts pooled (no system is favoured:
        the cohorts are those all systems serve worst together).
    audit : Audit, optional
        An audit whose partitions and estimators are used instead of discovering here.
    partitions : mapping or sequence of Partition, optional
        Cohorts to measure instead (no held-out gap: nothing to refit).
    assignments : DataFrame, optional
        An ``assignments.parquet`` of ``wergap audit --outdir``: its cohorts are measured
        (:func:`partitions_from_assignments`).
    census, embeddings, methods, audit_options
        Inputs of :func:`wergap.audit` when it runs here (on the discovery basis).
    known_attributes : sequence of str, optional
        Speaker columns measured as cohorts besides the discovered ones (default: the
        audit's automatic choice; none with ``partitions``/``assignments``).
    min_speakers : int, default 30
        Smallest discovered cohort reported (smaller ones are pooled).
    min_group_speakers : int, default 10
        Smallest group of a known attribute measured; smaller groups are named and
        counted in :attr:`SystemsComparison.excluded`, never pooled with other values.
    bottom_share : float, optional
        Pool the worst cohorts (on the discovery basis) up to this share as the bottom.
    confidence, n_boot, seed
        The paired speaker bootstrap: one resample draws speakers within each cohort and
        sums every system's counts of the drawn speakers.
    held_out : bool, default True
        Measure each discovered method's held-out gap on every system (two folds: one
        half of the speakers discovers, the other half measures) and its paired change
        against the first system. This is the number the verdict and the ranking use.

    Returns
    -------
    SystemsComparison
        Tidy tables: :meth:`~SystemsComparison.cohorts` (system × method × cohort),
        :meth:`~SystemsComparison.gaps` (system × method), :meth:`~SystemsComparison.changes`
        (each system against the first), :meth:`~SystemsComparison.cohort_changes`,
        :attr:`~SystemsComparison.overall`; verdicts and the ranking by held-out gap.

    Examples
    --------
    >>> result = compare_systems([score(a), score(b), score(c)], names=["v1", "v2", "v3"])  # doctest: +SKIP
    >>> result.gaps()  # doctest: +SKIP
    """
    check_options(confidence, n_boot)
    if discover_on not in DISCOVER_ON:
        raise InputError(BAD_DISCOVER_ON.format(choices=", ".join(DISCOVER_ON), value=discover_on))
    tables, names = _tables_and_names(systems, names, select)
    if len(tables) < 2:
        raise InputError(TOO_FEW_SYSTEMS.format(n=len(tables)))
    if len(names) != len(tables) or len(set(names)) != len(names):
        raise InputError(BAD_NAMES.format(n=len(tables), names=list(names)))
    merged, counts = align_systems(tables, names)
    grouped = merged.groupby("speaker_id", sort=True)
    value_columns = [c for i in range(len(names)) for c in (f"errors_{i}", f"words_{i}")]
    spk = grouped[value_columns].sum()
    spk["utterances"] = grouped.size()
    spk = spk.reset_index()
    counts["speakers"] = len(spk)
    values = spk[value_columns].to_numpy(dtype=np.float64)
    basis = _basis(values, discover_on)
    basis_utt = _basis(merged[value_columns].to_numpy(dtype=np.float64), discover_on)

    skipped: dict[str, str] = {}
    estimators: dict[str, Any] = {}
    if assignments is not None:
        partitions = partitions_from_assignments(assignments)
    if partitions is None:
        if audit is None:
            audit = run_audit(
                _discovery_table(tables[0], merged, basis_utt, discover_on),
                census=census,
                embeddings=embeddings,
                methods=methods,
                min_speakers=min_speakers,
                seed=seed,
                n_boot=0,
                confidence=confidence,
                bottom_share=bottom_share,
                known_attributes=known_attributes,
                **audit_options,
            )
        chosen = [m for m in (methods or audit.methods) if m in audit.methods]
        parts = [audit.partition(m) for m in chosen]
        estimators = {m: audit.estimators[m] for m in chosen if m in getattr(audit, "estimators", {})}
        skipped = dict(audit.skipped)
        meta_source = audit.speakers
        attributes = list(known_attributes) if known_attributes is not None else list(audit.disaggregated)
    else:
        parts = (
            [p for m, p in partitions.items() if methods is None or m in methods]
            if isinstance(partitions, Mapping)
            else list(partitions)
        )
        meta_source = None
        attributes = list(known_attributes or [])
    if attributes and meta_source is None:
        meta_source = speaker_table(tables[0][isin(tables[0]["utt_id"].astype("str"), merged["utt_id"])])
    attribute_parts, attribute_excluded = (
        _attribute_partitions(meta_source, attributes, min_group_speakers) if attributes else ([], {})
    )

    basis_table = pd.DataFrame(
        {
            "speaker_id": spk["speaker_id"],
            "ref_words": basis[:, 1],
            "errors": basis[:, 0],
            "utterances": spk["utterances"],
        }
    )
    meta = None
    if held_out and estimators:
        meta = meta_source.assign(speaker_id=meta_source["speaker_id"].astype("str"))
        meta = meta[isin(meta["speaker_id"], spk["speaker_id"])].drop(
            columns=["ref_words", "errors", "wer"], errors="ignore"
        )
        meta = basis_table[["speaker_id", "ref_words", "errors"]].merge(meta, on="speaker_id", how="left")
        meta["wer"] = ratio(meta["errors"], meta["ref_words"])

    rng = np.random.default_rng(seed)
    pieces: dict[str, list[pd.DataFrame]] = {"cohorts": [], "gaps": [], "changes": [], "cohort_changes": []}
    excluded: dict[str, dict[str, int]] = {}
    kinds = [("discovered", p) for p in parts] + [("known attribute", p) for p in attribute_parts]
    if not parts and not any(p.labels.nunique() >= 2 for p in attribute_parts):
        raise InputError(
            NO_COHORTS.format(
                skipped="; ".join(f"{m}: {r}" for m, r in skipped.items()) or "none ran", floor=min_group_speakers
            )
        )
    for kind, part in kinds:
        floor = min_speakers if kind == "discovered" else min_group_speakers
        measured, why = _measure_partition(
            spk,
            values,
            basis_table,
            part,
            names,
            floor=floor,
            rng=rng,
            bottom_share=bottom_share,
            confidence=confidence,
            n_boot=n_boot,
        )
        if kind == "discovered":
            estimator = estimators.get(part.method)
            if meta is not None and estimator is not None:
                held, reason = held_out_systems(
                    estimator,
                    meta,
                    values,
                    names,
                    min_speakers=min_speakers,
                    seed=seed,
                    bottom_share=bottom_share,
                    confidence=confidence,
                    n_boot=n_boot,
                )
            else:
                held, reason = None, HELD_OUT_NO_ESTIMATOR if held_out else None
        else:
            held, reason = None, HELD_OUT_KNOWN
        _attach_held_out(measured, held, reason, kind)
        for key in pieces:
            pieces[key].append(measured[key])
        excluded[part.method] = why
    excluded.update({m: e for m, e in attribute_excluded.items() if m not in excluded})

    overall = _overall(spk, values, names, confidence=confidence, n_boot=n_boot, seed=seed)

    def cat(key: str, columns: list[str]) -> pd.DataFrame:
        frames = [f for f in pieces[key] if len(f)]
        return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)

    gaps = _rank(cat("gaps", SYSTEM_GAP_COLUMNS))
    return SystemsComparison(
        names=tuple(names),
        counts=counts,
        discover_on=discover_on,
        confidence=confidence,
        n_boot=n_boot,
        seed=seed,
        overall=overall,
        excluded=excluded,
        skipped=skipped,
        estimators=estimators,
        speakers=_coordinates(meta_source, spk),
        _cohorts=cat("cohorts", SYSTEM_COHORT_COLUMNS),
        _gaps=gaps,
        _changes=cat("changes", SYSTEM_CHANGE_COLUMNS),
        _cohort_changes=cat("cohort_changes", SYSTEM_COHORT_CHANGE_COLUMNS),
    )


def _coordinates(meta: pd.DataFrame | None, spk: pd.DataFrame) -> pd.DataFrame | None:
    """``speaker_id``, ``lat``, ``lon`` of the measured speakers (the report's maps), or None without coordinates."""
    if meta is None or not {"speaker_id", "lat", "lon"} <= set(meta.columns):
        return None
    out = meta[["speaker_id", "lat", "lon"]].assign(speaker_id=meta["speaker_id"].astype("str"))
    return out[isin(out["speaker_id"], spk["speaker_id"])].reset_index(drop=True)


def _measure_partition(
    spk: pd.DataFrame,
    values: np.ndarray,
    basis_table: pd.DataFrame,
    partition: Partition,
    names: Sequence[str],
    *,
    floor: int,
    bottom_share: float | None,
    confidence: float,
    n_boot: int,
    rng: np.random.Generator,
) -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
    """Every system's cohort WER, gap and change against the first, from one set of paired resamples."""
    method = partition.method
    n_sys = len(names)
    excluded = dict(partition.excluded)
    in_logs = isin(partition.labels.index, spk["speaker_id"].to_numpy(dtype=object))
    if (~in_logs).any():
        excluded["no utterance shared by every system"] = int((~in_logs).sum())
    unplaced = int((~isin(spk["speaker_id"], partition.labels.index)).sum())
    if unplaced:
        excluded["not in the partition"] = excluded.get("not in the partition", 0) + unplaced
    part = Partition(
        method, partition.labels[in_logs], partition.definitions, excluded=excluded, binary=partition.binary
    )
    part = part.merge_small(floor)
    found = gap_summary(basis_table, part, bottom_share=bottom_share, min_speakers=floor, n_boot=0)
    cohorts = part.cohorts
    cohort_of = spk["speaker_id"].map(part.labels)
    keep = cohort_of.notna().to_numpy()
    codes = pd.Categorical(cohort_of[keep], categories=cohorts).codes
    vals = values[keep]
    k = len(cohorts)
    totals = np.zeros((k, 2 * n_sys))
    np.add.at(totals, codes, vals)
    n_spk = np.bincount(codes, minlength=k)
    n_utt = np.bincount(codes, weights=spk["utterances"].to_numpy(dtype=np.float64)[keep], minlength=k)
    boot = paired_totals(codes, vals, k, n_boot, rng) if n_boot and k else np.zeros((0, k, 2 * n_sys))
    wer = ratio(totals[:, 0::2], totals[:, 1::2])  # (k, n_sys)
    boot_wer = ratio(boot[..., 0::2], boot[..., 1::2])  # (n_boot, k, n_sys)
    nan2 = (math.nan, math.nan)

    def interval(draws: np.ndarray) -> tuple[float, float]:
        return percentile_interval(draws, confidence) if n_boot else nan2

    bottom_set = set(found.bottom_cohorts)
    basis_wer = ratio(
        np.bincount(codes, weights=basis_table["errors"].to_numpy(dtype=np.float64)[keep], minlength=k),
        np.bincount(codes, weights=basis_table["ref_words"].to_numpy(dtype=np.float64)[keep], minlength=k),
    )
    order = sorted(range(k), key=lambda j: (-np.nan_to_num(basis_wer[j], nan=-1.0), cohorts[j]))
    cohort_rows, change_rows = [], []
    for j in order:
        cohort = cohorts[j]
        if cohort in part.unreported:
            continue
        role = "bottom" if cohort in bottom_set else ("top" if cohort == found.top else "")
        common = {"method": method, "cohort": cohort, "role": role}
        for s, name in enumerate(names):
            low, high = interval(boot_wer[:, j, s])
            cohort_rows.append(
                {
                    "system": name,
                    **common,
                    "definition": part.definitions[cohort],
                    "speakers": int(n_spk[j]),
                    "utterances": int(n_utt[j]),
                    "ref_words": float(totals[j, 2 * s + 1]),
                    "errors": float(totals[j, 2 * s]),
                    "wer": float(wer[j, s]),
                    "wer_ci_low": low,
                    "wer_ci_high": high,
                }
            )
            if s:
                low, high = interval(100 * (boot_wer[:, j, s] - boot_wer[:, j, 0]))
                change_rows.append(
                    {
                        "system": name,
                        "baseline": names[0],
                        **common,
                        "wer_baseline": float(wer[j, 0]),
                        "wer": float(wer[j, s]),
                        "change_pts": float(100 * (wer[j, s] - wer[j, 0])),
                        "change_ci_low": low,
                        "change_ci_high": high,
                    }
                )

    gap_rows: list[dict[str, Any]] = []
    sys_rows: list[dict[str, Any]] = []
    base: dict[str, Any] = {"method": method, "bottom": found.bottom, "top": found.top, "speakers": int(n_spk.sum())}
    if found.bottom is None or found.top is None:  # None together (no gap)
        for name in names:
            gap_rows.append({"system": name, **base, "note": found.reason})
        for name in names[1:]:
            sys_rows.append(
                {"system": name, "baseline": names[0], "method": method, "outcome": "unmeasured", "note": found.reason}
            )
    else:
        position = {c: i for i, c in enumerate(cohorts)}
        bottom_mask = np.zeros(k, dtype=bool)
        bottom_mask[[position[c] for c in found.bottom_cohorts]] = True
        top_mask = np.zeros(k, dtype=bool)
        top_mask[position[found.top]] = True

        def sides(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            bottom = ratio(t[..., bottom_mask, 0::2].sum(axis=-2), t[..., bottom_mask, 1::2].sum(axis=-2))
            top = ratio(t[..., top_mask, 0::2].sum(axis=-2), t[..., top_mask, 1::2].sum(axis=-2))
            return bottom, top

        w_bottom, w_top = sides(totals)
        gap = np.where(w_top > 0, relative_gap_pct(w_bottom, w_top), np.nan)
        boot_gap = relative_gap_pct(*sides(boot)) if n_boot else np.zeros((0, n_sys))
        for s, name in enumerate(names):
            note = None if w_top[s] > 0 else f"the top cohort {found.top!r} has WER 0 on {name}: relative gap infinite"
            low, high = interval(boot_gap[:, s]) if math.isfinite(gap[s]) else nan2
            gap_rows.append(
                {
                    "system": name,
                    **base,
                    "wer_bottom": float(w_bottom[s]),
                    "wer_top": float(w_top[s]),
                    "gap_pct": float(gap[s]),
                    "gap_ci_low": low,
                    "gap_ci_high": high,
                    "note": note,
                }
            )
            if s:
                change = float(gap[s] - gap[0])
                diff = boot_gap[:, s] - boot_gap[:, 0]
                diff = diff[np.isfinite(diff)]
                low, high = interval(diff) if math.isfinite(change) and len(diff) else nan2
                sys_rows.append(
                    {
                        "system": name,
                        "baseline": names[0],
                        "method": method,
                        "gap_change_pts": change,
                        "gap_change_ci_low": low,
                        "gap_change_ci_high": high,
                        "outcome": outcome(low, high, change),
                        "note": None,
                    }
                )
    return {
        "cohorts": pd.DataFrame(cohort_rows, columns=SYSTEM_COHORT_COLUMNS),
        "gaps": pd.DataFrame(gap_rows, columns=SYSTEM_GAP_COLUMNS),
        "changes": pd.DataFrame(sys_rows, columns=SYSTEM_CHANGE_COLUMNS),
        "cohort_changes": pd.DataFrame(change_rows, columns=SYSTEM_COHORT_CHANGE_COLUMNS),
    }, part.excluded


def _attach_held_out(
    measured: dict[str, pd.DataFrame], held: dict[str, np.ndarray] | None, reason: str | None, kind: str
) -> None:
    """Fill the held-out columns of a partition's gap and change rows, and its verdict."""
    gaps, changes = measured["gaps"], measured["changes"]
    gaps["kind"] = kind
    changes["kind"] = kind
    if held is not None:
        gaps["held_out_gap_pct"] = held["gap"]
        gaps["held_out_ci_low"] = held["gap_ci_low"]
        gaps["held_out_ci_high"] = held["gap_ci_high"]
        changes["held_out_change_pts"] = held["change"][1:]
        changes["held_out_change_ci_low"] = held["change_ci_low"][1:]
        changes["held_out_change_ci_high"] = held["change_ci_high"][1:]
        changes["held_out_outcome"] = [
            outcome(lo, hi, c)
            for lo, hi, c in zip(held["change_ci_low"][1:], held["change_ci_high"][1:], held["change"][1:])
        ]
    else:
        changes["held_out_outcome"] = "not computed"
    if reason:
        for table in (gaps, changes):
            table["note"] = ["; ".join(n for n in (note, reason) if isinstance(n, str) and n) for note in table["note"]]
    measured_held = changes["held_out_outcome"].isin(["narrowed", "widened", "no detectable change"])
    changes["verdict"] = np.where(measured_held, changes["held_out_outcome"], changes["outcome"])
    changes["verdict_from"] = np.where(measured_held, "held-out", "in-sample")


def _rank(gaps: pd.DataFrame) -> pd.DataFrame:
    """Rank systems within each method by held-out gap (smallest first), else by in-sample gap."""
    if gaps.empty:
        return gaps
    held = gaps.groupby("method")["held_out_gap_pct"].transform(lambda s: s.notna().all())
    gaps["ranked_by"] = np.where(held, "held-out", "in-sample")
    key = gaps["held_out_gap_pct"].where(held, gaps["gap_pct"])
    gaps["rank"] = key.groupby(gaps["method"]).rank(method="min").astype("Int64")
    return gaps


def _overall(
    spk: pd.DataFrame, values: np.ndarray, names: Sequence[str], *, confidence: float, n_boot: int, seed: int
) -> pd.DataFrame:
    """Every system's WER over all shared utterances and its paired change against the first."""
    totals = values.sum(axis=0)
    wer = ratio(totals[0::2], totals[1::2])
    rows = []
    boot = None
    if n_boot:
        boot = paired_totals(np.zeros(len(spk), dtype=np.intp), values, 1, n_boot, np.random.default_rng(seed))[:, 0, :]
        boot = ratio(boot[:, 0::2], boot[:, 1::2])
    for s, name in enumerate(names):
        low = high = c_low = c_high = math.nan
        if boot is not None:
            low, high = percentile_interval(boot[:, s], confidence)
            c_low, c_high = percentile_interval(100 * (boot[:, s] - boot[:, 0]), confidence)
        rows.append(
            {
                "system": name,
                "speakers": len(spk),
                "utterances": int(spk["utterances"].sum()),
                "ref_words": float(totals[2 * s + 1]),
                "errors": float(totals[2 * s]),
                "wer": float(wer[s]),
                "wer_ci_low": low,
                "wer_ci_high": high,
                "change_pts": float(100 * (wer[s] - wer[0])),
                "change_ci_low": c_low,
                "change_ci_high": c_high,
            }
        )
    return pd.DataFrame(rows, columns=SYSTEM_OVERALL_COLUMNS)
