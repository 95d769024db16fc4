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


def write_geokeys(path, keys, *, shape=(3, 4), scale=(1000.0, 1000.0), origin=(10_000.0, 20_000.0)):
    """A north-up GeoTIFF whose GeoKey directory is exactly ``keys`` ({key id: SHORT, DOUBLE(s) or text}).

    For key combinations GDAL reads but never writes (a unit override on an EPSG code, an unknown
    model type or ProjCoordTransGeoKey): GDAL's reading of the file is the reference.
    """
    import tifffile

    directory, doubles, text = [], [], ""
    for key in sorted(keys):
        value = keys[key]
        if isinstance(value, str):
            directory += [key, 34737, len(value) + 1, len(text)]
            text += value + "|"
        elif isinstance(value, float | tuple):
            values = value if isinstance(value, tuple) else (value,)
            directory += [key, 34736, len(values), len(doubles)]
            doubles += [float(v) for v in values]
        else:
            directory += [key, 0, 1, value]
    shorts = [1, 1, 0, len(keys), *directory]
    tags = [(34735, "H", len(shorts), shorts, True),
            (33550, "d", 3, (scale[0], scale[1], 0.0), True),
            (33922, "d", 6, (0.0, 0.0, 0.0, origin[0], origin[1], 0.0), True)]
    if doubles:
        tags.append((34736, "d", len(doubles), doubles, True))
    if text:
        tags.append((34737, "s", 0, text, True))
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    tifffile.imwrite(path, (rows * 7 + cols).astype("uint8"), extratags=tags)
    return path
