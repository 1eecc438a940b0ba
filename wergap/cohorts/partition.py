"""The Partition: which cohort each speaker belongs to, and what each cohort means.

Every discovery method (geographic tree, census splits, embedding k-means, a known
attribute) ends in a :class:`Partition`, and every cohort statistic starts from one, so
discovery and statistics can change independently. A Partition checks itself on creation:
one label per speaker, string ids, and a readable definition for every cohort (a report
must say what "cohort 3" is).

Cohorts smaller than ``min_speakers`` are not reported on their own (DESIGN.md: for
statistical reliability and so that no report singles out a few people):
:meth:`Partition.merge_small` pools them into one ``"other"`` cohort, and flags that pool
as unreported too when it is itself still too small.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import pandas as pd
from pandas.api.types import infer_dtype

from wergap.defaults import MIN_SPEAKERS
from wergap.errors import InputError

#: Label of the pool of cohorts that are too small to report on their own.
OTHER = "other"
#: Definition of that pool; ``{min_speakers}`` is filled in.
OTHER_DEFINITION = "cohorts under {min_speakers} speakers, pooled"

LABELS_NOT_SERIES = "Partition.labels must be a pandas Series indexed by speaker_id, got {kind}"
DUPLICATE_SPEAKER = "speaker {speaker!r} has more than one cohort label"
SPEAKER_NOT_STR = "speaker ids must be strings (index of Partition.labels), got {kind}"
LABEL_NOT_STR = "cohort labels must be non-missing strings, got {kind}"
MISSING_DEFINITION = "cohort {cohort!r} has no definition (Partition.definitions)"
BAD_EXCLUDED = "Partition.excluded must map reason -> non-negative speaker count, got {item!r}"
UNKNOWN_UNREPORTED = "Partition.unreported names {cohort!r}, which is not a cohort label"
BAD_MIN_SPEAKERS = "min_speakers must be a positive integer, got {value!r}"


@dataclass
class Partition:
    """An assignment of eligible speakers to cohorts, with a definition per cohort.

    Parameters
    ----------
    method : str
        What produced it: ``"geo_tree"``, ``"census_splits"``, ``"embedding_kmeans"``,
        ``"attribute:gender"``, ...
    labels : pandas.Series
        Index: ``speaker_id`` (unique strings); values: cohort label (strings, no NA).
        Only eligible speakers appear; those that could not be assigned are counted in
        ``excluded``.
    definitions : dict of str to str
        Cohort label -> readable definition (``"lat 30.1–35.2, lon -90.0–-80.5"``). Every
        label must have one; extra entries (cohorts that ended up empty) are allowed.
    excluded : dict of str to int, default {}
        Reason -> number of speakers that could not be assigned (e.g. ``"no lat/lon"``).
    binary : bool, default False
        A two-sided split (a census attribute in/out): the gap is inside against the rest.
    unreported : tuple of str, default ()
        Cohorts that are assigned but too small to report or rank on their own (set by
        :meth:`merge_small` when even the pooled ``"other"`` is under ``min_speakers``).
        Their speakers still count in shares and in "the rest".
    pooled : tuple of str, default ()
        Cohorts that pool unrelated small cohorts (``"other"``, set by :meth:`merge_small`).
        They may be reported as rows, but are never a bottom or top cohort: a bottom cohort
        is a target for mitigation, and a mix of leftovers is none.

    Notes
    -----
    ``labels`` is stored as a copy named ``"cohort"`` with index name ``"speaker_id"``.
    """

    method: str
    labels: pd.Series
    definitions: dict[str, str]
    excluded: dict[str, int] = field(default_factory=dict)
    binary: bool = False
    unreported: tuple[str, ...] = ()
    pooled: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.labels, pd.Series):
            raise InputError(LABELS_NOT_SERIES.format(kind=type(self.labels).__name__))
        labels = self.labels
        if len(labels) and infer_dtype(labels.index, skipna=False) != "string":
            raise InputError(
                SPEAKER_NOT_STR.format(kind=infer_dtype(labels.index, skipna=False)),
                column="speaker_id",
            )
        duplicated = labels.index.duplicated()
        if duplicated.any():
            position = int(duplicated.argmax())
            raise InputError(
                DUPLICATE_SPEAKER.format(speaker=labels.index[position]),
                row=position,
                column="speaker_id",
            )
        if labels.isna().any():
            position = int(labels.isna().to_numpy().argmax())
            raise InputError(LABEL_NOT_STR.format(kind="a missing value"), row=position, column="cohort")
        if len(labels) and infer_dtype(labels, skipna=False) != "string":
            raise InputError(LABEL_NOT_STR.format(kind=infer_dtype(labels, skipna=False)), column="cohort")
        self.labels = pd.Series(
            labels.to_numpy(dtype=object),
            index=pd.Index(labels.index.to_numpy(dtype=object), name="speaker_id", dtype="str"),
            name="cohort",
            dtype="str",
        )
        self.definitions = {str(k): str(v) for k, v in dict(self.definitions).items()}
        for cohort in self.cohorts:
            if cohort not in self.definitions:
                raise InputError(MISSING_DEFINITION.format(cohort=cohort), column="cohort")
        excluded = {}
        for reason, count in dict(self.excluded).items():
            try:
                n = operator.index(count)
            except TypeError:
                n = -1
            if isinstance(count, bool) or n < 0:
                raise InputError(BAD_EXCLUDED.format(item=(reason, count)))
            excluded[str(reason)] = n
        self.excluded = excluded
        self.unreported = tuple(str(c) for c in self.unreported)
        self.pooled = tuple(str(c) for c in self.pooled)
        cohorts = set(self.cohorts)
        for cohort in self.unreported:
            if cohort not in cohorts:
                raise InputError(UNKNOWN_UNREPORTED.format(cohort=cohort), column="cohort")

    @property
    def cohorts(self) -> list[str]:
        """The cohort labels that have at least one speaker, sorted."""
        return sorted(self.labels.unique().tolist())

    @property
    def sizes(self) -> pd.Series:
        """Speakers per cohort (index: cohort label), largest first."""
        return self.labels.value_counts().rename("speakers")

    @property
    def reported(self) -> list[str]:
        """Cohorts that may be reported and ranked on their own (not ``unreported``)."""
        return [c for c in self.cohorts if c not in set(self.unreported)]

    @property
    def rankable(self) -> list[str]:
        """Cohorts that may be a bottom or top cohort: reported and not a ``pooled`` mix."""
        return [c for c in self.reported if c not in set(self.pooled)]

    def merge_small(self, min_speakers: int = MIN_SPEAKERS) -> Partition:
        """Pool the cohorts with fewer than ``min_speakers`` speakers into ``"other"``.

        Parameters
        ----------
        min_speakers : int, default 30
            Smallest cohort reported on its own.

        Returns
        -------
        Partition
            A new partition. Its ``"other"`` cohort (definition
            ``"cohorts under N speakers, pooled"``) holds every speaker of the small
            cohorts; when ``"other"`` itself has fewer than ``min_speakers`` speakers it
            is listed in ``unreported`` (assigned, counted in shares, never ranked). When
            no cohort is small the partition is returned unchanged (as a copy).
            If an existing cohort large enough to stay is already called ``"other"``, the
            pool is called ``"other (pooled)"``. The pool is listed in ``pooled``: it is
            never a bottom or top cohort.
        """
        return merge_small(self, min_speakers)


def merge_small(partition: Partition, min_speakers: int = MIN_SPEAKERS) -> Partition:
    """Function form of :meth:`Partition.merge_small`."""
    if isinstance(min_speakers, bool) or not isinstance(min_speakers, int) or min_speakers < 1:
        raise InputError(BAD_MIN_SPEAKERS.format(value=min_speakers))
    sizes = partition.sizes
    small = set(sizes.index[sizes < min_speakers])
    if not small:
        return replace(partition, labels=partition.labels.copy(), definitions=dict(partition.definitions))
    kept = [c for c in partition.cohorts if c not in small]
    pool = OTHER if OTHER not in kept else f"{OTHER} (pooled)"
    labels = partition.labels.where(~partition.labels.isin(small), pool)
    definitions = {c: partition.definitions[c] for c in kept}
    definitions[pool] = OTHER_DEFINITION.format(min_speakers=min_speakers)
    pooled_size = int(sizes[list(small)].sum())
    unreported = tuple(c for c in partition.unreported if c in kept)
    if pooled_size < min_speakers:
        unreported = (*unreported, pool)
    pooled = (*(c for c in partition.pooled if c in kept), pool)
    return replace(partition, labels=labels, definitions=definitions, unreported=unreported, pooled=pooled)


def partition_from_column(
    speakers: pd.DataFrame,
    column: str,
    *,
    method: str | None = None,
    definitions: Mapping[str, str] | None = None,
) -> Partition:
    """A partition of a speaker table by the values of one of its columns.

    Speakers whose value is missing are counted in ``excluded`` as ``"no <column>"``.

    Parameters
    ----------
    speakers : DataFrame
        A speaker table (``speaker_id`` plus ``column``).
    column : str
        The attribute to partition by (``gender``, ``device``, ...).
    method : str, optional
        Defaults to ``"attribute:<column>"``.
    definitions : mapping, optional
        Label -> definition; defaults to ``"<column> = <value>"``.
    """
    for name in ("speaker_id", column):
        if name not in speakers.columns:
            raise InputError(f"missing required column {name!r}", column=name)
    values = speakers[column]
    present = values.notna().to_numpy()
    labels = pd.Series(
        values[present].astype(str).to_numpy(dtype=object),
        index=speakers["speaker_id"][present].astype(str).to_numpy(dtype=object),
    )
    defs = {v: f"{column} = {v}" for v in labels.unique()}
    if definitions:
        defs.update({str(k): str(v) for k, v in definitions.items()})
    missing = int((~present).sum())
    return Partition(
        method=method or f"attribute:{column}",
        labels=labels,
        definitions=defs,
        excluded={f"no {column}": missing} if missing else {},
    )
