"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("WERGAP_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The project's read-only real data (../shared/data); skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (set WERGAP_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _drop_broken_lazy_modules():
    """Remove SpeechBrain's lazy modules whose optional dependency is missing (e.g. k2).

    Importing speechbrain puts lazy placeholders (LazyModule, DeprecatedModuleRedirect) in ``sys.modules`` that raise
    ImportError on any attribute access; Hypothesis scans ``sys.modules`` for constants
    and would fail every property test that runs after an embedding test.
    """
    yield
    import sys
    import warnings

    for name in [n for n in sys.modules if n.startswith("speechbrain")]:
        module = sys.modules.get(name)
        if type(module) is type(sys):  # a real module, already imported
            continue
        try:
            with warnings.catch_warnings():  # a redirect warns as it resolves
                warnings.simplefilter("ignore")
                getattr(module, "__file__", None)
        except ImportError:
            del sys.modules[name]
