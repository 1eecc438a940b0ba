"""Cohort discovery methods: geographic tree, census splits, embedding k-means."""

from wergap.discovery.census_splits import SPLIT_COLUMNS, CensusSplits
from wergap.discovery.embedding_kmeans import EmbeddingKMeans
from wergap.discovery.geo_tree import GeoTree

__all__ = [
    "SPLIT_COLUMNS",
    "CensusSplits",
    "EmbeddingKMeans",
    "GeoTree",
]
