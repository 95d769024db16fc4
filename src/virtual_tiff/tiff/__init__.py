"""bytes -> typed IFDs: the TIFF layer, which knows nothing of Zarr.

``_tags`` (the spec's tags and enums, named as tifffile names them) -> ``_header`` (byte order,
classic or BigTIFF) -> ``_fields`` (entry values) -> ``_ifd`` (:class:`IFD`, a typed view with the
spec's defaults) -> ``_walk`` (:func:`read_tiff`: the bounded IFD walk over ranged reads, within
:class:`Limits`) -> ``_chain`` (which IFDs of the main chain are images and which their masks).
"""

from virtual_tiff.tiff._chain import Image, images, is_mask, is_reduced, mask_of, walk_until_mask_of
from virtual_tiff.tiff._ifd import IFD
from virtual_tiff.tiff._tags import (
    Compression,
    ExtraSamples,
    FieldType,
    FillOrder,
    NewSubfileType,
    Photometric,
    PlanarConfiguration,
    Predictor,
    SampleFormat,
    Tag,
)
from virtual_tiff.tiff._walk import Limits, TIFFFile, flatten_ifds, read_tiff

__all__ = [
    "IFD",
    "Compression",
    "ExtraSamples",
    "FieldType",
    "FillOrder",
    "Image",
    "Limits",
    "NewSubfileType",
    "Photometric",
    "PlanarConfiguration",
    "Predictor",
    "SampleFormat",
    "TIFFFile",
    "Tag",
    "flatten_ifds",
    "images",
    "is_mask",
    "is_reduced",
    "mask_of",
    "read_tiff",
    "walk_until_mask_of",
]
