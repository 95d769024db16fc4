"""TIFF, GeoTIFF and COG files as virtual Zarr stores, without copying pixel data.

The public names load on first use (PEP 562): ``import virtual_tiff`` alone, or the command
line's ``--help``, does not pay for xarray, VirtualiZarr and pyproj. Loading the read side
(:mod:`virtual_tiff.read`, which every store, parser and opener needs) makes its codec pipeline
(:class:`virtual_tiff.read.TIFFCodecPipeline`) zarr's default, unless ``codec_pipeline.path``
already names another pipeline than zarr's own default: reads from our stores are then planned
whole, and every other store reads exactly as with zarr's pipeline. To opt out, set
``codec_pipeline.path`` after that (see :mod:`virtual_tiff.read._config`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from virtual_tiff._version import __version__
from virtual_tiff.errors import (
    CorruptChunkError,
    GridAlignmentError,
    IFDLoopError,
    IncompatibleFilesError,
    LimitExceededError,
    MalformedTIFFError,
    MissingIFDError,
    MixedGridsError,
    NotATIFFError,
    SourceChangedError,
    SourceNotFoundError,
    SourceReadError,
    TruncatedTIFFError,
    UnknownCRSWarning,
    UnsupportedTIFFError,
    VirtualTIFFError,
)

if TYPE_CHECKING:
    from virtual_tiff.parser import VirtualTIFF
    from virtual_tiff.read import CoalesceOptions, TIFFManifestStore, fast_read_config
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

#: Where each lazily loaded public name lives: (module, attribute).
_LAZY: dict[str, tuple[str, str]] = {
    "VirtualTIFF": ("virtual_tiff.parser", "VirtualTIFF"),
    "CoalesceOptions": ("virtual_tiff.read", "CoalesceOptions"),
    "TIFFManifestStore": ("virtual_tiff.read", "TIFFManifestStore"),
    "fast_read_config": ("virtual_tiff.read", "fast_read_config"),
    "use_by_default": ("virtual_tiff.read", "use_by_default"),
    "Limits": ("virtual_tiff.tiff", "Limits"),
    "icechunk_config": ("virtual_tiff.writers.icechunk", "repository_config"),
    "to_icechunk": ("virtual_tiff.writers.icechunk", "to_icechunk"),
    "to_kerchunk": ("virtual_tiff.writers.kerchunk", "to_kerchunk"),
    **{
        name: ("virtual_tiff.stacks", name)
        for name in (
            "ReadOptions",
            "load_stac",
            "open_mfdataset",
            "open_multiscale",
            "open_stac",
            "open_virtual",
            "open_virtual_mfdataset",
            "open_virtual_mftree",
            "open_virtual_multiscale",
        )
    },
}


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'virtual_tiff' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "CoalesceOptions",
    "CorruptChunkError",
    "GridAlignmentError",
    "IFDLoopError",
    "IncompatibleFilesError",
    "LimitExceededError",
    "Limits",
    "MalformedTIFFError",
    "MissingIFDError",
    "MixedGridsError",
    "NotATIFFError",
    "ReadOptions",
    "SourceChangedError",
    "SourceNotFoundError",
    "SourceReadError",
    "TIFFManifestStore",
    "TruncatedTIFFError",
    "UnknownCRSWarning",
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
