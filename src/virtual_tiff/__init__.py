"""TIFF, GeoTIFF and COG files as virtual Zarr stores, without copying pixel data.

Importing virtual_tiff makes its codec pipeline (:class:`virtual_tiff.read.TIFFCodecPipeline`)
zarr's default, unless ``codec_pipeline.path`` already names another pipeline than zarr's own
default: reads from our stores are then planned whole, and every other store reads exactly as
with zarr's pipeline. To opt out, set ``codec_pipeline.path`` after this import (see
:mod:`virtual_tiff.read._config`).
"""

from virtual_tiff._version import __version__
from virtual_tiff.errors import (
    CorruptChunkError,
    GridAlignmentError,
    IFDLoopError,
    LimitExceededError,
    MalformedTIFFError,
    MixedGridsError,
    NotATIFFError,
    SourceChangedError,
    SourceNotFoundError,
    SourceReadError,
    TruncatedTIFFError,
    UnsupportedTIFFError,
    VirtualTIFFError,
)
from virtual_tiff.parser import VirtualTIFF
from virtual_tiff.read import (
    CoalesceOptions,
    TIFFManifestStore,
    fast_read_config,
    use_by_default,
)
from virtual_tiff.stacks import (
    ReadOptions,
    load_stac,
    open_mfdataset,
    open_multiscale,
    open_stac,
    open_virtual,
    open_virtual_mfdataset,
    open_virtual_mftree,
    open_virtual_multiscale,
)
from virtual_tiff.tiff import Limits
from virtual_tiff.writers.icechunk import repository_config as icechunk_config
from virtual_tiff.writers.icechunk import to_icechunk
from virtual_tiff.writers.kerchunk import to_kerchunk

use_by_default()

__all__ = [
    "CoalesceOptions",
    "CorruptChunkError",
    "GridAlignmentError",
    "IFDLoopError",
    "LimitExceededError",
    "Limits",
    "MalformedTIFFError",
    "MixedGridsError",
    "NotATIFFError",
    "ReadOptions",
    "SourceChangedError",
    "SourceNotFoundError",
    "SourceReadError",
    "TIFFManifestStore",
    "TruncatedTIFFError",
    "UnsupportedTIFFError",
    "VirtualTIFF",
    "VirtualTIFFError",
    "__version__",
    "fast_read_config",
    "icechunk_config",
    "load_stac",
    "open_mfdataset",
    "open_multiscale",
    "open_stac",
    "open_virtual",
    "open_virtual_mfdataset",
    "open_virtual_mftree",
    "open_virtual_multiscale",
    "to_icechunk",
    "to_kerchunk",
]
