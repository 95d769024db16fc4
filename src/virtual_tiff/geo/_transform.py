"""The affine geotransform of an IFD, computed exactly as GDAL computes it.

Readers (rasterio, rioxarray, GDAL's Zarr driver) compare our metadata with
what GDAL reports for the same file, so the rules are GDAL's
(``GTiffDataset::LoadGeoreferencing``): ModelPixelScale + the first
ModelTiepoint win over ModelTransformation; a negative y scale is taken as
north-up; PixelIsPoint moves the origin back by half a pixel so that the
transform always addresses pixel corners.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from virtual_tiff.errors import MalformedTIFFError
from virtual_tiff.geo._geokeys import RasterType
from virtual_tiff.tiff import IFD, Tag


@dataclass(frozen=True)
class Affine:
    """``x = a*col + b*row + c``, ``y = d*col + e*row + f`` at pixel corners (rasterio's order)."""

    a: float
    b: float
    c: float
    d: float
    e: float
    f: float

    @property
    def coefficients(self) -> tuple[float, float, float, float, float, float]:
        return (self.a, self.b, self.c, self.d, self.e, self.f)

    @property
    def gdal(self) -> tuple[float, float, float, float, float, float]:
        """GDAL's GeoTransform order: c, a, b, f, d, e."""
        return (self.c, self.a, self.b, self.f, self.d, self.e)

    @property
    def is_rectilinear(self) -> bool:
        """No rotation or shear: each axis depends on one pixel index only."""
        return self.b == 0.0 and self.d == 0.0

    def apply(self, col: float, row: float) -> tuple[float, float]:
        return (self.a * col + self.b * row + self.c, self.d * col + self.e * row + self.f)

    def bounds(self, shape: tuple[int, int]) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of the four outer corners of a (height, width) grid."""
        height, width = shape
        corners = [self.apply(col, row) for col in (0, width) for row in (0, height)]
        xs, ys = zip(*corners, strict=True)
        return (min(xs), min(ys), max(xs), max(ys))


def read_transform(ifd: IFD, raster_type: RasterType = RasterType.PIXEL_IS_AREA) -> Affine | None:
    """The IFD's transform; None when it has neither pixel scale + tiepoint nor a transformation matrix.

    Ground control points (several tiepoints without a pixel scale) define a warp, not an affine
    grid: no transform (see :func:`read_gcps`).
    """
    point = raster_type == RasterType.PIXEL_IS_POINT
    scale = _doubles(ifd, Tag.ModelPixelScaleTag)
    tiepoints = _doubles(ifd, Tag.ModelTiepointTag)
    matrix = _doubles(ifd, Tag.ModelTransformationTag)
    if scale is not None and len(scale) >= 2 and scale[0] != 0.0 and scale[1] != 0.0:
        if tiepoints is None or len(tiepoints) < 6:
            return None
        a = scale[0]
        # A negative ScaleY is almost always a writer's sign mistake; GDAL reads it as north-up.
        e = scale[1] if scale[1] < 0 else -scale[1]
        i, j, _, x, y, _ = tiepoints[:6]
        c, f = x - i * a, y - j * e
        if point:
            c, f = c - a * 0.5, f - e * 0.5
        return Affine(a, 0.0, c, 0.0, e, f)
    if matrix is not None:
        if len(matrix) != 16:
            raise ifd.error(MalformedTIFFError, Tag.ModelTransformationTag, f"{len(matrix)} values, expected 16")
        a, b, _, c, d, e, _, f = matrix[:8]
        if point:
            c, f = c - (a + b) * 0.5, f - (d + e) * 0.5
        return Affine(a, b, c, d, e, f)
    return None


#: One ground control point: (column, row, z in the image, x, y, z in the CRS), as ModelTiepointTag holds it.
GCP = tuple[float, float, float, float, float, float]


def read_gcps(ifd: IFD, raster_type: RasterType = RasterType.PIXEL_IS_AREA) -> tuple[GCP, ...]:
    """The IFD's ground control points: several tiepoints and neither a pixel scale nor a matrix.

    They define a warp, not an affine grid, so such an IFD has no transform; GDAL reports the
    same points (a PixelIsPoint file's moved by half a pixel, as GDAL moves them).
    """
    tiepoints = _doubles(ifd, Tag.ModelTiepointTag)
    if tiepoints is None or len(tiepoints) <= 6 or read_transform(ifd, raster_type) is not None:
        return ()
    if len(tiepoints) % 6:
        raise ifd.error(MalformedTIFFError, Tag.ModelTiepointTag, f"{len(tiepoints)} values, not a multiple of 6")
    shift = 0.5 if raster_type == RasterType.PIXEL_IS_POINT else 0.0
    points = np.asarray(tiepoints, dtype=float).reshape(-1, 6)
    return tuple((c + shift, r + shift, k, x, y, z) for c, r, k, x, y, z in points.tolist())


def overview_transform(base: Affine, base_shape: tuple[int, int], shape: tuple[int, int]) -> Affine:
    """Level 0's transform stretched to an overview of ``shape`` (height, width).

    Overview IFDs carry no GeoKeys of their own. GDAL (``GDALRescaleGeoTransform``)
    scales the column terms by the width ratio and the row terms by the height
    ratio, keeping the origin: rounding makes the ratios differ from the nominal
    factor (e.g. 2.0 vs 1000/500.5 for odd sizes), so they are computed, not assumed.
    """
    x_ratio = base_shape[1] / shape[1]
    y_ratio = base_shape[0] / shape[0]
    return Affine(base.a * x_ratio, base.b * y_ratio, base.c, base.d * x_ratio, base.e * y_ratio, base.f)


def _doubles(ifd: IFD, tag: int) -> tuple[float, ...] | None:
    value = ifd.get(tag)
    if value is None:
        return None
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "fiu":
        raise ifd.error(MalformedTIFFError, tag, "expected DOUBLE values")
    if not np.all(np.isfinite(value)):
        raise ifd.error(MalformedTIFFError, tag, "holds NaN or infinite values")
    return tuple(float(v) for v in value)


def pixel_centres(transform: Affine, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray] | None:
    """(x, y) float64 pixel-centre coordinates of lengths width and height; None for a rotated grid.

    A rotated or sheared grid has no 1-D coordinates: x depends on both row and column.
    """
    if not transform.is_rectilinear:
        return None
    height, width = shape
    # Same operation order as rioxarray (origin moved to the first centre, then stepped) so
    # that the values agree bit for bit, which xarray alignment on float indexes needs.
    x = transform.a * np.arange(width, dtype=np.float64) + (transform.a * 0.5 + transform.c)
    y = transform.e * np.arange(height, dtype=np.float64) + (transform.e * 0.5 + transform.f)
    return x, y
