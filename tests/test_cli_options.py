"""The CLI's option choices equal the library's (argparse shows them without importing it)."""

from __future__ import annotations

from wergap.cli import _options
from wergap.data_schemas.log import FORMATS
from wergap.engines import ENGINES
from wergap.scoring import NORMALIZATIONS, UNITS


def test_choices_match_the_library():
    assert (_options.FORMATS, _options.NORMALIZATIONS, _options.UNITS) == (FORMATS, NORMALIZATIONS, UNITS)
    assert _options.ENGINES == ENGINES
