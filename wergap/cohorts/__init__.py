"""Partitions of speakers into cohorts, and the statistics that rank them."""

from wergap.cohorts.partition import OTHER, OTHER_DEFINITION, Partition, merge_small, partition_from_column

__all__ = ["OTHER", "OTHER_DEFINITION", "Partition", "merge_small", "partition_from_column"]
