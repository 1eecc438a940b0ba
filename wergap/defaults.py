"""Defaults every floor shares, written once (the design's numbers, ``docs/definitions.md``)."""

#: Smallest cohort reported on its own (DESIGN: for statistical reliability, and so that no
#: report singles out a few people). Every statistic wergap outputs covers at least this many.
MIN_SPEAKERS = 30
#: Bootstrap resamples and interval coverage of every confidence interval.
N_BOOT = 1000
CONFIDENCE = 0.95
#: Seed of every random choice (estimators, bootstrap, held-out split) unless given.
SEED = 0
#: Smallest group of a known attribute (gender, accent, site, ...) given a WER of its own. A
#: value with fewer speakers is still listed by name with its count and "too few speakers",
#: never merged with unrelated values (DESIGN: known attributes get their own floor).
MIN_GROUP_SPEAKERS = 10
#: A bottom cohort is a target for mitigation: for a binary split, a worse side holding more
#: than this share of the speakers is never chosen as the bottom cohort.
MAX_BOTTOM_SHARE = 0.5
