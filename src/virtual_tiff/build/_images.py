"""One image of a TIFF -> its Zarr arrays: data, mask, ``spatial_ref``, ``x`` and ``y``.

Overviews and SubIFDs carry neither GeoKeys nor GDAL metadata: they inherit the full
resolution image's CRS (transform scaled by the size ratio), nodata and band metadata, as
GDAL's overview levels do. Pages of a multi-page TIFF inherit nothing.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from virtualizarr.manifests import ManifestArray

from virtual_tiff.build._array import ifd_to_array, with_attrs, with_dims
from virtual_tiff.build._band_attrs import band_attributes
from virtual_tiff.build._chunks import image_size
from virtual_tiff.build._coords import (
    MAX_INLINED_LENGTH,
    SPATIAL_REF,
    inlined_array,
    inlined_coordinate,
    spatial_ref_array,
)
from virtual_tiff.build._dtypes import sample_type
from virtual_tiff.errors import VirtualTIFFError
from virtual_tiff.geo import (
    GDALMetadata,
    Georeference,
    georeference,
    inherit_metadata,
    parse_gdal_metadata,
    parse_nodata,
)
from virtual_tiff.tiff import IFD, Image, is_reduced

MASK_VARIABLE = "mask"
#: GDAL's internal masks: 0 where the data is nodata, 1 (255 in GDAL's mask band) where valid.
MASK_ATTRIBUTES = {"flag_values": [0, 1], "flag_meanings": "nodata valid"}


@dataclass(frozen=True)
class Inherited:
    """What an image without its own GeoTIFF tags takes from the full-resolution image."""

    georef: Georeference | None = None
    nodata: int | float | None = None
    metadata: GDALMetadata | None = None


def gdal_metadata_of(ifds: Sequence[IFD], index: int) -> GDALMetadata | None:
    """IFD ``index``'s GDAL metadata under the ``ifd=k`` layout's rule (see :func:`describe`): a
    reduced-resolution image takes IFD 0's, under what it states itself."""
    own = parse_gdal_metadata(ifds[index])
    if index and is_reduced(ifds[index]):
        return inherit_metadata(own, parse_gdal_metadata(ifds[0]))
    return own


def describe(ifd: IFD, base: Inherited | None = None) -> Inherited:
    """The IFD's own georeference, nodata and metadata; a reduced-resolution image falls back to ``base``.

    Pages of a multi-page TIFF keep what they carry and inherit nothing (``base`` is ignored).
    """
    try:
        georef = georeference(ifd)
    except VirtualTIFFError as exc:
        # The pixels are still right; a CRS we cannot rebuild should not hide them.
        warnings.warn(f"read without georeferencing: {exc}", stacklevel=2)
        georef = None
    nodata = parse_nodata(ifd)
    metadata = parse_gdal_metadata(ifd)
    if base is None or not is_reduced(ifd):
        return Inherited(georef, nodata, metadata)
    if georef is None and base.georef is not None:
        georef = base.georef.overview(image_size(ifd))
    return Inherited(
        georef=georef,
        nodata=base.nodata if nodata is None else nodata,
        metadata=inherit_metadata(metadata, base.metadata),
    )


@dataclass(frozen=True)
class ImageNode:
    """The arrays of one image and the attributes of the group holding them."""

    arrays: dict[str, ManifestArray]
    group_attrs: dict[str, object]
    described: Inherited


def image_node(
    image: Image,
    name: str,
    size: int,
    *,
    base: Inherited | None = None,
    dims: tuple[str, ...] | None = None,
    spatial_ref: str = SPATIAL_REF,
) -> ImageNode:
    """Data under ``name``, its ``mask``, and when georeferenced a grid mapping and x/y coordinates.

    ``dims`` and ``spatial_ref`` rename the data's dimensions and grid-mapping
    variable where a layout puts several images side by side.
    """
    described = describe(image.ifd, base)
    dtype = sample_type(image.ifd).dtype
    cf = band_attributes(described.nodata, described.metadata, dtype, image.ifd.samples_per_pixel)
    data = ifd_to_array(image.ifd, object_size=size, attributes=cf.attrs, fill_value=cf.fill_value)
    if dims is not None:
        data = with_dims(data, dims)
    dims = data.metadata.dimension_names
    arrays: dict[str, ManifestArray] = {name: data}
    if image.mask is not None:
        mask = ifd_to_array(image.mask, object_size=size, attributes=MASK_ATTRIBUTES)
        arrays[MASK_VARIABLE] = with_dims(mask, dims[-2:])
    if len(dims) == 3:  # (band, y, x): rioxarray's band numbers, 1-based, as GDAL counts bands
        arrays[dims[0]] = inlined_array(np.arange(1, data.shape[0] + 1, dtype=np.int64), (dims[0],), {})
    georef = described.georef
    group_attrs: dict[str, object] = {}
    if georef is not None:
        y_dim, x_dim = dims[-2], dims[-1]
        arrays[spatial_ref] = spatial_ref_array(georef.cf_attrs())
        coords = _coordinates(georef, image.ifd.url, image.ifd.label)
        if coords is not None:
            x, y = coords
            arrays[x_dim] = inlined_coordinate(x, x_dim, _axis_attrs(georef, "x"))
            arrays[y_dim] = inlined_coordinate(y, y_dim, _axis_attrs(georef, "y"))
        for key in [n for n in arrays if n not in (spatial_ref, x_dim, y_dim, *dims[:-2])]:
            arrays[key] = with_attrs(arrays[key], {"grid_mapping": spatial_ref, "coordinates": spatial_ref})
        group_attrs = georef.geozarr_attrs(dimensions=(y_dim, x_dim))
    return ImageNode(arrays, group_attrs, described)


def _coordinates(georef: Georeference, url: str, label: str):
    """The x/y pixel centres to inline, unless an axis is too long to hold (see MAX_INLINED_LENGTH)."""
    if max(georef.shape) > MAX_INLINED_LENGTH:
        warnings.warn(f"{url}: IFD {label}: {georef.shape[1]} x {georef.shape[0]} pixels: no x/y coordinates "
                      f"inlined beyond {MAX_INLINED_LENGTH} per axis; spatial_ref's GeoTransform georeferences it",
                      stacklevel=3)
        return None
    return georef.coords()


def _axis_attrs(georef: Georeference, axis: str) -> dict[str, object]:
    """CF axis attributes, as rioxarray writes them for projected and geographic CRSs."""
    geographic = georef.crs is not None and georef.crs.is_geographic
    if geographic:
        name = "longitude" if axis == "x" else "latitude"
        return {"axis": axis.upper(), "standard_name": name, "long_name": name,
                "units": "degrees_east" if axis == "x" else "degrees_north"}
    attrs: dict[str, object] = {"axis": axis.upper(), "standard_name": f"projection_{axis}_coordinate",
                                "long_name": f"{axis} coordinate of projection"}
    if georef.crs is not None and georef.crs.axis_info:
        attrs["units"] = georef.crs.axis_info[0].unit_name
    return attrs
