"""TIFF variants the tests write with tifffile and with rasterio/GDAL, and how to read them back.

Each :class:`Variant` is one row of the feature matrix: it knows how to write
its file (deterministic, smooth data) and which independent readers can check it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HEIGHT, WIDTH = 100, 120


def sample_data(dtype: str, bands: int, height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """``(bands, height, width)`` of smooth, deterministic values that exercise every bit of the dtype."""
    y, x = np.mgrid[0:height, 0:width]
    planes = np.stack([(x * 3 + y * 2 + 41 * b) for b in range(bands)]).astype(np.int64)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return (planes * 0.37 - 11.5).astype(dt)
    if dt.kind == "c":
        return (planes * 0.5 + 1j * (planes[:, ::-1] - 7.25)).astype(dt)
    if dt.kind == "b":
        return (planes % 2).astype(dt)
    info = np.iinfo(dt)
    span = min(int(info.max) - int(info.min) + 1, 2**62)
    scaled = planes * (span // 600 if span > 600 else 1)
    return (scaled % span + int(info.min)).astype(dt)


@dataclass(frozen=True)
class Variant:
    id: str
    write: Callable[[Path], np.ndarray]
    #: GDAL can read this file too (libtiff lacks some codecs).
    gdal_reads: bool = True
    #: Largest absolute difference accepted against rasterio (lossy codecs decoded by another library).
    gdal_tolerance: float = 0
    #: The written data equals what every reader returns (lossless).
    lossless: bool = True
    #: tifffile can read this file too (it fails on band-interleaved JPEG).
    tifffile_reads: bool = True
    marks: tuple = field(default=())


def tifffile_variant(
    id: str,
    dtype: str = "uint16",
    bands: int = 1,
    planar: str = "contig",
    *,
    tile: tuple[int, int] | None = (32, 48),
    rowsperstrip: int | None = None,
    compression: str | None = None,
    compressionargs: dict | None = None,
    predictor: int | None = None,
    byteorder: str = "<",
    bigtiff: bool = False,
    photometric: str | None = None,
    **flags,
) -> Variant:
    def write(path: Path) -> np.ndarray:
        import tifffile

        data = sample_data(dtype, bands)
        if bands == 1:
            stored = data[0]
        else:
            stored = data.transpose(1, 2, 0) if planar == "contig" else data
        tifffile.imwrite(
            path,
            stored,
            photometric=photometric or ("rgb" if bands == 3 and np.dtype(dtype).kind == "u" else "minisblack"),
            planarconfig=planar if bands > 1 else None,
            tile=tile,
            rowsperstrip=rowsperstrip,
            compression=compression,
            compressionargs=compressionargs,
            predictor=predictor,
            byteorder=byteorder,
            bigtiff=bigtiff,
            metadata=None,
        )
        return data

    return Variant(f"tifffile-{id}", write, **flags)


def gdal_variant(
    id: str,
    dtype: str = "uint16",
    bands: int = 1,
    *,
    driver: str = "GTiff",
    **options,
) -> Variant:
    flags = {
        k: options.pop(k) for k in ("gdal_reads", "gdal_tolerance", "lossless", "tifffile_reads", "marks") if k in options
    }

    def write(path: Path) -> np.ndarray:
        import rasterio

        data = sample_data(dtype, bands)
        profile = dict(
            driver=driver, height=HEIGHT, width=WIDTH, count=bands, dtype=dtype, **options
        )
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(data)
        return data

    return Variant(f"gdal-{id}", write, **flags)


def read_tifffile(path: Path, ifd: int = 0) -> np.ndarray:
    """tifffile's view, as ``(band, y, x)`` (or ``(y, x)`` for one sample)."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        page = tif.pages[ifd]
        data = page.asarray()
        if page.samplesperpixel > 1 and page.planarconfig == 1:
            data = np.moveaxis(data, -1, 0)
    # tifffile gives 1-bit samples as bool; GDAL (and virtual-tiff) as uint8 0/1.
    return data.astype(np.uint8) if data.dtype == bool else data


def read_rasterio(path: Path) -> np.ndarray:
    """GDAL's view, as ``(band, y, x)`` (or ``(y, x)`` for one band)."""
    import rasterio

    with rasterio.open(path) as src:
        data = src.read()
    return data[0] if data.shape[0] == 1 else data


def write_pyramid(path: Path, *, bigtiff: bool = False) -> Path:
    """A tifffile pyramid: level 0 in the main chain with two reduced levels as SubIFDs, then a second page."""
    import tifffile

    level0 = sample_data("uint16", 1, 128, 160)[0]
    with tifffile.TiffWriter(path, bigtiff=bigtiff) as tif:
        tif.write(level0, tile=(32, 32), compression="zlib", predictor=2, subifds=2)
        tif.write(level0[::2, ::2], tile=(32, 32), compression="zlib", subfiletype=1)
        tif.write(level0[::4, ::4], tile=(32, 32), compression="zlib", subfiletype=1)
        tif.write(level0[:64, :80] + 1, tile=(32, 32), compression="zstd")
    return path


def assert_pyramid_tree(tree, path: Path) -> None:
    """A nested DataTree of :func:`write_pyramid`'s file holds tifffile's pixels, SubIFDs as child groups."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        levels = [tif.pages[0].asarray(), *(sub.asarray() for sub in tif.pages[0].pages)]
        second = tif.pages[1].asarray()
    np.testing.assert_array_equal(tree["0"]["data"].values, levels[0])
    np.testing.assert_array_equal(tree["0/0"]["data"].values, levels[1])
    np.testing.assert_array_equal(tree["0/1"]["data"].values, levels[2])
    np.testing.assert_array_equal(tree["1"]["data"].values, second)
