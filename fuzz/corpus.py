"""Write the seed corpus (fuzz/corpus/*.tif): real writers' files the structured generator does not make.

    python3 -m uv run python -m fuzz.corpus

tifffile files with the codecs and features our generator leaves out (JPEG incl. YCbCr, WebP, PNG,
LERC, predictor 3, bit-packed, palette, many pages) and GDAL files (COG with overviews and an
internal mask, GeoTIFF keys, appended overviews). Small (64-128 px) so each mutation is cheap.
Deterministic: the same files every time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

CORPUS = Path(__file__).with_name("corpus")


def smooth(shape: tuple[int, ...], dtype: str) -> np.ndarray:
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]]
    base = (y * 3 + x * 5) % 251
    if len(shape) == 3:
        base = np.stack([base + 20 * k for k in range(shape[2])], axis=-1) % 251
    return base.astype(dtype)


def tifffile_files(out: Path) -> list[Path]:
    import tifffile

    cases: dict[str, tuple[np.ndarray, dict]] = {
        "jpeg-ycbcr": (smooth((64, 64, 3), "u1"), dict(compression="jpeg", photometric="ycbcr", tile=(32, 32))),
        "jpeg-gray": (smooth((64, 64), "u1"), dict(compression="jpeg", tile=(32, 32))),
        "webp": (smooth((64, 64, 3), "u1"), dict(compression="webp", tile=(32, 32))),
        "png": (smooth((64, 64), "u1"), dict(compression="png", tile=(32, 32))),
        "lerc": (smooth((64, 64), "f4"), dict(compression="lerc", tile=(32, 32))),
        "float-predictor3": (smooth((64, 64), "f4"), dict(compression="zlib", predictor=3, tile=(32, 32))),
        "bits1": (smooth((64, 64), "u1") % 2 == 1, dict()),
        "palette": (smooth((64, 64), "u1"), dict(photometric="palette",
                                                  colormap=np.arange(3 * 256, dtype="u2").reshape(3, 256))),
        "bigtiff-be-planar": (smooth((48, 40, 3), "u2"), dict(bigtiff=True, byteorder=">", planarconfig="separate",
                                                              compression="zstd", rowsperstrip=7)),
    }
    paths = []
    for name, (data, options) in cases.items():
        path = out / f"tifffile-{name}.tif"
        tifffile.imwrite(path, data, **options)
        paths.append(path)
    path = out / "tifffile-pages.tif"
    with tifffile.TiffWriter(path) as tif:
        for k in range(4):
            tif.write(smooth((32, 32), "u2") + k, compression="lzw", subifds=1 if k == 0 else 0)
            if k == 0:
                tif.write(smooth((16, 16), "u2"), subfiletype=1, compression="lzw")
    paths.append(path)
    return paths


def gdal_files(out: Path) -> list[Path]:
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.transform import from_origin

    paths = []
    data = smooth((128, 128), "u2")
    profile = dict(height=128, width=128, count=1, dtype="uint16", crs="EPSG:32633",
                   transform=from_origin(500_000, 4_000_000, 10, 10), nodata=0)
    cog = out / "gdal-cog-mask.tif"
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True):
        with rasterio.open(cog.with_suffix(".tmp.tif"), "w", driver="GTiff", **{**profile, "nodata": None}) as dst:
            dst.write(data, 1)
            dst.write_mask((data % 7 != 0).astype("u1") * 255)
        with rasterio.open(cog.with_suffix(".tmp.tif")) as src:
            rasterio.shutil.copy(src, cog, driver="COG", blocksize=64, compress="DEFLATE", predictor=2,
                                 overview_count=1)
    cog.with_suffix(".tmp.tif").unlink()
    paths.append(cog)
    appended = out / "gdal-appended-overviews.tif"
    with rasterio.open(appended, "w", driver="GTiff", tiled=True, blockxsize=64, blockysize=64,
                       compress="ZSTD", **profile) as dst:
        dst.write(data, 1)
    with rasterio.open(appended, "r+") as dst:
        dst.build_overviews([2, 4], Resampling.average)
    paths.append(appended)
    return paths


def main() -> int:
    import rasterio.shutil  # noqa: F401 - rasterio.shutil.copy above

    CORPUS.mkdir(exist_ok=True)
    paths = tifffile_files(CORPUS) + gdal_files(CORPUS)
    for p in paths:
        print(p, p.stat().st_size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
