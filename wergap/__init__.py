"""wergap: find the speakers a speech recognizer serves worst.

Public API; implementation lives in the sub-packages.
"""

from wergap.data_schemas import InputError, WergapError

__version__ = "0.1.0"

__all__ = ["InputError", "WergapError", "__version__"]
