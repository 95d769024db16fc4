"""Tiled GeoTIFFs written by GDAL whose pixels depend on a seed and the position, so misplacement shows."""

from __future__ import annotations

import numpy as np

NODATA = 9999


def write_geotiff(path, *, seed=0, crs="EPSG:32633", origin=(500_000.0, 5_000_000.0), res=10.0,
                  shape=(128, 192), tile=64, bands=1, dtype="uint16", compress="DEFLATE"):
    """A tiled GeoTIFF written by GDAL; pixels depend on seed and position so misplacement shows."""
    import rasterio
    from rasterio.transform import from_origin

    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    data = np.stack([(rows * 7 + cols * 3 + 101 * seed + 13 * b) % 5000 for b in range(bands)]).astype(dtype)
    with rasterio.open(path, "w", driver="GTiff", height=shape[0], width=shape[1], count=bands, dtype=dtype,
                       crs=crs, transform=from_origin(*origin, res, res), tiled=True, blockxsize=tile,
                       blockysize=tile, compress=compress, nodata=NODATA) as dst:
        dst.write(data)
    return path
