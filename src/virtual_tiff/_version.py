"""The package version, recorded in every store's provenance attribute."""

__version__ = "0.1.0"
