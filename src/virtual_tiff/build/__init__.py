"""typed IFDs -> Zarr arrays and groups: the metadata and chunk manifests of the virtual store.

``_dtypes`` (BitsPerSample + SampleFormat -> dtype) and ``_chunks`` (tiles or strips -> a regular
chunk grid and its manifest) -> ``_chains`` (**the codec decision table**: Compression,
Predictor, layout and dtype -> a Zarr v3 codec chain) -> ``_tiff_attrs`` / ``_band_attrs`` (TIFF
and CF attributes) -> ``_array`` (one IFD, one array) -> ``_coords`` (``spatial_ref`` and inlined
``x``/``y``) -> ``_images`` (one image: data, mask, coordinates, what overviews inherit) ->
``_layouts`` (the hierarchies: one IFD, all side by side, a tree) -> ``_cache`` (one build per
header signature) and ``_dataset`` (a build as the Dataset stacks combine).
"""

from virtual_tiff.build._array import ifd_to_array, with_attrs, with_dims
from virtual_tiff.build._band_attrs import METADATA_KEYS
from virtual_tiff.build._cache import Build, BuildCache, own_manifests, signature
from virtual_tiff.build._chains import ChunkEncoding, chunk_encoding, codec_chain, decoded_photometric
from virtual_tiff.build._chunks import ChunkGrid, chunk_grid, image_size, manifest_of
from virtual_tiff.build._coords import SPATIAL_REF, inlined_array
from virtual_tiff.build._dataset import Template, virtual_dataset
from virtual_tiff.build._dtypes import SampleType, sample_type
from virtual_tiff.build._images import MASK_VARIABLE, Inherited, describe
from virtual_tiff.build._layouts import NESTED_VARIABLE, flat, nested, single

__all__ = [
    "image_size",
    "inlined_array",
    "MASK_VARIABLE",
    "METADATA_KEYS",
    "NESTED_VARIABLE",
    "SPATIAL_REF",
    "Build",
    "BuildCache",
    "ChunkEncoding",
    "ChunkGrid",
    "Inherited",
    "SampleType",
    "Template",
    "chunk_encoding",
    "chunk_grid",
    "codec_chain",
    "decoded_photometric",
    "describe",
    "flat",
    "ifd_to_array",
    "manifest_of",
    "nested",
    "own_manifests",
    "sample_type",
    "signature",
    "single",
    "virtual_dataset",
    "with_attrs",
    "with_dims",
]
