"""Deterministic benchmark files in benchmarks/data/ (gitignored), written once with rasterio/GDAL."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"
STACK = 64            # COGs in the time stack
COG_SIZE = 2048       # each COG is COG_SIZE x COG_SIZE uint16, Deflate + predictor 2, 512 tiles, overviews
BIG_SIZE = 16384      # tiled GTiff, overviews appended at the end by build_overviews
STRIPED_SIZE = 8192   # one row per strip, uncompressed
CRS = "EPSG:32633"
ORIGIN = (500_000.0, 5_000_000.0)  # the COGs' top-left corner (x, y) in CRS
PIXEL = 10.0                       # the COGs' full-resolution pixel size (m)

# The stack cases' windows, (row_off, col_off, height, width) in each COG; shared with
# lazycogs_case, whose environment has no virtual_tiff (so these live here, not in cases).
ALIGNED = (512, 1024, 512, 512)        # exactly one 512x512 tile
POINT = (1000, 1000, 1, 1)             # one pixel: a time series
UNALIGNED = (300, 700, 512, 512)       # straddles 2x2 tiles
WHOLE = (0, 0, COG_SIZE, COG_SIZE)
OVERVIEW = 1                           # the first overview: 1024² at 20 m, 4 tiles of 512² per COG


def _pixels(seed: int, rows: slice, width: int) -> np.ndarray:
    """Smooth terrain plus a little noise: compresses like real imagery (about 2:1)."""
    y, x = np.mgrid[rows, 0:width]
    rng = np.random.default_rng(seed * 100_003 + rows.start)
    base = 2000 + 900 * np.sin(x / 97.0 + seed / 5) * np.cos(y / 131.0) + (x + y) * 0.05
    return (base + rng.integers(0, 64, size=base.shape)).astype("uint16")


def _transform(size: int):
    from rasterio.transform import from_origin

    return from_origin(*ORIGIN, PIXEL * COG_SIZE / size, PIXEL * COG_SIZE / size)


def cog_path(i: int) -> Path:
    return DATA / "stack" / f"t{i:02d}.tif"


def write_cogs() -> None:
    import rasterio

    (DATA / "stack").mkdir(parents=True, exist_ok=True)
    for i in range(STACK):
        path = cog_path(i)
        if path.exists():
            continue
        tmp = path.with_suffix(".tmp")
        with rasterio.open(tmp, "w", driver="COG", height=COG_SIZE, width=COG_SIZE, count=1, dtype="uint16",
                           crs=CRS, transform=_transform(COG_SIZE), compress="DEFLATE", predictor=2,
                           blocksize=512, overview_resampling="average") as dst:
            dst.write(_pixels(i, slice(0, COG_SIZE), COG_SIZE)[None])
            # Real scenes each carry their own acquisition date and processing tags (GDAL_METADATA):
            # byte-identical headers would hide the per-file metadata cost.
            dst.update_tags(ACQUISITION_DATE=f"2024-{1 + i // 28:02d}-{1 + i % 28:02d}T10:{i % 60:02d}:00",
                            PROCESSING_BASELINE=f"05.{i:02d}", PRODUCT_ID=f"S2X_MSIL2A_{i:04d}")
        tmp.rename(path)


def _write_gtiff(path: Path, size: int, seed: int, **profile) -> None:
    """A size² uint16 GTiff of ``_pixels(seed)``, written 1024 rows at a time (the big files do not fit memory twice)."""
    import rasterio
    from rasterio.windows import Window

    with rasterio.open(path, "w", driver="GTiff", height=size, width=size, count=1, dtype="uint16", crs=CRS,
                       transform=_transform(size), **profile) as dst:
        for r in range(0, size, 1024):
            dst.write(_pixels(seed, slice(r, r + 1024), size)[None], window=Window(0, r, size, 1024))


def write_big(size: int = BIG_SIZE) -> Path:
    import rasterio
    from rasterio.enums import Resampling

    path = DATA / "big.tif"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    _write_gtiff(tmp, size, 7, tiled=True, blockxsize=256, blockysize=256, compress="DEFLATE", bigtiff="IF_SAFER")
    with rasterio.open(tmp, "r+") as dst:  # like gdaladdo: overview IFDs appended after the pixels
        dst.build_overviews([2, 4, 8, 16], Resampling.average)
    tmp.rename(path)
    return path


def write_striped(size: int = STRIPED_SIZE) -> Path:
    path = DATA / "striped.tif"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    _write_gtiff(tmp, size, 3, blockysize=1, compress="NONE")
    tmp.rename(path)
    return path


def write_stac() -> Path:
    """A STAC ItemCollection (proj extension) of the 64 COGs, for stackstac and odc-stac."""
    from rasterio.transform import array_bounds

    path = DATA / "stack.json"
    t = _transform(COG_SIZE)
    from rasterio.warp import transform_bounds

    west, south, east, north = transform_bounds(CRS, "EPSG:4326", *array_bounds(COG_SIZE, COG_SIZE, t))
    geometry = {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north], [west, north],
                                                    [west, south]]]}
    features = []
    for i in range(STACK):
        features.append({
            "type": "Feature", "stac_version": "1.0.0", "id": f"t{i:02d}",
            "stac_extensions": ["https://stac-extensions.github.io/projection/v1.1.0/schema.json"],
            "geometry": geometry, "bbox": [west, south, east, north],
            "properties": {"datetime": f"2024-01-{1 + i % 28:02d}T{i // 28:02d}:00:00Z",
                           "proj:code": CRS, "proj:epsg": 32633, "proj:shape": [COG_SIZE, COG_SIZE],
                           "proj:transform": list(t)[:6]},
            "assets": {"data": {"href": f"s3://bench/stack/t{i:02d}.tif", "type": "image/tiff; application=geotiff",
                                "roles": ["data"]}},
            "links": [],
        })
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def ensure(log=print) -> dict:
    DATA.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    write_cogs()
    write_striped()
    write_big()
    write_stac()
    sizes = {p.name: p.stat().st_size for p in (DATA / "big.tif", DATA / "striped.tif", cog_path(0))}
    log(f"data ready in {time.perf_counter() - t0:.0f} s: {sizes}")
    return sizes


if __name__ == "__main__":
    ensure()
