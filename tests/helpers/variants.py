"""TIFF variants the tests write with tifffile and with rasterio/GDAL.

Each :class:`Variant` is one row of a feature matrix: it knows how to write
its file (deterministic, smooth data) and which independent readers can check it
(:func:`tests.helpers.oracles.assert_pixels_equal_independent_readers`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tests.helpers.samples import HEIGHT, WIDTH, sample_data


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
