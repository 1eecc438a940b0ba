"""The version of wergap, importable without loading the library (`wergap --version`);
pyproject.toml reads it from here."""

__version__ = "0.1.0"
