"""wergap: find the speakers a speech recognizer serves worst.

The public API; implementation lives in the sub-packages (``data_schemas`` → ``scoring``
→ ``discovery`` → ``cohorts`` → ``reports``)::

    import wergap as wg
    log = wg.read_log("decode.tsv")
    scored = wg.score(log)
    spk = wg.speakers(scored)
    audit = wg.audit(scored, census=wg.read_census("zcta.csv"))

Names load on first use (PEP 562): ``import wergap`` itself imports no pandas, numpy,
scikit-learn, numba or matplotlib, so the ``wergap`` command starts at once.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from wergap._version import __version__

# public name -> the module that defines it
_WHERE = {
    "Audit": "wergap.audit",
    "audit": "wergap.audit",
    "CheckResult": "wergap.comparison",
    "Comparison": "wergap.comparison",
    "SystemsComparison": "wergap.comparison",
    "compare_systems": "wergap.comparison",
    "AdjustedGap": "wergap.cohorts",
    "adjusted_gap": "wergap.cohorts",
    "cohort_profile": "wergap.cohorts",
    "error_profile": "wergap.cohorts",
    "GapSummary": "wergap.cohorts",
    "HeldOutGap": "wergap.cohorts",
    "Partition": "wergap.cohorts",
    "bottom_utterances": "wergap.comparison",
    "check": "wergap.comparison",
    "cohort_table": "wergap.cohorts",
    "compare": "wergap.comparison",
    "disaggregate": "wergap.cohorts",
    "gap_summary": "wergap.cohorts",
    "held_out_gap": "wergap.cohorts",
    "merge_small": "wergap.cohorts",
    "overall_wer": "wergap.cohorts",
    "oversampling_weights": "wergap.comparison",
    "partitions_from_assignments": "wergap.comparison",
    "speaker_cohort_ids": "wergap.comparison",
    "utterance_cohorts": "wergap.comparison",
    "InputError": "wergap.errors",
    "WergapError": "wergap.errors",
    "attach_embeddings": "wergap.data_schemas",
    "normalize_zip": "wergap.data_schemas",
    "read_census": "wergap.data_schemas",
    "read_embeddings": "wergap.data_schemas",
    "read_log": "wergap.data_schemas",
    "score_speakers": "wergap.engines",
    "make_example": "wergap.demo",
    "run_demo": "wergap.demo",
    "write_example": "wergap.demo",
    "CensusSplits": "wergap.discovery",
    "EmbeddingKMeans": "wergap.discovery",
    "GeoScan": "wergap.discovery",
    "GeoTree": "wergap.discovery",
    "embed_audio": "wergap.embeddings.embed",
    "write_embeddings": "wergap.embeddings.embed",
    "render_html": "wergap.reports",
    "write_exports": "wergap.reports",
    "write_html": "wergap.reports",
    "corpus_wer": "wergap.scoring",
    "normalize": "wergap.scoring",
    "score": "wergap.scoring",
    "speakers": "wergap.speaker_table",
}

__all__ = [
    "__version__",
    "SystemsComparison",
    "compare_systems",
    "AdjustedGap",
    "adjusted_gap",
    "cohort_profile",
    "error_profile",
    "attach_embeddings",
    "Audit",
    "audit",
    "bottom_utterances",
    "CensusSplits",
    "check",
    "CheckResult",
    "cohort_table",
    "compare",
    "Comparison",
    "corpus_wer",
    "disaggregate",
    "embed_audio",
    "EmbeddingKMeans",
    "gap_summary",
    "GapSummary",
    "GeoScan",
    "GeoTree",
    "held_out_gap",
    "HeldOutGap",
    "InputError",
    "make_example",
    "merge_small",
    "normalize",
    "normalize_zip",
    "overall_wer",
    "oversampling_weights",
    "Partition",
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
    "WergapError",
    "write_embeddings",
    "write_example",
    "write_exports",
    "write_html",
]


class _Package(types.ModuleType):
    """The ``wergap`` module, whose function ``audit`` outlives the import of its submodule.

    Importing ``wergap.audit`` (the module) sets the package's ``audit`` attribute to that
    module; the eager ``__init__`` this package had rebound it to the function afterwards,
    and users call ``wg.audit(...)``. Here the function replaces the module as it is set.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)


# Public functions named like the submodule that defines them.
_SHADOWED = frozenset({"audit"})
sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    """Import a public name's module on first access (PEP 562)."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'wergap' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


# Functions named like their module (cohort_profile, compare) are imported from that module:
# mypy reads ``from wergap.cohorts import cohort_profile`` as the submodule too (no-redef).
if TYPE_CHECKING:  # static analysers and IDEs see the eager imports
    from wergap.audit import Audit, audit
    from wergap.cohorts import (
        AdjustedGap,
        GapSummary,
        HeldOutGap,
        Partition,
        adjusted_gap,
        cohort_table,
        gap_summary,
        held_out_gap,
        merge_small,
        overall_wer,
    )
    from wergap.cohorts.cohort_profile import cohort_profile
    from wergap.cohorts.disaggregate import disaggregate
    from wergap.cohorts.error_profile import error_profile
    from wergap.comparison import (
        CheckResult,
        Comparison,
        SystemsComparison,
        bottom_utterances,
        check,
        compare_systems,
        oversampling_weights,
        partitions_from_assignments,
        speaker_cohort_ids,
        utterance_cohorts,
    )
    from wergap.comparison.compare import compare
    from wergap.data_schemas import attach_embeddings, normalize_zip, read_census, read_embeddings, read_log
    from wergap.demo import make_example, run_demo, write_example
    from wergap.discovery import CensusSplits, EmbeddingKMeans, GeoScan, GeoTree
    from wergap.embeddings.embed import embed_audio, write_embeddings
    from wergap.engines import score_speakers
    from wergap.errors import InputError, WergapError
    from wergap.reports import render_html, write_exports, write_html
    from wergap.scoring import corpus_wer, normalize, score
    from wergap.speaker_table import speakers
