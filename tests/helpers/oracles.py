"""The independent readers every virtual read is compared with (tifffile, rasterio/GDAL), and the comparison."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from obspec_utils.registry import ObjectStoreRegistry

from tests.helpers.variants import Variant
from tests.helpers.virtual import file_url, open_virtual


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


def assert_pixels_equal_independent_readers(variant: Variant, tmp_path: Path, registry: ObjectStoreRegistry) -> None:
    """Write ``variant``, open it with VirtualTIFF and ``xr.open_zarr``: its values and dtype equal
    tifffile's and rasterio's (within ``gdal_tolerance`` for lossy codecs) and, if lossless, the written data."""
    path = tmp_path / "variant.tif"
    written = variant.write(path)
    ds = open_virtual(file_url(path), registry)
    virtual = ds["0"].values
    expected_shape = written.shape[1:] if written.shape[0] == 1 else written.shape

    assert virtual.shape == expected_shape
    if variant.tifffile_reads:
        by_tifffile = read_tifffile(path)
        assert virtual.dtype == by_tifffile.dtype
        np.testing.assert_array_equal(virtual, by_tifffile)
    if variant.lossless:
        np.testing.assert_array_equal(virtual, written.reshape(expected_shape))
    if variant.gdal_reads:
        by_gdal = read_rasterio(path)
        if variant.gdal_dtype is not None:
            virtual = virtual.astype(variant.gdal_dtype)
        if variant.gdal_tolerance:
            diff = np.abs(virtual.astype(np.int64) - by_gdal.astype(np.int64))
            assert diff.max() <= variant.gdal_tolerance
        else:
            np.testing.assert_array_equal(virtual, by_gdal)
            assert virtual.dtype == by_gdal.dtype
