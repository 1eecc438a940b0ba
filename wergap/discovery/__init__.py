"""Cohort discovery methods: geographic tree, geographic hot spots, census splits, embedding k-means.

Each method is a module defining a scikit-learn-style estimator and its registry entry
(:mod:`wergap.discovery.registry`). The estimators are imported on first use, so reading
the registry (the CLI's ``--methods`` choices) does not load scikit-learn.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> module that defines it.
_EXPORTS = {
    "SPLIT_COLUMNS": "census_splits",
    "CensusSplits": "census_splits",
    "EmbeddingKMeans": "embedding_kmeans",
    "GeoScan": "geo_scan",
    "GeoTree": "geo_tree",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"wergap.discovery.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'wergap.discovery' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
