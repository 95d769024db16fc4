"""One IFD's georeference: CRS, corner transform and grid shape, and the attributes that carry them.

The build calls :func:`georeference` on an IFD with GeoTIFF tags and :meth:`Georeference.overview`
for reduced-resolution images (which carry none), then asks the result for CF
(:meth:`Georeference.cf_attrs`) and GeoZarr (:meth:`Georeference.geozarr_attrs`) attributes.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pyproj

from virtual_tiff.errors import UnknownCRSWarning, UnsupportedTIFFError
from virtual_tiff.geo._attrs import cf_attrs, geozarr_attrs
from virtual_tiff.geo._crs import crs_from_geokeys
from virtual_tiff.geo._geokeys import GeoKey, GeoKeys, RasterType, parse_geokeys
from virtual_tiff.geo._transform import (
    GCP,
    Affine,
    overview_transform,
    pixel_centres,
    read_gcps,
    read_transform,
)
from virtual_tiff.tiff import IFD


@dataclass(frozen=True)
class Georeference:
    """Where one IFD's pixels are: CRS (None if unstated), corner transform (None if unstated), grid shape.

    ``raster_type`` is what the file declared; the transform already has
    PixelIsPoint's half-pixel shift applied, as GDAL reports it.
    """

    crs: pyproj.CRS | None
    transform: Affine | None
    shape: tuple[int, int]
    raster_type: RasterType = RasterType.PIXEL_IS_AREA
    #: Ground control points (column, row, k, x, y, z) where the file has them instead of a transform.
    gcps: tuple[GCP, ...] = ()

    @property
    def bounds(self) -> tuple[float, float, float, float] | None:
        """(xmin, ymin, xmax, ymax), or None without a transform."""
        return None if self.transform is None else self.transform.bounds(self.shape)

    def overview(self, shape: tuple[int, int]) -> Georeference:
        """The same georeference for an overview of ``shape`` (height, width), as GDAL derives it."""
        transform = None if self.transform is None else overview_transform(self.transform, self.shape, shape)
        x_ratio, y_ratio = shape[1] / self.shape[1], shape[0] / self.shape[0]
        gcps = tuple((c * x_ratio, r * y_ratio, k, x, y, z) for c, r, k, x, y, z in self.gcps)
        return replace(self, transform=transform, shape=shape, gcps=gcps)

    def coords(self) -> tuple[np.ndarray, np.ndarray] | None:
        """1-D (x, y) pixel-centre coordinates; None for rotated grids or without a transform."""
        return None if self.transform is None else pixel_centres(self.transform, self.shape)

    def cf_attrs(self) -> dict[str, Any]:
        return cf_attrs(self.crs, self.transform, self.gcps)

    def geozarr_attrs(self, dimensions: tuple[str, str] = ("y", "x")) -> dict[str, Any]:
        return geozarr_attrs(self.crs, self.transform, self.shape, dimensions)


def georeference(ifd: IFD) -> Georeference | None:
    """The IFD's georeference, or None when it has neither GeoKeys nor a model transform.

    Raises ``MalformedTIFFError`` for inconsistent GeoTIFF tags, naming the file, IFD and tag. A
    CRS that cannot be rebuilt is an :class:`UnknownCRSWarning` and no CRS: the transform and
    x/y still hold (GDAL reads such keys as a local CRS on the same grid). Ground control points
    give a georeference with no transform and its ``gcps``.
    """
    keys = parse_geokeys(ifd)
    raster_type = _raster_type(keys)
    crs = _crs_or_warn(keys)
    transform = read_transform(ifd, raster_type)
    gcps = read_gcps(ifd, raster_type)
    if crs is None and transform is None and not gcps:
        return None
    return Georeference(crs, transform, (ifd.height, ifd.width), raster_type, gcps)


def _crs_or_warn(keys: GeoKeys | None) -> pyproj.CRS | None:
    try:
        return crs_from_geokeys(keys)
    except UnsupportedTIFFError as exc:
        warnings.warn(f"read without a CRS, with its transform: {exc}", UnknownCRSWarning, stacklevel=3)
        return None


def _raster_type(keys: GeoKeys | None) -> RasterType:
    code = None if keys is None else keys.code(GeoKey.GTRasterTypeGeoKey)
    # GDAL treats anything but an explicit PixelIsPoint as PixelIsArea.
    return RasterType.PIXEL_IS_POINT if code == RasterType.PIXEL_IS_POINT else RasterType.PIXEL_IS_AREA
