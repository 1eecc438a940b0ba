"""Partitions of speakers into cohorts, and the statistics that rank them."""
