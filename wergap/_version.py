"""The version of wergap, importable without loading the library (`wergap --version`)."""

__version__ = "0.1.0"
