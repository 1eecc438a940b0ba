"""The registry of discovery methods: what each needs, how it is built, how it is shown.

Every surface that lists methods (``audit``, the report, the exports, ``check``,
``compare`` and the CLI's ``--methods``) iterates this registry instead of naming methods
in if/elif chains. A method is one module of :mod:`wergap.discovery` that defines a
:class:`MethodSpec` named ``SPEC``; its name is the module's name, listed once in
:data:`METHODS` (which also fixes the order methods run and are shown in). Method names are
known without importing the modules, so the CLI can offer them as choices without loading
scikit-learn.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wergap.errors import InputError

if TYPE_CHECKING:  # the CLI reads method names from here before pandas is loaded
    import pandas as pd

#: The discovery methods, in the order they run and are shown; each is a module of
#: :mod:`wergap.discovery` defining ``SPEC``.
METHODS: tuple[str, ...] = ("geo_tree", "geo_scan", "census_splits", "embedding_kmeans")

UNKNOWN_METHOD = "unknown method {method!r}; choose from {choices}"

#: Why a method cannot run, shared by the methods that read the same inputs.
NO_COORDINATES = "no lat/lon columns in the log"
NO_COORDINATES_VALUES = "no speaker has lat/lon values"
NO_CENSUS = "no census table given (census=)"
NO_ZIP = "no zip column in the log"
NO_ZIP_VALUES = "no speaker has a ZIP code"
NO_EMBEDDINGS = "no speaker embeddings (embeddings= or an 'embedding' column)"


@dataclass(frozen=True)
class MethodSpec:
    """What the rest of wergap needs to know about one discovery method.

    Parameters
    ----------
    name : str
        The method's name in every output (``"geo_tree"``); its module's name.
    title : str
        Its display name (report headings, the terminal).
    estimator : str
        The scikit-learn-style estimator class, ``"module:Class"``, imported when the
        method runs.
    needs : callable
        ``needs(speakers, inputs) -> str | None``: why the method cannot run on this
        speaker table and these extra inputs (``inputs["census"]``), or None.
    build : callable
        ``build(options) -> dict``: the estimator's parameters from ``audit()``'s options
        (``min_speakers``, ``seed``, ``max_regions``, ``n_clusters``, ``census``, ...).
    figures : tuple of str
        The report's figures of this method, by kind (``"region_map"``, ``"split_pairs"``,
        ``"embedding_scatter"``), drawn by :mod:`wergap.reports` from the fitted estimator.
    bar_label : str
        Cohort-table column that labels the WER bars (``"definition"`` or ``"cohort"``).
    geometry : str or None
        Fitted attribute holding a GeoDataFrame of the cohorts' areas, exported as GeoJSON.
    geojson : str or None
        File name of that export under ``--outdir``.
    held_out_params : mapping
        Parameters overriding ``build``'s for the held-out gap's refits, which need the
        partition only (``{"n_replicates": 0}``: the scan's p-value is not needed there).
    ranked_candidates : bool
        The estimator ranks many candidate partitions (``splits_`` and ``partitions_``):
        the audit gives the best few their own intervals for the report's chart.
    description : str
        One paragraph for the report: what the method looks for.
    """

    name: str
    title: str
    estimator: str
    needs: Callable[[pd.DataFrame, Mapping[str, Any]], str | None]
    build: Callable[[Mapping[str, Any]], dict[str, Any]]
    figures: tuple[str, ...] = ()
    bar_label: str = "definition"
    geometry: str | None = None
    geojson: str | None = None
    ranked_candidates: bool = False
    description: str = ""
    held_out_params: Mapping[str, Any] = field(default_factory=dict)

    def estimator_class(self) -> type:
        """Import and return the estimator class (``ImportError`` when an extra is missing)."""
        module, _, name = self.estimator.partition(":")
        return getattr(importlib.import_module(module), name)

    def make(self, options: Mapping[str, Any]) -> Any:
        """A new, unfitted estimator built from ``audit()``'s options."""
        return self.estimator_class()(**self.build(options))


def check_method(name: str) -> str:
    """``name`` if it is a registered method, else an :class:`InputError` listing them."""
    if name not in METHODS:
        raise InputError(UNKNOWN_METHOD.format(method=name, choices=", ".join(METHODS)))
    return name


def get(name: str) -> MethodSpec:
    """The :class:`MethodSpec` of method ``name`` (imports its module)."""
    check_method(name)
    spec = importlib.import_module(f"wergap.discovery.{name}").SPEC
    if not isinstance(spec, MethodSpec) or spec.name != name:
        raise TypeError(f"wergap.discovery.{name}.SPEC must be the MethodSpec of {name!r}")
    return spec


def specs() -> list[MethodSpec]:
    """Every registered method's spec, in :data:`METHODS` order."""
    return [get(name) for name in METHODS]


def title(name: str) -> str:
    """Display name of ``name`` (the name itself for a method not registered)."""
    return get(name).title if name in METHODS else name


# ---------------------------------------------------------------- shared input checks


def has_values(speakers: pd.DataFrame, *columns: str) -> bool:
    """Whether at least one speaker has every one of ``columns`` present."""
    return bool(speakers[list(columns)].notna().all(axis=1).any())


def needs_coordinates(speakers: pd.DataFrame, inputs: Mapping[str, Any]) -> str | None:
    """Why a geographic method cannot run: no lat/lon columns, or no values in them."""
    if not {"lat", "lon"} <= set(speakers.columns):
        return NO_COORDINATES
    if not has_values(speakers, "lat", "lon"):
        return NO_COORDINATES_VALUES
    return None


def needs_census(speakers: pd.DataFrame, inputs: Mapping[str, Any]) -> str | None:
    """Why the census splits cannot run: no census table, no zip column or no ZIP values."""
    if inputs.get("census") is None:
        return NO_CENSUS
    if "zip" not in speakers.columns:
        return NO_ZIP
    if not has_values(speakers, "zip"):
        return NO_ZIP_VALUES
    return None


def needs_embeddings(speakers: pd.DataFrame, inputs: Mapping[str, Any]) -> str | None:
    """Why an embedding method cannot run: no ``embedding`` column."""
    return None if "embedding" in speakers.columns else NO_EMBEDDINGS
