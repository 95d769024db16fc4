"""TIFF, GeoTIFF and COG files as virtual Zarr stores, without copying pixel data."""

from virtual_tiff.errors import (
    IFDLoopError,
    LimitExceededError,
    MalformedTIFFError,
    NotATIFFError,
    SourceChangedError,
    SourceReadError,
    TruncatedTIFFError,
    UnsupportedTIFFError,
    VirtualTIFFError,
)
from virtual_tiff.parser import VirtualTIFF
from virtual_tiff.stack import open_virtual_mfdataset
from virtual_tiff.writers.icechunk import to_icechunk
from virtual_tiff.writers.kerchunk import to_kerchunk
from virtual_tiff.tiff.reader import Limits

__version__ = "0.1.0"

__all__ = [
    "IFDLoopError",
    "LimitExceededError",
    "Limits",
    "MalformedTIFFError",
    "NotATIFFError",
    "SourceChangedError",
    "SourceReadError",
    "TruncatedTIFFError",
    "UnsupportedTIFFError",
    "VirtualTIFF",
    "VirtualTIFFError",
    "__version__",
    "open_virtual_mfdataset",
    "to_icechunk",
    "to_kerchunk",
]
