"""Partition checks itself; merge_small pools small cohorts into 'other'."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wergap.cohorts import OTHER, OTHER_DEFINITION, Partition, merge_small, partition_from_column
from wergap.cohorts import partition as partition_module
from wergap.data_schemas import InputError


def labels(spec: dict[str, int]) -> pd.Series:
    values = np.repeat(list(spec), list(spec.values()))
    return pd.Series(values, index=[f"s{i}" for i in range(len(values))])


def test_labels_are_normalised_and_sizes_counted():
    part = Partition("m", labels({"a": 3, "b": 2}), {"a": "A", "b": "B"}, {"no lat/lon": np.int64(4)})
    assert part.labels.name == "cohort"
    assert part.labels.index.name == "speaker_id"
    assert part.cohorts == ["a", "b"]
    assert part.sizes.to_dict() == {"a": 3, "b": 2}
    assert part.excluded == {"no lat/lon": 4}
    assert part.reported == ["a", "b"]


BAD_PARTITIONS = [
    ("not a series", dict(labels=["a"], definitions={"a": "A"}), partition_module.LABELS_NOT_SERIES.split("{")[0]),
    (
        "int speaker ids",
        dict(labels=pd.Series(["a"], index=[7]), definitions={"a": "A"}),
        "speaker ids must be strings",
    ),
    (
        "duplicate speaker",
        dict(labels=pd.Series(["a", "b"], index=["s1", "s1"]), definitions={"a": "A", "b": "B"}),
        partition_module.DUPLICATE_SPEAKER.format(speaker="s1"),
    ),
    (
        "missing label",
        dict(labels=pd.Series(["a", None], index=["s1", "s2"]), definitions={"a": "A"}),
        "cohort labels must be non-missing strings",
    ),
    (
        "int labels",
        dict(labels=pd.Series([1, 2], index=["s1", "s2"]), definitions={"1": "A", "2": "B"}),
        "cohort labels must be non-missing strings",
    ),
    (
        "undefined cohort",
        dict(labels=pd.Series(["a", "b"], index=["s1", "s2"]), definitions={"a": "A"}),
        partition_module.MISSING_DEFINITION.format(cohort="b"),
    ),
    (
        "negative excluded",
        dict(labels=labels({"a": 1}), definitions={"a": "A"}, excluded={"x": -1}),
        "Partition.excluded must map",
    ),
    (
        "unreported unknown",
        dict(labels=labels({"a": 1}), definitions={"a": "A"}, unreported=("zzz",)),
        partition_module.UNKNOWN_UNREPORTED.format(cohort="zzz"),
    ),
]


@pytest.mark.parametrize(("case", "kwargs", "message"), BAD_PARTITIONS, ids=[c[0] for c in BAD_PARTITIONS])
def test_bad_partitions_raise_input_error(case, kwargs, message):
    with pytest.raises(InputError) as err:
        Partition("m", **kwargs)
    assert message in str(err.value)


MERGE_CASES = [
    # sizes, min_speakers, expected sizes after, expected unreported
    ({"a": 40, "b": 35}, 30, {"a": 40, "b": 35}, ()),
    ({"a": 40, "b": 20, "c": 15}, 30, {"a": 40, OTHER: 35}, ()),
    ({"a": 40, "b": 5, "c": 10}, 30, {"a": 40, OTHER: 15}, (OTHER,)),
    ({"a": 4, "b": 5}, 30, {OTHER: 9}, (OTHER,)),
    ({OTHER: 50, "b": 5, "c": 40}, 30, {OTHER: 50, "c": 40, f"{OTHER} (pooled)": 5}, (f"{OTHER} (pooled)",)),
]


@pytest.mark.parametrize(("spec", "min_speakers", "expected", "unreported"), MERGE_CASES)
def test_merge_small(spec, min_speakers, expected, unreported):
    definitions = {c: f"def {c}" for c in spec}
    part = Partition("m", labels(spec), definitions, {"no zip": 3})
    merged = part.merge_small(min_speakers)
    assert merged.sizes.to_dict() == expected
    assert merged.unreported == unreported
    assert merged.excluded == {"no zip": 3}
    # every speaker keeps a label; nobody is lost or invented
    assert merged.labels.index.equals(part.labels.index)
    for cohort in expected:
        if cohort in spec and spec[cohort] >= min_speakers:
            assert merged.definitions[cohort] == definitions[cohort]
        else:
            assert merged.definitions[cohort] == OTHER_DEFINITION.format(min_speakers=min_speakers)
    assert set(merged.reported) == set(expected) - set(unreported)
    # the function form agrees and the original is untouched
    assert merge_small(part, min_speakers).sizes.to_dict() == expected
    assert part.sizes.to_dict() == {k: v for k, v in sorted(spec.items(), key=lambda kv: -kv[1])}


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_merge_small_rejects_bad_threshold(bad):
    part = Partition("m", labels({"a": 3}), {"a": "A"})
    with pytest.raises(InputError, match="min_speakers must be a positive integer"):
        part.merge_small(bad)


def test_partition_from_column_counts_missing_values():
    speakers = pd.DataFrame({"speaker_id": ["1", "2", "3", "4"], "gender": ["f", None, "m", "f"]})
    part = partition_from_column(speakers, "gender")
    assert part.method == "attribute:gender"
    assert part.labels.to_dict() == {"1": "f", "3": "m", "4": "f"}
    assert part.definitions == {"f": "gender = f", "m": "gender = m"}
    assert part.excluded == {"no gender": 1}
