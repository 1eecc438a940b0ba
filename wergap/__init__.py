"""wergap: find the speakers a speech recognizer serves worst.

The public API; implementation lives in the sub-packages (``data_schemas`` → ``scoring``
→ ``discovery`` → ``cohorts`` → ``reports``)::

    import wergap as wg
    log = wg.read_log("decode.tsv")
    scored = wg.score(log)
    spk = wg.speakers(scored)
    audit = wg.audit(scored, census=wg.read_census("zcta.csv"))
"""

from wergap._version import __version__
from wergap.audit import Audit, audit
from wergap.cohorts import (
    GapSummary,
    HeldOutGap,
    Partition,
    cohort_table,
    disaggregate,
    gap_summary,
    held_out_gap,
    merge_small,
    overall_wer,
)
from wergap.comparison import (
    CheckResult,
    Comparison,
    bottom_utterances,
    check,
    compare,
    oversampling_weights,
    partitions_from_assignments,
    speaker_cohort_ids,
    utterance_cohorts,
)
from wergap.data_schemas import (
    attach_embeddings,
    normalize_zip,
    read_census,
    read_embeddings,
    read_log,
)
from wergap.demo import make_example, run_demo, write_example
from wergap.discovery import CensusSplits, EmbeddingKMeans, GeoTree
from wergap.embeddings.embed import embed_audio, write_embeddings
from wergap.engines import score_speakers
from wergap.errors import InputError, WergapError
from wergap.reports import render_html, write_exports, write_html
from wergap.scoring import corpus_wer, normalize, score
from wergap.speaker_table import speakers

__all__ = [
    "__version__",
    "Audit",
    "CensusSplits",
    "CheckResult",
    "Comparison",
    "EmbeddingKMeans",
    "GapSummary",
    "GeoTree",
    "HeldOutGap",
    "InputError",
    "Partition",
    "WergapError",
    "attach_embeddings",
    "audit",
    "bottom_utterances",
    "check",
    "cohort_table",
    "compare",
    "corpus_wer",
    "disaggregate",
    "embed_audio",
    "gap_summary",
    "held_out_gap",
    "make_example",
    "merge_small",
    "normalize",
    "normalize_zip",
    "overall_wer",
    "oversampling_weights",
    "partitions_from_assignments",
    "read_census",
    "read_embeddings",
    "read_log",
    "render_html",
    "run_demo",
    "score",
    "score_speakers",
    "speaker_cohort_ids",
    "speakers",
    "utterance_cohorts",
    "write_example",
    "write_exports",
    "write_embeddings",
    "write_html",
]
