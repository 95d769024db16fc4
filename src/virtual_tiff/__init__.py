"""TIFF, GeoTIFF and COG files as virtual Zarr stores, without copying pixel data."""

from virtual_tiff.errors import (
    GridAlignmentError,
    IFDLoopError,
    LimitExceededError,
    MalformedTIFFError,
    MixedGridsError,
    NotATIFFError,
    SourceChangedError,
    SourceReadError,
    TruncatedTIFFError,
    UnsupportedTIFFError,
    VirtualTIFFError,
)
from virtual_tiff.parser import VirtualTIFF
from virtual_tiff.pipeline import use_by_default
from virtual_tiff.stac import open_stac
from virtual_tiff.stack import open_virtual_mfdataset, open_virtual_mftree
from virtual_tiff.store import CoalesceOptions, TIFFManifestStore, fast_read_config
from virtual_tiff.writers.icechunk import to_icechunk
from virtual_tiff.writers.kerchunk import to_kerchunk
from virtual_tiff.tiff.reader import Limits

__version__ = "0.1.0"

use_by_default()

__all__ = [
    "CoalesceOptions",
    "GridAlignmentError",
    "IFDLoopError",
    "LimitExceededError",
    "Limits",
    "MalformedTIFFError",
    "MixedGridsError",
    "NotATIFFError",
    "SourceChangedError",
    "SourceReadError",
    "TIFFManifestStore",
    "TruncatedTIFFError",
    "UnsupportedTIFFError",
    "VirtualTIFF",
    "VirtualTIFFError",
    "__version__",
    "fast_read_config",
    "open_stac",
    "open_virtual_mfdataset",
    "open_virtual_mftree",
    "to_icechunk",
    "to_kerchunk",
]
