"""One IFD -> one virtual Zarr array: metadata, codec chain and chunk manifest together."""

from __future__ import annotations

import dataclasses

from virtualizarr.manifests import ManifestArray
from virtualizarr.manifests.utils import create_v3_array_metadata

from virtual_tiff.build._chains import chunk_encoding, codec_chain
from virtual_tiff.build._chunks import chunk_grid, manifest_of
from virtual_tiff.build._dtypes import sample_type
from virtual_tiff.build._tiff_attrs import tiff_attributes
from virtual_tiff.tiff import IFD


def ifd_to_array(
    ifd: IFD, *, object_size: int, attributes: dict | None = None, fill_value: int | float | None = None
) -> ManifestArray:
    """The virtual array of an IFD, or the error that says why it cannot be one."""
    sample = sample_type(ifd)
    grid = chunk_grid(ifd)
    encoding = chunk_encoding(ifd, sample, grid)
    codecs = codec_chain(encoding, ifd)
    manifest = manifest_of(ifd, grid, sample, encoding.compression, object_size)
    metadata = create_v3_array_metadata(
        shape=grid.shape,
        data_type=sample.dtype,
        chunk_shape=grid.chunk_shape,
        fill_value=fill_value,
        codecs=codecs,
        attributes={**tiff_attributes(ifd), **(attributes or {})},
        dimension_names=grid.dims,
    )
    return ManifestArray(metadata=metadata, chunkmanifest=manifest)


def with_dims(array: ManifestArray, dims: tuple[str, ...]) -> ManifestArray:
    """The same virtual array under other dimension names."""
    metadata = dataclasses.replace(array.metadata, dimension_names=dims)
    return ManifestArray(metadata=metadata, chunkmanifest=array.manifest)


def with_attrs(array: ManifestArray, attrs: dict[str, object]) -> ManifestArray:
    """The same virtual array with more attributes."""
    metadata = dataclasses.replace(array.metadata, attributes={**array.metadata.attributes, **attrs})
    return ManifestArray(metadata=metadata, chunkmanifest=array.manifest)
