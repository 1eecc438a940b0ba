"""Cohort discovery methods: geographic tree, census splits, embedding k-means."""
