"""Defaults every floor shares, written once (the design's numbers, ``docs/definitions.md``)."""

#: Smallest cohort reported on its own (DESIGN: for statistical reliability, and so that no
#: report singles out a few people). Every statistic wergap outputs covers at least this many.
MIN_SPEAKERS = 30
#: Bootstrap resamples and interval coverage of every confidence interval.
N_BOOT = 1000
CONFIDENCE = 0.95
#: Seed of every random choice (estimators, bootstrap, held-out split) unless given.
SEED = 0
